// Activation policies: derivatives, identities between policies, exact values, edge cases, the quadrature rule,
// the lazy xtensor forms and input checking. (Closed form against quadrature and Monte Carlo: duals.cpp.)
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <numbers>
#include <string>

#include <xtensor/xtensor.hpp>

#include <widenn/act/dual.hpp>
#include <widenn/act/xtensor.hpp>

#include "test_lists.hpp"

namespace act = widenn::act;
using namespace widenn::act::testing;
using std::numbers::pi;

namespace {
// |a − b| ≤ rel·max(|a|, |b|) + abs (doctest's Approx treats 0 == 0 with scale 0 as a mismatch).
bool near(double a, double b, double rel, double abs = 0.0) { return std::abs(a - b) <= rel * std::max(std::abs(a), std::abs(b)) + abs; }
}  // namespace

TEST_CASE("derivative agrees with central differences for every activation") {
    const double points[] = {-2.3, -1.1, -0.35, 0.2, 0.8, 1.7, 2.6};  // away from the kinks at 0
    for_each(everything{}, [&]<class A>(std::type_identity<A>, int index) {
        INFO(label(A::name, index));
        for (double x : points) {
            INFO("x = ", x);
            const double h = 1e-5;
            const double difference = (A::value(x + h) - A::value(x - h)) / (2 * h);
            const double derivative = A::derivative(x);
            CHECK(std::abs(difference - derivative) <= 1e-7 * std::max(1.0, std::abs(derivative)));
            // The float instantiation computes the same function.
            CHECK(static_cast<double>(A::value(static_cast<float>(x))) ==
                  doctest::Approx(A::value(static_cast<double>(static_cast<float>(x)))).epsilon(1e-5).scale(1.0));
        }
    });
}

TEST_CASE("activation values at known points") {
    CHECK(act::relu::value(-2.0) == 0.0);
    CHECK(act::relu::value(3.0) == 3.0);
    CHECK(act::leaky_relu<0.1>::value(-2.0) == doctest::Approx(-0.2));
    CHECK(act::abs::value(-2.5) == 2.5);
    CHECK(act::sign::value(-0.1) == -1.0);
    CHECK(act::sign::value(0.0) == 0.0);
    CHECK(act::erf<2.0, 0.5, 1.0>::value(1.0) == doctest::Approx(2 * std::erf(0.5) + 1));
    CHECK(act::gelu::value(1.0) == doctest::Approx(0.8413447460685429));
    CHECK(act::gelu::value(-40.0) == 0.0);  // no NaN far in the tail
    CHECK(act::softplus::value(800.0) == 800.0);
    CHECK(act::softplus::value(-800.0) == 0.0);
    CHECK(act::sigmoid::value(-800.0) == 0.0);
    CHECK(act::sigmoid::value(0.0) == 0.5);
    CHECK(act::rbf<2.0>::value(0.0) == doctest::Approx(1.0));
    CHECK(act::hermite<3>::value(2.0) == doctest::Approx((8.0 - 6.0) / std::sqrt(6.0)));
    CHECK(act::hermite<4>::value(1.5) == doctest::Approx((std::pow(1.5, 4) - 6 * 1.5 * 1.5 + 3) / std::sqrt(24.0)));
    CHECK(act::monomial<3>::value(-2.0) == -8.0);
    CHECK(act::polynomial<1.0, -2.0, 3.0>::value(2.0) == 9.0);
    CHECK(act::polynomial<1.0, -2.0, 3.0>::derivative(2.0) == 10.0);
    // sigmoid_like is neural-tangents' erf fit to the logistic: close, not equal.
    double gap = 0;
    for (double x = -5; x <= 5; x += 0.01) gap = std::max(gap, std::abs(act::sigmoid_like::value(x) - act::sigmoid::value(x)));
    CHECK(gap < 0.01);
    CHECK(gap > 1e-3);
}

