#pragma once
// nn::network<P, nn::serial<Layers...>, T>: the finite network of a composition of layers (nn/layers.hpp) followed by
// a readout Dense(d_out), under any abc-parametrization P, for float or double:
//
//   using net = nn::network<param::mup, nn::serial<nn::conv<3>, act::relu, nn::avgpool<2>, nn::conv<3>, act::relu, nn::gap>, float>;
//   net f({.image = {28, 28, 1}, .width = 128, .d_out = 10, .base_width = 32, .seed = 1});
//   nn::adam opt(f.parameters(), {.lr = 1e-3});                 // per-tensor rates from P
//   nn::train_step<nn::softmax_cross_entropy>(f, opt, x, labels, dout);   // x: B x (28·28·1), NHWC rows
//
// The parametrization applies to every weight by its TP5 role (Yang et al. 2022, "Tensor Programs V", Table 3), read
// from which of its dimensions grow with width: input-like (only fan_out grows: the first dense or conv layer),
// hidden-like (both grow), output-like (only fan_in grows: the readout); biases use the input-layer exponents. Every
// tensor's width ratio ñ comes from its own dimensions against the base shapes (the same network at base_width, or
// base_widths per layer, as the `mup` package's set_base_shapes): fan_in / base_fan_in for hidden and output weights,
// fan_out / base_fan_out for input weights and biases; a conv weight has fan_in = C_in·K². The mapping from (a, b, c)
// and ñ to the initial std, the multiplier and the learning-rate factors is nn::mlp's (nn/scaling.hpp), so a dense-only
// serial with one activation is nn::mlp: the same parameters from the same seed (weight layer l draws its weight from
// rng::stream(seed, 2l) and its bias from rng::stream(seed, 2l + 1)), the same forward pass and the same SGD step.
//
// The trainable tensors are nn::parameter<T> (nn/trainable.hpp) carrying their nn::tensor_scaling, so nn::sgd, nn::adam
// and nn::adamw train them through parameters(), with per-tensor lr_scale on top. backward() overwrites the
// gradients (it does not accumulate). Every size is checked when the network is built (the image against filters and
// windows, the channels of residual blocks); forward and backward check their arguments before any work, so a bad
// call changes neither parameters nor gradients.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <xtensor/xadapt.hpp>

#include "../core/checked.hpp"
#include "../core/errors.hpp"
#include "../core/rng.hpp"
#include "../core/tensor.hpp"
#include "../param/classify.hpp"
#include "finite.hpp"
#include "layers.hpp"
#include "network.hpp"
#include "scaling.hpp"
#include "trainable.hpp"

