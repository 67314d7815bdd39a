#pragma once
// Row-major GEMM on raw, contiguous buffers for the im2col layers; float and double.
#include <algorithm>
#include <cstddef>

#include "../core/blas.hpp"

namespace widenn::equivariant::detail {

// C = alpha · op(A) · op(B) + beta · C with op(A) m×k, op(B) k×n, all row major and contiguous.
template <class T>
void gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, T alpha, const T* a, const T* b, T beta, T* c) {
    const std::size_t lda = std::max<std::size_t>(1, trans_a ? m : k), ldb = std::max<std::size_t>(1, trans_b ? k : n);
    blas::gemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, n);
}

}  // namespace widenn::equivariant::detail
