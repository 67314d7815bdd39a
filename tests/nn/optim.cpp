// Optimizer updates against their closed forms on one step, and clipping.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <type_traits>
#include <vector>

#include <widenn/nn/loss.hpp>
#include <widenn/nn/mlp.hpp>
#include <widenn/nn/optim.hpp>

#include <widenn/act/activations.hpp>

namespace nn = widenn::nn;
namespace param = widenn::param;
using widenn::matrix;
using net_t = nn::mlp<param::mup, widenn::act::tanh, 2, double>;

namespace {

const matrix<double> batch_x = {{0.7, -0.4, 0.9}, {-0.5, 0.8, 0.3}, {0.2, 0.6, -1.1}};
const matrix<double> batch_y = {{0.5, -1.0}, {1.0, 0.2}, {-0.3, 0.8}};

net_t make_net() { return net_t({.d_in = 3, .width = 24, .d_out = 2, .base_width = 8, .bias_var = 0.1, .seed = 4}); }

nn::gradients<double> gradient_of(net_t& net) {
    matrix<double> dout;
    nn::mse::value_and_gradient(net.forward(batch_x), batch_y, dout);
    return net.backward(batch_x, dout);
}

// Applies expected(w, g, scaling) to every entry of a copy of `before` and compares with `after`.
template <class F>
void check_update(const net_t& before, const net_t& after, const nn::gradients<double>& g, F expected) {
    for (int l = 1; l <= 3; ++l) {
        CAPTURE(l);
        for (std::size_t i = 0; i < before.weight(l).size(); ++i)
            REQUIRE(after.weight(l).data()[i] ==
                    doctest::Approx(expected(before.weight(l).data()[i], g.weight(l).data()[i], before.weight_scaling(l))).epsilon(1e-12));
        for (std::size_t i = 0; i < before.bias(l).size(); ++i)
            REQUIRE(after.bias(l).data()[i] ==
                    doctest::Approx(expected(before.bias(l).data()[i], g.bias(l).data()[i], before.bias_scaling(l))).epsilon(1e-12));
    }
}

}  // namespace

TEST_CASE("per-tensor factors are ñ^{-c} (SGD) and ñ^{-c_adam} (Adam) from the policy") {
    const double r = 3.0;  // ñ = 24 / 8
    nn::mlp<param::mup_table3, widenn::act::tanh, 2, double> t3({.d_in = 3, .width = 24, .d_out = 2, .base_width = 8});
    // TP5 Table 3: SGD lr η·fan_out (input), η (hidden), η/fan_in (output); Adam η, η/fan_in, η/fan_in.
    CHECK(t3.weight_scaling(1).sgd_lr == doctest::Approx(r).epsilon(1e-15));
    CHECK(t3.weight_scaling(2).sgd_lr == doctest::Approx(1.0).epsilon(1e-15));
    CHECK(t3.weight_scaling(3).sgd_lr == doctest::Approx(1 / r).epsilon(1e-15));
    CHECK(t3.weight_scaling(1).adam_lr == doctest::Approx(1.0).epsilon(1e-15));
    CHECK(t3.weight_scaling(2).adam_lr == doctest::Approx(1 / r).epsilon(1e-15));
    CHECK(t3.weight_scaling(3).adam_lr == doctest::Approx(1 / r).epsilon(1e-15));
    CHECK(t3.bias_scaling(1).sgd_lr == doctest::Approx(r).epsilon(1e-15));  // hidden biases: like input weights
    CHECK(t3.bias_scaling(3).sgd_lr == 1.0);                               // the readout bias has no infinite dimension
    // Gradient scales under Table 3: ∂L/∂h^l ~ 1/ñ below the readout (its init variance is 1/fan_in²),
    // so input and hidden weight gradients shrink like 1/ñ; the readout's gradient is f' ⊗ x^L = Θ(1).
    CHECK(t3.weight_scaling(1).gradient_scale == doctest::Approx(1 / r).epsilon(1e-15));
    CHECK(t3.weight_scaling(2).gradient_scale == doctest::Approx(1 / r).epsilon(1e-15));
    CHECK(t3.weight_scaling(3).gradient_scale == 1.0);
}

TEST_CASE("SGD: w ← (1 − η wd) w − η·sgd_lr·g, with momentum buf ← μ buf + g + (wd / sgd_lr) w") {
    net_t net = make_net();
    const net_t before = net;
    const auto g = gradient_of(net);
    nn::sgd opt(net, {.lr = 0.05, .weight_decay = 0.1});
    opt.step(g);
    check_update(before, net, g, [](double w, double gi, const nn::tensor_scaling& s) { return (1 - 0.05 * 0.1) * w - 0.05 * s.sgd_lr * gi; });

    // Two momentum steps with the same gradient: buf₁ = d(w₀), w₁ = w₀ − η f buf₁, buf₂ = μ buf₁ + d(w₁).
    net_t m = make_net();
    nn::sgd mopt(m, {.lr = 0.05, .momentum = 0.9, .weight_decay = 0.1});
    mopt.step(g);
    mopt.step(g);
    check_update(before, m, g, [](double w0, double gi, const nn::tensor_scaling& s) {
        const double f = s.sgd_lr, decay = 0.1 / f;
        const double buf1 = gi + decay * w0, w1 = w0 - 0.05 * f * buf1;
        const double buf2 = 0.9 * buf1 + gi + decay * w1;
        return w1 - 0.05 * f * buf2;
    });
}

