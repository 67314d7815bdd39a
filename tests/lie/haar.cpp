// Haar measures: Kolmogorov-Smirnov tests of Haar sampling, the Haar density against a numerical Jacobian of the chart,
// Haar-correct importance weights (left invariance and a reference value), invariant integration over compact regions.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

#include <widenn/lie/affine.hpp>
#include <widenn/lie/gl_plus.hpp>
#include <widenn/lie/haar.hpp>

#include "helpers.hpp"

using namespace widenn::lie;
using lie_test::random_vector;

namespace {
// Kolmogorov-Smirnov statistic D = sup |F_n - F| of a sample against a continuous CDF.
template <class F>
double ks_statistic(std::vector<double> x, F&& cdf) {
    std::sort(x.begin(), x.end());
    const double n = static_cast<double>(x.size());
    double d = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
        const double f = cdf(x[i]);
        d = std::max({d, static_cast<double>(i + 1) / n - f, f - static_cast<double>(i) / n});
    }
    return d;
}
// Asymptotic critical value at level α = 0.001: D > K/√n with K = √(-ln(α/2)/2) = 1.9495 rejects.
double ks_critical_001(std::size_t n) { return 1.9495 / std::sqrt(static_cast<double>(n)); }

double so3_angle(const so<3>& r) { return std::acos(std::clamp((trace(r.matrix()) - 1) / 2, -1.0, 1.0)); }
}  // namespace

TEST_CASE("KS: SO(3) Haar samples have rotation-angle law (1 - cos ω)/π (α = 0.001), and the test has power") {
    const std::size_t n = 5000;
    widenn::rng gen(101);
    std::vector<double> angles, wrong;
    for (std::size_t i = 0; i < n; ++i) angles.push_back(so3_angle(so<3>::sample_haar(gen)));
    const auto cdf = [](double w) { return (w - std::sin(w)) / std::numbers::pi; };
    const double d = ks_statistic(angles, cdf);
    MESSAGE("SO(3) angle KS D = " << d << ", critical value (alpha = 0.001) " << ks_critical_001(n));
    CHECK(d < ks_critical_001(n));
    // Power: a rotation vector uniform in the ball of radius π (not Haar) is rejected.
    for (std::size_t i = 0; i < n; ++i) wrong.push_back(std::numbers::pi * std::cbrt(gen.uniform()));
    CHECK(ks_statistic(wrong, cdf) > ks_critical_001(n));
}

TEST_CASE("KS: SO(3) Haar samples are invariant: R0·R has the same angle law; rotation axes are isotropic") {
    const std::size_t n = 4000;
    widenn::rng gen(102);
    const auto r0 = so<3>::from_rotation_vector({0.4, -1.1, 2.0});
    std::vector<double> angles, axis_z;
    for (std::size_t i = 0; i < n; ++i) {
        const auto r = r0 * so<3>::sample_haar(gen);
        angles.push_back(so3_angle(r));
        const auto w = r.rotation_vector();
        axis_z.push_back(w[2] / norm(w));  // uniform on [-1, 1] for an isotropic axis
    }
    CHECK(ks_statistic(angles, [](double w) { return (w - std::sin(w)) / std::numbers::pi; }) < ks_critical_001(n));
    CHECK(ks_statistic(axis_z, [](double z) { return (z + 1) / 2; }) < ks_critical_001(n));
}

TEST_CASE("KS: SO(2) Haar angles are uniform on (-π, π] (α = 0.001)") {
    const std::size_t n = 5000;
    widenn::rng gen(103);
    std::vector<double> angles;
    for (std::size_t i = 0; i < n; ++i) angles.push_back(so<2>::sample_haar(gen).angle());
    CHECK(ks_statistic(angles, [](double t) { return (t + std::numbers::pi) / (2 * std::numbers::pi); }) < ks_critical_001(n));
}

TEST_CASE("SO(n) volumes for the trace metric") {
    CHECK(so<2>::volume() == doctest::Approx(2 * std::numbers::sqrt2 * std::numbers::pi).epsilon(1e-14));
    CHECK(so<3>::volume() == doctest::Approx(16 * std::numbers::sqrt2 * std::numbers::pi * std::numbers::pi).epsilon(1e-14));
}

