// Bad input: the exception names the function and the offending shape or value, and a failed
// training step leaves the parameters (and optimizer state) unchanged.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>

#include <widenn/nn/loss.hpp>
#include <widenn/nn/mlp.hpp>
#include <widenn/nn/optim.hpp>

#include <widenn/act/activations.hpp>

#include "../error_messages.hpp"

namespace nn = widenn::nn;
namespace param = widenn::param;
using widenn::matrix;
using net_t = nn::mlp<param::mup, widenn::act::relu, 2, float>;

namespace {

net_t make_net() { return net_t({.d_in = 3, .width = 16, .d_out = 4, .base_width = 8, .bias_var = 0.1, .seed = 9}); }

bool same_parameters(const net_t& a, const net_t& b) {
    for (int l = 1; l <= 3; ++l)
        if (a.weight(l) != b.weight(l) || a.bias(l) != b.bias(l)) return false;
    return true;
}

// One cross-entropy training step, as a user writes it.
template <class Opt>
void train_step(net_t& net, Opt& opt, const matrix<float>& x, const xt::xtensor<int, 1>& labels) {
    matrix<float> dout;
    nn::softmax_cross_entropy::value_and_gradient(net.forward(x), labels, dout);
    opt.step(net.backward(x, dout));
}

using widenn_test::contains;
using widenn_test::message_of;

const matrix<float> good_x = {{0.5f, -0.2f, 0.1f}, {0.3f, 0.8f, -0.6f}};
const xt::xtensor<int, 1> good_labels = {1, 3};

}  // namespace

TEST_CASE("a shape mismatch names the function and both shapes; parameters unchanged") {
    net_t net = make_net();
    const net_t saved = net;
    nn::sgd opt(net, {.lr = 0.1, .momentum = 0.9});
    const matrix<float> wrong = xt::zeros<float>({2, 5});
    const std::string m = message_of([&] { train_step(net, opt, wrong, good_labels); });
    CHECK(contains(m, "nn::network::forward"));
    CHECK(contains(m, "* x 3"));
    CHECK(contains(m, "got 2 x 5"));
    CHECK_THROWS_AS(train_step(net, opt, wrong, good_labels), widenn::shape_error);
    CHECK(same_parameters(net, saved));

    const xt::xtensor<int, 1> three_labels = {0, 1, 2};
    const std::string m2 = message_of([&] { train_step(net, opt, good_x, three_labels); });
    CHECK(contains(m2, "nn::softmax_cross_entropy"));
    CHECK(contains(m2, "expected 2 labels"));
    CHECK(contains(m2, "got 3"));
    CHECK(same_parameters(net, saved));

    matrix<float> out = xt::zeros<float>({2, 4}), target = xt::zeros<float>({2, 3}), g;
    const std::string m3 = message_of([&] { nn::mse::value_and_gradient(out, target, g); });
    CHECK(contains(m3, "nn::mse::value_and_gradient"));
    CHECK(contains(m3, "2 x 4"));
    CHECK(contains(m3, "got 2 x 3"));
}

TEST_CASE("a NaN in the batch names the function and the value; parameters unchanged") {
    net_t net = make_net();
    const net_t saved = net;
    nn::adam opt(net, {.lr = 1e-2});
    matrix<float> bad = good_x;
    bad(1, 2) = std::numeric_limits<float>::quiet_NaN();
    const std::string m = message_of([&] { train_step(net, opt, bad, good_labels); });
    CHECK(contains(m, "nn::network::forward"));
    CHECK(contains(m, "nan"));
    CHECK(contains(m, "flat index 5"));
    CHECK(same_parameters(net, saved));
}

TEST_CASE("a label out of range names the function, the label and its index; parameters unchanged") {
    net_t net = make_net();
    const net_t saved = net;
    nn::adamw opt(net, {.lr = 1e-2, .weight_decay = 0.1});
    for (int bad_label : {4, -1}) {
        const xt::xtensor<int, 1> labels = {1, bad_label};
        const std::string m = message_of([&] { train_step(net, opt, good_x, labels); });
        CHECK(contains(m, "nn::softmax_cross_entropy"));
        CHECK(contains(m, "label " + std::to_string(bad_label) + " at index 1"));
        CHECK(contains(m, "[0, 4)"));
        CHECK(same_parameters(net, saved));
    }
}