TEST_CASE("ABReLU identities: abrelu<0,1> = relu, abrelu<a,a> = a*identity, leaky_relu and abs") {
    const covariance settings[] = {{1.3, 0.4, 0.7, ""}, {0.9, -0.8, 1.6, ""}, {2.0, 0.99, 0.5, ""}, {1.0, -1.0, 1.0, ""},
                                   {1e-9, 3e-10, 2e-9, ""}, {0.0, 0.0, 1.0, ""}};
    for (const auto& s : settings) {
        INFO("(q11, q12, q22) = (", s.q11, ", ", s.q12, ", ", s.q22, ")");
        const auto relu = act::relu::dual(s.q11, s.q12, s.q22);
        const auto ab01 = act::abrelu<0.0, 1.0>::dual(s.q11, s.q12, s.q22);
        CHECK(near(ab01.value, relu.value, 1e-14, 1e-17));
        CHECK(ab01.derivative == doctest::Approx(relu.derivative).epsilon(1e-14));
        const auto linear = act::abrelu<-1.5, -1.5>::dual(s.q11, s.q12, s.q22);
        CHECK(near(linear.value, 2.25 * s.q12, 1e-14));
        CHECK(linear.derivative == doctest::Approx(2.25).epsilon(1e-14));
        const auto leaky = act::leaky_relu<0.2>::dual(s.q11, s.q12, s.q22);
        const auto ab = act::abrelu<0.2, 1.0>::dual(s.q11, s.q12, s.q22);
        CHECK(leaky.value == ab.value);
        CHECK(leaky.derivative == ab.derivative);
        const auto abs = act::abs::dual(s.q11, s.q12, s.q22);
        const auto ab_abs = act::abrelu<-1.0, 1.0>::dual(s.q11, s.q12, s.q22);
        CHECK(near(abs.value, ab_abs.value, 1e-14, 1e-17));
        CHECK(near(abs.derivative, ab_abs.derivative, 1e-14, 1e-16));
        // abs' = sign, so abs's Ṫ is sign's T (both 1 − 2θ/π).
        CHECK(near(act::sign::dual(s.q11, s.q12, s.q22).value, abs.derivative, 1e-15, 1e-16));
    }
    for (double x : {-2.0, -0.5, 0.7, 3.0}) {
        CHECK(act::abrelu<0.0, 1.0>::value(x) == act::relu::value(x));
        CHECK(act::abrelu<-1.0, 1.0>::value(x) == act::abs::value(x));
        CHECK(act::leaky_relu<0.2>::value(x) == act::abrelu<0.2, 1.0>::value(x));
        CHECK(act::abrelu<0.7, 0.7>::value(x) == doctest::Approx(0.7 * x));
    }
}

