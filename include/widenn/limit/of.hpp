#pragma once
// limit::of<Net>: the infinite-width limit of a finite network, chosen by what the network is (nn::FiniteNetwork) and
// by its parametrization's TP4 regime (Yang & Hu 2020, "Tensor Programs IV", dichotomy theorem, param::classify):
// the kernel limit limit::kernel<P, A, L> in the kernel regime; in the feature-learning regime the exact limit
// limit::feature_learning_limit<Net>::type (limit::mup_linear or limit::mup_1hl, one hidden layer), or a compile error
// naming them. limit::kernel_config_for(net) configures the kernel limit from the same network object.
#include <type_traits>

#include "../nn/network.hpp"
#include "../param/classify.hpp"
#include "feature_learning.hpp"
#include "kernel.hpp"

namespace widenn::limit {

namespace detail {

template <class Net, regime R, bool IsNetwork = true>
struct limit_of {
    static_assert(R != regime::unstable,
                  "widenn: limit::of<Net>: this parametrization is unstable (TP4), so the network has no infinite-width limit");
    static_assert(R != regime::trivial,
                  "widenn: limit::of<Net>: this parametrization is trivial (TP4): the network does not move as width -> "
                  "infinity; its function at initialisation is the NNGP of limit::kernel<P, A, L>");
    using type = void;
};

template <class Net, regime R>
struct limit_of<Net, R, false> {  // not a network: regime_of has said so
    using type = void;
};

template <class Net>
struct limit_of<Net, regime::kernel, true> {
    using type = kernel<typename Net::parametrization, typename Net::activation, Net::depth>;
};

template <class Net, bool Exists = feature_learning_limit<Net>::exists>
struct feature_learning_type {
    using type = void;
};
template <class Net>
struct feature_learning_type<Net, true> {
    using type = typename feature_learning_limit<Net>::type;
};

template <class Net>
struct limit_of<Net, regime::feature_learning, true> {
    static_assert(require_feature_learning_limit<Net>());
    using type = typename feature_learning_type<Net>::type;
};

template <class Net>
consteval regime regime_of() {
    static_assert(nn::FiniteNetwork<Net>,
                  "widenn: limit::of<Net> needs a finite network type (nn::FiniteNetwork: member types parametrization, "
                  "activation and value_type, a constant depth >= 1 and config(), e.g. nn::mlp<P, A, L, T>)");
    if constexpr (nn::FiniteNetwork<Net>) {
        constexpr int L = Net::depth < param::max_classified_depth ? Net::depth : param::max_classified_depth;
        return param::classify<typename Net::parametrization, L>().regime;
    } else {
        return regime::unstable;
    }
}

}  // namespace detail

// The infinite-width limit of Net: limit::kernel<P, A, L> in the kernel regime (e.g. nn::mlp<param::ntk, act::relu, 3>),
// limit::mup_linear / limit::mup_1hl for one-hidden-layer feature-learning networks (e.g. nn::mlp<param::mup, act::tanh, 1>).
template <class Net>
using of = typename detail::limit_of<Net, detail::regime_of<Net>(), nn::FiniteNetwork<Net>>::type;

// The kernel_config of limit::of<Net> for the finite network `net`: weight_var, bias_var, bias and width from its
// configuration (the other fields from `base`), so that a network and its kernel limit come from one object. Throws
// widenn::error when the network's constants do not give the kernel's parametrization:
//   NTK parametrization (param::ntk and its shifts): the kernel is neural-tangents' NTK parametrization, which is
//     nn::mlp with constants_in::multiplier, and biases with bias_var > 0 (a zero-initialised trainable bias has
//     multiplier 1 and adds 1 per layer to the NTK, a term this kernel does not have);
//   standard parametrization: constants_in::init at base_width = width (gradients with respect to W itself).
template <class Net>
kernel_config kernel_config_for(const Net& net, kernel_config base = {}) {
    static_assert(nn::FiniteNetwork<Net>,
                  "widenn: limit::kernel_config_for(net) needs a finite network (nn::FiniteNetwork, e.g. nn::mlp<P, A, L, T>)");
    static_assert(detail::regime_of<Net>() == regime::kernel,
                  "widenn: limit::kernel_config_for(net): this network is not in the kernel regime (TP4), so it has no kernel "
                  "limit to configure; limit::of<Net> names its limit (for mup_linear / mup_1hl use "
                  "limit::mup_linear_options_for / limit::mup_1hl_options_for)");
    if constexpr (nn::FiniteNetwork<Net> && detail::regime_of<Net>() == regime::kernel) {
    using lim = of<Net>;
    const auto& c = net.config();
    const char* where = "limit::kernel_config_for";
    if constexpr (lim::kind == parametrization_kind::ntk) {
        require(c.constants == nn::constants_in::multiplier, where,
                ": this network is in the NTK parametrization with constants_in::init, which is not neural-tangents' NTK "
                "parametrization that limit::kernel computes (its empirical NTK is about width / weight_var times larger, and "
                "learning rates from the analytic kernel diverge); build it with .constants = nn::constants_in::multiplier");
        require(!c.bias || c.bias_var > 0, where,
                ": this NTK-parametrized network has trainable biases initialised at zero (bias_var = 0); they add 1 per layer "
                "to its NTK, which limit::kernel's NTK parametrization does not have; set bias_var > 0 or bias = false");
    } else {
        require(c.constants == nn::constants_in::init && c.base_width == c.width, where,
                ": the standard parametrization's kernel is that of constants_in::init at base_width = width (gradients with "
                "respect to W itself); this network has constants_in::",
                c.constants == nn::constants_in::init ? "init" : "multiplier", ", width ", c.width, " and base_width ", c.base_width);
    }
    base.weight_var = c.weight_var;
    base.bias_var = c.bias ? c.bias_var : 0.0;
    base.bias = c.bias;
    base.width = c.width;
    }
    return base;
}

}  // namespace widenn::limit
