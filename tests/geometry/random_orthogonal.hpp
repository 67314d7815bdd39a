#pragma once
// Test matrices shared by the geometry suites: products through the library's BLAS path and random rotations.
#include <cmath>
#include <cstdint>

#include <widenn/core/rng.hpp>
#include <widenn/limit/predict.hpp>

namespace widenn_test {

inline widenn::matrix<double> dot(const widenn::matrix<double>& a, const widenn::matrix<double>& b) {
    return widenn::limit::detail::matmul(a, b);
}

// A d x d orthogonal matrix: Gram–Schmidt on the columns of a Gaussian matrix.
inline widenn::matrix<double> orthogonal(std::size_t d, std::uint64_t seed) {
    widenn::matrix<double> q = widenn::normal_matrix(d, d, seed);
    for (std::size_t j = 0; j < d; ++j) {
        for (std::size_t k = 0; k < j; ++k) {
            double p = 0;
            for (std::size_t i = 0; i < d; ++i) p += q(i, j) * q(i, k);
            for (std::size_t i = 0; i < d; ++i) q(i, j) -= p * q(i, k);
        }
        double n = 0;
        for (std::size_t i = 0; i < d; ++i) n += q(i, j) * q(i, j);
        for (std::size_t i = 0; i < d; ++i) q(i, j) /= std::sqrt(n);
    }
    return q;
}

}  // namespace widenn_test