TEST_CASE("closed forms at exactly known covariances") {
    // ReLU (Cho & Saul 2009): ρ = 0 gives √(q11 q22)/2π and 1/4; ρ = 1 gives q/2 and 1/2; ρ = −1 gives 0 and 0.
    const auto orthogonal = act::relu::dual(2.0, 0.0, 0.5);
    CHECK(orthogonal.value == doctest::Approx(1.0 / (2 * pi)).epsilon(1e-15));
    CHECK(orthogonal.derivative == 0.25);
    const auto diagonal = act::relu::dual(1.7, 1.7, 1.7);
    CHECK(diagonal.value == 0.85);
    CHECK(diagonal.derivative == 0.5);
    const auto opposite = act::relu::dual(1.7, -1.7, 1.7);
    CHECK(std::abs(opposite.value) < 1e-16);
    CHECK(opposite.derivative == 0.0);
    // sign: (2/π) arcsin ρ; erf: Williams' diagonal (2a²/π) arcsin(2b²q/(1 + 2b²q)) + c².
    CHECK(act::sign::dual(1.0, 0.5, 4.0).value == doctest::Approx(2 / pi * std::asin(0.25)).epsilon(1e-15));
    CHECK(act::erf<0.7, 1.3, 0.4>::dual(0.9, 0.9, 0.9).value ==
          doctest::Approx(2 * 0.49 / pi * std::asin(2 * 1.69 * 0.9 / (1 + 2 * 1.69 * 0.9)) + 0.16).epsilon(1e-15));
    // Diagonals: monomials (2n−1)!! qⁿ, rbf 1, Hermite at unit variance ρⁿ and n ρ^{n−1}, Gaussian a²/√(1 − 4bq).
    CHECK(act::monomial<3>::dual(1.5, 1.5, 1.5).value == doctest::Approx(15 * std::pow(1.5, 3)).epsilon(1e-15));
    CHECK(act::monomial<5>::dual(0.8, 0.8, 0.8).value == doctest::Approx(945 * std::pow(0.8, 5)).epsilon(1e-15));
    CHECK(act::rbf<0.7>::dual(2.0, 2.0, 2.0).value == 1.0);
    const auto h5 = act::hermite<5>::dual(1.0, -0.6, 1.0);
    CHECK(h5.value == doctest::Approx(std::pow(-0.6, 5)).epsilon(1e-14));
    CHECK(h5.derivative == doctest::Approx(5 * std::pow(-0.6, 4)).epsilon(1e-14));
    CHECK(act::hermite<4>::dual(1.0, 0.3, 1.0).value == doctest::Approx(std::pow(0.3, 4)).epsilon(1e-14));
    CHECK(act::scaled_gaussian<1.1, -0.4>::dual(0.7, 0.7, 0.7).value == doctest::Approx(1.21 / std::sqrt(1 + 1.6 * 0.7)).epsilon(1e-15));
    // cos = sin<1, 1, π/2> and sin(x)² + cos(x)² = 1 in expectation.
    const auto c = act::cos::dual(1.3, 0.4, 0.7);
    const auto s = act::sin<1.0, 1.0, half_pi>::dual(1.3, 0.4, 0.7);
    CHECK(c.value == doctest::Approx(s.value).epsilon(1e-15));
    CHECK(c.derivative == doctest::Approx(s.derivative).epsilon(1e-14));
    CHECK(act::sin<>::dual(0.9, 0.9, 0.9).value + act::cos::dual(0.9, 0.9, 0.9).value == doctest::Approx(1.0).epsilon(1e-15));
}

