#pragma once
// Optimizers for a network (nn::network, nn::mlp, nn::subspace) with per-layer learning rates from the parametrization
// policy, and for any model whose trainable tensors are nn::parameter (nn::parameter_list, nn/trainable.hpp): both are
// trained through the same per-tensor rules over (value, gradient, size, tensor_scaling), e.g.
//   nn::sgd opt(net, {.lr = 0.1});  opt.step(net.backward(x, dloss));            // a network: its gradients passed in
//   nn::adam opt(model.parameters(), {.lr = 1e-3});  opt.zero_grad(); ...; opt.step();  // gradients in the parameters
//
// Every trainable tensor w has a scaling (nn::tensor_scaling, computed by the network from P's
// exponents and ñ = width / base_width): SGD uses the rate η·sgd_lr = η ñ^{-c}, Adam η·adam_lr =
// η ñ^{-c_adam} (docs/theory/abc-parametrization.md §1, effective quantities; per-layer learning rates are the
// per-layer symmetry of §2). Every rule below is chosen so that (i) at ñ = 1 it is the plain
// PyTorch optimizer (hence μP equals SP at the base width, TP5) and (ii) it is invariant under the
// per-layer symmetries of TP4 §2, so param::mup and param::mup_table3 train identically.
//
// Adam ε. The per-layer Adam symmetry (a+θ, b−θ, c−θ) holds only if ε moves to ε n^{-θ} (§2, §5:
// for W = m·w the effective ε on W is ε/m). We scale ε per tensor like its gradient: the typical
// per-entry gradient of w^l at initialisation is ñ^{-a_l-(a_{L+1}+b_{L+1})} for l ≤ L (the
// backpropagated signal carries the readout's scale) and ñ^{-a_{L+1}} for the readout, so
// ε_l = ε·tensor_scaling::gradient_scale. This moves by n^{-θ} under the symmetry, and ε keeps the
// same ratio to √v̂ at every width (a fixed ε would eventually dominate the update under μP, where
// gradients shrink like 1/width, §5). adam_config::scale_epsilon = false uses one fixed ε (PyTorch).
//
// Weight decay. SGD and AdamW: the decay per step is η·wd for every tensor and width (the `mup`
// package's default: wd divided by the tensor's learning-rate factor); it rescales w and W alike, so
// it is invariant. Adam's coupled L2 term is wd·ñ^{-2a}·w (tensor_scaling::l2_scale), the gradient of
// (wd/2)‖ñ^{-a} w‖²; it scales like the gradient under the symmetry (mup's MuAdam, which divides wd
// by the lr factor instead, is not invariant).
//
// Gradient clipping: if clip_norm > 0 and the global norm √(Σ_tensors ‖g / gradient_scale‖²) exceeds
// it, every gradient is multiplied by clip_norm / norm. At ñ = 1 this is torch.nn.utils.clip_grad_norm_;
// the per-tensor units make it invariant under the symmetries (a plain norm of the w-gradients is not).
//
// step() validates the gradients (shapes, finite values) before it changes anything, so after a
// failed step the parameters and optimizer state are unchanged. Gradients straight from
// network::backward carry a finiteness proof and are not scanned again unless clipping needs their norm.
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "../core/errors.hpp"
#include "../core/tensor.hpp"
#include "../core/blas.hpp"
#include "serial.hpp"
#include "trainable.hpp"

