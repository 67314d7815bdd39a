// limit::kernel: agreement with a plain transcription of the recursion, closed forms, identities, SIMD duals
// against act::dual, symmetry and PSD, stability at depth 200, blocks, float, errors.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <numbers>

#include <widenn/act/activations.hpp>
#include <xtensor/xview.hpp>

#include <widenn/core/rng.hpp>
#include <widenn/limit/kernel.hpp>
#include <widenn/limit/predict.hpp>
#include <widenn/limit/solvers.hpp>

namespace wn = widenn;
namespace lim = widenn::limit;
namespace act = widenn::act;
using wn::matrix;

namespace {
// A plain transcription of neural-tangents' recursion for one pair (docs/theory/kernel-limits.md §1), independent of the
// blocked code: carries (k11, k12, k22, Θ) through Dense and activation layers.
template <class A>
std::pair<double, double> reference_pair(const double* x, const double* y, std::size_t d, int depth, double wv, double bv,
                                         bool ntk_param, double width = 0, bool bias = true) {
    double k11 = 0, k12 = 0, k22 = 0;
    for (std::size_t i = 0; i < d; ++i) k11 += x[i] * x[i], k12 += x[i] * y[i], k22 += y[i] * y[i];
    k11 /= double(d), k12 /= double(d), k22 /= double(d);
    double theta = 0, in_width = double(d);
    for (int l = 0; l <= depth; ++l) {
        if (l > 0) {
            const auto t12 = act::dual<A>(k11, k12, k22), t11 = act::dual<A>(k11, k11, k11), t22 = act::dual<A>(k22, k22, k22);
            theta *= t12.derivative;
            k11 = t11.value, k12 = t12.value, k22 = t22.value;
        }
        const double s11 = wv * k11 + bv, s12 = wv * k12 + bv, s22 = wv * k22 + bv;
        theta = ntk_param ? s12 + wv * theta : in_width * k12 + wv * theta + (bias ? 1.0 : 0.0);
        k11 = s11, k12 = s12, k22 = s22;
        in_width = width;
    }
    return {k12, theta};
}

template <class K, class A>
double worst_relative_error(const matrix<double>& x, const matrix<double>& y, const lim::kernel_config& c, bool ntk_param) {
    const auto [s, t] = K::kernels(x, y, c);
    const auto [ss, ts] = K::kernels(x, c);
    double worst = 0;
    const std::size_t d = x.shape()[1];
    for (std::size_t i = 0; i < x.shape()[0]; ++i) {
        for (std::size_t j = 0; j < y.shape()[0]; ++j) {
            const auto [rs, rt] = reference_pair<A>(&x(i, 0), &y(j, 0), d, K::depth, c.weight_var, c.bias_var, ntk_param, double(c.width));
            worst = std::max({worst, std::abs(s(i, j) - rs) / std::abs(rs), std::abs(t(i, j) - rt) / std::abs(rt)});
        }
        for (std::size_t j = 0; j < x.shape()[0]; ++j) {
            const auto [rs, rt] = reference_pair<A>(&x(i, 0), &x(j, 0), d, K::depth, c.weight_var, c.bias_var, ntk_param, double(c.width));
            worst = std::max({worst, std::abs(ss(i, j) - rs) / std::abs(rs), std::abs(ts(i, j) - rt) / std::abs(rt)});
            REQUIRE(ss(i, j) == ss(j, i));
            REQUIRE(ts(i, j) == ts(j, i));
        }
    }
    return worst;
}
}  // namespace

