#pragma once
// Linear algebra for kernel regression: Cholesky and symmetric eigendecomposition through LAPACK
// (OpenBLAS), and a preconditioned conjugate-gradient solver that needs only products A·v, so it runs
// matrix-free over kernel blocks (limit::kernel_operator). Conventions of neural-tangents' predict.py:
// diag_reg is relative to the mean diagonal, tr(A)/m, unless `absolute` is set.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "../core/errors.hpp"
#include "../core/tensor.hpp"

namespace widenn::limit {

namespace detail::lapack {
extern "C" {
void dpotrf_(const char* uplo, const int* n, double* a, const int* lda, int* info);
void dpotrs_(const char* uplo, const int* n, const int* nrhs, const double* a, const int* lda, double* b, const int* ldb,
             int* info);
void dsyevd_(const char* jobz, const char* uplo, const int* n, double* a, const int* lda, double* w, double* work,
             const int* lwork, int* iwork, const int* liwork, int* info);
}
}  // namespace detail::lapack

// Diagonal regularisation A + λ·s·I with s = tr(A)/m (neural-tangents' default) or s = 1 (absolute).
struct regularization {
    double diag_reg = 0.0;
    bool absolute = false;
};

// The number added to the diagonal for `reg` on a square matrix with this trace and size.
inline double diagonal_shift(const regularization& reg, double trace, std::size_t m) {
    return reg.absolute ? reg.diag_reg : reg.diag_reg * trace / static_cast<double>(m);
}

namespace detail {
inline void require_square(const matrix<double>& a, const char* where) {
    require_shape(a, any_size, any_size, where, "matrix");
    require<shape_error>(a.shape()[0] == a.shape()[1] && a.shape()[0] > 0, where, ": the matrix must be square and non-empty, got ",
                         a.shape()[0], " x ", a.shape()[1]);
}
inline double trace(const matrix<double>& a) {
    double t = 0;
    for (std::size_t i = 0; i < a.shape()[0]; ++i) t += a(i, i);
    return t;
}
inline void add_to_diagonal(matrix<double>& a, double shift) {
    for (std::size_t i = 0; i < a.shape()[0]; ++i) a(i, i) += shift;
}
}  // namespace detail

// The Cholesky factor of a symmetric positive definite matrix (A = L·Lᵀ), with solves for one or many right-hand sides.
class cholesky_factor {
public:
    // Factorises A + shift·I (see regularization). Breakdown -> numerical_error saying how to regularise.
    explicit cholesky_factor(matrix<double> a, const regularization& reg = {}) : factor_(std::move(a)) {
        detail::require_square(factor_, "limit::cholesky_factor");
        require_finite(factor_, "limit::cholesky_factor", "matrix");
        const std::size_t m = factor_.shape()[0];
        const double trace = detail::trace(factor_);
        shift_ = diagonal_shift(reg, trace, m);
        detail::add_to_diagonal(factor_, shift_);
        // Row-major storage of a symmetric matrix is its column-major transpose: ask LAPACK for 'U', which is our lower.
        const int n = static_cast<int>(m);
        int info = 0;
        detail::lapack::dpotrf_("U", &n, factor_.data(), &n, &info);
        if (info != 0) {
            const double mean_diag = trace / static_cast<double>(m);
            fail<numerical_error>("limit::cholesky_factor: the ", m, " x ", m, " matrix is not positive definite (LAPACK dpotrf ",
                                  info > 0 ? "broke down at pivot " : "failed with info ", info, ", diagonal shift tried ",
                                  shift_, ", mean diagonal ", mean_diag,
                                  "). Regularise it: pass regularization{.diag_reg = 1e-6} (relative to the mean diagonal) or "
                                  "larger, or check the kernel for duplicated inputs");
        }
        for (std::size_t i = 0; i < m; ++i)
            for (std::size_t j = i + 1; j < m; ++j) factor_(i, j) = 0.0;
    }

    std::size_t size() const { return factor_.shape()[0]; }
    double shift() const { return shift_; }
    // The lower-triangular L (row-major).
    const matrix<double>& lower() const { return factor_; }

