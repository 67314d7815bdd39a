// limit::of<nn::network<P, nn::serial<...>, T>> for compositions that are not MLPs: the compile-time mapping from
// layer types to the SPEC (limit::conv_kernel<P, Arch>::text), the kernel of a network object (kernel_plan_for) equal
// to conv_kernels(parse_spec(SPEC)) exactly, kernel_config_for's checks of the network's constants, and bad input.
#include <doctest/doctest.h>

#include <cstddef>
#include <string>
#include <type_traits>

#include <xtensor/xarray.hpp>

#include <widenn/act/activations.hpp>
#include <widenn/core/rng.hpp>
#include <widenn/limit/conv_kernel.hpp>
#include <widenn/limit/of.hpp>
#include <widenn/nn/serial.hpp>
#include <widenn/nn/spec.hpp>

#include "../error_messages.hpp"

namespace {
namespace wn = widenn;
namespace lim = widenn::limit;
namespace nn = widenn::nn;
namespace param = widenn::param;
namespace act = widenn::act;
using nn::padding;

template <class P, class... Ls>
using net = nn::network<P, nn::serial<Ls...>, double>;

// limit::of names the composition kernel; MLP-shaped compositions keep the MLP kernel.
using cnn = net<param::ntk, nn::conv<3>, act::relu, nn::flatten>;
static_assert(std::is_same_v<lim::of<cnn>, lim::conv_kernel<param::ntk, nn::serial<nn::conv<3>, act::relu, nn::flatten>>>);
static_assert(lim::of<cnn>::kind == lim::parametrization_kind::ntk);
static_assert(lim::of<cnn>::images);
static_assert(std::is_same_v<lim::of<net<param::ntk, nn::dense, act::tanh, nn::dense, act::tanh>>, lim::kernel<param::ntk, act::tanh, 2>>);
static_assert(!lim::of<net<param::ntk, nn::dense, act::tanh, nn::layernorm<>>>::images);  // vectors: a dense-only SPEC
static_assert(std::is_same_v<lim::of<net<param::shift<param::ntk, wn::rational{1, 2}>, nn::conv<3>, act::relu, nn::gap>>::parametrization,
                             param::shift<param::ntk, wn::rational{1, 2}>>);

wn::matrix<double> random_rows(std::size_t n, std::size_t d, std::uint64_t seed) {
    wn::rng gen(seed);
    wn::matrix<double> x = wn::matrix<double>::from_shape({n, d});
    for (auto& v : x) v = gen.normal();
    return x;
}
// The same rows as N x H x W x C images.
xt::xarray<double> as_images(const wn::matrix<double>& x, std::size_t h, std::size_t w, std::size_t c) {
    xt::xarray<double> out = xt::xarray<double>::from_shape({x.shape(0), h, w, c});
    std::copy(x.begin(), x.end(), out.begin());
    return out;
}
using widenn_test::contains;
using widenn_test::message_of;

// The network's kernel (its SPEC from the types, its config from the object) equals the SPEC's kernel, bit for bit.
template <class Net>
void check_same_kernel(const char* text, std::size_t h, std::size_t w, std::size_t c, double wv, double bv) {
    CAPTURE(std::string(text));
    Net f({.image = {h, w, c}, .width = 8, .d_out = 1, .bias = bv > 0, .weight_var = wv, .bias_var = bv,
           .constants = nn::constants_in::multiplier});
    const nn::spec spec = nn::parse_spec(text);
    CHECK(lim::of<Net>::text() == nn::format_spec(spec));
    const wn::matrix<double> x1 = random_rows(4, h * w * c, 3), x2 = random_rows(3, h * w * c, 4);
    const lim::kernel_config config{.weight_var = wv, .bias_var = bv};
    const auto ours = lim::kernel_plan_for(f, x1, x2).compute();
    const auto theirs = lim::conv_kernels(spec, as_images(x1, h, w, c), as_images(x2, h, w, c), config);
    CHECK(ours.nngp == theirs.nngp);
    CHECK(ours.ntk == theirs.ntk);
    const auto sym = lim::kernel_plan_for(f, x1).compute();
    const auto sym_theirs = lim::conv_kernels(spec, as_images(x1, h, w, c), config);
    CHECK(sym.nngp == sym_theirs.nngp);
    CHECK(sym.ntk == sym_theirs.ntk);
}
}  // namespace

TEST_CASE("limit::of<Net> of a composition: the SPEC of its layer types") {
    CHECK(lim::of<cnn>::text() == "conv:3:same:1,relu,flatten");
    using many = net<param::ntk, nn::conv<3, 2, padding::circular>, act::erf<>, nn::avgpool<2>, nn::dense, nn::layernorm<>,
                     nn::residual<act::relu, nn::conv<3, 1, padding::circular>>, act::leaky_relu<0.01>, nn::gap>;
    CHECK(lim::of<many>::text() == "conv:3:circular:2,erf,avgpool:2,conv:1:same:1,layernorm,res(relu,conv:3:circular:1),leaky_relu,gap");
    // dense on vectors stays dense; the SPEC parses back to itself
    using vec = net<param::ntk, nn::dense, act::gelu, nn::layernorm<>, nn::residual<act::tanh, nn::dense>, nn::dense, act::sin<>>;
    CHECK(lim::of<vec>::text() == "dense,gelu,layernorm,res(tanh,dense),dense,sin");
    CHECK(nn::format_spec(lim::of<vec>::spec()) == lim::of<vec>::text());
}