TEST_CASE("kernel: the blocked, threaded, SIMD kernels equal the plain recursion") {
    const auto x = widenn::normal_matrix(37, 5, 1), y = widenn::normal_matrix(23, 5, 2);
    const lim::kernel_config c{.weight_var = 1.7, .bias_var = 0.2, .width = 300, .block = 8};
    CHECK(worst_relative_error<lim::kernel<wn::param::ntk, act::relu, 3>, act::relu>(x, y, c, true) < 1e-12);
    CHECK(worst_relative_error<lim::kernel<wn::param::ntk, act::erf<>, 3>, act::erf<>>(x, y, c, true) < 1e-12);
    CHECK(worst_relative_error<lim::kernel<wn::param::ntk, act::gelu, 2>, act::gelu>(x, y, c, true) < 1e-12);
    CHECK(worst_relative_error<lim::kernel<wn::param::ntk, act::abrelu<-0.5, 2.0>, 4>, act::abrelu<-0.5, 2.0>>(x, y, c, true) < 1e-12);
    CHECK(worst_relative_error<lim::kernel<wn::param::standard_lr_1_over_n, act::relu, 3>, act::relu>(x, y, c, false) < 1e-12);
    CHECK(worst_relative_error<lim::kernel<wn::param::standard_lr_1_over_n, act::erf<>, 3>, act::erf<>>(x, y, c, false) < 1e-12);
    // quadrature (tanh has no closed form): fewer points, the per-entry cost is degree²
    const auto xs = widenn::normal_matrix(5, 3, 3), ys = widenn::normal_matrix(4, 3, 4);
    CHECK(worst_relative_error<lim::kernel<wn::param::ntk, act::tanh, 2>, act::tanh>(xs, ys, c, true) < 1e-12);
    // the standard parametrization without biases
    lim::kernel_config nb = c;
    nb.bias = false;
    nb.bias_var = 0;
    const auto [s, t] = lim::kernel<wn::param::standard_lr_1_over_n, act::relu, 2>::kernels(x, y, nb);
    const auto [rs, rt] = reference_pair<act::relu>(&x(3, 0), &y(5, 0), 5, 2, 1.7, 0.0, false, 300, false);
    CHECK(s(3, 5) == doctest::Approx(rs).epsilon(1e-13));
    CHECK(t(3, 5) == doctest::Approx(rt).epsilon(1e-13));
}

#ifdef WIDENN_USE_XSIMD
TEST_CASE("kernel: SIMD duals equal act::dual (ReLU family, erf), including |rho| -> 1 and zero variance") {
    const double cases[][3] = {{1.3, 0.4, 0.7},  {0.9, -0.8, 1.6}, {2.0, 0.99 * 1.0, 0.5}, {1.0, 1.0, 1.0},
                               {1.0, -1.0, 1.0}, {0.0, 0.0, 1.0},  {0.0, 0.0, 0.0},        {1e-3, 3e-4, 2e-3}};
    auto check = [&](auto activation) {
        using A = decltype(activation);
        using V = xsimd::batch<double>;
        for (const auto& q : cases) {
            const auto ref = act::dual<A>(q[0], q[1], q[2]);
            const auto simd = lim::detail::simd_dual<A>::eval(V(q[0]), V(q[1]), V(q[2]));
            const V t = simd.value, td = simd.derivative;
            const double scale = std::max({1.0, std::abs(ref.value), std::abs(ref.derivative)});
            CHECK(std::abs(t.get(0) - ref.value) <= 1e-14 * scale);
            CHECK(std::abs(td.get(0) - ref.derivative) <= 1e-14 * scale);
        }
    };
    check(act::relu{});
    check(act::abs{});
    check(act::leaky_relu<0.1>{});
    check(act::abrelu<-0.5, 2.0>{});
    check(act::erf<2.0, 0.5, 0.3>{});
    check(act::sigmoid_like{});
}