    // X = A⁻¹ B for B of shape m×k.
    matrix<double> solve(const matrix<double>& b) const {
        require_shape(b, size(), any_size, "limit::cholesky_factor::solve", "right-hand side");
        require_finite(b, "limit::cholesky_factor::solve", "right-hand side");
        const int n = static_cast<int>(size()), k = static_cast<int>(b.shape()[1]);
        // LAPACK wants column-major B: solve on the transpose copy.
        matrix<double> bt = xt::transpose(b);
        int info = 0;
        if (k > 0) detail::lapack::dpotrs_("U", &n, &k, factor_.data(), &n, bt.data(), &n, &info);
        require<numerical_error>(info == 0, "limit::cholesky_factor::solve: LAPACK dpotrs failed with info ", info);
        return xt::transpose(bt);
    }
    vector<double> solve(const vector<double>& b) const {
        require_finite(b, "limit::cholesky_factor::solve", "right-hand side");
        require<shape_error>(b.size() == size(), "limit::cholesky_factor::solve: right-hand side must have ", size(),
                             " entries, got ", b.size());
        vector<double> x = b;
        const int n = static_cast<int>(size()), one = 1;
        int info = 0;
        detail::lapack::dpotrs_("U", &n, &one, factor_.data(), &n, x.data(), &n, &info);
        require<numerical_error>(info == 0, "limit::cholesky_factor::solve: LAPACK dpotrs failed with info ", info);
        return x;
    }
    // log det(A + shift·I).
    double log_det() const {
        double s = 0;
        for (std::size_t i = 0; i < size(); ++i) s += std::log(factor_(i, i));
        return 2 * s;
    }

private:
    matrix<double> factor_;
    double shift_ = 0;
};

// Symmetric eigendecomposition A = V diag(λ) Vᵀ, eigenvalues ascending, eigenvectors in the columns of V.
struct eigh_result {
    vector<double> values;
    matrix<double> vectors;
};

inline eigh_result eigh(matrix<double> a, const regularization& reg = {}) {
    detail::require_square(a, "limit::eigh");
    require_finite(a, "limit::eigh", "matrix");
    const std::size_t m = a.shape()[0];
    detail::add_to_diagonal(a, diagonal_shift(reg, detail::trace(a), m));
    const int n = static_cast<int>(m);
    eigh_result out;
    out.values = xt::empty<double>({m});
    int info = 0, lwork = -1, liwork = -1, iwork_query = 0;
    double work_query = 0;
    // symmetric: row-major 'L' = column-major 'U'; the eigenvectors come back as rows (column-major columns)
    detail::lapack::dsyevd_("V", "U", &n, a.data(), &n, out.values.data(), &work_query, &lwork, &iwork_query, &liwork, &info);
    require<numerical_error>(info == 0, "limit::eigh: LAPACK dsyevd workspace query failed with info ", info);
    lwork = static_cast<int>(work_query);
    liwork = iwork_query;
    std::vector<double> work(static_cast<std::size_t>(std::max(lwork, 1)));
    std::vector<int> iwork(static_cast<std::size_t>(std::max(liwork, 1)));
    detail::lapack::dsyevd_("V", "U", &n, a.data(), &n, out.values.data(), work.data(), &lwork, iwork.data(), &liwork, &info);
    require<numerical_error>(info == 0, "limit::eigh: LAPACK dsyevd did not converge (info ", info, ") on the ", m, " x ", m,
                             " matrix");
    out.vectors = xt::transpose(a);
    return out;
}

// Options of the conjugate-gradient solver.
struct cg_options {
    double tolerance = 1e-10;    // stop when ‖b − A x‖ ≤ tolerance · ‖b‖
    std::size_t max_iterations = 0;  // 0: 10·m
    bool throw_on_failure = true;    // false: return the last iterate with converged = false
};

struct cg_result {
    vector<double> x;
    std::size_t iterations = 0;
    double relative_residual = 0;
    bool converged = false;
};

// y = A x, for x and y of length m.
using linear_operator = std::function<void(const double* x, double* y)>;

// Preconditioned conjugate gradients (Hestenes & Stiefel 1952) for SPD A given as an operator. The preconditioner
// applies z = M⁻¹ r (identity when empty). The iteration count grows like √cond(M⁻¹A): pass a preconditioner
// and some diag_reg for kernel matrices.
inline cg_result conjugate_gradient(std::size_t m, const linear_operator& apply, const vector<double>& b,
                                    const linear_operator& preconditioner = {}, const cg_options& opt = {}) {
    require<shape_error>(m > 0 && b.size() == m, "limit::conjugate_gradient: right-hand side must have ", m, " > 0 entries, got ",
                         b.size());
    require_finite(b, "limit::conjugate_gradient", "right-hand side");
    const std::size_t max_it = opt.max_iterations ? opt.max_iterations : 10 * m;
    cg_result out;
    out.x = xt::zeros<double>({m});
    std::vector<double> r(b.begin(), b.end()), z(m), p(m), q(m);
    const auto dot = [m](const std::vector<double>& u, const std::vector<double>& v) {
        double s = 0;
        for (std::size_t i = 0; i < m; ++i) s += u[i] * v[i];
        return s;
    };
    const double bnorm = std::sqrt(dot(r, r));
    if (bnorm == 0) {
        out.converged = true;
        return out;
    }
    const auto precondition = [&] {
        if (preconditioner)
            preconditioner(r.data(), z.data());
        else
            z = r;
    };
    precondition();
    p = z;
    double rz = dot(r, z);
    double rnorm = bnorm;
    for (std::size_t it = 0; it < max_it; ++it) {
        apply(p.data(), q.data());
        const double pq = dot(p, q);
        if (!(pq > 0))
            fail<numerical_error>("limit::conjugate_gradient: the operator is not positive definite (pᵀAp = ", pq, " at iteration ",
                                  it, "); add diag_reg");
        const double alpha = rz / pq;
        for (std::size_t i = 0; i < m; ++i) {
            out.x(i) += alpha * p[i];
            r[i] -= alpha * q[i];
        }
        rnorm = std::sqrt(dot(r, r));
        out.iterations = it + 1;
        if (rnorm <= opt.tolerance * bnorm) break;
        precondition();
        const double rz_new = dot(r, z);
        const double beta = rz_new / rz;
        rz = rz_new;
        for (std::size_t i = 0; i < m; ++i) p[i] = z[i] + beta * p[i];
    }
    out.relative_residual = rnorm / bnorm;
    out.converged = out.relative_residual <= opt.tolerance;
    if (!out.converged && opt.throw_on_failure)
        fail<numerical_error>("limit::conjugate_gradient: no convergence after ", out.iterations, " iterations (relative residual ",
                              out.relative_residual, ", asked ", opt.tolerance,
                              "); raise max_iterations, add diag_reg or use a stronger preconditioner");
    return out;
}

// A dense matrix as an operator (row-major, symmetric or not).
inline linear_operator dense_operator(const matrix<double>& a) {
    return [&a](const double* x, double* y) {
        const std::size_t m = a.shape()[0], n = a.shape()[1];
        for (std::size_t i = 0; i < m; ++i) {
            double s = 0;
            const double* row = a.data() + i * n;
            for (std::size_t j = 0; j < n; ++j) s += row[j] * x[j];
            y[i] = s;
        }
    };
}

// Block-Jacobi preconditioner: the Cholesky factors of the diagonal blocks of A (block edge `block`), given by a
// function that returns block [r0, r1)² of A (already regularised). Much stronger than the plain diagonal on kernel
// matrices, whose strong correlations sit near the diagonal once the data are sorted or clustered.
class block_jacobi {
public:
    block_jacobi(std::size_t m, std::size_t block, const std::function<matrix<double>(std::size_t, std::size_t)>& diagonal_block)
        : m_(m) {
        require(m > 0 && block > 0, "limit::block_jacobi: size and block edge must be positive, got ", m, " and ", block);
        for (std::size_t r = 0; r < m; r += block) {
            const std::size_t r1 = std::min(r + block, m);
            starts_.push_back(r);
            factors_.emplace_back(diagonal_block(r, r1));
        }
    }
    void operator()(const double* x, double* y) const {
        for (std::size_t b = 0; b < factors_.size(); ++b) {
            const std::size_t r = starts_[b], n = factors_[b].size();
            vector<double> rhs = xt::empty<double>({n});
            std::copy(x + r, x + r + n, rhs.begin());
            const vector<double> z = factors_[b].solve(rhs);
            std::copy(z.begin(), z.end(), y + r);
        }
    }
    std::size_t size() const { return m_; }

private:
    std::size_t m_;
    std::vector<std::size_t> starts_;
    std::vector<cholesky_factor> factors_;
};

}  // namespace widenn::limit
