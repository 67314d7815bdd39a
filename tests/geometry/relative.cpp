// geometry/relative.hpp: cosines by hand, invariance to rotations and scaling (1e-12), anchors by index, anchor
// selection, the infinite-width relative representation (normalised arc-cosine kernel at correlations 0 and 1/2) and a
// random ReLU layer converging to it with error ∝ width^(-1/2); errors.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <set>
#include <vector>

#include <xtensor/xview.hpp>

#include <widenn/act/activations.hpp>
#include <widenn/core/rng.hpp>
#include <widenn/geometry/relative.hpp>
#include <widenn/limit/predict.hpp>
#include <widenn/nn/mlp.hpp>
#include <widenn/param/abc.hpp>

#include "random_orthogonal.hpp"

namespace wn = widenn;
namespace geo = widenn::geometry;
using wn::matrix;
using widenn_test::dot;
using widenn_test::orthogonal;

namespace {

// The degree-1 arc-cosine kernel normalised to 1 on the diagonal (Cho & Saul 2009): (sin θ + (π - θ) cos θ) / π.
double normalised_arccos(double rho) {
    const double theta = std::acos(rho);
    return (std::sin(theta) + (std::numbers::pi - theta) * rho) / std::numbers::pi;
}

// Two unit inputs in R^3 with correlation rho.
matrix<double> pair_with_correlation(double rho) {
    return matrix<double>{{1.0, 0.0, 0.0}, {rho, std::sqrt(1 - rho * rho), 0.0}};
}

}  // namespace

TEST_CASE("relative representation: cosines to the anchors, computed by hand") {
    const matrix<double> e{{3.0, 4.0}, {1.0, 0.0}, {0.0, -2.0}};
    const matrix<double> a{{1.0, 0.0}, {0.0, 1.0}};
    const matrix<double> r = geo::relative(e, a);
    REQUIRE(r.shape()[0] == 3);
    REQUIRE(r.shape()[1] == 2);
    CHECK(r(0, 0) == doctest::Approx(0.6).epsilon(1e-15));
    CHECK(r(0, 1) == doctest::Approx(0.8).epsilon(1e-15));
    CHECK(r(1, 0) == 1.0);
    CHECK(r(2, 1) == -1.0);
    // anchors given as row indices: column j is the cosine to row idx[j]
    const matrix<double> by_index = geo::relative(e, std::vector<std::size_t>{2, 0});
    CHECK(by_index(0, 0) == doctest::Approx(-0.8).epsilon(1e-15));
    CHECK(by_index(0, 1) == doctest::Approx(1.0).epsilon(1e-15));
    CHECK(by_index(2, 0) == doctest::Approx(1.0).epsilon(1e-15));
}

TEST_CASE("relative representations are invariant to rotation and scaling of the latent space (1e-12)") {
    const matrix<double> e = wn::normal_matrix(200, 16, 1);
    const auto anchors = geo::random_anchors(200, 20, 2);
    const matrix<double> r = geo::relative(e, anchors);
    for (double scale : {1e-3, 0.5, 7.0, 1e4}) {
        const matrix<double> moved = scale * dot(e, orthogonal(16, 3));
        CHECK(xt::amax(xt::abs(geo::relative(moved, anchors) - r))() < 1e-12);
    }
    // the absolute coordinates do change
    CHECK(xt::amax(xt::abs(dot(e, orthogonal(16, 3)) - e))() > 0.1);
    // anchors as a matrix of rows give the same result as indices
    matrix<double> a = matrix<double>::from_shape({anchors.size(), 16});
    for (std::size_t j = 0; j < anchors.size(); ++j) xt::view(a, j, xt::all()) = xt::view(e, anchors[j], xt::all());
    CHECK(xt::amax(xt::abs(geo::relative(e, a) - r))() < 1e-15);
}

