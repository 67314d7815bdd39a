// Exact identities of the parametrization (up to round-off): TP4's per-layer symmetry (param::mup,
// param::mup_table3 and param::mup_package train identically under SGD and, with ε scaled, under Adam), μP equals SP
// at the base width (TP5), and the base-width form's effective variances and learning rates.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include <widenn/nn/loss.hpp>
#include <widenn/nn/mlp.hpp>
#include <widenn/nn/optim.hpp>

#include <widenn/act/activations.hpp>

namespace nn = widenn::nn;
namespace param = widenn::param;
using widenn::matrix;

namespace {

const matrix<double> batch_x = {{0.7, -0.4, 0.9}, {-0.5, 0.8, 0.3}, {0.2, 0.6, -1.1}, {1.0, -0.9, 0.1}, {-0.3, -0.2, 0.5}};
const matrix<double> batch_y = {{0.5, -1.0}, {1.0, 0.2}, {-0.3, 0.8}, {0.1, 0.4}, {0.9, -0.6}};

nn::mlp_config config(std::size_t width, std::size_t base_width) {
    return {.d_in = 3, .width = width, .d_out = 2, .base_width = base_width, .bias_var = 0.1, .seed = 7};
}

// Outputs on the batch after each of `steps` optimizer steps (MSE, full batch).
template <class Net, class Opt>
std::vector<matrix<double>> trajectory(Net& net, Opt& opt, int steps) {
    std::vector<matrix<double>> outputs;
    matrix<double> dout;
    for (int t = 0; t < steps; ++t) {
        nn::mse::value_and_gradient(net.forward(batch_x), batch_y, dout);
        opt.step(net.backward(batch_x, dout));
        outputs.push_back(net.forward(batch_x));
    }
    return outputs;
}

double max_relative_difference(const std::vector<matrix<double>>& a, const std::vector<matrix<double>>& b) {
    REQUIRE(a.size() == b.size());
    double worst = 0;
    for (std::size_t t = 0; t < a.size(); ++t) {
        double scale = 0;
        for (double v : a[t]) scale = std::max(scale, std::abs(v));
        REQUIRE(scale > 0);
        for (std::size_t i = 0; i < a[t].size(); ++i) worst = std::max(worst, std::abs(a[t].data()[i] - b[t].data()[i]) / scale);
    }
    return worst;
}

// The output moved: a trajectory that stays put would make the comparisons vacuous.
double movement(const std::vector<matrix<double>>& a) {
    double d = 0;
    for (std::size_t i = 0; i < a.front().size(); ++i) d = std::max(d, std::abs(a.back().data()[i] - a.front().data()[i]));
    return d;
}

}  // namespace

TEST_CASE("param::mup, param::mup_table3 and param::mup_package give the same SGD trajectory (per-layer symmetry, TP4 §2)") {
    for (auto sgd_config : {nn::sgd_config{.lr = 0.05}, nn::sgd_config{.lr = 0.05, .momentum = 0.9, .weight_decay = 1e-2},
                            nn::sgd_config{.lr = 0.05, .clip_norm = 0.1}}) {
        nn::mlp<param::mup, widenn::act::tanh, 2, double> a(config(96, 16));
        nn::mlp<param::mup_table3, widenn::act::tanh, 2, double> b(config(96, 16));
        nn::mlp<param::mup_package, widenn::act::tanh, 2, double> c(config(96, 16));
        nn::sgd oa(a, sgd_config);
        nn::sgd ob(b, sgd_config);
        nn::sgd oc(c, sgd_config);
        const auto ta = trajectory(a, oa, 25);
        const auto tb = trajectory(b, ob, 25);
        const auto tc = trajectory(c, oc, 25);
        CHECK(movement(ta) > 1e-2);
        CHECK(max_relative_difference(ta, tb) < 1e-12);
        CHECK(max_relative_difference(ta, tc) < 1e-12);
    }
}

