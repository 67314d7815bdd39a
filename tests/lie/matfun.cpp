// Matrix functions: expm against closed forms and an eigendecomposition reference, 2x2 closed forms, Jacobi, SPD
// functions, polar decomposition, QR, principal logarithm, dynamic sizes, and errors that name the violated property.
#include <doctest/doctest.h>

#include <cmath>
#include <numbers>

#include <widenn/lie/matfun.hpp>
#include <widenn/lie/xtensor.hpp>

#include "helpers.hpp"

using namespace widenn::lie;
using lie_test::abs_err;
using lie_test::random_matrix;
using lie_test::rel_err;

namespace {
// exp(A) for A = S D S⁻¹ (D diagonal) as S e^D S⁻¹, computed in long double: an eigendecomposition reference.
template <std::size_t N>
mat<double, N> expm_reference(const mat<long double, N>& s, const std::array<long double, N>& d) {
    auto ed = mat<long double, N>::zeros();
    for (std::size_t i = 0; i < N; ++i) ed(i, i) = std::exp(d[i]);
    return (s * ed * inverse(s)).template cast<double>();
}
}  // namespace

TEST_CASE("expm: closed forms (rotation generator, nilpotent, diagonal)") {
    for (double theta : {1e-9, 0.3, 2.0, 3.14159, 10.0, 40.0}) {
        const mat<double, 2> a{0, -theta, theta, 0};
        const mat<double, 2> r{std::cos(theta), -std::sin(theta), std::sin(theta), std::cos(theta)};
        CHECK(abs_err(expm_pade(a), r) < 1e-14 * std::max(1.0, theta));
        CHECK(abs_err(expm2(a), r) < 1e-15 * std::max(1.0, theta));
    }
    // Strictly upper triangular N: e^N = I + N + N²/2 exactly.
    const mat<double, 3> nil{0, 2, -3, 0, 0, 5, 0, 0, 0};
    const auto expected = mat<double, 3>::identity() + nil + nil * nil * 0.5;
    CHECK(rel_err(expm_pade(nil), expected) < 1e-15);
    // Diagonal, including the scaling-and-squaring branch (‖A‖₁ = 30 > θ₁₃).
    const mat<double, 3> dg{-30, 0, 0, 0, 0.001, 0, 0, 0, 3};
    const mat<double, 3> edg{std::exp(-30.0), 0, 0, 0, std::exp(0.001), 0, 0, 0, std::exp(3.0)};
    CHECK(rel_err(expm_pade(dg), edg) < 1e-14);
    // Hyperbolic 2x2: exp([[0, t], [t, 0]]) = cosh t I + sinh t B.
    const double t = 1.7;
    CHECK(rel_err(expm2(mat<double, 2>{0, t, t, 0}), mat<double, 2>{std::cosh(t), std::sinh(t), std::sinh(t), std::cosh(t)}) < 1e-15);
}

TEST_CASE("expm: Padé 13 against an eigendecomposition reference to 1e-13 relative (every Padé degree)") {
    widenn::rng r(11);
    double worst = 0;
    for (double scale : {1e-4, 1e-2, 0.2, 0.8, 2.0, 5.0, 12.0}) {
        for (int trial = 0; trial < 5; ++trial) {
            // A well-conditioned S = I + 0.2 G and real eigenvalues of size ~ scale.
            auto s = mat<long double, 4>::identity();
            for (auto& x : s) x += static_cast<long double>(0.2 * r.normal());
            std::array<long double, 4> d{};
            for (auto& x : d) x = static_cast<long double>(scale * r.normal());
            auto ed = mat<long double, 4>::zeros();
            for (std::size_t i = 0; i < 4; ++i) ed(i, i) = d[i];
            const auto a = (s * ed * inverse(s)).cast<double>();
            worst = std::max(worst, rel_err(expm_pade(a), expm_reference(s, d)));
        }
    }
    MESSAGE("expm worst relative error vs S e^D S^-1: " << worst);
    CHECK(worst < 1e-13);
    // Symmetric matrices: the Jacobi eigendecomposition V e^Λ Vᵀ.
    for (int trial = 0; trial < 10; ++trial) {
        const auto m = random_matrix<double, 5>(r, 1.5);
        const auto sym = sym_part(m);
        const auto ref = spectral_apply(eigh(sym), [](double l) { return std::exp(l); });
        CHECK(rel_err(expm_pade(sym), ref) < 1e-13);
    }
}