TEST_CASE("anchor selection: random, farthest-point, class-balanced") {
    const auto r = geo::random_anchors(50, 50, 7);
    CHECK(std::set<std::size_t>(r.begin(), r.end()).size() == 50);
    CHECK(geo::random_anchors(50, 10, 7) == geo::random_anchors(50, 10, 7));
    CHECK(geo::random_anchors(50, 10, 7) != geo::random_anchors(50, 10, 8));
    // points 0, 1, ..., 10 on a line: from 0 the farthest is 10, then 5 (distance 5 to both), then one of 2, 3, 7, 8
    // (each at distance 2 from {0, 5, 10}): the lowest index, 2
    matrix<double> line = xt::zeros<double>({11, 1});
    for (std::size_t i = 0; i < 11; ++i) line(i, 0) = static_cast<double>(i);
    CHECK(geo::farthest_point_anchors(line, 4) == std::vector<std::size_t>{0, 10, 5, 2});
    CHECK_THROWS_WITH(geo::farthest_point_anchors(matrix<double>{{1.0}, {1.0}}, 2), doctest::Contains("distinct"));
    // 10 anchors over 3 classes: 4, 3, 3, each from its class
    std::vector<int> labels;
    for (int i = 0; i < 30; ++i) labels.push_back(i % 3);
    const auto cb = geo::class_balanced_anchors(labels, 10, 9);
    REQUIRE(cb.size() == 10);
    std::vector<int> per_class(3, 0);
    for (auto i : cb) ++per_class[static_cast<std::size_t>(labels[i])];
    CHECK(per_class == std::vector<int>{4, 3, 3});
    CHECK(std::set<std::size_t>(cb.begin(), cb.end()).size() == 10);
    CHECK_THROWS_WITH(geo::class_balanced_anchors(std::vector<int>{0, 0, 0, 1}, 4, 1), doctest::Contains("class 1 has 1 rows"));
}

TEST_CASE("infinite-width relative representation of a ReLU layer: the normalised arc-cosine kernel") {
    using net = wn::nn::mlp<wn::param::ntk, wn::act::relu, 1, double>;
    // the values the issue states, and the closed form
    CHECK(normalised_arccos(0.0) == doctest::Approx(1.0 / std::numbers::pi).epsilon(1e-15));
    CHECK(normalised_arccos(0.5) == doctest::Approx((std::sqrt(3.0) / 2 + std::numbers::pi / 3) / std::numbers::pi).epsilon(1e-15));
    for (double rho : {0.0, 0.5, -0.7}) {
        const matrix<double> x = pair_with_correlation(rho);
        const matrix<double> k = geo::infinite_width_relative<net>(xt::view(x, xt::range(0, 1), xt::all()),
                                                                   xt::view(x, xt::range(1, 2), xt::all()), {.weight_var = 2.0});
        CHECK(k(0, 0) == doctest::Approx(normalised_arccos(rho)).epsilon(1e-12));
    }
    // scale-invariant (ReLU is homogeneous) and independent of weight_var; with a bias it changes
    const matrix<double> x = pair_with_correlation(0.5);
    const matrix<double> k1 = geo::infinite_width_relative<net>(x, x, {.weight_var = 1.0});
    const matrix<double> k2 = geo::infinite_width_relative<net>(3.0 * x, x, {.weight_var = 5.0});
    CHECK(xt::amax(xt::abs(k1 - k2))() < 1e-12);
    CHECK(k1(0, 0) == doctest::Approx(1.0).epsilon(1e-15));
    const matrix<double> kb = geo::infinite_width_relative<net>(x, x, {.weight_var = 1.0, .bias_var = 1.0});
    CHECK(kb(0, 1) > k1(0, 1) + 0.01);
    // deeper networks: the relative representation of the last hidden layer, two ReLU layers: arccos applied twice
    using deep = wn::nn::mlp<wn::param::ntk, wn::act::relu, 2, double>;
    const matrix<double> kd = geo::infinite_width_relative<deep>(x, x, {.weight_var = 2.0});
    CHECK(kd(0, 1) == doctest::Approx(normalised_arccos(normalised_arccos(0.5))).epsilon(1e-12));
}

