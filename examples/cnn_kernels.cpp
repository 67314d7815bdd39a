// CNN-GP and CNN-NTK against the MLP's NNGP and NTK on Fashion-MNIST: kernel regression (the posterior mean, i.e.
// gradient flow to convergence for the NTK) with the infinite-width kernels of an architecture SPEC
// (limit/conv_kernel.hpp) on 28×28×1 images (or 14×14 with --downsample 2), and of a ReLU MLP of the same depth
// (limit/kernel.hpp) on the same images flattened. Reports accuracy and wall time per kernel, and writes a CSV.
//
//   cnn_kernels [--arch conv:3,relu,conv:3,relu,conv:3,relu,flatten] [--n-train 1000] [--n-test 1000] [--downsample 1]
//               [--weight-var 2] [--bias-var 0.01] [--diag-reg 1e-4] [--mlp-depth 3] [--threads 0] [--csv cnn_kernels.csv]
//
// Preprocessing as `widenn regress`: centre with the training mean image, scale every image to norm √d; targets
// one-hot − 0.1 (neural-tangents' examples); a diagonal regulariser diag_reg · mean(diag K).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <xtensor/xarray.hpp>

#include <widenn/io/idx.hpp>
#include <widenn/io/plot.hpp>
#include <widenn/limit/conv_kernel.hpp>
#include <widenn/limit/kernel.hpp>
#include <widenn/limit/predict.hpp>
#include <widenn/limit/solvers.hpp>
#include <widenn/nn/spec.hpp>

#include "cli/cli.hpp"
#include "cli/kernel_dispatch.hpp"

namespace wn = widenn;
namespace lim = widenn::limit;
using wn::matrix;
using clock_type = std::chrono::steady_clock;

namespace {

double seconds_since(clock_type::time_point t) { return std::chrono::duration<double>(clock_type::now() - t).count(); }

// Images N × side² (float, 0..255) -> N × (side/f)² averaged over f × f blocks, centred and scaled to norm √d.
matrix<double> prepare(const xt::xtensor<float, 2>& raw, std::size_t side, std::size_t f, const std::vector<double>* mean_in,
                       std::vector<double>* mean_out) {
    const std::size_t n = raw.shape()[0], s = side / f, d = s * s;
    matrix<double> x = xt::zeros<double>({n, d});
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t y = 0; y < s * f; ++y)
            for (std::size_t c = 0; c < s * f; ++c) x(i, (y / f) * s + c / f) += raw(i, y * side + c) / double(f * f * 255);
    std::vector<double> mean(d, 0.0);
    if (mean_in) mean = *mean_in;
    else {
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t k = 0; k < d; ++k) mean[k] += x(i, k) / double(n);
    }
    if (mean_out) *mean_out = mean;
    for (std::size_t i = 0; i < n; ++i) {
        double norm = 0;
        for (std::size_t k = 0; k < d; ++k) x(i, k) -= mean[k], norm += x(i, k) * x(i, k);
        const double scale = norm > 0 ? std::sqrt(double(d) / norm) : 1.0;
        for (std::size_t k = 0; k < d; ++k) x(i, k) *= scale;
    }
    return x;
}

double accuracy(const matrix<double>& k_train, const matrix<double>& k_test_train, const matrix<double>& y,
                const xt::xtensor<int, 1>& labels, double diag_reg) {
    const matrix<double> alpha = lim::cholesky_factor(k_train, {.diag_reg = diag_reg}).solve(y);
    const matrix<double> scores = lim::detail::matmul(k_test_train, alpha);
    std::size_t correct = 0;
    for (std::size_t i = 0; i < scores.shape()[0]; ++i) {
        std::size_t best = 0;
        for (std::size_t c = 1; c < scores.shape()[1]; ++c)
            if (scores(i, c) > scores(i, best)) best = c;
        correct += static_cast<int>(best) == labels(i);
    }
    return double(correct) / double(scores.shape()[0]);
}

}  // namespace

