// nn::network's weight-layer access for any composition (what nn::mlp's users read): views of the parameters and of
// their gradients by weight layer, copies into nn::gradients, the finiteness proof, copies of a network, and the
// optimiser stepping on the network's own gradients equal to the one on its parameter list (clipping included).
#include <doctest/doctest.h>

#include <limits>
#include <type_traits>

#include <widenn/act/activations.hpp>
#include <widenn/core/rng.hpp>
#include <widenn/nn/loss.hpp>
#include <widenn/nn/optim.hpp>
#include <widenn/nn/serial.hpp>

namespace {
namespace wn = widenn;
namespace nn = widenn::nn;
namespace param = widenn::param;
using relu = wn::act::relu;
// conv 3x3 (fan_in 3·3·2 = 18) -> relu -> gap -> dense -> tanh -> readout: three weight layers.
template <class T>
using cnn = nn::network<param::mup, nn::serial<nn::conv<3>, relu, nn::gap, nn::dense, wn::act::tanh>, T>;
template <class T>
cnn<T> make_cnn(std::uint64_t seed = 3) {
    return cnn<T>({.image = {5, 5, 2}, .width = 4, .d_out = 3, .base_width = 2, .bias_var = 0.2, .seed = seed});
}
}  // namespace

TEST_CASE("weight layers of a CNN: sizes, views that write into the parameters, and the gradients by layer") {
    auto net = make_cnn<double>();
    static_assert(cnn<double>::layers == 3);
    CHECK(net.fan_in(1) == 18);
    CHECK(net.fan_out(1) == 4);
    CHECK(net.fan_in(2) == 4);
    CHECK(net.fan_out(3) == 3);
    CHECK(net.weight(1).shape(0) == 4);
    CHECK(net.weight(1).shape(1) == 18);
    CHECK(net.bias(3).size() == 3);
    CHECK(net.parameter_count() == 4 * 18 + 4 + 4 * 4 + 4 + 3 * 4 + 3);
    CHECK_THROWS_AS(net.weight(4), wn::shape_error);
    net.weight(1)(2, 5) = 7.0;
    CHECK(net.weight_parameter(1).value[2 * 18 + 5] == 7.0);
    CHECK(net.multiplier(2) == static_cast<double>(net.weight_scaling(2).multiplier));

    const auto x = wn::normal_matrix<double>(3, 50, 1);
    const auto dout = wn::normal_matrix<double>(3, 3, 2);
    net.forward(x);
    const auto& g = net.backward(x, dout);
    const nn::gradients<double> copy = g;
    nn::gradients<double> mine = net.make_gradients();
    net.backward(x, dout, mine);
    for (int l = 1; l <= 3; ++l) {
        CAPTURE(l);
        const auto& p = net.weight_parameter(l).grad;
        REQUIRE(g.weight(l).size() == p.size());
        CHECK(std::equal(p.begin(), p.end(), g.weight(l).begin()));
        CHECK(std::equal(p.begin(), p.end(), copy.weight(l).begin()));
        CHECK(std::equal(p.begin(), p.end(), mine.weight(l).begin()));
        CHECK(copy.bias(l) == net.bias_gradient(l));
        CHECK(xt::amax(xt::abs(copy.weight(l)))() > 0);
    }
    CHECK(net.certifies_finite(g));
    CHECK_FALSE(net.certifies_finite(copy));
}

TEST_CASE("the finiteness proof fails when the bound would overflow (float)") {
    auto net = make_cnn<float>();
    const auto x = wn::normal_matrix<float>(2, 50, 1);
    net.forward(x);
    wn::matrix<float> dout = xt::zeros<float>({2, 3});
    CHECK(net.certifies_finite(net.backward(x, dout)));
    dout(0, 0) = 3e38f;
    CHECK_FALSE(net.certifies_finite(net.backward(x, dout)));
    // An optimiser then scans the gradients and refuses the infinite ones before changing anything.
    nn::sgd<cnn<float>> opt(net, {.lr = 0.1});
    const std::vector<float> before = net.weight_parameter(1).value;
    bool finite = true;
    for (int l = 1; l <= 3; ++l)
        for (float v : net.weight_gradient(l)) finite = finite && std::isfinite(v);
    if (!finite) {
        CHECK_THROWS_AS(opt.step(net.parameters()), wn::numerical_error);
        CHECK(net.weight_parameter(1).value == before);
    }
}

TEST_CASE("a copy of a network has the same parameters and outputs and is independent; assignment needs equal shapes") {
    auto net = make_cnn<double>();
    net.weight_parameter(2).lr_scale = 0.5;
    const auto x = wn::normal_matrix<double>(3, 50, 1);
    auto c = net;
    CHECK(c.weight(1) == net.weight(1));
    CHECK(c.weight_parameter(2).lr_scale == 0.5);
    CHECK_THROWS_AS(c.backward(x, wn::normal_matrix<double>(3, 3, 2)), wn::error);  // a copy has no forward pass yet
    const wn::matrix<double> a = net.forward(x);
    const wn::matrix<double> b = c.forward(x);
    CHECK(a == b);
    c.weight(1)(0, 0) += 1.0;
    CHECK(c.weight(1) != net.weight(1));
    auto other = make_cnn<double>(8);
    CHECK(other.weight(1) != net.weight(1));
    other = net;
    CHECK(other.forward(x) == a);
    using wider = nn::network<param::mup, nn::serial<nn::conv<3>, relu, nn::gap, nn::dense, wn::act::tanh>, double>;
    wider w({.image = {5, 5, 2}, .width = 6, .d_out = 3, .base_width = 2, .seed = 1});
    CHECK_THROWS_AS(w = net, wn::shape_error);
}

TEST_CASE("SGD and Adam with clipping on the network's own gradients equal the same optimisers on its parameter list") {
    // μP at width 4 over base width 2: gradient_scale != 1, so the clipping norm's per-tensor units matter.
    auto a = make_cnn<double>(), b = make_cnn<double>();
    const auto x = wn::normal_matrix<double>(4, 50, 5);
    const xt::xtensor<int, 1> labels = {0, 2, 1, 2};
    wn::matrix<double> da, db;
    nn::adam<cnn<double>> on_net(a, {.lr = 1e-2, .clip_norm = 0.05});
    nn::adam on_list(b.parameters(), {.lr = 1e-2, .clip_norm = 0.05});
    nn::sgd<cnn<double>> sgd_net(a, {.lr = 0.1, .momentum = 0.9, .clip_norm = 0.05});
    nn::sgd sgd_list(b.parameters(), {.lr = 0.1, .momentum = 0.9, .clip_norm = 0.05});
    for (int t = 0; t < 3; ++t) {
        nn::softmax_cross_entropy::value_and_gradient(a.forward(x), labels, da);
        on_net.step(a.backward(x, da));
        nn::softmax_cross_entropy::value_and_gradient(b.forward(x), labels, db);
        b.backward(x, db);
        on_list.step();
        nn::softmax_cross_entropy::value_and_gradient(a.forward(x), labels, da);
        sgd_net.step(a.backward(x, da));
        nn::softmax_cross_entropy::value_and_gradient(b.forward(x), labels, db);
        b.backward(x, db);
        sgd_list.step();
    }
    for (int l = 1; l <= 3; ++l) {
        CAPTURE(l);
        CHECK(a.weight(l) == b.weight(l));
        CHECK(a.bias(l) == b.bias(l));
    }
    // An optimiser built on one network refuses another network's gradients.
    CHECK_THROWS_AS(on_net.step(b.parameters()), wn::error);
}
