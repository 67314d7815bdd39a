#pragma once
// From a parametrization's exponents to one trainable tensor's scaling (nn::tensor_scaling): the one mapping that
// nn::mlp and nn::network (nn/serial.hpp) share, in the base-width form of "Tensor Programs V" (Yang et al. 2022,
// Eq. 4; docs/theory/abc-parametrization.md §1, §5). For a tensor with exponents (a, b, c, c_adam) and width ratio ñ:
//   constants_in::init        W = ñ^{-a} w,                    w ~ N(0, σ²/base_fan_in · ñ^{-2b})
//   constants_in::multiplier  W = √(σ²/base_fan_in) ñ^{-a} w,   w ~ N(0, ñ^{-2b})
//   SGD learning rate on w: η ñ^{-c}; Adam: η ñ^{-c_adam}.
// A tensor's ñ is that of its infinite dimensions, as the `mup` package's width_mult: fan_in / base_fan_in when the
// fan-in grows with width (hidden-like and output-like weights, TP5 Table 3), else fan_out / base_fan_out (input-like
// weights and biases); 1 when no dimension grows (the readout bias).
#include <cmath>

#include "../core/concepts.hpp"
#include "../core/rational.hpp"
#include "network.hpp"
#include "trainable.hpp"

namespace widenn::nn {

// The TP5 role of a weight, by which of its dimensions grow with width.
enum class tensor_role {
    input,   // only fan_out grows (the first layer; also a layer with no growing dimension)
    hidden,  // fan_in and fan_out grow
    output,  // only fan_in grows (the readout)
};

template <Parametrization P>
constexpr layer_exponents exponents_of(tensor_role role) {
    return role == tensor_role::input ? P::input : (role == tensor_role::hidden ? P::hidden : P::output);
}

namespace detail {
inline double power(double base, rational exponent) { return std::pow(base, exponent.to_double()); }

// ñ^{-a} · ñ_out^{-backprop}, as one power when both ratios agree (so that a uniform width gives exactly the numbers
// of one exponent a + backprop).
inline double gradient_scale(double ratio, rational a, double readout_ratio, rational backprop) {
    if (ratio == readout_ratio) return power(ratio, -(a + backprop));
    return power(ratio, -a) * power(readout_ratio, -backprop);
}
}  // namespace detail

// The scaling of a weight with exponents e, width ratio `ratio`, variance σ² (weight_var) over base_fan_in.
// The typical per-entry gradient of w at initialisation is ñ^{-a}·ñ_out^{-(a_out + b_out)} below the readout (the
// backpropagated signal carries the readout's scale; pass readout = false) and ñ^{-a} for the readout itself.
template <Parametrization P>
tensor_scaling weight_scaling(const layer_exponents& e, double ratio, double weight_var, double base_fan_in, constants_in constants,
                              bool readout, double readout_ratio) {
    const bool in_multiplier = constants == constants_in::multiplier;
    const rational backprop = readout ? rational{0} : P::output.a + P::output.b;
    const double sigma = std::sqrt(weight_var / base_fan_in);
    tensor_scaling w;
    w.init_std = (in_multiplier ? 1.0 : sigma) * detail::power(ratio, -e.b);
    w.multiplier = (in_multiplier ? sigma : 1.0) * detail::power(ratio, -e.a);
    w.sgd_lr = detail::power(ratio, -e.c);
    w.adam_lr = detail::power(ratio, -e.c_adam);
    w.gradient_scale = detail::gradient_scale(ratio, e.a, readout ? ratio : readout_ratio, backprop);
    w.l2_scale = detail::power(ratio, rational{-2} * e.a);
    return w;
}

// The scaling of a bias: the input-layer exponents (a bias has one dimension and fan_in 1, TP5 Table 3), variance σ_b²;
// ratio = its fan_out ratio (1 for the readout bias, whose fan_out does not grow). σ_b² = 0 keeps a trainable
// zero-initialised bias with multiplier 1.
template <Parametrization P>
tensor_scaling bias_scaling(double ratio, double bias_var, constants_in constants, bool readout, double readout_ratio) {
    const bool in_multiplier = constants == constants_in::multiplier;
    const layer_exponents be = P::input;
    const rational backprop = readout ? rational{0} : P::output.a + P::output.b;
    const double sigma_b = std::sqrt(bias_var);
    tensor_scaling b;
    b.init_std = (in_multiplier ? (sigma_b > 0 ? 1.0 : 0.0) : sigma_b) * detail::power(ratio, -be.b);
    b.multiplier = (in_multiplier && sigma_b > 0 ? sigma_b : 1.0) * detail::power(ratio, -be.a);
    b.sgd_lr = detail::power(ratio, -be.c);
    b.adam_lr = detail::power(ratio, -be.c_adam);
    b.gradient_scale = detail::gradient_scale(ratio, be.a, readout ? ratio : readout_ratio, backprop);
    b.l2_scale = detail::power(ratio, rational{-2} * be.a);
    return b;
}

}  // namespace widenn::nn
