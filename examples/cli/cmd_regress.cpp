// `widenn regress`: infinite-width kernel regression (NTK gradient flow or NNGP posterior mean) on IDX image data,
// Fashion-MNIST by default; prints accuracy and timings.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <iomanip>
#include <iostream>
#include <limits>
#include <string>

#include <widenn/core/checked.hpp>
#include <widenn/io/idx.hpp>
#include <widenn/limit/kernel.hpp>
#include <widenn/limit/predict.hpp>
#include <widenn/limit/solvers.hpp>

#include "cli.hpp"
#include "kernel_dispatch.hpp"

namespace {

using widenn::matrix;
using widenn::cli::usage_error;
using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t) { return std::chrono::duration<double>(clock_type::now() - t).count(); }

// Centre with the training mean image and scale every image to norm √d (so K⁰(x, x) = 1): the usual preprocessing
// for kernel regression on images (e.g. neural-tangents' and Arora et al.'s CNTK experiments use standardised inputs).
void preprocess(matrix<double>& x, const widenn::vector<double>& mean) {
    const std::size_t n = x.shape()[0], d = x.shape()[1];
    for (std::size_t i = 0; i < n; ++i) {
        double norm = 0;
        for (std::size_t k = 0; k < d; ++k) {
            x(i, k) -= mean(k);
            norm += x(i, k) * x(i, k);
        }
        const double scale = norm > 0 ? std::sqrt(static_cast<double>(d) / norm) : 1.0;
        for (std::size_t k = 0; k < d; ++k) x(i, k) *= scale;
    }
}

