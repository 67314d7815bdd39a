#pragma once
// Centered kernel alignment (Kornblith, Norouzi, Lee & Hinton 2019, "Similarity of neural network representations
// revisited", ICML, §3) between two representations X (N x a) and Y (N x b) of the same N inputs:
//
//   CKA(K, L) = HSIC(K, L) / √(HSIC(K, K) · HSIC(L, L)),   K = k(X, X), L = l(Y, Y)  (N x N Gram matrices)
//
// with either HSIC estimator:
//   biased   (Gretton et al. 2005)     HSIC₀ = tr(K H L H) / (N-1)²,  H = I - 11ᵀ/N;
//   debiased (Song et al. 2012, Thm 2) HSIC₁ = [tr(K̃L̃) + 1ᵀK̃1 · 1ᵀL̃1 / ((N-1)(N-2)) - 2/(N-2) · 1ᵀK̃L̃1] / (N(N-3)),
//                                      K̃, L̃ = K, L with the diagonal set to zero (unbiased for the population HSIC).
//
// Linear CKA (k(x, x') = x·x') runs in feature space when a + b <= N: with centred X and Y,
//   tr(KHLH) = ‖XᵀY‖²_F  and  K1 = 0,
// so it costs one GEMM (XᵀY) and two SYRKs (XᵀX, YᵀY): O(N(a+b)²) time, O((a+b)²) memory; both estimators are invariant to
// centring, so the debiased one uses the same products plus the row norms. Otherwise (and for the RBF kernel) the
// Gram matrices are streamed in row blocks: O(N²(a+b)) time, O(N · block) memory, never N x N.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string_view>
#include <utility>
#include <vector>

#include "../core/blas.hpp"
#include "../core/errors.hpp"
#include "../core/tensor.hpp"
#include "common.hpp"