TEST_CASE("Adam and AdamW: the first step is −η·adam_lr·g/(|g| + ε_l) after decay") {
    net_t net = make_net(), netw = make_net();
    const net_t before = net;
    const auto g = gradient_of(net);
    nn::adam opt(net, {.lr = 1e-2, .eps = 1e-4});
    opt.step(g);
    check_update(before, net, g, [](double w, double gi, const nn::tensor_scaling& s) {
        return w - 1e-2 * s.adam_lr * gi / (std::abs(gi) + 1e-4 * s.gradient_scale);
    });
    nn::adamw optw(netw, {.lr = 1e-2, .eps = 1e-4, .weight_decay = 0.5});
    optw.step(g);
    check_update(before, netw, g, [](double w, double gi, const nn::tensor_scaling& s) {
        return (1 - 1e-2 * 0.5) * w - 1e-2 * s.adam_lr * gi / (std::abs(gi) + 1e-4 * s.gradient_scale);
    });
}

TEST_CASE("clipping scales every gradient by clip / norm when the global norm exceeds clip") {
    net_t net = make_net(), clipped = make_net();
    const net_t before = net;
    const auto g = gradient_of(net);
    double norm2 = 0;
    for (int l = 1; l <= 3; ++l) {
        const double uw = net.weight_scaling(l).gradient_scale, ub = net.bias_scaling(l).gradient_scale;
        for (double v : g.weight(l)) norm2 += v * v / (uw * uw);
        for (double v : g.bias(l)) norm2 += v * v / (ub * ub);
    }
    const double norm = std::sqrt(norm2), clip = 0.25 * norm;
    nn::sgd opt(clipped, {.lr = 0.05, .clip_norm = clip});
    opt.step(g);
    check_update(before, clipped, g, [&](double w, double gi, const nn::tensor_scaling& s) { return w - 0.05 * s.sgd_lr * gi * 0.25; });
    // Below the threshold nothing changes.
    nn::sgd loose(net, {.lr = 0.05, .clip_norm = 2 * norm});
    loose.step(g);
    check_update(before, net, g, [&](double w, double gi, const nn::tensor_scaling& s) { return w - 0.05 * s.sgd_lr * gi; });
}

TEST_CASE("one trainable-tensor vocabulary: adam on nn::parameter copies of a network's tensors equals adam on the network") {
    // At base width (ñ = 1) every tensor_scaling factor of nn::mlp is 1, like an nn::parameter with lr_scale 1, so the two
    // optimisers run the same per-tensor rule on the same numbers and must agree exactly.
    net_t net({.d_in = 3, .width = 8, .d_out = 2, .bias_var = 0.1, .seed = 4});
    std::vector<nn::parameter<double>> copies;
    for (int l = 1; l <= net_t::layers; ++l) {
        copies.emplace_back(std::string("w") + std::to_string(l), net.weight(l).size());
        std::copy(net.weight(l).begin(), net.weight(l).end(), copies.back().value.begin());
        copies.emplace_back(std::string("b") + std::to_string(l), net.bias(l).size());
        std::copy(net.bias(l).begin(), net.bias(l).end(), copies.back().value.begin());
    }
    std::vector<nn::parameter<double>*> pointers;
    for (auto& p : copies) pointers.push_back(&p);
    nn::adam on_net(net, {.lr = 1e-2, .weight_decay = 1e-3});
    nn::adam on_list(pointers, {.lr = 1e-2, .weight_decay = 1e-3});  // deduces adam<parameter_list<double>>
    static_assert(std::is_same_v<decltype(on_list), nn::adam<nn::parameter_list<double>>>);
    const matrix<double> x = widenn::normal_matrix(5, 3, 1), y = widenn::normal_matrix(5, 2, 2);
    matrix<double> dloss;
    for (int step = 0; step < 3; ++step) {
        nn::mse::value_and_gradient(net.forward(x), y, dloss);
        const auto& g = net.backward(x, dloss);
        on_list.zero_grad();
        for (int l = 1; l <= net_t::layers; ++l) {
            std::copy(g.weight(l).begin(), g.weight(l).end(), copies[2 * (l - 1)].grad.begin());
            std::copy(g.bias(l).begin(), g.bias(l).end(), copies[2 * (l - 1) + 1].grad.begin());
        }
        on_net.step(g);
        on_list.step();
    }
    for (int l = 1; l <= net_t::layers; ++l) {
        CHECK(std::equal(net.weight(l).begin(), net.weight(l).end(), copies[2 * (l - 1)].value.begin()));
        CHECK(std::equal(net.bias(l).begin(), net.bias(l).end(), copies[2 * (l - 1) + 1].value.begin()));
    }
    // the parameter list's lr_scale is its per-tensor learning-rate factor (SGD: w -= lr · lr_scale · g)
    nn::parameter<double> p("p", 2);
    p.lr_scale = 0.5;
    p.grad = {1.0, -2.0};
    nn::sgd sgd(std::vector<nn::parameter<double>*>{&p}, {.lr = 0.1});
    sgd.step();
    CHECK(p.value[0] == doctest::Approx(-0.05).epsilon(1e-15));
    CHECK(p.value[1] == doctest::Approx(0.1).epsilon(1e-15));
    p.grad[1] = std::nan("");
    CHECK_THROWS_WITH_AS(sgd.step(), doctest::Contains("gradient of p"), widenn::error);
}
