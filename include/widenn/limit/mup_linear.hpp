#pragma once
// The exact infinite-width limit of a one-hidden-layer linear network in μP (Yang & Hu 2020,
// "Feature Learning in Infinite-Width Neural Networks" = TP4, Cor. 6.2), in matrix form.
//
// TP4 Cor 6.2: for φ = id the Z-variables stay linear in the initial Gaussians g = (Z^{U_0}, Z^{nV_0}) ~ N(0, I_{d+d_o}).
// Writing Z^{U_t} = A_tᵀ g (A ∈ R^{m×d}) and Z^{nV_t} = B_t g (B ∈ R^{d_o×m}), m = d + d_o, the limit output is
//     f̊_t(ξ) = α B_t A_t ξ,
// and the TP4 updates of the Z's are exactly plain SGD, with the same learning rate, on the width-m linear network
// (A, B) started from the "diagonal" initialisation A_0 = [σ_u I_d; 0], B_0 = [0, σ_v I_{d_o}]
// (see docs/theory/feature-learning-limit.md §2; the TP4 code's MetaInfLin1LP). A finite μP net of width n is
// obtained from the same coefficients with Ω ~ N(0,1)^{n×m}: W_1 = n^{-1/2} Ω A, W_2 = n^{-1/2} B Ωᵀ (MetaFinLin1LP);
// since ΩᵀΩ/n → I, it converges to the limit with O(n^{-1/2}) deviations.
//
// Cost of one SGD step on a batch of B inputs: O(B·m·(d + d_o)) flops, memory O(m·d): independent of the step count.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>
#include <string>
#include <string_view>

#include <xtensor/xbuilder.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xtensor.hpp>

#include "../core/errors.hpp"
#include "../core/rng.hpp"
#include "../core/tensor.hpp"
#include "../core/blas.hpp"
#include "../nn/loss.hpp"

namespace widenn::limit {

// Loss of the feature-learning limits: nn's vocabulary (nn/loss.hpp), averaged over the batch (the mean of the
// per-example updates, as in TP4's minibatch extension); for cross-entropy the rows of y are one-hot or probabilities.
using nn::loss_kind;
using nn::to_string;

namespace detail {

// Shared input validation of the limits: X is B×d, Y is B×d_o, both finite and the batch is not empty.
template <class T>
void check_batch(std::string_view where, const matrix<T>& X, const matrix<T>* Y, std::size_t d_in, std::size_t d_out) {
    require_shape(X, any_size, d_in, where, "inputs X (batch x d_in)");
    require<shape_error>(X.shape()[0] > 0, where, ": the batch is empty (X has 0 rows)");
    require_finite(X, where, "inputs X");
    if (Y) {
        require_shape(*Y, X.shape()[0], d_out, where, "targets Y (batch x d_out)");
        require_finite(*Y, where, "targets Y");
    }
}

}  // namespace detail

struct mup_linear_options {
    double lr = 0.1;             // η: plain SGD rate on the coefficient network (= μP SGD on the finite net)
    loss_kind loss = loss_kind::mse;
    double weight_decay = 0.0;   // λ: each step multiplies the weights by (1 − ηλ) before the gradient step
    double sigma_u = 1.0;        // Z^{U_0} ~ N(0, σ_u²): std of the first-layer weights U = √n u
    double sigma_v = 1.0;        // Z^{nV_0} ~ N(0, σ_v²): std of n·V for the readout V = v/√n
    double output_multiplier = 1.0;  // α in f = α·V·φ(Uξ)
    double lr_input_factor = 1.0;    // per-layer learning-rate factors (1 for TP4 μP)
    double lr_output_factor = 1.0;
};

// The finite width-n network sampled from the limit's coefficients (TP4 code's MetaFinLin1LP):
// f(ξ) = α W_2 W_1 ξ with W_1 = n^{-1/2} Ω A, W_2 = n^{-1/2} B Ωᵀ, trained with the same plain SGD. This is the rescaled
// μP network (U = √n W_1, nV = √n W_2), for which plain SGD on (W_1, W_2) is exactly μP SGD.
template <class T = double>
class mup_linear_finite {
public:
    mup_linear_finite(matrix<T> w1, matrix<T> w2, mup_linear_options options)
        : w1_(std::move(w1)), w2_(std::move(w2)), options_(options) {}