namespace widenn::geometry {

enum class hsic_estimator { biased, debiased };

enum class kernel_kind { linear, rbf };

// A kernel on representation rows: linear x·x', or RBF exp(-‖x - x'‖² / (2σ²)) with σ given, or (sigma = 0)
// σ = median_fraction × the median pairwise distance (Kornblith et al. 2019, §6.1 use fractions of the median).
struct kernel_spec {
    kernel_kind kind = kernel_kind::linear;
    double sigma = 0.0;
    double median_fraction = 1.0;
};

namespace detail {

// The N-sized sums every HSIC estimate of a pair (K, L) needs: tr(KL), the row sums K1, L1 and the diagonals.
struct hsic_sums {
    double trace_kl = 0;
    std::vector<double> k1, l1, kd, ld;
};

inline double dot(const std::vector<double>& a, const std::vector<double>& b) {
    double s = 0;
    for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
    return s;
}
inline double total(const std::vector<double>& a) {
    double s = 0;
    for (double v : a) s += v;
    return s;
}

inline double hsic_from_sums(const hsic_sums& s, hsic_estimator est) {
    const double n = static_cast<double>(s.k1.size());
    if (est == hsic_estimator::biased)
        return (s.trace_kl - 2.0 / n * dot(s.k1, s.l1) + total(s.k1) * total(s.l1) / (n * n)) / ((n - 1) * (n - 1));
    // K̃ = K - diag(kd): tr(K̃L̃) = tr(KL) - Σ kd·ld; K̃1 = K1 - kd.
    const double tr = s.trace_kl - dot(s.kd, s.ld);
    const double sk = total(s.k1) - total(s.kd), sl = total(s.l1) - total(s.ld);
    const double cross = dot(s.k1, s.l1) - dot(s.k1, s.ld) - dot(s.kd, s.l1) + dot(s.kd, s.ld);
    return (tr + sk * sl / ((n - 1) * (n - 2)) - 2.0 / (n - 2) * cross) / (n * (n - 3));
}

inline void require_sample_count(std::size_t n, hsic_estimator est, std::string_view where) {
    if (est == hsic_estimator::debiased)
        require<shape_error>(n >= 4, where, ": the debiased HSIC needs N >= 4 rows, got ", n);
    else
        require<shape_error>(n >= 2, where, ": HSIC needs N >= 2 rows, got ", n);
}

inline double cka_from_hsic(double kl, double kk, double ll, std::string_view where) {
    require<numerical_error>(kk > 0 && ll > 0, where, ": CKA is undefined because HSIC(K, K) = ", kk, " and HSIC(L, L) = ", ll,
                             " must both be positive (a constant representation, or too few rows for the debiased estimator)");
    return kl / std::sqrt(kk * ll);
}

// ‖A‖²_F of a row-major a x b block.
inline double frobenius2(const matrix<double>& m) {
    double s = 0;
    for (double v : m) s += v * v;
    return s;
}

// ‖XᵀX‖²_F from the upper triangle of XᵀX (one SYRK).
inline double gram_of_columns_frobenius2(const matrix<double>& x) {
    const std::size_t d = x.shape()[1];
    std::vector<double> c(d * d);
    syrk_upper_transposed(x, c.data());
    double diagonal = 0, upper = 0;
    for (std::size_t i = 0; i < d; ++i) {
        diagonal += c[i * d + i] * c[i * d + i];
        for (std::size_t j = i + 1; j < d; ++j) upper += c[i * d + j] * c[i * d + j];
    }
    return diagonal + 2 * upper;
}

// Xᵀ Y for row-major X (N x a), Y (N x b).
inline matrix<double> cross_product(const matrix<double>& x, const matrix<double>& y) {
    const std::size_t n = x.shape()[0], a = x.shape()[1], b = y.shape()[1];
    matrix<double> out = matrix<double>::from_shape({a, b});
    blas::gemm(true, false, a, b, n, 1.0, x.data(), a, y.data(), b, 0.0, out.data(), b);
    return out;
}

// The median pairwise Euclidean distance between rows (all pairs for N <= 1000, else the pairs among 1000 evenly
// spaced rows, so the cost stays bounded and the value deterministic).
inline double median_distance(const matrix<double>& x) {
    const std::size_t n = x.shape()[0], d = x.shape()[1], m = std::min<std::size_t>(n, 1000);
    matrix<double> s = matrix<double>::from_shape({m, d});
    for (std::size_t i = 0; i < m; ++i) std::copy_n(x.data() + (i * n / m) * d, d, s.data() + i * d);
    const auto sq = squared_row_norms(s);
    std::vector<double> dist(m * m), pairs;
    squared_distance_rows(s, sq, 0, m, dist.data());
    pairs.reserve(m * (m - 1) / 2);
    for (std::size_t i = 0; i < m; ++i)
        for (std::size_t j = i + 1; j < m; ++j) pairs.push_back(dist[i * m + j]);
    if (pairs.empty()) return 0.0;
    auto mid = pairs.begin() + static_cast<std::ptrdiff_t>(pairs.size() / 2);
    std::nth_element(pairs.begin(), mid, pairs.end());
    return std::sqrt(*mid);
}

// A prepared kernel on the rows of X: computes row blocks of the N x N Gram matrix.
class gram_source {
public:
    gram_source(matrix<double> x, const kernel_spec& spec, std::string_view where, std::string_view what) : x_(std::move(x)), spec_(spec) {
        center_columns(x_);
        sq_ = squared_row_norms(x_);
        if (spec_.kind == kernel_kind::rbf) {
            if (spec_.sigma > 0) {
                require(std::isfinite(spec_.sigma), where, ": RBF sigma must be finite, got ", spec_.sigma);
                sigma_ = spec_.sigma;
            } else {
                require(spec_.sigma == 0, where, ": RBF sigma must be > 0, or 0 for the median heuristic, got ", spec_.sigma);
                require(spec_.median_fraction > 0 && std::isfinite(spec_.median_fraction), where,
                        ": median_fraction must be positive and finite, got ", spec_.median_fraction);
                const double median = median_distance(x_);
                require<numerical_error>(median > 0, where, ": the median pairwise distance of ", what,
                                         " is 0 (mostly identical rows); give the RBF sigma explicitly");
                sigma_ = spec_.median_fraction * median;
            }
        }
    }
    std::size_t size() const { return x_.shape()[0]; }
    double sigma() const { return sigma_; }
    void rows(std::size_t r0, std::size_t r1, double* out) const {
        if (spec_.kind == kernel_kind::linear) {
            gram_rows(x_, r0, r1, out);
            return;
        }
        squared_distance_rows(x_, sq_, r0, r1, out);
        const double scale = -1.0 / (2 * sigma_ * sigma_);
        const std::size_t count = (r1 - r0) * size();
        for (std::size_t i = 0; i < count; ++i) out[i] = std::exp(scale * out[i]);
    }

private:
    matrix<double> x_;
    kernel_spec spec_;
    std::vector<double> sq_;
    double sigma_ = 0;
};

// The sums of the pairs (K, L), (K, K), (L, L), streamed over row blocks.
struct hsic_triple {
    hsic_sums kl, kk, ll;
};
inline hsic_triple stream_sums(const gram_source& k, const gram_source& l) {
    const std::size_t n = k.size(), block = block_rows(n);
    std::vector<double> kb(block * n), lb(block * n);
    hsic_triple t;
    for (hsic_sums* s : {&t.kl, &t.kk, &t.ll}) {
        s->k1.assign(n, 0.0);
        s->l1.assign(n, 0.0);
        s->kd.assign(n, 0.0);
        s->ld.assign(n, 0.0);
    }
    for (std::size_t r0 = 0; r0 < n; r0 += block) {
        const std::size_t r1 = std::min(r0 + block, n);
        k.rows(r0, r1, kb.data());
        l.rows(r0, r1, lb.data());
        for (std::size_t i = r0; i < r1; ++i) {
            const double* kr = kb.data() + (i - r0) * n;
            const double* lr = lb.data() + (i - r0) * n;
            double kl = 0, kk = 0, ll = 0, ks = 0, ls = 0;
            for (std::size_t j = 0; j < n; ++j) {
                kl += kr[j] * lr[j];
                kk += kr[j] * kr[j];
                ll += lr[j] * lr[j];
                ks += kr[j];
                ls += lr[j];
            }
            t.kl.trace_kl += kl;
            t.kk.trace_kl += kk;
            t.ll.trace_kl += ll;
            t.kl.k1[i] = t.kk.k1[i] = t.kk.l1[i] = ks;
            t.kl.l1[i] = t.ll.k1[i] = t.ll.l1[i] = ls;
            t.kl.kd[i] = t.kk.kd[i] = t.kk.ld[i] = kr[i];
            t.kl.ld[i] = t.ll.kd[i] = t.ll.ld[i] = lr[i];
        }
    }
    return t;
}

template <class E1, class E2>
std::pair<matrix<double>, matrix<double>> paired_inputs(const E1& x, const E2& y, std::string_view where) {
    matrix<double> a = to_matrix(x, where, "X");
    matrix<double> b = to_matrix(y, where, "Y");
    require<shape_error>(a.shape()[0] == b.shape()[0], where, ": X and Y must have the same number of rows (one per input), got ",
                         shape_text(a), " and ", shape_text(b));
    return {std::move(a), std::move(b)};
}

}  // namespace detail

// HSIC of two N x N Gram matrices (symmetric, finite).
template <class E1, class E2>
double hsic(const E1& k_gram, const E2& l_gram, hsic_estimator est = hsic_estimator::biased) {
    constexpr std::string_view where = "geometry::hsic";
    const matrix<double> k = detail::to_matrix(k_gram, where, "K");
    const matrix<double> l = detail::to_matrix(l_gram, where, "L");
    const std::size_t n = k.shape()[0];
    require<shape_error>(k.shape()[1] == n && l.shape()[0] == n && l.shape()[1] == n, where,
                         ": K and L must be square Gram matrices of the same size, got ", detail::shape_text(k), " and ",
                         detail::shape_text(l));
    detail::require_sample_count(n, est, where);
    detail::hsic_sums s;
    s.k1.assign(n, 0), s.l1.assign(n, 0), s.kd.resize(n), s.ld.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t j = 0; j < n; ++j) {
            s.trace_kl += k(i, j) * l(j, i);
            s.k1[i] += k(i, j);
            s.l1[i] += l(i, j);
        }
        s.kd[i] = k(i, i);
        s.ld[i] = l(i, i);
    }
    return detail::hsic_from_sums(s, est);
}

