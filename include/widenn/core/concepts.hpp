#pragma once
// The policy roles of widenn, as concepts. Where a concept alone would give a compiler-specific
// wall of text, a check_* function repeats the requirement as a static_assert with a sentence.
#include <concepts>

#include "rational.hpp"

namespace widenn {

// The exponents of one kind of layer in an abc-parametrization (TP4 §3, TP5 Table 3):
//   W = n^{-a} w,  w ~ N(0, n^{-2b}),  SGD learning rate η n^{-c},  Adam learning rate η n^{-c_adam}.
struct layer_exponents {
    rational a{};
    rational b{};
    rational c{};
    rational c_adam{};
    friend constexpr bool operator==(const layer_exponents&, const layer_exponents&) = default;
};

// A parametrization policy: exponents for the input layer (and every bias), the hidden layers
// and the readout; unstable_allowed (set by param::allow_unstable<P>) opts in to instantiating networks that TP4 calls unstable.
template <class P>
concept Parametrization = requires {
    { P::input } -> std::convertible_to<layer_exponents>;
    { P::hidden } -> std::convertible_to<layer_exponents>;
    { P::output } -> std::convertible_to<layer_exponents>;
    { P::unstable_allowed } -> std::convertible_to<bool>;
    { P::max_depth } -> std::convertible_to<int>;
};

// An activation policy: φ and φ' as static function templates of a floating-point argument.
template <class A>
concept Activation = requires(double x, float y) {
    { A::value(x) } -> std::convertible_to<double>;
    { A::derivative(x) } -> std::convertible_to<double>;
    { A::value(y) } -> std::convertible_to<float>;
    { A::derivative(y) } -> std::convertible_to<float>;
};

// Call from every template that takes an activation, so that a malformed one is rejected with a sentence.
template <class A>
consteval bool check_activation() {
    static_assert(requires(double x) { A::value(x); },
                  "widenn: an activation policy needs `template <class T> static T value(T x)` returning phi(x)");
    static_assert(requires(double x) { A::derivative(x); },
                  "widenn: an activation policy needs `template <class T> static T derivative(T x)` returning phi'(x); "
                  "backpropagation and the NTK use it");
    return true;
}

}  // namespace widenn
