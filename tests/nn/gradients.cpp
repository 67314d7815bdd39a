// Backward against central differences, in double, for every trainable tensor, every preset and
// several activations, at a width ratio ñ ≠ 1 and in both places for the constants.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include <widenn/nn/loss.hpp>
#include <widenn/nn/mlp.hpp>

#include <widenn/act/activations.hpp>

namespace nn = widenn::nn;
namespace param = widenn::param;
using widenn::matrix;

namespace {

template <class Net>
double loss_of(Net& net, const matrix<double>& x, const matrix<double>& y) {
    return nn::mse::value(net.forward(x), y);
}

// Signs of every preactivation (relu's kinks): the central difference is exact up to O(h²) only if
// no preactivation changes sign between p − h and p + h.
template <class Net>
std::vector<bool> sign_pattern(Net& net, const matrix<double>& x) {
    net.forward(x);
    std::vector<bool> signs;
    for (int l = 1; l <= Net::depth; ++l)
        for (double v : net.preactivation(l)) signs.push_back(v > 0);
    return signs;
}

// ‖fd − g‖ / ‖g‖ over one tensor; perturbs each entry by ±h.
template <class Net, class Tensor, class Analytic>
double relative_error(Net& net, Tensor&& p, const Analytic& analytic, const matrix<double>& x, const matrix<double>& y,
                      bool check_kinks) {
    constexpr double h = 1e-5;
    double diff2 = 0, norm2 = 0;
    const auto reference = check_kinks ? sign_pattern(net, x) : std::vector<bool>{};
    for (std::size_t i = 0; i < p.size(); ++i) {
        const double saved = p.data()[i];
        p.data()[i] = saved + h;
        const double plus = loss_of(net, x, y);
        if (check_kinks) REQUIRE(sign_pattern(net, x) == reference);
        p.data()[i] = saved - h;
        const double minus = loss_of(net, x, y);
        if (check_kinks) REQUIRE(sign_pattern(net, x) == reference);
        p.data()[i] = saved;
        const double fd = (plus - minus) / (2 * h);
        diff2 += (fd - analytic.data()[i]) * (fd - analytic.data()[i]);
        norm2 += analytic.data()[i] * analytic.data()[i];
    }
    REQUIRE(norm2 > 0);  // a vanishing gradient would make the check vacuous
    return std::sqrt(diff2 / norm2);
}

template <class P, class A, int L>
void check_gradients(nn::constants_in constants) {
    CAPTURE(std::string(A::name));
    CAPTURE(static_cast<int>(constants));
    // ñ = 7/4; inputs of size ~1 keep tanh, erf and gelu away from saturation.
    nn::mlp<P, A, L, double> net({.d_in = 3, .width = 7, .d_out = 2, .base_width = 4, .bias = true, .weight_var = 1.5, .bias_var = 0.2,
                                  .constants = constants, .seed = 11});
    matrix<double> x = {{0.7, -0.4, 0.9}, {-0.5, 0.8, 0.3}, {0.2, 0.6, -1.1}, {1.0, -0.9, 0.1}};
    matrix<double> y = {{0.5, -1.0}, {1.0, 0.2}, {-0.3, 0.8}, {0.1, 0.4}};
    matrix<double> dout;
    nn::mse::value_and_gradient(net.forward(x), y, dout);
    const nn::gradients<double> g = net.backward(x, dout);  // a copy (the finite differences below move the parameters)
    const bool kinks = A::name == std::string_view("relu");
    for (int l = 1; l <= L + 1; ++l) {
        CAPTURE(l);
        CHECK(relative_error(net, net.weight(l), g.weight(l), x, y, kinks) < 1e-6);
        CHECK(relative_error(net, net.bias(l), g.bias(l), x, y, kinks) < 1e-6);
    }
}

template <class P, int L>
void check_all_activations() {
    for (auto c : {nn::constants_in::init, nn::constants_in::multiplier}) {
        check_gradients<P, widenn::act::relu, L>(c);
        check_gradients<P, widenn::act::tanh, L>(c);
        check_gradients<P, widenn::act::gelu, L>(c);
        check_gradients<P, widenn::act::erf<>, L>(c);
        check_gradients<P, widenn::act::identity, L>(c);
    }
}

}  // namespace

// Relu: REQUIRE(sign pattern unchanged at p ± h) makes the loss a polynomial in p on [p − h, p + h]
// along each coordinate (the sign pattern can only change at a root of a preactivation, which is
// affine in p on a segment with fixed pattern below it), so the central difference has error O(h²).
TEST_CASE("backward matches central differences: ntk, mup, mup_table3, standard_lr_1_over_n (L = 2)") {
    check_all_activations<param::ntk, 2>();
    check_all_activations<param::mup, 2>();
    check_all_activations<param::mup_table3, 2>();
    check_all_activations<param::standard_lr_1_over_n, 2>();
}

TEST_CASE("backward matches central differences: mean_field (L = 1), standard via allow_unstable (L = 3)") {
    check_all_activations<param::mean_field, 1>();
    check_all_activations<param::allow_unstable<param::standard>, 3>();
}
