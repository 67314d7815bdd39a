#pragma once
// Linear algebra for kernel regression: Cholesky and symmetric eigendecomposition through LAPACK
// (OpenBLAS), and a preconditioned conjugate-gradient solver that needs only products A·v, so it runs
// matrix-free over kernel blocks (limit::kernel_operator). Conventions of neural-tangents' predict.py:
// diag_reg is relative to the mean diagonal, tr(A)/m, unless `absolute` is set.
//
// Everything here is a template on the value type T (float or double for the Cholesky factor and eigh, double for CG; the
// names without basic_ are the double forms), so a translation unit that includes this header and does not solve anything
// compiles none of it.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <functional>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "../core/errors.hpp"
#include "../core/tensor.hpp"

namespace widenn::limit {

namespace detail::lapack {
extern "C" {
void spotrf_(const char* uplo, const int* n, float* a, const int* lda, int* info);
void dpotrf_(const char* uplo, const int* n, double* a, const int* lda, int* info);
void spotrs_(const char* uplo, const int* n, const int* nrhs, const float* a, const int* lda, float* b, const int* ldb, int* info);
void dpotrs_(const char* uplo, const int* n, const int* nrhs, const double* a, const int* lda, double* b, const int* ldb,
             int* info);
void ssyevd_(const char* jobz, const char* uplo, const int* n, float* a, const int* lda, float* w, float* work, const int* lwork,
             int* iwork, const int* liwork, int* info);
void dsyevd_(const char* jobz, const char* uplo, const int* n, double* a, const int* lda, double* w, double* work,
             const int* lwork, int* iwork, const int* liwork, int* info);
}

template <class T>
inline constexpr bool is_real = std::is_same_v<T, float> || std::is_same_v<T, double>;

// The typed LAPACK entry points (column-major, as LAPACK has them).
template <class T>
void potrf(const char* uplo, int n, T* a, int lda, int& info) {
    static_assert(is_real<T>, "limit: LAPACK runs on float or double");
    if constexpr (std::is_same_v<T, float>)
        spotrf_(uplo, &n, a, &lda, &info);
    else
        dpotrf_(uplo, &n, a, &lda, &info);
}
template <class T>
void potrs(const char* uplo, int n, int nrhs, const T* a, int lda, T* b, int ldb, int& info) {
    static_assert(is_real<T>, "limit: LAPACK runs on float or double");
    if constexpr (std::is_same_v<T, float>)
        spotrs_(uplo, &n, &nrhs, a, &lda, b, &ldb, &info);
    else
        dpotrs_(uplo, &n, &nrhs, a, &lda, b, &ldb, &info);
}
template <class T>
void syevd(const char* jobz, const char* uplo, int n, T* a, int lda, T* w, T* work, int lwork, int* iwork, int liwork, int& info) {
    static_assert(is_real<T>, "limit: LAPACK runs on float or double");
    if constexpr (std::is_same_v<T, float>)
        ssyevd_(jobz, uplo, &n, a, &lda, w, work, &lwork, iwork, &liwork, &info);
    else
        dsyevd_(jobz, uplo, &n, a, &lda, w, work, &lwork, iwork, &liwork, &info);
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
// matrix<T> and vector<T> with T not deduced from the argument: a template below whose T defaults to double is called as a
// plain function would be, its arguments converting (from any xtensor expression) to matrix<double>.
template <class T>
using fixed_matrix = matrix<std::type_identity_t<T>>;
template <class T>
using fixed_vector = vector<std::type_identity_t<T>>;

template <class T>
void require_square(const matrix<T>& a, const char* where) {
    require_shape(a, any_size, any_size, where, "matrix");
    require<shape_error>(a.shape()[0] == a.shape()[1] && a.shape()[0] > 0, where, ": the matrix must be square and non-empty, got ",
                         a.shape()[0], " x ", a.shape()[1]);
}
// The trace, accumulated in double.
template <class T>
double trace(const matrix<T>& a) {
    double t = 0;
    for (std::size_t i = 0; i < a.shape()[0]; ++i) t += static_cast<double>(a(i, i));
    return t;
}
template <class T>
void add_to_diagonal(matrix<T>& a, double shift) {
    for (std::size_t i = 0; i < a.shape()[0]; ++i) a(i, i) += static_cast<T>(shift);
}
}  // namespace detail

// The Cholesky factor of a symmetric positive definite matrix (A = L·Lᵀ), with solves for one or many right-hand sides.
template <class T = double>
class basic_cholesky_factor {
    static_assert(detail::lapack::is_real<T>, "limit::cholesky_factor: the value type must be float or double");

public:
    using value_type = T;
    // Factorises A + shift·I (see regularization). Breakdown -> numerical_error saying how to regularise.
    explicit basic_cholesky_factor(matrix<T> a, const regularization& reg = {}) : factor_(std::move(a)) {
        detail::require_square(factor_, "limit::cholesky_factor");
        require_finite(factor_, "limit::cholesky_factor", "matrix");
        const std::size_t m = factor_.shape()[0];
        const double trace = detail::trace(factor_);
        shift_ = diagonal_shift(reg, trace, m);
        detail::add_to_diagonal(factor_, shift_);
        // Row-major storage of a symmetric matrix is its column-major transpose: ask LAPACK for 'U', which is our lower.
        const int n = static_cast<int>(m);
        int info = 0;
        detail::lapack::potrf("U", n, factor_.data(), n, info);
        if (info != 0) {
            const double mean_diag = trace / static_cast<double>(m);
            fail<numerical_error>("limit::cholesky_factor: the ", m, " x ", m, " matrix is not positive definite (LAPACK dpotrf ",
                                  info > 0 ? "broke down at pivot " : "failed with info ", info, ", diagonal shift tried ",
                                  shift_, ", mean diagonal ", mean_diag,
                                  "). Regularise it: pass regularization{.diag_reg = 1e-6} (relative to the mean diagonal) or "
                                  "larger, or check the kernel for duplicated inputs");
        }
        for (std::size_t i = 0; i < m; ++i)
            for (std::size_t j = i + 1; j < m; ++j) factor_(i, j) = T(0);
    }