TEST_CASE("the angle stays accurate as rho -> 1 and never produces NaN past it") {
    // θ(ρ = 1 − δ) = 2 asin(√(δ/2)) exactly; the naive √(1 − ρ²) would lose ~4 digits at δ = 2^-40.
    for (double delta : {0x1p-20, 0x1p-40, 0x1p-50}) {
        INFO("delta = ", delta);
        const double expected = 2 * std::asin(std::sqrt(delta / 2));
        CHECK(act::detail::angle(1.0, 1.0 - delta, 1.0).theta == doctest::Approx(expected).epsilon(1e-13));
        CHECK(act::detail::angle(2.0, 1.0 - delta, 0.5).theta == doctest::Approx(expected).epsilon(1e-13));
        CHECK(act::detail::angle(1.0, -(1.0 - delta), 1.0).theta == doctest::Approx(pi - expected).epsilon(1e-15));
    }
    // A few ulps below |ρ| = 1 at general scales: exact θ of the given doubles, computed offline with rational
    // arithmetic for q11 q22 − q12² and a 60-digit arctangent. atan2(√(q11q22 − q12²), q12) in plain double is off
    // by ~3% at these points.
    struct known {
        double q11, q12, q22, theta;
    };
    for (const known& k : {known{1.3, 0.9539392014169453, 0.7, 2.5460581935764639e-08},
                           known{0.37, 1.4774978849392624, 5.9, 5.3760092076484914e-08},
                           known{1e-09, 1.732050807568877e-09, 3e-09, 1.948850111197036e-08}}) {
        INFO("(q11, q12, q22) = (", k.q11, ", ", k.q12, ", ", k.q22, ")");
        CHECK(act::detail::angle(k.q11, k.q12, k.q22).theta == doctest::Approx(k.theta).epsilon(1e-12));
        CHECK(act::detail::angle(k.q22, -k.q12, k.q11).theta == doctest::Approx(pi - k.theta).epsilon(1e-15));
    }
    // Rounding past |ρ| = 1 (as a BLAS Gram matrix produces) clamps to θ = 0 or π.
    const double above = 1.0 + 4 * std::numeric_limits<double>::epsilon();
    CHECK(act::detail::angle(1.0, above, 1.0).theta == 0.0);
    CHECK(act::detail::angle(1.0, -above, 1.0).theta == pi);
    CHECK(act::relu::dual(1.0, above, 1.0).derivative == 0.5);
    CHECK(act::dual<act::relu>(1.0, above, 1.0).value == doctest::Approx(0.5));
    // The same in float, through act::dual's covariance check.
    const float above_f = 1.0f + 4 * std::numeric_limits<float>::epsilon();
    const auto relu_f = act::dual<act::relu>(1.0f, above_f, 1.0f);
    CHECK(relu_f.derivative == 0.5f);
    CHECK(relu_f.value == doctest::Approx(0.5f));
    CHECK(act::dual<act::sign>(2.0f, -2.0f * above_f, 2.0f).value == -1.0f);
    // Exactly on the diagonal θ is exactly 0, for any scale.
    for (double q : {1e-300, 1e-12, 0.3, 7.0, 1e200}) CHECK(act::detail::angle(q, q, q).theta == 0.0);
    // Tiny variances keep their correlation (no underflow of q11 q22).
    CHECK(act::detail::angle(1e-200, 0.5e-200, 1e-200).theta == doctest::Approx(pi / 3).epsilon(1e-14));
    CHECK(act::relu::dual(1e-200, 0.5e-200, 1e-200).value == doctest::Approx(1e-200 * (std::sqrt(0.75) + pi / 3) / (2 * pi)).epsilon(1e-14));
}

TEST_CASE("zero variance gives the defined limit, never NaN") {
    const covariance degenerate[] = {{0, 0, 0, "both zero"}, {0, 0, 1.3, "q11 = 0"}, {0.8, 0, 0, "q22 = 0"}, {1e-300, 0, 1e-300, "denormal scale"}};
    for_each(closed_forms{}, [&]<class A>(std::type_identity<A>, int index) {
        INFO(label(A::name, index));
        for (const auto& s : degenerate) {
            INFO(std::string(s.what));
            const auto d = act::dual<A>(s.q11, s.q12, s.q22);
            CHECK(std::isfinite(d.value));
            CHECK(std::isfinite(d.derivative));
            // With q11 = 0, u = 0 almost surely: T = φ(0) E[φ(v)], which quadrature computes directly.
            if (s.q11 == 0 && s.q22 > 0 && !std::is_same_v<A, act::sign> && !std::is_same_v<A, act::relu> &&
                !std::is_same_v<A, act::abs> && !std::is_same_v<A, act::leaky_relu<0.1>> && !std::is_same_v<A, act::abrelu<-0.3, 2.0>>) {
                const auto q = act::dual_quadrature<A, 120>(s.q11, s.q12, s.q22);
                CHECK(near(d.value, q.value, 1e-12, 1e-15));
                CHECK(near(d.derivative, q.derivative, 1e-12, 1e-15));
            }
        }
    });
    // The kinked ones follow neural-tangents' convention θ = π/2 when a variance is 0.
    CHECK(act::relu::dual(0.0, 0.0, 0.0).value == 0.0);
    CHECK(act::relu::dual(0.0, 0.0, 0.0).derivative == 0.25);
    CHECK(act::sign::dual(0.0, 0.0, 2.0).value == 0.0);
    CHECK(act::erf<0.7, 1.3, 0.4>::dual(0.0, 0.0, 0.0).value == doctest::Approx(0.16));
    CHECK(act::erf<0.7, 1.3, 0.4>::dual(0.0, 0.0, 0.0).derivative == doctest::Approx(4 * 0.49 * 1.69 / pi));
    CHECK(act::gelu::dual(0.0, 0.0, 0.0).derivative == doctest::Approx(0.25));
    // Variances of 1e-200 (q11 q22 underflows) keep their correlation in quadrature as in the closed forms.
    const auto tiny = act::dual_quadrature<act::erf<>, 40>(1e-200, 0.5e-200, 2e-200);
    const auto tiny_closed = act::erf<>::dual(1e-200, 0.5e-200, 2e-200);
    CHECK(tiny.value == doctest::Approx(tiny_closed.value).epsilon(1e-13));
    CHECK(tiny.derivative == doctest::Approx(tiny_closed.derivative).epsilon(1e-13));
    // Quadrature too (the Cholesky factor pivots on the larger variance).
    for (auto [q11, q22] : {std::pair{0.0, 1.2}, std::pair{1.2, 0.0}, std::pair{0.0, 0.0}}) {
        const auto t = act::dual_quadrature<act::tanh, 64>(q11, 0.0, q22);
        CHECK(t.value == 0.0);
        CHECK(std::isfinite(t.derivative));
    }
}

