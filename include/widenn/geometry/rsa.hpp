#pragma once
// Representational similarity analysis (Kriegeskorte, Mur & Bandettini 2008, "Representational similarity analysis —
// connecting the branches of systems neuroscience", Front. Syst. Neurosci., §2): a representation X (N x d) is
// summarised by its representational dissimilarity matrix (RDM, N x N), and two representations are compared by the
// correlation of the upper triangles (i < j) of their RDMs: Pearson, or Spearman (Pearson of the ranks, ties given
// their average rank).
//
// RDMs: correlation distance 1 - ρ(x_i, x_j) (ρ the Pearson correlation across the d features; Kriegeskorte et al.'s
// default) or Euclidean distance; each block is one GEMM. rsa() with Pearson streams the RDMs in row blocks
// (O(N²(a+b)) time, O(N · block) memory); Spearman needs every entry at once to rank them (N(N-1) doubles).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numeric>
#include <string_view>
#include <utility>
#include <vector>

#include "../core/errors.hpp"
#include "../core/tensor.hpp"
#include "common.hpp"

namespace widenn::geometry {

enum class rdm_metric { correlation, euclidean };
enum class rdm_comparison { pearson, spearman };

struct rsa_options {
    rdm_metric metric = rdm_metric::correlation;
    rdm_comparison comparison = rdm_comparison::spearman;
};

namespace detail {

// Rows of a representation prepared for RDM blocks.
class rdm_source {
public:
    rdm_source(matrix<double> x, rdm_metric metric, std::string_view where, std::string_view what) : x_(std::move(x)), metric_(metric) {
        const std::size_t n = x_.shape()[0], d = x_.shape()[1];
        if (metric_ == rdm_metric::correlation) {
            require<shape_error>(d >= 2, where, ": the correlation distance needs at least 2 features per row, ", what, " has ", d);
            for (std::size_t i = 0; i < n; ++i) {  // centre and normalise each row: ρ(x_i, x_j) = u_i · u_j
                double* row = x_.data() + i * d;
                double mean = 0;
                for (std::size_t k = 0; k < d; ++k) mean += row[k];
                mean /= static_cast<double>(d);
                double ss = 0;
                for (std::size_t k = 0; k < d; ++k) ss += (row[k] - mean) * (row[k] - mean);
                require(ss > 0, where, ": row ", i, " of ", what, " is constant, so its correlation distance is undefined");
                const double inv = 1.0 / std::sqrt(ss);
                for (std::size_t k = 0; k < d; ++k) row[k] = (row[k] - mean) * inv;
            }
        } else {
            center_columns(x_);
            sq_ = squared_row_norms(x_);
        }
    }
    std::size_t size() const { return x_.shape()[0]; }
    void rows(std::size_t r0, std::size_t r1, double* out) const {
        const std::size_t n = size();
        if (metric_ == rdm_metric::correlation) {
            gram_rows(x_, r0, r1, out);
            for (std::size_t i = r0; i < r1; ++i) {
                double* row = out + (i - r0) * n;
                for (std::size_t j = 0; j < n; ++j) row[j] = 1.0 - std::clamp(row[j], -1.0, 1.0);
                row[i] = 0.0;
            }
        } else {
            squared_distance_rows(x_, sq_, r0, r1, out);
            const std::size_t count = (r1 - r0) * n;
            for (std::size_t i = 0; i < count; ++i) out[i] = std::sqrt(out[i]);
        }
    }

private:
    matrix<double> x_;
    rdm_metric metric_;
    std::vector<double> sq_;
};

// Average ranks (1-based; ties share the mean of their positions).
inline std::vector<double> ranks(const std::vector<double>& v) {
    std::vector<std::size_t> order(v.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return v[a] < v[b]; });
    std::vector<double> r(v.size());
    for (std::size_t i = 0; i < order.size();) {
        std::size_t j = i;
        while (j + 1 < order.size() && v[order[j + 1]] == v[order[i]]) ++j;
        const double mean_rank = 0.5 * static_cast<double>(i + j) + 1.0;
        for (std::size_t k = i; k <= j; ++k) r[order[k]] = mean_rank;
        i = j + 1;
    }
    return r;
}

// Running sums for a Pearson correlation, shifted by the first values seen (less cancellation).
struct pearson_sums {
    double n = 0, sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0, shift_a = 0, shift_b = 0;
    bool started = false;
    void add(double a, double b) {
        if (!started) shift_a = a, shift_b = b, started = true;
        a -= shift_a;
        b -= shift_b;
        n += 1, sa += a, sb += b, saa += a * a, sbb += b * b, sab += a * b;
    }
    double value(std::string_view where) const {
        const double va = saa - sa * sa / n, vb = sbb - sb * sb / n;
        require<numerical_error>(va > 0 && vb > 0, where, ": the correlation is undefined because one RDM is constant over its ",
                                 n, " upper-triangle entries");
        return std::clamp((sab - sa * sb / n) / std::sqrt(va * vb), -1.0, 1.0);
    }
};

inline double correlate(const std::vector<double>& a, const std::vector<double>& b, rdm_comparison how, std::string_view where) {
    pearson_sums s;
    if (how == rdm_comparison::pearson) {
        for (std::size_t i = 0; i < a.size(); ++i) s.add(a[i], b[i]);
    } else {
        const auto ra = ranks(a), rb = ranks(b);
        for (std::size_t i = 0; i < a.size(); ++i) s.add(ra[i], rb[i]);
    }
    return s.value(where);
}

}  // namespace detail

