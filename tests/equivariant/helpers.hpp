#pragma once
// Shared helpers of the equivariant suite: random tensors and a central-difference gradient check.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <string>

#include <xtensor/xtensor.hpp>

#include <widenn/core/rng.hpp>

namespace test_helpers {

template <class T, std::size_t N>
xt::xtensor<T, N> random_tensor(const std::array<std::size_t, N>& shape, std::uint64_t seed) {
    xt::xtensor<T, N> out = xt::empty<T>(shape);
    widenn::rng r(seed);
    for (auto& v : out) v = static_cast<T>(r.normal());
    return out;
}

// Compares analytic[i] with the central difference (loss(v+h) − loss(v−h)) / 2h at up to 12 indices spread over
// the buffer. The truncation error is O(h²) and the round-off O(ε|loss|/h); with h = 1e-5 both are far below
// the tolerance 1e-6 (relative to the larger of the gradient's size and 1).
template <class Loss>
void check_gradient(Loss&& loss, double* values, const double* analytic, std::size_t size, const std::string& what) {
    const std::size_t checks = std::min<std::size_t>(size, 12);
    const double h = 1e-5;
    for (std::size_t n = 0; n < checks; ++n) {
        const std::size_t i = (n * 7919) % size;
        const double saved = values[i];
        values[i] = saved + h;
        const double up = loss();
        values[i] = saved - h;
        const double down = loss();
        values[i] = saved;
        const double numeric = (up - down) / (2 * h);
        INFO(what, " index ", i, ": analytic ", analytic[i], ", numeric ", numeric);
        CHECK(std::abs(numeric - analytic[i]) <= 1e-6 * std::max(1.0, std::abs(numeric)));
    }
}

}  // namespace test_helpers