// The left Haar density in coordinates z is |det[vee(g⁻¹ ∂g/∂z_k)]| (a left-invariant volume form evaluated on the
// coordinate vectors, normalised by the orthonormal basis); compare with exp(haar_log_density(z)).
TEST_CASE_TEMPLATE("Haar density against a numerical Jacobian of the chart", G, so<2>, so<3>, so<4>, gl_plus<2>, gl_plus<3>, sl<2>,
                   sl<3>, gl_plus<4>, affine<gl_plus<2>>, affine<sl<2>>, affine<so<2>>) {
    widenn::rng r(104);
    const double h = 1e-6;
    for (int trial = 0; trial < 8; ++trial) {
        const auto z = random_vector<typename G::tangent>(r, trial < 4 ? 0.6 : 1.5);
        if (!G::in_chart_domain(z)) continue;
        const auto g = G::from_chart(z);
        const auto gi = inverse(g.matrix());
        mat<double, G::dof> jac;
        for (std::size_t k = 0; k < G::dof; ++k) {
            auto zp = z, zm = z;
            zp[k] += h;
            zm[k] -= h;
            const auto dg = (G::from_chart(zp).matrix() - G::from_chart(zm).matrix()) * (1 / (2 * h));
            const auto col = G::vee(gi * dg);
            for (std::size_t i = 0; i < G::dof; ++i) jac(i, k) = col[i];
        }
        const double numeric = std::abs(det(jac));
        const double predicted = std::exp(G::haar_log_density(z));
        CHECK(numeric == doctest::Approx(predicted).epsilon(1e-6));
    }
}

TEST_CASE("GL+(n) is unimodular: the Haar density also equals |det g|^{-n} |det ∂g/∂z| (entry coordinates)") {
    widenn::rng r(105);
    const double h = 1e-6;
    for (int trial = 0; trial < 5; ++trial) {
        const auto z = random_vector<gl_plus<2>::tangent>(r, 1.0);
        mat<double, 4> jac;
        for (std::size_t k = 0; k < 4; ++k) {
            auto zp = z, zm = z;
            zp[k] += h;
            zm[k] -= h;
            const auto dg = (gl_plus<2>::from_chart(zp).matrix() - gl_plus<2>::from_chart(zm).matrix()) * (1 / (2 * h));
            for (std::size_t i = 0; i < 4; ++i) jac(i, k) = dg.data()[i];
        }
        const double d = gl_plus<2>::from_chart(z).determinant();
        CHECK(std::abs(det(jac)) / (d * d) == doctest::Approx(std::exp(gl_plus<2>::haar_log_density(z))).epsilon(1e-6));
    }
}

namespace {
// Integrable against the Haar measure of GL+(2): vanishes as det g -> 0 and as |g| -> ∞ (docs/theory/lie-groups.md §4).
double bump(const gl_plus<2>& g) {
    const auto& m = g.matrix();
    const auto mi = inverse(m);
    const auto I = mat<double, 2>::identity();
    double a = 0, b = 0;
    for (std::size_t k = 0; k < 4; ++k) {
        a += std::pow((m - I).data()[k], 2);
        b += std::pow((mi - I).data()[k], 2);
    }
    return std::exp(-a - b);
}
}  // namespace

TEST_CASE("importance weights make Monte Carlo Haar-correct: reference value and left invariance within the stated error") {
    const std::size_t n = 200000;
    const auto plain = integrate<gl_plus<2>>(bump, n, 7, 0.5);
    // Reference 1.6347 ± 0.0013 (an independent numpy estimate: importance sampling in matrix-entry coordinates, 2e6 samples).
    const double ref = 1.6347, ref_se = 0.0013;
    MESSAGE("GL+(2) weighted integral " << plain.value << " ± " << plain.standard_error << " (reference " << ref << " ± " << ref_se << ")");
    CHECK(std::abs(plain.value - ref) < 5 * std::hypot(plain.standard_error, ref_se));
    CHECK(plain.standard_error < 0.01);
    // Left invariance: ∫ f(h g) dμ(g) = ∫ f dμ, with independent samples, within 5 combined standard errors.
    const auto h = gl_plus<2>::from_matrix(mat<double, 2>{1.3, 0.4, -0.2, 0.9});
    const auto moved = integrate<gl_plus<2>>([&](const gl_plus<2>& g) { return bump(h * g); }, n, 8, 0.5);
    CHECK(std::abs(moved.value - plain.value) < 5 * std::hypot(moved.standard_error, plain.standard_error));
    // Without the weights the average is not the Haar integral (it is about 0.041 vs 1.63).
    widenn::rng gen(9);
    double unweighted = 0;
    for (std::size_t i = 0; i < 20000; ++i) unweighted += bump(gl_plus<2>::sample(gen, 0.5).element);
    CHECK(unweighted / 20000 < 0.1);
}

