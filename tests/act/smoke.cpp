// Quick facts about the activation interface (the full checks are in duals.cpp).
#include <doctest/doctest.h>

#include <cmath>
#include <numbers>

#include <xtensor/xtensor.hpp>

#include <widenn/act/dual.hpp>

namespace act = widenn::act;

TEST_CASE("interface: traits, dispatch and lazy forms") {
    static_assert(act::has_closed_form_dual<act::relu>);
    static_assert(act::has_closed_form_dual<act::sigmoid_like>);
    static_assert(!act::has_closed_form_dual<act::tanh>);
    static_assert(widenn::Activation<act::leaky_relu<0.1>>);
    // ReLU at unit variances and ρ = 1/2: θ = π/3.
    const auto r = act::dual<act::relu>(1.0, 0.5, 1.0);
    CHECK(r.value == doctest::Approx((std::sqrt(0.75) + 2 * std::numbers::pi / 3 * 0.5) / (2 * std::numbers::pi)).epsilon(1e-15));
    CHECK(r.derivative == doctest::Approx(1.0 / 3).epsilon(1e-15));
    // act::dual falls back to quadrature for tanh; float in, float out.
    const auto t = act::dual<act::tanh>(1.3f, 0.4f, 0.7f);
    CHECK(t.value == doctest::Approx(act::dual_quadrature<act::tanh, 120>(1.3, 0.4, 0.7).value).epsilon(1e-6));
    xt::xtensor<double, 1> x = {-1.0, 0.5, 2.0};
    xt::xtensor<double, 1> y = act::apply<act::relu>(x);
    xt::xtensor<double, 1> dy = act::apply_derivative<act::relu>(2.0 * x);
    CHECK(y(0) == 0.0);
    CHECK(y(2) == 2.0);
    CHECK(dy(0) == 0.0);
    CHECK(dy(1) == 1.0);
}
