// Learning-rate schedules at their ends and turning points, cosine power annealing against sharpDARTS'
// definition (Hundt, Jain & Hager 2019) to 1e-12, bad bounds, and driving an optimiser from outside.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

#include <widenn/act/activations.hpp>
#include <widenn/nn/loss.hpp>
#include <widenn/nn/mlp.hpp>
#include <widenn/nn/optim.hpp>
#include <widenn/nn/schedule.hpp>

namespace nn = widenn::nn;

namespace {

// sharpDARTS' cosine power annealing written the way the paper describes it: the whole array of epochs
// 1..E, shifted by the warm-up, the power curve min/max normalised over the array, then the warm-up
// entries overwritten by e/W, then scaled to [min_lr, max_lr].
std::vector<double> reference_cosine_power(std::size_t epochs, double max_lr, double min_lr, double p, std::size_t warmup) {
    std::vector<double> f(epochs);
    const double span = static_cast<double>(epochs - warmup);
    for (std::size_t i = 0; i < epochs; ++i) {
        const double e = static_cast<double>(i + 1) - static_cast<double>(warmup);
        const double c = (1 + std::cos(std::numbers::pi * e / span)) / 2;
        f[i] = p == 1 ? c : std::pow(p, c + 1);
    }
    const double lo = *std::min_element(f.begin(), f.end()), hi = *std::max_element(f.begin(), f.end());
    std::vector<double> out(epochs);
    for (std::size_t i = 0; i < epochs; ++i) {
        double s = (f[i] - lo) / (hi - lo);
        if (i < warmup) s = static_cast<double>(i + 1) / static_cast<double>(warmup);
        out[i] = s * (max_lr - min_lr) + min_lr;
    }
    return out;
}

constexpr double tol = 1e-12;

}  // namespace

TEST_CASE("constant: max_lr everywhere, linear warm-up from min_lr to max_lr") {
    const nn::constant_schedule s({.epochs = 5, .max_lr = 0.3, .min_lr = 0.1});
    for (std::size_t e = 1; e <= 5; ++e) CHECK(s(e) == 0.3);
    const nn::constant_schedule w({.epochs = 6, .max_lr = 0.5, .min_lr = 0.1, .warmup = 4});
    CHECK(w(1) == doctest::Approx(0.2).epsilon(tol));
    CHECK(w(2) == doctest::Approx(0.3).epsilon(tol));
    CHECK(w(4) == doctest::Approx(0.5).epsilon(tol));  // the warm-up ends at max_lr
    CHECK(w(5) == 0.5);
    CHECK(w(6) == 0.5);
}

TEST_CASE("step: drops by gamma every s epochs after the warm-up, floored at min_lr") {
    const nn::step_schedule s({.epochs = 10, .max_lr = 1.0, .min_lr = 0.05}, 3, 0.5);
    CHECK(s(1) == 1.0);
    CHECK(s(3) == 1.0);   // last epoch before the first turning point
    CHECK(s(4) == 0.5);   // turning point
    CHECK(s(7) == 0.25);
    CHECK(s(10) == 0.125);
    const nn::step_schedule floor({.epochs = 20, .max_lr = 1.0, .min_lr = 0.1}, 2, 0.5);
    CHECK(floor(7) == 0.125);  // 0.5^3
    CHECK(floor(9) == 0.1);    // 0.5^4 = 0.0625 < min_lr
    CHECK(floor(20) == 0.1);
    const nn::step_schedule warm({.epochs = 8, .max_lr = 1.0, .min_lr = 0.0, .warmup = 2}, 3, 0.1);
    CHECK(warm(2) == 1.0);
    CHECK(warm(3) == 1.0);
    CHECK(warm(6) == doctest::Approx(0.1).epsilon(tol));
}

