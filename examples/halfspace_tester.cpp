// The halfspace tester-learner (Gollakota, Klivans, Stavropoulos & Vasilyan 2023) on three data sets:
// Gaussian inputs with random label noise (accepted, and the learned halfspace is within opt + ε), inputs
// uniform on the cube and a two-Gaussian mixture with the same mean and covariance (both rejected by the
// moment test). Writes the learner's test error against the noise rate as a CSV and, with gnuplot, a plot.
#include <cmath>
#include <iomanip>
#include <iostream>
#include <numbers>
#include <string>
#include <vector>

#include <widenn/core/tensor.hpp>
#include <widenn/io/plot.hpp>
#include <widenn/learn/halfspace.hpp>

#include "cli/cli.hpp"

namespace wn = widenn;
namespace learn = widenn::learn;

namespace {

std::vector<double> random_unit(std::size_t d, std::uint64_t seed) {
    wn::rng g(seed);
    std::vector<double> w(d);
    double n2 = 0;
    for (auto& v : w) {
        v = g.normal();
        n2 += v * v;
    }
    for (auto& v : w) v /= std::sqrt(n2);
    return w;
}

xt::xtensor<int, 1> labels(const wn::matrix<double>& x, const std::vector<double>& w, double eta, std::uint64_t seed) {
    wn::rng g(seed);
    xt::xtensor<int, 1> y = xt::empty<int>({x.shape(0)});
    for (std::size_t s = 0; s < x.shape(0); ++s) {
        double p = 0;
        for (std::size_t i = 0; i < w.size(); ++i) p += w[i] * x(s, i);
        y(s) = (p >= 0 ? 1 : -1) * (g.uniform() < eta ? -1 : 1);
    }
    return y;
}

void report(const std::string& name, const learn::tester_learner_result& r) {
    std::cout << std::left << std::setw(34) << name << (r.accepted ? "ACCEPT" : "REJECT") << "  moments max|z| " << std::fixed
              << std::setprecision(2) << r.moments.worst_z << " (threshold " << r.moments.threshold << ")";
    if (r.accepted) std::cout << ", band " << std::setprecision(4) << r.band.empirical << " vs erf " << r.band.expected;
    std::cout << std::defaultfloat << "\n    " << r.reason << '\n';
}

}  // namespace

