#pragma once
// Infinite-width kernels of a fully connected network: the NNGP Σ and the NTK Θ, in the conventions of
// neural-tangents (Novak et al. 2020, stax.Dense / stax.Elementwise; recursions from Lee et al. 2018 "Deep
// neural networks as Gaussian processes" and Jacot, Gabriel & Hongler 2018 "Neural Tangent Kernel"):
//
//   K⁰ = x·x'/d,  Σ¹ = σw² K⁰ + σb²,  Θ¹ = Σ¹                                   (NTK parametrization)
//   Σ^{l+1} = σw² T(Σ^l) + σb²,  Θ^{l+1} = Σ^{l+1} + σw² Ṫ(Σ^l) Θ^l,              l = 1..L
//   standard parametrization: the same Σ, and Θ¹ = x·x' + b, Θ^{l+1} = n T(Σ^l) + σw² Ṫ(Σ^l) Θ^l + b
//   (n the hidden width, b = 1 when the layers have biases).
//
// T and Ṫ are the dual activation E[φ(u)φ(v)], E[φ'(u)φ'(v)] for (u, v) ~ N(0, [[q11, q12], [q12, q22]]) from act/.
// The per-point variances Σ^l(x, x) are carried alongside, so every entry sees its exact diagonals.
//
// Computation: the Gram matrix x·x'/d comes from BLAS (one gemm per block, single-threaded BLAS inside the
// OpenMP threads, so only one threading runtime runs); then, per block row, all layers are applied to a
// short contiguous row segment (layer loop outside, entry loop inside, so the segment stays in L1 and the
// entry loop is a vector loop: explicit xsimd for the ReLU family and erf, scalar closed forms otherwise).
// The symmetric case computes the upper triangle of blocks, sets the diagonal Gram entries to the exact norms
// (cosine exactly 1), and mirrors each block while it is in cache. kernel_plan computes any block, so a kernel
// larger than memory can be streamed.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <functional>
#include <limits>
#include <numbers>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#ifdef WIDENN_USE_XSIMD
#include <xsimd/xsimd.hpp>
#endif

#include "../act/dual.hpp"
#include "../core/blas.hpp"
#include "../core/parallel.hpp"
#include "../core/concepts.hpp"
#include "../core/checked.hpp"
#include "../core/errors.hpp"
#include "../core/tensor.hpp"
#include "../param/classify.hpp"

