#pragma once
// limit::of<Net>: the infinite-width limit of a finite network, chosen by what the network is (nn::FiniteNetwork) and
// by its parametrization's TP4 regime (Yang & Hu 2020, "Tensor Programs IV", dichotomy theorem, param::classify):
// the kernel limit limit::kernel<P, A, L> in the kernel regime; in the feature-learning regime the exact limit
// limit::feature_learning_limit<Net>::type (limit::mup_linear or limit::mup_1hl, one hidden layer), or a compile error
// naming them. limit::kernel_config_for(net) configures the kernel limit from the same network object.
// Compositions nn::network<P, nn::serial<Layers...>, T> that are not MLPs have the kernel limit
// limit::conv_kernel<P, nn::serial<Layers...>> (limit/composition.hpp), configured by kernel_config_for(net) too, and
// limit::kernel_plan_for(net, x1, x2) builds their kernel plan from the network object and its input rows.
#include <string>
#include <type_traits>
#include <utility>

#include <xtensor/xarray.hpp>

#include "../core/tensor.hpp"
#include "../nn/network.hpp"
#include "../nn/serial.hpp"
#include "../param/classify.hpp"
#include "composition.hpp"
#include "conv_kernel.hpp"
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

// A composition that is not an MLP: nn::network<P, nn::serial<Layers...>, T> without nn::FiniteNetwork's members.
template <class Net>
concept composition_network = nn::is_network<Net> && !nn::FiniteNetwork<Net>;

template <class Net, bool Mlp = nn::FiniteNetwork<Net>>
struct kernel_limit_of {
    using type = kernel<typename Net::parametrization, typename Net::activation, Net::depth>;
};
template <class Net>
struct kernel_limit_of<Net, false> {
    using type = conv_kernel<typename Net::parametrization, typename Net::architecture>;
    static_assert(sizeof(type) > 0);  // its checks (a layer without a kernel form, the parametrization) now
};

template <class Net>
struct limit_of<Net, regime::kernel, true> {
    using type = typename kernel_limit_of<Net>::type;
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
    if constexpr (composition_network<Net>) {
        return param::classify<typename Net::parametrization, classified_depth<Net::hidden_weight_layers>>().regime;
    } else {
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
}

}  // namespace detail

// The infinite-width limit of Net: limit::kernel<P, A, L> in the kernel regime (e.g. nn::mlp<param::ntk, act::relu, 3>),
// limit::mup_linear / limit::mup_1hl for one-hidden-layer feature-learning networks (e.g. nn::mlp<param::mup, act::tanh, 1>).
template <class Net>
using of = typename detail::limit_of<Net, detail::regime_of<Net>(), nn::FiniteNetwork<Net> || detail::composition_network<Net>>::type;

// The kernel_config of limit::of<Net> for the finite network `net`: weight_var, bias_var, bias and width from its
// configuration (the other fields from `base`), so that a network and its kernel limit come from one object. Throws
// widenn::error when the network's constants do not give the kernel's parametrization:
//   NTK parametrization (param::ntk and its shifts): the kernel is neural-tangents' NTK parametrization, which is
//     nn::mlp with constants_in::multiplier, and biases with bias_var > 0 (a zero-initialised trainable bias has
//     multiplier 1 and adds 1 per layer to the NTK, a term this kernel does not have);
//   standard parametrization: constants_in::init at base_width = width (gradients with respect to W itself).
namespace detail {
// The constants of a finite network against its kernel's parametrization (kernel_config_for below).
template <class Config>
void check_kernel_constants(parametrization_kind kind, const Config& c, bool base_is_width, const char* where) {
    if (kind == parametrization_kind::ntk) {
        require(c.constants == nn::constants_in::multiplier, where,
                ": this network is in the NTK parametrization with constants_in::init, which is not neural-tangents' NTK "
                "parametrization that limit::kernel computes (its empirical NTK is about width / weight_var times larger, and "
                "learning rates from the analytic kernel diverge); build it with .constants = nn::constants_in::multiplier");
        require(!c.bias || c.bias_var > 0, where,
                ": this NTK-parametrized network has trainable biases initialised at zero (bias_var = 0); they add 1 per layer "
                "to its NTK, which limit::kernel's NTK parametrization does not have; set bias_var > 0 or bias = false");
    } else {
        require(c.constants == nn::constants_in::init && base_is_width, where,
                ": the standard parametrization's kernel is that of constants_in::init at base_width = width (gradients with "
                "respect to W itself); this network has constants_in::",
                c.constants == nn::constants_in::init ? "init" : "multiplier", ", width ", c.width, " and base_width ", c.base_width);
    }
}
}  // namespace detail

