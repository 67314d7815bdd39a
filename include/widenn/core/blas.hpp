#pragma once
// BLAS for every hot path of widenn, row-major, float and double.
//
// The CBLAS declarations come from the ones xtensor-blas ships (xflens), not from <cblas.h>:
// the two sets declare the same C functions with different enum types, so a program could not
// include both xtensor-blas and widenn if widenn used <cblas.h>. Programs that use widenn call
// BLAS through this header only.
#include <complex>  // xflens's driver header uses std::complex and <type_traits> without including them
#include <cstddef>
#include <type_traits>

#include <xtensor-blas/xblas_config.hpp>
#include <xflens/cxxblas/drivers/drivers.h>
#include <xtensor/xtensor.hpp>

#include "errors.hpp"

namespace widenn::blas {

extern "C" {
// OpenBLAS's thread control, declared weak so that another BLAS still links (the calls are then skipped).
void openblas_set_num_threads(int) __attribute__((weak));
int openblas_get_num_threads(void) __attribute__((weak));
}

// The number of threads OpenBLAS uses (1 when the BLAS is not OpenBLAS).
inline int threads() { return openblas_get_num_threads ? openblas_get_num_threads() : 1; }
// Sets OpenBLAS's thread count (no effect with another BLAS).
inline void set_threads(int count) {
    if (openblas_set_num_threads) openblas_set_num_threads(count);
}

// While alive, OpenBLAS runs single-threaded: for phases that parallelise over blocks with OpenMP,
// where OpenBLAS's own spinning pthreads would compete for the cores.
class single_threaded_scope {
public:
    single_threaded_scope() : saved_(threads()) { set_threads(1); }
    ~single_threaded_scope() { set_threads(saved_); }
    single_threaded_scope(const single_threaded_scope&) = delete;
    single_threaded_scope& operator=(const single_threaded_scope&) = delete;

private:
    int saved_;
};

template <class T>
inline constexpr bool is_blas_real = std::is_same_v<T, float> || std::is_same_v<T, double>;

// C = alpha · op(A) · op(B) + beta · C, row-major, op(A) m×k, op(B) k×n; op(X) = X or Xᵀ.
template <class T>
void gemm(bool transpose_a, bool transpose_b, std::size_t m, std::size_t n, std::size_t k, T alpha, const T* a, std::size_t lda,
          const T* b, std::size_t ldb, T beta, T* c, std::size_t ldc) {
    static_assert(is_blas_real<T>, "widenn::blas: BLAS runs on float or double");
    if (m == 0 || n == 0) return;
    const auto ta = transpose_a ? CblasTrans : CblasNoTrans;
    const auto tb = transpose_b ? CblasTrans : CblasNoTrans;
    const auto i = [](std::size_t v) { return static_cast<CBLAS_INT>(v); };
    if constexpr (std::is_same_v<T, float>)
        cblas_sgemm(CblasRowMajor, ta, tb, i(m), i(n), i(k), alpha, a, i(lda), b, i(ldb), beta, c, i(ldc));
    else
        cblas_dgemm(CblasRowMajor, ta, tb, i(m), i(n), i(k), alpha, a, i(lda), b, i(ldb), beta, c, i(ldc));
}

// The same for contiguous row-major operands: A is stored m×k (k×m when transposed), B k×n (n×k when transposed),
// and C m×n with row stride ldc (0: n, i.e. C contiguous too).
template <class T>
void gemm(bool transpose_a, bool transpose_b, std::size_t m, std::size_t n, std::size_t k, T alpha, const T* a, const T* b, T beta, T* c,
          std::size_t ldc = 0) {
    const std::size_t lda = transpose_a ? m : k, ldb = transpose_b ? k : n;
    gemm(transpose_a, transpose_b, m, n, k, alpha, a, lda > 0 ? lda : 1, b, ldb > 0 ? ldb : 1, beta, c, ldc > 0 ? ldc : (n > 0 ? n : 1));
}

// The same on row-major xtensor matrices: C = alpha·op(A)·op(B) + beta·C, where C already has op(A)·op(B)'s shape.
template <class T>
void gemm(const xt::xtensor<T, 2>& a, const xt::xtensor<T, 2>& b, xt::xtensor<T, 2>& c, bool transpose_a = false, bool transpose_b = false,
          T alpha = T(1), T beta = T(0)) {
    const std::size_t rows = transpose_a ? a.shape()[1] : a.shape()[0], cols = transpose_b ? b.shape()[0] : b.shape()[1];
    const std::size_t inner = transpose_a ? a.shape()[0] : a.shape()[1], inner_b = transpose_b ? b.shape()[1] : b.shape()[0];
    if (inner != inner_b || c.shape()[0] != rows || c.shape()[1] != cols)
        fail<shape_error>("blas::gemm: op(A) is ", rows, " x ", inner, ", op(B) ", inner_b, " x ", cols, " and C ", c.shape()[0], " x ",
                          c.shape()[1], "; expected op(A) m x k, op(B) k x n and C m x n");
    if (rows == 0 || cols == 0) return;
    if (inner == 0) {
        c *= beta;
        return;
    }
    gemm(transpose_a, transpose_b, rows, cols, inner, alpha, a.data(), b.data(), beta, c.data());
}

namespace detail {
// The upper triangle of C = alpha · op(A) · op(A)ᵀ + beta · C, row-major, op(A) n×k.
template <class T>
void syrk_upper_op(bool transpose_a, std::size_t n, std::size_t k, T alpha, const T* a, std::size_t lda, T beta, T* c, std::size_t ldc) {
    static_assert(is_blas_real<T>, "widenn::blas: BLAS runs on float or double");
    if (n == 0) return;
    const auto ta = transpose_a ? CblasTrans : CblasNoTrans;
    const auto i = [](std::size_t v) { return static_cast<CBLAS_INT>(v); };
    if constexpr (std::is_same_v<T, float>)
        cblas_ssyrk(CblasRowMajor, CblasUpper, ta, i(n), i(k), alpha, a, i(lda), beta, c, i(ldc));
    else
        cblas_dsyrk(CblasRowMajor, CblasUpper, ta, i(n), i(k), alpha, a, i(lda), beta, c, i(ldc));
}
}  // namespace detail

// The upper triangle of C = alpha · A · Aᵀ + beta · C, row-major, A n×k.
template <class T>
void syrk_upper(std::size_t n, std::size_t k, T alpha, const T* a, std::size_t lda, T beta, T* c, std::size_t ldc) {
    detail::syrk_upper_op(false, n, k, alpha, a, lda, beta, c, ldc);
}

// The upper triangle of C = alpha · Aᵀ · A + beta · C, row-major, A k×n (C n×n): Gram matrices of columns.
template <class T>
void syrk_upper_transposed(std::size_t n, std::size_t k, T alpha, const T* a, std::size_t lda, T beta, T* c, std::size_t ldc) {
    detail::syrk_upper_op(true, n, k, alpha, a, lda, beta, c, ldc);
}

// Triangular solves with several right-hand sides, in place of B (m×n, row-major): X·op(A) = alpha·B (side::right,
// A n×n) or op(A)·X = alpha·B (side::left, A m×m), A lower or upper triangular, op(A) = A or Aᵀ.
enum class side { left, right };
enum class triangle { lower, upper };
template <class T>
void trsm(side s, triangle t, bool transpose_a, std::size_t m, std::size_t n, T alpha, const T* a, std::size_t lda, T* b,
          std::size_t ldb, bool unit_diagonal = false) {
    static_assert(is_blas_real<T>, "widenn::blas: BLAS runs on float or double");
    if (m == 0 || n == 0) return;
    const auto cs = s == side::left ? CblasLeft : CblasRight;
    const auto ct = t == triangle::lower ? CblasLower : CblasUpper;
    const auto ta = transpose_a ? CblasTrans : CblasNoTrans;
    const auto cd = unit_diagonal ? CblasUnit : CblasNonUnit;
    const auto i = [](std::size_t v) { return static_cast<CBLAS_INT>(v); };
    if constexpr (std::is_same_v<T, float>)
        cblas_strsm(CblasRowMajor, cs, ct, ta, cd, i(m), i(n), alpha, a, i(lda), b, i(ldb));
    else
        cblas_dtrsm(CblasRowMajor, cs, ct, ta, cd, i(m), i(n), alpha, a, i(lda), b, i(ldb));
}

// y = alpha · x + y.
template <class T>
void axpy(std::size_t n, T alpha, const T* x, T* y) {
    static_assert(is_blas_real<T>, "widenn::blas: BLAS runs on float or double");
    if constexpr (std::is_same_v<T, float>)
        cblas_saxpy(static_cast<CBLAS_INT>(n), alpha, x, 1, y, 1);
    else
        cblas_daxpy(static_cast<CBLAS_INT>(n), alpha, x, 1, y, 1);
}

}  // namespace widenn::blas