TEST_CASE("cosine: max_lr at the first epoch, the mean at the middle, min_lr at the last") {
    const nn::cosine_schedule s({.epochs = 11, .max_lr = 0.9, .min_lr = 0.1});
    CHECK(s(1) == doctest::Approx(0.9).epsilon(tol));
    CHECK(s(6) == doctest::Approx(0.5).epsilon(tol));
    CHECK(s(11) == doctest::Approx(0.1).epsilon(tol));
    CHECK(s(3) == doctest::Approx(0.1 + 0.8 * (1 + std::cos(std::numbers::pi * 0.2)) / 2).epsilon(tol));
    for (std::size_t e = 2; e <= 11; ++e) CHECK(s(e) < s(e - 1));
    const nn::cosine_schedule warm({.epochs = 13, .max_lr = 0.9, .min_lr = 0.1, .warmup = 2});
    CHECK(warm(1) == doctest::Approx(0.5).epsilon(tol));
    CHECK(warm(2) == doctest::Approx(0.9).epsilon(tol));
    CHECK(warm(3) == doctest::Approx(0.9).epsilon(tol));
    CHECK(warm(8) == doctest::Approx(0.5).epsilon(tol));
    CHECK(warm(13) == doctest::Approx(0.1).epsilon(tol));
    CHECK(nn::cosine_schedule({.epochs = 1, .max_lr = 0.4})(1) == 0.4);
}

TEST_CASE("cosine power annealing equals sharpDARTS' definition to 1e-12, with and without warm-up") {
    struct cfg {
        std::size_t epochs;
        double max_lr, min_lr, p;
        std::size_t warmup;
    };
    for (const cfg c : {cfg{100, 0.8, 0.02, 10, 0}, cfg{100, 0.8, 0.02, 10, 5}, cfg{7, 0.1, 1e-4, 2, 0}, cfg{7, 0.1, 1e-4, 2, 3},
                        cfg{30, 1.0, 0.0, 1, 0}, cfg{30, 1.0, 0.0, 1, 4}, cfg{12, 0.5, 0.5, 10, 0}, cfg{9, 0.2, 0.01, 10, 7}}) {
        CAPTURE(c.epochs);
        CAPTURE(c.p);
        CAPTURE(c.warmup);
        const nn::cosine_power_schedule s({.epochs = c.epochs, .max_lr = c.max_lr, .min_lr = c.min_lr, .warmup = c.warmup}, c.p);
        const auto ref = reference_cosine_power(c.epochs, c.max_lr, c.min_lr, c.p, c.warmup);
        for (std::size_t e = 1; e <= c.epochs; ++e) {
            CAPTURE(e);
            CHECK(std::abs(s(e) - ref[e - 1]) <= tol * std::max(1.0, std::abs(ref[e - 1])));
        }
    }
}

TEST_CASE("cosine power annealing: closed forms at the ends and turning points") {
    const double mx = 0.8, mn = 0.02, p = 10;
    const nn::cosine_power_schedule s({.epochs = 100, .max_lr = mx, .min_lr = mn}, p);
    CHECK(s(1) == doctest::Approx(mx).epsilon(tol));
    CHECK(s(100) == doctest::Approx(mn).epsilon(tol));
    // Without warm-up: s(e) = (p^{c(e)+1} − p) / (p^{c(1)+1} − p), c(e) = (1 + cos(π e/E))/2.
    auto c = [](double e, double span) { return (1 + std::cos(std::numbers::pi * e / span)) / 2; };
    for (double e : {2.0, 50.0, 99.0}) {
        const double expected = mn + (mx - mn) * (std::pow(p, c(e, 100) + 1) - p) / (std::pow(p, c(1, 100) + 1) - p);
        CHECK(s(static_cast<std::size_t>(e)) == doctest::Approx(expected).epsilon(tol));
    }
    // With warm-up W = 5: linear up to max_lr at e = W, then (p^{c(e−W)+1} − p)/(p² − p) over E' = 95 epochs.
    const nn::cosine_power_schedule w({.epochs = 100, .max_lr = mx, .min_lr = mn, .warmup = 5}, p);
    CHECK(w(1) == doctest::Approx(mn + (mx - mn) / 5).epsilon(tol));
    CHECK(w(5) == doctest::Approx(mx).epsilon(tol));
    for (double e : {6.0, 40.0, 100.0}) {
        const double expected = mn + (mx - mn) * (std::pow(p, c(e - 5, 95) + 1) - p) / (p * p - p);
        CHECK(w(static_cast<std::size_t>(e)) == doctest::Approx(expected).epsilon(tol));
    }
    CHECK(w(6) < mx);
    CHECK(w(100) == doctest::Approx(mn).epsilon(tol));
    // Decreasing after the warm-up; a larger exponent decays faster at the start.
    for (std::size_t e = 7; e <= 100; ++e) CHECK(w(e) < w(e - 1));
    const nn::cosine_power_schedule gentle({.epochs = 100, .max_lr = mx, .min_lr = mn}, 2);
    CHECK(s(20) < gentle(20));
    // p = 1 is cosine annealing sampled at e/E, normalised by its first value.
    const nn::cosine_power_schedule one({.epochs = 20, .max_lr = 1, .min_lr = 0}, 1);
    CHECK(one(10) == doctest::Approx(c(10, 20) / c(1, 20)).epsilon(tol));
    CHECK(nn::cosine_power_schedule({.epochs = 1, .max_lr = 0.3})(1) == 0.3);
}

