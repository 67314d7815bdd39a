// geometry/cka.hpp: invariances of CKA (orthogonal maps and isotropic scaling), non-invariance to a general linear map,
// closed forms computed by hand, agreement of the feature-space, streamed-Gram and dense-Gram paths, the debiased HSIC's
// unbiasedness by Monte Carlo (and the biased one's bias), and errors.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include <xtensor/xview.hpp>

#include <widenn/core/rng.hpp>
#include <widenn/geometry/cka.hpp>
#include <widenn/limit/predict.hpp>

#include "random_orthogonal.hpp"

namespace wn = widenn;
namespace geo = widenn::geometry;
using geo::hsic_estimator;
using wn::matrix;
using widenn_test::dot;
using widenn_test::orthogonal;

namespace {

matrix<double> gram(const matrix<double>& x) { return dot(x, xt::transpose(x)); }

// f applied entrywise with the standard library (xtensor's math functions go through xsimd, whose sin kernel trips
// GCC 12's -Wmaybe-uninitialized in the sanitizer build).
template <class F>
matrix<double> map(matrix<double> m, F f) {
    for (auto& v : m) v = f(v);
    return m;
}

}  // namespace

TEST_CASE("CKA(X, s·X·Q) = 1 for a scalar s and an orthogonal Q, for every estimator and kernel") {
    const matrix<double> x = wn::normal_matrix(40, 6, 1);
    const matrix<double> y = -3.5 * dot(x, orthogonal(6, 2)) + 7.0;  // also a translation: CKA centres
    for (auto est : {hsic_estimator::biased, hsic_estimator::debiased}) {
        CHECK(geo::linear_cka(x, y, est) == doctest::Approx(1.0).epsilon(1e-12));
        CHECK(geo::kernel_cka(x, y, geo::kernel_spec{.kind = geo::kernel_kind::linear}, est) == doctest::Approx(1.0).epsilon(1e-12));
        // RBF with the median heuristic: σ scales with the data, so the Gram matrices are equal
        CHECK(geo::kernel_cka(x, y, geo::kernel_spec{.kind = geo::kernel_kind::rbf, .median_fraction = 0.5}, est) ==
              doctest::Approx(1.0).epsilon(1e-10));
    }
    // a rotation into more dimensions (X padded with zero columns, then rotated) is still orthogonal
    matrix<double> padded = xt::zeros<double>({40, 9});
    xt::view(padded, xt::all(), xt::range(0, 6)) = x;
    CHECK(geo::linear_cka(x, dot(padded, orthogonal(9, 3))) == doctest::Approx(1.0).epsilon(1e-12));
}

TEST_CASE("CKA changes under a general (non-orthogonal, anisotropic) linear map") {
    const matrix<double> x = wn::normal_matrix(60, 4, 4);
    matrix<double> a = xt::zeros<double>({4, 4});
    a(0, 0) = 10, a(1, 1) = 1, a(2, 2) = 0.1, a(3, 3) = 0.1, a(0, 1) = 3;
    const double c = geo::linear_cka(x, dot(x, a));
    CHECK(c < 0.9);
    CHECK(c > 0.0);
    // an isotropic scale is not such a map
    CHECK(geo::linear_cka(x, 0.001 * x) == doctest::Approx(1.0).epsilon(1e-12));
}

TEST_CASE("linear CKA equals closed forms computed by hand") {
    // 1-D: x = (0, 1, 2), y = (0, 0, 1): centred (-1, 0, 1) and (-1/3, -1/3, 2/3); CKA = (x·y)² / (|x|²|y|²) = 1 / (2 · 2/3) = 3/4
    const matrix<double> x{{0.0}, {1.0}, {2.0}}, y{{0.0}, {0.0}, {1.0}};
    CHECK(geo::linear_cka(x, y) == doctest::Approx(0.75).epsilon(1e-14));
    // 2-D against 1-D: XᵀX = 2I (‖·‖_F = √8), YᵀY = 2, XᵀY = (2, 0): CKA = 4 / (√8 · 2) = 1/√2
    const matrix<double> x2{{1.0, 0.0}, {-1.0, 0.0}, {0.0, 1.0}, {0.0, -1.0}}, y2{{1.0}, {-1.0}, {0.0}, {0.0}};
    CHECK(geo::linear_cka(x2, y2) == doctest::Approx(1.0 / std::sqrt(2.0)).epsilon(1e-14));
    // the same through Gram matrices
    CHECK(geo::cka_from_grams(gram(x2), gram(y2)) == doctest::Approx(1.0 / std::sqrt(2.0)).epsilon(1e-14));
    // biased HSIC = tr(KHLH)/(N-1)²: for the 1-D case tr = (x·y)² = 1, (N-1)² = 4
    CHECK(geo::hsic(gram(x), gram(y)) == doctest::Approx(0.25).epsilon(1e-14));
    // debiased HSIC on N = 4 by hand: x = (1, -1, 0, 0) = y: K̃ = L̃ has off-diagonal entries K12 = K21 = -1 only,
    // tr(K̃L̃) = 2, 1ᵀK̃1 = -2, 1ᵀK̃L̃1 = |K̃1|² = 2 → [2 + 4/6 - 2/2·2] / (4·1) = (2/3)/4 = 1/6
    CHECK(geo::hsic(gram(y2), gram(y2), hsic_estimator::debiased) == doctest::Approx(1.0 / 6.0).epsilon(1e-14));
}

