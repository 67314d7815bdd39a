// Group policies (the Sophus/manif habits): hat/vee and orthonormality, exp/log and chart round trips, group axioms,
// the action, adjoint identities, Jacobians by central differences, SO(3) near 0 and π, and errors for matrices
// outside the group.
#include <doctest/doctest.h>

#include <limits>

#include <cmath>
#include <numbers>

#include <widenn/lie/affine.hpp>
#include <widenn/lie/gl_plus.hpp>

#include "helpers.hpp"

using namespace widenn::lie;
using lie_test::abs_err;
using lie_test::random_vector;
using lie_test::vec_err;

namespace {
template <class G>
using S = typename G::scalar;
template <class G>
double tol() {  // like Sophus: 1e-10 in double, 1e-5-ish in float (here 2e-4 for products of several factors)
    return std::is_same_v<S<G>, double> ? 1e-10 : 2e-4;
}
template <class G>
G random_element(widenn::rng& r, double scale = 0.7) {
    return G::exp(random_vector<typename G::tangent>(r, scale));
}
template <class G>
double matrix_err(const G& a, const G& b) {
    return static_cast<double>(abs_err(a.matrix(), b.matrix()));
}
}  // namespace

#define ALL_GROUPS                                                                                                       \
    so<2>, so<3>, so<4>, so<2, float>, so<3, float>, spd<2>, spd<3>, sspd<2>, sspd<3>, gl_plus<2>, gl_plus<3>, sl<2>,   \
        sl<3>, gl_plus<2, float>, sl<2, float>, affine<so<2>>, affine<so<3>>, affine<gl_plus<2>>, affine<sl<2>>,         \
        affine<gl_plus<2, float>>

static_assert(LieGroup<so<2>> && LieGroup<spd<3>> && LieGroup<sl<3, float>> && LieGroup<affine<gl_plus<2>>>);
static_assert(gl_plus<3>::dof == 9 && sl<3>::dof == 8 && so<3>::dof == 3 && sspd<3>::dof == 5 && affine<sl<2>>::dof == 5);
static_assert(affine<gl_plus<2>>::dim == 2 && gl_plus<3>::dim == 3);

TEST_CASE_TEMPLATE("hat/vee: round trips and a trace-orthonormal basis", G, ALL_GROUPS) {
    widenn::rng r(1);
    for (int trial = 0; trial < 10; ++trial) {
        const auto v = random_vector<typename G::tangent>(r);
        CHECK(vec_err(G::vee(G::hat(v)), v) < tol<G>());
        const auto a = G::hat(v);
        CHECK(abs_err(G::hat(G::vee(a)), a) < tol<G>());
    }
    for (std::size_t i = 0; i < G::dof; ++i)
        for (std::size_t j = 0; j < G::dof; ++j) {
            typename G::tangent ei{}, ej{};
            ei[i] = 1;
            ej[j] = 1;
            CHECK(static_cast<double>(trace(transpose(G::hat(ei)) * G::hat(ej))) == doctest::Approx(i == j ? 1.0 : 0.0).epsilon(1e-6));
        }
}

TEST_CASE_TEMPLATE("exp/log round trips, exp = expm∘hat, chart round trips", G, ALL_GROUPS) {
    widenn::rng r(2);
    for (int trial = 0; trial < 20; ++trial) {
        const auto v = random_vector<typename G::tangent>(r, 0.5);
        const auto g = G::exp(v);
        CHECK(vec_err(g.log(), v) < 10 * tol<G>());
        CHECK(matrix_err(G::exp(g.log()), g) < 10 * tol<G>());
        CHECK(static_cast<double>(abs_err(g.matrix(), expm(G::hat(v)))) < 10 * tol<G>());
        // The global chart: from_chart(chart(g)) = g for any g, chart(from_chart(z)) = z in the domain.
        const auto z = random_vector<typename G::tangent>(r, 0.8);
        if (G::in_chart_domain(z)) CHECK(vec_err(G::from_chart(z).chart(), z) < 10 * tol<G>());
        const auto h = G::from_chart(z);
        CHECK(matrix_err(G::from_chart(h.chart()), h) < 10 * tol<G>());
    }
    CHECK(matrix_err(G::exp(typename G::tangent{}), G::identity()) == 0.0);
    // Near-identity elements exp(1e-8 τ) (manif's habit): the logarithm keeps its relative precision.
    const auto tiny = random_vector<typename G::tangent>(r, 1e-8);
    // Absolute error at the level of the matrix entries' round-off (1 + 1e-8 is not representable in float).
    CHECK(vec_err(G::exp(tiny).log(), tiny) < 8 * std::numeric_limits<S<G>>::epsilon());
    CHECK(vec_err(G::identity().log(), typename G::tangent{}) < 1e-15);
}