// The N x N RDM of the rows of X.
template <class E>
matrix<double> rdm(const E& x, rdm_metric metric = rdm_metric::correlation) {
    const detail::rdm_source src(detail::to_matrix(x, "geometry::rdm", "X"), metric, "geometry::rdm", "X");
    const std::size_t n = src.size();
    matrix<double> out = matrix<double>::from_shape({n, n});
    src.rows(0, n, out.data());
    return out;
}

// Correlation of the upper triangles (i < j) of two RDMs of the same size N >= 3. The RDMs must be square, finite and
// symmetric (to 1e-9 relative), with a zero diagonal.
template <class E1, class E2>
double compare_rdms(const E1& r1, const E2& r2, rdm_comparison how = rdm_comparison::spearman) {
    constexpr std::string_view where = "geometry::compare_rdms";
    const matrix<double> a = detail::to_matrix(r1, where, "first RDM");
    const matrix<double> b = detail::to_matrix(r2, where, "second RDM");
    const std::size_t n = a.shape()[0];
    require<shape_error>(a.shape()[1] == n && b.shape()[0] == n && b.shape()[1] == n, where,
                         ": the RDMs must be square and of the same size, got ", detail::shape_text(a), " and ", detail::shape_text(b));
    require<shape_error>(n >= 3, where, ": comparing RDMs needs N >= 3 conditions, got ", n);
    std::vector<double> ua, ub;
    ua.reserve(n * (n - 1) / 2);
    ub.reserve(n * (n - 1) / 2);
    for (const matrix<double>* m : {&a, &b}) {
        const double scale = std::max(1.0, xt::amax(xt::abs(*m))());
        for (std::size_t i = 0; i < n; ++i) {
            require((*m)(i, i) == 0.0, where, ": an RDM must have a zero diagonal, got ", (*m)(i, i), " at (", i, ", ", i, ")");
            for (std::size_t j = i + 1; j < n; ++j)
                require(std::abs((*m)(i, j) - (*m)(j, i)) <= 1e-9 * scale, where, ": an RDM must be symmetric, got ", (*m)(i, j),
                        " at (", i, ", ", j, ") and ", (*m)(j, i), " at (", j, ", ", i, ")");
        }
    }
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = i + 1; j < n; ++j) ua.push_back(a(i, j)), ub.push_back(b(i, j));
    return detail::correlate(ua, ub, how, where);
}

// RSA between the rows of X (N x a) and Y (N x b): the correlation of their RDMs' upper triangles.
template <class E1, class E2>
double rsa(const E1& x, const E2& y, const rsa_options& options = {}) {
    constexpr std::string_view where = "geometry::rsa";
    matrix<double> a = detail::to_matrix(x, where, "X");
    matrix<double> b = detail::to_matrix(y, where, "Y");
    require<shape_error>(a.shape()[0] == b.shape()[0], where, ": X and Y must have the same number of rows (one per condition), got ",
                         detail::shape_text(a), " and ", detail::shape_text(b));
    const std::size_t n = a.shape()[0];
    require<shape_error>(n >= 3, where, ": RSA needs N >= 3 rows, got ", n);
    const detail::rdm_source sa(std::move(a), options.metric, where, "X"), sb(std::move(b), options.metric, where, "Y");
    const std::size_t block = detail::block_rows(n);
    std::vector<double> ba(block * n), bb(block * n);
    detail::pearson_sums sums;
    std::vector<double> ua, ub;
    const bool spearman = options.comparison == rdm_comparison::spearman;
    if (spearman) ua.reserve(n * (n - 1) / 2), ub.reserve(n * (n - 1) / 2);
    for (std::size_t r0 = 0; r0 < n; r0 += block) {
        const std::size_t r1 = std::min(r0 + block, n);
        sa.rows(r0, r1, ba.data());
        sb.rows(r0, r1, bb.data());
        for (std::size_t i = r0; i < r1; ++i)
            for (std::size_t j = i + 1; j < n; ++j) {
                const double va = ba[(i - r0) * n + j], vb = bb[(i - r0) * n + j];
                if (spearman)
                    ua.push_back(va), ub.push_back(vb);
                else
                    sums.add(va, vb);
            }
    }
    return spearman ? detail::correlate(ua, ub, rdm_comparison::spearman, where) : sums.value(where);
}

}  // namespace widenn::geometry
