// The empirical NTK of any composition (nn::empirical_ntk_by_jacobian): the MLP's closed form for a dense-only serial, and for a
// CNN the first-order change of the outputs under one SGD step.
#include <doctest/doctest.h>

#include <cmath>

#include <widenn/act/activations.hpp>
#include <widenn/nn/mlp.hpp>
#include <widenn/nn/ntk.hpp>
#include <widenn/nn/optim.hpp>
#include <widenn/nn/serial.hpp>

namespace {
namespace wn = widenn;
namespace nn = widenn::nn;
namespace param = widenn::param;
using wn::matrix;
}  // namespace

TEST_CASE("empirical NTK from the Jacobian (any composition) equals the MLP's closed form (NTK parametrization, biases, 2 outputs)") {
    using A = wn::act::erf<>;
    nn::mlp<param::ntk, A, 2, double> m({.d_in = 3, .width = 16, .d_out = 2, .bias_var = 0.2, .constants = nn::constants_in::multiplier,
                                         .seed = 4});
    nn::network<param::ntk, nn::serial<nn::dense, A, nn::dense, A>, double> s(
        {.d_in = 3, .width = 16, .d_out = 2, .bias_var = 0.2, .constants = nn::constants_in::multiplier, .seed = 4});
    const auto x1 = wn::normal_matrix<double>(4, 3, 1);
    const auto x2 = wn::normal_matrix<double>(5, 3, 2);
    const matrix<double> tm = nn::empirical_ntk(m, x1, x2);
    const matrix<double> ts = nn::empirical_ntk_by_jacobian(s, x1, x2);
    REQUIRE(ts.shape(0) == 8);
    REQUIRE(ts.shape(1) == 10);
    CHECK(xt::amax(xt::abs(tm - ts))() < 1e-12 * xt::amax(xt::abs(tm))());
}

TEST_CASE("empirical NTK of a muP CNN predicts the change of its outputs under one small SGD step (first order in the rate)") {
    using A = wn::act::tanh;
    nn::network<param::mup, nn::serial<nn::conv<3>, A, nn::avgpool<2>, nn::conv<3, 1, nn::padding::circular>, nn::layernorm<>, A,
                                       nn::residual<nn::conv<3>, A>, nn::gap>,
                double>
        net({.image = {4, 4, 2}, .width = 6, .d_out = 2, .base_width = 3, .bias_var = 0.1, .seed = 7});
    const auto x = wn::normal_matrix<double>(3, 32, 3);
    const auto r = wn::normal_matrix<double>(3, 2, 4);  // dloss/dout of L = Σ out ⊙ r
    const matrix<double> theta = nn::empirical_ntk(net, x, x);
    const matrix<double> before = net.forward(x);
    const double eta = 1e-5;
    net.backward(x, r);
    nn::sgd opt(net.parameters(), {.lr = eta});
    opt.step();
    const matrix<double> after = net.forward(x);
    double largest = 0, error = 0;
    for (std::size_t i = 0; i < 3; ++i)
        for (std::size_t a = 0; a < 2; ++a) {
            double predicted = 0;
            for (std::size_t j = 0; j < 3; ++j)
                for (std::size_t b = 0; b < 2; ++b) predicted -= eta * theta(i * 2 + a, j * 2 + b) * r(j, b);
            largest = std::max(largest, std::abs(predicted));
            error = std::max(error, std::abs(after(i, a) - before(i, a) - predicted));
        }
    CHECK(largest > 1e-7);
    CHECK(error < 1e-3 * largest);
    // Symmetric in its two arguments.
    const matrix<double> t12 = nn::empirical_ntk(net, x, wn::normal_matrix<double>(2, 32, 5));
    const matrix<double> t21 = nn::empirical_ntk(net, wn::normal_matrix<double>(2, 32, 5), x);
    CHECK(xt::amax(xt::abs(t12 - xt::transpose(t21)))() < 1e-12 * xt::amax(xt::abs(t12))());
}
