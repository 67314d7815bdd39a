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
#include "regress_setup.hpp"

namespace {

using widenn::matrix;
namespace rs = widenn::cli::regress;

int run_regress(widenn::cli::args& a) {
    namespace ks = widenn::cli::kernels;
    namespace lim = widenn::limit;
    const rs::options opt = rs::parse_options(a);
    a.reject_unknown();
    const std::size_t n_train = opt.n_train;
    // Two m x m matrices (the train kernel and its factor or eigenvectors) and the test blocks.
    widenn::require_memory(widenn::checked_product({n_train, n_train, 2 * sizeof(double)}, "widenn regress"),
                           "the " + std::to_string(n_train) + " x " + std::to_string(n_train) + " train kernel and its factor",
                           "use a smaller --n-train");

    const auto t_start = rs::clock_type::now();
    const rs::data data = rs::load_data(opt);
    const std::size_t m = data.x_train.shape()[0], p = data.x_test.shape()[0];
    if (m < opt.n_train || p < opt.n_test)
        std::cout << "note: the data hold " << m << " train and " << p << " test points; using all of them\n";
    const double load_seconds = rs::seconds_since(t_start);
    const bool use_ntk = opt.use_ntk();
    const double diag_reg = opt.diag_reg, time = opt.time;
    const int depth = opt.depth;
    std::cout << "widenn regress: " << m << " train, " << p << " test points of " << data.x_train.shape()[1] << " features, "
              << data.classes << " classes; " << opt.kernel << " kernel, " << opt.act << ", depth " << depth << ", " << opt.param
              << " parametrization, weight_var " << opt.config.weight_var << ", bias_var " << opt.config.bias_var << ", diag_reg "
              << diag_reg << ", t = " << time << "\n";

    double kernel_train_seconds = 0, solve_seconds = 0, kernel_test_seconds = 0;
    std::size_t correct = 0;
    ks::with_parametrization(opt.param, [&]<class P>() {
        ks::with_activation(opt.act, [&]<class A>() {
            auto t0 = rs::clock_type::now();
            lim::kernel_config train_config = opt.config;
            train_config.progress = ks::progress_printer("train kernel");
            auto train = lim::kernel_plan<P, A, double>(data.x_train, depth, train_config).compute();
            matrix<double> k_train = use_ntk ? std::move(train.ntk) : std::move(train.nngp);
            train = {};
            kernel_train_seconds = rs::seconds_since(t0);
            t0 = rs::clock_type::now();
            matrix<double> alpha;
            if (std::isinf(time)) {
                try {
                    alpha = lim::cholesky_factor(std::move(k_train), {.diag_reg = diag_reg}).solve(data.y_train);  // (K + λ tr/m I)⁻¹ y
                } catch (const widenn::numerical_error&) {
                    throw widenn::numerical_error("the " + std::to_string(m) + " x " + std::to_string(m) + " train kernel with --diag-reg " +
                                                  std::to_string(diag_reg) + " is not positive definite (Cholesky broke down); "
                                                  "give a larger --diag-reg (relative to the mean diagonal, e.g. 1e-4 or 1e-3), "
                                                  "or check the data for duplicated images");
                }
            } else {
                const lim::gradient_descent_mse flow(std::move(k_train), data.y_train, {.lr = 1.0, .reg = {.diag_reg = diag_reg}});
                alpha = flow.weights(data.y_train, time);
            }
            solve_seconds = rs::seconds_since(t0);
            t0 = rs::clock_type::now();
            // test predictions block by block: memory O(block x m)
            const lim::kernel_plan<P, A, double> test_plan(data.x_test, data.x_train, depth, opt.config);
            const std::size_t block = 1000;
            for (std::size_t r = 0; r < p; r += block) {
                const std::size_t r1 = std::min(r + block, p);
                auto blk = test_plan.block(r, r1, 0, m);
                const matrix<double> pred = lim::detail::matmul(use_ntk ? blk.ntk : blk.nngp, alpha);
                correct += rs::count_correct(pred, data.test_labels.data() + r);
                std::fprintf(stderr, "\rtest kernel and predictions: %3d%%%s", static_cast<int>(100 * r1 / p), r1 == p ? "\n" : "");
            }
            kernel_test_seconds = rs::seconds_since(t0);
        });
    });
    const double total = rs::seconds_since(t_start);
    std::cout << std::fixed << std::setprecision(4) << "accuracy " << static_cast<double>(correct) / static_cast<double>(p) << " ("
              << correct << " / " << p << ")\n"
              << std::setprecision(2) << "time: load " << load_seconds << " s, train kernel " << kernel_train_seconds << " s, solve "
              << solve_seconds << " s, test kernel + predict " << kernel_test_seconds << " s, total " << total << " s\n";
    return 0;
}

const bool registered = widenn::cli::add_command({
    "regress",
    "infinite-width kernel regression on Fashion-MNIST (or any IDX images): accuracy and timings",
    std::string("usage: widenn regress\n") + widenn::cli::regress::options_usage +
    "\nTrains an infinitely wide MLP with MSE (targets one-hot - 0.1) in closed form and reports test accuracy.\n"
    "--kernel ntk: gradient flow with the NTK until --time (in steps of learning rate 1; inf = converged);\n"
    "--kernel nngp: the NNGP posterior mean (exact Bayesian inference). --diag-reg is relative to the mean diagonal\n"
    "(neural-tangents' convention). Inputs are centred with the training mean and scaled to norm sqrt(d)\n"
    "(--no-preprocess: used as they are).\n"
    "Data: Fashion-MNIST from the Debian package dataset-fashion-mnist (" + widenn::io::fashion_mnist_dir() +
    "), or any IDX images (plain or .gz), or .npy arrays: features N x d (any float or integer dtype) and labels as\n"
    "integers (N or N x 1) or one-hot rows (N x classes).\n"
    "Memory: two m x m matrices for the train kernel; test kernels are computed in blocks of 1000 rows.\n"
    "A finite --time needs an eigendecomposition of the train kernel (minutes at m = 10000).\n",
    run_regress,
});

}  // namespace