TEST_CASE("Gauss-Hermite rule: symmetric, normalised, exact for polynomials of degree < 2n") {
    auto moments = [](const auto& rule, int n) {
        for (int k = 0; k < n && k <= 12; ++k) {  // E[Z^{2k}] = (2k−1)!!
            double sum = 0;
            for (int i = 0; i < n; ++i) sum += rule.weights[i] * std::pow(rule.nodes[i], 2 * k);
            double double_factorial = 1;
            for (int j = 2 * k - 1; j > 0; j -= 2) double_factorial *= j;
            INFO("n = ", n, ", k = ", k);
            CHECK(sum == doctest::Approx(double_factorial).epsilon(1e-12));
        }
        for (int i = 0; i < n; ++i) CHECK(rule.nodes[i] == -rule.nodes[n - 1 - i]);
        for (int i = 0; i + 1 < n; ++i) CHECK(rule.nodes[i] < rule.nodes[i + 1]);
    };
    moments(act::gauss_hermite<1>(), 1);
    moments(act::gauss_hermite<5>(), 5);
    moments(act::gauss_hermite<40>(), 40);
    moments(act::gauss_hermite<300>(), 300);
    CHECK(act::gauss_hermite<2>().nodes[1] == doctest::Approx(1.0).epsilon(1e-15));  // roots of He_2 = x² − 1
    CHECK(act::gauss_hermite<3>().nodes[2] == doctest::Approx(std::sqrt(3.0)).epsilon(1e-15));
    CHECK(act::gauss_hermite<3>().weights[1] == doctest::Approx(2.0 / 3).epsilon(1e-15));
}

