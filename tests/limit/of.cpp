// limit::of<Net> follows param::classify (for presets and their abc shifts), and limit::kernel_config_for(net) gives
// the kernel limit of the network object it is given, or refuses a network whose constants are not that kernel's.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <type_traits>

#include <widenn/act/activations.hpp>
#include <widenn/limit/of.hpp>
#include <widenn/nn/mlp.hpp>
#include <widenn/nn/ntk.hpp>

#include "../error_messages.hpp"

namespace {
namespace wn = widenn;
namespace lim = widenn::limit;
namespace nn = widenn::nn;
namespace param = widenn::param;
namespace act = widenn::act;
using widenn::rational;

template <class P, class A, int L>
using net = nn::mlp<P, A, L, double>;

static_assert(nn::FiniteNetwork<net<param::ntk, act::relu, 2>>);
static_assert(!nn::FiniteNetwork<int>);
static_assert(!nn::FiniteNetwork<lim::kernel<param::ntk, act::relu, 2>>);  // a limit is not a finite network

// The type limit::of<Net> must be, from the classification alone.
template <class P, class A, int L>
constexpr bool of_follows_classification() {
    constexpr auto regime = param::classify<P, L>().regime;
    using got = lim::of<net<P, A, L>>;
    if constexpr (regime == wn::regime::kernel)
        return std::is_same_v<got, lim::kernel<P, A, L>>;
    else if constexpr (std::is_same_v<A, act::identity>)
        return regime == wn::regime::feature_learning && L == 1 && std::is_same_v<got, lim::mup_linear<double>>;
    else
        return regime == wn::regime::feature_learning && L == 1 && std::is_same_v<got, lim::mup_1hl<A, double>>;
}

template <class P>
constexpr bool kernel_preset_and_shifts() {
    return of_follows_classification<P, act::relu, 1>() && of_follows_classification<P, act::erf<>, 3>() &&
           of_follows_classification<param::shift<P, rational{1, 2}>, act::relu, 2>() &&
           of_follows_classification<param::shift<P, rational{-1, 2}>, act::relu, 2>() &&
           of_follows_classification<param::shift<P, rational{1}>, act::tanh, 4>();
}
template <class P>
constexpr bool feature_learning_preset_and_shifts() {
    return of_follows_classification<P, act::identity, 1>() && of_follows_classification<P, act::tanh, 1>() &&
           of_follows_classification<param::shift<P, rational{1, 2}>, act::tanh, 1>() &&
           of_follows_classification<param::shift<P, rational{-1, 2}>, act::identity, 1>() &&
           of_follows_classification<param::shift<P, rational{1}>, act::relu, 1>();
}

static_assert(kernel_preset_and_shifts<param::ntk>());
static_assert(kernel_preset_and_shifts<param::standard_lr_1_over_n>());
static_assert(feature_learning_preset_and_shifts<param::mup>());
static_assert(feature_learning_preset_and_shifts<param::mean_field>());
static_assert(feature_learning_preset_and_shifts<param::mup_table3>());
static_assert(feature_learning_preset_and_shifts<param::mup_package>());
// the case the classification and the old name-based dispatch disagreed on
static_assert(std::is_same_v<lim::of<net<param::shift<param::mup, rational{1, 2}>, act::relu, 1>>, lim::mup_1hl<act::relu, double>>);

using widenn_test::message_of;
}  // namespace

TEST_CASE("kernel_config_for copies the network's variances, bias and width") {
    net<param::ntk, act::erf<>, 2> f({.d_in = 4, .width = 96, .d_out = 1, .weight_var = 1.7, .bias_var = 0.2,
                                      .constants = nn::constants_in::multiplier});
    const lim::kernel_config c = lim::kernel_config_for(f, {.block = 64});
    CHECK(c.weight_var == 1.7);
    CHECK(c.bias_var == 0.2);
    CHECK(c.bias);
    CHECK(c.width == 96);
    CHECK(c.block == 64);  // kept from the base

    net<param::standard_lr_1_over_n, act::relu, 1> g({.d_in = 4, .width = 32, .d_out = 1, .bias = false, .weight_var = 2.0, .bias_var = 0.5});
    const lim::kernel_config s = lim::kernel_config_for(g);
    CHECK(s.weight_var == 2.0);
    CHECK(s.bias_var == 0.0);  // no biases in the network: none in the kernel
    CHECK_FALSE(s.bias);
    CHECK(s.width == 32);
}

TEST_CASE("kernel_config_for refuses networks whose constants are not the kernel's parametrization") {
    using ntk_net = net<param::ntk, act::relu, 2>;
    const auto init = message_of([] { (void)lim::kernel_config_for(ntk_net({.d_in = 3, .width = 16, .d_out = 1, .bias_var = 0.1})); });
    CHECK(init.find("limit::kernel_config_for") != std::string::npos);
    CHECK(init.find("constants_in::multiplier") != std::string::npos);
    const auto zero_bias = message_of([] {
        (void)lim::kernel_config_for(ntk_net({.d_in = 3, .width = 16, .d_out = 1, .constants = nn::constants_in::multiplier}));
    });
    CHECK(zero_bias.find("bias_var > 0") != std::string::npos);
    using sp_net = net<param::standard_lr_1_over_n, act::relu, 2>;
    CHECK(message_of([] {
              (void)lim::kernel_config_for(sp_net({.d_in = 3, .width = 16, .d_out = 1, .constants = nn::constants_in::multiplier}));
          }).find("constants_in::multiplier, width 16") != std::string::npos);
    CHECK(message_of([] { (void)lim::kernel_config_for(sp_net({.d_in = 3, .width = 16, .d_out = 1, .base_width = 8})); })
              .find("base_width 8") != std::string::npos);
}

TEST_CASE("a network and the kernel configured from it agree: empirical NTK vs limit::of<Net> at width 4096") {
    // One hidden layer, biases: the empirical NTK's mean is the limit at every width and its spread is O(1/sqrt(n)),
    // about 2% here; the mismatch kernel_config_for refuses (constants_in::init) is a factor ~ width / weight_var.
    using N = net<param::ntk, act::relu, 1>;
    N f({.d_in = 3, .width = 4096, .d_out = 1, .weight_var = 2.0, .bias_var = 0.1, .constants = nn::constants_in::multiplier, .seed = 7});
    const wn::matrix<double> x = {{1.0, 0.5, -0.3}, {-0.2, 0.9, 0.6}, {0.8, -0.4, 1.1}};
    const auto empirical = nn::empirical_ntk(f, x, x);
    const auto analytic = lim::of<N>::kernels(x, lim::kernel_config_for(f)).ntk;
    for (std::size_t i = 0; i < 3; ++i)
        for (std::size_t j = 0; j < 3; ++j) CHECK(std::abs(empirical(i, j) - analytic(i, j)) < 0.1 * analytic(i, i));
}
