#pragma once
// nn::dynamic_network<P, T>: the finite network of a run-time SPEC (nn/spec.hpp), e.g. the one `widenn coord-check
// --arch SPEC` trains:
//
//   nn::dynamic_network<param::mup, float> f("conv:3,relu,avgpool:2,conv:3,relu,gap",
//                                             {.image = {28, 28, 1}, .width = 128, .d_out = 10, .base_width = 32, .seed = 1});
//   nn::sgd opt(f.parameters(), {.lr = 0.1});   // forward, backward, parameters(): as nn::network
//
// Each layer is a type-erased wrapper around the layer state nn::network uses (nn/layers.hpp: dense_state,
// conv_state<T, K, S, Pad>, activation_state<T, A>, avgpool_state<T, K, K>, gap_state, flatten_state,
// layernorm_state<T, norm_over::channels>, residual_of with a run-time chain), so there is one implementation of every
// layer's numerics. The network around them (widths, the parametrization's scaling from each tensor's role and width
// ratio, initialisation from rng::stream(seed, 2l) and (seed, 2l + 1), the readout Dense(d_out), forward, backward,
// for_each_output) follows nn::network<P, serial<...>, T> step by step, so the same SPEC gives bit for bit the same
// parameters, outputs and SGD steps as the compile-time network (tests/nn/dynamic.cpp).
//
// The compile-time arguments instantiated (the run-time SPEC must stay inside them; anything else is refused with a
// sentence): conv:K with K in 1..7 (dynamic_max_conv), stride 1 or 2, padding same, valid or circular; avgpool:K with K
// in 1..4 (dynamic_max_pool, stride K); the SPEC's activations (spec_activation_names: relu, abs, leaky_relu (slope
// 0.01), erf, sigmoid_like, gelu, tanh, softplus, sin, identity, opt_3d); dense; layernorm over the channels of each
// pixel; res( ) blocks; flatten; gap.
//
// Unlike nn::network, the stability of P cannot be checked at compile time (the depth is known at run time only): an
// unstable P (TP4 Thm 3.3 at the SPEC's number of dense/conv layers) is refused when the network is built unless it is
// wrapped in param::allow_unstable<P>.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../act/activations.hpp"
#include "../act/depth_optimal.hpp"
#include "../core/checked.hpp"
#include "../core/errors.hpp"
#include "../core/rng.hpp"
#include "../core/tensor.hpp"
#include "../param/classify.hpp"
#include "layers.hpp"
#include "scaling.hpp"
#include "serial.hpp"
#include "spec.hpp"
#include "trainable.hpp"