namespace widenn::limit {

// Which of neural-tangents' two parametrizations a policy is (after TP4's reduction to one learning rate and
// up to the global shift symmetry a + θ, b − θ).
enum class parametrization_kind { ntk, standard };

namespace detail {
template <Parametrization P, int L>
consteval int kind_code() {  // 0: ntk, 1: standard, -1: neither
    const auto k = param::classify(P::input, P::hidden, P::output, L);
    const rational shift = k.a[0];
    bool ntk = k.b[0] + shift == rational{0};
    bool standard = ntk;
    for (int l = 2; l <= L + 1; ++l) {
        const rational a = k.a[l - 1] - shift, b = k.b[l - 1] + shift;
        ntk = ntk && a == rational{1, 2} && b == rational{0};
        standard = standard && a == rational{0} && b == rational{1, 2};
    }
    return ntk ? 0 : standard ? 1 : -1;
}
}  // namespace detail

// Settings of the kernel recursion (neural-tangents names in brackets).
struct kernel_config {
    double weight_var = 1.0;  // σw² (W_std²)
    double bias_var = 0.0;    // σb² (b_std²)
    bool bias = true;         // standard parametrization only: a bias gradient adds 1 to the NTK (b_std not None)
    std::size_t width = 0;    // standard parametrization only: the hidden width n (its NTK grows like n)
    bool compute_ntk = true;  // false: NNGP only (about half the work)
    bool fill_lower = true;   // symmetric case: false leaves the strictly lower triangle unwritten (saves ~15%)
    std::size_t block = 256;  // block edge for the Gram matrix and the fused layer loop
    int threads = 0;          // OpenMP threads; 0 = the OpenMP default
    // Called from the calling thread with the fraction of blocks done (0..1), at most once per block.
    std::function<void(double)> progress = {};
};

// The NNGP Σ(X1, X2) and the NTK Θ(X1, X2) (the NTK is empty when compute_ntk is false).
template <class T>
struct kernel_pair {
    matrix<T> nngp;
    matrix<T> ntk;
};

namespace detail {

// The dual of A: the closed form where act/ has one (called directly: the recursion only produces covariances,
// so act::dual's per-entry check is skipped in the hot loop), Gauss–Hermite quadrature otherwise.
template <class A, class T>
inline act::dual_value<T> dual_of(T q11, T q12, T q22) {
    if constexpr (act::has_closed_form_dual<A>)
        return A::dual(q11, q12, q22);
    else
        return act::dual<A>(q11, q12, q22);
}

// The vectorised duals of the kernel loop: the activations whose closed form act/ writes over scalars and xsimd batches
// alike (act::detail::abrelu_dual, act::detail::erf_dual), so the batch path evaluates the very formulas of act::dual,
// with the same Kahan discriminant (accurate for nearly parallel inputs). The batch path skips act's power-of-two
// scaling, so it is used only when every variance of the plan is 0 or within unscaled_range (the scalar dual
// otherwise). Activations not listed here run the scalar closed form (or quadrature) per entry.
template <class A>
struct simd_dual {
    static constexpr bool available = false;
};

#ifdef WIDENN_USE_XSIMD
template <double A, double B>
struct simd_abrelu {
    static constexpr bool available = true;
    template <class V>
    static act::dual_value<V> eval(V q11, V q12, V q22) {
        return act::detail::abrelu_dual<A, B>(q12, act::detail::angle_unscaled(q11, q12, q22));
    }
};
template <double A, double B>
struct simd_dual<act::abrelu<A, B>> : simd_abrelu<A, B> {};
template <double Alpha>
struct simd_dual<act::leaky_relu<Alpha>> : simd_abrelu<Alpha, 1.0> {};
template <>
struct simd_dual<act::relu> : simd_abrelu<0.0, 1.0> {};
template <>
struct simd_dual<act::abs> : simd_abrelu<-1.0, 1.0> {};

template <double A, double B, double C>
struct simd_erf {
    static constexpr bool available = true;
    template <class V>
    static act::dual_value<V> eval(V q11, V q12, V q22) {
        return act::detail::erf_dual<A, B, C>(q11, q12, q22,
                                              act::detail::clamp_nonnegative(act::detail::discriminant_unscaled(q11, q12, q22)));
    }
};
template <double A, double B, double C>
struct simd_dual<act::erf<A, B, C>> : simd_erf<A, B, C> {};
template <>
struct simd_dual<act::sigmoid_like> : simd_erf<0.5, 1.0 / 2.4020563531719796, 0.5> {};

#endif  // WIDENN_USE_XSIMD

// Variances for which the unscaled products of act::detail::discriminant_unscaled neither overflow nor lose their
// rounding error to underflow: 0 or within [2^-(E/4), 2^(E/4)], E the largest binary exponent of T. A kernel_plan
// checks its per-point variances once; the vector path runs only when all of them are in range.
template <class T>
struct unscaled_range {
    static constexpr T power_of_two(int k) {
        T r = 1;
        for (int i = 0; i < k; ++i) r *= 2;
        return r;
    }
    static constexpr T high = power_of_two(std::numeric_limits<T>::max_exponent / 4);
    static constexpr T low = T(1) / high;
    static bool contains(T v) { return v == T(0) || (v >= low && v <= high); }
};

template <class E, class T>
matrix<T> to_matrix(const E& x, const char* where, const char* what) {
    require_shape(x, any_size, any_size, where, what);
    matrix<T> out = xt::cast<T>(x);
    require_finite(out, where, what);
    return out;
}

// The recursion of one parametrization kind and activation, with the depth (number of hidden layers) at run time.
template <parametrization_kind Kind, Activation A>
struct recursion {
    // Per-point pre-activation variances Σ^l(x, x), l = 1..L+1 (row l-1), plus the NTK diagonal (row L+1).
    template <class T>
    static matrix<T> variances(const vector<T>& gram_diagonal, T d, int depth, const kernel_config& c) {
        const std::size_t n = gram_diagonal.size(), layers = static_cast<std::size_t>(depth);
        matrix<T> q = xt::zeros<T>({layers + 2, n});
        for (std::size_t i = 0; i < n; ++i) {
            T sigma, theta;
            first_layer(gram_diagonal(i), d, c, sigma, theta);
            q(0, i) = sigma;
            for (std::size_t l = 1; l <= layers; ++l) {
                const auto dual = dual_of<A>(sigma, sigma, sigma);
                next_layer(dual.value, dual.derivative, c, sigma, theta);
                q(l, i) = sigma;
            }
            q(layers + 1, i) = theta;
        }
        return q;
    }