    std::size_t width() const { return w1_.shape()[0]; }
    std::size_t d_in() const { return w1_.shape()[1]; }
    std::size_t d_out() const { return w2_.shape()[0]; }
    const matrix<T>& w1() const { return w1_; }
    const matrix<T>& w2() const { return w2_; }

    matrix<T> predict(const matrix<T>& X) const {
        detail::check_batch<T>("mup_linear_finite::predict", X, nullptr, d_in(), d_out());
        matrix<T> H = xt::empty<T>({X.shape()[0], width()});
        blas::gemm<T>(X, w1_, H, false, true);
        matrix<T> F = xt::empty<T>({X.shape()[0], d_out()});
        blas::gemm<T>(H, w2_, F, false, true, static_cast<T>(options_.output_multiplier));
        return F;
    }

    // One plain SGD step on the batch; returns the mean loss before the step.
    T step(const matrix<T>& X, const matrix<T>& Y) {
        detail::check_batch<T>("mup_linear_finite::step", X, &Y, d_in(), d_out());
        const auto alpha = static_cast<T>(options_.output_multiplier);
        matrix<T> H = xt::empty<T>({X.shape()[0], width()});
        blas::gemm<T>(X, w1_, H, false, true);
        matrix<T> F = xt::empty<T>({X.shape()[0], d_out()});
        blas::gemm<T>(H, w2_, F, false, true, alpha);
        matrix<T> G;
        const T loss = nn::loss_value_and_gradient(options_.loss, F, Y, G);
        matrix<T> GW2 = xt::empty<T>({X.shape()[0], width()});  // G W_2: gradient w.r.t. H (without α)
        blas::gemm<T>(G, w2_, GW2);
        const T decay = static_cast<T>(1.0 - options_.lr * options_.weight_decay);
        // W_2 ← decay·W_2 − η_out α Gᵀ H ;  W_1 ← decay·W_1 − η_in α (G W_2)ᵀ X  (both with time-t values)
        blas::gemm<T>(G, H, w2_, true, false, static_cast<T>(-options_.lr * options_.lr_output_factor) * alpha, decay);
        blas::gemm<T>(GW2, X, w1_, true, false, static_cast<T>(-options_.lr * options_.lr_input_factor) * alpha, decay);
        return loss;
    }

private:
    matrix<T> w1_, w2_;
    mup_linear_options options_;
};

// The μP limit of f(ξ) = α V U ξ (U ∈ R^{n×d}, V ∈ R^{d_o×n}) as n → ∞: the width-(d + d_o) coefficient network.
template <class T = double>
class mup_linear {
public:
    using value_type = T;

    mup_linear(std::size_t d_in, std::size_t d_out, mup_linear_options options = {})
        : d_in_(d_in), d_out_(d_out), options_(options) {
        require(d_in > 0 && d_out > 0, "mup_linear: d_in and d_out must be positive, got d_in = ", d_in, ", d_out = ", d_out);
        require(std::isfinite(options.lr) && std::isfinite(options.weight_decay) && std::isfinite(options.sigma_u) &&
                    std::isfinite(options.sigma_v) && std::isfinite(options.output_multiplier) &&
                    std::isfinite(options.lr_input_factor) && std::isfinite(options.lr_output_factor),
                "mup_linear: every option must be finite (lr = ", options.lr, ", weight_decay = ", options.weight_decay,
                ", sigma_u = ", options.sigma_u, ", sigma_v = ", options.sigma_v, ")");
        require(options.loss != loss_kind::cross_entropy || d_out >= 2,
                "mup_linear: cross-entropy needs d_out >= 2 classes, got d_out = ", d_out);
        const std::size_t m = d_in + d_out;
        a_ = xt::zeros<T>({m, d_in});
        b_ = xt::zeros<T>({d_out, m});
        for (std::size_t i = 0; i < d_in; ++i) a_(i, i) = static_cast<T>(options.sigma_u);        // A_0 = [σ_u I; 0]
        for (std::size_t j = 0; j < d_out; ++j) b_(j, d_in + j) = static_cast<T>(options.sigma_v);  // B_0 = [0, σ_v I]
    }

