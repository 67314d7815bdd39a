// Finite μP networks converge to their exact infinite-width feature-learning limits (TP4 §6), and their features keep
// moving at every width, while the features of NTK-parametrized networks freeze as the width grows (TP4 Cor 3.9).
//
//   mup_convergence [--out-dir DIR] [--seeds S] [--steps T] [--max-log-width K]
//
// Writes DIR/mup_convergence.csv (width, distance of the linear and tanh μP nets to their limits) and
// DIR/feature_movement.csv (width, rms change of the hidden features for μP and NTK), and plots both with gnuplot.
#include <cmath>
#include <iomanip>
#include <iostream>
#include <string>
#include <vector>

#include <widenn/act/activations.hpp>
#include <widenn/core/rng.hpp>
#include <widenn/io/plot.hpp>
#include <widenn/limit/feature_learning.hpp>
#include <widenn/nn/loss.hpp>
#include <widenn/nn/mlp.hpp>
#include <widenn/nn/optim.hpp>
#include <widenn/nn/train.hpp>

#include "cli/cli.hpp"

namespace {

using widenn::matrix;
namespace lim = widenn::limit;
namespace nn = widenn::nn;
namespace act = widenn::act;
namespace param = widenn::param;

double rms(const matrix<double>& a, const matrix<double>& b) {
    double s = 0;
    for (std::size_t i = 0; i < a.size(); ++i) s += (a.flat(i) - b.flat(i)) * (a.flat(i) - b.flat(i));
    return std::sqrt(s / static_cast<double>(a.size()));
}

double slope(const std::vector<double>& widths, const std::vector<double>& values) {  // least squares in log-log
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    const double n = static_cast<double>(widths.size());
    for (std::size_t i = 0; i < widths.size(); ++i) {
        const double x = std::log(widths[i]), y = std::log(values[i]);
        sx += x, sy += y, sxx += x * x, sxy += x * y;
    }
    return (n * sxy - sx * sy) / (n * sxx - sx * sx);
}

int run(const std::string& dir, int seeds, int steps, int max_log) {
    // An unwritable --out-dir is reported now, not after minutes of training.
    widenn::io::require_writable(dir + "/mup_convergence.csv", "--out-dir");
    widenn::io::require_writable(dir + "/feature_movement.csv", "--out-dir");

    // Data: 32 inputs in R^16 (norm ~1), 4 targets from a random teacher.
    const std::size_t d = 16, d_out = 4, data = 32;
    const matrix<double> X = widenn::normal_matrix(data, d, 1, 1.0 / std::sqrt(double(d)));
    const matrix<double> teacher = widenn::normal_matrix(d, d_out, 2);
    matrix<double> Y = xt::zeros<double>({data, d_out});
    for (std::size_t i = 0; i < data; ++i)
        for (std::size_t o = 0; o < d_out; ++o) {
            double s = 0;
            for (std::size_t j = 0; j < d; ++j) s += X(i, j) * teacher(j, o);
            Y(i, o) = std::tanh(s);
        }
    const double lr = 0.5;
    std::vector<double> widths;
    for (int k = 6; k <= max_log; ++k) widths.push_back(std::ldexp(1.0, k));

    // (a1) linear μP: the exact limit (TP4 Cor 6.2) against nn::mlp nets from the same coefficients.
    using linear_net = nn::mlp<param::mup, act::identity, 1, double>;
    linear_net shape({.d_in = d, .width = 1, .d_out = d_out, .base_width = 1, .bias = false});
    lim::mup_linear<double> linear_limit(d, d_out, lim::mup_linear_options_for(shape, lr));
    std::vector<matrix<double>> linear_path;
    for (int t = 0; t < steps; ++t) {
        linear_limit.step(X, Y);
        linear_path.push_back(linear_limit.predict(X));
    }
    // (a2) tanh μP with scalar input and output (regression of sin 2x): TP4 Thm 6.1 by Gauss–Hermite quadrature over
    // the 2-D Gaussian (Z^{U_0}, Z^{nV_0}).
    using tanh_net = nn::mlp<param::mup, act::tanh, 1, double>;
    const std::size_t tanh_points = 8;
    matrix<double> Xs = xt::zeros<double>({tanh_points, std::size_t{1}});
    matrix<double> Ys = xt::zeros<double>({tanh_points, std::size_t{1}});
    for (std::size_t i = 0; i < tanh_points; ++i) Xs(i, 0) = -1.5 + 3.0 * double(i) / double(tanh_points - 1), Ys(i, 0) = std::sin(2.0 * Xs(i, 0));
    tanh_net tanh_shape({.d_in = 1, .width = 1, .d_out = 1, .base_width = 1, .bias = false});
    lim::mup_1hl<act::tanh> tanh_limit(1, 1, lim::mup_1hl_options_for(tanh_shape, lr, lim::loss_kind::mse, 0.0, {.degree = 200}));
    for (int t = 0; t < steps; ++t) tanh_limit.step(Xs, Ys);
    const matrix<double> tanh_final = tanh_limit.predict(Xs);
    std::cerr << "limits trained: linear (width-" << linear_limit.coefficient_dim() << " coefficient net), tanh ("
              << tanh_limit.nodes() << " particles, quadrature error estimate " << xt::amax(tanh_limit.error_estimate(Xs))() << ")\n";

    widenn::io::csv_writer csv(dir + "/mup_convergence.csv", {"width", "linear_distance", "linear_se", "tanh_distance", "tanh_se"});
    std::vector<double> linear_errors, tanh_errors;
    for (double w : widths) {
        const auto width = static_cast<std::size_t>(w);
        std::vector<double> lin, th;
        for (int s = 0; s < seeds; ++s) {
            linear_net net({.d_in = d, .width = width, .d_out = d_out, .base_width = 1, .bias = false});
            lim::initialise_from_coefficients(net, lim::mup_linear<double>(d, d_out, linear_limit.options()), 100 + s);
            nn::sgd<linear_net> opt(net, {.lr = lr});
            matrix<double> dout;  // the output gradient, reused across steps
            double worst = 0;
            for (int t = 0; t < steps; ++t) {
                nn::train_step<nn::mse>(net, opt, X, Y, dout);
                worst = std::max(worst, rms(net.forward(X), linear_path[t]));
            }
            lin.push_back(worst);
            tanh_net tnet({.d_in = 1, .width = width, .d_out = 1, .base_width = 1, .bias = false, .seed = std::uint64_t(200 + s)});
            nn::sgd<tanh_net> topt(tnet, {.lr = lr});
            matrix<double> dout_tanh;  // the output gradient, reused across steps
            for (int t = 0; t < steps; ++t) nn::train_step<nn::mse>(tnet, topt, Xs, Ys, dout_tanh);
            th.push_back(rms(tnet.forward(Xs), tanh_final));
        }
        auto mean_se = [&](const std::vector<double>& v) {
            double m = 0, s2 = 0;
            for (double x : v) m += x / double(v.size());
            for (double x : v) s2 += (x - m) * (x - m);
            return std::pair<double, double>{m, v.size() > 1 ? std::sqrt(s2 / double(v.size() - 1) / double(v.size())) : 0.0};
        };
        const auto [lm, ls] = mean_se(lin);
        const auto [tm, ts] = mean_se(th);
        linear_errors.push_back(lm);
        tanh_errors.push_back(tm);
        csv.row(width, lm, ls, tm, ts);
        std::cerr << "  width " << std::setw(6) << width << ": linear distance " << lm << " +- " << ls << ", tanh distance " << tm
                  << " +- " << ts << '\n';
    }
    csv.close();  // the CSV appears whole here
    std::cout << "distance to the limit vs width: fitted log-log slope linear " << slope(widths, linear_errors) << ", tanh "
              << slope(widths, tanh_errors) << " (TP4: -1/2)\n";

    // (b) feature movement: rms change of the hidden features x^1 on the training inputs after `steps` SGD steps,
    // μP (r = 0: Θ(1) at every width) against NTK parametrization (r = 1/2: Θ(n^{-1/2})).
    widenn::io::csv_writer features(dir + "/feature_movement.csv", {"width", "mup", "ntk"});
    std::vector<double> mup_moves, ntk_moves;
    auto movement = [&](auto& net, auto& opt) {
        matrix<double> dout;  // the output gradient, reused across steps
        const matrix<double> before = (net.forward(X), net.post_activation(1));
        for (int t = 0; t < steps; ++t) nn::train_step<nn::mse>(net, opt, X, Y, dout);
        net.forward(X);
        return rms(net.post_activation(1), before);
    };
    for (double w : widths) {
        const auto width = static_cast<std::size_t>(w);
        double m = 0, k = 0;
        for (int s = 0; s < seeds; ++s) {
            nn::mlp<param::mup, act::tanh, 1, double> mup_net({.d_in = d, .width = width, .d_out = d_out, .base_width = 64, .bias = false, .seed = std::uint64_t(s)});
            nn::sgd<decltype(mup_net)> mup_opt(mup_net, {.lr = lr});
            m += movement(mup_net, mup_opt) / seeds;
            nn::mlp<param::ntk, act::tanh, 1, double> ntk_net({.d_in = d, .width = width, .d_out = d_out, .base_width = 64, .bias = false, .seed = std::uint64_t(s)});
            nn::sgd<decltype(ntk_net)> ntk_opt(ntk_net, {.lr = lr});
            k += movement(ntk_net, ntk_opt) / seeds;
        }
        mup_moves.push_back(m);
        ntk_moves.push_back(k);
        features.row(width, m, k);
        std::cerr << "  width " << std::setw(6) << width << ": feature change muP " << m << ", NTK " << k << '\n';
    }
    features.close();  // before gnuplot reads it
    std::cout << "feature change vs width: fitted log-log slope muP " << slope(widths, mup_moves) << " (TP4: 0), NTK "
              << slope(widths, ntk_moves) << " (TP4: -1/2)\n";

    std::string reason;
    const std::string script =
        "set terminal pngcairo size 1100,450\nset output " + widenn::io::gnuplot_quote(dir + "/mup_convergence.png") +
        "\nset datafile separator ','\nset key autotitle columnhead\nset logscale xy 2\nset format x '2^{%L}'\nset multiplot layout 1,2\n"
        "set title 'finite muP nets -> exact limit (TP4 6)'\nset xlabel 'width n'\nset ylabel 'distance to the limit'\n"
        "plot " + widenn::io::gnuplot_quote(dir + "/mup_convergence.csv") +
        " using 1:2:3 with yerrorlines title 'linear (Cor 6.2)', '' using 1:4:5 with yerrorlines title 'tanh (Thm 6.1)', "
        "" + std::to_string(linear_errors.front() * std::sqrt(widths.front())) + "*x**-0.5 with lines dt 2 title 'c n^{-1/2}'\n"
        "set title 'hidden-feature change after training'\nset ylabel 'rms change of x^1'\n"
        "plot " + widenn::io::gnuplot_quote(dir + "/feature_movement.csv") +
        " using 1:2 with linespoints title 'muP', '' using 1:3 with linespoints title 'NTK'\nunset multiplot\n";
    if (widenn::io::run_gnuplot(script, &reason))
        std::cout << "wrote " << dir << "/mup_convergence.png\n";
    else
        std::cout << "no plot: " << reason << '\n';
    std::cout << "wrote " << csv.path() << " and " << features.path() << '\n';
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string usage =
        "usage: mup_convergence [--out-dir .] [--seeds 3] [--steps 20] [--max-log-width 14]\n"
        "Finite muP nets (linear and tanh) against their exact infinite-width limits after --steps SGD steps, for widths\n"
        "2^6 .. 2^K (K = --max-log-width, 6..18) and --seeds seeds per width; and the change of the hidden features under\n"
        "muP and NTK parametrization. Writes DIR/mup_convergence.csv, DIR/feature_movement.csv and, with gnuplot,\n"
        "DIR/mup_convergence.png. The defaults take several minutes.\n";
    return widenn::cli::run_program("mup_convergence", usage, argc, argv, [](widenn::cli::args& a) {
        const std::string dir = a.text("out-dir", ".");
        const int seeds = a.integer<int>("seeds", 3, 1, 1000000);
        const int steps = a.integer<int>("steps", 20, 1, 100000000);
        const int max_log = a.integer<int>("max-log-width", 14, 6, 18);
        a.reject_unknown();
        if (dir.empty()) throw widenn::cli::usage_error("--out-dir needs a directory");
        return run(dir, seeds, steps, max_log);
    });
}
