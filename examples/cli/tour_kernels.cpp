// Tour section: the infinite-width kernels. The analytic NTK against the empirical NTK of finite networks at two
// widths (the error shrinks like 1/√width), and a small kernel regression (Fashion-MNIST if installed, else synthetic).
#include <chrono>
#include <cmath>
#include <iomanip>
#include <ostream>

#include <widenn/act/activations.hpp>
#include <widenn/core/rng.hpp>
#include <widenn/io/idx.hpp>
#include <widenn/limit/kernel.hpp>
#include <widenn/limit/of.hpp>
#include <widenn/limit/predict.hpp>
#include <widenn/nn/mlp.hpp>
#include <widenn/nn/ntk.hpp>

#include "cli.hpp"

namespace {

namespace wn = widenn;
namespace lim = widenn::limit;
using wn::matrix;

double relative_frobenius(const matrix<double>& a, const matrix<double>& b) {
    return std::sqrt(xt::sum((a - b) * (a - b))()) / std::sqrt(xt::sum(b * b)());
}

void finite_vs_analytic(std::ostream& out) {
    using net = wn::nn::mlp<wn::param::ntk, wn::act::relu, 2, double>;
    using limit = lim::of<net>;  // the kernel limit: NTK parametrization is in the kernel regime
    const matrix<double> x = wn::normal_matrix(6, 5, 11);
    const lim::kernel_config config{.weight_var = 2.0, .bias_var = 0.1};
    const auto analytic = limit::kernels(x, config).ntk;
    out << "relu MLP, 2 hidden layers, NTK parametrization (sigma_w^2 = 2, sigma_b^2 = 0.1), 6 inputs in R^5\n"
        << "  analytic NTK Theta(x1, x1) = " << analytic(0, 0) << ", Theta(x1, x2) = " << analytic(0, 1) << "\n";
    for (const std::size_t width : {128, 2048}) {
        double mean = 0;
        constexpr int seeds = 3;
        for (int seed = 0; seed < seeds; ++seed) {
            net f({.d_in = 5, .width = width, .d_out = 1, .weight_var = 2.0, .bias_var = 0.1,
                   .constants = wn::nn::constants_in::multiplier, .seed = static_cast<std::uint64_t>(seed)});
            mean += relative_frobenius(wn::nn::empirical_ntk(f, x, x), analytic) / seeds;
        }
        out << "  width " << std::right << std::setw(5) << width << ": empirical NTK relative error " << std::setprecision(3) << mean
            << " (mean of " << seeds << " seeds)\n";
    }
    out << "  (16x the width should cut the error about 4x: the finite NTK fluctuates as O(1/sqrt(width)))\n";
}

void small_regression(std::ostream& out) {
    std::size_t m = 1000, p = 1000;  // at most; a smaller installed data set gives fewer
    matrix<double> x_train, x_test;
    xt::xtensor<int, 1> y_train, y_test;
    std::string source;
    if (wn::io::fashion_mnist_available()) {
        auto train = wn::io::read_fashion_mnist(true, m), test = wn::io::read_fashion_mnist(false, p);
        x_train = xt::cast<double>(train.images), x_test = xt::cast<double>(test.images);
        y_train = train.labels, y_test = test.labels;
        m = x_train.shape()[0], p = x_test.shape()[0];
        if (m == 0 || p == 0) throw wn::error("the installed Fashion-MNIST files hold no images");
        source = "Fashion-MNIST";
    } else {  // two Gaussian blobs per class, 10 classes in R^20
        wn::rng g(5);
        auto make = [&](std::size_t n, matrix<double>& x, xt::xtensor<int, 1>& y) {
            x = xt::empty<double>({n, std::size_t{20}});
            y = xt::empty<int>({n});
            for (std::size_t i = 0; i < n; ++i) {
                y(i) = static_cast<int>(g.below(10));
                for (std::size_t k = 0; k < 20; ++k) x(i, k) = g.normal() + (k == static_cast<std::size_t>(y(i)) ? 2.5 : 0.0);
            }
        };
        make(m, x_train, y_train);
        make(p, x_test, y_test);
        source = "synthetic blobs (Fashion-MNIST not installed)";
    }
    const auto start = std::chrono::steady_clock::now();
    matrix<double> y = xt::full_like(matrix<double>::from_shape({m, std::size_t{10}}), -0.1);
    for (std::size_t i = 0; i < m; ++i) y(i, static_cast<std::size_t>(y_train(i))) += 1.0;
    using K = lim::kernel<wn::param::ntk, wn::act::relu, 3>;
    const lim::kernel_config config{.weight_var = 2.0, .bias_var = 0.01};
    const auto train = K::kernels(x_train, config);
    const auto test = K::kernels(x_test, x_train, config);
    const lim::gradient_descent_mse flow(train.ntk, y, {.reg = {.diag_reg = 1e-4}});
    auto accuracy = [&](const matrix<double>& pred) {
        std::size_t correct = 0;
        for (std::size_t i = 0; i < p; ++i) {
            const double* row = pred.data() + i * 10;
            correct += (std::max_element(row, row + 10) - row) == y_test(i);
        }
        return static_cast<double>(correct) / p;
    };
    const double acc_inf = accuracy(flow.test(test.ntk, lim::infinite_time));
    const double acc_nngp = accuracy(lim::gp_posterior(train.nngp, y, test.nngp, std::nullopt, {.diag_reg = 1e-4}).mean);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    out << "kernel regression on " << source << ": " << m << " train, " << p << " test, relu depth 3\n"
        << "  NTK gradient flow to convergence: accuracy " << std::setprecision(3) << acc_inf << "\n"
        << "  NNGP posterior mean (exact Bayesian infinite network): accuracy " << acc_nngp << "\n"
        << "  (kernels, eigen/Cholesky solves and predictions in " << std::setprecision(2) << seconds
        << " s; `widenn regress` runs the 10k/10k version)\n";
}

const bool registered = widenn::cli::add_tour_section({
    40,
    "infinite-width kernels: finite networks converge to the NTK; kernel regression",
    [](std::ostream& out) {
        const auto precision = out.precision();
        finite_vs_analytic(out);
        small_regression(out);
        out.precision(precision);
    },
});

}  // namespace