int run_regress(widenn::cli::args& a) {
    namespace ks = widenn::cli::kernels;
    namespace io = widenn::io;
    namespace lim = widenn::limit;
    const std::string kernel_name = a.text("kernel", "ntk"), act_name = a.text("act", "relu"), param_name = a.text("param", "ntk");
    const int depth = a.integer<int>("depth", 3, 1, 10000);
    const std::string dir = io::fashion_mnist_dir();
    std::string train_images = a.text("train-images", io::fashion_mnist_path("train-images-idx3-ubyte"));
    std::string train_labels = a.text("train-labels", io::fashion_mnist_path("train-labels-idx1-ubyte"));
    std::string test_images = a.text("test-images", io::fashion_mnist_path("t10k-images-idx3-ubyte"));
    std::string test_labels = a.text("test-labels", io::fashion_mnist_path("t10k-labels-idx1-ubyte"));
    const std::size_t n_train = a.count("n-train", 10000), n_test = a.count("n-test", 10000);
    const double diag_reg = a.real("diag-reg", 1e-4, 0.0);
    const double time = a.text("time", "inf") == "inf" ? std::numeric_limits<double>::infinity() : a.real("time", 0.0, 0.0);
    lim::kernel_config config;
    config.weight_var = a.real("weight-var", 2.0, 0.0);
    config.bias_var = a.real("bias-var", 0.01, 0.0);
    config.width = a.integer<std::size_t>("width", 0, 0, std::size_t{1} << 40);
    config.threads = a.integer<int>("threads", 0, 0, 1024);
    a.reject_unknown();
    if (kernel_name != "ntk" && kernel_name != "nngp") throw usage_error("--kernel must be ntk or nngp, got '" + kernel_name + "'");
    ks::with_parametrization(param_name, []<class>() {});  // unknown names fail here, before any work
    ks::with_activation(act_name, []<class>() {});
    for (const auto* path : {&train_images, &train_labels, &test_images, &test_labels})
        if (path->empty())
            throw widenn::error("Fashion-MNIST is not in " + dir +
                                " (install the Debian package dataset-fashion-mnist, set WIDENN_FASHION_MNIST_DIR, or pass "
                                "--train-images/--train-labels/--test-images/--test-labels)");
    // Two m x m matrices (the train kernel and its factor or eigenvectors) and the test blocks.
    widenn::require_memory(widenn::checked_product({n_train, n_train, 2 * sizeof(double)}, "widenn regress"),
                           "the " + std::to_string(n_train) + " x " + std::to_string(n_train) + " train kernel and its factor",
                           "use a smaller --n-train");
    const bool use_ntk = kernel_name == "ntk";
    config.compute_ntk = use_ntk;
    if (param_name == "standard" && use_ntk && config.width == 0) throw usage_error("--param standard needs --width N for its NTK");

    const auto t_start = clock_type::now();
    matrix<double> x_train = xt::cast<double>(io::read_idx_images(train_images, n_train));
    matrix<double> x_test = xt::cast<double>(io::read_idx_images(test_images, n_test));
    const auto y_train_labels = io::read_idx_labels(train_labels, n_train);
    const auto y_test_labels = io::read_idx_labels(test_labels, n_test);
    if (x_train.shape()[0] != y_train_labels.size() || x_test.shape()[0] != y_test_labels.size())
        throw widenn::shape_error("image and label counts differ: " + std::to_string(x_train.shape()[0]) + " train images, " +
                                  std::to_string(y_train_labels.size()) + " train labels, " + std::to_string(x_test.shape()[0]) +
                                  " test images, " + std::to_string(y_test_labels.size()) + " test labels");
    if (x_train.shape()[1] != x_test.shape()[1])
        throw widenn::shape_error("train and test images have different sizes");
    if (x_train.shape()[0] < n_train || x_test.shape()[0] < n_test)
        std::cout << "note: the files hold " << x_train.shape()[0] << " train and " << x_test.shape()[0]
                  << " test images; using all of them\n";
    const std::size_t m = x_train.shape()[0], p = x_test.shape()[0];
    int classes = 0;
    for (int label : y_train_labels) classes = std::max(classes, label + 1);
    const widenn::vector<double> mean = xt::mean(x_train, {0});
    preprocess(x_train, mean);
    preprocess(x_test, mean);
    // targets one-hot − 0.1 (neural-tangents' examples)
    matrix<double> y = xt::full_like(matrix<double>::from_shape({m, static_cast<std::size_t>(classes)}), -0.1);
    for (std::size_t i = 0; i < m; ++i) y(i, static_cast<std::size_t>(y_train_labels(i))) += 1.0;
    const double load_seconds = seconds_since(t_start);
    std::cout << "widenn regress: " << m << " train, " << p << " test images of " << x_train.shape()[1] << " pixels, " << classes
              << " classes; " << kernel_name << " kernel, " << act_name << ", depth " << depth << ", " << param_name
              << " parametrization, weight_var " << config.weight_var << ", bias_var " << config.bias_var << ", diag_reg " << diag_reg
              << ", t = " << time << "\n";

    double kernel_train_seconds = 0, solve_seconds = 0, kernel_test_seconds = 0;
    std::size_t correct = 0;
    ks::with_parametrization(param_name, [&]<class P>() {
        ks::with_activation(act_name, [&]<class A>() {
            auto t0 = clock_type::now();
            lim::kernel_config train_config = config;
            train_config.progress = ks::progress_printer("train kernel");
            auto train = lim::kernel_plan<P, A, double>(x_train, depth, train_config).compute();
            matrix<double> k_train = use_ntk ? std::move(train.ntk) : std::move(train.nngp);
            train = {};
            kernel_train_seconds = seconds_since(t0);
            t0 = clock_type::now();
            matrix<double> alpha;
            if (std::isinf(time)) {
                try {
                    alpha = lim::cholesky_factor(std::move(k_train), {.diag_reg = diag_reg}).solve(y);  // (K + λ tr/m I)⁻¹ y
                } catch (const widenn::numerical_error&) {
                    throw widenn::numerical_error("the " + std::to_string(m) + " x " + std::to_string(m) + " train kernel with --diag-reg " +
                                                  std::to_string(diag_reg) + " is not positive definite (Cholesky broke down); "
                                                  "give a larger --diag-reg (relative to the mean diagonal, e.g. 1e-4 or 1e-3), "
                                                  "or check the data for duplicated images");
                }
            } else {
                const lim::gradient_descent_mse flow(std::move(k_train), y, {.lr = 1.0, .reg = {.diag_reg = diag_reg}});
                alpha = flow.weights(y, time);
            }
            solve_seconds = seconds_since(t0);
            t0 = clock_type::now();
            // test predictions block by block: memory O(block x m)
            const lim::kernel_plan<P, A, double> test_plan(x_test, x_train, depth, config);
            const std::size_t block = 1000;
            for (std::size_t r = 0; r < p; r += block) {
                const std::size_t r1 = std::min(r + block, p);
                auto blk = test_plan.block(r, r1, 0, m);
                const matrix<double> pred = lim::detail::matmul(use_ntk ? blk.ntk : blk.nngp, alpha);
                for (std::size_t i = r; i < r1; ++i) {
                    const double* row = pred.data() + (i - r) * pred.shape()[1];
                    if (std::max_element(row, row + pred.shape()[1]) - row == y_test_labels(i)) ++correct;
                }
                std::fprintf(stderr, "\rtest kernel and predictions: %3d%%%s", static_cast<int>(100 * r1 / p), r1 == p ? "\n" : "");
            }
            kernel_test_seconds = seconds_since(t0);
        });
    });
    const double total = seconds_since(t_start);
    std::cout << std::fixed << std::setprecision(4) << "accuracy " << static_cast<double>(correct) / static_cast<double>(p) << " ("
              << correct << " / " << p << ")\n"
              << std::setprecision(2) << "time: load " << load_seconds << " s, train kernel " << kernel_train_seconds << " s, solve "
              << solve_seconds << " s, test kernel + predict " << kernel_test_seconds << " s, total " << total << " s\n";
    return 0;
}

const bool registered = widenn::cli::add_command({
    "regress",
    "infinite-width kernel regression on Fashion-MNIST (or any IDX images): accuracy and timings",
    "usage: widenn regress [--kernel ntk|nngp] [--act relu] [--depth 3] [--weight-var 2] [--bias-var 0.01]\n"
    "                      [--param ntk|standard] [--width N] [--n-train 10000] [--n-test 10000] [--diag-reg 1e-4]\n"
    "                      [--time inf] [--train-images F --train-labels F --test-images F --test-labels F] [--threads N]\n\n"
    "Trains an infinitely wide MLP on images with MSE (targets one-hot - 0.1) in closed form and reports test accuracy.\n"
    "--kernel ntk: gradient flow with the NTK until --time (in steps of learning rate 1; inf = converged);\n"
    "--kernel nngp: the NNGP posterior mean (exact Bayesian inference). --diag-reg is relative to the mean diagonal\n"
    "(neural-tangents' convention). Images are centred with the training mean and scaled to norm sqrt(d).\n"
    "Default data: Fashion-MNIST from the Debian package dataset-fashion-mnist (" + widenn::io::fashion_mnist_dir() +
    "), plain or .gz IDX files.\n"
    "Memory: two m x m matrices for the train kernel; test kernels are computed in blocks of 1000 rows.\n"
    "A finite --time needs an eigendecomposition of the train kernel (minutes at m = 10000).\n",
    run_regress,
});

}  // namespace
