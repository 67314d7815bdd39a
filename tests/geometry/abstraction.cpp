// geometry/abstraction.hpp: parallelism score and CCGP on exact geometries: a factorised square (PS = 1, CCGP = 1
// for both variables) and its XOR dichotomy (PS = -1, CCGP = 0); random condition means; errors.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include <widenn/core/rng.hpp>
#include <widenn/geometry/abstraction.hpp>

namespace wn = widenn;
namespace geo = widenn::geometry;
using wn::matrix;

namespace {
// Conditions 0..3 = (a, b) ∈ {(-1,-1), (-1,1), (1,-1), (1,1)}, embedded in 6 dimensions along two orthogonal directions
// (so a linear readout of one variable trained where the other is fixed transfers), `per` noisy rows each.
struct square {
    matrix<double> x;
    std::vector<int> cond;
};
square make_square(std::size_t per, double noise, std::uint64_t seed) {
    square s;
    s.x = matrix<double>::from_shape({4 * per, 6});
    wn::rng gen(seed);
    const matrix<double> embed{{1.0, 1.0, 0.0, 1.0, 0.0, 0.0}, {1.0, -1.0, 0.0, 0.0, 2.0, 0.0}};
    for (std::size_t c = 0; c < 4; ++c)
        for (std::size_t r = 0; r < per; ++r) {
            const double a = c < 2 ? -1.0 : 1.0, b = c % 2 == 0 ? -1.0 : 1.0;
            for (std::size_t j = 0; j < 6; ++j) s.x(c * per + r, j) = a * embed(0, j) + b * embed(1, j) + noise * gen.normal();
            s.cond.push_back(static_cast<int>(c));
        }
    return s;
}
}  // namespace

TEST_CASE("factorised square: parallelism 1 and CCGP 1 for both variables; XOR: parallelism -1, CCGP 0") {
    const auto s = make_square(1, 0.0, 1);
    const std::vector<int> first{0, 0, 1, 1}, second{0, 1, 0, 1}, xor_{0, 1, 1, 0};
    CHECK(geo::parallelism_score(s.x, s.cond, first) == doctest::Approx(1.0).epsilon(1e-12));
    CHECK(geo::parallelism_score(s.x, s.cond, second) == doctest::Approx(1.0).epsilon(1e-12));
    CHECK(geo::parallelism_score(s.x, s.cond, xor_) == doctest::Approx(-1.0).epsilon(1e-12));
}

namespace {
// Conditions 0..7 = the corners (a, b, c) ∈ {±1}³ (bits 2, 1, 0 of the label), embedded in d dimensions along
// three orthogonal directions of different lengths, `per` rows each with Gaussian noise.
square make_cube(std::size_t per, std::size_t d, double noise, std::uint64_t seed) {
    square s;
    s.x = xt::zeros<double>({8 * per, d});
    wn::rng gen(seed);
    for (std::size_t c = 0; c < 8; ++c)
        for (std::size_t r = 0; r < per; ++r) {
            for (std::size_t j = 0; j < d; ++j) s.x(c * per + r, j) = noise * gen.normal();
            for (std::size_t v = 0; v < 3; ++v) s.x(c * per + r, v) += (1.0 + static_cast<double>(v)) * ((c >> (2 - v)) & 1 ? 1.0 : -1.0);
            s.cond.push_back(static_cast<int>(c));
        }
    return s;
}
}  // namespace

TEST_CASE("CCGP on a cube of 8 conditions: 1 for each variable, below chance for a parity dichotomy") {
    // Holding out one condition per side leaves 3 per side, which span the cube's affine hull: the least-squares
    // readout of a variable is then exact and transfers to the held-out corners.
    const std::vector<int> a{0, 0, 0, 0, 1, 1, 1, 1}, b{0, 0, 1, 1, 0, 0, 1, 1}, c{0, 1, 0, 1, 0, 1, 0, 1};
    const std::vector<int> parity{0, 1, 1, 0, 0, 1, 1, 0};  // b xor c
    const auto noisy = make_cube(15, 6, 0.1, 2);
    CHECK(geo::ccgp(noisy.x, noisy.cond, a) == 1.0);
    CHECK(geo::ccgp(noisy.x, noisy.cond, b) == 1.0);
    CHECK(geo::ccgp(noisy.x, noisy.cond, c) == 1.0);
    CHECK(geo::ccgp(noisy.x, noisy.cond, parity) < 0.5);
    CHECK(geo::parallelism_score(noisy.x, noisy.cond, a) > 0.95);
    CHECK(geo::parallelism_score(noisy.x, noisy.cond, parity) < 0.5);
    // more features than training rows (1 row per condition in 12 dimensions): the dual ridge solve
    const auto few = make_cube(1, 12, 0.0, 3);
    CHECK(geo::ccgp(few.x, few.cond, b) == 1.0);
}

TEST_CASE("parallelism maximises over pairings: 8 conditions, coding vectors parallel under one pairing only") {
    // side 0 at random points p_i, side 1 at p_{σ(i)} + v for a fixed v and a scrambled order: PS = 1
    const matrix<double> p = wn::normal_matrix(4, 5, 4), v = wn::normal_matrix(1, 5, 5);
    matrix<double> x = matrix<double>::from_shape({8, 5});
    const std::vector<std::size_t> sigma{2, 0, 3, 1};
    std::vector<int> cond, side{0, 0, 0, 0, 1, 1, 1, 1};
    for (std::size_t i = 0; i < 4; ++i)
        for (std::size_t j = 0; j < 5; ++j) {
            x(i, j) = p(i, j);
            x(4 + sigma[i], j) = p(i, j) + 3.0 * v(0, j);
        }
    for (int c = 0; c < 8; ++c) cond.push_back(c);
    CHECK(geo::parallelism_score(x, cond, side) == doctest::Approx(1.0).epsilon(1e-12));
}

TEST_CASE("abstraction score errors") {
    const auto s = make_square(2, 0.1, 6);
    CHECK_THROWS_WITH(geo::parallelism_score(s.x, s.cond, std::vector<int>{0, 0, 0, 1}), doctest::Contains("two equal halves"));
    CHECK_THROWS_WITH(geo::parallelism_score(s.x, s.cond, std::vector<int>{0, 2, 1, 1}), doctest::Contains("0 or 1"));
    std::vector<int> short_cond(s.cond.begin(), s.cond.end() - 1);
    CHECK_THROWS_AS(geo::ccgp(s.x, short_cond, std::vector<int>{0, 0, 1, 1}), wn::shape_error);
    std::vector<int> bad = s.cond;
    bad[0] = 7;
    CHECK_THROWS_WITH(geo::ccgp(s.x, bad, std::vector<int>{0, 0, 1, 1}), doctest::Contains("outside 0..3"));
    CHECK_THROWS_AS(geo::ccgp(s.x, s.cond, std::vector<int>{0, 0, 1, 1}, -1.0), wn::error);
}
