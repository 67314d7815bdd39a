// The ```cpp block of docs/architectures.md, compiled and run (the convention of tests/docs: the block is pasted
// verbatim between "// BEGIN docs/architectures.md block <n>" and "// END docs/architectures.md block <n>" at column 0,
// preceded by the inputs the page's text describes and followed by checks of what it claims). Change the page and this
// file together.
#include <string>

#include <widenn/act/activations.hpp>
#include <widenn/core/rng.hpp>
#include <widenn/limit/conv_kernel.hpp>
#include <widenn/limit/of.hpp>
#include <widenn/nn/serial.hpp>
#include <widenn/nn/spec.hpp>

#include <doctest/doctest.h>

namespace {

TEST_CASE("docs/architectures.md block 1: a composition network configures its own kernel") {
    // 5 training and 3 test images 8 x 8 x 1, as the network's rows (N x 64).
    const widenn::matrix<double> x_train = widenn::normal_matrix<double>(5, 64, 3), x_test = widenn::normal_matrix<double>(3, 64, 4);
// BEGIN docs/architectures.md block 1 (verbatim: change the page and this copy together)
namespace nn = widenn::nn;
namespace limit = widenn::limit;
using net = nn::network<widenn::param::ntk,
                        nn::serial<nn::conv<3>, widenn::act::relu, nn::avgpool<2>, nn::conv<3>, widenn::act::relu, nn::gap>,
                        double>;
net f({.image = {8, 8, 1}, .width = 512, .d_out = 1, .weight_var = 2, .bias_var = 0.1,
       .constants = nn::constants_in::multiplier});
auto [nngp, ntk] = limit::kernel_plan_for(f, x_train, x_test).compute();  // x: N x 64 rows, as f takes them
// limit::of<net> is limit::conv_kernel<param::ntk, nn::serial<...>>; its SPEC:
const std::string spec = limit::of<net>::text();  // "conv:3:same:1,relu,avgpool:2,conv:3:same:1,relu,gap"
// END docs/architectures.md block 1
    CHECK(spec == "conv:3:same:1,relu,avgpool:2,conv:3:same:1,relu,gap");
    // the same kernels as the SPEC's, from the images N x 8 x 8 x 1
    xt::xarray<double> a = xt::xarray<double>::from_shape({5, 8, 8, 1}), b = xt::xarray<double>::from_shape({3, 8, 8, 1});
    std::copy(x_train.begin(), x_train.end(), a.begin());
    std::copy(x_test.begin(), x_test.end(), b.begin());
    const auto expected = widenn::limit::conv_kernels(widenn::nn::parse_spec(spec), a, b, {.weight_var = 2, .bias_var = 0.1});
    CHECK(nngp == expected.nngp);
    CHECK(ntk == expected.ntk);
}

}  // namespace
