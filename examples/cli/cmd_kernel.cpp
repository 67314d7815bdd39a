// `widenn kernel`: the NNGP and NTK of an MLP on inputs from .npy files, written as .npy (neural-tangents' conventions).
#include <chrono>
#include <fstream>
#include <iostream>
#include <string>

#include <xtensor/xnpy.hpp>

#include <widenn/limit/kernel.hpp>

#include "cli.hpp"
#include "kernel_dispatch.hpp"

namespace {

using widenn::matrix;
using widenn::cli::usage_error;

matrix<double> load_inputs(const std::string& path) {
    std::ifstream probe(path, std::ios::binary);
    if (!probe) throw widenn::error("widenn kernel: cannot open '" + path + "'");
    probe.close();
    xt::xarray<double> raw;
    try {
        raw = xt::load_npy<double>(path);
    } catch (const std::exception&) {
        try {
            raw = xt::cast<double>(xt::load_npy<float>(path));
        } catch (const std::exception& e) {
            throw widenn::error("widenn kernel: '" + path + "' is not a float64 or float32 .npy array (" + e.what() + ")");
        }
    }
    if (raw.dimension() != 2)
        throw widenn::shape_error("widenn kernel: '" + path + "' must hold a 2-D array N x d (one input per row), got rank " +
                                  std::to_string(raw.dimension()));
    return matrix<double>(raw);
}

int run_kernel(widenn::cli::args& a) {
    namespace ks = widenn::cli::kernels;
    const std::string act_name = a.text("act", "relu"), param_name = a.text("param", "ntk");
    const long depth = a.integer("depth", 1);
    widenn::limit::kernel_config config;
    config.weight_var = a.real("weight-var", 1.0);
    config.bias_var = a.real("bias-var", 0.0);
    config.width = static_cast<std::size_t>(a.integer("width", 0));
    config.threads = static_cast<int>(a.integer("threads", 0));
    const std::string x1_path = a.required_text("x1"), x2_path = a.text("x2", "");
    const std::string nngp_path = a.text("nngp", ""), ntk_path = a.text("ntk", "");
    const bool use_float = a.has("float");
    a.reject_unknown();
    if (depth < 1) throw usage_error("--depth (number of hidden layers) must be >= 1, got " + std::to_string(depth));
    if (nngp_path.empty() && ntk_path.empty()) throw usage_error("give --nngp FILE and/or --ntk FILE for the output");
    if (param_name == "standard" && !ntk_path.empty() && config.width == 0)
        throw usage_error("--param standard: its NTK grows with the hidden width; give --width N");
    config.compute_ntk = !ntk_path.empty();

    const auto start = std::chrono::steady_clock::now();
    const matrix<double> x1 = load_inputs(x1_path);
    const matrix<double> x2 = x2_path.empty() ? matrix<double>() : load_inputs(x2_path);
    const auto loaded = std::chrono::steady_clock::now();
    const std::size_t n2 = x2_path.empty() ? x1.shape()[0] : x2.shape()[0];
    if (x1.shape()[0] * n2 >= 1000000) config.progress = ks::progress_printer("widenn kernel");
    double compute_seconds = 0, write_seconds = 0;
    auto run = [&]<class T>() {
        ks::with_parametrization(param_name, [&]<class P>() {
            ks::with_activation(act_name, [&]<class A>() {
                const auto t0 = std::chrono::steady_clock::now();
                const auto pair = x2_path.empty() ? widenn::limit::kernel_plan<P, A, T>(x1, static_cast<int>(depth), config).compute()
                                                  : widenn::limit::kernel_plan<P, A, T>(x1, x2, static_cast<int>(depth), config).compute();
                const auto t1 = std::chrono::steady_clock::now();
                if (!nngp_path.empty()) xt::dump_npy(nngp_path, pair.nngp);
                if (!ntk_path.empty()) xt::dump_npy(ntk_path, pair.ntk);
                const auto t2 = std::chrono::steady_clock::now();
                compute_seconds = std::chrono::duration<double>(t1 - t0).count();
                write_seconds = std::chrono::duration<double>(t2 - t1).count();
            });
        });
    };
    if (use_float)
        run.template operator()<float>();
    else
        run.template operator()<double>();
    const double load_seconds = std::chrono::duration<double>(loaded - start).count();
    std::cout << "widenn kernel: " << act_name << ", depth " << depth << ", " << param_name << " parametrization, "
              << (use_float ? "float" : "double") << ": " << x1.shape()[0] << " x " << n2 << " (d = " << x1.shape()[1]
              << "); read " << load_seconds << " s, kernels " << compute_seconds << " s, write " << write_seconds << " s, total "
              << load_seconds + compute_seconds + write_seconds << " s\n";
    return 0;
}

const bool registered = widenn::cli::add_command({
    "kernel",
    "NNGP and NTK of an infinitely wide MLP on .npy inputs (neural-tangents conventions)",
    "usage: widenn kernel --x1 X.npy [--x2 Y.npy] [--nngp K.npy] [--ntk T.npy] [--act relu] [--depth 1]\n"
    "                     [--weight-var 1] [--bias-var 0] [--param ntk|standard] [--width N] [--float] [--threads N]\n\n"
    "Computes the infinite-width NNGP Sigma(X1, X2) and NTK Theta(X1, X2) of an MLP with --depth hidden layers and a\n"
    "linear readout, in neural-tangents' conventions: first layer K0 = x.x'/d, weight variance --weight-var (W_std^2),\n"
    "bias variance --bias-var (b_std^2). --param ntk is the NTK parametrization (neural-tangents' default); --param\n"
    "standard is the standard parametrization, whose NTK grows with the hidden width (--width N required).\n"
    "Inputs: 2-D float64 or float32 .npy arrays, one input per row (np.save('X.npy', X)). Without --x2 the kernel of\n"
    "X1 with itself is computed (one triangle, exact diagonal). Outputs: float64 .npy (float32 with --float).\n"
    "Activations: " + std::string(widenn::cli::kernels::activation_names) + ".\n"
    "Example: widenn kernel --act relu --depth 3 --weight-var 2 --bias-var 0.1 --x1 X.npy --nngp K.npy --ntk T.npy\n",
    run_kernel,
});

}  // namespace