namespace widenn::nn {

struct sgd_config {
    double lr = 0.1;
    double momentum = 0.0;
    double weight_decay = 0.0;
    double clip_norm = 0.0;  // 0: no clipping
};

struct adam_config {
    double lr = 1e-3;
    double beta1 = 0.9;
    double beta2 = 0.999;
    double eps = 1e-8;
    double weight_decay = 0.0;  // adam: L2 added to the gradient; adamw: decoupled decay
    double clip_norm = 0.0;
    bool scale_epsilon = true;  // ε_l = ε·tensor_scaling::gradient_scale (see above)
};

namespace detail {

// Σ g² over a tensor, in double with independent lanes (vectorisable; deterministic).
template <class T>
double sum_of_squares(const T* g, std::size_t n) {
    double lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (std::size_t j = 0; j < 8; ++j) lane[j] += static_cast<double>(g[i + j]) * static_cast<double>(g[i + j]);
    double total = 0;
    for (; i < n; ++i) total += static_cast<double>(g[i]) * static_cast<double>(g[i]);
    for (double v : lane) total += v;
    return total;
}

// The factor (≤ 1) that implements global-norm clipping (1 when clip_norm = 0 or the norm is below it), after checking
// every gradient for non-finite entries. weight_grad(l) and bias_grad(l) give layer l's gradients (data(), size()).
// Gradients the network proved finite (certifies_finite) are not scanned again when no clipping needs their norm.
template <class Net, class WeightGrad, class BiasGrad>
double clip_factor(const Net& net, WeightGrad&& weight_grad, BiasGrad&& bias_grad, bool certified, double clip_norm, const char* where) {
    using T = typename Net::value_type;
    if (clip_norm == 0 && certified) return 1.0;
    double total = 0;
    for (int l = 1; l <= Net::layers; ++l) {
        const double uw = net.weight_scaling(l).gradient_scale, ub = net.bias_scaling(l).gradient_scale;
        const auto& gw = weight_grad(l);
        const auto& gb = bias_grad(l);
        total += sum_of_squares<T>(gw.data(), gw.size()) / (uw * uw);
        total += sum_of_squares<T>(gb.data(), gb.size()) / (ub * ub);
    }
    if (!std::isfinite(total)) {  // slow path: name the offending entry
        for (int l = 1; l <= Net::layers; ++l) {
            require_finite(weight_grad(l), where, "gradient of weight " + std::to_string(l));
            require_finite(bias_grad(l), where, "gradient of bias " + std::to_string(l));
        }
        fail<numerical_error>(where, ": the gradients are finite but their squared norm overflows double (is the training diverging?)");
    }
    const double norm = std::sqrt(total);
    return clip_norm > 0 && norm > clip_norm ? clip_norm / norm : 1.0;
}

// Checks g against the network's shapes and for non-finite entries; returns the clipping factor.
template <class Net>
double validate_gradients(const Net& net, const gradients<typename Net::value_type>& g, double clip_norm, const char* where) {
    if (g.weights.size() != static_cast<std::size_t>(Net::layers) || g.biases.size() != static_cast<std::size_t>(Net::layers))
        fail<shape_error>(where, ": gradients must hold ", Net::layers, " weight and ", Net::layers, " bias tensors, got ", g.weights.size(),
                          " and ", g.biases.size());
    for (int l = 1; l <= Net::layers; ++l) {
        require_shape(g.weight(l), net.fan_out(l), net.fan_in(l), where, "gradient of weight " + std::to_string(l));
        const std::size_t nb = net.bias(l).size();
        require<shape_error>(g.bias(l).size() == nb, where, ": gradient of bias ", l, " must have length ", nb, ", got ", g.bias(l).size());
    }
    return clip_factor(net, [&](int l) -> decltype(auto) { return g.weight(l); }, [&](int l) -> decltype(auto) { return g.bias(l); },
                       net.certifies_finite(g), clip_norm, where);
}

// The gradients a network holds in its parameters (g must be net.parameters(), as net.backward(x, dout) returns it).
template <class Net>
double validate_own_gradients(Net& net, const parameter_list<typename Net::value_type>& g, double clip_norm, const char* where) {
    require(&g == &net.parameters(), where, ": the parameter list is not this network's (pass net.backward(x, dout), or build the "
                                            "optimiser from the list)");
    return clip_factor(net, [&](int l) { return net.weight_gradient(l); }, [&](int l) { return net.bias_gradient(l); }, net.certifies_finite(g),
                       clip_norm, where);
}

inline void check_positive(double v, const char* where, const char* what, bool allow_zero = false) {
    if (!std::isfinite(v) || v < 0 || (!allow_zero && v == 0)) fail(where, ": ", what, " must be ", allow_zero ? ">= 0" : "> 0", " and finite, got ", v);
}

// Calls f(w, g, size, scaling, tensor_index) for every trainable tensor (weight then bias of each layer), with the
// gradients of g (nn::gradients) or, for nullptr, those the network holds. A network's tensors carry their lr_scale.
template <class Net, class F>
void for_each_tensor(Net& net, const gradients<typename Net::value_type>* g, F&& f) {
    for (int l = 1; l <= Net::layers; ++l) {
        if constexpr (is_network<Net>) {
            const auto w = net.weight_parameter(l).view(), b = net.bias_parameter(l).view();
            f(w.value, g ? g->weight(l).data() : w.gradient, w.size, w.scaling, 2 * (l - 1));
            f(b.value, g ? g->bias(l).data() : b.gradient, b.size, b.scaling, 2 * (l - 1) + 1);
        } else {
            f(net.weight(l).data(), g->weight(l).data(), net.weight(l).size(), net.weight_scaling(l), 2 * (l - 1));
            f(net.bias(l).data(), g->bias(l).data(), net.bias(l).size(), net.bias_scaling(l), 2 * (l - 1) + 1);
        }
    }
}

template <class Net>
std::vector<std::vector<typename Net::value_type>> zero_state(const Net& net) {
    std::vector<std::vector<typename Net::value_type>> state;
    if constexpr (is_parameter_list<Net>) {
        for (const auto* p : net.parameters()) state.emplace_back(p->size());
    } else {
        for (int l = 1; l <= Net::layers; ++l) {
            state.emplace_back(net.weight(l).size());
            state.emplace_back(net.bias(l).size());
        }
    }
    return state;
}

// Parameter lists: every gradient finite (else an error naming the tensor and the entry); returns the clipping factor,
// with the norm in the same per-tensor units as a network's (g / gradient_scale; 1 unless a network set it).
template <class T>
double validate_parameters(const parameter_list<T>& list, double clip_norm, const char* where) {
    double total = 0;
    for (const auto* p : list.parameters()) {
        const double u = p->scaling.gradient_scale;
        total += sum_of_squares<T>(p->grad.data(), p->size()) / (u * u);
    }
    if (!std::isfinite(total)) {
        for (const auto* p : list.parameters()) require_finite(p->grad, where, "gradient of " + p->name);
        fail<numerical_error>(where, ": the gradients are finite but their squared norm overflows double (is the training diverging?)");
    }
    const double norm = std::sqrt(total);
    return clip_norm > 0 && norm > clip_norm ? clip_norm / norm : 1.0;
}

// Calls f(w, g, size, scaling, tensor_index) for every parameter's trainable view.
template <class T, class F>
void for_each_parameter(parameter_list<T>& list, F&& f) {
    int k = 0;
    for (auto* p : list.parameters()) {
        const trainable<T> t = p->view();
        f(t.value, t.gradient, t.size, t.scaling, k++);
    }
}

// Where an optimiser keeps its model: a network by reference, a parameter list (pointers only) by value.
template <class Net>
class model_holder {
public:
    explicit model_holder(Net& net) : net_(&net) {}
    Net& get() const { return *net_; }

private:
    Net* net_;
};
template <class T>
class model_holder<parameter_list<T>> {
public:
    explicit model_holder(parameter_list<T> list) : list_(std::move(list)) {}
    parameter_list<T>& get() { return list_; }
    const parameter_list<T>& get() const { return list_; }

private:
    parameter_list<T> list_;
};

}  // namespace detail

// SGD with momentum (PyTorch convention: buf = μ·buf + d, w -= η_l·buf) and weight decay.
template <class Net>
class sgd {
public:
    using T = typename Net::value_type;