TEST_CASE("schedules reject bad bounds, warm-ups, exponents and epochs") {
    using E = widenn::error;
    CHECK_THROWS_AS(nn::cosine_schedule({.epochs = 10, .max_lr = 0.1, .min_lr = -0.01}), E);   // negative
    CHECK_THROWS_AS(nn::cosine_schedule({.epochs = 10, .max_lr = 0.1, .min_lr = 0.2}), E);     // inverted
    CHECK_THROWS_AS(nn::constant_schedule({.epochs = 10, .max_lr = 0.0}), E);
    CHECK_THROWS_AS(nn::constant_schedule({.epochs = 10, .max_lr = -1.0}), E);
    CHECK_THROWS_AS(nn::constant_schedule({.epochs = 10, .max_lr = std::nan("")}), E);
    CHECK_THROWS_AS(nn::constant_schedule({.epochs = 0, .max_lr = 0.1}), E);
    CHECK_THROWS_AS(nn::cosine_power_schedule({.epochs = 10, .max_lr = 0.1, .warmup = 10}), E);
    CHECK_THROWS_AS(nn::cosine_power_schedule({.epochs = 10, .max_lr = 0.1}, 0.5), E);
    CHECK_THROWS_AS(nn::step_schedule({.epochs = 10, .max_lr = 0.1}, 0, 0.5), E);
    CHECK_THROWS_AS(nn::step_schedule({.epochs = 10, .max_lr = 0.1}, 2, 1.5), E);
    const nn::cosine_schedule s({.epochs = 10, .max_lr = 0.1});
    CHECK_THROWS_AS(s(0), widenn::shape_error);
    CHECK_THROWS_AS(s(11), widenn::shape_error);
    try {
        nn::cosine_schedule({.epochs = 10, .max_lr = 0.1, .min_lr = 0.2});
    } catch (const E& e) {
        CHECK(std::string(e.what()).find("min_lr must be <= max_lr") != std::string::npos);
    }
}

TEST_CASE("scheduled drives an optimiser's rate from outside; a zero rate is a no-op step") {
    using net_t = nn::mlp<widenn::param::mup, widenn::act::tanh, 1, double>;
    net_t net({.d_in = 2, .width = 8, .d_out = 1, .seed = 3});
    nn::sgd opt(net, {.lr = 1.0});
    nn::scheduled driver(opt, nn::cosine_schedule({.epochs = 3, .max_lr = 0.2, .min_lr = 0.0}));
    CHECK(driver.at(1) == doctest::Approx(0.2));
    CHECK(opt.config().lr == doctest::Approx(0.2));
    CHECK(driver.at(2) == doctest::Approx(0.1));
    CHECK(opt.config().lr == doctest::Approx(0.1));
    const widenn::matrix<double> x = {{0.3, -0.7}}, y = {{0.4}};
    widenn::matrix<double> dout;
    nn::mse::value_and_gradient(net.forward(x), y, dout);
    const auto& g = net.backward(x, dout);
    CHECK(driver.at(3) == 0.0);
    const widenn::matrix<double> before = net.weight(1);
    driver.step(g);
    CHECK(net.weight(1) == before);
    CHECK(opt.config().lr == doctest::Approx(0.1));  // the optimiser kept its last positive rate
    driver.at(2);
    driver.step(g);
    CHECK(net.weight(1) != before);
}
