#include <doctest/doctest.h>

#include <widenn/act/activations.hpp>
#include <widenn/nn/train.hpp>

namespace wn = widenn;

TEST_CASE("train_step is exactly forward, loss gradient, backward and update") {
    using net_t = wn::nn::mlp<wn::param::mup, wn::act::tanh, 2, double>;
    const wn::nn::mlp_config config{.d_in = 5, .width = 32, .d_out = 2, .base_width = 16, .seed = 3};
    net_t by_hand(config), by_helper(config);
    wn::nn::sgd<net_t> opt_hand(by_hand, {.lr = 0.3, .momentum = 0.5});
    wn::nn::sgd<net_t> opt_helper(by_helper, {.lr = 0.3, .momentum = 0.5});
    const wn::matrix<double> x = wn::normal_matrix(8, 5, 1), y = wn::normal_matrix(8, 2, 2);
    wn::matrix<double> dout_hand, dout_helper;
    for (int step = 0; step < 3; ++step) {
        const double loss_hand = wn::nn::mse::value_and_gradient(by_hand.forward(x), y, dout_hand);
        opt_hand.step(by_hand.backward(x, dout_hand));
        const double loss_helper = wn::nn::train_step<wn::nn::mse>(by_helper, opt_helper, x, y, dout_helper);
        CHECK(loss_helper == loss_hand);
    }
    CHECK(by_helper.forward(x) == by_hand.forward(x));
}