namespace widenn::nn {

inline constexpr std::size_t dynamic_max_conv = 7;  // conv:K, K in 1..7
inline constexpr std::size_t dynamic_max_pool = 4;  // avgpool:K, K in 1..4

// Calls f.template operator()<A>() for the activation policy of a SPEC activation name (spec_activation_names).
template <class F>
decltype(auto) with_spec_activation(std::string_view name, F&& f) {
    if (name == "relu") return f.template operator()<act::relu>();
    if (name == "abs") return f.template operator()<act::abs>();
    if (name == "leaky_relu") return f.template operator()<act::leaky_relu<0.01>>();
    if (name == "erf") return f.template operator()<act::erf<>>();
    if (name == "sigmoid_like") return f.template operator()<act::sigmoid_like>();
    if (name == "gelu") return f.template operator()<act::gelu>();
    if (name == "tanh") return f.template operator()<act::tanh>();
    if (name == "softplus") return f.template operator()<act::softplus>();
    if (name == "sin") return f.template operator()<act::sin<>>();
    if (name == "identity") return f.template operator()<act::identity>();
    if (name == "opt_3d") return f.template operator()<act::opt_3d>();
    fail("nn::dynamic_network: '", name, "' is not an activation of a SPEC");
}

namespace detail {

// One layer state behind a virtual interface (the interface of the states in nn/layers.hpp).
template <class T>
struct dynamic_layer {
    virtual ~dynamic_layer() = default;
    virtual signal_shape setup(const signal_shape& s, build_context<T>& ctx) = 0;
    virtual const T* forward(const T* x, std::size_t batch) = 0;
    virtual const T* backward(const T* x, const T* dy, std::size_t batch, bool need_dx) = 0;
    virtual const T* output() const = 0;
    virtual void for_each_parameter(const std::function<void(parameter<T>&)>& f) = 0;
    virtual std::string_view kind() const = 0;
    virtual bool passes_through() const = 0;  // flatten: its output is its input
};

template <class T, class State>
struct dynamic_layer_of final : dynamic_layer<T> {
    State state;
    signal_shape setup(const signal_shape& s, build_context<T>& ctx) override { return state.setup(s, ctx); }
    const T* forward(const T* x, std::size_t batch) override { return state.forward(x, batch); }
    const T* backward(const T* x, const T* dy, std::size_t batch, bool need_dx) override { return state.backward(x, dy, batch, need_dx); }
    const T* output() const override { return state.output(); }
    void for_each_parameter(const std::function<void(parameter<T>&)>& f) override { state.for_each_parameter(f); }
    std::string_view kind() const override { return State::kind; }
    bool passes_through() const override { return nn::passes_through<T, State>; }
};

// chain<T, Ls...> with a run-time list of layers: the same forward and backward walk.
template <class T>
struct dynamic_chain {
    std::vector<std::unique_ptr<dynamic_layer<T>>> layers;
    std::vector<signal_shape> shapes;
    const T* input_ = nullptr;

    signal_shape setup(const signal_shape& in, build_context<T>& ctx) {
        shapes.assign(layers.size() + 1, signal_shape{});
        shapes[0] = in;
        for (std::size_t i = 0; i < layers.size(); ++i) shapes[i + 1] = layers[i]->setup(shapes[i], ctx);
        return shapes.back();
    }
    const T* forward(const T* x, std::size_t batch) {
        input_ = x;
        const T* p = x;
        for (auto& l : layers) p = l->forward(p, batch);
        return p;
    }
    const T* backward(const T* x, const T* dy, std::size_t batch, bool need_dx) {
        input_ = x;
        const T* d = dy;
        for (std::size_t i = layers.size(); i-- > 0;) d = layers[i]->backward(input_of(i), d, batch, need_dx || i > 0);
        return d;
    }
    void rebind(const T* x) { input_ = x; }
    const T* output() const { return input_of(layers.size()); }
    // The input of layer j (0-based), i.e. the output of layer j - 1.
    const T* input_of(std::size_t j) const {
        while (j > 0 && layers[j - 1]->passes_through()) --j;
        return j == 0 ? input_ : layers[j - 1]->output();
    }
    template <class F>
    void for_each_parameter(F&& f) {
        const std::function<void(parameter<T>&)> g = [&](parameter<T>& p) { f(p); };
        for (auto& l : layers) l->for_each_parameter(g);
    }
};

template <class T, class State>
std::unique_ptr<dynamic_layer<T>> make_dynamic_layer() {
    return std::make_unique<dynamic_layer_of<T, State>>();
}

template <class T, std::size_t S, padding Pad>
std::unique_ptr<dynamic_layer<T>> make_dynamic_conv(std::size_t k) {
    std::unique_ptr<dynamic_layer<T>> out;
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        ((k == I + 1 ? (out = make_dynamic_layer<T, conv_state<T, I + 1, S, Pad>>(), 0) : 0), ...);
    }(std::make_index_sequence<dynamic_max_conv>{});
    return out;
}

template <class T>
std::unique_ptr<dynamic_layer<T>> make_dynamic_conv(const layer_spec& l) {
    require(l.size >= 1 && static_cast<std::size_t>(l.size) <= dynamic_max_conv, "nn::dynamic_network: layer ", layer_name(l),
            ": the finite network is instantiated for conv:K with K in 1..", dynamic_max_conv, ", got K = ", l.size);
    const auto k = static_cast<std::size_t>(l.size);
    const bool two = l.stride == 2;
    require(l.stride == 1 || two, "nn::dynamic_network: layer ", layer_name(l), ": the stride must be 1 or 2, got ", l.stride);
    switch (l.pad) {
        case padding::same: return two ? make_dynamic_conv<T, 2, padding::same>(k) : make_dynamic_conv<T, 1, padding::same>(k);
        case padding::valid: return two ? make_dynamic_conv<T, 2, padding::valid>(k) : make_dynamic_conv<T, 1, padding::valid>(k);
        case padding::circular: return two ? make_dynamic_conv<T, 2, padding::circular>(k) : make_dynamic_conv<T, 1, padding::circular>(k);
    }
    fail("nn::dynamic_network: layer ", layer_name(l), " has an unknown padding");
}

template <class T>
std::unique_ptr<dynamic_layer<T>> make_dynamic_pool(const layer_spec& l) {
    require(l.size >= 1 && static_cast<std::size_t>(l.size) <= dynamic_max_pool && l.stride == l.size, "nn::dynamic_network: layer ",
            layer_name(l), ": the finite network is instantiated for avgpool:K with K in 1..", dynamic_max_pool,
            " (stride K), got K = ", l.size);
    const auto k = static_cast<std::size_t>(l.size);
    std::unique_ptr<dynamic_layer<T>> out;
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        ((k == I + 1 ? (out = make_dynamic_layer<T, avgpool_state<T, I + 1, I + 1>>(), 0) : 0), ...);
    }(std::make_index_sequence<dynamic_max_pool>{});
    return out;
}

