#include <doctest/doctest.h>

#include <widenn/nn/loss.hpp>
#include <widenn/nn/mlp.hpp>
#include <widenn/nn/optim.hpp>

#include <widenn/act/activations.hpp>

namespace nn = widenn::nn;
namespace param = widenn::param;

TEST_CASE("smoke: an SGD step on MSE lowers the loss") {
    nn::mlp<param::mup, widenn::act::tanh, 2, double> net({.d_in = 3, .width = 16, .d_out = 2, .base_width = 8, .seed = 1});
    widenn::matrix<double> x = {{0.1, -0.2, 0.3}, {0.5, 0.4, -0.1}};
    widenn::matrix<double> y = {{1.0, 0.0}, {0.0, 1.0}};
    widenn::matrix<double> g;
    nn::sgd opt(net, {.lr = 0.1});
    double first = 0, last = 0;
    for (int t = 0; t < 20; ++t) {
        const auto& f = net.forward(x);
        last = nn::mse::value_and_gradient(f, y, g);
        if (t == 0) first = last;
        opt.step(net.backward(x, g));
    }
    CHECK(last < first);
}

TEST_CASE("smoke: float network with Adam, AdamW and cross-entropy") {
    nn::mlp<param::ntk, widenn::act::relu, 1> net({.d_in = 2, .width = 32, .d_out = 3, .seed = 2});
    widenn::matrix<float> x = {{0.1f, -0.2f}, {0.5f, 0.4f}, {-0.3f, 0.2f}};
    xt::xtensor<int, 1> labels = {0, 2, 1};
    widenn::matrix<float> g;
    nn::adam opt(net, {.lr = 1e-2});
    nn::adamw opt2(net, {.lr = 1e-2, .weight_decay = 1e-2});
    float first = 0, last = 0;
    for (int t = 0; t < 30; ++t) {
        last = nn::softmax_cross_entropy::value_and_gradient(net.forward(x), labels, g);
        if (t == 0) first = last;
        if (t % 2) opt.step(net.backward(x, g)); else opt2.step(net.backward(x, g));
    }
    CHECK(last < first);
}

TEST_CASE("steady-state steps reuse their buffers (no reallocation at a fixed batch size)") {
    nn::mlp<param::mup, widenn::act::relu, 2> net({.d_in = 3, .width = 16, .d_out = 2, .base_width = 8, .seed = 1});
    widenn::matrix<float> x = {{0.1f, -0.2f, 0.3f}, {0.5f, 0.4f, -0.1f}};
    widenn::matrix<float> y = {{1.0f, 0.0f}, {0.0f, 1.0f}};
    widenn::matrix<float> dout;
    nn::adam opt(net, {.lr = 1e-2});
    std::vector<const void*> first;
    for (int t = 0; t < 3; ++t) {
        const auto& out = net.forward(x);
        nn::mse::value_and_gradient(out, y, dout);
        const auto& g = net.backward(x, dout);
        opt.step(g);
        std::vector<const void*> now = {out.data(), dout.data(), net.preactivation(1).data(), net.post_activation(2).data(),
                                        g.weight(2).data(), net.weight(2).data()};
        if (t == 0) first = now;
        CHECK(now == first);
    }
}

TEST_CASE("deterministic for a given seed: identical parameters after training; another seed differs") {
    auto train = [](std::uint64_t seed) {
        nn::mlp<param::mup, widenn::act::gelu, 2, double> net({.d_in = 3, .width = 32, .d_out = 2, .base_width = 8, .bias_var = 0.1, .seed = seed});
        widenn::matrix<double> x = {{0.1, -0.2, 0.3}, {0.5, 0.4, -0.1}};
        widenn::matrix<double> y = {{1.0, 0.0}, {0.0, 1.0}};
        widenn::matrix<double> g;
        nn::adamw opt(net, {.lr = 1e-2, .weight_decay = 0.1});
        for (int t = 0; t < 5; ++t) {
            nn::mse::value_and_gradient(net.forward(x), y, g);
            opt.step(net.backward(x, g));
        }
        return net;
    };
    const auto a = train(5), b = train(5), c = train(6);
    for (int l = 1; l <= 3; ++l) {
        CHECK(a.weight(l) == b.weight(l));
        CHECK(a.bias(l) == b.bias(l));
        CHECK(a.weight(l) != c.weight(l));
    }
}
