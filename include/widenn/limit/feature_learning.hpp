#pragma once
// Which feature-learning limit belongs to a finite network: limit::feature_learning_limit<Net>::type, used by
// limit::of<Net> (limit/of.hpp) for parametrizations in the feature-learning regime (TP4 Cor 3.9: r = 0).
//
//   nn::mlp<P, act::identity, 1, T>  ->  limit::mup_linear<double>   (TP4 Cor 6.2, exact)
//   nn::mlp<P, A (nonlinear),  1, T>  ->  limit::mup_1hl<A, double>   (TP4 Thm 6.1, quadrature)
// for every P that param::classify puts in the feature-learning regime at L = 1 (μP, mean-field and their abc shifts).
//
// Everything else has no `type`: deep μP networks (L ≥ 2) have no finite-dimensional limit whose cost per step is
// independent of the step count (docs/feature-learning.md: for linear φ the state grows by O(d + d_o) coordinates per
// step, for nonlinear φ TP4 §8 reports super-exponential cost), and parametrizations outside the feature-learning regime
// have kernel limits (limit::kernel). μP and mean-field are the same network for L = 1 (TP4 Eq. 5 with θ = −1/2).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string_view>
#include <type_traits>

#include "../core/concepts.hpp"
#include "../act/activations.hpp"
#include "../nn/network.hpp"
#include "../param/abc.hpp"
#include "../param/classify.hpp"
#include "mup_1hl.hpp"
#include "mup_linear.hpp"

