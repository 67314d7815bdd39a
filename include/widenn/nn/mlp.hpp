#pragma once
// A finite-width multilayer perceptron under any abc-parametrization (Yang & Hu 2020, "Tensor
// Programs IV", §3), in the base-width form of "Tensor Programs V" (Yang et al. 2022, Eq. 4) so
// that μP equals the standard parametrization at width = base width.
//
//   h^1 = W^1 ξ + b^1,  x^l = φ(h^l),  h^{l+1} = W^{l+1} x^l + b^{l+1},  f = h^{L+1}
//
// Every trainable tensor p is stored as p = m · w with a scalar multiplier m and trainable w.
// With ñ = width / base_width and per-layer exponents (a, b, c, c_adam) from the policy P
// (input layer for W^1, hidden for W^2..W^L, output for W^{L+1}):
//   constants_in::init        W = ñ^{-a} w,                 w ~ N(0, σ²/base_fan_in · ñ^{-2b})
//   constants_in::multiplier  W = √(σ²/base_fan_in) ñ^{-a} w,  w ~ N(0, ñ^{-2b})
//   SGD learning rate on w: η ñ^{-c}; Adam: η ñ^{-c_adam}.
// base_fan_in is d_in for W^1 and base_width for the other weights. Hidden biases b^1..b^L use the
// input-layer exponents, σ_b² and base_fan_in 1 (a bias has one infinite dimension and fan_in 1,
// TP5 Table 3). The readout bias b^{L+1} has no infinite dimension (its fan_out is d_out), so its
// width ratio is 1 and its initialisation and learning rate do not depend on width, as in the
// `mup` package (a tensor's width multiplier is that of its infinite dimensions).
//
// All batch work goes through BLAS GEMM into buffers that are allocated on the first call at a
// given batch size and reused afterwards.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "../core/checked.hpp"
#include "../core/concepts.hpp"
#include "../core/errors.hpp"
#include "../core/rng.hpp"
#include "../core/tensor.hpp"
#include "../param/classify.hpp"
#include "../core/blas.hpp"
#include "network.hpp"
#include "scaling.hpp"
#include "trainable.hpp"

namespace widenn::nn {

struct mlp_config {
    std::size_t d_in = 0;
    std::size_t width = 0;
    std::size_t d_out = 0;
    std::size_t base_width = 0;  // 0 means base_width = width (so ñ = 1)
    bool bias = true;
    bool zero_readout = false;   // W^{L+1} = 0 and b^{L+1} = 0 at initialisation (mup's readout_zero_init)
    double weight_var = 1.0;     // σ²
    double bias_var = 0.0;       // σ_b²; 0 keeps trainable zero-initialised biases
    constants_in constants = constants_in::init;
    std::uint64_t seed = 0;
};

// Gradients of a loss with respect to the trainable tensors w (not W = m·w); index l-1 for layer l.
// Without biases the bias vectors have length 0.
template <class T>
struct gradients {
    std::vector<matrix<T>> weights;
    std::vector<vector<T>> biases;

    matrix<T>& weight(int l) { return weights.at(static_cast<std::size_t>(l - 1)); }
    const matrix<T>& weight(int l) const { return weights.at(static_cast<std::size_t>(l - 1)); }
    vector<T>& bias(int l) { return biases.at(static_cast<std::size_t>(l - 1)); }
    const vector<T>& bias(int l) const { return biases.at(static_cast<std::size_t>(l - 1)); }
};

namespace detail {

// Allocate `m` as rows x cols unless it already has that shape (so steady-state steps allocate nothing).
template <class T>
void ensure_shape(matrix<T>& m, std::size_t rows, std::size_t cols) {
    if (m.shape(0) != rows || m.shape(1) != cols) m = matrix<T>::from_shape({rows, cols});
}

// Lane width for the blocked loops below: one 64-byte line of T. Independent lanes let the compiler
// vectorise the accumulations without reassociating floating-point sums (no -ffast-math needed).
template <class T>
inline constexpr std::size_t lanes = 64 / sizeof(T);

// Σ p_i² in T lanes: NaN or ±inf when an entry is not finite (or the sum overflows T).
template <class T>
double sum_of_squares_fast(const T* p, std::size_t n) {
    constexpr std::size_t W = lanes<T>;
    T acc[W] = {};
    const std::size_t full = n - n % W;
    for (std::size_t i = 0; i < full; i += W)
        for (std::size_t j = 0; j < W; ++j) acc[j] += p[i + j] * p[i + j];
    double total = 0;
    for (std::size_t i = full; i < n; ++i) total += static_cast<double>(p[i] * p[i]);
    for (std::size_t j = 0; j < W; ++j) total += static_cast<double>(acc[j]);
    return total;
}

// Throws (naming `where`, the first bad entry and its index) unless every entry of m is finite.
// Returns ‖m‖_F², or +inf if that overflows; the fast pass decides whether the slow one is needed.
template <class T>
double require_finite_squared_norm(const matrix<T>& m, const char* where, const char* what) {
    const double total = sum_of_squares_fast(m.data(), m.size());
    if (std::isfinite(total)) return total;
    require_finite(m, where, what);
    return std::numeric_limits<double>::infinity();
}

}  // namespace detail

// L = number of hidden layers, T = float or double.
// Note: the activation policy is the member type `activation`, so the post-activations x^l are
// read with post_activation(l) (a member function cannot share the type's name).
template <Parametrization P, class A, int L, class T = float>
class mlp {
    static_assert(check_activation<A>());
    static_assert(Activation<A>, "widenn::nn::mlp: the activation policy must provide value(x) and derivative(x) for float and double");
    static_assert(param::require_stable<P, L>());
    static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "widenn::nn::mlp: the value type must be float or double (BLAS)");

public:
    using parametrization = P;
    using activation = A;
    using value_type = T;
    using gradients_type = gradients<T>;
    static constexpr int depth = L;
    static constexpr int layers = L + 1;  // weight matrices W^1..W^{L+1}