namespace {
// A kernel whose first layer is exact in double: x = (m1, m2), x' = (m1 + k, m2 − 2k) for k = 1..8 with m1, m2 ~ 2^24.5
// (angles 4e-8 .. 3e-7), integer Gram values below 2^52 halved, σw² = 2 and σb² = 0, so Σ¹ is exact and its
// discriminant has ~104-bit products. The reference is the same one-hidden-layer recursion in long double (64-bit
// significand) from act's duals. The naive discriminant q11 q22 − q12² in double is the formula the vector path used
// before, kept here to show that the test can fail (it loses the angle, and Ṫ = (π − θ)/2π with it: relative errors
// near 1e-8 in Ṫ and the NTK).
template <class A>
void near_parallel_against_long_double(double tolerance) {
    using R = long double;
    const double m1 = 23456789.0, m2 = 19876543.0;
    wn::matrix<double> x1 = {{m1, m2}};
    wn::matrix<double> x2 = xt::zeros<double>({std::size_t{8}, std::size_t{2}});
    for (std::size_t k = 0; k < 8; ++k) x2(k, 0) = m1 + double(k + 1), x2(k, 1) = m2 - 2.0 * double(k + 1);
    const lim::kernel_config c{.weight_var = 2.0, .bias_var = 0.0};
    const auto [nngp, ntk] = lim::kernel<wn::param::ntk, A, 1>::kernels(x1, x2, c);
    double worst = 0, worst_naive = 0;
    for (std::size_t k = 0; k < 8; ++k) {
        const R q11 = (R(m1) * m1 + R(m2) * m2) / 2, q22 = (R(x2(k, 0)) * x2(k, 0) + R(x2(k, 1)) * x2(k, 1)) / 2;
        const R q12 = (R(m1) * x2(k, 0) + R(m2) * x2(k, 1)) / 2;
        const R s11 = 2 * q11, s22 = 2 * q22, s12 = 2 * q12;  // Σ¹ = Θ¹
        const auto d = act::dual<A>(s11, s12, s22);
        const R sigma = 2 * d.value, theta = sigma + 2 * d.derivative * s12;
        worst = std::max({worst, double(std::abs((R(nngp(0, k)) - sigma) / sigma)), double(std::abs((R(ntk(0, k)) - theta) / theta))});
        // the naive discriminant in double, through the same closed form
        const double a = double(s11), b = double(s22), q = double(s12);
        const double delta = std::sqrt(std::max(a * b - q * q, 0.0));
        const double angle = std::atan2(delta, q);
        if constexpr (std::is_same_v<A, act::relu>) {
            const double naive_tdot = (std::numbers::pi - angle) / (2 * std::numbers::pi);  // Ṫ, linear in θ
            worst_naive = std::max(worst_naive, double(std::abs((R(naive_tdot) - d.derivative) / d.derivative)));
        }
    }
    MESSAGE("worst relative error against long double, θ ~ 1e-8: ", worst);
    CHECK(worst < tolerance);
    if constexpr (std::is_same_v<A, act::relu>) CHECK(worst_naive > 100 * tolerance);
}
}  // namespace

TEST_CASE("kernel: variances outside the vector path's range (1e-200) take the scalar duals and give the same kernel") {
    // ReLU without biases is positively homogeneous: scaling the inputs by s scales Σ and Θ (NTK parametrization) by s².
    const auto x = widenn::normal_matrix(6, 4, 21);
    const double s = 1e-100;
    const wn::matrix<double> tiny = x * s;
    const lim::kernel_config c{.weight_var = 2.0, .bias_var = 0.0};
    const auto [n1, t1] = lim::kernel<wn::param::ntk, act::relu, 3>::kernels(x, c);
    const auto [n2, t2] = lim::kernel<wn::param::ntk, act::relu, 3>::kernels(tiny, c);
    for (std::size_t i = 0; i < 6; ++i)
        for (std::size_t j = 0; j < 6; ++j) {
            CHECK(n2(i, j) / (s * s) == doctest::Approx(n1(i, j)).epsilon(1e-13));
            CHECK(t2(i, j) / (s * s) == doctest::Approx(t1(i, j)).epsilon(1e-13));
        }
}

TEST_CASE("kernel: nearly parallel inputs (angle ~1e-8) keep full precision in the vector path, against long double") {
    near_parallel_against_long_double<act::relu>(4e-16);
    near_parallel_against_long_double<act::abs>(4e-16);
    near_parallel_against_long_double<act::erf<>>(4e-16);
}
#endif