TEST_CASE("expm2 (closed form) agrees with Padé, including q near 0 and both signs of q") {
    widenn::rng r(3);
    double worst = 0;
    for (double scale : {1e-9, 1e-4, 0.03, 1.0, 5.0})
        for (int trial = 0; trial < 200; ++trial) {
            const auto a = random_matrix<double, 2>(r, scale);
            worst = std::max(worst, rel_err(expm2(a), expm_pade(a)));
        }
    CHECK(worst < 1e-13);
    // q exactly 0 (B nilpotent): e^A = e^s (I + B).
    const mat<double, 2> a{1.5, 2.0, 0.0, 1.5};
    CHECK(rel_err(expm2(a), mat<double, 2>{std::exp(1.5), 2 * std::exp(1.5), 0, std::exp(1.5)}) < 1e-15);
}

TEST_CASE("expm in float agrees with double") {
    widenn::rng r(5);
    for (int trial = 0; trial < 20; ++trial) {
        const auto a = random_matrix<double, 3>(r, 1.0);
        CHECK(rel_err(expm_pade(a.cast<float>()).cast<double>(), expm_pade(a)) < 2e-5);
    }
}

TEST_CASE("cyclic Jacobi: reconstruction, orthogonality, known eigenvalues") {
    widenn::rng r(7);
    for (int trial = 0; trial < 20; ++trial) {
        const auto s = sym_part(random_matrix<double, 6>(r));
        const auto e = eigh(s);
        auto lam = mat<double, 6>::zeros();
        for (std::size_t i = 0; i < 6; ++i) lam(i, i) = e.values[i];
        CHECK(abs_err(e.vectors * lam * transpose(e.vectors), s) < 1e-13);
        CHECK(abs_err(transpose(e.vectors) * e.vectors, mat<double, 6>::identity()) < 1e-14);
        for (std::size_t i = 1; i < 6; ++i) CHECK(e.values[i - 1] <= e.values[i]);
    }
    // Q diag(1e-8, 1, 1e4) Qᵀ: small relative eigenvalue errors even for the tiny one.
    const auto q = qr(random_matrix<double, 3>(r)).q;
    const mat<double, 3> d{1e-8, 0, 0, 0, 1, 0, 0, 0, 1e4};
    const auto e = eigh(q * d * transpose(q));
    CHECK(std::abs(e.values[1] - 1) < 1e-11);
    CHECK(std::abs(e.values[2] - 1e4) < 1e-9);
    CHECK(std::abs(e.values[0] - 1e-8) < 1e-11);  // absolute error ~ eps ‖S‖
}

TEST_CASE("SPD functions: exp/log round trip, sqrt (2x2 closed form and spectral), inverse sqrt") {
    widenn::rng r(9);
    for (int trial = 0; trial < 20; ++trial) {
        const auto x2 = sym_part(random_matrix<double, 2>(r, 1.5));
        const auto x3 = sym_part(random_matrix<double, 3>(r, 1.5));
        CHECK(abs_err(spd_log(spd_exp(x2)), x2) < 1e-13);
        CHECK(abs_err(spd_log(spd_exp(x3)), x3) < 1e-13);
        const auto p2 = spd_exp(x2);
        const auto p3 = spd_exp(x3);
        CHECK(rel_err(spd_sqrt(p2) * spd_sqrt(p2), p2) < 1e-14);
        CHECK(rel_err(spd_sqrt(p3) * spd_sqrt(p3), p3) < 1e-13);
        CHECK(rel_err(spd_sqrt(p2), spd_exp(x2 * 0.5)) < 1e-14);
        CHECK(rel_err(spd_inv_sqrt(p3) * p3 * spd_inv_sqrt(p3), mat<double, 3>::identity()) < 1e-13);
    }
}

TEST_CASE("2x2 SPD log (closed form) agrees with the Jacobi spectral log, also for condition number 1e10") {
    widenn::rng r(10);
    for (int trial = 0; trial < 50; ++trial) {
        const auto q = qr(random_matrix<double, 2>(r)).q;
        const double l0 = std::exp(3 * r.normal()), l1 = trial % 5 == 0 ? l0 * (1 + 1e-9 * r.uniform()) : std::exp(3 * r.normal());
        const auto p = sym_part(q * mat<double, 2>{l0, 0, 0, l1} * transpose(q));
        const auto ref = spectral_apply(eigh(p), [](double l) { return std::log(l); });
        CHECK(abs_err(spd_log(p), ref) < 1e-12 * std::max(1.0, max_abs(ref)));
    }
    const auto q = qr(random_matrix<double, 2>(r)).q;
    const auto p = sym_part(q * mat<double, 2>{1e-10, 0, 0, 1} * transpose(q));
    const auto e = eigh(spd_log(p));
    CHECK(e.values[0] == doctest::Approx(std::log(1e-10)).epsilon(1e-6));
    CHECK(std::abs(e.values[1]) < 1e-6);
}

