// `widenn equivariance`: the equivariance error of the Monte Carlo group convolution as a function of the number of
// group samples, for SO(2), SL(2) and GL+(2), with Haar-weighted and with unweighted (rgenn's) sampling. CSV + plot.
#include <iomanip>
#include <iostream>
#include <string>

#include <widenn/equivariant/equivariance.hpp>
#include <widenn/io/plot.hpp>

#include "cli.hpp"

namespace {

namespace eq = widenn::equivariant;

template <class H>
void sweep(widenn::io::csv_writer& csv, const std::vector<long>& samples, const eq::equivariance_probe& probe, std::ostream& out) {
    auto layer = eq::equivariance_probe_layer<H>();
    const auto a = eq::example_transformation<H>();
    for (auto mode : {eq::sampling::haar, eq::sampling::unweighted}) {
        if (eq::planar_group<H>::chart_dim == 1 && mode == eq::sampling::unweighted) continue;  // SO(2): Haar needs no weights
        const char* mode_name = mode == eq::sampling::haar ? "haar" : "unweighted";
        for (long n : samples) {
            const double error = eq::group_conv_equivariance_error(layer, a, static_cast<std::size_t>(n), mode, probe);
            csv.row(eq::planar_group<H>::name, mode_name, n, error);
            out << "  " << std::left << std::setw(8) << eq::planar_group<H>::name << std::setw(12) << mode_name << "N = " << std::setw(6) << n
                << "relative error " << std::setprecision(4) << error << '\n'
                << std::flush;
        }
    }
}

int run(widenn::cli::args& args) {
    const auto samples = args.integers<long>("samples", {4, 16, 64, 256, 1024, 4096}, 1, 1 << 20);
    eq::equivariance_probe probe;
    probe.repeats = args.integer<std::size_t>("repeats", 24, 1, 100000);
    probe.sigma = args.real("sigma", 0.8, 1e-6, 100.0);
    probe.seed = args.integer<std::uint64_t>("seed", 0);
    const std::string prefix = args.text("out", "equivariance_error");
    args.reject_unknown();
    widenn::io::require_writable(prefix + ".png", "--out");

    widenn::io::csv_writer csv(prefix + ".csv", {"group", "sampling", "samples", "relative_error"});
    std::cout << "equivariance error of a 1x1 group convolution, mean over " << probe.repeats << " pairs of draws:\n";
    sweep<widenn::lie::so<2>>(csv, samples, probe, std::cout);
    sweep<widenn::lie::sl<2>>(csv, samples, probe, std::cout);
    sweep<widenn::lie::gl_plus<2>>(csv, samples, probe, std::cout);
    csv.close();
    std::cout << "wrote " << csv.path() << '\n';

    const std::string png = prefix + ".png";
    std::string script = "set terminal pngcairo size 900,600\nset output " + widenn::io::gnuplot_quote(png) +
                         "\nset datafile separator ','\nset logscale xy\nset key outside\nset xlabel 'group samples N'\n"
                         "set ylabel 'relative equivariance error'\nset title 'Monte Carlo group convolution: Haar weights vs none'\nplot ";
    const char* separator = "";
    for (const char* group : {"SO(2)", "SL(2)", "GL+(2)"})
        for (const char* mode : {"haar", "unweighted"}) {
            if (std::string(group) == "SO(2)" && std::string(mode) == "unweighted") continue;
            script += std::string(separator) + widenn::io::gnuplot_quote(csv.path()) + " using 3:(strcol(1) eq '" + group + "' && strcol(2) eq '" + mode +
                      "' ? $4 : 1/0) with linespoints title '" + group + " " + mode + "'";
            separator = ", ";
        }
    script += ", x < 0 ? 0 : 3.5/sqrt(x) with lines dashtype 2 title '3.5/sqrt(N)'\n";
    std::string reason;
    if (widenn::io::run_gnuplot(script, &reason)) std::cout << "wrote " << png << '\n';
    else std::cout << "no plot: " << reason << '\n';
    return 0;
}

const bool registered = widenn::cli::add_command({
    "equivariance",
    "equivariance error of the Monte Carlo group convolution vs the number of group samples (CSV + plot)",
    "usage: widenn equivariance [--samples 4,16,64,256,1024,4096] [--repeats 24] [--sigma 0.8] [--seed 0] [--out equivariance_error]\n\n"
    "A 1x1 group convolution on R^2 x| H computes a Monte Carlo estimate of a Haar integral over H. For a transformation a\n"
    "(anisotropic scale, shear and rotation) it compares the layer's output at a h on a-transformed features with its output at\n"
    "h on the original features, each side from its own N samples, and prints the mean relative difference. With Haar-weighted\n"
    "samples the error falls like 1/sqrt(N); without weights (the paper's code) it stalls, because the two sides estimate\n"
    "integrals against a proposal measure that is not left invariant. Writes OUT.csv and, with gnuplot, OUT.png.\n",
    run,
});

}  // namespace