    sgd(Net& net, const sgd_config& config)
        requires(!is_parameter_list<Net>)
        : model_(net), config_(config) {
        check(config);
    }
    sgd(parameter_list<T> params, const sgd_config& config)
        requires is_parameter_list<Net>
        : model_(std::move(params)), config_(config) {
        check(config);
    }

    const sgd_config& config() const { return config_; }
    void set_lr(double lr) {
        detail::check_positive(lr, "nn::sgd::set_lr", "lr");
        config_.lr = lr;
    }
    double lr() const { return config_.lr; }

    // One step from the gradients g of the network's trainable tensors.
    void step(const gradients<T>& g)
        requires(!is_parameter_list<Net>)
    {
        const double clip = detail::validate_gradients(model_.get(), g, config_.clip_norm, "nn::sgd::step");
        detail::for_each_tensor(model_.get(), &g, rule(clip));
    }
    // One step from the gradients the network holds: opt.step(net.backward(x, dout)).
    void step(const parameter_list<T>& own)
        requires(!is_parameter_list<Net> && is_network<Net>)
    {
        const double clip = detail::validate_own_gradients(model_.get(), own, config_.clip_norm, "nn::sgd::step");
        detail::for_each_tensor(model_.get(), nullptr, rule(clip));
    }
    // One step from the gradients held by the parameters.
    void step()
        requires is_parameter_list<Net>
    {
        const double clip = detail::validate_parameters(model_.get(), config_.clip_norm, "nn::sgd::step");
        detail::for_each_parameter(model_.get(), rule(clip));
    }
    void zero_grad()
        requires is_parameter_list<Net>
    {
        model_.get().zero_grad();
    }

private:
    void check(const sgd_config& config) {
        detail::check_positive(config.lr, "nn::sgd", "lr");
        detail::check_positive(config.momentum, "nn::sgd", "momentum", true);
        require(config.momentum < 1, "nn::sgd: momentum must be < 1, got ", config.momentum);
        detail::check_positive(config.weight_decay, "nn::sgd", "weight_decay", true);
        detail::check_positive(config.clip_norm, "nn::sgd", "clip_norm", true);
        if (config.momentum > 0) momentum_ = detail::zero_state(model_.get());
    }