// CKA of two N x N Gram matrices.
template <class E1, class E2>
double cka_from_grams(const E1& k_gram, const E2& l_gram, hsic_estimator est = hsic_estimator::biased) {
    const matrix<double> k = detail::to_matrix(k_gram, "geometry::cka_from_grams", "K");
    const matrix<double> l = detail::to_matrix(l_gram, "geometry::cka_from_grams", "L");
    return detail::cka_from_hsic(hsic(k, l, est), hsic(k, k, est), hsic(l, l, est), "geometry::cka_from_grams");
}

// Kernel CKA between the rows of X (N x a) and Y (N x b), Gram matrices streamed in row blocks (O(N²(a+b)) time).
template <class E1, class E2>
double kernel_cka(const E1& x, const E2& y, const kernel_spec& kx, const kernel_spec& ky, hsic_estimator est = hsic_estimator::biased) {
    constexpr std::string_view where = "geometry::kernel_cka";
    auto [a, b] = detail::paired_inputs(x, y, where);
    detail::require_sample_count(a.shape()[0], est, where);
    const detail::gram_source k(std::move(a), kx, where, "X"), l(std::move(b), ky, where, "Y");
    const auto t = detail::stream_sums(k, l);
    return detail::cka_from_hsic(detail::hsic_from_sums(t.kl, est), detail::hsic_from_sums(t.kk, est), detail::hsic_from_sums(t.ll, est),
                                 where);
}
template <class E1, class E2>
double kernel_cka(const E1& x, const E2& y, const kernel_spec& k, hsic_estimator est = hsic_estimator::biased) {
    return kernel_cka(x, y, k, k, est);
}

