// Equivariance: exact (round-off) for rotations that map an equidistant SO(2) grid and the pixel grid to themselves;
// Monte Carlo error decreasing like 1/√N with Haar-weighted samples, and not decreasing without the weights.
#include <doctest/doctest.h>

#include <cmath>
#include <numbers>

#include <widenn/equivariant/equivariance.hpp>
#include <widenn/equivariant/model.hpp>

#include "helpers.hpp"

namespace eq = widenn::equivariant;
using so2 = widenn::lie::so<2>;
using sl2 = widenn::lie::sl<2>;
using gl_plus2 = widenn::lie::gl_plus<2>;
using test_helpers::random_tensor;

namespace {

// Rotation by +π/2 of the last two axes, (L_r f)(p) = f(r⁻¹ p) with p = (column, row) about the image centre:
// f'[row][col] = f[S−1−col][row].
template <std::size_t N>
xt::xtensor<double, N> rotate90(const xt::xtensor<double, N>& x) {
    const std::size_t S = x.shape()[N - 1];
    REQUIRE(x.shape()[N - 2] == S);
    xt::xtensor<double, N> out = xt::empty<double>(x.shape());
    const std::size_t planes = x.size() / (S * S);
    for (std::size_t p = 0; p < planes; ++p)
        for (std::size_t row = 0; row < S; ++row)
            for (std::size_t col = 0; col < S; ++col) out.data()[p * S * S + row * S + col] = x.data()[p * S * S + (S - 1 - col) * S + row];
    return out;
}

// (L_r F)(x, h_i) = F(r⁻¹x, r⁻¹h_i) = F(r⁻¹x, h_{i−shift}) on B × N × C × S × S features.
xt::xtensor<double, 5> rotate_features(const xt::xtensor<double, 5>& f, std::size_t shift) {
    auto spatial = rotate90(f);
    xt::xtensor<double, 5> out = xt::empty<double>(f.shape());
    const std::size_t B = f.shape()[0], N = f.shape()[1], block = f.size() / (B * N);
    for (std::size_t b = 0; b < B; ++b)
        for (std::size_t i = 0; i < N; ++i)
            std::copy_n(spatial.data() + (b * N + (i + N - shift) % N) * block, block, out.data() + (b * N + i) * block);
    return out;
}

double max_abs_diff(const auto& a, const auto& b) { return xt::amax(xt::abs(a - b))(); }

}  // namespace

TEST_CASE("SO(2), equidistant grid: lifting and group convolution commute with rotations by the grid angles to round-off") {
    const std::size_t N = 8;  // rotation by π/2 shifts the grid by 2; relative angles include π (one chart value)
    widenn::rng unused(0);
    const auto grid = eq::sample_grid<so2>(N, unused, eq::sampling::equidistant);
    eq::lifting<so2, double> lift({.in_channels = 2, .out_channels = 3, .kernel = 5, .padding = 0, .kernel_hidden = 16, .kernel_layers = 2, .seed = 1});
    eq::group_conv<so2, double> conv({.in_channels = 3, .out_channels = 2, .kernel = 3, .padding = 1, .kernel_hidden = 16, .kernel_layers = 2, .seed = 2});
    const auto x = random_tensor<double, 4>({2, 2, 12, 12}, 41);
    const auto y = lift.forward(x, grid);
    const auto y_rot = lift.forward(rotate90(x), grid);
    const double scale = xt::amax(xt::abs(y))();
    CHECK(max_abs_diff(y_rot, rotate_features(y, 2)) <= 1e-12 * scale);
    // and it is not trivially so: the lifted features are not rotation invariant
    CHECK(max_abs_diff(y_rot, rotate_features(y, 0)) > 1e-2 * scale);

    const auto z = conv.forward(y, grid, grid);
    const auto z_rot = conv.forward(rotate_features(y, 2), grid, grid);
    const double zscale = xt::amax(xt::abs(z))();
    CHECK(max_abs_diff(z_rot, rotate_features(z, 2)) <= 1e-12 * zscale);
    CHECK(max_abs_diff(z_rot, rotate_features(z, 0)) > 1e-2 * zscale);
}

TEST_CASE("SO(2), equidistant grid: the whole affine_model is invariant to rotations by π/2 to round-off") {
    eq::model_config c{.image_size = 12, .in_channels = 1, .channels = 3, .kernel = 3, .classes = 4, .head_width = 6, .dropout = 0.0,
                       .kernel_hidden = 12, .kernel_layers = 2, .omega0 = 5.0, .seed = 3};
    eq::affine_model<so2, double> net(c);
    widenn::rng unused(0);
    const auto grid = eq::sample_grid<so2>(4, unused, eq::sampling::equidistant);
    const auto x = random_tensor<double, 4>({3, 1, 12, 12}, 42);
    const auto logits = net.forward(x, grid, false);
    const auto logits_rot = net.forward(rotate90(x), grid, false);
    CHECK(max_abs_diff(logits, logits_rot) <= 1e-11 * xt::amax(xt::abs(logits))());
}

TEST_CASE_TEMPLATE("Haar-weighted sampling: the equivariance error of a group convolution decreases like 1/sqrt(N)", H, sl2, gl_plus2) {
    auto layer = eq::equivariance_probe_layer<H>();
    const auto a = eq::example_transformation<H>();
    const eq::equivariance_probe probe{.sigma = 0.8, .repeats = 24, .seed = 0};
    const auto error = [&](std::size_t n, eq::sampling mode, std::uint64_t seed) {
        auto p = probe;
        p.seed = seed;
        return eq::group_conv_equivariance_error(layer, a, n, mode, p);
    };
    const double small = error(16, eq::sampling::haar, 1);
    const double large = error(1024, eq::sampling::haar, 2);
    const double largest = error(4096, eq::sampling::haar, 3);
    const double unweighted = error(4096, eq::sampling::unweighted, 4);
    MESSAGE(eq::planar_group<H>::name, ": Haar N=16 ", small, ", N=1024 ", large, ", N=4096 ", largest, "; unweighted N=4096 ", unweighted);
    // 1/√N predicts ratios of 8 and 2 (the importance weights are heavy tailed, so allow for the spread of 24 repetitions)
    CHECK(large < 0.35 * small);
    CHECK(largest < 0.8 * large);
    // without the weights the two sides estimate different integrals: the error does not vanish
    CHECK(unweighted > 2 * largest);
}
