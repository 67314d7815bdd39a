// Tests of limit::mup_1hl's hidden (post-activation) and pre-activation kernels: the NNGP kernel at initialisation,
// finite nn::mlp μP networks trained the same way after training, symmetry, PSD and bad input.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <xtensor/xview.hpp>

#include <widenn/act/activations.hpp>
#include <widenn/act/dual.hpp>
#include <widenn/core/rng.hpp>
#include <widenn/limit/feature_learning.hpp>
#include <widenn/limit/mup_1hl.hpp>
#include <widenn/limit/predict.hpp>
#include <widenn/limit/solvers.hpp>
#include <widenn/nn/loss.hpp>
#include <widenn/nn/mlp.hpp>
#include <widenn/nn/optim.hpp>
#include <widenn/nn/train.hpp>
#include <widenn/param/abc.hpp>

#include "../error_messages.hpp"

namespace {

using widenn::matrix;
namespace lim = widenn::limit;
namespace nn = widenn::nn;
namespace act = widenn::act;
namespace param = widenn::param;

// Five inputs in R^4 that span a 2-dimensional subspace (rows 2..4 are combinations of rows 0 and 1), of norm about 1
// (larger pre-activations make erf and tanh steep, and Gauss–Hermite converges more slowly).
matrix<double> span2_inputs() {
    const matrix<double> base = widenn::normal_matrix(2, 4, 31) / 2.0;
    const double mix[5][2] = {{1, 0}, {0, 1}, {0.6, -0.8}, {-1.2, 0.3}, {0.25, 0.5}};
    matrix<double> X = xt::zeros<double>({5, 4});
    for (std::size_t r = 0; r < 5; ++r)
        for (std::size_t j = 0; j < 4; ++j) X(r, j) = mix[r][0] * base(0, j) + mix[r][1] * base(1, j);
    return X;
}

// E[φ(u)φ(v)] for (u, v) ~ N(0, σ² [[x·x, x·x'], [x·x', x'·x']]): the NNGP post-activation kernel of one layer.
template <class A>
matrix<double> nngp_post(const matrix<double>& X, double sigma_u) {
    const std::size_t n = X.shape()[0];
    matrix<double> K = xt::empty<double>({n, n});
    const auto dot = [&](std::size_t a, std::size_t b) {
        double s = 0;
        for (std::size_t j = 0; j < X.shape()[1]; ++j) s += X(a, j) * X(b, j);
        return sigma_u * sigma_u * s;
    };
    for (std::size_t a = 0; a < n; ++a)
        for (std::size_t b = 0; b < n; ++b) K(a, b) = act::dual<A>(dot(a, a), dot(a, b), dot(b, b)).value;
    return K;
}

double max_abs_diff(const matrix<double>& a, const matrix<double>& b) {
    double out = 0;
    for (std::size_t i = 0; i < a.size(); ++i) out = std::max(out, std::abs(a.flat(i) - b.flat(i)));
    return out;
}

using widenn_test::message_of;

}  // namespace