    // Σ¹ and Θ¹ from the Gram value g = x·x'/d.
    template <class T>
    static void first_layer(T g, T d, const kernel_config& c, T& sigma, T& theta) {
        sigma = static_cast<T>(c.weight_var) * g + static_cast<T>(c.bias_var);
        if constexpr (Kind == parametrization_kind::ntk)
            theta = sigma;
        else
            theta = d * g + (c.bias ? T(1) : T(0));
    }
    // Σ^{l+1}, Θ^{l+1} from T(Σ^l), Ṫ(Σ^l) and Θ^l.
    template <class T>
    static void next_layer(T t, T tdot, const kernel_config& c, T& sigma, T& theta) {
        const T wv = static_cast<T>(c.weight_var);
        sigma = wv * t + static_cast<T>(c.bias_var);
        if constexpr (Kind == parametrization_kind::ntk)
            theta = sigma + wv * tdot * theta;
        else
            theta = static_cast<T>(c.width) * t + wv * tdot * theta + (c.bias ? T(1) : T(0));
    }

    // Fused layers over one contiguous row segment: on entry sigma[j] holds the Gram value x_i·x'_j/d, on exit
    // Σ^{L+1}; theta (may be null) receives Θ^{L+1}. q1: the row point's variances (stride s1), q2: the column
    // points' variances (row l-1 of a (L+2)×N matrix, leading dimension ld2), starting at the segment's first column.
    // The layer loop is outside the entry loop, so the entry loop is a vector loop over a short, cached segment.
    template <class T>
    static void fused_row(std::size_t count, T d, int depth, const T* q1, std::size_t s1, const T* q2, std::size_t ld2, T* sigma,
                          T* theta, const kernel_config& c, [[maybe_unused]] bool vector_path = true) {
        const T wv = static_cast<T>(c.weight_var), bv = static_cast<T>(c.bias_var);
        const T width = static_cast<T>(c.width), b = c.bias ? T(1) : T(0);
        if (theta) {
            for (std::size_t j = 0; j < count; ++j) {
                const T g = sigma[j];
                sigma[j] = wv * g + bv;
                if constexpr (Kind == parametrization_kind::ntk)
                    theta[j] = sigma[j];
                else
                    theta[j] = d * g + b;
            }
        } else {
            for (std::size_t j = 0; j < count; ++j) sigma[j] = wv * sigma[j] + bv;
        }
        for (int l = 1; l <= depth; ++l) {
            const T a = q1[static_cast<std::size_t>(l - 1) * s1];
            const T* qb = q2 + static_cast<std::size_t>(l - 1) * ld2;
            std::size_t start = 0;
#ifdef WIDENN_USE_XSIMD
            if constexpr (simd_dual<A>::available) {
                using V = xsimd::batch<T>;
                const V va(a), vwv(wv), vbv(bv), vwidth(width), vb(b);
                for (; vector_path && start + V::size <= count; start += V::size) {
                    const auto dual = simd_dual<A>::eval(va, V::load_unaligned(sigma + start), V::load_unaligned(qb + start));
                    const V t = dual.value, tdot = dual.derivative;
                    const V s_new = vwv * t + vbv;
                    s_new.store_unaligned(sigma + start);
                    if (theta) {
                        const V th = V::load_unaligned(theta + start);
                        if constexpr (Kind == parametrization_kind::ntk)
                            (s_new + vwv * tdot * th).store_unaligned(theta + start);
                        else
                            (vwidth * t + vwv * tdot * th + vb).store_unaligned(theta + start);
                    }
                }
            }
#endif
            if (theta) {
                for (std::size_t j = start; j < count; ++j) {
                    const auto dual = dual_of<A>(a, sigma[j], qb[j]);
                    sigma[j] = wv * dual.value + bv;
                    if constexpr (Kind == parametrization_kind::ntk)
                        theta[j] = sigma[j] + wv * dual.derivative * theta[j];
                    else
                        theta[j] = width * dual.value + wv * dual.derivative * theta[j] + b;
                }
            } else {
                for (std::size_t j = start; j < count; ++j) sigma[j] = wv * dual_of<A>(a, sigma[j], qb[j]).value + bv;
            }
        }
    }
};

// The compile-time checks shared by kernel and kernel_plan. TP4's classification is computed at depth
// min(L, 64): past two hidden layers the stability conditions and the regime do not change with L.
template <Parametrization P, Activation A, int L>
consteval bool check_kernel_policies() {
    static_assert(check_activation<A>());
    static_assert(L >= 1, "widenn: limit::kernel needs at least one hidden layer (L >= 1)");
    constexpr int classified = L < param::max_classified_depth ? L : param::max_classified_depth;
    static_assert(param::require_stable<P, classified>());
    static_assert(param::classify<P, classified>().regime != regime::feature_learning,
                  "widenn: this parametrization learns features (TP4 r = 0), so its infinite-width limit is not a kernel; "
                  "use the feature-learning limits limit::mup_linear / limit::mup_1hl (limit::of<Net> picks them)");
    static_assert(kind_code<P, classified>() >= 0,
                  "widenn: limit::kernel knows the NTK parametrization (param::ntk) and the standard parametrization "
                  "(param::standard_lr_1_over_n, or param::allow_unstable<param::standard>) up to the abc shift symmetry; "
                  "this kernel-regime policy is neither");
    return true;
}

}  // namespace detail

// A prepared kernel computation: inputs and per-point variances, from which any block (or the whole matrix)
// is computed. Memory: the inputs, (L+2)·(N1+N2) variances, and the output you ask for.
// The depth (number of hidden layers) is a run-time value here; limit::kernel<P, A, L> fixes it at compile time.
template <Parametrization P, Activation A, class T = double>
class kernel_plan {
    static_assert(detail::check_kernel_policies<P, A, 1>());
    static_assert(std::is_floating_point_v<T>, "widenn: kernels are computed in float or double");

public:
    using value_type = T;
    using parametrization = P;
    using activation = A;
    static constexpr parametrization_kind kind =
        detail::kind_code<P, 1>() == 0 ? parametrization_kind::ntk : parametrization_kind::standard;