namespace {
// erf without its closed form: the kernel then runs on Gauss–Hermite quadrature (act::dual's fallback).
struct erf_by_quadrature {
    static constexpr std::string_view name = "erf_by_quadrature";
    template <class T>
    static T value(T x) { return act::erf<>::value(x); }
    template <class T>
    static T derivative(T x) { return act::erf<>::derivative(x); }
};
}  // namespace

TEST_CASE("kernel: quadrature kernels equal the closed-form kernels within 1e-8 (smooth activation)") {
    static_assert(!act::has_closed_form_dual<erf_by_quadrature>);
    // variances kept near 1: at q = 5 the default-degree quadrature of E[φ'(u)²] = E[(4/π)e^{-2u²}] is only good to 1e-4
    // (the integrand is narrow against the Gaussian), which is act/'s documented limit, not the recursion's
    matrix<double> x = widenn::normal_matrix(6, 4, 12);
    for (std::size_t i = 0; i < 6; ++i) {
        double norm = 0;
        for (std::size_t k = 0; k < 4; ++k) norm += x(i, k) * x(i, k);
        for (std::size_t k = 0; k < 4; ++k) x(i, k) *= std::sqrt(4.0 / norm);
    }
    const lim::kernel_config c{.weight_var = 1.0, .bias_var = 0.1};
    const auto closed = lim::kernel<wn::param::ntk, act::erf<>, 3>::kernels(x, c);
    const auto quad = lim::kernel<wn::param::ntk, erf_by_quadrature, 3>::kernels(x, c);
    CHECK(xt::allclose(quad.nngp, closed.nngp, 1e-8, 1e-10));
    CHECK(xt::allclose(quad.ntk, closed.ntk, 1e-8, 1e-10));
}

TEST_CASE("kernel: closed forms (linear network; one hidden ReLU layer) and ABReLU identities") {
    const auto x = widenn::normal_matrix(6, 4, 5);
    // identity and abrelu(a, a) = a·x: Σ^{L+1} = σw^{2(L+1)} a^{2L} x·x'/d, Θ^{L+1} = (L+1) Σ^{L+1}
    const double wv = 1.3, a = 1.5;
    const auto [si, ti] = lim::kernel<wn::param::ntk, act::identity, 3>::kernels(x, {.weight_var = wv});
    const auto [sa, ta] = lim::kernel<wn::param::ntk, act::abrelu<1.5, 1.5>, 3>::kernels(x, {.weight_var = wv});
    for (std::size_t i = 0; i < 6; ++i)
        for (std::size_t j = 0; j < 6; ++j) {
            double g = 0;
            for (std::size_t k = 0; k < 4; ++k) g += x(i, k) * x(j, k) / 4;
            CHECK(si(i, j) == doctest::Approx(std::pow(wv, 4) * g).epsilon(1e-13));
            CHECK(ti(i, j) == doctest::Approx(4 * std::pow(wv, 4) * g).epsilon(1e-13));
            CHECK(sa(i, j) == doctest::Approx(std::pow(wv, 4) * std::pow(a, 6) * g).epsilon(1e-13));
            CHECK(ta(i, j) == doctest::Approx(4 * std::pow(wv, 4) * std::pow(a, 6) * g).epsilon(1e-13));
        }
    // abrelu(0, 1) is relu
    const auto [sr, tr] = lim::kernel<wn::param::ntk, act::relu, 4>::kernels(x, {.weight_var = 2, .bias_var = 0.1});
    const auto [s01, t01] = lim::kernel<wn::param::ntk, act::abrelu<0.0, 1.0>, 4>::kernels(x, {.weight_var = 2, .bias_var = 0.1});
    CHECK(xt::allclose(sr, s01, 1e-14, 0));
    CHECK(xt::allclose(tr, t01, 1e-14, 0));
    // one hidden ReLU layer by hand (Cho & Saul 2009 arc-cosine kernel, NT's conventions)
    const double bv = 0.3;
    const auto [s1, t1] = lim::kernel<wn::param::ntk, act::relu, 1>::kernels(x, {.weight_var = wv, .bias_var = bv});
    double n0 = 0, n1 = 0, g = 0;
    for (std::size_t k = 0; k < 4; ++k) n0 += x(0, k) * x(0, k) / 4, n1 += x(1, k) * x(1, k) / 4, g += x(0, k) * x(1, k) / 4;
    const double q11 = wv * n0 + bv, q22 = wv * n1 + bv, q12 = wv * g + bv;
    const double angle = std::acos(q12 / std::sqrt(q11 * q22)), pi = std::numbers::pi;
    const double t = (std::sqrt(q11 * q22 - q12 * q12) + (pi - angle) * q12) / (2 * pi), tdot = (pi - angle) / (2 * pi);
    CHECK(s1(0, 1) == doctest::Approx(wv * t + bv).epsilon(1e-12));
    CHECK(t1(0, 1) == doctest::Approx(wv * t + bv + wv * tdot * q12).epsilon(1e-12));
    CHECK(s1(0, 0) == doctest::Approx(wv * q11 / 2 + bv).epsilon(1e-14));
}