namespace widenn::nn {

// An image input, one example per row of the input matrix in NHWC order.
struct image_shape {
    std::size_t height = 0, width = 0, channels = 0;
};

struct network_config {
    std::size_t d_in = 0;        // vector inputs: features; image inputs: 0 or height·width·channels
    image_shape image{};         // image inputs (channels > 0)
    std::size_t width = 0;       // channels of every conv and units of every dense layer (unless `widths`)
    std::size_t d_out = 0;       // outputs of the readout
    std::size_t base_width = 0;  // 0: base = width (ñ = 1)
    std::vector<std::size_t> widths{};     // optional: the width of every dense/conv layer in network order
    std::vector<std::size_t> base_widths{};// optional: their base widths (else base_width, else the width itself)
    bool bias = true;
    bool zero_readout = false;   // readout weight and bias zero at initialisation (mup's readout_zero_init)
    double weight_var = 1.0;     // σ²
    double bias_var = 0.0;       // σ_b²; 0 keeps trainable zero-initialised biases
    constants_in constants = constants_in::init;
    std::uint64_t seed = 0;
};

namespace detail {

// Dense-only compositions with one activation, (dense, A) repeated L times, are MLPs: they get the member types that
// make them an nn::FiniteNetwork (so limit::of and limit::kernel_config_for read them as nn::mlp<P, A, L>).
template <class... Ls>
struct mlp_shape {
    static constexpr bool value = false;
};
template <class A, class... Rest>
struct mlp_shape<dense, A, Rest...> {
    static constexpr bool pairs = []<std::size_t... I>(std::index_sequence<I...>) {
        using list = std::tuple<dense, A, Rest...>;
        return ((I % 2 == 0 ? std::is_same_v<std::tuple_element_t<I, list>, dense> : std::is_same_v<std::tuple_element_t<I, list>, A>) && ...);
    }(std::make_index_sequence<sizeof...(Rest) + 2>{});
    static constexpr bool value = Activation<A> && !is_layer_policy<A>::value && sizeof...(Rest) % 2 == 0 && pairs;
    using activation = A;
    static constexpr int depth = static_cast<int>(sizeof...(Rest) / 2 + 1);
};

template <bool IsMlp, class Shape>
struct mlp_members {};
template <class Shape>
struct mlp_members<true, Shape> {
    using activation = typename Shape::activation;
    static constexpr int depth = Shape::depth;
};

}  // namespace detail

// A copy of a network's gradients with respect to its trainable tensors, by weight layer l = 1..layers (index l - 1):
// weight l is fan_out x fan_in (a conv's fan_in is K²·C_in, in (kh, kw, c) order), bias l has fan_out entries, or 0
// without biases. nn::network::make_gradients() shapes one, backward(x, dout, g) fills it; the optimisers accept it
// in place of the gradients the network holds.
template <class T>
struct gradients {
    std::vector<matrix<T>> weights;
    std::vector<vector<T>> biases;

    matrix<T>& weight(int l) { return weights.at(static_cast<std::size_t>(l - 1)); }
    const matrix<T>& weight(int l) const { return weights.at(static_cast<std::size_t>(l - 1)); }
    vector<T>& bias(int l) { return biases.at(static_cast<std::size_t>(l - 1)); }
    const vector<T>& bias(int l) const { return biases.at(static_cast<std::size_t>(l - 1)); }
};

// The gradients a network holds in its parameters, as backward(x, dout) returns them: the parameter list the
// optimisers step on (opt.step(net.backward(x, dout))), with read-only views by weight layer l = 1..layers
// (weight(l): fan_out x fan_in, bias(l)), valid while the network lives; converting to nn::gradients copies them.
template <class T>
class network_gradients : public parameter_list<T> {
public:
    network_gradients() = default;
    network_gradients(std::vector<parameter<T>*> list, const std::vector<affine_record<T>>* layers)
        : parameter_list<T>(std::move(list)), layers_(layers) {}