TEST_CASE("mup_1hl::hidden_kernel at t = 0 is the NNGP post-activation kernel (erf: Williams; tanh: dual quadrature; relu: arc-cosine)") {
    // Pre-activation variances σ_u²|x|² up to 3.5 here: Gauss–Hermite on erf/tanh converges fast (measured max error
    // 4.7e-5 / 9.1e-5 at 40 points per dimension, 1.4e-8 / 1.9e-6 at 80), on ReLU's kink slowly (2.1e-3 at 40, 1.2e-3 at 80).
    const matrix<double> X = span2_inputs();
    const double sigma_u = 1.3;
    {
        lim::mup_1hl<act::erf<>> limit(X, 1, {.sigma_u = sigma_u, .degree = 80});
        REQUIRE(limit.span_dim() == 2);
        const matrix<double> K = limit.hidden_kernel(X);
        const double error = max_abs_diff(K, nngp_post<act::erf<>>(X, sigma_u));
        const double estimate = xt::amax(limit.hidden_kernel_error_estimate(X, X))();
        MESSAGE("erf, 80^3 nodes: max |K - Williams| = " << error << ", error estimate " << estimate);
        CHECK(error < 1e-7);
        CHECK(error <= estimate);
        CHECK(max_abs_diff(limit.hidden_kernel(X, X), K) < 1e-14);
        // the pre-activation kernel at t = 0 is σ_u² X Xᵀ (second moments are exact for every degree >= 2)
        const matrix<double> linear = sigma_u * sigma_u * lim::detail::matmul(X, xt::transpose(X));
        CHECK(max_abs_diff(limit.preactivation_kernel(X), linear) < 1e-12);
        CHECK(max_abs_diff(limit.preactivation_kernel(X, xt::eval(xt::view(X, xt::range(1, 3), xt::all()))),
                           xt::eval(xt::view(linear, xt::all(), xt::range(1, 3)))) < 1e-12);
    }
    {
        lim::mup_1hl<act::tanh> limit(X, 1, {.sigma_u = sigma_u, .degree = 80});
        const double error = max_abs_diff(limit.hidden_kernel(X), nngp_post<act::tanh>(X, sigma_u));
        const double estimate = xt::amax(limit.hidden_kernel_error_estimate(X, X))();
        MESSAGE("tanh, 80^3 nodes: max |K - act::dual quadrature| = " << error << ", error estimate " << estimate);
        CHECK(error < 1e-5);
        CHECK(error <= estimate);
    }
    {
        // ReLU: algebraic convergence (error ~ K^-p, p ≈ 0.9 measured), so the distance to the 20-point rule is about the
        // error itself, not a bound: assert the convergence and the measured size instead.
        const matrix<double> exact = nngp_post<act::relu>(X, sigma_u);
        lim::mup_1hl<act::relu> coarse(X, 1, {.sigma_u = sigma_u, .degree = 20});
        lim::mup_1hl<act::relu> limit(X, 1, {.sigma_u = sigma_u, .degree = 40});
        const matrix<double> K = limit.hidden_kernel(X);
        const double estimate = xt::amax(limit.hidden_kernel_error_estimate(X, X))();
        const double error = max_abs_diff(K, exact), error_20 = max_abs_diff(coarse.hidden_kernel(X), exact);
        MESSAGE("relu, 40^3 nodes: max |K - arc-cosine| = " << error << " (20^3: " << error_20 << "), max error estimate "
                                                              << estimate);
        CHECK(error < 0.7 * error_20);
        CHECK(error < 3e-3);
        CHECK(error < 2 * estimate);
    }
}

TEST_CASE("mup_1hl::hidden_kernel is symmetric and positive semi-definite, also after training") {
    const auto X = widenn::normal_matrix(30, 3, 8);
    lim::mup_1hl<act::tanh> limit(3, 1, {.lr = 0.8, .degree = 10});
    const auto Y = widenn::normal_matrix(30, 1, 9);
    for (int t = 0; t < 5; ++t) limit.step(X, Y);
    for (const matrix<double>& K : {limit.hidden_kernel(X), limit.preactivation_kernel(X)}) {
        CHECK(xt::all(xt::equal(K, xt::transpose(K))));
        const auto e = lim::eigh(K);
        double trace = 0;
        for (std::size_t i = 0; i < 30; ++i) trace += K(i, i);
        CHECK(trace > 0);
        CHECK(e.values(0) >= -1e-12 * trace);
    }
    // the rectangular form agrees with the symmetric one
    const matrix<double> top = xt::view(X, xt::range(0, 7), xt::all());
    CHECK(max_abs_diff(limit.hidden_kernel(top, X), xt::eval(xt::view(limit.hidden_kernel(X), xt::range(0, 7), xt::all()))) < 1e-13);
}

