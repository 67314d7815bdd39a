// The empirical NTK: it predicts one SGD step to first order, it is symmetric, equal for equivalent
// parametrizations, and at large width it matches the infinite-width NTK (closed form for ReLU).
#include <doctest/doctest.h>

#include <cmath>
#include <numbers>

#include <widenn/nn/loss.hpp>
#include <widenn/nn/mlp.hpp>
#include <widenn/nn/ntk.hpp>
#include <widenn/nn/optim.hpp>

#include <widenn/act/activations.hpp>

namespace nn = widenn::nn;
namespace param = widenn::param;
using widenn::matrix;

namespace {

const matrix<double> train_x = {{0.7, -0.4, 0.9}, {-0.5, 0.8, 0.3}, {0.2, 0.6, -1.1}, {1.0, -0.9, 0.1}, {-0.3, -0.2, 0.5}};
const matrix<double> train_y = {{0.5, -1.0}, {1.0, 0.2}, {-0.3, 0.8}, {0.1, 0.4}, {0.9, -0.6}};
const matrix<double> test_x = {{0.3, 0.3, -0.3}, {-1.0, 0.1, 0.4}, {0.6, -0.7, -0.2}, {0.0, 0.9, 0.8}};

// ‖Δf − (−η Θ ∇_f L)‖ / ‖η Θ ∇_f L‖ on the test batch after one SGD step of rate η on the training batch.
template <class P>
double one_step_error(double lr, nn::constants_in constants) {
    nn::mlp<P, widenn::act::tanh, 2, double> net(
        {.d_in = 3, .width = 64, .d_out = 2, .base_width = 16, .bias_var = 0.1, .constants = constants, .seed = 5});
    const matrix<double> before = net.forward(test_x);
    matrix<double> dout;
    nn::mse::value_and_gradient(net.forward(train_x), train_y, dout);
    const matrix<double> theta = nn::empirical_ntk(net, test_x, train_x);
    nn::sgd opt(net, {.lr = lr});
    opt.step(net.backward(train_x, dout));
    const matrix<double> after = net.forward(test_x);
    double err2 = 0, norm2 = 0;
    for (std::size_t r = 0; r < theta.shape(0); ++r) {
        double predicted = 0;
        for (std::size_t c = 0; c < theta.shape(1); ++c) predicted -= lr * theta(r, c) * dout.data()[c];
        const double actual = after.data()[r] - before.data()[r];
        err2 += (actual - predicted) * (actual - predicted);
        norm2 += predicted * predicted;
    }
    REQUIRE(norm2 > 0);
    return std::sqrt(err2 / norm2);
}

}  // namespace

TEST_CASE("the empirical NTK predicts one small SGD step to first order (lr factors included)") {
    for (auto constants : {nn::constants_in::init, nn::constants_in::multiplier}) {
        // The remainder is O(η²) while the prediction is O(η): the relative error is linear in η.
        const double e1 = one_step_error<param::mup>(1e-3, constants);
        const double e2 = one_step_error<param::mup>(5e-4, constants);
        CHECK(e1 < 1e-2);
        CHECK(e1 / e2 == doctest::Approx(2.0).epsilon(0.1));
        const double n1 = one_step_error<param::ntk>(1e-3, constants);
        const double n2 = one_step_error<param::ntk>(5e-4, constants);
        CHECK(n1 < 1e-2);
        CHECK(n1 / n2 == doctest::Approx(2.0).epsilon(0.1));
    }
}

TEST_CASE("the empirical NTK is symmetric and the same for mup and mup_table3") {
    nn::mlp<param::mup, widenn::act::gelu, 2, double> a({.d_in = 3, .width = 32, .d_out = 2, .base_width = 8, .bias_var = 0.1, .seed = 3});
    nn::mlp<param::mup_table3, widenn::act::gelu, 2, double> b({.d_in = 3, .width = 32, .d_out = 2, .base_width = 8, .bias_var = 0.1, .seed = 3});
    const matrix<double> ta = nn::empirical_ntk(a, train_x, train_x);
    const matrix<double> tb = nn::empirical_ntk(b, train_x, train_x);
    REQUIRE(ta.shape(0) == 10);
    REQUIRE(ta.shape(1) == 10);
    double scale = 0;
    for (double v : ta) scale = std::max(scale, std::abs(v));
    REQUIRE(scale > 0);
    for (std::size_t r = 0; r < 10; ++r)
        for (std::size_t c = 0; c < 10; ++c) {
            CHECK(std::abs(ta(r, c) - ta(c, r)) <= 1e-13 * scale);
            CHECK(std::abs(ta(r, c) - tb(r, c)) <= 1e-12 * scale);
        }
}