    std::size_t d_in() const { return d_in_; }
    std::size_t d_out() const { return d_out_; }
    // m = d + d_o: the number of Gaussian coordinates of the limit (columns of the coefficient maps).
    std::size_t coefficient_dim() const { return d_in_ + d_out_; }
    const mup_linear_options& options() const { return options_; }
    // Z^{U_t} = Aᵀ g (A: m×d) and Z^{nV_t} = B g (B: d_o×m), g ~ N(0, I_m).
    const matrix<T>& coefficients_u() const { return a_; }
    const matrix<T>& coefficients_v() const { return b_; }
    long steps() const { return steps_; }

    // f̊_t(X) = α X Aᵀ Bᵀ, B×d_o.
    matrix<T> predict(const matrix<T>& X) const {
        detail::check_batch<T>("mup_linear::predict", X, nullptr, d_in_, d_out_);
        matrix<T> H = xt::empty<T>({X.shape()[0], coefficient_dim()});
        blas::gemm<T>(X, a_, H, false, true);
        matrix<T> F = xt::empty<T>({X.shape()[0], d_out_});
        blas::gemm<T>(H, b_, F, false, true, static_cast<T>(options_.output_multiplier));
        return F;
    }

    // The effective end-to-end linear map α B A (d_o×d): f̊(ξ) = M ξ.
    matrix<T> end_to_end() const {
        matrix<T> M = xt::empty<T>({d_out_, d_in_});
        blas::gemm<T>(b_, a_, M, false, false, static_cast<T>(options_.output_multiplier));
        return M;
    }

    // One SGD step of the limit on a batch (X: B×d, Y: B×d_o); returns the mean loss before the step.
    T step(const matrix<T>& X, const matrix<T>& Y) {
        detail::check_batch<T>("mup_linear::step", X, &Y, d_in_, d_out_);
        h_.resize({X.shape()[0], coefficient_dim()});
        blas::gemm<T>(X, a_, h_, false, true);
        f_.resize({X.shape()[0], d_out_});
        blas::gemm<T>(h_, b_, f_, false, true, static_cast<T>(options_.output_multiplier));
        const T loss = nn::loss_value_and_gradient(options_.loss, f_, Y, g_);
        apply_output_gradient(X, g_);
        return loss;
    }

    // One SGD step with a caller-supplied ∂L/∂f (B×d_o, already averaged over the batch) for any loss;
    // the hidden values are recomputed from X.
    void step_with_output_gradient(const matrix<T>& X, const matrix<T>& G) {
        detail::check_batch<T>("mup_linear::step_with_output_gradient", X, &G, d_in_, d_out_);
        h_.resize({X.shape()[0], coefficient_dim()});
        blas::gemm<T>(X, a_, h_, false, true);
        apply_output_gradient(X, G);
    }

    // The finite μP net of width n from these coefficients, Ω ~ N(0, 1)^{n×m} drawn from `seed`
    // (TP4 code's MetaFinLin1LP; also projects a trained limit to finite width, like MetaInfLin1LP.sample).
    mup_linear_finite<T> sample(std::size_t width, std::uint64_t seed) const { return sample_with(gaussian_omega(width, seed)); }

    // The same with a given Ω (n×m). With ΩᵀΩ = n·I (e.g. Ω = √n·I_m) the finite net equals the limit exactly.
    mup_linear_finite<T> sample_with(const matrix<T>& omega) const {
        require_shape(omega, any_size, coefficient_dim(), "mup_linear::sample_with", "Omega (width x (d_in + d_out))");
        require<shape_error>(omega.shape()[0] > 0, "mup_linear::sample_with: the width must be positive, got 0");
        const std::size_t n = omega.shape()[0];
        const T scale = T(1) / std::sqrt(static_cast<T>(n));
        matrix<T> w1 = xt::empty<T>({n, d_in_});
        blas::gemm<T>(omega, a_, w1, false, false, scale);
        matrix<T> w2 = xt::empty<T>({d_out_, n});
        blas::gemm<T>(b_, omega, w2, false, true, scale);
        return mup_linear_finite<T>(std::move(w1), std::move(w2), options_);
    }