// Linear CKA between the rows of X (N x a) and Y (N x b): feature space (one GEMM, two SYRKs) when a + b <= N, streamed
// Gram matrices otherwise.
template <class E1, class E2>
double linear_cka(const E1& x, const E2& y, hsic_estimator est = hsic_estimator::biased) {
    constexpr std::string_view where = "geometry::linear_cka";
    auto [a, b] = detail::paired_inputs(x, y, where);
    const std::size_t n = a.shape()[0];
    detail::require_sample_count(n, est, where);
    if (a.shape()[1] + b.shape()[1] > n) {
        const detail::gram_source k(std::move(a), {}, where, "X"), l(std::move(b), {}, where, "Y");
        const auto t = detail::stream_sums(k, l);
        return detail::cka_from_hsic(detail::hsic_from_sums(t.kl, est), detail::hsic_from_sums(t.kk, est),
                                     detail::hsic_from_sums(t.ll, est), where);
    }
    detail::center_columns(a);
    detail::center_columns(b);
    // Centred: K1 = L1 = 0 exactly in exact arithmetic; the diagonals are the squared row norms.
    detail::hsic_sums kl, kk, ll;
    const std::vector<double> zero(n, 0.0), ka = detail::squared_row_norms(a), lb = detail::squared_row_norms(b);
    kl.trace_kl = detail::frobenius2(detail::cross_product(a, b));
    kk.trace_kl = detail::gram_of_columns_frobenius2(a);
    ll.trace_kl = detail::gram_of_columns_frobenius2(b);
    kl.k1 = kl.l1 = kk.k1 = kk.l1 = ll.k1 = ll.l1 = zero;
    kl.kd = kk.kd = kk.ld = ka;
    kl.ld = ll.kd = ll.ld = lb;
    return detail::cka_from_hsic(detail::hsic_from_sums(kl, est), detail::hsic_from_sums(kk, est), detail::hsic_from_sums(ll, est),
                                 where);
}

}  // namespace widenn::geometry
