#pragma once
// The kernel limit of a composition: from the layer types of nn::serial<Layers...> (nn/layers.hpp) to the run-time
// SPEC that limit::conv_kernel_plan computes (nn/spec.hpp), so that one finite network type names its own kernel:
//
//   using net = nn::network<param::ntk, nn::serial<nn::conv<3>, act::relu, nn::avgpool<2>, nn::conv<3>, act::relu, nn::gap>, double>;
//   using K = limit::of<net>;                       // limit::conv_kernel<param::ntk, nn::serial<...>>
//   K::text();                                      // "conv:3:same:1,relu,avgpool:2,conv:3:same:1,relu,gap"
//   net f({.image = {8, 8, 1}, .width = 512, .d_out = 1, .weight_var = 2, .bias_var = 0.1,
//          .constants = nn::constants_in::multiplier});
//   auto [nngp, ntk] = limit::kernel_plan_for(f, x_train, x_test).compute();   // x: B x (H·W·C) rows, as f takes them
//
// The mapping, layer by layer (the readout Dense(d_out) of nn::network is the SPEC's implicit readout):
//   nn::conv<K, S, Pad>  -> conv:K:PAD:S          nn::avgpool<K, K>   -> avgpool:K
//   nn::dense            -> dense (vector inputs), conv:1 (image inputs: a dense layer on every pixel's channels)
//   nn::layernorm<norm_over::channels> -> layernorm       nn::residual<Ls...> -> res(...)
//   nn::flatten, nn::gap -> flatten, gap (last)   an activation -> its SPEC name (relu, abs, leaky_relu<0.01>, erf<>,
//                                                   sigmoid_like, gelu, tanh, softplus, sin<>, identity, opt_3d)
// Compositions the kernel side has no form for are refused at compile time with a sentence naming the layer: an
// activation without a SPEC name, avgpool with a stride other than its window, layer norm over channels and space,
// and flatten or gap anywhere but last.
#include <cstddef>
#include <string>
#include <string_view>
#include <type_traits>

#include "../act/activations.hpp"
#include "../act/depth_optimal.hpp"
#include "../core/errors.hpp"
#include "../nn/serial.hpp"
#include "../nn/spec.hpp"
#include "../param/classify.hpp"
#include "conv_kernel.hpp"
#include "kernel.hpp"

