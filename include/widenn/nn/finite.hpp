#pragma once
// Small checks shared by the networks, losses and optimisers of nn/: buffers that are reshaped only when their shape
// changes, and finiteness by a fast sum of squares (the slow scan that names the bad entry runs only when it fails).
#include <cmath>
#include <cstddef>
#include <limits>

#include "../core/errors.hpp"
#include "../core/tensor.hpp"

namespace widenn::nn::detail {

// Allocate `m` as rows x cols unless it already has that shape (so steady-state steps allocate nothing).
template <class T>
void ensure_shape(matrix<T>& m, std::size_t rows, std::size_t cols) {
    if (m.shape(0) != rows || m.shape(1) != cols) m = matrix<T>::from_shape({rows, cols});
}

// Lane width for the blocked loops below: one 64-byte line of T. Independent lanes let the compiler
// vectorise the accumulations without reassociating floating-point sums (no -ffast-math needed).
template <class T>
inline constexpr std::size_t lanes = 64 / sizeof(T);

// Σ p_i² in T lanes: NaN or ±inf when an entry is not finite (or the sum overflows T).
template <class T>
double sum_of_squares_fast(const T* p, std::size_t n) {
    constexpr std::size_t W = lanes<T>;
    T acc[W] = {};
    const std::size_t full = n - n % W;
    for (std::size_t i = 0; i < full; i += W)
        for (std::size_t j = 0; j < W; ++j) acc[j] += p[i + j] * p[i + j];
    double total = 0;
    for (std::size_t i = full; i < n; ++i) total += static_cast<double>(p[i] * p[i]);
    for (std::size_t j = 0; j < W; ++j) total += static_cast<double>(acc[j]);
    return total;
}

// Throws (naming `where`, the first bad entry and its index) unless every entry of m is finite.
// Returns ‖m‖_F², or +inf if that overflows; the fast pass decides whether the slow one is needed.
template <class M>
double require_finite_squared_norm(const M& m, const char* where, const char* what) {
    const double total = sum_of_squares_fast(m.data(), m.size());
    if (std::isfinite(total)) return total;
    require_finite(m, where, what);
    return std::numeric_limits<double>::infinity();
}

}  // namespace widenn::nn::detail
