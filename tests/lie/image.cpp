// The affine action on images: exact cases (identity, 90° rotations, whole-pixel shifts, affine functions), the
// adjoint identity <g·f, u> = <f, gᵀu>, the action law up to interpolation error, batching and shape errors.
#include <doctest/doctest.h>

#include <cmath>
#include <numbers>
#include <span>

#include <widenn/lie/affine.hpp>
#include <widenn/lie/gl_plus.hpp>
#include <widenn/lie/image.hpp>

using namespace widenn::lie;
using A = affine<gl_plus<2>>;

namespace {
xt::xtensor<double, 3> random_images(std::size_t b, std::size_t h, std::size_t w, std::uint64_t seed) {
    widenn::rng r(seed);
    xt::xtensor<double, 3> x = xt::xtensor<double, 3>::from_shape({b, h, w});
    for (auto& v : x) v = r.normal();
    return x;
}
double max_diff(const xt::xtensor<double, 3>& a, const xt::xtensor<double, 3>& b) {
    double m = 0;
    for (std::size_t k = 0; k < a.size(); ++k) m = std::max(m, std::abs(a.data()[k] - b.data()[k]));
    return m;
}
}  // namespace

TEST_CASE("identity and rotations by 90° act exactly (pixel centres map to pixel centres)") {
    const auto x = random_images(3, 7, 7, 1);
    CHECK(max_diff(act_on_images(A::identity(), x), x) == 0.0);
    const auto quarter = so<2>::rotation(std::numbers::pi / 2);
    const auto y = act_on_images(quarter, x);
    // (g·f)(u) = f(R⁻¹u): output pixel (i, j) at (x, y) reads (y, -x), i.e. input pixel (6 - j, i).
    for (std::size_t b = 0; b < 3; ++b)
        for (std::size_t i = 0; i < 7; ++i)
            for (std::size_t j = 0; j < 7; ++j) CHECK(y(b, i, j) == doctest::Approx(x(b, 6 - j, i)).epsilon(1e-12));
    auto z = x;
    for (int k = 0; k < 4; ++k) z = act_on_images(quarter, z);
    CHECK(max_diff(z, x) < 1e-12);
}

TEST_CASE("a translation by whole pixels shifts with zero fill") {
    const std::size_t h = 6, w = 8;
    const auto x = random_images(2, h, w, 2);
    const auto shift = A::translation_only({2.0 * 3 / static_cast<double>(w), -2.0 / static_cast<double>(h)});  // 3 columns right, 1 row up
    const auto y = act_on_images(shift, x);
    for (std::size_t b = 0; b < 2; ++b)
        for (std::size_t i = 0; i < h; ++i)
            for (std::size_t j = 0; j < w; ++j) {
                const long si = static_cast<long>(i) + 1, sj = static_cast<long>(j) - 3;
                const double expected = (si < static_cast<long>(h) && sj >= 0) ? x(b, static_cast<std::size_t>(si), static_cast<std::size_t>(sj)) : 0.0;
                CHECK(y(b, i, j) == doctest::Approx(expected).epsilon(1e-12));
            }
}

TEST_CASE("bilinear resampling reproduces affine functions exactly where the preimage is inside the grid") {
    const std::size_t n = 20;
    xt::xtensor<double, 3> f = xt::xtensor<double, 3>::from_shape({1, n, n});
    auto coord = [&](std::size_t k) { return (2.0 * static_cast<double>(k) + 1) / static_cast<double>(n) - 1; };
    auto lin = [](double x, double y) { return 0.3 + 1.7 * x - 0.8 * y; };
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < n; ++j) f(0, i, j) = lin(coord(j), coord(i));
    const A g({0.1, -0.05}, gl_plus<2>::from_chart({0.2, -0.1, 0.15, 0.4}));
    const auto y = act_on_images(g, f);
    const auto gi = g.inverse();
    const double inner = 1 - 1.0 / static_cast<double>(n);  // pixel-centre range
    int checked = 0;
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < n; ++j) {
            const auto p = gi.act({coord(j), coord(i)});
            if (std::abs(p[0]) > inner - 1e-9 || std::abs(p[1]) > inner - 1e-9) continue;
            CHECK(y(0, i, j) == doctest::Approx(lin(p[0], p[1])).epsilon(1e-12));
            ++checked;
        }
    CHECK(checked > 100);
}