TEST_CASE("param::mup_package is the mup package's form: readout multiplier 1/fan_in, width-independent readout init") {
    // TP5 Table 8 in the base-width form: at width 96 over base 16 (ñ = 6) the readout multiplier is 1/ñ, its initial
    // std that of the base model, its SGD rate η·ñ and its Adam rate η; a mistaken exponent changes one of these by ñ^{±1/2}.
    nn::mlp<param::mup_package, widenn::act::tanh, 2, double> net(config(96, 16));
    const auto& readout = net.weight_scaling(3);
    const double sigma = std::sqrt(1.0 / 16.0);
    CHECK(readout.multiplier == doctest::Approx(1.0 / 6.0).epsilon(1e-14));
    CHECK(readout.init_std == doctest::Approx(sigma).epsilon(1e-14));
    CHECK(readout.sgd_lr == doctest::Approx(6.0).epsilon(1e-14));
    CHECK(readout.adam_lr == doctest::Approx(1.0).epsilon(1e-14));
}

TEST_CASE("param::mup, param::mup_table3 and param::mup_package give the same Adam trajectory when ε is scaled per tensor") {
    // ε = 1e-3 is comparable to the gradients here, so ε matters: with the per-tensor scaling the
    // trajectories agree to round-off; with one fixed ε they do not.
    for (bool decoupled : {false, true}) {
        const nn::adam_config scaled{.lr = 1e-2, .eps = 1e-3, .weight_decay = 1e-2};
        nn::adam_config fixed = scaled;
        fixed.scale_epsilon = false;
        auto run = [&](auto& net, const nn::adam_config& c) {
            if (decoupled) {
                nn::adamw opt(net, c);
                return trajectory(net, opt, 20);
            }
            nn::adam opt(net, c);
            return trajectory(net, opt, 20);
        };
        nn::mlp<param::mup, widenn::act::tanh, 2, double> a(config(96, 16)), a2(config(96, 16));
        nn::mlp<param::mup_table3, widenn::act::tanh, 2, double> b(config(96, 16)), b2(config(96, 16));
        nn::mlp<param::mup_package, widenn::act::tanh, 2, double> c(config(96, 16));
        const auto ta = run(a, scaled), tb = run(b, scaled), tc = run(c, scaled);
        CHECK(movement(ta) > 1e-2);
        CHECK(max_relative_difference(ta, tb) < 1e-12);
        CHECK(max_relative_difference(ta, tc) < 1e-12);
        CHECK(max_relative_difference(run(a2, fixed), run(b2, fixed)) > 1e-6);
    }
}

TEST_CASE("μP equals the standard parametrization at width = base width (TP5)") {
    // At ñ = 1 every factor is exactly 1, so the trajectories agree bit for bit.
    nn::mlp<param::mup, widenn::act::gelu, 3, double> mup(config(40, 40));
    nn::mlp<param::standard_lr_1_over_n, widenn::act::gelu, 3, double> sp(config(40, 40));
    nn::mlp<param::allow_unstable<param::standard>, widenn::act::gelu, 3, double> sp_torch(config(40, 40));
    nn::sgd o1(mup, {.lr = 0.1, .momentum = 0.5});
    nn::sgd o2(sp, {.lr = 0.1, .momentum = 0.5});
    nn::sgd o3(sp_torch, {.lr = 0.1, .momentum = 0.5});
    const auto t1 = trajectory(mup, o1, 10), t2 = trajectory(sp, o2, 10), t3 = trajectory(sp_torch, o3, 10);
    CHECK(movement(t1) > 1e-2);
    CHECK(max_relative_difference(t1, t2) == 0.0);
    CHECK(max_relative_difference(t1, t3) == 0.0);
    // Adam too.
    nn::mlp<param::mup, widenn::act::gelu, 3, double> mup_a(config(40, 40));
    nn::mlp<param::standard_lr_1_over_n, widenn::act::gelu, 3, double> sp_a(config(40, 40));
    nn::adam a1(mup_a, {.lr = 1e-2});
    nn::adam a2(sp_a, {.lr = 1e-2});
    CHECK(max_relative_difference(trajectory(mup_a, a1, 10), trajectory(sp_a, a2, 10)) == 0.0);
}