    auto weight(int l) const {
        const auto& a = layer(l, "nn::network_gradients::weight");
        return xt::adapt(std::as_const(a.weight->grad).data(), a.out * a.in, xt::no_ownership(), std::array<std::size_t, 2>{a.out, a.in});
    }
    auto bias(int l) const {
        const auto& g = std::as_const(layer(l, "nn::network_gradients::bias").bias->grad);
        return xt::adapt(g.data(), g.size(), xt::no_ownership(), std::array<std::size_t, 1>{g.size()});
    }
    // A copy (nn::gradients owns its tensors).
    operator gradients<T>() const {  // NOLINT: implicit, so that `nn::gradients<T> g = net.backward(x, dout)` keeps a copy
        gradients<T> g;
        for (std::size_t l = 1; l <= layers_->size(); ++l) {
            g.weights.push_back(weight(static_cast<int>(l)));
            g.biases.push_back(bias(static_cast<int>(l)));
        }
        return g;
    }

private:
    const affine_record<T>& layer(int l, const char* where) const {
        if (l < 1 || static_cast<std::size_t>(l) > layers_->size()) fail<shape_error>(where, ": layer must be in 1..", layers_->size(), ", got ", l);
        return (*layers_)[static_cast<std::size_t>(l - 1)];
    }
    const std::vector<affine_record<T>>* layers_ = nullptr;
};

namespace detail {

// The input signal of a network_config (image or vector), with every size and variance checked; sets config.d_in from
// the image.
inline signal_shape checked_input(network_config& config, const char* where) {
    signal_shape in;
    if (config.image.channels > 0 || config.image.height > 0 || config.image.width > 0) {
        const auto& im = config.image;
        require<shape_error>(im.height > 0 && im.width > 0 && im.channels > 0, where, ": image height, width and channels must be positive, got ",
                             im.height, " x ", im.width, " x ", im.channels);
        const std::size_t d = checked_product({im.height, im.width, im.channels}, where);
        require<shape_error>(config.d_in == 0 || config.d_in == d, where, ": d_in = ", config.d_in, " disagrees with the image ", im.height,
                             " x ", im.width, " x ", im.channels, " (", d, " values); leave d_in = 0");
        config.d_in = d;
        in = {im.height, im.width, im.channels, im.channels, true, false};
    } else {
        require<shape_error>(config.d_in > 0, where, ": set d_in (vector inputs) or image (image inputs)");
        in = {1, 1, config.d_in, config.d_in, false, false};
    }
    require(config.d_out > 0, where, ": d_out must be positive, got ", config.d_out);
    require(config.weight_var > 0 && std::isfinite(config.weight_var), where, ": weight_var must be positive and finite, got ", config.weight_var);
    require(config.bias_var >= 0 && std::isfinite(config.bias_var), where, ": bias_var must be >= 0 and finite, got ", config.bias_var);
    return in;
}

// The widths and base widths of every dense/conv layer (config.widths / base_widths, else config.width / base_width),
// checked, then the readout's.
template <class T>
void resolve_widths(const network_config& config, std::size_t hidden_weight_layers, build_context<T>& ctx, const char* where) {
    const std::size_t n = hidden_weight_layers;
    if (!config.widths.empty()) {
        require<shape_error>(config.widths.size() == n, where, ": widths must list one width per dense/conv layer (", n, "), got ",
                             config.widths.size());
        ctx.widths = config.widths;
    } else {
        ctx.widths.assign(n, config.width);
    }
    if (!config.base_widths.empty()) {
        require<shape_error>(config.base_widths.size() == n, where, ": base_widths must list one base width per dense/conv layer (", n,
                             "), got ", config.base_widths.size());
        ctx.base_widths = config.base_widths;
    } else {
        ctx.base_widths.clear();
        for (std::size_t i = 0; i < n; ++i) ctx.base_widths.push_back(config.base_width > 0 ? config.base_width : ctx.widths[i]);
    }
    constexpr std::size_t limit = std::size_t{1} << 32;
    for (std::size_t i = 0; i < n; ++i)
        require<shape_error>(ctx.widths[i] > 0 && ctx.widths[i] <= limit && ctx.base_widths[i] > 0 && ctx.base_widths[i] <= limit, where,
                             ": the width and base width of dense/conv layer ", i + 1, " must be in 1..2^32, got ", ctx.widths[i], " and ",
                             ctx.base_widths[i]);
    ctx.widths.push_back(config.d_out);  // the readout
    ctx.base_widths.push_back(config.d_out);
}

// Scaling from P by role and width ratio, then initial values (weight layer l: streams 2l and 2l + 1, row major).
template <Parametrization P, class T>
void initialise_parameters(const network_config& config, int readout_layer, build_context<T>& ctx) {
    double readout_ratio = 1.0;
    for (const auto& r : ctx.tensors)
        if (r.layer == readout_layer && !r.bias) readout_ratio = r.wide_in ? r.in_ratio : 1.0;
    for (auto& r : ctx.tensors) {
        const bool readout = r.layer == readout_layer;
        const tensor_role role = r.wide_in ? (r.wide_out ? tensor_role::hidden : tensor_role::output) : tensor_role::input;
        if (r.bias) {
            r.param->scaling = nn::bias_scaling<P>(r.wide_out ? r.out_ratio : 1.0, config.bias_var, config.constants, readout, readout_ratio);
        } else {
            const double ratio = r.wide_in ? r.in_ratio : (r.wide_out ? r.out_ratio : 1.0);
            r.param->scaling = nn::weight_scaling<P>(exponents_of<P>(role), ratio, config.weight_var, r.base_fan_in, config.constants,
                                                     readout, readout_ratio);
        }
        const bool zero = readout && config.zero_readout;
        const double sd = r.param->scaling.init_std;
        rng g = rng::stream(config.seed, 2 * static_cast<std::uint64_t>(r.layer) + (r.bias ? 1 : 0));
        for (auto& v : r.param->value) v = (zero || sd == 0.0) ? T(0) : static_cast<T>(sd * g.normal());
    }
}

// A network's input batch (B x d_in, B > 0, every entry finite), checked before the forward pass touches it.
template <class T>
void require_forward_input(const matrix<T>& x, std::size_t d_in, const char* where) {
    require_shape(x, any_size, d_in, where, "input batch");
    require<shape_error>(x.shape(0) > 0, where, ": the input batch is empty (0 x ", d_in, ")");
    require_finite_squared_norm(x, where, "input batch");
}

// The readout's B x d_out output y copied into out (reshaped if needed), every entry finite.
template <class T>
void copy_finite_output(const T* y, std::size_t batch, std::size_t d_out, matrix<T>& out, const char* where) {
    if (out.shape(0) != batch || out.shape(1) != d_out) out = matrix<T>::from_shape({batch, d_out});
    std::copy(y, y + batch * d_out, out.data());
    for (std::size_t i = 0; i < out.size(); ++i)
        if (!std::isfinite(static_cast<double>(out.data()[i])))
            fail<numerical_error>(where, ": the output is not finite (", out.data()[i], " at flat index ", i,
                                  "); the parameters or the input are too large");
}

}  // namespace detail

template <Parametrization P, class Arch, class T = float>
class network {
    static_assert(sizeof(Arch) == 0, "widenn::nn::network<P, Arch, T>: Arch must be nn::serial<Layers...>");
};

template <Parametrization P, class... Layers, class T>
class network<P, serial<Layers...>, T> : public detail::mlp_members<detail::mlp_shape<Layers...>::value, detail::mlp_shape<Layers...>> {
    static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "widenn::nn::network: the value type must be float or double (BLAS)");
    static_assert(check_layers<signal_form::unknown, Layers...>(std::index_sequence_for<Layers...>{}));
    static constexpr signal_form final_form = forms_of<Layers...>(signal_form::unknown)[sizeof...(Layers)];
    static constexpr bool uses_images = (layer_rules<Layers>::uses_images || ... || false);
    static_assert(!uses_images || final_form == signal_form::vector,
                  "widenn::nn::network: the layers use images (conv, avgpool) but do not end in flatten or gap; the readout Dense "
                  "needs a vector (add nn::flatten or nn::gap last)");

public:
    using parametrization = P;
    using value_type = T;
    using architecture = serial<Layers...>;
    using gradients_type = gradients<T>;
    static constexpr std::size_t hidden_weight_layers = (weight_layers_of<Layers>::value + ... + 0);
    static constexpr std::size_t weight_layers = hidden_weight_layers + 1;  // with the readout
    static constexpr int layers = static_cast<int>(weight_layers);          // weight layers l = 1..layers, as nn::gradients
    static constexpr std::size_t size = sizeof...(Layers);                  // top-level layers, without the readout

private:
    static constexpr int classified_depth = hidden_weight_layers < 1 ? 1
                                            : (hidden_weight_layers > static_cast<std::size_t>(param::max_classified_depth)
                                                   ? param::max_classified_depth
                                                   : static_cast<int>(hidden_weight_layers));
    static_assert(param::require_stable<P, classified_depth>());

public:
    explicit network(const network_config& config) : config_(config) {
        constexpr const char* where = "nn::network";
        const signal_shape in = detail::checked_input(config_, where);
        build_context<T> ctx;
        ctx.bias = config_.bias;
        resolve_widths(ctx);
        shapes_[0] = in;
        const signal_shape last = body_.setup(in, ctx);
        for (std::size_t i = 0; i <= size; ++i) shapes_[i] = body_.shapes[i];
        require<shape_error>(!last.image, where, ": the last layer gives an image (", last.str(),
                             "); the readout needs a vector: end the serial with nn::flatten or nn::gap");
        readout_.setup(last, ctx, config_.d_out);
        affine_ = ctx.affine;
        require_memory(checked_product({parameter_count(), 2 * sizeof(T)}, where), "nn::network parameters", "use a smaller width");
        initialise(ctx);
        for_each_parameter([&](parameter<T>& p) { list_.push_back(&p); });
        parameters_ = network_gradients<T>(list_, &affine_);
    }
    // A copy has the same configuration, parameters (values, gradients, scalings, lr_scale) and no forward pass yet
    // (the layers hold pointers into each other's buffers, so the structure is rebuilt, not copied). Assignment needs
    // a network of the same shapes.
    network(const network& other) : network(other.config_) { copy_parameters(other); }
    network& operator=(const network& other) {
        if (this == &other) return *this;
        bool same = true;
        for (std::size_t i = 0; i < affine_.size(); ++i)
            same = same && affine_[i].in == other.affine_[i].in && affine_[i].out == other.affine_[i].out &&
                   affine_[i].bias->size() == other.affine_[i].bias->size();
        require<shape_error>(same && shapes_ == other.shapes_, "nn::network::operator=: the networks have different shapes");
        config_ = other.config_;
        copy_parameters(other);
        return *this;
    }