namespace widenn::limit {

// The sentence limit::of and users see when no exact feature-learning limit exists (a macro only so that
// static_assert, which needs a string literal, and the constant below share one text).
#define WIDENN_FEATURE_LEARNING_LIMIT_SUPPORT                                                                               \
    "widenn: an exact feature-learning limit exists only for one-hidden-layer networks (L = 1) in the feature-learning "  \
    "regime (param::mup, param::mean_field, param::mup_table3 or an abc shift of them): act::identity gives "             \
    "limit::mup_linear (TP4 Cor 6.2), any other activation gives limit::mup_1hl (TP4 Thm 6.1 by Gauss-Hermite "          \
    "quadrature). Deep (L >= 2) muP limits have no fixed finite-dimensional form (see docs/feature-learning.md)"

inline constexpr const char* feature_learning_limit_support = WIDENN_FEATURE_LEARNING_LIMIT_SUPPORT;

namespace detail {

template <class A>
inline constexpr bool is_identity_activation = std::is_same_v<A, act::identity>;

// One hidden layer and a parametrization that TP4 classifies as feature learning (r = 0): the networks whose limit is
// mup_linear or mup_1hl. Decided by the classification, not by the policy's name, so shifted and re-derived forms of
// μP (param::shift<param::mup, θ>, allow_unstable wrappers of a stable policy) have the same limit.
template <class Net>
concept has_fl_limit_shape = nn::HasNetworkPolicies<Net> && nn::HasDepth<Net> && (Net::depth == 1) &&
                             (param::classify<typename Net::parametrization, 1>().regime == regime::feature_learning);

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
    using type = std::conditional_t<detail::is_identity_activation<typename Net::activation>, mup_linear<double>,
                                    mup_1hl<typename Net::activation, double>>;
};

// The sentence as a static_assert, for code that needs a limit to exist (limit::of, the *_options_for functions).
template <class Net>
consteval bool require_feature_learning_limit() {
    static_assert(feature_learning_limit<Net>::exists, WIDENN_FEATURE_LEARNING_LIMIT_SUPPORT);
    return true;
}

template <class Net>
using feature_learning_limit_t = typename feature_learning_limit<Net>::type;

// ---- matching a finite nn::mlp<P, A, 1, T> (any base width, constants_in::init or ::multiplier) ----
//
// With W_l = m_l w_l, w_l ~ N(0, s_l²) and SGD rate η r_l on w_l (nn::mlp's tensor_scaling), the network is TP4's
// f = V φ(Uξ) with U = W_1 (entries N(0, σ_u²), σ_u = m_1 s_1) and nV = n W_2 (σ_v = n m_2 s_2), and plain SGD moves
// W_l by −η r_l m_l² ∇_{W_l}. TP4's μP SGD moves U by −η n ∇_U and V by −(η/n) ∇_V, so the limit's per-layer factors are
// lr_input_factor = r_1 m_1² / n and lr_output_factor = n r_2 m_2² (both 1 for base width 1 and constants_in::init).
// Biases are not part of these limits: the network must have config().bias == false.

namespace detail {
template <class Net>
void check_matchable(const Net& net, const char* where) {
    static_assert(require_feature_learning_limit<Net>());
    require(!net.config().bias, where, ": the feature-learning limits have no biases; build the network with bias = false");
}

template <class Net, class Options>
Options fill_options(const Net& net, Options o) {
    const double n = static_cast<double>(net.config().width);
    const auto& in = net.weight_scaling(1);
    const auto& out = net.weight_scaling(2);
    o.sigma_u = in.multiplier * in.init_std;
    o.sigma_v = net.config().zero_readout ? 0.0 : n * out.multiplier * out.init_std;
    o.output_multiplier = 1.0;
    o.lr_input_factor = in.sgd_lr * in.multiplier * in.multiplier / n;
    o.lr_output_factor = n * out.sgd_lr * out.multiplier * out.multiplier;
    return o;
}
}  // namespace detail

// Options of limit::mup_linear for the network `net` trained by nn::sgd with rate `lr` (no momentum), loss and weight decay.
template <class Net>
mup_linear_options mup_linear_options_for(const Net& net, double lr, loss_kind loss = loss_kind::mse, double weight_decay = 0.0) {
    detail::check_matchable(net, "limit::mup_linear_options_for");
    return detail::fill_options(net, mup_linear_options{.lr = lr, .loss = loss, .weight_decay = weight_decay});
}

// Options of limit::mup_1hl for `net`; the quadrature fields of `base` (grid, degree, max_nodes, ...) are kept.
template <class Net>
mup_1hl_options mup_1hl_options_for(const Net& net, double lr, loss_kind loss = loss_kind::mse, double weight_decay = 0.0,
                                    mup_1hl_options base = {}) {
    detail::check_matchable(net, "limit::mup_1hl_options_for");
    base.lr = lr;
    base.loss = loss;
    base.weight_decay = weight_decay;
    return detail::fill_options(net, base);
}

// Sets the weights of a finite linear μP net from the limit's coefficients with Ω ~ N(0, 1)^{n×(d+d_o)} drawn from `seed`
// (U = ΩA, nV = BΩᵀ: the TP4 code's MetaFinLin1LP construction), so that finite and limit runs are directly comparable:
// the net then converges to the limit as n → ∞, and equals it exactly when ΩᵀΩ = nI (initialise_from_coefficients_with).
template <class Net>
void initialise_from_coefficients_with(Net& net, const mup_linear<double>& limit, const matrix<double>& omega) {
    detail::check_matchable(net, "limit::initialise_from_coefficients");
    const std::size_t n = net.config().width;
    require<shape_error>(net.config().d_in == limit.d_in() && net.config().d_out == limit.d_out(),
                         "limit::initialise_from_coefficients: the network is ", net.config().d_in, " -> ", net.config().d_out,
                         ", the limit ", limit.d_in(), " -> ", limit.d_out());
    require_shape(omega, n, limit.coefficient_dim(), "limit::initialise_from_coefficients", "Omega (width x (d_in + d_out))");
    const mup_linear_options expected = detail::fill_options(net, limit.options());
    const auto close = [](double x, double y) { return std::abs(x - y) <= 1e-9 * std::max(1.0, std::abs(y)); };
    require(close(limit.options().sigma_u, expected.sigma_u) && close(limit.options().sigma_v, expected.sigma_v) &&
                close(limit.options().lr_input_factor, expected.lr_input_factor) &&
                close(limit.options().lr_output_factor, expected.lr_output_factor) && limit.options().output_multiplier == 1.0,
            "limit::initialise_from_coefficients: the limit's options do not describe this network (sigma_u ",
            limit.options().sigma_u, " vs ", expected.sigma_u, ", sigma_v ", limit.options().sigma_v, " vs ", expected.sigma_v,
            ", lr factors ", limit.options().lr_input_factor, "/", limit.options().lr_output_factor, " vs ",
            expected.lr_input_factor, "/", expected.lr_output_factor, "); build it with limit::mup_linear_options_for(net, ...)");
    const auto& a = limit.coefficients_u();
    const auto& b = limit.coefficients_v();
    using T = typename Net::value_type;
    const double m1 = static_cast<double>(net.multiplier(1)), m2 = static_cast<double>(net.multiplier(2));
    auto w1 = net.weight(1);  // n × d:   W_1 = U = Ω A (a view into the network)
    auto w2 = net.weight(2);  // d_o × n: W_2 = V = B Ωᵀ / n
    for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t j = 0; j < limit.d_in(); ++j) {
            double u = 0;
            for (std::size_t k = 0; k < limit.coefficient_dim(); ++k) u += omega(i, k) * a(k, j);
            w1(i, j) = static_cast<T>(u / m1);
        }
        for (std::size_t o = 0; o < limit.d_out(); ++o) {
            double v = 0;
            for (std::size_t k = 0; k < limit.coefficient_dim(); ++k) v += b(o, k) * omega(i, k);
            w2(o, i) = static_cast<T>(v / (static_cast<double>(n) * m2));
        }
    }
}

template <class Net>
void initialise_from_coefficients(Net& net, const mup_linear<double>& limit, std::uint64_t seed) {
    initialise_from_coefficients_with(net, limit, limit.gaussian_omega(net.config().width, seed));
}

}  // namespace widenn::limit