TEST_CASE_TEMPLATE("group axioms and the action", G, ALL_GROUPS) {
    widenn::rng r(3);
    for (int trial = 0; trial < 10; ++trial) {
        const auto a = random_element<G>(r), b = random_element<G>(r), c = random_element<G>(r);
        CHECK(matrix_err((a * b) * c, a * (b * c)) < tol<G>());
        CHECK(matrix_err(a * a.inverse(), G::identity()) < tol<G>());
        CHECK(matrix_err(a.inverse() * a, G::identity()) < tol<G>());
        // Exact for matrix groups; the log-Euclidean product of spd rounds.
        CHECK(matrix_err(G::identity() * a, a) <= (G::is_matrix_group ? 0.0 : tol<G>()));
        const auto x = random_vector<typename G::point>(r);
        CHECK(vec_err(G::identity().act(x), x) == 0.0);
        if constexpr (G::is_matrix_group) CHECK(vec_err((a * b).act(x), a.act(b.act(x))) < tol<G>());
        // Validated construction accepts every element.
        CHECK(matrix_err(G::from_matrix(a.matrix()), a) == 0.0);
    }
}

TEST_CASE_TEMPLATE("adjoint identities: Ad_g x = vee(g hat(x) g⁻¹), Ad_ab = Ad_a Ad_b, Ad_{a⁻¹} = Ad_a⁻¹, g exp(τ) = exp(Ad_g τ) g",
                   G, ALL_GROUPS) {
    widenn::rng r(4);
    for (int trial = 0; trial < 10; ++trial) {
        const auto a = random_element<G>(r), b = random_element<G>(r);
        const auto x = random_vector<typename G::tangent>(r, 0.4);
        if constexpr (G::is_matrix_group) {
            CHECK(vec_err(a.adjoint() * x, G::vee(a.matrix() * G::hat(x) * a.inverse().matrix())) < tol<G>());
            CHECK(matrix_err(a * G::exp(x), G::exp(a.adjoint() * x) * a) < 10 * tol<G>());
        }
        CHECK(static_cast<double>(abs_err((a * b).adjoint(), a.adjoint() * b.adjoint())) < 10 * tol<G>());
        CHECK(static_cast<double>(abs_err(a.inverse().adjoint(), inverse(a.adjoint()))) < 10 * tol<G>());
    }
}

TEST_CASE_TEMPLATE("the bracket: ad_v w = -ad_w v, the Jacobi identity, exp(ad_v) = Ad_{exp v}", G, ALL_GROUPS) {
    widenn::rng r(9);
    for (int trial = 0; trial < 5; ++trial) {
        const auto u = random_vector<typename G::tangent>(r, 0.5), v = random_vector<typename G::tangent>(r, 0.5),
                   w = random_vector<typename G::tangent>(r, 0.5);
        CHECK(vec_err(G::ad(v) * w, lie_test::negated(G::ad(w) * v)) < tol<G>());
        const auto j1 = G::ad(u) * (G::ad(v) * w), j2 = G::ad(v) * (G::ad(w) * u), j3 = G::ad(w) * (G::ad(u) * v);
        double jacobi = 0;
        for (std::size_t i = 0; i < G::dof; ++i) jacobi = std::max(jacobi, std::abs(static_cast<double>(j1[i] + j2[i] + j3[i])));
        CHECK(jacobi < tol<G>());
        CHECK(static_cast<double>(abs_err(expm(G::ad(v)), G::exp(v).adjoint())) < 10 * tol<G>());
    }
}