    // Ω ~ N(0, 1)^{n×m}, row i drawn from rng::stream(seed, i) so that widths share their first rows.
    matrix<T> gaussian_omega(std::size_t width, std::uint64_t seed) const {
        require<shape_error>(width > 0, "mup_linear::gaussian_omega: the width must be positive, got 0");
        matrix<T> omega = xt::empty<T>({width, coefficient_dim()});
        for (std::size_t i = 0; i < width; ++i) {
            rng gen = rng::stream(seed, i);
            for (std::size_t j = 0; j < coefficient_dim(); ++j) omega(i, j) = static_cast<T>(gen.normal());
        }
        return omega;
    }

private:
    void apply_output_gradient(const matrix<T>& X, const matrix<T>& G) {
        const auto alpha = static_cast<T>(options_.output_multiplier);
        gb_.resize({X.shape()[0], coefficient_dim()});
        blas::gemm<T>(G, b_, gb_);  // G B: ∂L/∂h without α
        const T decay = static_cast<T>(1.0 - options_.lr * options_.weight_decay);
        // TP4 Cor 6.2 in matrix form (both updates use the time-t coefficients):
        //   B ← B − η α Gᵀ H,    A ← A − η α (G B)ᵀ X
        blas::gemm<T>(G, h_, b_, true, false, static_cast<T>(-options_.lr * options_.lr_output_factor) * alpha, decay);
        blas::gemm<T>(gb_, X, a_, true, false, static_cast<T>(-options_.lr * options_.lr_input_factor) * alpha, decay);
        ++steps_;
    }

    std::size_t d_in_, d_out_;
    mup_linear_options options_;
    matrix<T> a_, b_;
    matrix<T> h_, f_, g_, gb_;  // step buffers
    long steps_ = 0;
};

// A linear one-hidden-layer net with one-hot (or averaged one-hot) inputs and logistic outputs trained by sparse SGD:
// the CBOW / negative-sampling model of word2vec, whose μP limit is the coefficient network of width V_in + V_out
// (TP4 §10; docs/theory/feature-learning-limit.md §4; TP4's code sets syn0 = I, syn1neg = 0). A step touches only the rows of
// the inputs and outputs involved, so it costs O((inputs + outputs)·m) at hidden width m.
//   h = (1/|I|) Σ_{i∈I} E_i (E = W_1ᵀ, V_in×m),  s_j = α O_j·h (O = W_2, V_out×m),  L = Σ_j logistic loss(s_j, label_j)
//   O_j ← O_j − η_out α g_j h,  E_i ← E_i − η_in α Σ_j g_j O_j / |I|,   g_j = σ(s_j) − label_j  (time-t values)
template <class T = double>
class onehot_linear_net {
public:
    // The limit: the coefficient network (E = Aᵀ, O = B), without the hidden coordinates whose A-row and B-column are
    // both zero. Such a coordinate stays zero for ever (its A-row moves along its B-column and vice versa), so dropping it
    // is exact; with σ_v = 0 (word2vec's syn1neg = 0) this leaves width V_in instead of V_in + V_out.
    static onehot_linear_net from_limit(const mup_linear<double>& limit) {
        const auto& a = limit.coefficients_u();
        const auto& b = limit.coefficients_v();
        std::vector<std::size_t> keep;
        for (std::size_t k = 0; k < limit.coefficient_dim(); ++k) {
            bool zero = true;
            for (std::size_t j = 0; j < limit.d_in() && zero; ++j) zero = a(k, j) == 0.0;
            for (std::size_t o = 0; o < limit.d_out() && zero; ++o) zero = b(o, k) == 0.0;
            if (!zero) keep.push_back(k);
        }
        require(!keep.empty(), "onehot_linear_net::from_limit: every coefficient is zero (sigma_u = sigma_v = 0): the net is 0 for ever");
        onehot_linear_net net(limit.d_in(), limit.d_out(), keep.size(), limit.options());
        for (std::size_t c = 0; c < keep.size(); ++c) {
            for (std::size_t j = 0; j < limit.d_in(); ++j) net.embed_(j, c) = static_cast<T>(a(keep[c], j));
            for (std::size_t o = 0; o < limit.d_out(); ++o) net.out_(o, c) = static_cast<T>(b(o, keep[c]));
        }
        return net;
    }

    // A finite net of width n sampled from the limit's coefficients (mup_linear::sample).
    static onehot_linear_net from_finite(const mup_linear_finite<double>& finite, const mup_linear_options& options) {
        onehot_linear_net net(finite.d_in(), finite.d_out(), finite.width(), options);
        for (std::size_t c = 0; c < finite.width(); ++c) {
            for (std::size_t j = 0; j < finite.d_in(); ++j) net.embed_(j, c) = static_cast<T>(finite.w1()(c, j));
            for (std::size_t o = 0; o < finite.d_out(); ++o) net.out_(o, c) = static_cast<T>(finite.w2()(o, c));
        }
        return net;
    }