    template <class E1, class E2>
    kernel_plan(const E1& x1, const E2& x2, int depth, kernel_config c) : config_(std::move(c)), depth_(depth), symmetric_(false) {
        x1_ = detail::to_matrix<E1, T>(x1, "limit::kernel", "X1");
        x2_ = detail::to_matrix<E2, T>(x2, "limit::kernel", "X2");
        if (x1_.shape()[1] != x2_.shape()[1])
            fail<shape_error>("limit::kernel: X1 and X2 must have the same number of features, got X1 ", x1_.shape()[0], " x ",
                              x1_.shape()[1], " and X2 ", x2_.shape()[0], " x ", x2_.shape()[1]);
        init();
    }
    template <class E>
    kernel_plan(const E& x, int depth, kernel_config c) : config_(std::move(c)), depth_(depth), symmetric_(true) {
        x1_ = detail::to_matrix<E, T>(x, "limit::kernel", "X");
        init();
    }

    std::size_t rows() const { return x1_.shape()[0]; }
    std::size_t cols() const { return symmetric_ ? x1_.shape()[0] : x2_.shape()[0]; }
    bool symmetric() const { return symmetric_; }
    int depth() const { return depth_; }
    const kernel_config& config() const { return config_; }
    // Per-point variances Σ^l(x, x), l = 1..L+1 (rows 0..L) and the NTK diagonal (row L+1), for the rows and the columns.
    // (Σ^{L+1}(x, x), row L, is the NNGP diagonal.)
    const matrix<T>& row_variances() const { return q1_; }
    const matrix<T>& col_variances() const { return symmetric_ ? q1_ : q2_; }

    // The block rows [r0, r1) × columns [c0, c1) into caller memory (row-major, leading dimensions ld);
    // ntk may be null. Single-threaded; safe to call from several threads at once on disjoint outputs.
    void block_into(std::size_t r0, std::size_t r1, std::size_t c0, std::size_t c1, T* nngp, std::size_t ld_nngp, T* ntk,
                    std::size_t ld_ntk) const {
        require(r0 <= r1 && r1 <= rows() && c0 <= c1 && c1 <= cols(), "limit::kernel_plan::block: block [", r0, ", ", r1,
                ") x [", c0, ", ", c1, ") is outside the ", rows(), " x ", cols(), " kernel");
        if (r0 == r1 || c0 == c1) return;
        gram_into(r0, r1, c0, c1, nngp, ld_nngp);
        layers_into(r0, r1, c0, c1, nngp, ld_nngp, ntk, ld_ntk);
    }