TEST_CASE("polar decomposition: P SPD, R in SO(n), g = P R (2x2 closed form, Newton for n >= 3, ill-conditioned)") {
    widenn::rng r(13);
    auto check = [](const auto& g, double tol) {
        using M = std::decay_t<decltype(g)>;
        const auto f = polar(g);
        const std::size_t n = g.size();
        CHECK(rel_err(f.p * f.r, g) < tol);
        CHECK(abs_err(transpose(f.r) * f.r, M::identity(n)) < tol);
        CHECK(det(f.r) == doctest::Approx(1.0).epsilon(tol));
        CHECK(abs_err(f.p, transpose(f.p)) == 0.0);
        CHECK(eigh(f.p).values[0] > 0);
    };
    for (int trial = 0; trial < 20; ++trial) {
        auto g2 = random_matrix<double, 2>(r);
        if (det(g2) < 0) g2(0, 0) = -g2(0, 0), g2(1, 0) = -g2(1, 0);
        check(g2, 1e-13);
        auto g3 = random_matrix<double, 3>(r);
        if (det(g3) < 0) g3 = -g3;
        check(g3, 1e-13);
        // 2x2 closed form P equals (g gᵀ)^{1/2}.
        CHECK(rel_err(polar(g2).p, spd_sqrt(g2 * transpose(g2))) < 1e-13);
    }
    // Condition number 1e8: U diag(1, 1e4, 1e8) V with Haar-like orthogonal U, V.
    for (int trial = 0; trial < 5; ++trial) {
        auto u = qr(random_matrix<double, 3>(r)).q, v = qr(random_matrix<double, 3>(r)).q;
        if (det(u) < 0) u = -u;
        if (det(v) < 0) v = -v;
        const mat<double, 3> d{1, 0, 0, 0, 1e4, 0, 0, 0, 1e8};
        const auto g = u * d * v;
        const auto f = polar(g);
        CHECK(abs_err(f.r, u * v) < 1e-9);  // R = U V exactly; the smallest singular direction limits the accuracy
        CHECK(abs_err(transpose(f.r) * f.r, mat<double, 3>::identity()) < 1e-14);
    }
    // Dynamic size, n = 5.
    auto g5 = random_matrix<double, dynamic>(r, 1.0, 5);
    if (det(g5) < 0) g5 = -g5;
    check(g5, 1e-12);
}

TEST_CASE("QR: Q orthogonal, R upper triangular, Q R = A (fixed and dynamic)") {
    widenn::rng r(17);
    const auto a = random_matrix<double, 4>(r);
    const auto [q, rr] = qr(a);
    CHECK(rel_err(q * rr, a) < 1e-14);
    CHECK(abs_err(transpose(q) * q, mat<double, 4>::identity()) < 1e-14);
    for (std::size_t i = 0; i < 4; ++i)
        for (std::size_t j = 0; j < i; ++j) CHECK(rr(i, j) == 0.0);
    const auto ad = random_matrix<double, dynamic>(r, 1.0, 6);
    const auto fd = qr(ad);
    CHECK(rel_err(fd.q * fd.r, ad) < 1e-14);
}