TEST_CASE("feature-space, streamed-Gram and dense-Gram linear CKA agree, for both estimators") {
    const matrix<double> x = wn::normal_matrix(50, 7, 5) + 2.0;
    const matrix<double> y = map(dot(x, wn::normal_matrix(7, 3, 6)), [](double v) { return std::tanh(v); });
    for (auto est : {hsic_estimator::biased, hsic_estimator::debiased}) {
        const double features = geo::linear_cka(x, y, est);  // 7 + 3 <= 50: feature space
        const double streamed = geo::kernel_cka(x, y, geo::kernel_spec{}, est);
        const double dense = geo::cka_from_grams(gram(x), gram(y), est);
        CHECK(features == doctest::Approx(dense).epsilon(1e-12));
        CHECK(streamed == doctest::Approx(dense).epsilon(1e-12));
    }
    // more features than rows takes the Gram path
    const matrix<double> wide_x = wn::normal_matrix(8, 20, 7), wide_y = wn::normal_matrix(8, 30, 8);
    CHECK(geo::linear_cka(wide_x, wide_y) == doctest::Approx(geo::cka_from_grams(gram(wide_x), gram(wide_y))).epsilon(1e-12));
    // streaming over several row blocks (N = 1500: blocks of 699 rows) matches the dense Gram computation
    const matrix<double> bx = wn::normal_matrix(1500, 3, 9), by = map(bx, [](double v) { return std::sin(v); }) + 0.1 * wn::normal_matrix(1500, 3, 10);
    const geo::kernel_spec rbf{.kind = geo::kernel_kind::rbf, .sigma = 1.3};
    const matrix<double> kx = map([&] {
        matrix<double> d2 = matrix<double>::from_shape({1500, 1500});
        for (std::size_t i = 0; i < 1500; ++i)
            for (std::size_t j = 0; j < 1500; ++j) {
                double s = 0;
                for (std::size_t k = 0; k < 3; ++k) s += (bx(i, k) - bx(j, k)) * (bx(i, k) - bx(j, k));
                d2(i, j) = s;
            }
        return d2;
    }(), [](double v) { return std::exp(-0.5 / (1.3 * 1.3) * v); });
    CHECK(geo::kernel_cka(bx, by, rbf, geo::kernel_spec{}, hsic_estimator::debiased) ==
          doctest::Approx(geo::cka_from_grams(kx, gram(by), hsic_estimator::debiased)).epsilon(1e-9));
}

TEST_CASE("debiased HSIC is unbiased (Monte Carlo), the biased estimator is not") {
    // x ~ N(0, 1), y = ρx + √(1-ρ²) z: with linear kernels the population HSIC is ‖Cov(x, y)‖² = ρ².
    // N = 8 rows per sample, R samples; tolerance 4 standard errors of the sample mean (sd measured from the samples).
    const double rho = 0.6, target = rho * rho;
    const std::size_t n = 8, reps = 20000;
    wn::rng gen(11);
    double sum1 = 0, sq1 = 0, sum0 = 0, sq0 = 0;
    matrix<double> x = matrix<double>::from_shape({n, 1}), y = matrix<double>::from_shape({n, 1});
    for (std::size_t r = 0; r < reps; ++r) {
        for (std::size_t i = 0; i < n; ++i) {
            x(i, 0) = gen.normal();
            y(i, 0) = rho * x(i, 0) + std::sqrt(1 - rho * rho) * gen.normal();
        }
        const matrix<double> k = gram(x), l = gram(y);
        const double h1 = geo::hsic(k, l, hsic_estimator::debiased), h0 = geo::hsic(k, l, hsic_estimator::biased);
        sum1 += h1, sq1 += h1 * h1, sum0 += h0, sq0 += h0 * h0;
    }
    const double r = static_cast<double>(reps);
    const double mean1 = sum1 / r, se1 = std::sqrt((sq1 / r - mean1 * mean1) / r);
    const double mean0 = sum0 / r, se0 = std::sqrt((sq0 / r - mean0 * mean0) / r);
    CHECK(std::abs(mean1 - target) < 4 * se1);
    CHECK(std::abs(mean0 - target) > 4 * se0);  // the biased estimator misses ρ² by O(1/N)
}

TEST_CASE("CKA errors: mismatched rows, too few rows, constant representations, bad kernels") {
    const matrix<double> x = wn::normal_matrix(10, 3, 12);
    CHECK_THROWS_AS(geo::linear_cka(x, wn::normal_matrix(9, 3, 13)), wn::shape_error);
    CHECK_THROWS_WITH(geo::linear_cka(x, wn::normal_matrix(9, 3, 13)),
                      doctest::Contains("geometry::linear_cka: X and Y must have the same number of rows"));
    CHECK_THROWS_AS(geo::linear_cka(matrix<double>{{1.0}, {2.0}, {3.0}}, matrix<double>{{1.0}, {2.0}, {4.0}}, hsic_estimator::debiased),
                    wn::shape_error);
    CHECK_THROWS_AS(geo::linear_cka(x, xt::ones<double>({10, 2})), wn::numerical_error);
    matrix<double> bad = x;
    bad(2, 1) = std::nan("");
    CHECK_THROWS_WITH(geo::linear_cka(bad, x), doctest::Contains("non-finite"));
    CHECK_THROWS_AS(geo::kernel_cka(x, x, geo::kernel_spec{.kind = geo::kernel_kind::rbf, .sigma = -1.0}), wn::error);
    CHECK_THROWS_AS(geo::hsic(x, x), wn::shape_error);  // not square
}
