// The ```cpp block of docs/architectures_finite.md, compiled and run (the convention of tests/docs: the block is pasted
// verbatim between "// BEGIN docs/architectures_finite.md block <n>" and "// END docs/architectures_finite.md block <n>" at
// column 0, preceded by the inputs the page's text describes and followed by checks of what it claims). Change the page
// and this file together.
#include <cmath>

#include <widenn/act/activations.hpp>
#include <widenn/core/rng.hpp>
#include <widenn/nn/loss.hpp>
#include <widenn/nn/optim.hpp>
#include <widenn/nn/serial.hpp>
#include <widenn/nn/train.hpp>

#include <doctest/doctest.h>

namespace {

TEST_CASE("docs/architectures_finite.md block 1: a muP CNN trained with Adam through train_step") {
    // 32 images 8 x 8 x 3 (NHWC rows) and 10 classes.
    const widenn::matrix<float> x = widenn::normal_matrix<float>(32, 8 * 8 * 3, 7);
    xt::xtensor<int, 1> labels = xt::empty<int>({std::size_t{32}});
    for (std::size_t i = 0; i < 32; ++i) labels(i) = static_cast<int>(i % 10);
    float loss = 0;
// BEGIN docs/architectures_finite.md block 1 (verbatim: change the page and this copy together)
namespace wn = widenn;
namespace nn = widenn::nn;
using cnn = nn::network<wn::param::mup,
                        nn::serial<nn::conv<3>, wn::act::relu, nn::avgpool<2>,
                                   nn::residual<nn::conv<3>, wn::act::relu>, nn::layernorm<>, nn::gap>,
                        float>;
cnn net({.image = {8, 8, 3}, .width = 64, .d_out = 10, .base_width = 16, .zero_readout = true, .seed = 1});
nn::adam opt(net.parameters(), {.lr = 1e-2});  // per-tensor rates from muP
wn::matrix<float> dout;
for (int step = 0; step < 20; ++step) loss = nn::train_step<nn::softmax_cross_entropy>(net, opt, x, labels, dout);
// END docs/architectures_finite.md block 1
    // The zero readout starts at log 10; twenty Adam steps bring the loss on these random labels to about half of it
    // (measured 1.17 = 0.51 log 10).
    CHECK(loss < 0.6f * std::log(10.0f));
    CHECK(net.parameters().size() == 6);  // conv, conv in the residual block, readout: weight and bias each
}

}  // namespace