TEST_CASE("kernel: symmetric and positive semi-definite on random inputs") {
    const auto x = widenn::normal_matrix(40, 7, 6);
    auto check = [&](const matrix<double>& k) {
        const auto e = lim::eigh(k);
        double trace = 0;
        for (std::size_t i = 0; i < 40; ++i) trace += k(i, i);
        CHECK(e.values(0) >= -1e-10 * trace);
        CHECK(xt::all(xt::equal(k, xt::transpose(k))));
    };
    const lim::kernel_config c{.weight_var = 2.0, .bias_var = 0.05, .block = 16};
    const auto [sr, tr] = lim::kernel<wn::param::ntk, act::relu, 3>::kernels(x, c);
    const auto [se, te] = lim::kernel<wn::param::ntk, act::erf<>, 3>::kernels(x, c);
    const auto [sg, tg] = lim::kernel<wn::param::ntk, act::gelu, 3>::kernels(x, c);
    for (const auto* k : {&sr, &tr, &se, &te, &sg, &tg}) check(*k);
}

TEST_CASE("kernel: finite at depth 200 for nearly parallel and zero inputs") {
    matrix<double> x = widenn::normal_matrix(4, 6, 7);
    for (std::size_t k = 0; k < 6; ++k) {
        x(1, k) = x(0, k) * (1 + 1e-12 * double(k));  // nearly parallel
        x(3, k) = 0.0;                                 // zero input
    }
    auto check = [&](const auto& pair, double diag_nngp) {
        CHECK(xt::all(xt::isfinite(pair.nngp)));
        CHECK(xt::all(xt::isfinite(pair.ntk)));
        CHECK(pair.nngp(0, 0) == doctest::Approx(diag_nngp).epsilon(1e-10));
    };
    double n0 = 0;
    for (std::size_t k = 0; k < 6; ++k) n0 += x(0, k) * x(0, k) / 6;
    // ReLU with σw² = 2, σb² = 0 preserves the variance: Σ^l(x, x) = 2|x|²/d at every layer
    check(lim::kernel<wn::param::ntk, act::relu, 200>::kernels(x, {.weight_var = 2.0}), 2 * n0);
    const auto relu = lim::kernel<wn::param::ntk, act::relu, 200>::kernels(x, {.weight_var = 2.0});
    CHECK(relu.nngp(3, 3) == 0.0);
    CHECK(relu.nngp(0, 3) == 0.0);
    // NTK diagonal of variance-preserving ReLU: Θ^{L+1}(x, x) = (L+1)·Σ(x, x)
    CHECK(relu.ntk(0, 0) == doctest::Approx(201 * 2 * n0).epsilon(1e-10));
    const auto erf = lim::kernel<wn::param::ntk, act::erf<>, 200>::kernels(x, {.weight_var = 1.5, .bias_var = 0.1});
    CHECK(xt::all(xt::isfinite(erf.nngp)));
    CHECK(xt::all(xt::isfinite(erf.ntk)));
    // zero input: Σ¹ = σb², then the bias-only recursion
    CHECK(erf.nngp(3, 3) > 0.1);
}

