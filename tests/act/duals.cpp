// Closed-form duals against Gauss–Hermite quadrature (smooth φ) and Monte Carlo (every closed form).
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include <widenn/act/dual.hpp>
#include <widenn/core/rng.hpp>

#include "test_lists.hpp"

namespace act = widenn::act;
using namespace widenn::act::testing;

namespace {

// Set WIDENN_TEST_VERBOSE=1 to print the measured deviations.
bool verbose() {
    static const bool on = std::getenv("WIDENN_TEST_VERBOSE") != nullptr;
    return on;
}

const covariance quadrature_settings[] = {
    {1.3, 0.4, 0.7, "generic"},
    {0.9, -0.8, 1.6, "negative correlation"},
    {2.0, 0.99, 0.5, "rho = 0.99"},
    {1.0, 1.0 - 0x1p-40, 1.0, "rho = 1 - 2^-40"},
    {1.5, -1.5, 1.5, "rho = -1 exactly"},
    {1.5, 1.5, 1.5, "diagonal"},
    {4e-8, -0.999 * 2e-8, 1e-8, "tiny variances, rho = -0.999"},
    {0.0, 0.0, 1.2, "q11 = 0"},
    {0.0, 0.0, 0.0, "both variances 0"},
};

}  // namespace

TEST_CASE("smooth closed-form duals agree with Gauss-Hermite quadrature of degree 200") {
    constexpr int degree = 200;
    double worst = 0;
    for_each(smooth_closed_forms{}, [&]<class A>(std::type_identity<A>, int index) {
        INFO(label(A::name, index));
        for (const auto& s : quadrature_settings) {
            INFO(std::string(s.what));
            const auto closed = act::dual<A>(s.q11, s.q12, s.q22);
            const auto quad = act::dual_quadrature<A, degree>(s.q11, s.q12, s.q22);
            // Scale of the integrand: Cauchy–Schwarz bound √(E[φ(u)²] E[φ(v)²]) (and the same for φ').
            const auto d11 = act::dual_quadrature<A, degree>(s.q11, s.q11, s.q11);
            const auto d22 = act::dual_quadrature<A, degree>(s.q22, s.q22, s.q22);
            const double value_scale = std::sqrt(d11.value * d22.value);
            const double derivative_scale = std::sqrt(d11.derivative * d22.derivative);
            REQUIRE(std::isfinite(closed.value));
            REQUIRE(std::isfinite(closed.derivative));
            CHECK(std::abs(closed.value - quad.value) <= 1e-10 * value_scale + 1e-300);
            CHECK(std::abs(closed.derivative - quad.derivative) <= 1e-10 * derivative_scale + 1e-300);
            if (value_scale > 0) worst = std::max(worst, std::abs(closed.value - quad.value) / value_scale);
            if (derivative_scale > 0) worst = std::max(worst, std::abs(closed.derivative - quad.derivative) / derivative_scale);
        }
    });
    if (verbose()) std::printf("closed form vs quadrature (degree %d): worst relative deviation %.2e\n", degree, worst);
}

// Monte Carlo with one set of 10^6 standard normal pairs (widenn::rng, fixed seed), reused for every covariance
// and activation. Each mean of φ(u)φ(v) and φ'(u)φ'(v) must lie within 5 standard errors (computed from the same
// samples) of the closed form.
TEST_CASE("every closed-form dual agrees with Monte Carlo (10^6 samples, 5 standard errors)") {
    constexpr std::size_t samples = 1'000'000;
    std::vector<double> z1(samples), z2(samples);
    widenn::rng gen(20240611);
    for (std::size_t k = 0; k < samples; ++k) {
        z1[k] = gen.normal();
        z2[k] = gen.normal();
    }
    const covariance settings[] = {
        {1.3, 0.4, 0.7, "generic"},
        {2.0, 0.99, 0.5, "rho = 0.99"},
        {4e-8, -0.999 * 2e-8, 1e-8, "tiny variances, rho = -0.999"},
    };
    double worst_z = 0;
    for (const auto& s : settings) {
        const double l11 = std::sqrt(s.q11), l21 = s.q12 / l11, l22 = std::sqrt(s.q22 - l21 * l21);
        for_each(closed_forms{}, [&]<class A>(std::type_identity<A>, int index) {
            INFO(label(A::name, index), ", ", std::string(s.what));
            const auto closed = act::dual<A>(s.q11, s.q12, s.q22);
            // Sums of deviations from the closed form (a shift that keeps the variance formula free of cancellation).
            double value_sum = 0, value_square = 0, derivative_sum = 0, derivative_square = 0;
            for (std::size_t k = 0; k < samples; ++k) {
                const double u = l11 * z1[k], v = l21 * z1[k] + l22 * z2[k];
                const double dv = A::value(u) * A::value(v) - closed.value;
                const double dd = A::derivative(u) * A::derivative(v) - closed.derivative;
                value_sum += dv;
                value_square += dv * dv;
                derivative_sum += dd;
                derivative_square += dd * dd;
            }
            const double n = static_cast<double>(samples);
            auto check = [&](double sum, double square, double expected, const char* which) {
                const double bias = sum / n;  // mean − closed form
                const double standard_error = std::sqrt(std::max(square / n - bias * bias, 0.0) / (n - 1));
                INFO(which, ": closed form ", expected, ", Monte Carlo ", expected + bias, " +- ", standard_error);
                CHECK(std::abs(bias) <= 5 * standard_error + 1e-12 * std::abs(expected) + 1e-300);
                if (standard_error > 0) worst_z = std::max(worst_z, std::abs(bias) / standard_error);
                if (verbose())
                    std::printf("%-14s #%-2d %-30s %s: closed %.10g  MC %.10g  z = %.2f\n", std::string(A::name).c_str(), index, s.what,
                                which, expected, expected + bias, standard_error > 0 ? bias / standard_error : 0.0);
            };
            check(value_sum, value_square, closed.value, "T");
            // sign: Ṫ = 0 is neural-tangents' convention for a delta function, not an expectation to sample.
            if constexpr (!std::is_same_v<A, act::sign>) check(derivative_sum, derivative_square, closed.derivative, "Tdot");
        });
    }
    if (verbose()) std::printf("Monte Carlo: largest |mean - closed form| / standard error = %.2f\n", worst_z);
}

TEST_CASE("closed forms obey Price's theorem: Tdot = dT/dq12") {
    const covariance settings[] = {{1.3, 0.4, 0.7, "generic"}, {0.9, -0.8, 1.6, "negative correlation"}, {2.0, 0.9, 0.5, "rho = 0.9"}};
    for_each(closed_forms{}, [&]<class A>(std::type_identity<A>, int index) {
        if constexpr (!std::is_same_v<A, act::sign>) {
            INFO(label(A::name, index));
            for (const auto& s : settings) {
                INFO(std::string(s.what));
                const double h = 1e-5;
                const double slope = (A::dual(s.q11, s.q12 + h, s.q22).value - A::dual(s.q11, s.q12 - h, s.q22).value) / (2 * h);
                const double tdot = A::dual(s.q11, s.q12, s.q22).derivative;
                CHECK(std::abs(slope - tdot) <= 1e-6 * std::max(1.0, std::abs(tdot)));
            }
        }
    });
}