TEST_CASE("the base-width form of μP: effective variances and learning rates (docs/theory/abc-parametrization.md §5)") {
    // W¹: σ²/d, lr η ñ;  W²: σ²/n, lr η;  W³: σ²/(n ñ), lr η/ñ;  Adam: η, η/ñ, η/ñ (per unit η on W).
    const double var = 1.7, d = 3, n = 96, n0 = 16, r = n / n0;
    nn::mlp<param::mup, widenn::act::tanh, 2, double> net({.d_in = 3, .width = 96, .d_out = 2, .base_width = 16, .weight_var = var});
    auto effective_var = [&](int l) { const auto& s = net.weight_scaling(l); return s.multiplier * s.multiplier * s.init_std * s.init_std; };
    auto effective_sgd = [&](int l) { const auto& s = net.weight_scaling(l); return s.multiplier * s.multiplier * s.sgd_lr; };
    auto effective_adam = [&](int l) { const auto& s = net.weight_scaling(l); return s.multiplier * s.adam_lr; };
    CHECK(effective_var(1) == doctest::Approx(var / d).epsilon(1e-14));
    CHECK(effective_var(2) == doctest::Approx(var / n).epsilon(1e-14));
    CHECK(effective_var(3) == doctest::Approx(var / (n * r)).epsilon(1e-14));
    CHECK(effective_sgd(1) == doctest::Approx(r).epsilon(1e-14));
    CHECK(effective_sgd(2) == doctest::Approx(1.0).epsilon(1e-14));
    CHECK(effective_sgd(3) == doctest::Approx(1 / r).epsilon(1e-14));
    CHECK(effective_adam(1) == doctest::Approx(1.0).epsilon(1e-14));
    CHECK(effective_adam(2) == doctest::Approx(1 / r).epsilon(1e-14));
    CHECK(effective_adam(3) == doctest::Approx(1 / r).epsilon(1e-14));
    // The sample variance of the initial W² agrees with σ²/n (n² = 9216 draws: 5 standard errors of
    // a variance estimate are 5·√(2/9216) ≈ 7% relative).
    const auto& w = net.weight(2);
    double s2 = 0;
    for (double v : w) s2 += v * v;
    CHECK(s2 / static_cast<double>(w.size()) * net.multiplier(2) * net.multiplier(2) == doctest::Approx(var / n).epsilon(5 * std::sqrt(2.0 / 9216)));
}

TEST_CASE("constants in the multipliers with param::ntk is neural-tangents' NTK parametrization") {
    // W^l = σ/√fan_in · w, w ~ N(0, 1), learning-rate factor 1 on every tensor; bias b = σ_b β, β ~ N(0, 1).
    nn::mlp<param::ntk, widenn::act::erf<>, 2, double> net(
        {.d_in = 5, .width = 300, .d_out = 2, .base_width = 30, .weight_var = 2.0, .bias_var = 0.25, .constants = nn::constants_in::multiplier});
    for (int l = 1; l <= 3; ++l) {
        const double fan_in = l == 1 ? 5.0 : 300.0;
        CHECK(net.weight_scaling(l).multiplier == doctest::Approx(std::sqrt(2.0 / fan_in)).epsilon(1e-14));
        CHECK(net.weight_scaling(l).init_std == 1.0);
        CHECK(net.weight_scaling(l).sgd_lr == 1.0);
        CHECK(net.bias_scaling(l).multiplier == doctest::Approx(0.5).epsilon(1e-14));
        CHECK(net.bias_scaling(l).init_std == 1.0);
        CHECK(net.bias_scaling(l).sgd_lr == 1.0);
    }
}