TEST_CASE("kernel: blocks of a plan equal the whole kernel; float agrees with double") {
    const auto x = widenn::normal_matrix(30, 9, 8), y = widenn::normal_matrix(17, 9, 9);
    using K = lim::kernel<wn::param::ntk, act::erf<>, 2>;
    const lim::kernel_config c{.weight_var = 1.2, .bias_var = 0.1, .block = 7};
    const auto whole = K::kernels(x, y, c);
    const auto plan = K::plan(x, y, c);
    const auto part = plan.block(4, 19, 3, 11);
    CHECK(xt::allclose(part.nngp, xt::view(whole.nngp, xt::range(4, 19), xt::range(3, 11)), 1e-14, 0));
    CHECK(xt::allclose(part.ntk, xt::view(whole.ntk, xt::range(4, 19), xt::range(3, 11)), 1e-14, 0));
    const auto sym = K::kernels(x, c);
    const auto sym_part = K::plan(x, c).block(10, 25, 2, 30);  // crosses the diagonal
    CHECK(xt::allclose(sym_part.ntk, xt::view(sym.ntk, xt::range(10, 25), xt::range(2, 30)), 1e-14, 0));
    // upper triangle only (fill_lower = false), into reused storage
    lim::kernel_config upper = c;
    upper.fill_lower = false;
    lim::kernel_pair<double> reused;
    K::plan(x, upper).compute_into(reused);
    const double* storage = reused.ntk.data();
    K::plan(x, upper).compute_into(reused);
    CHECK(reused.ntk.data() == storage);
    for (std::size_t i = 0; i < 30; ++i)
        for (std::size_t j = i; j < 30; ++j) {
            REQUIRE(reused.ntk(i, j) == sym.ntk(i, j));
            REQUIRE(reused.nngp(i, j) == sym.nngp(i, j));
        }
    const auto f = K::kernels<float>(x, y, c);
    CHECK(xt::allclose(xt::cast<double>(f.ntk), whole.ntk, 1e-5, 1e-5));
    lim::kernel_config nngp_only = c;
    nngp_only.compute_ntk = false;
    const auto only = K::kernels(x, y, nngp_only);
    CHECK(only.ntk.size() == 0);
    CHECK(xt::allclose(only.nngp, whole.nngp, 1e-15, 0));
}

TEST_CASE("kernel: bad input is a clear error") {
    using K = lim::kernel<wn::param::ntk, act::relu, 2>;
    const auto x = widenn::normal_matrix(5, 3, 10), y = widenn::normal_matrix(4, 2, 11);
    CHECK_THROWS_AS(K::kernels(x, y), wn::shape_error);
    CHECK_THROWS_WITH(K::kernels(x, y), doctest::Contains("same number of features"));
    matrix<double> bad = x;
    bad(2, 1) = std::nan("");
    CHECK_THROWS_WITH(K::kernels(bad), doctest::Contains("non-finite"));
    const matrix<double> empty = xt::zeros<double>({std::size_t(0), std::size_t(3)});
    CHECK_THROWS_AS(K::kernels(empty), wn::shape_error);
    CHECK_THROWS_WITH(K::kernels(x, {.weight_var = -1}), doctest::Contains("weight_var"));
    CHECK_THROWS_WITH((lim::kernel<wn::param::standard_lr_1_over_n, act::relu, 2>::kernels(x)), doctest::Contains("width"));
    CHECK_THROWS_AS(K::plan(x).block(0, 6, 0, 2), wn::error);
}