    // The block rows [r0, r1) × columns [c0, c1) as new matrices.
    kernel_pair<T> block(std::size_t r0, std::size_t r1, std::size_t c0, std::size_t c1) const {
        require(r0 <= r1 && c0 <= c1, "limit::kernel_plan::block: empty range [", r0, ", ", r1, ") x [", c0, ", ", c1, ")");
        kernel_pair<T> out;
        out.nngp = matrix<T>::from_shape({r1 - r0, c1 - c0});
        if (config_.compute_ntk) out.ntk = matrix<T>::from_shape({r1 - r0, c1 - c0});
        block_into(r0, r1, c0, c1, out.nngp.data(), c1 - c0, config_.compute_ntk ? out.ntk.data() : nullptr, c1 - c0);
        return out;
    }

    // The whole kernel, blocks in parallel (OpenMP), upper triangle only in the symmetric case.
    kernel_pair<T> compute() const {
        kernel_pair<T> out;
        compute_into(out);
        return out;
    }
    // The same into `out`, reusing its storage when it already has the right shape (no allocation, no page faults).
    void compute_into(kernel_pair<T>& out) const {
        const std::size_t n1 = rows(), n2 = cols(), bs = std::max<std::size_t>(config_.block, 8);
        const bool reuse = out.nngp.shape()[0] == n1 && out.nngp.shape()[1] == n2 &&
                           (!config_.compute_ntk || (out.ntk.shape()[0] == n1 && out.ntk.shape()[1] == n2));
        if (!reuse)
            require_memory(checked_product({n1, n2, sizeof(T), std::size_t{config_.compute_ntk ? 2u : 1u}}, "limit::kernel"),
                           widenn::detail::concat("limit::kernel: the ", n1, " x ", n2, " kernel", config_.compute_ntk ? "s" : ""),
                           "compute it in blocks (kernel_plan::block_into), ask for the NNGP alone (compute_ntk = false), or "
                           "compute in float");
        if (out.nngp.shape()[0] != n1 || out.nngp.shape()[1] != n2) out.nngp = matrix<T>::from_shape({n1, n2});
        if (config_.compute_ntk && (out.ntk.shape()[0] != n1 || out.ntk.shape()[1] != n2)) out.ntk = matrix<T>::from_shape({n1, n2});
        if (!config_.compute_ntk) out.ntk = matrix<T>();
        const int threads = config_.threads > 0 ? config_.threads : max_threads();
        // Row strips: one gemm per strip (as efficient as one syrk/gemm over everything), then the layers block by
        // block; strips are short enough that every thread gets several (longest first in the triangle).
        const std::size_t strip = std::clamp<std::size_t>((n1 + 4 * threads - 1) / (4 * static_cast<std::size_t>(threads)), 16, bs);
        const std::size_t count = (n1 + strip - 1) / strip;
        T* nngp = out.nngp.data();
        T* ntk = config_.compute_ntk ? out.ntk.data() : nullptr;
        std::atomic<std::size_t> done{0};
        {
            // parallel over strips, never inside a BLAS call
            parallel_for_dynamic(count, threads, [&](int thread, std::size_t k) {
                const std::size_t r = k * strip, r1 = std::min(r + strip, n1);
                const std::size_t first = symmetric_ ? r : 0;
                gram_into(r, r1, first, n2, nngp + r * n2 + first, n2);
                for (std::size_t c = first; c < n2; c += bs) {
                    const std::size_t c1 = std::min(c + bs, n2);
                    layers_into(r, r1, c, c1, nngp + r * n2 + c, n2, ntk ? ntk + r * n2 + c : nullptr, n2);
                    if (symmetric_ && config_.fill_lower) {  // mirror while the block is still in cache
                        mirror_block(nngp, n2, r, r1, c, c1);
                        if (ntk) mirror_block(ntk, n2, r, r1, c, c1);
                    }
                }
                const std::size_t finished = ++done;
                if (config_.progress && thread == 0) config_.progress(static_cast<double>(finished) / static_cast<double>(count));
            });
        }
        if (config_.progress) config_.progress(1.0);
    }

private:
    // Gram values x_i·x'_j/d of block [r0, r1) × [c0, c1) into nngp (one BLAS gemm).
    void gram_into(std::size_t r0, std::size_t r1, std::size_t c0, std::size_t c1, T* nngp, std::size_t ld_nngp) const {
        const matrix<T>& x2 = symmetric_ ? x1_ : x2_;
        const std::size_t d = x1_.shape()[1];
        blas::gemm(false, true, r1 - r0, c1 - c0, d, T(1) / static_cast<T>(d), x1_.data() + r0 * d, x2.data() + c0 * d, T(0), nngp, ld_nngp);
    }
    // All layers over block [r0, r1) × [c0, c1), in place: nngp holds the Gram values on entry, Σ^{L+1} on exit.
    void layers_into(std::size_t r0, std::size_t r1, std::size_t c0, std::size_t c1, T* nngp, std::size_t ld_nngp, T* ntk,
                     std::size_t ld_ntk) const {
        const matrix<T>& q2 = col_variances();
        const std::size_t d = x1_.shape()[1], n1 = rows(), n2 = cols();
        const bool want_ntk = ntk != nullptr && config_.compute_ntk;
        for (std::size_t i = r0; i < r1; ++i) {
            T* s = nngp + (i - r0) * ld_nngp;
            // exact diagonal: the same norm the variances were computed from (cosine exactly 1)
            if (symmetric_ && i >= c0 && i < c1) s[i - c0] = norms1_[i];
            recursion::fused_row(c1 - c0, static_cast<T>(d), depth_, q1_.data() + i, n1, q2.data() + c0, n2, s,
                                 want_ntk ? ntk + (i - r0) * ld_ntk : static_cast<T*>(nullptr), config_, vector_path_);
        }
    }

