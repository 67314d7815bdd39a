// The README's code example, compiled and run by CI: policies in, a finite network and its
// infinite-width limit out. Synthetic data; finishes in about a second.
#include <cstdio>

#include <xtensor/xview.hpp>

#include <widenn/widenn.hpp>

#include "cli/cli.hpp"

namespace wn = widenn;

namespace {

int quickstart() {
    // The regime of a parametrization is a compile-time fact (Tensor Programs IV, Thm 3.3, Cor 3.9).
    constexpr auto info = wn::param::classify<wn::param::mup, /*hidden layers*/ 3>();
    static_assert(info.stable && info.regime == wn::regime::feature_learning && info.r == wn::rational{0});

    // Data: 64 training and 16 test points in R^20, one regression target.
    const wn::matrix<double> x_train = wn::normal_matrix(64, 20, 7), x_test = wn::normal_matrix(16, 20, 8);
    const wn::matrix<double> y_train = xt::view(xt::sin(x_train), xt::all(), xt::range(0, 1));

    // A finite NTK-parametrized network (neural-tangents' convention) ...
    using net_t = wn::nn::mlp<wn::param::ntk, wn::act::relu, 3, double>;
    net_t net({.d_in = 20, .width = 1024, .d_out = 1, .weight_var = 2.0, .bias_var = 0.1,
               .constants = wn::nn::constants_in::multiplier, .seed = 1});

    // ... and its infinite-width limit from the same policies: NTK is in the kernel regime.
    using lim = wn::limit::of<net_t>;  // == limit::kernel<param::ntk, act::relu, 3>
    const auto train = lim::kernels(x_train, {.weight_var = 2.0, .bias_var = 0.1});  // {nngp, ntk}
    const auto cross = lim::kernels(x_test, x_train, {.weight_var = 2.0, .bias_var = 0.1});
    const double lr = 0.2 * wn::limit::max_learning_rate(train.ntk, 64);  // well inside the stable range

    // Train the net by SGD on MSE; predict the same run with the limit, from the same initial function.
    const wn::matrix<double> f0_train = net.forward(x_train), f0_test = net.forward(x_test);
    wn::nn::sgd opt(net, {.lr = lr});  // per-layer rates from the policy
    wn::matrix<double> dout;
    for (int step = 0; step < 50; ++step) {
        wn::nn::mse::value_and_gradient(net.forward(x_train), y_train, dout);
        opt.step(net.backward(x_train, dout));
    }
    const wn::matrix<double> f_limit =
        wn::limit::gradient_descent_mse(train.ntk, y_train, {.lr = lr}).test(cross.ntk, 50.0, f0_test, f0_train);
    const wn::matrix<double> f_net = net.forward(x_test);
    // They differ by O(1/sqrt(width)) (the finite NTK fluctuates) and O(lr) (steps versus flow).
    double gap = 0, scale = 0;
    for (std::size_t i = 0; i < f_limit.size(); ++i) {
        gap = std::max(gap, std::abs(f_net.flat(i) - f_limit.flat(i)));
        scale = std::max(scale, std::abs(f_limit.flat(i) - f0_test.flat(i)));
    }
    std::printf("mu-P with 3 hidden layers: r = %s, feature learning\n", wn::to_string(info.r).c_str());
    std::printf("width-1024 net vs its NTK limit after 50 SGD steps: max |f_net - f_limit| = %.3f (the outputs moved by up to %.3f)\n",
                gap, scale);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    return widenn::cli::run_program("quickstart",
                                    "usage: quickstart\n"
                                    "The README's example: a width-1024 NTK-parametrized ReLU MLP trained by SGD for 50 steps, and the same\n"
                                    "run predicted by its infinite-width NTK limit, on synthetic data. No options; about a second.\n",
                                    argc, argv, [](widenn::cli::args& a) {
                                        a.reject_unknown();
                                        return quickstart();
                                    });
}
