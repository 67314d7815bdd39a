// geometry/rsa.hpp: RDM entries by hand, ranks with ties, Pearson and Spearman of RDMs by hand, invariances, the
// streamed rsa() against the dense RDMs, and errors.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include <xtensor/xview.hpp>

#include <widenn/core/rng.hpp>
#include <widenn/geometry/rsa.hpp>

namespace wn = widenn;
namespace geo = widenn::geometry;
using geo::rdm_comparison;
using geo::rdm_metric;
using wn::matrix;

TEST_CASE("RDM entries by hand") {
    const matrix<double> x{{1.0, 2.0, 3.0}, {3.0, 2.0, 1.0}, {2.0, 4.0, 6.0}, {0.0, 0.0, 1.0}};
    const matrix<double> c = geo::rdm(x, rdm_metric::correlation);
    CHECK(c(0, 1) == doctest::Approx(2.0).epsilon(1e-14));  // ρ = -1
    CHECK(std::abs(c(0, 2)) < 1e-14);                       // ρ = 1
    CHECK(c(0, 0) == 0.0);
    // ρ((1,2,3), (0,0,1)): centred (-1,0,1), (-1/3,-1/3,2/3): 1 / (√2 · √(2/3)) = √3/2
    CHECK(c(0, 3) == doctest::Approx(1.0 - std::sqrt(3.0) / 2).epsilon(1e-14));
    const matrix<double> e = geo::rdm(x, rdm_metric::euclidean);
    CHECK(e(0, 1) == doctest::Approx(std::sqrt(8.0)).epsilon(1e-14));
    CHECK(e(0, 3) == doctest::Approx(std::sqrt(1.0 + 4.0 + 4.0)).epsilon(1e-14));
    CHECK(xt::amax(xt::abs(e - xt::transpose(e)))() == 0.0);
}

TEST_CASE("ranks with ties and RDM comparisons by hand") {
    CHECK(geo::detail::ranks({3.0, 1.0, 2.0, 2.0}) == std::vector<double>{4.0, 1.0, 2.5, 2.5});
    // upper triangles (1, 2, 3) and (1, 2, 4): Pearson 9/√84, Spearman 1
    const matrix<double> a{{0.0, 1.0, 2.0}, {1.0, 0.0, 3.0}, {2.0, 3.0, 0.0}};
    const matrix<double> b{{0.0, 1.0, 2.0}, {1.0, 0.0, 4.0}, {2.0, 4.0, 0.0}};
    CHECK(geo::compare_rdms(a, b, rdm_comparison::pearson) == doctest::Approx(9.0 / std::sqrt(84.0)).epsilon(1e-14));
    CHECK(geo::compare_rdms(a, b, rdm_comparison::spearman) == doctest::Approx(1.0).epsilon(1e-14));
    // reversed order: Spearman -1
    const matrix<double> c{{0.0, 3.0, 2.0}, {3.0, 0.0, 1.0}, {2.0, 1.0, 0.0}};
    CHECK(geo::compare_rdms(a, c, rdm_comparison::spearman) == doctest::Approx(-1.0).epsilon(1e-14));
}

TEST_CASE("RSA is 1 under rotation, scaling and translation (Euclidean) and under per-row affine maps (correlation)") {
    const matrix<double> x = wn::normal_matrix(30, 5, 1);
    matrix<double> q = xt::zeros<double>({5, 5});  // a permutation with signs: orthogonal
    q(0, 3) = 1, q(1, 0) = -1, q(2, 4) = 1, q(3, 1) = 1, q(4, 2) = -1;
    matrix<double> y = xt::zeros<double>({30, 5});
    for (std::size_t i = 0; i < 30; ++i)
        for (std::size_t j = 0; j < 5; ++j)
            for (std::size_t k = 0; k < 5; ++k) y(i, j) += 2.5 * x(i, k) * q(k, j);
    y += 4.0;
    for (auto how : {rdm_comparison::pearson, rdm_comparison::spearman})
        CHECK(geo::rsa(x, y, {.metric = rdm_metric::euclidean, .comparison = how}) == doctest::Approx(1.0).epsilon(1e-12));
    matrix<double> z = x;
    for (std::size_t i = 0; i < 30; ++i) xt::view(z, i, xt::all()) = (1.0 + static_cast<double>(i)) * xt::view(x, i, xt::all()) - 3.0 * i;
    CHECK(geo::rsa(x, z, {.metric = rdm_metric::correlation, .comparison = rdm_comparison::pearson}) == doctest::Approx(1.0).epsilon(1e-12));
    // unrelated representations: near 0
    CHECK(std::abs(geo::rsa(x, wn::normal_matrix(30, 5, 2))) < 0.3);
}

TEST_CASE("streamed rsa() equals compare_rdms of the dense RDMs (several row blocks)") {
    const matrix<double> x = wn::normal_matrix(1200, 4, 3);
    matrix<double> y = 0.3 * wn::normal_matrix(1200, 4, 4);
    for (std::size_t i = 0; i < y.size(); ++i) y.data()[i] += std::tanh(x.data()[i]);  // std::, not xsimd (see cka.cpp)
    for (auto metric : {rdm_metric::correlation, rdm_metric::euclidean})
        for (auto how : {rdm_comparison::pearson, rdm_comparison::spearman})
            CHECK(geo::rsa(x, y, {.metric = metric, .comparison = how}) ==
                  doctest::Approx(geo::compare_rdms(geo::rdm(x, metric), geo::rdm(y, metric), how)).epsilon(1e-11));
}

TEST_CASE("RSA errors") {
    const matrix<double> x = wn::normal_matrix(6, 3, 5);
    CHECK_THROWS_AS(geo::rsa(x, wn::normal_matrix(5, 3, 6)), wn::shape_error);
    matrix<double> r = geo::rdm(x);
    matrix<double> asym = r;
    asym(0, 1) += 0.5;
    CHECK_THROWS_WITH(geo::compare_rdms(asym, r), doctest::Contains("symmetric"));
    matrix<double> diag = r;
    diag(2, 2) = 0.1;
    CHECK_THROWS_WITH(geo::compare_rdms(r, diag), doctest::Contains("zero diagonal"));
    CHECK_THROWS_AS(geo::compare_rdms(r, geo::rdm(wn::normal_matrix(5, 3, 7))), wn::shape_error);
    matrix<double> flat = x;
    xt::view(flat, 4, xt::all()) = 2.0;
    CHECK_THROWS_WITH(geo::rdm(flat), doctest::Contains("row 4 of X is constant"));
    CHECK_THROWS_AS(geo::compare_rdms(xt::zeros<double>({4, 4}), geo::rdm(wn::normal_matrix(4, 3, 8))), wn::numerical_error);
}