TEST_CASE("mup_1hl::hidden_kernel after training: finite nn::mlp μP nets' hidden Gram converges like width^-1/2") {
    using net_t = nn::mlp<param::mup, act::tanh, 1, double>;
    const std::size_t d = 2;
    const matrix<double> X = {{0.9, -0.4}, {-0.3, 1.1}, {0.5, 0.6}, {-1.0, -0.7}};
    const matrix<double> Y = {{0.8}, {-0.6}, {0.3}, {-0.9}};
    const matrix<double> probe = {{0.7, 0.2}, {-0.5, 0.9}, {0.1, -1.2}};
    const double lr = 1.0;
    const int steps = 8;
    net_t shape({.d_in = d, .width = 64, .d_out = 1, .base_width = 1, .bias = false});
    lim::mup_1hl<act::tanh> limit(d, 1, lim::mup_1hl_options_for(shape, lr, lim::loss_kind::mse, 0.0, {.degree = 48}));
    const matrix<double> initial = limit.hidden_kernel(probe);
    for (int t = 0; t < steps; ++t) limit.step(X, Y);
    const matrix<double> target = limit.hidden_kernel(probe);
    const double quadrature = xt::amax(limit.hidden_kernel_error_estimate(probe, probe))();
    const double moved = max_abs_diff(target, initial);

    // rms over seeds of the max deviation of φ(Uξ)·φ(Uξ')/n from the limit, and the mean signed deviation of entry (0, 1)
    const int seeds = 6;
    const auto deviation = [&](std::size_t width, double* mean01) {
        double sum2 = 0, mean = 0;
        for (int s = 0; s < seeds; ++s) {
            net_t net({.d_in = d, .width = width, .d_out = 1, .base_width = 1, .bias = false, .seed = std::uint64_t(100 + s)});
            nn::sgd<net_t> opt(net, {.lr = lr});
            matrix<double> dout;
            for (int t = 0; t < steps; ++t) nn::train_step<nn::mse>(net, opt, X, Y, dout);
            net.forward(probe);
            const matrix<double>& phi = net.post_activation(1);
            const matrix<double> gram = lim::detail::matmul(phi, xt::transpose(phi)) / static_cast<double>(width);
            const double e = max_abs_diff(gram, target);
            sum2 += e * e;
            mean += (gram(0, 1) - target(0, 1)) / seeds;
        }
        if (mean01) *mean01 = mean;
        return std::sqrt(sum2 / seeds);
    };
    double mean14 = 0;
    const double e8 = deviation(1 << 8, nullptr), e14 = deviation(1 << 14, &mean14);
    const double c8 = e8 * std::sqrt(double(1 << 8));
    MESSAGE("tanh, " << steps << " steps: the kernel moved by " << moved << " (quadrature error estimate " << quadrature
                     << "); rms max deviation n = 2^8: " << e8 << " (x sqrt(n) = " << c8 << "), n = 2^14: " << e14
                     << " (x sqrt(n) = " << e14 * 128 << "), mean entry (0,1) deviation at 2^14: " << mean14);
    CHECK(quadrature < 0.05 * e14);
    // the particles moved: the trained kernel is far from the initial one compared with the finite-width fluctuation
    CHECK(moved > 20 * e14);
    // O(n^{-1/2}): e·√n is the same constant at both widths; 6 seeds keep the rms of a chi-type variable within 2x.
    CHECK(e14 < 2.0 * c8 / std::sqrt(double(1 << 14)));
    CHECK(e14 > 0.25 * c8 / std::sqrt(double(1 << 14)));
    // no bias beyond the fluctuation (the mean deviation is O(1/n))
    CHECK(std::abs(mean14) < 5.0 * e14 / std::sqrt(double(seeds)) + 5.0 / double(1 << 14));
}

TEST_CASE("mup_1hl::hidden_kernel: bad input gives clear errors") {
    const matrix<double> X = span2_inputs();
    lim::mup_1hl<act::tanh> limit(X, 1, {.degree = 8});
    CHECK_THROWS_AS(limit.hidden_kernel(widenn::normal_matrix(3, 5, 1)), widenn::shape_error);
    CHECK(message_of([&] { limit.hidden_kernel(X, widenn::normal_matrix(3, 5, 1)); }).find("X2") != std::string::npos);
    CHECK_THROWS_AS(limit.preactivation_kernel(widenn::normal_matrix(3, 3, 1), X), widenn::shape_error);
    CHECK_THROWS_AS(limit.hidden_kernel(matrix<double>(xt::zeros<double>({0, 4}))), widenn::shape_error);
    matrix<double> outside = X;
    outside(2, 0) += 0.5;
    CHECK_THROWS_WITH_AS(limit.hidden_kernel(outside), doctest::Contains("outside the 2-dimensional span"), widenn::shape_error);
    CHECK_THROWS_WITH_AS(limit.hidden_kernel(X, outside), doctest::Contains("mup_1hl::hidden_kernel (X2): input row 2"),
                         widenn::shape_error);
    CHECK_THROWS_AS(limit.preactivation_kernel(outside), widenn::shape_error);
    matrix<double> bad = X;
    bad(1, 3) = NAN;
    CHECK_THROWS_WITH_AS(limit.hidden_kernel(bad), doctest::Contains("non-finite"), widenn::error);
    bad(1, 3) = INFINITY;
    CHECK_THROWS_WITH_AS(limit.hidden_kernel_error_estimate(X, bad), doctest::Contains("non-finite"), widenn::error);
    lim::mup_1hl<act::tanh> no_estimate(X, 1, {.degree = 8, .estimate_error = false});
    CHECK_THROWS_WITH_AS(no_estimate.hidden_kernel_error_estimate(X, X), doctest::Contains("estimate_error = false"), widenn::error);
}
