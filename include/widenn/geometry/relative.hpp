#pragma once
// Relative representations (Moschella, Maiorca, Fumero, Norelli, Locatello & Rodolà 2023, "Relative representations
// enable zero-shot latent space communication", ICLR, §3): every embedding e_i is represented by its cosine
// similarities to k anchor embeddings a_j,
//
//   r(e_i) = ( cos(e_i, a_1), ..., cos(e_i, a_k) ),
//
// which does not change when the latent space is rotated, reflected or rescaled. Computed as one GEMM of the
// embeddings (not copied when they are a matrix<double>) against the row-normalised anchors, each output row then
// scaled by 1/‖e_i‖; cosines are clamped to [-1, 1].
//
// Anchor selection: uniform random, farthest-point (greedy k-centre, Gonzalez 1985) and class-balanced.
//
// The infinite-width side: for a network at initialisation in the kernel regime, the cosine between the last hidden
// layer's features φ(h^L(x)) and φ(h^L(a)) converges, as width -> ∞, to the normalised post-activation kernel
// T(Σ^L)(x, a) / √(T(Σ^L)(x, x) T(Σ^L)(a, a)), where σw² T(Σ^L) + σb² = Σ^{L+1} is the NNGP of limit::of<Net>
// (Lee et al. 2018, Eq. 5). infinite_width_relative computes it from that NNGP.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <numeric>
#include <string_view>
#include <type_traits>
#include <vector>

#include "../core/blas.hpp"
#include "../core/errors.hpp"
#include "../core/rng.hpp"
#include "../core/tensor.hpp"
#include "../limit/kernel.hpp"
#include "../limit/of.hpp"
#include "common.hpp"