TEST_CASE("2-D quadrature of a polynomial integrand is exact") {
    // φ of degree N: φ(u)φ(v) has degree 2N in each node coordinate, so N + 1 nodes per dimension are exact.
    const covariance settings[] = {{1.3, 0.4, 0.7, ""}, {0.9, -0.8, 1.6, ""}, {2.0, 1.0, 0.5, ""}};
    for (const auto& s : settings) {
        const auto m5 = act::monomial<5>::dual(s.q11, s.q12, s.q22);
        const auto q5 = act::dual_quadrature<act::monomial<5>, 6>(s.q11, s.q12, s.q22);
        CHECK(q5.value == doctest::Approx(m5.value).epsilon(1e-13));
        CHECK(q5.derivative == doctest::Approx(m5.derivative).epsilon(1e-13));
        using poly = act::polynomial<0.3, -0.5, 0.25, 0.1, -0.05>;
        const auto p = poly::dual(s.q11, s.q12, s.q22);
        const auto pq = act::dual_quadrature<poly, 5>(s.q11, s.q12, s.q22);
        CHECK(pq.value == doctest::Approx(p.value).epsilon(1e-13));
        CHECK(pq.derivative == doctest::Approx(p.derivative).epsilon(1e-13));
        const auto h = act::hermite<4>::dual(s.q11, s.q12, s.q22);
        const auto hq = act::dual_quadrature<act::hermite<4>, 5>(s.q11, s.q12, s.q22);
        CHECK(hq.value == doctest::Approx(h.value).epsilon(1e-13));
        CHECK(hq.derivative == doctest::Approx(h.derivative).epsilon(1e-13));
    }
    // Too few nodes is not exact: the test above can fail.
    const auto few = act::dual_quadrature<act::monomial<5>, 3>(1.3, 0.4, 0.7);
    CHECK(std::abs(few.value - act::monomial<5>::dual(1.3, 0.4, 0.7).value) > 1e-3);
}

TEST_CASE("dispatch: closed form when present, quadrature otherwise") {
    static_assert(act::has_closed_form_dual<act::relu>);
    static_assert(act::has_closed_form_dual<act::leaky_relu<0.1>>);
    static_assert(act::has_closed_form_dual<act::sigmoid_like>);
    static_assert(act::has_closed_form_dual<act::hermite<3>>);
    static_assert(!act::has_closed_form_dual<act::tanh>);
    static_assert(!act::has_closed_form_dual<act::softplus>);
    static_assert(!act::has_closed_form_dual<act::sigmoid>);
    for_each(everything{}, [&]<class A>(std::type_identity<A>, int index) { static_assert(widenn::Activation<A>); (void)index; });
    const auto t = act::dual<act::tanh>(1.3, 0.4, 0.7);
    const auto q = act::dual_quadrature<act::tanh, act::default_quadrature_degree>(1.3, 0.4, 0.7);
    CHECK(t.value == q.value);
    CHECK(t.derivative == q.derivative);
    // The default degree is accurate to ~4e-10 for tanh at this scale (see docs/activations.md for the table).
    const auto precise = act::dual_quadrature<act::tanh, 300>(1.3, 0.4, 0.7);
    CHECK(near(t.value, precise.value, 1e-9));
    CHECK(near(t.derivative, precise.derivative, 1e-9));
    const auto r = act::dual<act::relu>(1.3, 0.4, 0.7);
    CHECK(r.value == act::relu::dual(1.3, 0.4, 0.7).value);
    // float in, float out (the quadrature itself runs in double).
    const auto f = act::dual<act::softplus>(1.3f, 0.4f, 0.7f);
    static_assert(std::is_same_v<decltype(f), const act::dual_value<float>>);
    CHECK(f.value == doctest::Approx(act::dual<act::softplus>(1.3, 0.4, 0.7).value).epsilon(1e-6));
}

namespace {
struct swish {  // x·sigmoid(x), no closed form: act::dual integrates it
    static constexpr std::string_view name = "swish";
    template <class T>
    static T value(T x) { return x * act::sigmoid::value(x); }
    template <class T>
    static T derivative(T x) {
        const T s = act::sigmoid::value(x);
        return s + x * s * (T(1) - s);
    }
};
}  // namespace

TEST_CASE("a user-defined activation needs only value and derivative") {
    static_assert(!act::has_closed_form_dual<swish>);
    const auto d = act::dual<swish>(1.0, 1.0, 1.0);
    // E[φ(u)²] for u ~ N(0, 1) by the 1-D rule, independently.
    const auto& rule = act::gauss_hermite<200>();
    double second_moment = 0, derivative_moment = 0;
    for (int i = 0; i < 200; ++i) {
        second_moment += rule.weights[i] * swish::value(rule.nodes[i]) * swish::value(rule.nodes[i]);
        derivative_moment += rule.weights[i] * swish::derivative(rule.nodes[i]) * swish::derivative(rule.nodes[i]);
    }
    CHECK(d.value == doctest::Approx(second_moment).epsilon(1e-9));
    CHECK(d.derivative == doctest::Approx(derivative_moment).epsilon(1e-9));
}