namespace widenn::limit {

namespace detail {

template <class>
inline constexpr bool always_false = false;

// The SPEC name of an activation policy: exactly the policies limit::conv_kernel evaluates for that name.
template <class A>
constexpr std::string_view spec_activation_name() {
    if constexpr (std::is_same_v<A, act::relu>) return "relu";
    else if constexpr (std::is_same_v<A, act::abs>) return "abs";
    else if constexpr (std::is_same_v<A, act::leaky_relu<0.01>>) return "leaky_relu";
    else if constexpr (std::is_same_v<A, act::erf<>>) return "erf";
    else if constexpr (std::is_same_v<A, act::sigmoid_like>) return "sigmoid_like";
    else if constexpr (std::is_same_v<A, act::gelu>) return "gelu";
    else if constexpr (std::is_same_v<A, act::tanh>) return "tanh";
    else if constexpr (std::is_same_v<A, act::softplus>) return "softplus";
    else if constexpr (std::is_same_v<A, act::sin<>>) return "sin";
    else if constexpr (std::is_same_v<A, act::identity>) return "identity";
    else if constexpr (std::is_same_v<A, act::opt_3d>) return "opt_3d";
    else return {};
}

// The SPEC token of one layer type; Image: whether the network's input is an image (dense -> conv:1).
// (The checks are at class scope, so composition_traits instantiating every token refuses a composition at once.)
template <class L, bool Image>
struct spec_token {
    static_assert(Activation<L>, "widenn: limit::of: this layer type has no SPEC form (not an nn:: layer policy or an activation)");
    static_assert(!spec_activation_name<L>().empty(),
                  "widenn: limit::of: this activation has no SPEC name, so limit::conv_kernel cannot evaluate its dual; the "
                  "composition kernels know relu, abs, leaky_relu<0.01>, erf<>, sigmoid_like, gelu, tanh, softplus, sin<>, "
                  "identity and opt_3d (nn::spec_activation_names)");
    static std::string text() { return std::string(spec_activation_name<L>()); }
};
template <bool Image>
struct spec_token<nn::dense, Image> {
    static std::string text() { return Image ? "conv:1:same:1" : "dense"; }
};
template <std::size_t K, std::size_t S, nn::padding Pad, bool Image>
struct spec_token<nn::conv<K, S, Pad>, Image> {
    static_assert(K >= 1 && K <= static_cast<std::size_t>(nn::max_spec_window),
                  "widenn: limit::of: nn::conv<K>: a SPEC filter has 1 <= K <= nn::max_spec_window");
    static std::string text() {
        return "conv:" + std::to_string(K) + (Pad == nn::padding::same ? ":same:" : Pad == nn::padding::valid ? ":valid:" : ":circular:") +
               std::to_string(S);
    }
};
template <std::size_t K, std::size_t S, bool Image>
struct spec_token<nn::avgpool<K, S>, Image> {
    static_assert(K == S,
                  "widenn: limit::of: nn::avgpool<K, S> with a stride S other than its window K has no kernel here (the SPEC's "
                  "avgpool:K has stride K, as neural-tangents' AvgPool with strides = window)");
    static_assert(K >= 1 && K <= static_cast<std::size_t>(nn::max_spec_window),
                  "widenn: limit::of: nn::avgpool<K>: a SPEC window has 1 <= K <= nn::max_spec_window");
    static std::string text() { return "avgpool:" + std::to_string(K); }
};
template <bool Image>
struct spec_token<nn::gap, Image> {
    static std::string text() { return "gap"; }
};
template <bool Image>
struct spec_token<nn::flatten, Image> {
    static std::string text() { return "flatten"; }
};
template <nn::norm_over Over, bool Image>
struct spec_token<nn::layernorm<Over>, Image> {
    static_assert(Over == nn::norm_over::channels,
                  "widenn: limit::of: nn::layernorm<norm_over::channels_and_space> has no kernel here; the SPEC's layernorm "
                  "normalises over the channels of each pixel (nn::layernorm<>)");
    static std::string text() { return "layernorm"; }
};

template <class L>
inline constexpr bool is_readout_layer = std::is_same_v<L, nn::flatten> || std::is_same_v<L, nn::gap>;

template <bool Image, class... Ls>
std::string spec_list() {
    std::string out;
    ((out += (out.empty() ? "" : ",") + spec_token<Ls, Image>::text()), ...);
    return out;
}
template <class... Ls, bool Image>
struct spec_token<nn::residual<Ls...>, Image> {
    static_assert(!(is_readout_layer<Ls> || ...), "widenn: limit::of: flatten or gap inside nn::residual has no SPEC form");
    static constexpr bool checked = ((sizeof(spec_token<Ls, Image>) > 0) && ...);
    static std::string text() { return "res(" + spec_list<Image, Ls...>() + ")"; }
};

template <class Arch>
struct composition_traits {
    static_assert(always_false<Arch>, "widenn: limit::conv_kernel<P, Arch>: Arch must be nn::serial<Layers...>");
};
template <class... Ls>
struct composition_traits<nn::serial<Ls...>> {
    static constexpr std::size_t size = sizeof...(Ls);
    static constexpr bool image = (nn::layer_rules<Ls>::uses_images || ... || false);
    static constexpr std::size_t readouts = ((is_readout_layer<Ls> ? 1 : 0) + ... + 0);
    static constexpr bool readout_last = [] {
        bool last = false;
        ((last = is_readout_layer<Ls>), ...);
        return last;
    }();
    static_assert(size >= 1, "widenn: limit::of: the composition has no layers");
    static_assert(readouts == 0 || (readouts == 1 && readout_last),
                  "widenn: limit::of: flatten or gap must be the last layer of the composition for its kernel (the SPEC's "
                  "readout Dense follows them); dense layers after flatten have no kernel here");
    static constexpr bool checked = ((sizeof(spec_token<Ls, image>) > 0) && ...);
    static constexpr std::size_t hidden_weight_layers = (nn::weight_layers_of<Ls>::value + ... + 0);
    static std::string text() { return spec_list<image, Ls...>(); }
};

// The TP4 depth at which a composition's parametrization is classified (its hidden weight layers, at least 1).
template <std::size_t Layers>
inline constexpr int classified_depth = Layers < 1 ? 1 : (Layers > static_cast<std::size_t>(param::max_classified_depth) ? param::max_classified_depth
                                                                                                                            : static_cast<int>(Layers));

template <Parametrization P, int L>
consteval bool check_composition_policies() {
    static_assert(param::require_stable<P, L>());
    static_assert(param::classify<P, L>().regime != regime::feature_learning,
                  "widenn: this parametrization learns features (TP4 r = 0), so its infinite-width limit is not a kernel; "
                  "use the feature-learning limits limit::mup_linear / limit::mup_1hl (limit::of<Net> picks them)");
    static_assert(kind_code<P, L>() >= 0,
                  "widenn: limit::conv_kernel knows the NTK parametrization (param::ntk) and the standard parametrization "
                  "(param::standard_lr_1_over_n, or param::allow_unstable<param::standard>) up to the abc shift symmetry; "
                  "this kernel-regime policy is neither");
    return true;
}

}  // namespace detail

// The infinite-width NNGP and NTK of the composition Arch = nn::serial<Layers...> (with nn::network's readout) under
// the kernel-regime parametrization P (NTK or standard, as limit::kernel): limit::of<nn::network<P, Arch, T>> for every
// composition that is not an MLP.
template <Parametrization P, class Arch>
struct conv_kernel {
    using parametrization = P;
    using architecture = Arch;
    using traits = detail::composition_traits<Arch>;
    static_assert(traits::checked);
    static constexpr int classified_depth = detail::classified_depth<traits::hidden_weight_layers>;
    static_assert(detail::check_composition_policies<P, classified_depth>());
    static constexpr parametrization_kind kind =
        detail::kind_code<P, classified_depth>() == 0 ? parametrization_kind::ntk : parametrization_kind::standard;
    // Whether the network takes images (it has conv, avgpool, gap or flatten layers) or vectors N x d.
    static constexpr bool images = traits::image;

