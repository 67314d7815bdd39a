#pragma once
// abc-parametrizations (Yang & Hu 2020, "Tensor Programs IV", §3) and the presets of TP4 and
// TP5 ("Tensor Programs V", Table 3), as compile-time policies.
#include "../core/concepts.hpp"
#include "../core/rational.hpp"

namespace widenn::param {

using widenn::layer_exponents;

// The policy: one set of exponents per layer kind. Biases use the input-layer exponents
// (a bias has one infinite dimension and fan_in 1, TP5 Table 3). MaxDepth > 0 restricts the
// number of hidden layers the preset is defined for (mean-field: 1).
template <layer_exponents Input, layer_exponents Hidden, layer_exponents Output, int MaxDepth = 0>
struct abc {
    static constexpr layer_exponents input = Input;
    static constexpr layer_exponents hidden = Hidden;
    static constexpr layer_exponents output = Output;
    static constexpr int max_depth = MaxDepth;
    static constexpr bool unstable_allowed = false;
};

// Opt in to an unstable parametrization (for experiments that show the instability).
template <Parametrization P>
struct allow_unstable : P {
    static constexpr bool unstable_allowed = true;
};

namespace detail {
// TP4 Eq. 5 (global symmetry): a + θ, b − θ, c − 2θ leaves the SGD trajectory unchanged;
// under Adam the learning-rate exponent moves by −θ (and ε by n^{-θ}; see docs/theory/abc-parametrization.md §2).
constexpr layer_exponents shifted(layer_exponents e, rational theta) {
    return {e.a + theta, e.b - theta, e.c - rational{2} * theta, e.c_adam - theta};
}
}  // namespace detail

// The parametrization P shifted by θ (TP4 Eq. 5): the same network function at every step. A named type, so compiler
// messages print shift<mup, rational{1, 2}> rather than its exponents.
template <Parametrization P, rational Theta>
struct shift : abc<detail::shifted(P::input, Theta), detail::shifted(P::hidden, Theta), detail::shifted(P::output, Theta),
                   P::max_depth> {};

// ---- presets (docs/theory/abc-parametrization.md §4 and §5) ----

// Standard parametrization with a width-independent learning rate (the PyTorch default). Unstable (TP4 Thm 4.1).
struct standard : abc<layer_exponents{.a = 0, .b = 0, .c = 0, .c_adam = 0},        // input
                     layer_exponents{.a = 0, .b = {1, 2}, .c = 0, .c_adam = 0},   // hidden
                     layer_exponents{.a = 0, .b = {1, 2}, .c = 0, .c_adam = 0}> {};  // output

// Standard parametrization with learning rate η/n (SGD and Adam): stable, kernel regime.
struct standard_lr_1_over_n : abc<layer_exponents{.a = 0, .b = 0, .c = 1, .c_adam = 1},
                                 layer_exponents{.a = 0, .b = {1, 2}, .c = 1, .c_adam = 1},
                                 layer_exponents{.a = 0, .b = {1, 2}, .c = 1, .c_adam = 1}> {};

// NTK parametrization (Jacot et al. 2018): multipliers n^{-1/2} past the first layer, unit init.
struct ntk : abc<layer_exponents{.a = 0, .b = 0, .c = 0, .c_adam = 0},
                layer_exponents{.a = {1, 2}, .b = 0, .c = 0, .c_adam = 0},
                layer_exponents{.a = {1, 2}, .b = 0, .c = 0, .c_adam = 0}> {};

// Mean-field parametrization, one hidden layer only (TP4 §4): readout multiplier 1/n, lr η n.
struct mean_field : abc<layer_exponents{.a = 0, .b = 0, .c = -1, .c_adam = 0},
                       layer_exponents{.a = {1, 2}, .b = 0, .c = 0, .c_adam = 0},
                       layer_exponents{.a = 1, .b = 0, .c = -1, .c_adam = 0}, /*MaxDepth=*/1> {};

// Maximal update parametrization in TP4's form (Def. 5.1). Adam exponents follow from TP5 Table 3
// by the per-layer Adam shift (a + θ, b − θ, c − θ).
struct mup : abc<layer_exponents{.a = {-1, 2}, .b = {1, 2}, .c = 0, .c_adam = {1, 2}},
                layer_exponents{.a = 0, .b = {1, 2}, .c = 0, .c_adam = 1},
                layer_exponents{.a = {1, 2}, .b = {1, 2}, .c = 0, .c_adam = {1, 2}}> {};

// μP in TP5 Table 3's form: no multipliers, per-layer learning rates. Equivalent to param::mup.
struct mup_table3 : abc<layer_exponents{.a = 0, .b = 0, .c = -1, .c_adam = 0},
                       layer_exponents{.a = 0, .b = {1, 2}, .c = 0, .c_adam = 1},
                       layer_exponents{.a = 0, .b = 1, .c = 1, .c_adam = 1}> {};

// μP in the form of the `mup` package (TP5 Table 8): the readout W = w/fan_in (`MuReadout`'s multiplier) with a
// width-independent initialisation and learning rates η·fan_in (SGD) and η (Adam); input weights, biases and hidden
// weights as in Table 3. Table 3's readout shifted by θ = 1 (a + θ, b − θ, c − 2θ, c_adam − θ), so it trains exactly
// as param::mup and param::mup_table3 (per-tensor symmetry; under Adam with ε scaled per tensor).
struct mup_package : abc<layer_exponents{.a = 0, .b = 0, .c = -1, .c_adam = 0},
                        layer_exponents{.a = 0, .b = {1, 2}, .c = 0, .c_adam = 1},
                        layer_exponents{.a = 1, .b = 0, .c = -1, .c_adam = 0}> {};

}  // namespace widenn::param