    std::size_t size() const { return factor_.shape()[0]; }
    double shift() const { return shift_; }
    // The lower-triangular L (row-major).
    const matrix<T>& lower() const { return factor_; }

    // X = A⁻¹ B for B of shape m×k.
    matrix<T> solve(const matrix<T>& b) const {
        require_shape(b, size(), any_size, "limit::cholesky_factor::solve", "right-hand side");
        require_finite(b, "limit::cholesky_factor::solve", "right-hand side");
        const int n = static_cast<int>(size()), k = static_cast<int>(b.shape()[1]);
        // LAPACK wants column-major B: solve on the transpose copy.
        matrix<T> bt = xt::transpose(b);
        int info = 0;
        if (k > 0) detail::lapack::potrs("U", n, k, factor_.data(), n, bt.data(), n, info);
        require<numerical_error>(info == 0, "limit::cholesky_factor::solve: LAPACK dpotrs failed with info ", info);
        return xt::transpose(bt);
    }
    vector<T> solve(const vector<T>& b) const {
        require_finite(b, "limit::cholesky_factor::solve", "right-hand side");
        require<shape_error>(b.size() == size(), "limit::cholesky_factor::solve: right-hand side must have ", size(),
                             " entries, got ", b.size());
        vector<T> x = b;
        const int n = static_cast<int>(size());
        int info = 0;
        detail::lapack::potrs("U", n, 1, factor_.data(), n, x.data(), n, info);
        require<numerical_error>(info == 0, "limit::cholesky_factor::solve: LAPACK dpotrs failed with info ", info);
        return x;
    }
    // log det(A + shift·I).
    double log_det() const {
        double s = 0;
        for (std::size_t i = 0; i < size(); ++i) s += std::log(static_cast<double>(factor_(i, i)));
        return 2 * s;
    }

private:
    matrix<T> factor_;
    double shift_ = 0;
};
using cholesky_factor = basic_cholesky_factor<double>;

// Symmetric eigendecomposition A = V diag(λ) Vᵀ, eigenvalues ascending, eigenvectors in the columns of V.
template <class T = double>
struct basic_eigh_result {
    vector<T> values;
    matrix<T> vectors;
};
using eigh_result = basic_eigh_result<double>;

template <class T = double>
basic_eigh_result<T> eigh(detail::fixed_matrix<T> a, const regularization& reg = {}) {
    static_assert(detail::lapack::is_real<T>, "limit::eigh: the value type must be float or double");
    detail::require_square(a, "limit::eigh");
    require_finite(a, "limit::eigh", "matrix");
    const std::size_t m = a.shape()[0];
    detail::add_to_diagonal(a, diagonal_shift(reg, detail::trace(a), m));
    const int n = static_cast<int>(m);
    basic_eigh_result<T> out;
    out.values = xt::empty<T>({m});
    int info = 0, lwork = -1, liwork = -1, iwork_query = 0;
    T work_query = 0;
    // symmetric: row-major 'L' = column-major 'U'; the eigenvectors come back as rows (column-major columns)
    detail::lapack::syevd("V", "U", n, a.data(), n, out.values.data(), &work_query, lwork, &iwork_query, liwork, info);
    require<numerical_error>(info == 0, "limit::eigh: LAPACK dsyevd workspace query failed with info ", info);
    lwork = static_cast<int>(work_query);
    liwork = iwork_query;
    std::vector<T> work(static_cast<std::size_t>(std::max(lwork, 1)));
    std::vector<int> iwork(static_cast<std::size_t>(std::max(liwork, 1)));
    detail::lapack::syevd("V", "U", n, a.data(), n, out.values.data(), work.data(), lwork, iwork.data(), liwork, info);
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
// and some diag_reg for kernel matrices. (A template only so that it is compiled where it is used; T is double.)
template <class T = double>
cg_result conjugate_gradient(std::size_t m, const linear_operator& apply, const detail::fixed_vector<T>& b,
                             const linear_operator& preconditioner = {}, const cg_options& opt = {}) {
    static_assert(std::is_same_v<T, double>, "limit::conjugate_gradient runs in double");
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
template <class T = double>
linear_operator dense_operator(const detail::fixed_matrix<T>& a) {
    static_assert(std::is_same_v<T, double>, "limit::dense_operator: a linear_operator acts on double");
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
template <class T = double>
class basic_block_jacobi {
    static_assert(std::is_same_v<T, double>, "limit::block_jacobi: a linear_operator acts on double");

public:
    basic_block_jacobi(std::size_t m, std::size_t block, const std::function<matrix<T>(std::size_t, std::size_t)>& diagonal_block)
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
            vector<T> rhs = xt::empty<T>({n});
            std::copy(x + r, x + r + n, rhs.begin());
            const vector<T> z = factors_[b].solve(rhs);
            std::copy(z.begin(), z.end(), y + r);
        }
    }
    std::size_t size() const { return m_; }

private:
    std::size_t m_;
    std::vector<std::size_t> starts_;
    std::vector<basic_cholesky_factor<T>> factors_;
};
using block_jacobi = basic_block_jacobi<double>;

}  // namespace widenn::limit