TEST_CASE("principal logarithm: round trips (2x2 closed form, inverse scaling and squaring for n >= 3)") {
    widenn::rng r(19);
    for (double scale : {1e-6, 0.1, 0.6, 1.0}) {
        for (int trial = 0; trial < 20; ++trial) {
            const auto x2 = random_matrix<double, 2>(r, scale);
            const auto x3 = random_matrix<double, 3>(r, scale);
            const auto x4 = random_matrix<double, dynamic>(r, scale, 4);
            // Small enough that the eigenvalues' imaginary parts lie in (-π, π): log(exp X) = X.
            CHECK(abs_err(logm(expm(x2)), x2) < 1e-12);
            CHECK(abs_err(logm(expm(x3)), x3) < 1e-12);
            CHECK(abs_err(logm(expm(x4)), x4) < 1e-12);
        }
    }
    // Rotation by 3.1 (eigenvalues e^{±3.1i}, near the negative axis) and a complex pair with s < 0.
    const double t = 3.1;
    const mat<double, 2> rot{std::cos(t), -std::sin(t), std::sin(t), std::cos(t)};
    CHECK(abs_err(logm(rot), mat<double, 2>{0, -t, t, 0}) < 1e-13);
    const mat<double, 3> rot3{std::cos(t), -std::sin(t), 0, std::sin(t), std::cos(t), 0, 0, 0, 2.0};
    CHECK(abs_err(logm(rot3), mat<double, 3>{0, -t, 0, t, 0, 0, 0, 0, std::log(2.0)}) < 1e-10);
    // Float.
    const auto xf = random_matrix<float, 2>(r, 0.5);
    CHECK(abs_err(logm(expm(xf)), xf) < 1e-5f);
}

TEST_CASE("dynamic sizes give the same results as fixed sizes") {
    widenn::rng r(23);
    const auto a = random_matrix<double, 4>(r, 2.0);
    mat<double, dynamic> ad(4);
    std::copy(a.begin(), a.end(), ad.begin());
    const auto ef = expm(a);
    const auto ed = expm(ad);
    for (std::size_t i = 0; i < 4; ++i)
        for (std::size_t j = 0; j < 4; ++j) CHECK(ed(i, j) == doctest::Approx(ef(i, j)).epsilon(1e-15));
    const auto sd = sym_part(ad);
    CHECK(abs_err(spd_log(spd_exp(sd)), sd) < 1e-13);
}

TEST_CASE("bad input: errors name the violated property") {
    const mat<double, 2> nonsym{1, 2, 0, 1};
    CHECK_THROWS_WITH_AS(spd_log(nonsym), doctest::Contains("not symmetric"), widenn::error);
    const mat<double, 3> indefinite{1, 0, 0, 0, -2, 0, 0, 0, 3};
    CHECK_THROWS_WITH_AS(spd_log(indefinite), doctest::Contains("not positive definite"), widenn::error);
    CHECK_THROWS_WITH_AS(spd_sqrt(mat<double, 2>{1, 0, 0, -1}), doctest::Contains("not positive definite"), widenn::error);
    CHECK_THROWS_WITH_AS(polar(mat<double, 2>{1, 0, 0, -1}), doctest::Contains("det g = -1"), widenn::error);
    CHECK_THROWS_WITH_AS(polar(mat<double, 3>{1, 0, 0, 0, 1, 0, 0, 0, -1}), doctest::Contains("expected > 0"), widenn::error);
    CHECK_THROWS_WITH_AS(logm(mat<double, 2>{-2, 0, 0, -0.5}), doctest::Contains("no principal logarithm"), widenn::error);
    CHECK_THROWS_WITH_AS(logm(mat<double, 2>{-2, 0, 0, 0.5}), doctest::Contains("det"), widenn::error);
    CHECK_THROWS_AS(logm(mat<double, 3>{-2, 0, 0, 0, -0.5, 0, 0, 0, 1}), widenn::numerical_error);
    const double nan = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_WITH_AS(expm(mat<double, 3>{nan, 0, 0, 0, 0, 0, 0, 0, 0}), doctest::Contains("non-finite"), widenn::error);
    CHECK_THROWS_AS(expm(mat<double, 3>{1e5, 0, 0, 0, 0, 0, 0, 0, 0}), widenn::numerical_error);
}

TEST_CASE("xtensor interop: from_xtensor / to_xtensor round trip, fixed sizes checked") {
    xt::xtensor<double, 2> a = {{0.1, 0.2, 0.0}, {-0.3, 0.0, 0.5}, {0.2, 0.1, -0.4}};
    const auto e = to_xtensor(expm(from_xtensor(a)));
    const auto ef = expm(from_xtensor<3>(a));
    for (std::size_t i = 0; i < 3; ++i)
        for (std::size_t j = 0; j < 3; ++j) CHECK(e(i, j) == doctest::Approx(ef(i, j)).epsilon(1e-15));
    CHECK_THROWS_WITH_AS(from_xtensor<2>(a), doctest::Contains("must be 2 x 2, got 3 x 3"), widenn::shape_error);
    xt::xtensor<double, 2> rect = xt::zeros<double>({2, 3});
    CHECK_THROWS_AS(from_xtensor(rect), widenn::shape_error);
}