template <class T>
dynamic_chain<T> make_dynamic_chain(const std::vector<layer_spec>& layers, int depth);

template <class T>
std::unique_ptr<dynamic_layer<T>> make_dynamic_layer(const layer_spec& l, int depth) {
    switch (l.kind) {
        case layer_kind::dense: return make_dynamic_layer<T, dense_state<T>>();
        case layer_kind::conv: return make_dynamic_conv<T>(l);
        case layer_kind::avgpool: return make_dynamic_pool<T>(l);
        case layer_kind::gap: return make_dynamic_layer<T, gap_state<T>>();
        case layer_kind::flatten: return make_dynamic_layer<T, flatten_state<T>>();
        case layer_kind::layernorm: return make_dynamic_layer<T, layernorm_state<T, norm_over::channels>>();
        case layer_kind::activation:
            return with_spec_activation(l.activation, [&]<class A>() { return make_dynamic_layer<T, activation_state<T, A>>(); });
        case layer_kind::residual: {
            require(depth < max_spec_nesting, "nn::dynamic_network: res( ) blocks are nested more than ", max_spec_nesting, " deep");
            require(!l.inner.empty(), "nn::dynamic_network: the residual block ", layer_name(l), " is empty");
            auto r = std::make_unique<dynamic_layer_of<T, residual_of<T, dynamic_chain<T>>>>();
            r->state.body = make_dynamic_chain<T>(l.inner, depth + 1);
            return r;
        }
    }
    fail("nn::dynamic_network: layer ", layer_name(l), " has an unknown kind");
}

template <class T>
dynamic_chain<T> make_dynamic_chain(const std::vector<layer_spec>& layers, int depth) {
    dynamic_chain<T> c;
    for (const layer_spec& l : layers) c.layers.push_back(make_dynamic_layer<T>(l, depth));
    return c;
}

// The number of dense and conv layers (inside res( ) blocks too).
inline std::size_t weight_layer_count(const std::vector<layer_spec>& layers) {
    std::size_t n = 0;
    for (const layer_spec& l : layers)
        n += l.kind == layer_kind::dense || l.kind == layer_kind::conv ? 1 : l.kind == layer_kind::residual ? weight_layer_count(l.inner) : 0;
    return n;
}

}  // namespace detail

