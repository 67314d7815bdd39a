// ntk_convergence: the empirical NTK of finite NTK-parametrized networks converges to the analytic NTK as the width
// grows (Jacot, Gabriel & Hongler 2018; fluctuations O(1/√n), Hanin & Nica 2019). For widths 64 .. 4096 and several
// seeds, the relative Frobenius error ‖Θ̂ − Θ‖/‖Θ‖ of nn::empirical_ntk against limit::kernel; the least-squares
// slope of log error against log width should be about −1/2. Writes ntk_convergence.csv and, with gnuplot,
// ntk_convergence.png.
//
//   usage: ntk_convergence [--act relu|erf] [--depth 1|2|3] [--seeds 4] [--max-width 4096] [--out PREFIX]
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include <widenn/act/activations.hpp>
#include <widenn/core/rng.hpp>
#include <widenn/io/plot.hpp>
#include <widenn/limit/kernel.hpp>
#include <widenn/limit/of.hpp>
#include <widenn/nn/mlp.hpp>
#include <widenn/nn/ntk.hpp>

#include "cli/cli.hpp"

namespace wn = widenn;
using wn::matrix;

namespace {

template <class A, int L>
void run(int seeds, std::size_t max_width, const std::string& prefix) {
    // One description of the network; its kernel limit is configured from it (limit::kernel_config_for), not by hand.
    using net_t = wn::nn::mlp<wn::param::ntk, A, L, double>;
    const wn::nn::mlp_config base{.d_in = 10, .width = 64, .d_out = 1, .weight_var = 2.0, .bias_var = 0.1,
                                  .constants = wn::nn::constants_in::multiplier};
    const matrix<double> x = wn::normal_matrix(8, 10, 3);
    const auto analytic = wn::limit::of<net_t>::kernels(x, wn::limit::kernel_config_for(net_t(base))).ntk;
    const double norm = std::sqrt(xt::sum(analytic * analytic)());
    wn::io::csv_writer csv(prefix + ".csv", {"width", "seed", "relative_error"});
    std::vector<double> log_width, log_error;
    std::printf("%8s  %s\n", "width", "mean relative Frobenius error over seeds");
    for (std::size_t width = 64; width <= max_width; width *= 2) {
        double mean = 0;
        for (int seed = 0; seed < seeds; ++seed) {
            wn::nn::mlp_config c = base;
            c.width = width;
            c.seed = static_cast<std::uint64_t>(100 * width + seed);
            const net_t net(c);
            const matrix<double> empirical = wn::nn::empirical_ntk(net, x, x);
            const matrix<double> diff = empirical - analytic;
            const double err = std::sqrt(xt::sum(diff * diff)()) / norm;
            csv.row(width, seed, err);
            mean += err / seeds;
        }
        std::printf("%8zu  %.5f\n", width, mean);
        std::fflush(stdout);
        log_width.push_back(std::log(double(width)));
        log_error.push_back(std::log(mean));
    }
    // least-squares slope of log error against log width
    const double k = double(log_width.size());
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (std::size_t i = 0; i < log_width.size(); ++i)
        sx += log_width[i], sy += log_error[i], sxx += log_width[i] * log_width[i], sxy += log_width[i] * log_error[i];
    const double slope = (k * sxy - sx * sy) / (k * sxx - sx * sx);
    csv.close();  // the CSV appears whole here, before gnuplot reads it
    std::printf("log-log slope %.3f (expected about -0.5)\nwrote %s.csv\n", slope, prefix.c_str());
    std::string reason;
    const std::string script = "set terminal pngcairo size 800,560\nset output " + wn::io::gnuplot_quote(prefix + ".png") +
                               "\nset datafile separator ','\nset logscale xy\nset xlabel 'width'\nset ylabel "
                               "'relative Frobenius error of the empirical NTK'\nset key top right\nset title 'NTK convergence (" +
                               std::string(A::name) + ", depth " + std::to_string(L) + ")'\nplot " +
                               wn::io::gnuplot_quote(prefix + ".csv") +
                               " using 1:3 every ::1 with points pt 7 ps 0.6 title 'seeds', " + std::to_string(std::exp(sy / k - slope * sx / k)) +
                               "*x**(" + std::to_string(slope) + ") title 'fit, slope " + std::to_string(slope).substr(0, 6) +
                               "', " + std::to_string(std::exp(log_error.front()) * std::sqrt(64.0)) + "/sqrt(x) dt 2 title 'slope -1/2'\n";
    if (wn::io::run_gnuplot(script, &reason))
        std::printf("wrote %s.png\n", prefix.c_str());
    else
        std::printf("no plot: %s\n", reason.c_str());
}

}  // namespace

int main(int argc, char** argv) {
    const std::string usage =
        "usage: ntk_convergence [--act relu|erf] [--depth 1|2|3] [--seeds 4] [--max-width 4096] [--out PREFIX]\n"
        "Relative Frobenius error of the empirical NTK of NTK-parametrized MLPs against the analytic NTK, for widths\n"
        "64, 128, ... up to --max-width (>= 64) and --seeds seeds per width, on 8 inputs in R^10; the log-log slope should\n"
        "be about -1/2. Writes PREFIX.csv and, with gnuplot, PREFIX.png (PREFIX: ntk_convergence).\n";
    return wn::cli::run_program("ntk_convergence", usage, argc, argv, [](wn::cli::args& a) {
        const std::string act = a.text("act", "relu"), prefix = a.text("out", "ntk_convergence");
        const int depth = a.integer<int>("depth", 2, 1, 3);
        const int seeds = a.integer<int>("seeds", 4, 1, 1000000);
        const std::size_t max_width = a.count("max-width", 4096, 64, std::size_t{1} << 20);
        a.reject_unknown();
        if (act != "relu" && act != "erf") throw wn::cli::usage_error("--act must be relu or erf, got '" + act + "'");
        if (prefix.empty()) throw wn::cli::usage_error("--out needs a path prefix");
        std::printf("ntk_convergence: %s, depth %d, NTK parametrization, %d seeds per width, 8 inputs in R^10\n", act.c_str(), depth, seeds);
        auto dispatch = [&]<class A>() {
            if (depth == 1) run<A, 1>(seeds, max_width, prefix);
            else if (depth == 2) run<A, 2>(seeds, max_width, prefix);
            else run<A, 3>(seeds, max_width, prefix);
        };
        if (act == "relu") dispatch.template operator()<wn::act::relu>();
        else dispatch.template operator()<wn::act::erf<>>();
        return 0;
    });
}
