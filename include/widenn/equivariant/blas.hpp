#pragma once
// Row-major GEMM on raw buffers for the im2col layers (OpenBLAS through CBLAS); float and double.
#include <cblas.h>

#include <algorithm>
#include <cstddef>
#include <type_traits>

namespace widenn::equivariant::detail {

// C = alpha · op(A) · op(B) + beta · C with op(A) m×k, op(B) k×n, all row major.
template <class T>
void gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, T alpha, const T* a, const T* b, T beta, T* c) {
    static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "widenn::equivariant: layers support float and double");
    const auto ta = trans_a ? CblasTrans : CblasNoTrans, tb = trans_b ? CblasTrans : CblasNoTrans;
    const int lda = static_cast<int>(std::max<std::size_t>(1, trans_a ? m : k));
    const int ldb = static_cast<int>(std::max<std::size_t>(1, trans_b ? k : n)), ldc = static_cast<int>(n);
    if (m == 0 || n == 0) return;
    if constexpr (std::is_same_v<T, float>)
        cblas_sgemm(CblasRowMajor, ta, tb, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), alpha, a, lda, b, ldb, beta, c, ldc);
    else
        cblas_dgemm(CblasRowMajor, ta, tb, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), alpha, a, lda, b, ldb, beta, c, ldc);
}

}  // namespace widenn::equivariant::detail