    const network_config& config() const { return config_; }
    // The signal's shape after top-level layer i (0: the input).
    const signal_shape& shape(std::size_t i) const {
        require<shape_error>(i <= size, "nn::network::shape: i must be in 0..", size, ", got ", i);
        return shapes_[i];
    }
    // The trainable tensors in network order (weight then bias of each dense/conv layer, the readout last).
    parameter_list<T>& parameters() { return parameters_; }
    std::size_t parameter_count() const {
        std::size_t n = 0;
        for (const auto& a : affine_) n += a.weight->size() + a.bias->size();
        return n;
    }
    template <class F>
    void for_each_parameter(F&& f) {
        body_.for_each_parameter(f);
        readout_.for_each_parameter(f);
    }

    // B x d_in -> B x d_out. The returned reference stays valid until the next forward.
    const matrix<T>& forward(const matrix<T>& x) {
        detail::require_forward_input(x, config_.d_in, "nn::network::forward");
        const std::size_t batch = x.shape(0);
        forward_batch_ = 0;
        detail::copy_finite_output(readout_.forward(body_.forward(x.data(), batch), batch), batch, config_.d_out, out_,
                                   "nn::network::forward");
        forward_batch_ = batch;
        forward_input_ = x.data();
        return out_;
    }

    // The gradients of the loss with respect to every trainable tensor, written into the parameters (overwritten),
    // given x (the batch of the last forward, unmodified) and dloss/dout (B x d_out).
    // x is checked for its shape; its values are checked (finite) unless it is the array the last forward checked.
    // When every weight layer proved its gradients finite (affine_backward's bound), certifies_finite(parameters())
    // is true and an optimiser need not scan them again.
    network_gradients<T>& backward(const matrix<T>& x, const matrix<T>& dloss_dout) {
        constexpr const char* where = "nn::network::backward";
        require(forward_batch_ > 0, where, ": call forward first");
        require_shape(x, forward_batch_, config_.d_in, where, "input batch (the batch of the last forward)");
        if (x.data() != forward_input_) detail::require_finite_squared_norm(x, where, "input batch");
        require_shape(dloss_dout, forward_batch_, config_.d_out, where, "dloss/dout");
        detail::require_finite_squared_norm(dloss_dout, where, "dloss/dout");
        grads_certified_ = false;
        const T* d = readout_.backward((body_.rebind(x.data()), body_.output()), dloss_dout.data(), forward_batch_, size > 0);
        if constexpr (size > 0) body_.backward(x.data(), d, forward_batch_, false);
        grads_certified_ = std::all_of(affine_.begin(), affine_.end(), [](const auto& a) { return *a.certified; });
        return parameters_;
    }
    // As above, and a copy of the gradients into `out` (shaped by make_gradients(); reshaped if it is not).
    void backward(const matrix<T>& x, const matrix<T>& dloss_dout, gradients_type& out) {
        backward(x, dloss_dout);
        if (!shaped_like_parameters(out)) out = make_gradients();
        for (int l = 1; l <= layers; ++l) {
            const auto& a = affine_[static_cast<std::size_t>(l - 1)];
            std::copy(a.weight->grad.begin(), a.weight->grad.end(), out.weights[static_cast<std::size_t>(l - 1)].data());
            std::copy(a.bias->grad.begin(), a.bias->grad.end(), out.biases[static_cast<std::size_t>(l - 1)].data());
        }
    }
    // True if g is this network's own gradient storage and the last backward proved every entry finite.
    bool certifies_finite(const parameter_list<T>& g) const { return &g == &parameters_ && grads_certified_; }
    bool certifies_finite(const gradients_type&) const { return false; }