TEST_CASE("the adjoint is the exact transpose: <g·f, u> = <f, adjoint(u)>") {
    const auto f = random_images(4, 40, 40, 3), u = random_images(4, 40, 40, 4);
    for (const A& g : {A({0.1, 0.2}, gl_plus<2>::from_chart({0.3, -0.4, 0.5, 1.0})), A({-0.3, 0.0}, gl_plus<2>::from_chart({-0.2, 0.1, 0.0, 2.5}))}) {
        const auto gf = act_on_images(g, f);
        const auto gtu = act_on_images_adjoint(g, u);
        double lhs = 0, rhs = 0;
        for (std::size_t k = 0; k < f.size(); ++k) {
            lhs += gf.data()[k] * u.data()[k];
            rhs += f.data()[k] * gtu.data()[k];
        }
        CHECK(lhs == doctest::Approx(rhs).epsilon(1e-12));
    }
}

TEST_CASE("the action law g1·(g2·f) ≈ (g1 g2)·f holds up to the interpolation error of a smooth image") {
    const std::size_t n = 40;
    xt::xtensor<double, 3> f = xt::xtensor<double, 3>::from_shape({1, n, n});
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < n; ++j) {
            const double x = (2.0 * static_cast<double>(j) + 1) / n - 1, y = (2.0 * static_cast<double>(i) + 1) / n - 1;
            f(0, i, j) = std::exp(-(x * x + 2 * y * y) / (2 * 0.15));  // a blob well inside the frame
        }
    const A g1({0.05, -0.1}, gl_plus<2>::from_chart({0.1, -0.1, 0.1, 0.5}));
    const A g2({-0.1, 0.05}, gl_plus<2>::from_chart({-0.1, 0.05, 0.05, -0.9}));
    const double err = max_diff(act_on_images(g1, act_on_images(g2, f)), act_on_images(g1 * g2, f));
    // Bilinear interpolation error <= h²/8 max|f''| per resampling, h = 2/40, max|f''| <= 2/0.15·... ≈ 27: about 0.01.
    MESSAGE("action-law error for a smooth 40x40 image: " << err);
    CHECK(err < 0.02);
    CHECK(err > 0.0);  // resampling twice is not exact
}

TEST_CASE("batches: one element per image, arbitrary leading dimensions, float") {
    const auto x = random_images(3, 9, 11, 5);
    std::vector<A> gs{A::identity(), A({0.1, 0.0}, gl_plus<2>::identity()), A({0.0, 0.0}, gl_plus<2>::from_chart({0.1, 0.2, 0.0, 0.3}))};
    const auto y = act_on_images(gs, x);
    for (std::size_t b = 0; b < 3; ++b) {
        const auto one = act_on_images(gs[b], x);
        for (std::size_t i = 0; i < 9; ++i)
            for (std::size_t j = 0; j < 11; ++j) CHECK(y(b, i, j) == one(b, i, j));
    }
    xt::xtensor<double, 4> x4 = xt::xtensor<double, 4>::from_shape({2, 3, 9, 11});
    std::copy(x.begin(), x.end(), x4.begin());
    std::copy(x.begin(), x.end(), x4.begin() + static_cast<long>(x.size()));
    const auto y4 = act_on_images(gs[2], x4);
    const auto y3 = act_on_images(gs[2], x);
    for (std::size_t k = 0; k < y3.size(); ++k) CHECK(y4.data()[k + y3.size()] == y3.data()[k]);
    xt::xtensor<float, 3> xf = xt::cast<float>(x);
    const auto yf = act_on_images(affine<gl_plus<2, float>>({0.1f, 0.0f}, gl_plus<2, float>::from_chart({0.1f, 0.2f, 0.0f, 0.3f})), xf);
    const auto yd = act_on_images(A({0.1, 0.0}, gl_plus<2>::from_chart({0.1, 0.2, 0.0, 0.3})), x);
    for (std::size_t k = 0; k < yd.size(); ++k) CHECK(std::abs(static_cast<double>(yf.data()[k]) - yd.data()[k]) < 1e-5);
}

TEST_CASE("shape errors name the expected and actual sizes") {
    const image_warp<double> warp(A::identity(), 5, 5);
    xt::xtensor<double, 3> wrong = xt::zeros<double>({1, 4, 5});
    CHECK_THROWS_WITH_AS(warp.apply(wrong), doctest::Contains("5 x 5"), widenn::shape_error);
    std::vector<A> two(2);
    CHECK_THROWS_WITH_AS(act_on_images(std::span<const A>(two), random_images(3, 4, 4, 1)), doctest::Contains("3 images, got 2"),
                         widenn::shape_error);
    CHECK_THROWS_AS(image_warp<double>(A::identity(), 0, 5), widenn::error);
}