    // Copies block [r0, r1) × [c0, c1) (c0 >= r0) of the upper part to its transpose position below the diagonal.
    static void mirror_block(T* p, std::size_t n, std::size_t r0, std::size_t r1, std::size_t c0, std::size_t c1) {
        for (std::size_t i = r0; i < r1; ++i)
            for (std::size_t j = std::max(c0, i + 1); j < c1; ++j) p[j * n + i] = p[i * n + j];
    }

    void init() {
        const char* where = "limit::kernel";
        require<shape_error>(x1_.shape()[0] > 0 && x1_.shape()[1] > 0, where, ": X", symmetric_ ? "" : "1",
                             " must have at least one row and one feature, got ", x1_.shape()[0], " x ", x1_.shape()[1]);
        if (!symmetric_)
            require<shape_error>(x2_.shape()[0] > 0, where, ": X2 must have at least one row, got ", x2_.shape()[0], " x ",
                                 x2_.shape()[1]);
        require(depth_ >= 1, where, ": depth (number of hidden layers) must be >= 1, got ", depth_);
        if constexpr (kind == parametrization_kind::standard)
            require(!config_.compute_ntk || config_.width > 0, where,
                    ": the standard parametrization's NTK grows with the hidden width; set kernel_config::width (got 0)");
        require(std::isfinite(config_.weight_var) && config_.weight_var >= 0 && std::isfinite(config_.bias_var) &&
                    config_.bias_var >= 0,
                where, ": weight_var and bias_var must be finite and >= 0, got ", config_.weight_var, " and ", config_.bias_var);
        const T d = static_cast<T>(x1_.shape()[1]);
        norms1_ = norms(x1_);
        q1_ = recursion::variances(norms1_, d, depth_, config_);
        require_finite_variances(q1_, norms1_, symmetric_ ? "X" : "X1");
        if (!symmetric_) {
            const vector<T> norms2 = norms(x2_);
            q2_ = recursion::variances(norms2, d, depth_, config_);
            require_finite_variances(q2_, norms2, "X2");
        }
        const auto in_range = [&](const matrix<T>& q) {  // rows 0..L-1: the variances the layer loop reads
            return std::all_of(q.data(), q.data() + static_cast<std::size_t>(depth_) * q.shape()[1], detail::unscaled_range<T>::contains);
        };
        vector_path_ = in_range(q1_) && (symmetric_ || in_range(q2_));
    }
    // Every kernel entry is bounded by its diagonals (|K(x, x')| ≤ √(K(x, x) K(x', x')), both kernels are positive
    // semi-definite), so finite per-point variances mean a finite kernel: an overflow is caught here, before the work,
    // with its cause, instead of as NaN or inf entries in the result.
    void require_finite_variances(const matrix<T>& q, const vector<T>& squared_norms, const char* which) const {
        const std::size_t n = q.shape()[1], layers = static_cast<std::size_t>(depth_);
        const char* type = std::is_same_v<T, float> ? "float" : "double";
        for (std::size_t i = 0; i < n; ++i) {
            if (!std::isfinite(squared_norms(i)))
                fail<numerical_error>("limit::kernel: row ", i, " of ", which, " has a squared norm / d that overflows ", type,
                                      " (entries of magnitude ~1e", std::is_same_v<T, float> ? 19 : 154,
                                      " or more); rescale the inputs, e.g. divide each row by its norm");
            for (std::size_t l = 0; l <= layers + 1; ++l)
                if (!std::isfinite(q(l, i))) {
                    if (l <= layers)
                        fail<numerical_error>("limit::kernel: the NNGP variance Σ^", l + 1, "(x, x) of row ", i, " of ", which,
                                              " overflows ", type, " at layer ", l + 1, " of ", layers + 1, " (input squared norm / d = ",
                                              squared_norms(i), ", weight_var ", config_.weight_var,
                                              "); rescale the inputs, lower weight_var or the depth, or compute in double");
                    fail<numerical_error>("limit::kernel: the NTK diagonal Θ(x, x) of row ", i, " of ", which, " overflows ", type,
                                          " at depth ", layers, " (it grows geometrically with depth here: weight_var ",
                                          config_.weight_var, ", NNGP variance ", q(layers, i),
                                          "); lower the depth or weight_var, use the NTK parametrization, or compute in double");
                }
        }
    }
    static vector<T> norms(const matrix<T>& x) {
        const std::size_t n = x.shape()[0], d = x.shape()[1];
        vector<T> out = xt::empty<T>({n});
        for (std::size_t i = 0; i < n; ++i) {
            T s = 0;
            for (std::size_t k = 0; k < d; ++k) s += x(i, k) * x(i, k);
            out(i) = s / static_cast<T>(d);
        }
        return out;
    }