TEST_CASE("SL(2) and SL(3): left invariance of the weighted integral") {
    auto f2 = [](const sl<2>& g) {
        const auto& m = g.matrix();
        double s = 0;
        for (double v : m) s += v * v;
        return std::exp(-s);  // ‖g‖² >= 2 on SL(2); decays in the SPD directions
    };
    const std::size_t n = 100000;
    const auto a = integrate<sl<2>>(f2, n, 11, 0.6);
    const auto h = sl<2>::from_chart({0.7, -0.3, 1.0});
    const auto b = integrate<sl<2>>([&](const sl<2>& g) { return f2(h * g); }, n, 12, 0.6);
    CHECK(std::abs(a.value - b.value) < 5 * std::hypot(a.standard_error, b.standard_error));
    CHECK(a.standard_error < 0.02 * a.value);
    auto f3 = [](const sl<3>& g) {
        double s = 0;
        for (double v : g.matrix()) s += v * v;
        return std::exp(-s);
    };
    const auto c = integrate<sl<3>>(f3, 40000, 13, 0.4);
    const auto h3 = sl<3>::from_chart({0.3, -0.2, 0.4, 0.1, 0.2, 1.0, -0.5, 0.3});
    const auto d = integrate<sl<3>>([&](const sl<3>& g) { return f3(h3 * g); }, 40000, 14, 0.4);
    CHECK(std::abs(c.value - d.value) < 5 * std::hypot(c.standard_error, d.standard_error));
}

TEST_CASE("invariant integration over compact regions (box in chart coordinates) with error estimates") {
    // SO(3): the ball |z| <= √2π is the whole group: volume 16√2π², and ∫ R_00² dR = vol/3.
    const double a = std::numbers::sqrt2 * std::numbers::pi;
    const auto vol = integrate_region<so<3>>([](const so<3>&) { return 1.0; }, a, 100000, 21);
    CHECK(std::abs(vol.value - so<3>::volume()) < 5 * vol.standard_error);
    const auto r00 = integrate_region<so<3>>([](const so<3>& r) { return r.matrix()(0, 0) * r.matrix()(0, 0); }, a, 100000, 22);
    CHECK(std::abs(r00.value - so<3>::volume() / 3) < 5 * r00.standard_error);
    // SO(2): exact volume (density 1, zero variance).
    const auto v2 = integrate_region<so<2>>([](const so<2>&) { return 1.0; }, a, 1000, 23);
    CHECK(v2.value == doctest::Approx(so<2>::volume()).epsilon(1e-12));
    // GL+(2): a box large enough for the bump agrees with the importance-weighted integral.
    const auto boxed = integrate_region<gl_plus<2>>(bump, 3.5, 200000, 24);
    const auto weighted_est = integrate<gl_plus<2>>(bump, 200000, 25, 0.5);
    CHECK(std::abs(boxed.value - weighted_est.value) < 5 * std::hypot(boxed.standard_error, weighted_est.standard_error));
}

TEST_CASE("sampling: deterministic per seed; bad arguments are errors") {
    const auto a = sample_weighted<gl_plus<2>>(5, 3), b = sample_weighted<gl_plus<2>>(5, 3);
    for (std::size_t i = 0; i < 5; ++i) CHECK(a[i].element.matrix() == b[i].element.matrix());
    CHECK(a[0].weight == doctest::Approx(std::exp(a[0].log_weight)));
    widenn::rng gen(1);
    CHECK_THROWS_WITH_AS(gl_plus<2>::sample(gen, -1.0), doctest::Contains("sigma must be positive"), widenn::error);
    CHECK_THROWS_AS(sample_weighted<sl<2>>(0, 1), widenn::error);
    CHECK_THROWS_AS(integrate<so<2>>([](const so<2>&) { return 1.0; }, 1, 1), widenn::error);
}

TEST_CASE("spd and so samplers: weights integrate against the stated Haar normalisations") {
    // spd<2>: Haar = Lebesgue in the log coordinates v, so ∫ exp(-|v|²) = π^{3/2}.
    const auto e = integrate<spd<2>>([](const spd<2>& p) { const auto v = p.log(); return std::exp(-dot(v, v)); }, 50000, 31, 0.6);
    CHECK(std::abs(e.value - std::pow(std::numbers::pi, 1.5)) < 5 * e.standard_error);
    // sspd<3>: 5 dimensions, π^{5/2}.
    const auto e5 = integrate<sspd<3>>([](const sspd<3>& p) { const auto v = p.log(); return std::exp(-dot(v, v)); }, 50000, 32, 0.6);
    CHECK(std::abs(e5.value - std::pow(std::numbers::pi, 2.5)) < 5 * e5.standard_error);
    // so<3>: weight = volume, so ∫ 1 = vol exactly and ∫ tr R = 0 (E tr R = 0 under Haar), within the error.
    const auto one = integrate<so<3>>([](const so<3>&) { return 1.0; }, 100, 33);
    CHECK(one.value == doctest::Approx(so<3>::volume()).epsilon(1e-12));
    const auto tr = integrate<so<3>>([](const so<3>& r) { return trace(r.matrix()); }, 20000, 34);
    CHECK(std::abs(tr.value) < 5 * tr.standard_error);
}