int main(int argc, char** argv) {
    const char* usage =
        "usage: halfspace_tester [--dim 10] [--samples 20000] [--noise 0.05] [--sigma 0.1] [--epochs 20] [--degree 4] [--delta 0.03]\n"
        "                        [--seed 1] [--csv halfspace_tester.csv] [--plot halfspace_tester.png]\n\n"
        "Runs the tester-learner on Gaussian data with --noise random label flips (expected: accept, error <= noise + eps),\n"
        "on the uniform distribution on the cube [-sqrt 3, sqrt 3]^d and on a Gaussian mixture (expected: reject), then\n"
        "sweeps the noise rate 0 .. 0.3 on Gaussian data and writes the learner's test error and angle to w*.\n";
    return wn::cli::run_program("halfspace_tester", usage, argc, argv, [&](wn::cli::args& a) {
        const std::size_t d = a.count("dim", 10, 2, 200), n = a.count("samples", 20000, 100, 10'000'000);
        const double eta = a.real("noise", 0.05, 0.0, 0.49);
        learn::tester_learner_config c;
        c.learner.sigma = a.real("sigma", 0.1, 1e-6, 10);
        c.learner.epochs = a.count("epochs", 20, 1, 100000);
        c.degree = a.integer<int>("degree", 4, 1, 8);
        c.delta = a.real("delta", 0.03, 1e-12, 0.99);
        const auto seed = a.integer<std::uint64_t>("seed", 1);
        const std::string csv_path = a.text("csv", "halfspace_tester.csv"), plot_path = a.text("plot", "halfspace_tester.png");
        a.reject_unknown();

        const auto w_star = random_unit(d, seed);
        const wn::matrix<double> test_x = wn::normal_matrix<double>(n, d, seed + 100);
        std::cout << "halfspace_tester: d = " << d << ", n = " << n << ", moment degree " << c.degree << ", delta " << c.delta
                  << ", sigma " << c.learner.sigma << "\n\n";

        // 1. Gaussian with label noise.
        const wn::matrix<double> x = wn::normal_matrix<double>(n, d, seed + 1);
        const auto r = learn::tester_learner(x, labels(x, w_star, eta, seed + 2), c);
        report("Gaussian, noise " + std::to_string(eta).substr(0, 4), r);
        double cosine = 0;
        for (std::size_t i = 0; i < d; ++i) cosine += r.h.w[i] * w_star[i];
        const double disagreement = std::acos(std::min(1.0, cosine)) / std::numbers::pi;
        const double test_error = r.h.error(test_x, labels(test_x, w_star, eta, seed + 3));
        std::cout << "    test error " << test_error << " (opt = " << eta << "), disagreement with w* " << disagreement << "\n";

        // 2. Uniform on the cube and 3. a mixture: same mean and covariance as N(0, I), different 4th moments.
        wn::rng g(seed + 4);
        wn::matrix<double> cube = xt::empty<double>({n, d});
        for (auto& v : cube) v = std::sqrt(3.0) * (2 * g.uniform() - 1);
        report("uniform on the cube", learn::tester_learner(cube, labels(cube, w_star, eta, seed + 5), c));
        wn::matrix<double> mix = wn::normal_matrix<double>(n, d, seed + 6);
        for (std::size_t s = 0; s < n; ++s) mix(s, 0) = (g.uniform() < 0.5 ? 0.8 : -0.8) + 0.6 * mix(s, 0);
        report("Gaussian mixture (+-0.8 e1)", learn::tester_learner(mix, labels(mix, w_star, eta, seed + 7), c));

        // 4. Noise sweep on Gaussian data.
        wn::io::csv_writer csv(csv_path, {"noise", "accepted", "test_error", "disagreement", "bound_opt_plus_0.02"});
        std::cout << "\nnoise sweep (Gaussian):\n  noise  accepted  test error  disagreement\n";
        for (double noise : {0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3}) {
            const auto y = labels(x, w_star, noise, seed + 10);
            const auto rs = learn::tester_learner(x, y, c);
            double cs = 0;
            for (std::size_t i = 0; i < d; ++i) cs += rs.h.w[i] * w_star[i];
            const double dis = std::acos(std::min(1.0, cs)) / std::numbers::pi;
            const double err = rs.h.error(test_x, labels(test_x, w_star, noise, seed + 11));
            csv.row(noise, rs.accepted ? 1 : 0, err, dis, noise + 0.02);
            std::cout << "  " << std::fixed << std::setprecision(2) << noise << "   " << (rs.accepted ? "yes" : "no ") << "       "
                      << std::setprecision(4) << err << "      " << dis << std::defaultfloat << '\n';
        }
        const std::string script = "set terminal pngcairo size 800,550\nset output " + wn::io::gnuplot_quote(plot_path) +
                                   "\nset datafile separator ','\nset key top left\nset xlabel 'label noise rate'\nset ylabel 'error'\n"
                                   "plot " + wn::io::gnuplot_quote(csv_path) + " using 1:3 with linespoints lw 2 title 'test error', " +
                                   wn::io::gnuplot_quote(csv_path) + " using 1:4 with linespoints lw 2 title 'disagreement with w*', " +
                                   wn::io::gnuplot_quote(csv_path) + " using 1:5 with lines dt 2 title 'opt + 0.02'\n";
        std::string reason;
        if (wn::io::run_gnuplot(script, &reason)) std::cout << "plot: " << plot_path << '\n';
        else std::cout << "no plot: " << reason << '\n';
        return 0;
    });
}
