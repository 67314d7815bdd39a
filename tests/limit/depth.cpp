// limit/depth.hpp and act/depth_optimal.hpp: normalised duals, the deep-limit taxonomy and singular exponents
// (values from docs/theory/kernel-limits.md §7 and docs/kernels.md), fixed points, and the activations that realise the d-optimal duals.
#include <doctest/doctest.h>

#include <cmath>
#include <numbers>
#include <vector>

#include <widenn/act/activations.hpp>
#include <widenn/act/depth_optimal.hpp>
#include <widenn/limit/depth.hpp>
#include <widenn/limit/of.hpp>
#include <widenn/nn/mlp.hpp>

namespace wn = widenn;
namespace lim = widenn::limit;
namespace act = widenn::act;

TEST_CASE("depth_optimal: the Hermite-built activations realise their duals (act::dual, and 1-D quadrature)") {
    const auto check = [](auto activation, auto dual) {
        using A = decltype(activation);
        for (const double xi : {-0.7, -0.2, 0.1, 0.6, 0.95, 1.0}) {
            CHECK(act::dual<A>(1.0, xi, 1.0).value == doctest::Approx(dual(xi)).epsilon(1e-12));
            // independent of the polynomial-dual table: Gauss–Hermite quadrature of φ itself (exact for polynomials)
            CHECK(act::dual_quadrature<A, 16>(1.0, xi, 1.0).value == doctest::Approx(dual(xi)).epsilon(1e-12));
        }
    };
    check(act::opt_2d{}, [](double x) { return std::pow(x, 7) / 2 + x / 2; });
    check(act::opt_3d{}, [](double x) { return x * x * x / 2 + x / 2; });
    check(act::opt_5d{}, [](double x) { return x * x * x / 4 + x * x / 2 + x / 4; });
    check(act::opt_9d{}, [](double x) { return x * x * x / 16 + 7 * x * x / 8 + x / 16; });
    // 3d_opt is φ(x) = x/√2 + (x³ − 3x)/√12 (docs/theory/kernel-limits.md §7)
    CHECK(act::opt_3d::value(0.8) == doctest::Approx(0.8 / std::sqrt(2.0) + (0.512 - 2.4) / std::sqrt(12.0)).epsilon(1e-14));
    // sine_a: sinh(aξ)/sinh(a)
    using sine = act::sine<2.676>;
    for (const double xi : {-0.5, 0.2, 0.9}) {
        CHECK(act::dual<sine>(1.0, xi, 1.0).value == doctest::Approx(std::sinh(2.676 * xi) / std::sinh(2.676)).epsilon(1e-12));
        CHECK(act::dual_quadrature<sine, 80>(1.0, xi, 1.0).value ==
              doctest::Approx(std::sinh(2.676 * xi) / std::sinh(2.676)).epsilon(1e-10));
    }
}