namespace widenn::geometry {

namespace detail {

// Rows scaled to unit Euclidean norm; a zero row has no direction, so it is an error.
inline void normalise_rows(matrix<double>& x, std::string_view where, std::string_view what) {
    const std::size_t n = x.shape()[0], d = x.shape()[1];
    const auto sq = squared_row_norms(x);
    for (std::size_t i = 0; i < n; ++i) {
        require(sq[i] > 0 && std::isfinite(sq[i]), where, ": ", what, " row ", i,
                sq[i] > 0 ? " has a norm that overflows double" : " is zero, so its cosine similarity is undefined");
        const double inv = 1.0 / std::sqrt(sq[i]);
        double* row = x.data() + i * d;
        for (std::size_t k = 0; k < d; ++k) row[k] *= inv;
    }
}

// The input itself when it already is a matrix<double> (no copy: relative representations are one GEMM, and a copy
// of a large N x d input would cost a good part of it), else a converted copy in `holder`; rank and size checked
// (finite values are checked by inverse_row_norms).
template <class E>
const matrix<double>& borrow_matrix(const E& e, matrix<double>& holder, std::string_view where, std::string_view what) {
    if constexpr (std::is_same_v<E, matrix<double>>) {
        require_shape(e, any_size, any_size, where, what);
        require<shape_error>(e.shape()[0] > 0 && e.shape()[1] > 0, where, ": ", what, " must have at least one row and one column, got ",
                             shape_text(e));
        return e;
    } else {
        holder = to_matrix(e, where, what);
        return holder;
    }
}

// 1/‖x_i‖ for every row, checking in the same pass that the row is finite and not zero.
inline std::vector<double> inverse_row_norms(const matrix<double>& x, std::string_view where, std::string_view what) {
    const std::size_t d = x.shape()[1];
    std::vector<double> out = squared_row_norms(x);
    for (std::size_t i = 0; i < out.size(); ++i) {
        const double s = out[i];
        if (!std::isfinite(s)) {
            const double* row = x.data() + i * d;
            for (std::size_t k = 0; k < d; ++k)
                if (!std::isfinite(row[k])) fail(where, ": ", what, " has a non-finite value (", row[k], ") at flat index ", i * d + k);
            fail(where, ": ", what, " row ", i, " has a norm that overflows double");
        }
        require(s > 0, where, ": ", what, " row ", i, " is zero, so its cosine similarity is undefined");
        out[i] = 1.0 / std::sqrt(s);
    }
    return out;
}

// Cosines of the rows of u (N x d, inverse row norms given) and of unit rows v (k x d): N x k, clamped to [-1, 1].
inline matrix<double> cosines(const matrix<double>& u, const std::vector<double>& inverse_norms, const matrix<double>& v) {
    const std::size_t n = u.shape()[0], k = v.shape()[0], d = u.shape()[1];
    matrix<double> out = matrix<double>::from_shape({n, k});
    blas::gemm(false, true, n, k, d, 1.0, u.data(), d, v.data(), d, 0.0, out.data(), k);
    for (std::size_t i = 0; i < n; ++i) {
        double* row = out.data() + i * k;
        for (std::size_t j = 0; j < k; ++j) row[j] = std::clamp(row[j] * inverse_norms[i], -1.0, 1.0);
    }
    return out;
}

inline void require_indices(const std::vector<std::size_t>& idx, std::size_t n, std::string_view where) {
    require(!idx.empty(), where, ": need at least one anchor index, got none");
    for (std::size_t j = 0; j < idx.size(); ++j)
        require(idx[j] < n, where, ": anchor index ", idx[j], " (entry ", j, ") is outside the ", n, " rows (valid: 0..", n - 1, ")");
}

}  // namespace detail

// The relative representation of the rows of `embeddings` (N x d) against the rows of `anchors` (k x d): N x k cosines.
template <class E, class A>
matrix<double> relative(const E& embeddings, const A& anchors) {
    constexpr std::string_view where = "geometry::relative";
    matrix<double> holder;
    const matrix<double>& u = detail::borrow_matrix(embeddings, holder, where, "embeddings");
    matrix<double> v = detail::to_matrix(anchors, where, "anchors");
    require<shape_error>(u.shape()[1] == v.shape()[1], where, ": embeddings and anchors must have the same number of columns, got ",
                         detail::shape_text(u), " and ", detail::shape_text(v));
    const auto inverse_norms = detail::inverse_row_norms(u, where, "embeddings");
    detail::normalise_rows(v, where, "anchors");
    return detail::cosines(u, inverse_norms, v);
}

// The same with the anchors given as row indices of `embeddings` (N x k; column j is the similarity to row anchor_rows[j]).
template <class E>
matrix<double> relative(const E& embeddings, const std::vector<std::size_t>& anchor_rows) {
    constexpr std::string_view where = "geometry::relative";
    matrix<double> holder;
    const matrix<double>& u = detail::borrow_matrix(embeddings, holder, where, "embeddings");
    detail::require_indices(anchor_rows, u.shape()[0], where);
    const auto inverse_norms = detail::inverse_row_norms(u, where, "embeddings");
    const std::size_t d = u.shape()[1];
    matrix<double> v = matrix<double>::from_shape({anchor_rows.size(), d});
    for (std::size_t j = 0; j < anchor_rows.size(); ++j)
        for (std::size_t c = 0; c < d; ++c) v(j, c) = u(anchor_rows[j], c) * inverse_norms[anchor_rows[j]];
    return detail::cosines(u, inverse_norms, v);
}

// ---- anchor selection ----

// k distinct row indices drawn uniformly from 0..n-1 (partial Fisher–Yates with widenn::rng(seed)), in draw order.
inline std::vector<std::size_t> random_anchors(std::size_t n, std::size_t k, std::uint64_t seed) {
    require(k >= 1 && k <= n, "geometry::random_anchors: need 1 <= k <= n, got k = ", k, " and n = ", n);
    std::vector<std::size_t> perm(n);
    std::iota(perm.begin(), perm.end(), std::size_t{0});
    rng gen(seed);
    for (std::size_t i = 0; i < k; ++i) std::swap(perm[i], perm[i + gen.below(n - i)]);
    perm.resize(k);
    return perm;
}

// Farthest-point anchors (greedy k-centre, Gonzalez 1985): start at row `first`, then repeatedly add the row whose
// Euclidean distance to the nearest chosen anchor is largest (ties: the lowest row index). O(N k d).
template <class E>
std::vector<std::size_t> farthest_point_anchors(const E& embeddings, std::size_t k, std::size_t first = 0) {
    constexpr std::string_view where = "geometry::farthest_point_anchors";
    const matrix<double> x = detail::to_matrix(embeddings, where, "embeddings");
    const std::size_t n = x.shape()[0], d = x.shape()[1];
    require(k >= 1 && k <= n, where, ": need 1 <= k <= N, got k = ", k, " and N = ", n);
    require(first < n, where, ": first anchor ", first, " is outside the ", n, " rows");
    std::vector<double> nearest(n, std::numeric_limits<double>::infinity());
    std::vector<std::size_t> chosen{first};
    while (true) {
        const double* a = x.data() + chosen.back() * d;
        for (std::size_t i = 0; i < n; ++i) {
            const double* r = x.data() + i * d;
            double s = 0;
            for (std::size_t c = 0; c < d; ++c) s += (r[c] - a[c]) * (r[c] - a[c]);
            nearest[i] = std::min(nearest[i], s);
        }
        if (chosen.size() == k) break;
        std::size_t best = 0;
        for (std::size_t i = 1; i < n; ++i)
            if (nearest[i] > nearest[best]) best = i;
        require(nearest[best] > 0, where, ": only ", chosen.size(), " distinct rows, cannot choose ", k, " distinct anchors");
        chosen.push_back(best);
    }
    return chosen;
}

// k anchors spread over the classes as evenly as possible (each of the C classes present gets k / C, and the first
// k mod C classes in ascending label order one more), drawn uniformly within each class with widenn::rng(seed).
// Returned grouped by class, ascending labels. A class with fewer rows than its share is an error.
template <class Labels>
std::vector<std::size_t> class_balanced_anchors(const Labels& labels, std::size_t k, std::uint64_t seed) {
    constexpr std::string_view where = "geometry::class_balanced_anchors";
    std::map<long long, std::vector<std::size_t>> members;
    std::size_t i = 0;
    for (auto v : labels) members[static_cast<long long>(v)].push_back(i++);
    require(i > 0, where, ": no labels given");
    require(k >= members.size() && k <= i, where, ": need one anchor per class at least and at most one per row: ", members.size(),
            " <= k <= ", i, ", got k = ", k);
    const std::size_t classes = members.size(), share = k / classes, extra = k % classes;
    rng gen(seed);
    std::vector<std::size_t> out;
    std::size_t c = 0;
    for (auto& [label, rows] : members) {
        const std::size_t want = share + (c++ < extra ? 1 : 0);
        require(rows.size() >= want, where, ": class ", label, " has ", rows.size(), " rows but needs ", want, " anchors");
        for (std::size_t j = 0; j < want; ++j) {
            std::swap(rows[j], rows[j + gen.below(rows.size() - j)]);
            out.push_back(rows[j]);
        }
    }
    return out;
}

// ---- the infinite-width side ----

// The infinite-width relative representation of Net (an nn::mlp type in the kernel regime) at initialisation:
// the limit of cos(φ(h^L(x_i)), φ(h^L(a_j))) for inputs x (N x d) and anchor inputs a (k x d), from the NNGP of
// limit::of<Net> with `config` (weight_var, bias_var as the network's). N x k.
template <class Net, class E, class A>
matrix<double> infinite_width_relative(const E& inputs, const A& anchor_inputs, limit::kernel_config config = {}) {
    constexpr bool kernel_regime = limit::detail::regime_of<Net>() == regime::kernel;
    static_assert(kernel_regime,
                  "widenn: geometry::infinite_width_relative<Net> needs a network in the kernel regime (param::ntk, or a stable "
                  "standard parametrization): its relative representation at initialisation is its normalised NNGP");
    if constexpr (!kernel_regime) {
        return {};
    } else {
        constexpr std::string_view where = "geometry::infinite_width_relative";
        require(config.weight_var > 0 && std::isfinite(config.weight_var), where, ": weight_var must be positive and finite, got ",
                config.weight_var);
        const matrix<double> x = detail::to_matrix(inputs, where, "inputs");
        const matrix<double> a = detail::to_matrix(anchor_inputs, where, "anchor inputs");
        require<shape_error>(x.shape()[1] == a.shape()[1], where, ": inputs and anchor inputs must have the same number of features, got ",
                             detail::shape_text(x), " and ", detail::shape_text(a));
        config.compute_ntk = false;
        config.progress = {};
        using lim = limit::of<Net>;
        const auto plan = lim::template plan<double>(x, a, config);
        matrix<double> k = plan.compute().nngp;
        const std::size_t top = static_cast<std::size_t>(lim::depth);  // row L of the variances: Σ^{L+1}(x, x)
        const double wv = config.weight_var, bv = config.bias_var;
        const auto post = [&](double sigma) { return (sigma - bv) / wv; };  // T(Σ^L) from Σ^{L+1} = σw² T(Σ^L) + σb²
        const std::size_t n = x.shape()[0], m = a.shape()[0];
        std::vector<double> rx(n), ra(m);
        for (std::size_t i = 0; i < n; ++i) rx[i] = post(plan.row_variances()(top, i));
        for (std::size_t j = 0; j < m; ++j) ra[j] = post(plan.col_variances()(top, j));
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t j = 0; j < m; ++j) {
                const double denominator = std::sqrt(rx[i] * ra[j]);
                require<numerical_error>(denominator > 0, where, ": the post-activation variance of input ", i, " or anchor ", j,
                                         " is zero, so the cosine is undefined (a zero input without biases?)");
                k(i, j) = std::clamp(post(k(i, j)) / denominator, -1.0, 1.0);
            }
        return k;
    }
}

}  // namespace widenn::geometry