    explicit mlp(const mlp_config& config) : config_(config) {
        require(config_.d_in > 0 && config_.width > 0 && config_.d_out > 0, "nn::mlp: d_in, width and d_out must be positive, got d_in = ",
                config_.d_in, ", width = ", config_.width, ", d_out = ", config_.d_out);
        if (config_.base_width == 0) config_.base_width = config_.width;
        // The weights and their gradients, sized before any allocation (a width of 2^62 is an error, not a heap overflow).
        constexpr std::size_t size_limit = std::size_t{1} << 32;  // keeps the sums below exact in 64 bits
        require(config_.width <= size_limit && config_.d_in <= size_limit && config_.d_out <= size_limit,
                "nn::mlp: d_in, width and d_out must be at most 2^32, got d_in = ", config_.d_in, ", width = ", config_.width,
                ", d_out = ", config_.d_out);
        const std::size_t n = config_.width, hidden = static_cast<std::size_t>(L - 1);
        const std::size_t parameters = checked_product({config_.d_in + 1 + hidden * (n + 1) + config_.d_out, n}, "nn::mlp") + config_.d_out;
        require_memory(checked_product({parameters, 2 * sizeof(T)}, "nn::mlp"), widenn::detail::concat("nn::mlp of width ", n),
                       "use a smaller width");
        require(config_.weight_var > 0 && std::isfinite(config_.weight_var), "nn::mlp: weight_var must be positive and finite, got ",
                config_.weight_var);
        require(config_.bias_var >= 0 && std::isfinite(config_.bias_var), "nn::mlp: bias_var must be >= 0 and finite, got ", config_.bias_var);
        width_ratio_ = static_cast<double>(config_.width) / static_cast<double>(config_.base_width);
        compute_scaling();
        initialise();
    }

    const mlp_config& config() const { return config_; }
    double width_ratio() const { return width_ratio_; }  // ñ = width / base_width
    std::size_t fan_in(int l) const { return check_layer(l, "nn::mlp::fan_in") == 1 ? config_.d_in : config_.width; }
    std::size_t fan_out(int l) const { return check_layer(l, "nn::mlp::fan_out") == layers ? config_.d_out : config_.width; }
    std::size_t parameter_count() const {
        std::size_t count = 0;
        for (int l = 1; l <= layers; ++l) count += fan_in(l) * fan_out(l) + (config_.bias ? fan_out(l) : 0);
        return count;
    }

    // Trainable tensors w^l and b^l (l = 1..L+1) and the multipliers m_l with W^l = m_l w^l.
    matrix<T>& weight(int l) { return weights_[index(l, "nn::mlp::weight")]; }
    const matrix<T>& weight(int l) const { return weights_[index(l, "nn::mlp::weight")]; }
    vector<T>& bias(int l) { return biases_[index(l, "nn::mlp::bias")]; }
    const vector<T>& bias(int l) const { return biases_[index(l, "nn::mlp::bias")]; }
    T multiplier(int l) const { return static_cast<T>(weight_scaling_[index(l, "nn::mlp::multiplier")].multiplier); }
    T bias_multiplier(int l) const { return static_cast<T>(bias_scaling_[index(l, "nn::mlp::bias_multiplier")].multiplier); }
    const tensor_scaling& weight_scaling(int l) const { return weight_scaling_[index(l, "nn::mlp::weight_scaling")]; }
    const tensor_scaling& bias_scaling(int l) const { return bias_scaling_[index(l, "nn::mlp::bias_scaling")]; }