int main(int argc, char** argv) {
    const std::string usage =
        "usage: cnn_kernels [--arch conv:3,relu,conv:3,relu,conv:3,relu,flatten] [--n-train 1000] [--n-test 1000]\n"
        "                   [--downsample 1|2] [--weight-var 2] [--bias-var 0.01] [--diag-reg 1e-4] [--mlp-depth 3]\n"
        "                   [--threads 0] [--csv cnn_kernels.csv]\n"
        "CNN-GP / CNN-NTK (the SPEC's infinite-width kernels, widenn kernel --arch) against the MLP's NNGP / NTK on\n"
        "Fashion-MNIST: kernel regression accuracy and wall time of each. Needs the Fashion-MNIST files.\n";
    return wn::cli::run_program("cnn_kernels", usage, argc, argv, [&](wn::cli::args& a) {
        const std::string arch = a.text("arch", "conv:3,relu,conv:3,relu,conv:3,relu,flatten");
        const std::size_t n_train = a.count("n-train", 1000), n_test = a.count("n-test", 1000);
        const int downsample = a.integer<int>("downsample", 1, 1, 2);
        const double weight_var = a.real("weight-var", 2.0, 0.0, 100.0), bias_var = a.real("bias-var", 0.01, 0.0, 100.0);
        const double diag_reg = a.real("diag-reg", 1e-4, 0.0, 1e6);
        const int mlp_depth = a.integer<int>("mlp-depth", 3, 1, 100), threads = a.integer<int>("threads", 0, 0, 1024);
        const std::string csv_path = a.text("csv", "cnn_kernels.csv");
        a.reject_unknown();
        const wn::nn::spec spec = wn::nn::parse_spec(arch);
        const std::size_t side = 28 / static_cast<std::size_t>(downsample);
        wn::nn::infer_shapes(spec, side, side, 1);

        const auto train = wn::io::read_fashion_mnist(true, n_train);
        const auto test = wn::io::read_fashion_mnist(false, n_test);
        std::vector<double> mean;
        const matrix<double> x_train = prepare(train.images, 28, static_cast<std::size_t>(downsample), nullptr, &mean);
        const matrix<double> x_test = prepare(test.images, 28, static_cast<std::size_t>(downsample), &mean, nullptr);
        const std::size_t m = x_train.shape()[0], p = x_test.shape()[0];
        matrix<double> y = xt::full_like(matrix<double>::from_shape({m, std::size_t{10}}), -0.1);
        for (std::size_t i = 0; i < m; ++i) y(i, static_cast<std::size_t>(train.labels(i))) += 1.0;
        std::cout << "cnn_kernels: Fashion-MNIST " << m << " train, " << p << " test, " << side << " x " << side << "; --arch " << arch
                  << ", weight_var " << weight_var << ", bias_var " << bias_var << ", diag_reg " << diag_reg << "\n";

        const lim::kernel_config config{.weight_var = weight_var, .bias_var = bias_var, .threads = threads};
        wn::io::csv_writer csv(csv_path, {"model", "kernel", "accuracy", "kernel_seconds", "n_train", "n_test"});
        auto report = [&](const std::string& model, const lim::kernel_pair<double>& k_train, const lim::kernel_pair<double>& k_test,
                          double seconds) {
            for (int ntk = 0; ntk < 2; ++ntk) {
                const double acc = accuracy(ntk ? k_train.ntk : k_train.nngp, ntk ? k_test.ntk : k_test.nngp, y, test.labels, diag_reg);
                std::printf("  %-48s %-4s accuracy %.4f   kernels %.1f s\n", model.c_str(), ntk ? "NTK" : "NNGP", acc, seconds);
                csv.row(model, ntk ? "ntk" : "nngp", acc, seconds, m, p);
            }
            std::fflush(stdout);
        };

        // the CNN on images N × side × side × 1
        xt::xarray<double> img_train = x_train, img_test = x_test;
        img_train.reshape({m, side, side, std::size_t{1}});
        img_test.reshape({p, side, side, std::size_t{1}});
        auto t0 = clock_type::now();
        lim::kernel_config cnn_config = config;
        cnn_config.progress = wn::cli::kernels::progress_printer("CNN train kernel");
        const auto cnn_train = lim::conv_kernels(spec, img_train, cnn_config);
        cnn_config.progress = wn::cli::kernels::progress_printer("CNN test kernel");
        const auto cnn_test = lim::conv_kernels(spec, img_test, img_train, cnn_config);
        report("CNN " + arch, cnn_train, cnn_test, seconds_since(t0));

        // the MLP on the same images flattened
        t0 = clock_type::now();
        const auto mlp_train = lim::kernel_plan<wn::param::ntk, wn::act::relu, double>(x_train, mlp_depth, config).compute();
        const auto mlp_test = lim::kernel_plan<wn::param::ntk, wn::act::relu, double>(x_test, x_train, mlp_depth, config).compute();
        report("MLP relu depth " + std::to_string(mlp_depth), mlp_train, mlp_test, seconds_since(t0));
        csv.close();
        return 0;
    });
}
