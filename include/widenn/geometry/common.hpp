#pragma once
// Shared pieces of geometry/: input conversion with checks, column centring, row norms, and Gram / squared-distance
// blocks through core/blas.hpp. Every function of geometry/ works in double and takes any 2-D xtensor expression.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <xtensor/xmath.hpp>
#include <xtensor/xtensor.hpp>

#include "../core/blas.hpp"
#include "../core/errors.hpp"
#include "../core/tensor.hpp"

namespace widenn::geometry::detail {

// A finite, non-empty N x d matrix in double (rank, emptiness and finiteness checked, naming `where` and `what`).
template <class E>
matrix<double> to_matrix(const E& e, std::string_view where, std::string_view what) {
    require_shape(e, any_size, any_size, where, what);
    matrix<double> m = xt::cast<double>(e);
    require<shape_error>(m.shape()[0] > 0 && m.shape()[1] > 0, where, ": ", what, " must have at least one row and one column, got ",
                         m.shape()[0], " x ", m.shape()[1]);
    require_finite(m, where, what);
    return m;
}

// Subtracts the column means in place (the centring H·X with H = I - 11ᵀ/N).
inline void center_columns(matrix<double>& x) {
    const std::size_t n = x.shape()[0], d = x.shape()[1];
    std::vector<double> mean(d, 0.0);
    for (std::size_t i = 0; i < n; ++i) {
        const double* row = x.data() + i * d;
        for (std::size_t k = 0; k < d; ++k) mean[k] += row[k];
    }
    for (auto& m : mean) m /= static_cast<double>(n);
    for (std::size_t i = 0; i < n; ++i) {
        double* row = x.data() + i * d;
        for (std::size_t k = 0; k < d; ++k) row[k] -= mean[k];
    }
}

// Squared Euclidean norms of the rows.
inline std::vector<double> squared_row_norms(const matrix<double>& x) {
    const std::size_t n = x.shape()[0], d = x.shape()[1];
    std::vector<double> out(n);
    for (std::size_t i = 0; i < n; ++i) {
        const double* row = x.data() + i * d;
        double s = 0;
        for (std::size_t k = 0; k < d; ++k) s += row[k] * row[k];
        out[i] = s;
    }
    return out;
}

// out (rows [r0, r1) of X against all rows of X, leading dimension N) = X[r0:r1]·Xᵀ.
inline void gram_rows(const matrix<double>& x, std::size_t r0, std::size_t r1, double* out) {
    const std::size_t n = x.shape()[0], d = x.shape()[1];
    blas::gemm(false, true, r1 - r0, n, d, 1.0, x.data() + r0 * d, d, x.data(), d, 0.0, out, n);
}

// out = squared Euclidean distances of rows [r0, r1) to all rows (exactly 0 on the diagonal, never negative).
inline void squared_distance_rows(const matrix<double>& x, const std::vector<double>& sq, std::size_t r0, std::size_t r1, double* out) {
    const std::size_t n = x.shape()[0];
    gram_rows(x, r0, r1, out);
    for (std::size_t i = r0; i < r1; ++i) {
        double* row = out + (i - r0) * n;
        for (std::size_t j = 0; j < n; ++j) row[j] = std::max(0.0, sq[i] + sq[j] - 2 * row[j]);
        row[i] = 0.0;
    }
}

// The upper triangle of C = Xᵀ X (d x d) for row-major X (N x d): one SYRK with the transposed operand, half the work of a
// GEMM.
inline void syrk_upper_transposed(const matrix<double>& x, double* c) {
    const std::size_t n = x.shape()[0], d = x.shape()[1];
    blas::syrk_upper_transposed(d, n, 1.0, x.data(), d, 0.0, c, d);
}

// Row blocks of about `target` entries (at least one row), for streaming N x N matrices.
inline std::size_t block_rows(std::size_t n, std::size_t target = std::size_t{1} << 20) {
    return std::clamp<std::size_t>(target / std::max<std::size_t>(n, 1), 1, std::max<std::size_t>(n, 1));
}

// "3 x 4" for messages.
inline std::string shape_text(const matrix<double>& m) { return std::to_string(m.shape()[0]) + " x " + std::to_string(m.shape()[1]); }

}  // namespace widenn::geometry::detail