template <Parametrization P, class T = float>
class dynamic_network {
    static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "widenn::nn::dynamic_network: the value type must be float or double (BLAS)");

public:
    using parametrization = P;
    using value_type = T;

    dynamic_network(std::string_view text, const network_config& config) : dynamic_network(parse_spec(text), config) {}
    dynamic_network(const spec& s, const network_config& config) : spec_(s), config_(config) {
        constexpr const char* where = "nn::dynamic_network";
        require(!spec_.layers.empty(), where, ": the SPEC has no layers");
        hidden_weight_layers_ = detail::weight_layer_count(spec_.layers);
        check_stable();
        body_ = detail::make_dynamic_chain<T>(spec_.layers, 0);
        const signal_shape in = detail::checked_input(config_, where);
        build_context<T> ctx;
        ctx.bias = config_.bias;
        resolve_widths(ctx);
        const signal_shape last = body_.setup(in, ctx);
        require<shape_error>(!last.image, where, ": the last layer gives an image (", last.str(),
                             "); the readout needs a vector: end the SPEC with flatten or gap");
        readout_ = std::make_unique<dense_state<T>>();
        readout_->setup(last, ctx, config_.d_out);
        require_memory(checked_product({parameter_count(), 2 * sizeof(T)}, where), "nn::dynamic_network parameters", "use a smaller width");
        initialise(ctx);
        for_each_parameter([&](parameter<T>& p) { list_.push_back(&p); });
        parameters_ = parameter_list<T>(list_);
    }
    dynamic_network(const dynamic_network&) = delete;  // the layers hold pointers into each other's buffers
    dynamic_network& operator=(const dynamic_network&) = delete;

    const nn::spec& architecture() const { return spec_; }
    const network_config& config() const { return config_; }
    std::size_t size() const { return spec_.layers.size(); }  // top-level layers, without the readout
    std::size_t hidden_weight_layers() const { return hidden_weight_layers_; }
    std::size_t weight_layers() const { return hidden_weight_layers_ + 1; }
    // The signal's shape after top-level layer i (0: the input).
    const signal_shape& shape(std::size_t i) const {
        require<shape_error>(i <= size(), "nn::dynamic_network::shape: i must be in 0..", size(), ", got ", i);
        return body_.shapes[i];
    }
    parameter_list<T>& parameters() { return parameters_; }
    std::size_t parameter_count() {
        std::size_t n = 0;
        for_each_parameter([&](parameter<T>& p) { n += p.size(); });
        return n;
    }
    template <class F>
    void for_each_parameter(F&& f) {
        body_.for_each_parameter(f);
        readout_->for_each_parameter(f);
    }

    // B x d_in -> B x d_out. The returned reference stays valid until the next forward.
    const matrix<T>& forward(const matrix<T>& x) {
        detail::require_forward_input(x, config_.d_in, "nn::dynamic_network::forward");
        const std::size_t batch = x.shape(0);
        forward_batch_ = 0;
        detail::copy_finite_output(readout_->forward(body_.forward(x.data(), batch), batch), batch, config_.d_out, out_,
                                   "nn::dynamic_network::forward");
        forward_batch_ = batch;
        forward_input_ = x.data();
        return out_;
    }

    // The gradients of the loss with respect to every trainable tensor, written into the parameters (overwritten).
    parameter_list<T>& backward(const matrix<T>& x, const matrix<T>& dloss_dout) {
        constexpr const char* where = "nn::dynamic_network::backward";
        require(forward_batch_ > 0, where, ": call forward first");
        require_shape(x, forward_batch_, config_.d_in, where, "input batch (the batch of the last forward)");
        if (x.data() != forward_input_) detail::require_finite_squared_norm(x, where, "input batch");
        require_shape(dloss_dout, forward_batch_, config_.d_out, where, "dloss/dout");
        detail::require_finite_squared_norm(dloss_dout, where, "dloss/dout");
        body_.rebind(x.data());
        const T* d = readout_->backward(body_.output(), dloss_dout.data(), forward_batch_, true);
        body_.backward(x.data(), d, forward_batch_, false);
        return parameters_;
    }

    // f(name, data, count) for the output of every top-level layer of the last forward ("conv1", "relu2", ...) and the
    // readout ("out"), as nn::network::for_each_output.
    template <class F>
    void for_each_output(F&& f) const {
        require(forward_batch_ > 0, "nn::dynamic_network::for_each_output: call forward first");
        const auto names = output_names(spec_);
        for (std::size_t i = 0; i < size(); ++i) f(names[i], body_.input_of(i + 1), forward_batch_ * body_.shapes[i + 1].size());
        f(std::string("out"), out_.data(), out_.size());
    }
    // The names for_each_output gives for a SPEC (the kinds of nn::network::output_names: conv, relu, avgpool, ...).
    static std::vector<std::string> output_names(const nn::spec& s) {
        std::vector<std::string> names;
        std::size_t i = 0;
        for (const layer_spec& l : s.layers) {
            std::string kind;
            switch (l.kind) {
                case layer_kind::dense: kind = "dense"; break;
                case layer_kind::conv: kind = "conv"; break;
                case layer_kind::avgpool: kind = "avgpool"; break;
                case layer_kind::gap: kind = "gap"; break;
                case layer_kind::flatten: kind = "flatten"; break;
                case layer_kind::layernorm: kind = "layernorm"; break;
                case layer_kind::residual: kind = "residual"; break;
                case layer_kind::activation: kind = with_spec_activation(l.activation, []<class A>() { return std::string(A::name); }); break;
            }
            names.push_back(kind + std::to_string(++i));
        }
        names.push_back("out");
        return names;
    }

