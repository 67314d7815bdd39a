#pragma once
// The one way widenn uses threads: parallel_for over independent items (images, samples, kernel strips), with OpenMP
// when the library is built with WIDENN_USE_OPENMP and on the calling thread otherwise. Inside a parallel loop BLAS
// runs single-threaded (blas::single_threaded_scope), so only one thread pool competes for the cores.
#include <cstddef>

#ifdef WIDENN_USE_OPENMP
#include <omp.h>
#endif

#include "blas.hpp"

namespace widenn {

// The OpenMP default thread count (1 without OpenMP).
inline int max_threads() {
#ifdef WIDENN_USE_OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

// The threads a parallel_for over `count` items uses: 1 without OpenMP or with fewer items than threads.
inline int threads_for(std::size_t count) {
    const int available = max_threads();
    return count >= static_cast<std::size_t>(available) ? available : 1;
}

// body(thread, i) for i in [0, count), statically split over threads_for(count) threads (so the split, and any
// per-thread accumulation, is the same from run to run). BLAS runs single-threaded inside when the loop is parallel;
// with a single thread the loop runs on the calling thread and BLAS keeps its threads.
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

// body(thread, i) for i in [0, count) on `threads` threads (0: max_threads()), items handed out one at a time
// (for items of unequal cost, longest first); thread 0 is the calling thread. BLAS runs single-threaded inside.
template <class Body>
void parallel_for_dynamic(std::size_t count, int threads, Body&& body) {
    blas::single_threaded_scope guard;
#ifdef WIDENN_USE_OPENMP
    const int used = threads > 0 ? threads : max_threads();
#pragma omp parallel for schedule(dynamic, 1) num_threads(used)
    for (long i = 0; i < static_cast<long>(count); ++i) body(omp_get_thread_num(), static_cast<std::size_t>(i));
#else
    (void)threads;
    for (std::size_t i = 0; i < count; ++i) body(0, i);
#endif
}

}  // namespace widenn
