#pragma once
// Thin, typed wrappers over the CBLAS routines the networks use (row-major throughout).
// Kept in one place so that float and double dispatch the same way in the network, the
// empirical NTK and the benchmarks.
#include <cblas.h>

#include <cstddef>
#include <type_traits>

namespace widenn::nn::blas {

// C = alpha · op(A) · op(B) + beta · C, row-major; op(X) = X or Xᵀ.
template <class T>
void gemm(bool transpose_a, bool transpose_b, std::size_t m, std::size_t n, std::size_t k, T alpha, const T* a, std::size_t lda,
          const T* b, std::size_t ldb, T beta, T* c, std::size_t ldc) {
    static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>,
                  "widenn::nn: networks run on float or double (BLAS single or double precision)");
    const auto ta = transpose_a ? CblasTrans : CblasNoTrans;
    const auto tb = transpose_b ? CblasTrans : CblasNoTrans;
    const auto im = static_cast<blasint>(m), in = static_cast<blasint>(n), ik = static_cast<blasint>(k);
    if constexpr (std::is_same_v<T, float>)
        cblas_sgemm(CblasRowMajor, ta, tb, im, in, ik, alpha, a, static_cast<blasint>(lda), b, static_cast<blasint>(ldb), beta, c,
                    static_cast<blasint>(ldc));
    else
        cblas_dgemm(CblasRowMajor, ta, tb, im, in, ik, alpha, a, static_cast<blasint>(lda), b, static_cast<blasint>(ldb), beta, c,
                    static_cast<blasint>(ldc));
}

// y = alpha · x + y.
template <class T>
void axpy(std::size_t n, T alpha, const T* x, T* y) {
    if constexpr (std::is_same_v<T, float>)
        cblas_saxpy(static_cast<blasint>(n), alpha, x, 1, y, 1);
    else
        cblas_daxpy(static_cast<blasint>(n), alpha, x, 1, y, 1);
}

}  // namespace widenn::nn::blas