template <class Net>
    requires(!detail::composition_network<Net>)
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
    // (an MLP-shaped nn::network reads base_width = 0 as "the width itself")
    const bool base_is_width = c.base_width == c.width || (nn::is_network<Net> && c.base_width == 0);
    detail::check_kernel_constants(lim::kind, c, base_is_width, "limit::kernel_config_for");
    base.weight_var = c.weight_var;
    base.bias_var = c.bias ? c.bias_var : 0.0;
    base.bias = c.bias;
    base.width = c.width;
    }
    return base;
}

// The same for a composition (limit::conv_kernel<P, nn::serial<...>>): weight_var, bias_var, bias and width from the
// network's configuration. The NTK parametrization needs constants_in::multiplier (and bias_var > 0 or no biases), as
// above; any hidden widths (config.widths) give the same infinite-width kernel. The standard parametrization's NTK grows
// with the width, so it needs one width for every dense and conv layer, at base width = width.
template <class Net>
    requires detail::composition_network<Net>
kernel_config kernel_config_for(const Net& net, kernel_config base = {}) {
    static_assert(detail::regime_of<Net>() == regime::kernel,
                  "widenn: limit::kernel_config_for(net): this network is not in the kernel regime (TP4), so it has no kernel "
                  "limit to configure; limit::of<Net> names its limit (for mup_linear / mup_1hl use "
                  "limit::mup_linear_options_for / limit::mup_1hl_options_for)");
    if constexpr (detail::regime_of<Net>() == regime::kernel) {
        using lim = of<Net>;
        const auto& c = net.config();
        const char* where = "limit::kernel_config_for";
        // every dense/conv layer's width and base width, as nn::network resolves them
        const std::size_t layers = c.widths.empty() ? (c.base_widths.empty() ? 1 : c.base_widths.size()) : c.widths.size();
        const std::size_t width = c.widths.empty() ? c.width : c.widths.front();
        bool uniform = true, base_is_width = true;
        for (std::size_t k = 0; k < layers; ++k) {
            const std::size_t w = c.widths.empty() ? c.width : c.widths[k];
            const std::size_t b = !c.base_widths.empty() ? c.base_widths[k] : (c.base_width > 0 ? c.base_width : w);
            uniform = uniform && w == width;
            base_is_width = base_is_width && b == w;
        }
        if (lim::kind == parametrization_kind::standard)
            require(uniform, where, ": the standard parametrization's NTK grows with the hidden width, so the kernel needs one width "
                                    "for every dense and conv layer; this network's widths differ");
        detail::check_kernel_constants(lim::kind, c, base_is_width, where);
        base.weight_var = c.weight_var;
        base.bias_var = c.bias ? c.bias_var : 0.0;
        base.bias = c.bias;
        base.width = width;
    }
    return base;
}

namespace detail {
// The network's input rows (B x d_in) as the kernel's inputs: B x H x W x C images, or B x d.
template <class T, class Net, class M>
xt::xarray<T> kernel_inputs(const Net& net, const M& x, const char* which) {
    const auto& c = net.config();
    const auto& shape = x.shape();
    if (shape.size() != 2 || shape[1] != c.d_in) {
        std::string text;
        for (std::size_t k = 0; k < shape.size(); ++k) text += (k ? " x " : "") + std::to_string(shape[k]);
        fail<shape_error>("limit::kernel_plan_for: ", which, " must be the network's input rows, N x ", c.d_in, ", got ", text);
    }
    const std::size_t n = shape[0];
    xt::xarray<T> out = c.image.channels > 0 ? xt::xarray<T>::from_shape({n, c.image.height, c.image.width, c.image.channels})
                                             : xt::xarray<T>::from_shape({n, c.d_in});
    std::size_t k = 0;
    for (auto it = x.begin(); it != x.end(); ++it, ++k) out.data()[k] = static_cast<T>(*it);
    return out;
}
}  // namespace detail

// The kernel plan of a composition network from the network object itself: its SPEC (limit::of<Net>), the
// kernel_config of kernel_config_for(net, base), and X1, X2 as the network takes them (N x d_in rows, NHWC for images).
template <class T = double, class Net, class M1, class M2>
    requires detail::composition_network<Net>
conv_kernel_plan<T> kernel_plan_for(const Net& net, const M1& x1, const M2& x2, kernel_config base = {},
                                    spatial_path path = spatial_path::automatic) {
    const kernel_config c = kernel_config_for(net, std::move(base));
    return of<Net>::template plan<T>(detail::kernel_inputs<T>(net, x1, "X1"), detail::kernel_inputs<T>(net, x2, "X2"), c, path);
}
template <class T = double, class Net, class M>
    requires detail::composition_network<Net>
conv_kernel_plan<T> kernel_plan_for(const Net& net, const M& x, kernel_config base = {}, spatial_path path = spatial_path::automatic) {
    const kernel_config c = kernel_config_for(net, std::move(base));
    return of<Net>::template plan<T>(detail::kernel_inputs<T>(net, x, "X"), c, path);
}

}  // namespace widenn::limit