TEST_CASE("bad covariances are rejected with a message naming the function and the values") {
    CHECK_THROWS_AS(act::dual<act::relu>(-1.0, 0.0, 1.0), widenn::error);
    CHECK_THROWS_AS(act::dual<act::relu>(1.0, 2.0, 1.0), widenn::error);
    CHECK_THROWS_AS(act::dual<act::erf<>>(std::nan(""), 0.0, 1.0), widenn::error);
    CHECK_THROWS_AS(act::dual<act::tanh>(1.0, 0.0, std::numeric_limits<double>::infinity()), widenn::error);
    CHECK_THROWS_WITH_AS(act::dual<act::relu>(1.0, 1.5, 1.0),
                         doctest::Contains("act::dual: (q11, q12, q22) must be a covariance"), widenn::error);
    CHECK_THROWS_WITH_AS((act::dual_quadrature<act::tanh, 20>(1.0, -1.5, 1.0)), doctest::Contains("got (1, -1.5, 1)"), widenn::error);
    // Rounding past |ρ| = 1 is accepted.
    CHECK_NOTHROW(act::dual<act::relu>(1.0, 1.0 + 1e-15, 1.0));
    // a·e^{bx²} with b > 0 has no finite dual once 2bq ≥ 1.
    CHECK_THROWS_AS((act::scaled_gaussian<1.0, 0.3>::dual(2.0, 0.0, 2.0)), widenn::error);
    const auto growing = act::scaled_gaussian<1.0, 0.3>::dual(0.5, 0.2, 0.4);  // 2bq = 0.3: finite, and correct
    const auto growing_quadrature = act::dual_quadrature<act::scaled_gaussian<1.0, 0.3>, 200>(0.5, 0.2, 0.4);
    CHECK(growing.value == doctest::Approx(growing_quadrature.value).epsilon(1e-12));
    CHECK(growing.derivative == doctest::Approx(growing_quadrature.derivative).epsilon(1e-12));
    // φ overflowing at the nodes is a numerical_error, not a NaN.
    CHECK_THROWS_AS((act::dual_quadrature<act::exp, 200>(1e5, 0.0, 1e5)), widenn::numerical_error);
}

TEST_CASE("lazy xtensor forms apply phi and phi' elementwise") {
    const xt::xtensor<double, 2> x = {{-1.5, -0.2, 0.0}, {0.3, 1.0, 2.5}};
    auto check_same = [&]<class A>(std::type_identity<A>) {
        INFO(std::string(A::name));
        const xt::xtensor<double, 2> y = act::apply<A>(x);
        const xt::xtensor<double, 2> dy = act::apply_derivative<A>(x);
        for (std::size_t i = 0; i < x.size(); ++i) {
            CHECK(y.flat(i) == A::value(x.flat(i)));
            CHECK(dy.flat(i) == A::derivative(x.flat(i)));
        }
    };
    check_same(std::type_identity<act::relu>{});
    check_same(std::type_identity<act::erf<0.7, 1.3, 0.4>>{});
    check_same(std::type_identity<act::gelu>{});
    check_same(std::type_identity<act::hermite<3>>{});
    // Lazy: composes with other expressions and works for float.
    const xt::xtensor<float, 1> xf = {-1.0f, 0.5f, 2.0f};
    const xt::xtensor<float, 1> yf = act::apply<act::tanh>(2.0f * xf) + 1.0f;
    CHECK(yf(2) == doctest::Approx(std::tanh(4.0f) + 1.0f));
    CHECK(yf.shape(0) == 3);
}
