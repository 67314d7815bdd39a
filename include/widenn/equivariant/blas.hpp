#pragma once
// Row-major GEMM on raw, contiguous buffers for the im2col layers; float and double. And the one way these layers
// use threads: parallel_for, over images or over batch samples.
#include <algorithm>
#include <cstddef>

#ifdef WIDENN_USE_OPENMP
#include <omp.h>
#endif

#include "../core/blas.hpp"

namespace widenn::equivariant::detail {

// C = alpha · op(A) · op(B) + beta · C with op(A) m×k, op(B) k×n, all row major and contiguous.
template <class T>
void gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, T alpha, const T* a, const T* b, T beta, T* c) {
    const std::size_t lda = std::max<std::size_t>(1, trans_a ? m : k), ldb = std::max<std::size_t>(1, trans_b ? k : n);
    blas::gemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, n);
}

// The OpenMP threads a parallel_for over `count` items uses: 1 without OpenMP or with fewer items than threads.
inline int threads_for(std::size_t count) {
#ifdef WIDENN_USE_OPENMP
    const int available = omp_get_max_threads();
    return count >= static_cast<std::size_t>(available) ? available : 1;
#else
    (void)count;
    return 1;
#endif
}

// body(thread, i) for i in [0, count), statically split over threads_for(count) threads (so the split, and any
// per-thread accumulation, is the same from run to run). BLAS runs single-threaded inside when the loop is parallel:
// one image's GEMM is too small to split well, and two thread pools would fight for the cores. With a single item
// (evaluation of one image) the loop runs on the calling thread and BLAS keeps its threads.
template <class Body>
void parallel_for(std::size_t count, Body&& body) {
    const int threads = threads_for(count);
    if (threads == 1) {
        for (std::size_t i = 0; i < count; ++i) body(0, i);
        return;
    }
    blas::single_threaded_scope guard;
#ifdef WIDENN_USE_OPENMP
#pragma omp parallel for schedule(static) num_threads(threads)
    for (long i = 0; i < static_cast<long>(count); ++i) body(omp_get_thread_num(), static_cast<std::size_t>(i));
#endif
}

}  // namespace widenn::equivariant::detail