TEST_CASE("kernel overflow is refused before the work, naming the cause, instead of NaN or inf entries") {
    using K = widenn::limit::kernel_plan<widenn::param::ntk, widenn::act::relu, double>;
    widenn::matrix<double> x = widenn::normal_matrix(4, 3, 1);
    // Entries of 1e155: x·x/d overflows double (relu's dual would then give NaN rows).
    widenn::matrix<double> huge = x * 1e155;
    CHECK_THROWS_WITH_AS(K(huge, 1, {}), doctest::Contains("squared norm / d that overflows double"), widenn::numerical_error);
    CHECK_THROWS_WITH_AS(K(x, huge, 1, {}), doctest::Contains("row 0 of X2"), widenn::numerical_error);
    // relu with weight_var 4 doubles Σ per layer: 2^1100 overflows near layer 1024, which the message names.
    CHECK_THROWS_WITH_AS(K(x, 1100, {.weight_var = 4.0}), doctest::Contains("overflows double at layer 10"), widenn::numerical_error);
    // In float the same network overflows about 900 layers earlier.
    using KF = widenn::limit::kernel_plan<widenn::param::ntk, widenn::act::relu, float>;
    CHECK_THROWS_WITH_AS(KF(x, 200, {.weight_var = 4.0}), doctest::Contains("overflows float at layer 12"), widenn::numerical_error);
    // Standard parametrization, erf with weight_var 100: σw²·Σ̇ ≈ 6 > 1, so the NTK diagonal grows geometrically with depth.
    using KS = widenn::limit::kernel_plan<widenn::param::standard_lr_1_over_n, widenn::act::erf<>, double>;
    CHECK_THROWS_WITH_AS(KS(x, 1000, {.weight_var = 100.0, .width = 1000}), doctest::Contains("NTK diagonal"),
                         widenn::numerical_error);
    // Right below the thresholds everything is finite.
    const auto fine = K(x * 1e150, 1, {}).compute();
    CHECK(xt::all(xt::isfinite(fine.ntk)));
}

TEST_CASE("predictions refuse non-finite kernels and initial outputs") {
    const widenn::matrix<double> x = widenn::normal_matrix(5, 3, 2);
    const auto k = widenn::limit::kernel<widenn::param::ntk, widenn::act::relu, 1>::kernels(x, {.weight_var = 2.0});
    const widenn::matrix<double> y = widenn::normal_matrix(5, 1, 3);
    const widenn::limit::gradient_descent_mse flow(k.ntk, y, {.lr = 1.0});
    widenn::matrix<double> test = k.ntk;
    test(1, 2) = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_WITH_AS(flow.test(test, 10.0), doctest::Contains("Θ_*D"), widenn::error);
    widenn::matrix<double> f0 = xt::zeros<double>({5, 1});
    f0(3, 0) = std::numeric_limits<double>::infinity();
    CHECK_THROWS_AS(flow.test(k.ntk, 10.0, f0), widenn::error);
    CHECK_THROWS_AS(flow.train(10.0, f0), widenn::error);
}

TEST_CASE("a kernel larger than memory is refused before allocating, with the size and what to do") {
    const widenn::matrix<double> x = xt::ones<double>({std::size_t{1000000}, std::size_t{1}});
    const lim::kernel_plan<wn::param::ntk, act::relu, double> plan(x, 1, {});
    // 10^12 entries x 8 bytes x 2 kernels = 16 TB.
    CHECK_THROWS_WITH_AS(plan.compute(), doctest::Contains("needs 16 TB of memory"), widenn::error);
    CHECK_THROWS_WITH_AS(plan.compute(), doctest::Contains("block_into"), widenn::error);
    // A block of it is fine.
    CHECK(plan.block(0, 2, 0, 3).nngp.shape(1) == 3);
}

TEST_CASE("solvers refuse non-finite right-hand sides") {
    const widenn::matrix<double> a = {{4.0, 1.0}, {1.0, 3.0}};
    const lim::cholesky_factor chol(a);
    widenn::matrix<double> b = {{1.0}, {std::numeric_limits<double>::quiet_NaN()}};
    CHECK_THROWS_WITH_AS(chol.solve(b), doctest::Contains("right-hand side"), widenn::error);
    widenn::vector<double> v = {std::numeric_limits<double>::infinity(), 0.0};
    CHECK_THROWS_AS(chol.solve(v), widenn::error);
}