    // The per-tensor rule, the same for every kind of model.
    auto rule(double clip) {
        return [this, clip](T* w, const T* grad, std::size_t n, const tensor_scaling& s, int k) {
            const double rate = config_.lr * s.sgd_lr;
            if (config_.momentum == 0) {
                // d = clip·g + (wd / f)·w;  w ← w − η f d = (1 − η wd) w − η f clip g
                if (config_.weight_decay != 0) {
                    const T keep = static_cast<T>(1.0 - config_.lr * config_.weight_decay);
                    for (std::size_t i = 0; i < n; ++i) w[i] *= keep;
                }
                blas::axpy<T>(n, static_cast<T>(-rate * clip), grad, w);
                return;
            }
            T* buf = momentum_[static_cast<std::size_t>(k)].data();
            const T mu = static_cast<T>(config_.momentum), c = static_cast<T>(clip);
            const T decay = static_cast<T>(config_.weight_decay / s.sgd_lr), r = static_cast<T>(rate);
            for (std::size_t i = 0; i < n; ++i) {
                buf[i] = mu * buf[i] + c * grad[i] + decay * w[i];
                w[i] -= r * buf[i];
            }
        };
    }

    detail::model_holder<Net> model_;
    sgd_config config_;
    std::vector<std::vector<T>> momentum_;
};

namespace detail {

// Adam (Kingma & Ba 2015) with bias correction; decoupled = true is AdamW (Loshchilov & Hutter 2019).
template <class Net, bool Decoupled>
class adam_impl {
public:
    using T = typename Net::value_type;

    adam_impl(model_holder<Net> model, const adam_config& config, const char* name)
        : model_(std::move(model)), config_(config), name_(name), step_name_(std::string(name) + "::step") {
        check_positive(config.lr, name, "lr");
        check_positive(config.eps, name, "eps");
        check_positive(config.weight_decay, name, "weight_decay", true);
        check_positive(config.clip_norm, name, "clip_norm", true);
        require(config.beta1 >= 0 && config.beta1 < 1 && config.beta2 >= 0 && config.beta2 < 1, name,
                ": beta1 and beta2 must be in [0, 1), got ", config.beta1, " and ", config.beta2);
        first_ = zero_state(model_.get());
        second_ = zero_state(model_.get());
    }

    const adam_config& config() const { return config_; }
    long long steps() const { return steps_; }
    void set_lr(double lr) {
        check_positive(lr, (name_ + std::string("::set_lr")).c_str(), "lr");
        config_.lr = lr;
    }

    double lr() const { return config_.lr; }