    // ---- the weight layers l = 1..layers (dense and conv layers in network order, inside residual blocks too, then the
    // readout): views of the trainable tensors w (W = m·w) and of their gradients, shaped fan_out x fan_in ----
    std::size_t fan_in(int l) const { return layer(l, "nn::network::fan_in").in; }
    std::size_t fan_out(int l) const { return layer(l, "nn::network::fan_out").out; }
    auto weight(int l) { return matrix_view(weight_parameter(l).value.data(), l); }
    auto weight(int l) const { return matrix_view(weight_parameter(l).value.data(), l); }
    auto bias(int l) { return vector_view(bias_parameter(l).value); }
    auto bias(int l) const { return vector_view(bias_parameter(l).value); }
    auto weight_gradient(int l) const { return matrix_view(weight_parameter(l).grad.data(), l); }
    auto bias_gradient(int l) const { return vector_view(bias_parameter(l).grad); }
    parameter<T>& weight_parameter(int l) { return *layer(l, "nn::network::weight_parameter").weight; }
    const parameter<T>& weight_parameter(int l) const { return *layer(l, "nn::network::weight_parameter").weight; }
    parameter<T>& bias_parameter(int l) { return *layer(l, "nn::network::bias_parameter").bias; }
    const parameter<T>& bias_parameter(int l) const { return *layer(l, "nn::network::bias_parameter").bias; }
    const tensor_scaling& weight_scaling(int l) const { return layer(l, "nn::network::weight_scaling").weight->scaling; }
    const tensor_scaling& bias_scaling(int l) const { return layer(l, "nn::network::bias_scaling").bias->scaling; }
    T multiplier(int l) const { return static_cast<T>(weight_scaling(l).multiplier); }
    T bias_multiplier(int l) const { return static_cast<T>(bias_scaling(l).multiplier); }