TEST_CASE_TEMPLATE("Jacobians by central differences: exp(v + δ) = exp(J_l δ) exp(v) = exp(v) exp(J_r δ)", G, ALL_GROUPS) {
    using T = S<G>;
    widenn::rng r(5);
    const double h = std::is_same_v<T, double> ? 1e-5 : 1e-2;
    const double jtol = std::is_same_v<T, double> ? 1e-8 : 2e-2;
    for (int trial = 0; trial < 5; ++trial) {
        const auto v = random_vector<typename G::tangent>(r, 0.6);
        const auto g = G::exp(v), gi = g.inverse();
        const auto jl = G::left_jacobian(v), jr = G::right_jacobian(v);
        double el = 0, er = 0;
        for (std::size_t k = 0; k < G::dof; ++k) {
            auto vp = v, vm = v;
            vp[k] += static_cast<T>(h);
            vm[k] -= static_cast<T>(h);
            const auto lp = (G::exp(vp) * gi).log(), lm = (G::exp(vm) * gi).log();
            const auto rp = (gi * G::exp(vp)).log(), rm = (gi * G::exp(vm)).log();
            for (std::size_t i = 0; i < G::dof; ++i) {
                el = std::max(el, std::abs(static_cast<double>(lp[i] - lm[i]) / (2 * h) - static_cast<double>(jl(i, k))));
                er = std::max(er, std::abs(static_cast<double>(rp[i] - rm[i]) / (2 * h) - static_cast<double>(jr(i, k))));
            }
        }
        CHECK(el < jtol);
        CHECK(er < jtol);
        // J_l = Ad_{exp v} J_r.
        CHECK(static_cast<double>(abs_err(jl, g.adjoint() * jr)) < 10 * tol<G>());
    }
}

TEST_CASE("so<4>: the chart domain is 'every rotation angle <= π', not a ball") {
    // Two planes rotated by 0.9π each: ‖z‖ = √2·0.9π·√2 > √2π, yet inside the domain.
    so<4>::tangent z{};
    z[0] = 0.9 * std::numbers::pi * std::numbers::sqrt2;  // plane (0, 1)
    z[5] = 0.9 * std::numbers::pi * std::numbers::sqrt2;  // plane (2, 3)
    CHECK(so<4>::in_chart_domain(z));
    CHECK(vec_err(so<4>::exp(z).log(), z) < 1e-9);
    z[5] = 1.1 * std::numbers::pi * std::numbers::sqrt2;
    CHECK_FALSE(so<4>::in_chart_domain(z));
}

TEST_CASE("SO(2): angle convention (-π, π], coordinate √2θ, equidistant grid without duplicates") {
    CHECK(so<2>::rotation(std::numbers::pi).angle() == doctest::Approx(std::numbers::pi));
    CHECK(so<2>::rotation(-std::numbers::pi).angle() == doctest::Approx(std::numbers::pi));
    CHECK(so<2>::rotation(0.3).log()[0] == doctest::Approx(0.3 * std::numbers::sqrt2));
    CHECK(so<2>::rotation(-1e-17).angle() <= 0.0);  // no jump to 2π next to the identity
    const auto grid = so<2>::equidistant(8);
    REQUIRE(grid.size() == 8);
    for (std::size_t k = 0; k < 8; ++k) {
        CHECK(std::abs(std::remainder(grid[k].angle() - 2 * std::numbers::pi * static_cast<double>(k) / 8, 2 * std::numbers::pi)) < 1e-15);
        for (std::size_t j = 0; j < k; ++j) CHECK(matrix_err(grid[j], grid[k]) > 0.5);
    }
}

