// geometry/frechet.hpp: Loki's rule equals argmax on the complete graph, predicts the middle of the path 0-1-2 for
// (1/2, 0, 1/2), predicts labels never observed, breaks ties towards the lowest label; metrics from graphs
// (shortest paths) and matrices; errors for non-metric matrices and bad probabilities.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include <widenn/core/rng.hpp>
#include <widenn/geometry/frechet.hpp>

namespace wn = widenn;
namespace geo = widenn::geometry;
using wn::matrix;

TEST_CASE("complete-graph metric: the Fréchet mean is argmax (first maximum on ties)") {
    const std::size_t n = 2000, k = 7;
    wn::rng gen(1);
    matrix<double> p = matrix<double>::from_shape({n, k});
    for (std::size_t i = 0; i < n; ++i) {
        double s = 0;
        for (std::size_t j = 0; j < k; ++j) s += p(i, j) = std::floor(4 * gen.uniform());  // many exact ties
        if (s == 0) p(i, 0) = s = 1;
        for (std::size_t j = 0; j < k; ++j) p(i, j) /= s;
    }
    const auto pred = geo::frechet_predict(p, geo::label_metric::complete(k));
    for (std::size_t i = 0; i < n; ++i) {
        std::size_t best = 0;
        for (std::size_t j = 1; j < k; ++j)
            if (p(i, j) > p(i, best)) best = j;
        CHECK(pred[i] == best);
    }
}

TEST_CASE("path graph 0-1-2: (1/2, 0, 1/2) predicts 1, and an unobserved middle label is predicted") {
    const auto path = geo::label_metric::from_graph(3, {{0, 1}, {1, 2}});
    CHECK(path(0, 2) == 2.0);
    CHECK(geo::frechet_predict(matrix<double>{{0.5, 0.0, 0.5}}, path) == std::vector<std::size_t>{1});
    CHECK(geo::frechet_predict(matrix<double>{{0.6, 0.0, 0.4}}, path) == std::vector<std::size_t>{1});
    CHECK(geo::frechet_predict(matrix<double>{{0.8, 0.0, 0.2}}, path) == std::vector<std::size_t>{0});  // costs 0.8, 1.0, 3.2
    // only labels 0 and 2 observed (two columns): label 1 was never seen and is still predicted
    CHECK(geo::frechet_predict(matrix<double>{{0.5, 0.5}, {0.9, 0.1}}, path, {0, 2}) == std::vector<std::size_t>{1, 0});
    // exact tie between 0 and 1: (1/2, 1/2, 0): costs 1/2, 1/2, 5/2 -> the lower label
    CHECK(geo::frechet_predict(matrix<double>{{0.5, 0.5, 0.0}}, path) == std::vector<std::size_t>{0});
    // the same from a distance matrix
    CHECK(geo::frechet_predict(matrix<double>{{0.5, 0.0, 0.5}}, matrix<double>{{0, 1, 2}, {1, 0, 1}, {2, 1, 0}}) ==
          std::vector<std::size_t>{1});
}

TEST_CASE("shortest paths of a weighted graph and the expected squared distance") {
    // square 0-1-2-3-0 with one heavy edge 3-0 (weight 5): d(0, 3) = 3 through 1 and 2
    const auto m = geo::label_metric::from_graph(4, {{0, 1, 1.0}, {1, 2, 1.0}, {2, 3, 1.0}, {3, 0, 5.0}});
    CHECK(m(0, 3) == 3.0);
    CHECK(m(3, 0) == 3.0);
    CHECK(m(1, 3) == 2.0);
    CHECK(geo::mean_squared_distance(std::vector<int>{0, 1, 3}, std::vector<int>{3, 1, 1}, m) == doctest::Approx((9.0 + 0.0 + 4.0) / 3));
}

TEST_CASE("Fréchet prediction errors: non-metric distances, disconnected graphs, bad probabilities") {
    CHECK_THROWS_WITH(geo::label_metric::from_matrix(matrix<double>{{0, -1}, {-1, 0}}), doctest::Contains("must be positive"));
    CHECK_THROWS_WITH(geo::label_metric::from_matrix(matrix<double>{{0, 1}, {2, 0}}), doctest::Contains("symmetric"));
    CHECK_THROWS_WITH(geo::label_metric::from_matrix(matrix<double>{{0.5, 1}, {1, 0}}), doctest::Contains("d(y, y) must be 0"));
    CHECK_THROWS_WITH(geo::label_metric::from_matrix(matrix<double>{{0, 1, 5}, {1, 0, 1}, {5, 1, 0}}), doctest::Contains("triangle"));
    CHECK_THROWS_AS(geo::label_metric::from_matrix(matrix<double>{{0, 1, 5}, {1, 0, 1}}), wn::shape_error);
    CHECK_THROWS_WITH(geo::label_metric::from_graph(3, {{0, 1}}), doctest::Contains("not connected"));
    CHECK_THROWS_WITH(geo::label_metric::from_graph(3, {{0, 3}}), doctest::Contains("outside"));
    CHECK_THROWS_WITH(geo::label_metric::from_graph(2, {{0, 1, -1.0}}), doctest::Contains("positive finite weight"));
    const auto path = geo::label_metric::from_graph(3, {{0, 1}, {1, 2}});
    CHECK_THROWS_WITH(geo::frechet_predict(matrix<double>{{0.5, 0.6, 0.0}}, path), doctest::Contains("sum to 1"));
    CHECK_THROWS_WITH(geo::frechet_predict(matrix<double>{{1.5, -0.5, 0.0}}, path), doctest::Contains(">= 0"));
    CHECK_THROWS_AS(geo::frechet_predict(matrix<double>{{0.25, 0.25, 0.25, 0.25}}, path), wn::shape_error);
    CHECK_THROWS_WITH(geo::frechet_predict(matrix<double>{{0.5, 0.5}}, path, {0, 3}), doctest::Contains("outside"));
    CHECK_THROWS_WITH(geo::frechet_predict(matrix<double>{{0.5, 0.5}}, path, {1, 1}), doctest::Contains("twice"));
    CHECK_THROWS_AS(geo::frechet_predict(matrix<double>{{0.5, 0.5}}, path, {1}), wn::shape_error);
    CHECK_THROWS_AS(geo::frechet_predict(matrix<double>{{0.5, 0.0, 0.5}}, matrix<double>{{0, 1, 2}, {1, 0, 1}, {2, 1, 1}}), wn::error);
}
