#pragma once
// limit::of<Net>: the infinite-width limit of a network type, chosen from its parametrization's TP4 regime
// (Yang & Hu 2020, "Tensor Programs IV", dichotomy theorem): the kernel limit limit::kernel<P, A, L> in the kernel
// regime; in the feature-learning regime the limit named by limit::feature_learning_limit<Net>::type
// (include/widenn/limit/feature_learning.hpp), or a compile error naming limit::mup_linear / limit::mup_1hl.
#include <type_traits>

#include "../param/classify.hpp"
#include "kernel.hpp"

#if __has_include("feature_learning.hpp")
#include "feature_learning.hpp"
#define WIDENN_LIMIT_HAS_FEATURE_LEARNING 1
#endif

namespace widenn::limit {

namespace detail {

template <class>
inline constexpr bool always_false = false;

template <class Net>
concept network_type = requires {
    typename Net::parametrization;
    typename Net::activation;
    { Net::depth } -> std::convertible_to<int>;
};

template <class Net, regime R>
struct limit_of {
    static_assert(R != regime::unstable,
                  "widenn: limit::of<Net>: this parametrization is unstable (TP4), so the network has no infinite-width limit");
    static_assert(R != regime::trivial,
                  "widenn: limit::of<Net>: this parametrization is trivial (TP4): the network does not move as width -> "
                  "infinity; its function at initialisation is the NNGP of limit::kernel<P, A, L>");
};

template <class Net>
struct limit_of<Net, regime::kernel> {
    using type = kernel<typename Net::parametrization, typename Net::activation, Net::depth>;
};

template <class Net>
struct limit_of<Net, regime::feature_learning> {
#ifdef WIDENN_LIMIT_HAS_FEATURE_LEARNING
    static_assert(requires { typename feature_learning_limit<Net>::type; },
                  "widenn: limit::of<Net>: this network learns features (TP4 r = 0) and no exact feature-learning limit "
                  "exists for its activation and depth; the available ones are limit::mup_linear (linear activation) and "
                  "limit::mup_1hl (one hidden layer)");
    using type = typename feature_learning_limit<Net>::type;
#else
    static_assert(always_false<Net>,
                  "widenn: limit::of<Net>: this network learns features (TP4 r = 0), so its limit is not a kernel; use the "
                  "feature-learning limits limit::mup_linear (linear activation) or limit::mup_1hl (one hidden layer)");
    using type = void;
#endif
};

template <class Net>
consteval regime regime_of() {
    static_assert(network_type<Net>,
                  "widenn: limit::of<Net> needs a network type with members parametrization, activation and depth "
                  "(e.g. nn::mlp<P, A, L, T>)");
    constexpr int L = Net::depth < param::max_classified_depth ? Net::depth : param::max_classified_depth;
    return param::classify<typename Net::parametrization, L>().regime;
}

}  // namespace detail

// The infinite-width limit of Net (e.g. nn::mlp<param::ntk, act::relu, 3>): limit::kernel<P, A, L> in the kernel regime.
template <class Net>
using of = typename detail::limit_of<Net, detail::regime_of<Net>()>::type;

}  // namespace widenn::limit