TEST_CASE("a non-finite or misshapen gradient is refused before any parameter or state changes") {
    net_t net = make_net(), twin = make_net();
    nn::adam opt(net, {.lr = 1e-2}), twin_opt(twin, {.lr = 1e-2});
    matrix<float> dout;
    nn::softmax_cross_entropy::value_and_gradient(net.forward(good_x), good_labels, dout);
    nn::gradients<float> g = net.backward(good_x, dout);
    const net_t saved = net;
    nn::gradients<float> bad = g;
    bad.weight(2)(3, 4) = std::numeric_limits<float>::infinity();
    const std::string m = message_of([&] { opt.step(bad); });
    CHECK(contains(m, "nn::adam::step"));
    CHECK(contains(m, "gradient of weight 2"));
    CHECK(contains(m, "inf"));
    CHECK(same_parameters(net, saved));
    nn::gradients<float> misshapen = g;
    misshapen.bias(1) = xt::zeros<float>({3});
    const std::string m2 = message_of([&] { opt.step(misshapen); });
    CHECK(contains(m2, "bias 1 must have length 16, got 3"));
    CHECK(same_parameters(net, saved));
    // The failed steps did not advance Adam's state: the next good step matches a fresh optimizer's.
    opt.step(g);
    twin_opt.step(g);
    CHECK(same_parameters(net, twin));
    CHECK(opt.steps() == 1);
}

TEST_CASE("backward refuses a batch of another shape, a non-finite batch and a misshapen dloss/dout") {
    net_t net = make_net();
    const matrix<float> dout = xt::zeros<float>({2, 4});
    CHECK(contains(message_of([&] { net.backward(good_x, dout); }), "nn::network::backward: call forward first"));
    net.forward(good_x);
    const matrix<float> three = xt::zeros<float>({3, 3});
    CHECK(contains(message_of([&] { net.backward(three, dout); }), "must be 2 x 3, got 3 x 3"));
    matrix<float> nan_x = good_x;
    nan_x(0, 1) = std::numeric_limits<float>::quiet_NaN();
    CHECK(contains(message_of([&] { net.backward(nan_x, dout); }), "nn::network::backward: input batch has a non-finite value"));
    const matrix<float> dout_wrong = xt::zeros<float>({2, 5});
    CHECK(contains(message_of([&] { net.backward(good_x, dout_wrong); }), "got 2 x 5"));
    CHECK(contains(message_of([&] { net.weight(0); }), "layer must be in 1..3, got 0"));
}

TEST_CASE("gradients from backward are certified finite; others are scanned") {
    net_t net = make_net();
    matrix<float> dout;
    nn::softmax_cross_entropy::value_and_gradient(net.forward(good_x), good_labels, dout);
    const auto& g = net.backward(good_x, dout);
    CHECK(net.certifies_finite(g));
    const nn::gradients<float> copy = g;
    CHECK_FALSE(net.certifies_finite(copy));
    nn::gradients<float> mine = net.make_gradients();
    net.backward(good_x, dout, mine);
    CHECK_FALSE(net.certifies_finite(mine));
    // A huge loss gradient defeats the bound: the internal gradients are then not certified.
    matrix<float> huge = dout;
    huge(0, 0) = 3e38f;
    CHECK_FALSE(net.certifies_finite(net.backward(good_x, huge)));
}

TEST_CASE("an mlp too large for memory or 64-bit sizes is refused before allocating, with the size it needs") {
    using net = widenn::nn::mlp<widenn::param::mup, widenn::act::relu, 2, float>;
    CHECK_THROWS_WITH_AS(net({.d_in = 4, .width = std::size_t{1} << 62, .d_out = 1}), doctest::Contains("at most 2^32"), widenn::error);
    // Width 2^28 with two hidden layers: 2^56 hidden weights (2^59 bytes with their gradients), beyond any machine.
    CHECK_THROWS_WITH_AS(net({.d_in = 4, .width = std::size_t{1} << 28, .d_out = 1}), doctest::Contains("of memory, but only"), widenn::error);
    // Width 2^31: the byte count itself passes 2^64.
    CHECK_THROWS_WITH_AS(net({.d_in = 4, .width = std::size_t{1} << 31, .d_out = 1}), doctest::Contains("more than 2^64"), widenn::error);
}