    // Zero gradients shaped like the parameters.
    gradients_type make_gradients() const {
        gradients_type g;
        for (int l = 1; l <= layers; ++l) {
            g.weights.push_back(xt::zeros<T>({fan_out(l), fan_in(l)}));
            g.biases.push_back(xt::zeros<T>({config_.bias ? fan_out(l) : std::size_t{0}}));
        }
        return g;
    }

    // B x d_in -> B x d_out. Keeps the preactivations and activations for backward. The returned
    // reference stays valid until the next forward.
    const matrix<T>& forward(const matrix<T>& x) {
        require_shape(x, any_size, config_.d_in, "nn::mlp::forward", "input batch");
        require(x.shape(0) > 0, "nn::mlp::forward: the input batch is empty (0 x ", config_.d_in, ")");
        const double x_squared_norm = detail::require_finite_squared_norm(x, "nn::mlp::forward", "input batch");
        const std::size_t batch = x.shape(0);
        forward_batch_ = 0;  // invalid until this forward completes
        allocate(batch);
        for (int l = 1; l <= layers; ++l) {
            const T* previous = l == 1 ? x.data() : post_[l - 2].data();
            matrix<T>& h = pre_[l - 1];
            const std::size_t out = fan_out(l), in = fan_in(l);
            T beta = T(0);
            if (config_.bias) {
                const T mb = bias_multiplier(l);
                const T* b = biases_[l - 1].data();
                for (std::size_t r = 0; r < batch; ++r) {
                    T* row = h.data() + r * out;
                    for (std::size_t j = 0; j < out; ++j) row[j] = mb * b[j];
                }
                beta = T(1);
            }
            blas::gemm<T>(false, true, batch, out, in, multiplier(l), previous, weights_[l - 1].data(), beta, h.data());
            if (l <= L) {
                const T* hp = h.data();
                T* xp = post_[l - 1].data();
                const std::size_t n = h.size();
                for (std::size_t i = 0; i < n; ++i) xp[i] = A::value(hp[i]);
                post_squared_norm_[l - 1] = detail::sum_of_squares_fast(xp, n);  // for certifies_finite; x^l is cache-hot
            }
        }
        const matrix<T>& out = pre_[L];
        for (std::size_t i = 0; i < out.size(); ++i)
            if (!std::isfinite(static_cast<double>(out.data()[i])))
                fail<numerical_error>("nn::mlp::forward: the output is not finite (", out.data()[i], " at flat index ", i,
                                      "); the parameters or the input are too large");
        forward_batch_ = batch;
        forward_input_ = x.data();
        forward_input_squared_norm_ = x_squared_norm;
        return out;
    }

    // h^l for l = 1..L+1 (h^{L+1} is the output), from the last forward.
    const matrix<T>& preactivation(int l) const {
        require_forward("nn::mlp::preactivation");
        return pre_[index(l, "nn::mlp::preactivation")];
    }
    // x^l = φ(h^l) for l = 1..L, from the last forward.
    const matrix<T>& post_activation(int l) const {
        require_forward("nn::mlp::post_activation");
        require(l >= 1 && l <= L, "nn::mlp::post_activation: layer must be in 1..", L, ", got ", l);
        return post_[static_cast<std::size_t>(l - 1)];
    }

    // Gradients of the loss with respect to every trainable tensor, given x (the batch of the last
    // forward, unmodified: its shape is checked, its content is not; a different array object is
    // checked for finite values) and dloss/dout (B x d_out). Fills and returns
    // internal storage (valid until the next backward). These internal gradients are certified finite
    // by a bound (see certifies_finite), which lets an optimizer skip re-scanning them.
    const gradients_type& backward(const matrix<T>& x, const matrix<T>& dloss_dout) {
        if (grads_.weights.empty()) grads_ = make_gradients();
        grads_certified_ = false;
        grads_certified_ = backward_into(x, dloss_dout, grads_);
        return grads_;
    }