TEST_CASE("SO(3): Rodrigues, log near 0 and near π, large rotation vectors wrap (Sophus test data)") {
    widenn::rng r(6);
    double worst_exp = 0, worst_log = 0;
    for (int trial = 0; trial < 500; ++trial) {
        auto u = random_vector<vec<double, 3>>(r);
        const double n = norm(u);
        for (auto& c : u) c /= n;
        const double choices[] = {std::numbers::pi * r.uniform(), 1e-6 * r.uniform(), std::numbers::pi - 1e-6 * r.uniform(),
                                  1e-3 * r.uniform(), 1e-12};
        const double theta = choices[trial % 5];
        const vec<double, 3> w{theta * u[0], theta * u[1], theta * u[2]};
        const auto rot = so<3>::from_rotation_vector(w);
        const mat<double, 3> W{0, -w[2], w[1], w[2], 0, -w[0], -w[1], w[0], 0};
        worst_exp = std::max(worst_exp, abs_err(rot.matrix(), expm_pade(W)));
        worst_log = std::max(worst_log, abs_err(so<3>::exp(rot.log()).matrix(), rot.matrix()));
    }
    CHECK(worst_exp < 1e-14);
    CHECK(worst_log < 1e-12);
    // Rotation by exactly π about (1, 1, 0)/√2, and the rotation-vector coordinates are √2 ω.
    const double s = std::numbers::pi / std::numbers::sqrt2;
    const auto half = so<3>::from_rotation_vector({s, s, 0});
    CHECK(matrix_err(so<3>::exp(half.log()), half) < 1e-12);
    CHECK(so<3>::from_rotation_vector({0.1, 0.2, 0.3}).log()[2] == doctest::Approx(0.3 * std::numbers::sqrt2));
    for (const vec<double, 3> big : {vec<double, 3>{20, -1, 0}, vec<double, 3>{30, 5, -1}}) {
        const auto g = so<3>::from_rotation_vector(big);
        CHECK(norm(g.rotation_vector()) <= std::numbers::pi + 1e-12);
        CHECK(matrix_err(so<3>::exp(g.log()), g) < 1e-12);
    }
    // Near-identity elements (1e-12) survive the round trip to relative precision.
    const auto tiny = so<3>::exp({1e-12, -2e-12, 3e-12});
    CHECK(tiny.log()[2] == doctest::Approx(3e-12).epsilon(1e-10));
}

TEST_CASE("GL+ and SL: polar factors reconstruct g, det P = 1 for SL, chart is global where log is not") {
    widenn::rng r(7);
    for (int trial = 0; trial < 20; ++trial) {
        const auto g = gl_plus<3>::from_chart(random_vector<gl_plus<3>::tangent>(r, 1.0));
        const auto [p, rot] = g.polar_factors();
        CHECK(abs_err(p.matrix() * rot.matrix(), g.matrix()) < 1e-12);
        const auto h = sl<3>::from_chart(random_vector<sl<3>::tangent>(r, 1.0));
        const auto [ph, rh] = h.polar_factors();
        CHECK(det(ph.matrix()) == doctest::Approx(1.0).epsilon(1e-12));
        CHECK(h.determinant() == doctest::Approx(1.0).epsilon(1e-12));
        CHECK(abs_err(ph.matrix() * rh.matrix(), h.matrix()) < 1e-12);
    }
    // diag(-2, -1/2) is in SL(2) but not exp of anything real: log throws, the chart works.
    const auto m = sl<2>::from_matrix(mat<double, 2>{-2, 0, 0, -0.5});
    CHECK_THROWS_WITH_AS(m.log(), doctest::Contains("no principal logarithm"), widenn::error);
    CHECK(matrix_err(sl<2>::from_chart(m.chart()), m) < 1e-14);
    // The chart of P R(θ) is (vee(log P), √2 θ).
    const auto pr = gl_plus<2>::from_chart({0.3, -0.2, 0.5, 2.0 * std::numbers::sqrt2});
    CHECK(pr.chart()[3] == doctest::Approx(2.0 * std::numbers::sqrt2));
    CHECK(pr.polar_factors().second.angle() == doctest::Approx(2.0));
}

TEST_CASE("affine: composition law, inverse, action and matrix form") {
    using A = affine<gl_plus<2>>;
    widenn::rng r(8);
    const auto a = random_element<A>(r), b = random_element<A>(r);
    const auto ab = a * b;
    const auto expected_t = a.linear().act(b.translation());
    CHECK(ab.translation()[0] == doctest::Approx(a.translation()[0] + expected_t[0]));
    CHECK(ab.translation()[1] == doctest::Approx(a.translation()[1] + expected_t[1]));
    CHECK(abs_err(ab.matrix(), a.matrix() * b.matrix()) < 1e-14);
    CHECK(abs_err(a.inverse().matrix(), inverse(a.matrix())) < 1e-13);
    const A pure = A::translation_only({0.5, -1.0});
    CHECK(vec_err(pure.act({1.0, 2.0}), vec<double, 2>{1.5, 1.0}) == 0.0);
}