TEST_CASE("a random ReLU layer's relative representation converges to the limit with error ∝ width^(-1/2)") {
    // Per width n: R seeds of a 1-hidden-layer ReLU network; the cosine between the hidden features of two inputs
    // at correlation ρ; the RMS error against the limit. RMS·√n must be constant within 25 % (the RMS is estimated
    // from R = 300 seeds, relative error ≈ 1/√(2R) = 4 %), and the log-log slope within 0.1 of -1/2.
    using net = wn::nn::mlp<wn::param::ntk, wn::act::relu, 1, double>;
    const std::vector<std::size_t> widths{64, 256, 1024, 4096};
    const std::size_t seeds = 300;
    for (double rho : {0.0, 0.5}) {
        const matrix<double> x = pair_with_correlation(rho);
        const double limit = normalised_arccos(rho);
        std::vector<double> scaled;
        for (auto n : widths) {
            double sq = 0;
            for (std::size_t s = 0; s < seeds; ++s) {
                net f({.d_in = 3, .width = n, .d_out = 1, .bias = false, .constants = wn::nn::constants_in::multiplier, .seed = 1000 * n + s});
                f.forward(x);
                const matrix<double> h = f.post_activation(1);
                const double c = geo::relative(xt::view(h, xt::range(0, 1), xt::all()), xt::view(h, xt::range(1, 2), xt::all()))(0, 0);
                sq += (c - limit) * (c - limit);
            }
            scaled.push_back(std::sqrt(sq / static_cast<double>(seeds)) * std::sqrt(static_cast<double>(n)));
        }
        const double mean = (scaled[0] + scaled[1] + scaled[2] + scaled[3]) / 4;
        for (double v : scaled) CHECK(std::abs(v / mean - 1) < 0.25);
        const double slope = std::log((scaled.back() / std::sqrt(4096.0)) / (scaled.front() / std::sqrt(64.0))) / std::log(4096.0 / 64.0);
        CHECK(std::abs(slope + 0.5) < 0.1);
    }
}

TEST_CASE("relative representation errors") {
    const matrix<double> e = wn::normal_matrix(5, 3, 4);
    CHECK_THROWS_AS(geo::relative(e, wn::normal_matrix(2, 4, 5)), wn::shape_error);
    CHECK_THROWS_WITH(geo::relative(e, std::vector<std::size_t>{0, 5}), doctest::Contains("anchor index 5 (entry 1) is outside the 5 rows"));
    CHECK_THROWS_WITH(geo::relative(e, std::vector<std::size_t>{}), doctest::Contains("at least one anchor"));
    matrix<double> z = e;
    xt::view(z, 2, xt::all()) = 0.0;
    CHECK_THROWS_WITH(geo::relative(z, e), doctest::Contains("embeddings row 2 is zero"));
    matrix<double> bad = e;
    bad(3, 1) = std::numeric_limits<double>::infinity();
    CHECK_THROWS_WITH(geo::relative(bad, e), doctest::Contains("embeddings has a non-finite value (inf) at flat index 10"));
    CHECK_THROWS_WITH(geo::relative(e, bad), doctest::Contains("anchors has a non-finite value"));
    CHECK_THROWS_WITH(geo::relative(1e200 * e, std::vector<std::size_t>{0}), doctest::Contains("overflows"));
    CHECK_THROWS_AS(geo::random_anchors(5, 6, 1), wn::error);
    CHECK_THROWS_AS(geo::random_anchors(5, 0, 1), wn::error);
    using net = wn::nn::mlp<wn::param::ntk, wn::act::relu, 1, double>;
    CHECK_THROWS_AS(geo::infinite_width_relative<net>(e, wn::normal_matrix(2, 4, 6)), wn::shape_error);
}