TEST_CASE("the kernel of a network object (kernel_plan_for) is conv_kernels of its SPEC, exactly") {
    check_same_kernel<cnn>("conv:3,relu,flatten", 5, 4, 2, 2.0, 0.1);
    check_same_kernel<net<param::ntk, nn::conv<3, 2>, act::erf<>, nn::conv<2, 1, padding::valid>, act::relu, nn::flatten>>(
        "conv:3:same:2,erf,conv:2:valid,relu,flatten", 6, 6, 1, 1.5, 0.0);
    check_same_kernel<net<param::ntk, nn::conv<3, 1, padding::circular>, act::relu, nn::avgpool<2>, nn::conv<1>, act::tanh, nn::gap>>(
        "conv:3:circular,relu,avgpool:2,conv:1,tanh,gap", 4, 4, 2, 2.0, 0.2);
    check_same_kernel<net<param::ntk, nn::conv<3>, nn::layernorm<>, nn::residual<act::relu, nn::dense>, act::relu, nn::flatten>>(
        "conv:3,layernorm,res(relu,conv:1),relu,flatten", 3, 4, 1, 1.0, 0.1);
    // vector inputs: a dense-only SPEC with a layer norm (not an MLP)
    using vec = net<param::ntk, nn::dense, act::relu, nn::layernorm<>, nn::dense, act::erf<>>;
    vec f({.d_in = 5, .width = 8, .d_out = 2, .weight_var = 1.7, .bias_var = 0.2, .constants = nn::constants_in::multiplier});
    const wn::matrix<double> x = random_rows(6, 5, 9);
    const auto ours = lim::kernel_plan_for(f, x).compute();
    const auto theirs = lim::conv_kernels(nn::parse_spec("dense,relu,layernorm,dense,erf"), x, {.weight_var = 1.7, .bias_var = 0.2});
    CHECK(ours.nngp == theirs.nngp);
    CHECK(ours.ntk == theirs.ntk);
}

TEST_CASE("kernel_config_for(net) of a composition: variances, bias and width from the network; its refusals") {
    net<param::ntk, nn::conv<3>, act::relu, nn::gap> f(
        {.image = {4, 4, 1}, .width = 16, .d_out = 1, .widths = {16}, .weight_var = 1.7, .bias_var = 0.2, .constants = nn::constants_in::multiplier});
    const lim::kernel_config c = lim::kernel_config_for(f, {.block = 32});
    CHECK(c.weight_var == 1.7);
    CHECK(c.bias_var == 0.2);
    CHECK(c.bias);
    CHECK(c.width == 16);
    CHECK(c.block == 32);
    // the NTK kernel's constants live in the multipliers, and zero-initialised trainable biases are not in it
    CHECK(contains(message_of([] { (void)lim::kernel_config_for(cnn({.image = {3, 3, 1}, .width = 4, .d_out = 1, .bias_var = 0.1})); }),
                   "constants_in::multiplier"));
    CHECK(contains(message_of([] {
                       (void)lim::kernel_config_for(cnn({.image = {3, 3, 1}, .width = 4, .d_out = 1, .constants = nn::constants_in::multiplier}));
                   }),
                   "bias_var > 0"));
    // the network's rows: d_in columns
    cnn g({.image = {3, 3, 1}, .width = 4, .d_out = 1, .bias = false, .constants = nn::constants_in::multiplier});
    const std::string rows = message_of([&] { (void)lim::kernel_plan_for(g, random_rows(2, 8, 1)); });
    CHECK(contains(rows, "limit::kernel_plan_for: X must be the network's input rows, N x 9, got 2 x 8"));
    CHECK_THROWS_AS((void)lim::kernel_plan_for(g, random_rows(2, 9, 1), random_rows(2, 10, 1)), wn::shape_error);
}

TEST_CASE("the standard parametrization of a composition: limit::of, kernel_config_for and kernel_plan_for") {
    using sp = param::standard_lr_1_over_n;
    using N = net<sp, nn::conv<3>, act::relu, nn::avgpool<2>, nn::conv<1>, act::erf<>, nn::gap>;
    static_assert(lim::of<N>::kind == lim::parametrization_kind::standard);
    N f({.image = {4, 4, 2}, .width = 64, .d_out = 1, .weight_var = 2.0, .bias_var = 0.1});
    const lim::kernel_config c = lim::kernel_config_for(f);
    CHECK(c.width == 64);
    CHECK(c.bias);
    const wn::matrix<double> x = random_rows(3, 32, 11);
    const auto ours = lim::kernel_plan_for(f, x).compute();
    const auto theirs = lim::conv_kernels(nn::parse_spec("conv:3,relu,avgpool:2,conv:1,erf,gap"), as_images(x, 4, 4, 2),
                                          {.weight_var = 2.0, .bias_var = 0.1, .bias = true, .width = 64}, lim::spatial_path::automatic,
                                          lim::parametrization_kind::standard);
    CHECK(ours.nngp == theirs.nngp);
    CHECK(ours.ntk == theirs.ntk);
    // its NTK grows with the width: the kernel needs one width, at base width = width, with the constants in the init
    CHECK(contains(message_of([] { (void)lim::kernel_config_for(N({.image = {4, 4, 2}, .d_out = 1, .widths = {64, 32}})); }),
                   "this network's widths differ"));
    CHECK(contains(message_of([] { (void)lim::kernel_config_for(N({.image = {4, 4, 2}, .width = 64, .d_out = 1, .base_width = 16})); }),
                   "base_width 16"));
    // an MLP-shaped composition keeps limit::kernel, and its base_width = 0 means the width itself
    net<sp, nn::dense, act::relu> m({.d_in = 3, .width = 16, .d_out = 1});
    static_assert(std::is_same_v<lim::of<decltype(m)>, lim::kernel<sp, act::relu, 1>>);
    CHECK(lim::kernel_config_for(m).width == 16);
}