    using recursion = detail::recursion<kind, A>;
    kernel_config config_;
    int depth_;
    bool symmetric_;
    bool vector_path_ = true;  // every variance in detail::unscaled_range: the vectorised duals apply
    matrix<T> x1_, x2_, q1_, q2_;
    vector<T> norms1_;
};

// The infinite-width kernels of nn::mlp<P, A, L>: L hidden layers with activation A, a linear readout.
//   auto [nngp, ntk] = limit::kernel<param::ntk, act::relu, 3>::kernels(x_train, x_test, {.weight_var = 2});
template <Parametrization P, Activation A, int L>
struct kernel {
    static_assert(detail::check_kernel_policies<P, A, L>());

    using parametrization = P;
    using activation = A;
    static constexpr int depth = L;
    static constexpr parametrization_kind kind = kernel_plan<P, A>::kind;

    // The NNGP and NTK of X1 (N1×d) against X2 (N2×d) (any xtensor expressions; computed in T).
    template <class T = double, class E1, class E2>
    static kernel_pair<T> kernels(const E1& x1, const E2& x2, const kernel_config& c = {}) {
        return kernel_plan<P, A, T>(x1, x2, L, c).compute();
    }
    // The NNGP and NTK of X against itself: one triangle computed, the diagonal exact.
    template <class T = double, class E>
    static kernel_pair<T> kernels(const E& x, const kernel_config& c = {}) {
        return kernel_plan<P, A, T>(x, L, c).compute();
    }
    // A plan for computing blocks (streaming kernels larger than memory, matrix-free solvers).
    template <class T = double, class E1, class E2>
    static kernel_plan<P, A, T> plan(const E1& x1, const E2& x2, const kernel_config& c = {}) {
        return kernel_plan<P, A, T>(x1, x2, L, c);
    }
    template <class T = double, class E>
    static kernel_plan<P, A, T> plan(const E& x, const kernel_config& c = {}) {
        return kernel_plan<P, A, T>(x, L, c);
    }
};

}  // namespace widenn::limit