private:
    // TP4 Thm 3.3 at L = the number of dense/conv layers (nn::network checks the same at compile time).
    void check_stable() const {
        const int depth = static_cast<int>(std::clamp<std::size_t>(hidden_weight_layers_, 1, param::max_classified_depth));
        if constexpr (P::max_depth != 0)
            require(depth <= P::max_depth, "nn::dynamic_network: this preset is defined for ", P::max_depth,
                    " hidden layer(s) only, the SPEC has ", hidden_weight_layers_, " dense/conv layers");
        if constexpr (!P::unstable_allowed) {
            const param::classification k = param::classify(P::input, P::hidden, P::output, depth);
            for (std::size_t i = 0; i < k.condition_holds.size(); ++i)
                require(k.condition_holds[i], "nn::dynamic_network: unstable parametrization: TP4 stability condition ", i + 1, " fails: ",
                        param::stability_conditions[i], "; wrap the policy in param::allow_unstable<P> to build it anyway");
        }
    }

    void resolve_widths(build_context<T>& ctx) const { detail::resolve_widths(config_, hidden_weight_layers_, ctx, "nn::dynamic_network"); }
    // nn::network's initialisation (the same function): scaling from P by role and width ratio, weight layer l from
    // streams 2l and 2l + 1.
    void initialise(build_context<T>& ctx) { detail::initialise_parameters<P>(config_, static_cast<int>(weight_layers()), ctx); }

    nn::spec spec_;
    network_config config_;
    std::size_t hidden_weight_layers_ = 0;
    detail::dynamic_chain<T> body_;
    std::unique_ptr<dense_state<T>> readout_;
    std::vector<parameter<T>*> list_;
    parameter_list<T> parameters_;
    matrix<T> out_;
    std::size_t forward_batch_ = 0;
    const T* forward_input_ = nullptr;  // identity of the last forward's batch (never dereferenced)
};

template <class>
inline constexpr bool is_dynamic_network = false;
template <Parametrization P, class T>
inline constexpr bool is_dynamic_network<dynamic_network<P, T>> = true;

}  // namespace widenn::nn
