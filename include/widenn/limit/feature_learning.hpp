#pragma once
// Which feature-learning limit belongs to a finite network: limit::feature_learning_limit<Net>::type, used by
// limit::of<Net> (limit/of.hpp) for parametrizations in the feature-learning regime (TP4 Cor 3.9: r = 0).
//
//   nn::mlp<param::mup or param::mean_field, act::identity, 1, T>  ->  limit::mup_linear<double>   (TP4 Cor 6.2, exact)
//   nn::mlp<param::mup or param::mean_field, A (nonlinear),  1, T>  ->  limit::mup_1hl<A, double>   (TP4 Thm 6.1, quadrature)
//
// Everything else has no `type`: deep μP networks (L ≥ 2) have no finite-dimensional limit whose cost per step is
// independent of the step count (docs/feature-learning.md: for linear φ the state grows by O(d + d_o) coordinates per
// step, for nonlinear φ TP4 §8 reports super-exponential cost), and parametrizations outside the feature-learning regime
// have kernel limits (limit::kernel). μP and mean-field are the same network for L = 1 (TP4 Eq. 5 with θ = −1/2).
#include <string_view>
#include <type_traits>

#include "../core/concepts.hpp"
#include "../param/abc.hpp"
#include "mup_1hl.hpp"
#include "mup_linear.hpp"

namespace widenn::limit {

// The sentence limit::of and users see when no exact feature-learning limit exists.
inline constexpr const char* feature_learning_limit_support =
    "widenn: an exact feature-learning limit exists only for one-hidden-layer networks (L = 1) in param::mup or "
    "param::mean_field: act::identity gives limit::mup_linear (TP4 Cor 6.2), any other activation gives limit::mup_1hl "
    "(TP4 Thm 6.1 by Gauss-Hermite quadrature). Deep (L >= 2) muP limits have no fixed finite-dimensional form "
    "(see docs/feature-learning.md)";

namespace detail {

template <class P>
inline constexpr bool is_mup_or_mean_field = std::is_same_v<P, param::mup> || std::is_same_v<P, param::mean_field> ||
                                             std::is_same_v<P, param::mup_table3>;

// An activation is linear when φ(x) = x and φ'(x) = 1 at a few points (all act::identity-like policies qualify).
template <class A>
consteval bool is_identity_activation() {
    if constexpr (!Activation<A>) {
        return false;
    } else {
        for (double x : {-2.5, -1.0, 0.0, 0.5, 3.0})
            if (A::value(x) != x || A::derivative(x) != 1.0) return false;
        return true;
    }
}

template <class Net>
concept has_fl_limit_shape = requires {
    typename Net::parametrization;
    typename Net::activation;
    { Net::depth } -> std::convertible_to<int>;
} && Net::depth == 1 && is_mup_or_mean_field<typename Net::parametrization>;

}  // namespace detail

// Primary template: no exact feature-learning limit for Net (no member `type`).
template <class Net>
struct feature_learning_limit {
    static constexpr bool exists = false;
    static constexpr const char* supported = feature_learning_limit_support;
};

template <class Net>
    requires detail::has_fl_limit_shape<Net>
struct feature_learning_limit<Net> {
    static constexpr bool exists = true;
    static constexpr const char* supported = feature_learning_limit_support;
    using type = std::conditional_t<detail::is_identity_activation<typename Net::activation>(), mup_linear<double>,
                                    mup_1hl<typename Net::activation, double>>;
};

// Shorthand with the sentence as a static_assert, for code that needs a limit to exist.
template <class Net>
consteval bool require_feature_learning_limit() {
    static_assert(feature_learning_limit<Net>::exists,
                  "widenn: an exact feature-learning limit exists only for one-hidden-layer networks (L = 1) in param::mup "
                  "or param::mean_field: act::identity gives limit::mup_linear (TP4 Cor 6.2), any other activation gives "
                  "limit::mup_1hl (TP4 Thm 6.1 by Gauss-Hermite quadrature). Deep (L >= 2) muP limits have no fixed "
                  "finite-dimensional form (see docs/feature-learning.md)");
    return true;
}

template <class Net>
using feature_learning_limit_t = typename feature_learning_limit<Net>::type;

}  // namespace widenn::limit