TEST_CASE("depth: taxonomy and singular exponents of Radhakrishnan et al.'s duals") {
    struct row {
        lim::depth_classification c;
        lim::deep_limit kind;
        double alpha;
    };
    const std::vector<row> rows = {
        {lim::classify_depth<act::opt_2d>(), lim::deep_limit::singular_kernel, 0.5},
        {lim::classify_depth<act::opt_3d>(), lim::deep_limit::singular_kernel, 1.0},
        {lim::classify_depth<act::opt_5d>(), lim::deep_limit::singular_kernel, 2.0},
        {lim::classify_depth<act::opt_9d>(), lim::deep_limit::singular_kernel, 4.0},
        {lim::classify_depth<act::sine<6.13539>>(), lim::deep_limit::singular_kernel, 2.0},
        {lim::classify_depth<act::sine<13.8258>>(), lim::deep_limit::singular_kernel, 4.0},
    };
    for (const auto& r : rows) {
        CHECK(r.c.kind == r.kind);
        CHECK(r.c.alpha == doctest::Approx(r.alpha).epsilon(2e-5));  // the tuned a are given to 6 digits
    }
    CHECK(lim::classify_depth<act::sine<2.676>>().alpha == doctest::Approx(1.0).epsilon(5e-4));
    CHECK(lim::classify_depth<act::sine<1.0>>().alpha == doctest::Approx(0.593).epsilon(1e-3));
    const auto erf = lim::classify_depth<act::erf<>>();
    CHECK(erf.kind == lim::deep_limit::singular_kernel);
    CHECK(erf.slope_at_0 == doctest::Approx(0.9136).epsilon(1e-4));
    CHECK(erf.slope_at_1 == doctest::Approx(1.2257).epsilon(1e-4));
    CHECK(erf.alpha == doctest::Approx(0.444).epsilon(1e-3));
    const auto relu = lim::classify_depth<act::relu>();
    CHECK(relu.kind == lim::deep_limit::majority_vote);
    CHECK(relu.value_at_0 == doctest::Approx(1 / std::numbers::pi).epsilon(1e-14));
    CHECK(relu.slope_at_1 == doctest::Approx(1.0).epsilon(1e-14));
    CHECK(lim::classify_depth<act::hermite<2>>().kind == lim::deep_limit::nearest_neighbour);
    CHECK(lim::classify_depth<act::identity>().kind == lim::deep_limit::linear);
}

TEST_CASE("depth: fixed points; deep NNGP slope -α; ReLU NTK ratio tends to 1/4 slowly") {
    // erf: ξ = 0 attracts (ǒ'(0) < 1), ±1 repel (ǒ'(1) > 1)
    const auto erf = lim::fixed_points(lim::normalised_dual<act::erf<>>());
    REQUIRE(erf.size() == 3);
    CHECK(erf[0].xi == -1.0);
    CHECK(std::abs(erf[1].xi) < 1e-12);
    CHECK(erf[2].xi == 1.0);
    CHECK(!erf[0].attracting);
    CHECK(erf[1].attracting);
    CHECK(!erf[2].attracting);
    // singular exponent from the iteration: d log Σ^L / d log(1 − ξ) ≈ −α for ξ near 1 (3d_opt at L = 35: −1.000)
    const auto dual = lim::normalised_dual<act::opt_3d>();
    const double xi1 = 1 - 1e-6, xi2 = 1 - 1e-8;
    const double slope = (std::log(lim::iterate(dual, xi2, 35).nngp) - std::log(lim::iterate(dual, xi1, 35).nngp)) /
                         (std::log(1 - xi2) - std::log(1 - xi1));
    CHECK(slope == doctest::Approx(-1.0).epsilon(2e-3));
    // ReLU (majority vote): NNGP → 1 and NTK/NTK(1) → 1/4 off the diagonal, 0.2531 at L = 1000 (an independent numpy iteration)
    const auto relu = lim::normalised_dual<act::relu>();
    const auto deep = lim::iterate(relu, 0.0, 1000), one = lim::iterate(relu, 1.0, 1000);
    CHECK(deep.ntk / one.ntk == doctest::Approx(0.2531).epsilon(1e-3));
    CHECK(deep.nngp > 0.999);
    CHECK(one.nngp == 1.0);
    CHECK_THROWS_AS(lim::iterate(relu, 1.5, 3), wn::error);
}

TEST_CASE("of: the kernel limit of a kernel-regime network is limit::kernel") {
    using net = wn::nn::mlp<wn::param::ntk, act::relu, 3, double>;
    static_assert(std::is_same_v<lim::of<net>, lim::kernel<wn::param::ntk, act::relu, 3>>);
    using sp = wn::nn::mlp<wn::param::standard_lr_1_over_n, act::erf<>, 2, float>;
    static_assert(std::is_same_v<lim::of<sp>, lim::kernel<wn::param::standard_lr_1_over_n, act::erf<>, 2>>);
    static_assert(lim::of<net>::kind == lim::parametrization_kind::ntk);
    static_assert(lim::of<sp>::kind == lim::parametrization_kind::standard);
    CHECK(lim::of<net>::depth == 3);
}