    // Zero gradients shaped like the parameters, and whether g has those shapes.
    gradients_type make_gradients() const {
        gradients_type g;
        for (const auto& a : affine_) {
            g.weights.push_back(xt::zeros<T>({a.out, a.in}));
            g.biases.push_back(xt::zeros<T>({a.bias->size()}));
        }
        return g;
    }
    bool shaped_like_parameters(const gradients_type& g) const {
        if (g.weights.size() != affine_.size() || g.biases.size() != affine_.size()) return false;
        for (std::size_t i = 0; i < affine_.size(); ++i)
            if (g.weights[i].shape(0) != affine_[i].out || g.weights[i].shape(1) != affine_[i].in || g.biases[i].size() != affine_[i].bias->size())
                return false;
        return true;
    }

    // The batch size of the last forward (0 before the first) and the output of top-level layer i = 1..size of it
    // (size + 1: the readout's), batch x shape(i).size() row major.
    std::size_t batch() const { return forward_batch_; }
    const T* layer_output(std::size_t i) const {
        require(forward_batch_ > 0, "nn::network::layer_output: call forward first");
        require<shape_error>(i >= 1 && i <= size + 1, "nn::network::layer_output: i must be in 1..", size + 1, ", got ", i);
        if (i == size + 1) return out_.data();
        return outputs(std::index_sequence_for<Layers...>{})[i - 1];
    }