TEST_CASE("empirical NTK of a wide ReLU net (NTK parametrization) matches the infinite-width NTK") {
    // One hidden layer, no bias, constants in the multipliers: f = σ/√n w²·relu(σ/√d w¹ξ). Then
    // E[Θ_n] equals the limit at every width: Θ = σ² κ₁(Σ¹) + σ² κ₀(Σ¹) Σ¹(ξ, ξ') with Σ¹ = σ² ξ·ξ'/d and
    // the arc-cosine kernels κ₁ = √(q q')(sin θ + (π − θ) cos θ)/(2π), κ₀ = (π − θ)/(2π) (Cho & Saul 2009).
    const double var = 2.0;
    const matrix<double> x = {{1.0, 0.5, -0.3}, {-0.2, 0.9, 0.6}, {0.8, -0.4, 1.1}};
    auto sigma1 = [&](std::size_t i, std::size_t j) {
        double s = 0;
        for (std::size_t c = 0; c < 3; ++c) s += x(i, c) * x(j, c);
        return var * s / 3.0;
    };
    constexpr int seeds = 12;
    double sum[3][3] = {}, sum2[3][3] = {};
    for (int s = 0; s < seeds; ++s) {
        nn::mlp<param::ntk, widenn::act::relu, 1, double> net(
            {.d_in = 3, .width = 2048, .d_out = 1, .bias = false, .weight_var = var, .constants = nn::constants_in::multiplier,
             .seed = static_cast<std::uint64_t>(100 + s)});
        const matrix<double> theta = nn::empirical_ntk(net, x, x);
        for (std::size_t i = 0; i < 3; ++i)
            for (std::size_t j = 0; j < 3; ++j) {
                sum[i][j] += theta(i, j);
                sum2[i][j] += theta(i, j) * theta(i, j);
            }
    }
    for (std::size_t i = 0; i < 3; ++i)
        for (std::size_t j = 0; j < 3; ++j) {
            const double q = sigma1(i, i), qp = sigma1(j, j), c = sigma1(i, j);
            const double angle = std::acos(std::clamp(c / std::sqrt(q * qp), -1.0, 1.0));
            const double k1 = std::sqrt(q * qp) * (std::sin(angle) + (std::numbers::pi - angle) * std::cos(angle)) / (2 * std::numbers::pi);
            const double k0 = (std::numbers::pi - angle) / (2 * std::numbers::pi);
            const double limit = var * k1 + var * k0 * c;
            const double mean = sum[i][j] / seeds;
            const double sd = std::sqrt(std::max(0.0, sum2[i][j] / seeds - mean * mean) * seeds / (seeds - 1));
            CAPTURE(i);
            CAPTURE(j);
            CAPTURE(limit);
            CHECK(std::abs(mean - limit) < 5 * sd / std::sqrt(double(seeds)));
            CHECK(sd < 0.1 * limit);  // the fluctuation is O(1/√n) at n = 2048
        }
}

TEST_CASE("the empirical NTK of a float network agrees with the double network of the same seed") {
    const nn::mlp_config config{.d_in = 3, .width = 48, .d_out = 2, .base_width = 16, .bias_var = 0.1, .seed = 8};
    nn::mlp<param::mup, widenn::act::erf<>, 2, float> f(config);
    nn::mlp<param::mup, widenn::act::erf<>, 2, double> d(config);
    const matrix<float> xf = xt::cast<float>(train_x);
    const matrix<double> tf = nn::empirical_ntk(f, xf, xf);
    const matrix<double> td = nn::empirical_ntk(d, xt::eval(xt::cast<double>(xf)), xt::eval(xt::cast<double>(xf)));
    double scale = 0;
    for (double v : td) scale = std::max(scale, std::abs(v));
    // The float net's parameters are the double ones rounded to float: relative change ~1e-7 per entry.
    for (std::size_t i = 0; i < td.size(); ++i) CHECK(std::abs(tf.data()[i] - td.data()[i]) <= 1e-5 * scale);
}