    // One step from the gradients g of the network's trainable tensors.
    void step(const gradients<T>& g)
        requires(!is_parameter_list<Net>)
    {
        const double clip = validate_gradients(model_.get(), g, config_.clip_norm, step_name_.c_str());
        for_each_tensor(model_.get(), &g, rule(clip));
    }
    // One step from the gradients the network holds: opt.step(net.backward(x, dout)).
    void step(const parameter_list<T>& own)
        requires(!is_parameter_list<Net> && is_network<Net>)
    {
        const double clip = validate_own_gradients(model_.get(), own, config_.clip_norm, step_name_.c_str());
        for_each_tensor(model_.get(), nullptr, rule(clip));
    }
    // One step from the gradients held by the parameters.
    void step()
        requires is_parameter_list<Net>
    {
        const double clip = validate_parameters(model_.get(), config_.clip_norm, step_name_.c_str());
        for_each_parameter(model_.get(), rule(clip));
    }
    void zero_grad()
        requires is_parameter_list<Net>
    {
        model_.get().zero_grad();
    }

private:
    // Counts the step and returns the per-tensor rule, the same for every kind of model.
    auto rule(double clip) {
        ++steps_;
        const double correction1 = 1.0 - std::pow(config_.beta1, static_cast<double>(steps_));
        const double correction2 = 1.0 - std::pow(config_.beta2, static_cast<double>(steps_));
        return [this, clip, correction1, correction2](T* w, const T* grad, std::size_t n, const tensor_scaling& s, int k) {
            T* m = first_[static_cast<std::size_t>(k)].data();
            T* v = second_[static_cast<std::size_t>(k)].data();
            const T b1 = static_cast<T>(config_.beta1), b2 = static_cast<T>(config_.beta2), c = static_cast<T>(clip);
            const T rate = static_cast<T>(config_.lr * s.adam_lr / correction1);
            const T root_correction2 = static_cast<T>(std::sqrt(correction2));
            const T eps = static_cast<T>(config_.eps * (config_.scale_epsilon ? s.gradient_scale : 1.0));
            const T l2 = Decoupled ? T(0) : static_cast<T>(config_.weight_decay * s.l2_scale);
            if (Decoupled && config_.weight_decay != 0) {
                const T keep = static_cast<T>(1.0 - config_.lr * config_.weight_decay);
                for (std::size_t i = 0; i < n; ++i) w[i] *= keep;
            }
            for (std::size_t i = 0; i < n; ++i) {
                const T gi = c * grad[i] + l2 * w[i];
                m[i] = b1 * m[i] + (T(1) - b1) * gi;
                v[i] = b2 * v[i] + (T(1) - b2) * gi * gi;
                w[i] -= rate * m[i] / (std::sqrt(v[i]) / root_correction2 + eps);
            }
        };
    }

    model_holder<Net> model_;
    adam_config config_;
    const char* name_;
    std::string step_name_;
    std::vector<std::vector<T>> first_, second_;
    long long steps_ = 0;
};

}  // namespace detail

// Adam; weight_decay adds wd·ñ^{-2a}·w to the gradient (see above).
template <class Net>
class adam : public detail::adam_impl<Net, false> {
public:
    using T = typename Net::value_type;
    adam(Net& net, const adam_config& config)
        requires(!is_parameter_list<Net>)
        : detail::adam_impl<Net, false>(detail::model_holder<Net>(net), config, "nn::adam") {}
    adam(parameter_list<T> params, const adam_config& config)
        requires is_parameter_list<Net>
        : detail::adam_impl<Net, false>(detail::model_holder<Net>(std::move(params)), config, "nn::adam") {}
};

// AdamW: decoupled decay w ← (1 − η·wd) w before the Adam step (torch.optim.AdamW with mup's default scaling).
template <class Net>
class adamw : public detail::adam_impl<Net, true> {
public:
    using T = typename Net::value_type;
    adamw(Net& net, const adam_config& config)
        requires(!is_parameter_list<Net>)
        : detail::adam_impl<Net, true>(detail::model_holder<Net>(net), config, "nn::adamw") {}
    adamw(parameter_list<T> params, const adam_config& config)
        requires is_parameter_list<Net>
        : detail::adam_impl<Net, true>(detail::model_holder<Net>(std::move(params)), config, "nn::adamw") {}
};

// A list of parameters deduces the parameter-list optimiser: nn::adam opt(model.parameters(), {.lr = 1e-3}).
template <class T>
sgd(std::vector<parameter<T>*>, const sgd_config&) -> sgd<parameter_list<T>>;
template <class T>
adam(std::vector<parameter<T>*>, const adam_config&) -> adam<parameter_list<T>>;
template <class T>
adamw(std::vector<parameter<T>*>, const adam_config&) -> adamw<parameter_list<T>>;
// nn::sgd opt(net.parameters(), {.lr = 0.1}) for an nn::network (nn/serial.hpp) or any parameter_list.
template <class T>
sgd(parameter_list<T>, const sgd_config&) -> sgd<parameter_list<T>>;
template <class T>
adam(parameter_list<T>, const adam_config&) -> adam<parameter_list<T>>;
template <class T>
adamw(parameter_list<T>, const adam_config&) -> adamw<parameter_list<T>>;

}  // namespace widenn::nn