TEST_CASE("bad input: from_matrix and log name the violated property") {
    CHECK_THROWS_WITH_AS(so<2>::from_matrix(mat<double, 2>{1, 0.1, 0, 1}), doctest::Contains("not orthogonal"), widenn::error);
    CHECK_THROWS_WITH_AS(so<3>::from_matrix(mat<double, 3>{1, 0, 0, 0, 1, 0, 0, 0, -1}), doctest::Contains("reflection"), widenn::error);
    CHECK_THROWS_WITH_AS(gl_plus<2>::from_matrix(mat<double, 2>{1, 0, 0, -2}), doctest::Contains("det g = -2"), widenn::error);
    CHECK_THROWS_WITH_AS(gl_plus<3>::from_matrix(mat<double, 3>{1, 0, 0, 0, 1, 0, 0, 0, 0}), doctest::Contains("expected > 0"), widenn::error);
    CHECK_THROWS_WITH_AS(sl<2>::from_matrix(mat<double, 2>{2, 0, 0, 1}), doctest::Contains("expected 1"), widenn::error);
    CHECK_THROWS_WITH_AS(spd<2>::from_matrix(mat<double, 2>{1, 0.5, 0, 1}), doctest::Contains("not symmetric"), widenn::error);
    CHECK_THROWS_WITH_AS(spd<3>::from_matrix(mat<double, 3>{1, 0, 0, 0, -1, 0, 0, 0, 1}), doctest::Contains("not positive definite"),
                         widenn::error);
    CHECK_THROWS_WITH_AS(sspd<2>::from_matrix(mat<double, 2>{2, 0, 0, 2}), doctest::Contains("expected 1"), widenn::error);
    CHECK_THROWS_WITH_AS(affine<so<2>>::from_matrix(mat<double, 3>{1, 0, 0, 0, 1, 0, 0, 1, 1}), doctest::Contains("last row"),
                         widenn::error);
    CHECK_THROWS_WITH_AS(gl_plus<2>::from_matrix(mat<double, 2>{-1, 0, 0, -3}).log(), doctest::Contains("no principal logarithm"),
                         widenn::error);
    CHECK_THROWS_WITH_AS(log_of_matrix<so<3>>(mat<double, 3>{1, 0, 0, 0, 1, 1e-6, 0, 0, 1}), doctest::Contains("not orthogonal"),
                         widenn::error);
    CHECK_THROWS_WITH_AS(log_of_matrix<gl_plus<3>>(mat<double, 3>{1, 0, 0, 0, -1, 0, 0, 0, 1}), doctest::Contains("det g = -1"),
                         widenn::error);
    CHECK_THROWS_WITH_AS(log_of_matrix<spd<2>>(mat<double, 2>{1, 2, 2, 1}), doctest::Contains("not positive definite"), widenn::error);
    CHECK(log_of_matrix<so<2>>(so<2>::rotation(0.5).matrix())[0] == doctest::Approx(0.5 * std::numbers::sqrt2));
    const double nan = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_WITH_AS(so<2>::from_matrix(mat<double, 2>{nan, 0, 0, 1}), doctest::Contains("non-finite"), widenn::error);
}

TEST_CASE_TEMPLATE("bad input: exp of a non-finite tangent vector raises instead of returning a NaN element", G, ALL_GROUPS) {
    for (const double bad : {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity()}) {
        typename G::tangent v{};
        v[G::dof - 1] = static_cast<typename G::scalar>(bad);
        CHECK_THROWS_AS(G::exp(v), widenn::error);
        v = {};
        v[0] = static_cast<typename G::scalar>(-bad);
        CHECK_THROWS_AS(G::exp(v), widenn::error);
    }
}

TEST_CASE_TEMPLATE("derived operations of group_base: rplus, rminus and between round trip", G, ALL_GROUPS) {
    widenn::rng r(17);
    for (int trial = 0; trial < 5; ++trial) {
        const G g = random_element<G>(r, 0.4), h = random_element<G>(r, 0.4);
        const auto v = random_vector<typename G::tangent>(r, 0.3);
        CHECK(matrix_err(g.rplus(v), g * G::exp(v)) < tol<G>());
        CHECK(vec_err(g.rplus(v).rminus(g), v) < 10 * tol<G>());
        CHECK(matrix_err(g * g.between(h), h) < 10 * tol<G>());
    }
}