    // Calls f(name, data, count) for the output of every top-level layer of the last forward ("conv1", "relu2", ...,
    // numbered by position) and the readout ("out"): the coordinates a coordinate check records.
    template <class F>
    void for_each_output(F&& f) const {
        require(forward_batch_ > 0, "nn::network::for_each_output: call forward first");
        each_output(f, std::index_sequence_for<Layers...>{});
        f(std::string("out"), out_.data(), out_.size());
    }
    // The names for_each_output gives, without a forward.
    static std::vector<std::string> output_names() {
        std::vector<std::string> names;
        std::size_t i = 0;
        ((names.push_back(std::string(state_of<T, Layers>::type::kind) + std::to_string(++i))), ...);
        names.push_back("out");
        return names;
    }

private:
    void copy_parameters(const network& other) {
        for (std::size_t i = 0; i < affine_.size(); ++i) {
            *affine_[i].weight = *other.affine_[i].weight;
            *affine_[i].bias = *other.affine_[i].bias;
        }
        forward_batch_ = 0;
        forward_input_ = nullptr;
        grads_certified_ = false;
    }

    const affine_record<T>& layer(int l, const char* where) const {
        if (l < 1 || l > layers) fail<shape_error>(where, ": layer must be in 1..", layers, ", got ", l);
        return affine_[static_cast<std::size_t>(l - 1)];
    }
    // Non-owning xtensor views (T* writable, const T* read-only) of a weight layer's matrix and of a vector.
    template <class Ptr>
    auto matrix_view(Ptr* p, int l) const {
        const auto& a = layer(l, "nn::network::weight");
        return xt::adapt(p, a.out * a.in, xt::no_ownership(), std::array<std::size_t, 2>{a.out, a.in});
    }
    template <class V>
    static auto vector_view(V& v) {
        return xt::adapt(v.data(), v.size(), xt::no_ownership(), std::array<std::size_t, 1>{v.size()});
    }
    template <std::size_t... I>
    std::array<const T*, size> outputs(std::index_sequence<I...>) const {
        return {body_.template input_of<I + 1>()...};
    }

    template <class F, std::size_t... I>
    void each_output(F& f, std::index_sequence<I...>) const {
        const auto names = output_names();
        ((f(names[I], body_.template input_of<I + 1>(), forward_batch_ * shapes_[I + 1].size())), ...);
    }

    void resolve_widths(build_context<T>& ctx) const { detail::resolve_widths(config_, hidden_weight_layers, ctx, "nn::network"); }
    void initialise(build_context<T>& ctx) { detail::initialise_parameters<P>(config_, static_cast<int>(weight_layers), ctx); }

    network_config config_;
    chain<T, Layers...> body_;
    dense_state<T> readout_;
    std::array<signal_shape, size + 1> shapes_{};
    std::vector<parameter<T>*> list_;
    network_gradients<T> parameters_;
    std::vector<affine_record<T>> affine_;  // the weight layers, l - 1
    matrix<T> out_;
    std::size_t forward_batch_ = 0;
    const T* forward_input_ = nullptr;  // identity of the last forward's batch (never dereferenced)
    bool grads_certified_ = false;
};

namespace detail {
template <Parametrization P, class Arch, class T>
void derives_from_network(const network<P, Arch, T>&);
}  // namespace detail

// nn::network<P, serial<...>, T> or a class derived from one (nn::mlp).
template <class Net>
inline constexpr bool is_network = requires(const Net& n) { detail::derives_from_network(n); };

}  // namespace widenn::nn
