#pragma once
// The one vocabulary of trainable tensors: what an optimiser (nn/optim.hpp) needs to know about a tensor, whichever
// layer or network owns it.
//   tensor_scaling  per-tensor learning-rate factors and width scaling (from the parametrization, or a layer's lr factor)
//   trainable<T>    a view: value, gradient, size, scaling and a name for messages
//   parameter<T>    a tensor that owns its value and gradient (the equivariant layers' storage); view() gives its trainable
//   parameter_list<T> the parameters of a model, for nn::sgd / nn::adam / nn::adamw (step() reads their gradients)
#include <algorithm>
#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../core/rng.hpp"

namespace widenn::nn {

// How one trainable tensor is scaled: effective tensor = multiplier · w, w ~ N(0, init_std²) at
// initialisation; an optimizer with base rate η uses η·sgd_lr (SGD) or η·adam_lr (Adam) on w.
// gradient_scale = ñ^{-g}, the width dependence of the typical per-entry gradient of w (nn/optim.hpp
// scales Adam's ε and measures the clipping norm with it); l2_scale = ñ^{-2a} weights Adam's L2 term.
// All factors are 1 at ñ = 1 except init_std and multiplier.
struct tensor_scaling {
    double init_std = 0.0;
    double multiplier = 1.0;
    double sgd_lr = 1.0;
    double adam_lr = 1.0;
    double gradient_scale = 1.0;
    double l2_scale = 1.0;
};

// A trainable tensor as an optimiser sees it (flat, contiguous storage owned elsewhere).
template <class T>
struct trainable {
    std::string_view name;
    T* value = nullptr;
    const T* gradient = nullptr;
    std::size_t size = 0;
    tensor_scaling scaling{};
};

// A trainable tensor that owns its values and the gradient of the loss with respect to them (flat, row major).
// lr_scale multiplies the optimiser's learning rate for this tensor (SGD and Adam alike), on top of `scaling` (the
// parametrization's per-tensor factors, set by nn::network; all 1 for a layer that has none).
template <class T>
struct parameter {
    std::string name;
    std::vector<T> value, grad;
    double lr_scale = 1.0;
    tensor_scaling scaling{};
    explicit parameter(std::string n = {}, std::size_t size = 0) : name(std::move(n)), value(size, T(0)), grad(size, T(0)) {}
    std::size_t size() const { return value.size(); }
    void zero_grad() { std::fill(grad.begin(), grad.end(), T(0)); }
    trainable<T> view() {
        tensor_scaling s = scaling;
        s.sgd_lr *= lr_scale;
        s.adam_lr *= lr_scale;
        return {name, value.data(), grad.data(), value.size(), s};
    }
};

// The parameters of a model, in a fixed order: what nn's optimisers train when gradients live in the parameters.
template <class T>
class parameter_list {
public:
    using value_type = T;
    parameter_list() = default;
    parameter_list(std::vector<parameter<T>*> params) : params_(std::move(params)) {}  // NOLINT: implicit from a list is intended
    parameter_list(std::initializer_list<parameter<T>*> params) : params_(params) {}
    const std::vector<parameter<T>*>& parameters() const { return params_; }
    std::size_t size() const { return params_.size(); }
    std::size_t count() const {  // the number of scalars
        std::size_t n = 0;
        for (const auto* p : params_) n += p->size();
        return n;
    }
    void zero_grad() {
        for (auto* p : params_) p->zero_grad();
    }

private:
    std::vector<parameter<T>*> params_;
};

// Fills `p` with U(−bound, bound).
template <class T>
void fill_uniform(std::vector<T>& p, double bound, rng& r) {
    for (auto& v : p) v = static_cast<T>(bound * (2.0 * r.uniform() - 1.0));
}

template <class>
inline constexpr bool is_parameter_list = false;
template <class T>
inline constexpr bool is_parameter_list<parameter_list<T>> = true;

}  // namespace widenn::nn