    // The SPEC of the composition, in the canonical form of nn::format_spec (parse_spec of it gives spec()).
    static std::string text() { return traits::text(); }
    static nn::spec spec() { return nn::parse_spec(text()); }

    // The NNGP and NTK of X1 against X2 (N x H x W x C images, or N x d for vector compositions).
    template <class T = double, class E1, class E2>
    static kernel_pair<T> kernels(const E1& x1, const E2& x2, const kernel_config& c = {}, spatial_path path = spatial_path::automatic) {
        return conv_kernel_plan<T>(spec(), x1, x2, c, path, kind).compute();
    }
    template <class T = double, class E>
    static kernel_pair<T> kernels(const E& x, const kernel_config& c = {}, spatial_path path = spatial_path::automatic) {
        return conv_kernel_plan<T>(spec(), x, c, path, kind).compute();
    }
    template <class T = double, class E1, class E2>
    static conv_kernel_plan<T> plan(const E1& x1, const E2& x2, const kernel_config& c = {}, spatial_path path = spatial_path::automatic) {
        return conv_kernel_plan<T>(spec(), x1, x2, c, path, kind);
    }
    template <class T = double, class E>
    static conv_kernel_plan<T> plan(const E& x, const kernel_config& c = {}, spatial_path path = spatial_path::automatic) {
        return conv_kernel_plan<T>(spec(), x, c, path, kind);
    }
};

}  // namespace widenn::limit