    std::size_t width() const { return embed_.shape()[1]; }
    std::size_t vocabulary_in() const { return embed_.shape()[0]; }
    std::size_t vocabulary_out() const { return out_.shape()[0]; }
    const matrix<T>& input_embeddings() const { return embed_; }   // V_in × m (row i = W_1 e_i)
    const matrix<T>& output_embeddings() const { return out_; }    // V_out × m

    // The logits s_j for the mean of the given one-hot inputs.
    std::vector<T> logits(std::span<const std::size_t> inputs, std::span<const std::size_t> outputs) const {
        check(inputs, outputs, "onehot_linear_net::logits");
        hidden(inputs);
        std::vector<T> s(outputs.size());
        for (std::size_t q = 0; q < outputs.size(); ++q) s[q] = alpha_ * dot(outputs[q]);
        return s;
    }

    // One SGD step with rate η (scaled by the option's per-layer factors) on the summed logistic losses of `outputs`
    // with targets `labels` in [0, 1]; returns the loss before the step. Duplicated outputs are applied in order.
    T step_logistic(std::span<const std::size_t> inputs, std::span<const std::size_t> outputs, std::span<const T> labels, double lr) {
        check(inputs, outputs, "onehot_linear_net::step_logistic");
        require<shape_error>(labels.size() == outputs.size(), "onehot_linear_net::step_logistic: ", outputs.size(),
                             " outputs need as many labels, got ", labels.size());
        hidden(inputs);
        const std::size_t m = width();
        grad_h_.assign(m, T(0));
        const T rate_out = static_cast<T>(lr * lr_out_) * alpha_, rate_in = static_cast<T>(lr * lr_in_) * alpha_;
        T loss = 0;
        for (std::size_t q = 0; q < outputs.size(); ++q) {
            const T s = alpha_ * dot(outputs[q]);
            const T label = labels[q];
            // logistic loss −[y log σ(s) + (1 − y) log(1 − σ(s))], computed stably
            loss += std::max(s, T(0)) - label * s + std::log1p(std::exp(-std::abs(s)));
            const T g = T(1) / (T(1) + std::exp(-s)) - label;
            T* row = &out_(outputs[q], 0);
            for (std::size_t c = 0; c < m; ++c) {
                grad_h_[c] += g * row[c];
                row[c] -= rate_out * g * h_[c];
            }
        }
        const T share = rate_in / static_cast<T>(inputs.size());
        for (std::size_t i : inputs) {
            T* row = &embed_(i, 0);
            for (std::size_t c = 0; c < m; ++c) row[c] -= share * grad_h_[c];
        }
        return loss;
    }

private:
    onehot_linear_net(std::size_t v_in, std::size_t v_out, std::size_t width, const mup_linear_options& options)
        : embed_(xt::zeros<T>({v_in, width})), out_(xt::zeros<T>({v_out, width})),
          alpha_(static_cast<T>(options.output_multiplier)), lr_in_(options.lr_input_factor), lr_out_(options.lr_output_factor) {}

    void check(std::span<const std::size_t> inputs, std::span<const std::size_t> outputs, const char* where) const {
        require<shape_error>(!inputs.empty(), where, ": needs at least one input index");
        for (std::size_t i : inputs)
            require<shape_error>(i < vocabulary_in(), where, ": input index ", i, " is outside the input vocabulary of ", vocabulary_in());
        for (std::size_t o : outputs)
            require<shape_error>(o < vocabulary_out(), where, ": output index ", o, " is outside the output vocabulary of ", vocabulary_out());
    }
    void hidden(std::span<const std::size_t> inputs) const {
        const std::size_t m = width();
        h_.assign(m, T(0));
        const T share = T(1) / static_cast<T>(inputs.size());
        for (std::size_t i : inputs) {
            const T* row = &embed_(i, 0);
            for (std::size_t c = 0; c < m; ++c) h_[c] += share * row[c];
        }
    }
    T dot(std::size_t output) const {
        const T* row = &out_(output, 0);
        T s = 0;
        for (std::size_t c = 0; c < width(); ++c) s += row[c] * h_[c];
        return s;
    }

    matrix<T> embed_, out_;
    T alpha_;
    double lr_in_, lr_out_;
    mutable std::vector<T> h_, grad_h_;
};

}  // namespace widenn::limit