    // As above, into `out` (shaped by make_gradients(); reshaped if it is not).
    void backward(const matrix<T>& x, const matrix<T>& dloss_dout, gradients_type& out) {
        if (&out == &grads_) grads_certified_ = false;
        const bool certified = backward_into(x, dloss_dout, out);
        if (&out == &grads_) grads_certified_ = certified;
    }

    // True if g is this network's internal gradient storage (only reachable as const) and the last
    // backward proved every entry finite: by Cauchy–Schwarz over the batch,
    // |∂L/∂w_ij| = |m Σ_b δ_bi x_bj| ≤ |m|·‖δ‖_F·‖x‖_F and |∂L/∂b_i| ≤ |m_b|·√B·‖δ‖_F, and these bounds
    // (computed while δ and x were produced) are below the largest finite value with a factor 4 to spare.
    bool certifies_finite(const gradients_type& g) const { return &g == &grads_ && grads_certified_; }

    // ∂loss/∂h^l (l = 1..L+1) from the last backward.
    const matrix<T>& preactivation_gradient(int l) const {
        require(backward_done_, "nn::mlp::preactivation_gradient: call backward first");
        return delta_[index(l, "nn::mlp::preactivation_gradient")];
    }

    bool shaped_like_parameters(const gradients_type& g) const {
        if (g.weights.size() != static_cast<std::size_t>(layers) || g.biases.size() != static_cast<std::size_t>(layers)) return false;
        for (int l = 1; l <= layers; ++l) {
            const auto& w = g.weights[l - 1];
            if (w.shape(0) != fan_out(l) || w.shape(1) != fan_in(l)) return false;
            if (g.biases[l - 1].size() != (config_.bias ? fan_out(l) : 0)) return false;
        }
        return true;
    }

private:
    static int check_layer(int l, const char* where) {
        if (l < 1 || l > layers) fail<shape_error>(where, ": layer must be in 1..", layers, ", got ", l);
        return l;
    }
    static std::size_t index(int l, const char* where) { return static_cast<std::size_t>(check_layer(l, where) - 1); }
    void require_forward(const char* where) const { require(forward_batch_ > 0, where, ": call forward first"); }

    bool backward_into(const matrix<T>& x, const matrix<T>& dloss_dout, gradients_type& out) {
        require_forward("nn::mlp::backward");
        const std::size_t batch = forward_batch_;
        require_shape(x, batch, config_.d_in, "nn::mlp::backward", "input batch (the batch of the last forward)");
        // The batch forward checked (same object) is not scanned again; any other batch is.
        const double x_squared_norm = x.data() == forward_input_ ? forward_input_squared_norm_
                                                                 : detail::require_finite_squared_norm(x, "nn::mlp::backward", "input batch");
        require_shape(dloss_dout, batch, config_.d_out, "nn::mlp::backward", "dloss/dout");
        detail::require_finite_squared_norm(dloss_dout, "nn::mlp::backward", "dloss/dout");
        if (!shaped_like_parameters(out)) out = make_gradients();
        backpropagate(dloss_dout);
        bool certified = true;
        const double limit = static_cast<double>(std::numeric_limits<T>::max()) / 4;
        for (int l = layers; l >= 1; --l) {
            const std::size_t o = fan_out(l), in = fan_in(l);
            const T* previous = l == 1 ? x.data() : post_[l - 2].data();
            const double delta_norm = std::sqrt(delta_squared_norm_[l - 1]);
            const double input_norm = std::sqrt(l == 1 ? x_squared_norm : post_squared_norm_[l - 2]);
            certified = certified && delta_norm * input_norm * weight_scaling_[l - 1].multiplier < limit &&
                        std::sqrt(static_cast<double>(batch)) * delta_norm * bias_scaling_[l - 1].multiplier < limit;
            const T* dh = delta_[l - 1].data();
            // ∂loss/∂w^l = m_l · (∂loss/∂h^l)ᵀ x^{l-1}
            blas::gemm<T>(true, false, o, in, batch, multiplier(l), dh, previous, T(0), out.weights[l - 1].data());
            if (config_.bias) {
                T* gb = out.biases[l - 1].data();
                std::fill(gb, gb + o, T(0));
                for (std::size_t r = 0; r < batch; ++r) {
                    const T* row = dh + r * o;
                    for (std::size_t j = 0; j < o; ++j) gb[j] += row[j];
                }
                const T mb = bias_multiplier(l);
                for (std::size_t j = 0; j < o; ++j) gb[j] *= mb;
            }
        }
        return certified;
    }

    // TP4 per-layer exponents with ñ (docs/theory/abc-parametrization.md §1, §5 base-width form), through the mapping
    // nn::network shares (nn/scaling.hpp): every tensor of this MLP has the width ratio ñ except the readout bias (1).
    void compute_scaling() {
        const double n = width_ratio_;
        for (int l = 1; l <= layers; ++l) {
            const layer_exponents e = l == 1 ? P::input : (l == layers ? P::output : P::hidden);
            const double base_fan_in = l == 1 ? static_cast<double>(config_.d_in) : static_cast<double>(config_.base_width);
            const bool readout = l == layers;
            weight_scaling_.push_back(nn::weight_scaling<P>(e, n, config_.weight_var, base_fan_in, config_.constants, readout, n));
            bias_scaling_.push_back(nn::bias_scaling<P>(readout ? 1.0 : n, config_.bias_var, config_.constants, readout, n));
        }
    }

    // Deterministic: tensor l draws from rng::stream(seed, 2l) (weights) and rng::stream(seed, 2l+1) (biases).
    void initialise() {
        for (int l = 1; l <= layers; ++l) {
            const bool zero = config_.zero_readout && l == layers;
            matrix<T> w = matrix<T>::from_shape({fan_out(l), fan_in(l)});
            rng gw = rng::stream(config_.seed, 2 * static_cast<std::uint64_t>(l));
            const double sw = weight_scaling_[l - 1].init_std;
            for (auto& v : w) v = zero ? T(0) : static_cast<T>(sw * gw.normal());
            weights_.push_back(std::move(w));
            vector<T> b = vector<T>::from_shape({config_.bias ? fan_out(l) : std::size_t{0}});
            rng gb = rng::stream(config_.seed, 2 * static_cast<std::uint64_t>(l) + 1);
            const double sb = bias_scaling_[l - 1].init_std;
            for (auto& v : b) v = (zero || sb == 0.0) ? T(0) : static_cast<T>(sb * gb.normal());
            biases_.push_back(std::move(b));
        }
    }

    void allocate(std::size_t batch) {
        if (pre_.empty()) {
            pre_.resize(layers);
            post_.resize(L);
            delta_.resize(layers);
            post_squared_norm_.resize(L);
            delta_squared_norm_.resize(layers);
        }
        for (int l = 1; l <= layers; ++l) {
            detail::ensure_shape(pre_[l - 1], batch, fan_out(l));
            detail::ensure_shape(delta_[l - 1], batch, fan_out(l));
            if (l <= L) detail::ensure_shape(post_[l - 1], batch, fan_out(l));
        }
    }

    // δ^l = ∂loss/∂h^l from δ^{L+1} = dloss/dout (TP4 backward pass: dx^{l-1} = W^lᵀ δ^l, δ^{l-1} = dx^{l-1} ⊙ φ'(h^{l-1})).
    void backpropagate(const matrix<T>& dloss_dout) {
        const std::size_t batch = forward_batch_;
        std::copy(dloss_dout.data(), dloss_dout.data() + dloss_dout.size(), delta_[L].data());
        delta_squared_norm_[L] = detail::sum_of_squares_fast(delta_[L].data(), delta_[L].size());
        for (int l = layers; l >= 2; --l) {
            const std::size_t o = fan_out(l), in = fan_in(l);
            T* below = delta_[l - 2].data();
            blas::gemm<T>(false, false, batch, in, o, multiplier(l), delta_[l - 1].data(), weights_[l - 1].data(), T(0), below);
            const T* h = pre_[l - 2].data();
            const std::size_t n = batch * in;
            for (std::size_t i = 0; i < n; ++i) below[i] *= A::derivative(h[i]);
            delta_squared_norm_[l - 2] = detail::sum_of_squares_fast(below, n);
        }
        backward_done_ = true;
    }

    mlp_config config_;
    double width_ratio_ = 1.0;
    std::vector<tensor_scaling> weight_scaling_, bias_scaling_;
    std::vector<matrix<T>> weights_;
    std::vector<vector<T>> biases_;
    // Buffers, reused while the batch size stays the same.
    std::vector<matrix<T>> pre_, post_, delta_;
    std::vector<double> post_squared_norm_, delta_squared_norm_;  // ‖·‖_F², not finite when an entry is not
    gradients_type grads_;
    bool grads_certified_ = false;
    std::size_t forward_batch_ = 0;
    const T* forward_input_ = nullptr;  // identity of the last forward's batch (never dereferenced)
    double forward_input_squared_norm_ = 0;
    bool backward_done_ = false;
};

}  // namespace widenn::nn
