#pragma once
// Measuring equivariance of the Monte Carlo group convolution (Mironenco & Forré, ICLR 2024, §4).
//
// A 1×1 group convolution (no spatial sum) on features f(g_j) = ψ(g_j) computes, at an output element h, the Monte Carlo
// estimate  (1/N) Σ_j w_j k(ξ⁻¹(h⁻¹g_j)) ψ(g_j) |det g_j|⁻¹  of  I(h, ψ) = ∫_H k(ξ⁻¹(h⁻¹g)) ψ(g) |det g|⁻¹ dμ(g).
// Left invariance of μ gives I(a h, ψ(a⁻¹·)) = |det a|⁻¹ I(h, ψ) (the spatial Jacobian |det a| is absent from a 1×1
// kernel). The relative equivariance error compares the two sides, each estimated from its own N samples: with
// Haar-correct weights it vanishes like 1/√N; with unweighted samples (rgenn) both sides converge, to different values.
#include <cmath>
#include <cstddef>
#include <cstdint>

#include <xtensor/xtensor.hpp>

#include "group_conv.hpp"
#include "groups.hpp"

namespace widenn::equivariant {

// ψ(g) = exp(−½‖g − I‖²_F − ½‖g⁻¹ − I‖²_F): decays in every direction of GL⁺(2), so its Haar integrals converge.
inline double decaying_test_function(const mat2& g) {
    const auto gi = lie::inverse(g);
    const auto sq = [](double v) { return v * v; };
    return std::exp(-0.5 * (sq(g(0, 0) - 1) + sq(g(0, 1)) + sq(g(1, 0)) + sq(g(1, 1) - 1)) - 0.5 * (sq(gi(0, 0) - 1) + sq(gi(0, 1)) + sq(gi(1, 0)) + sq(gi(1, 1) - 1)));
}

struct equivariance_probe {
    double sigma = 0.8;         // width of the log-normal SPD proposal (it covers the whole group, as the probe's integrals do)
    std::size_t repeats = 24;   // independent pairs of draws averaged
    std::uint64_t seed = 0;
};

// Mean |transformed − original| / mean |original| over `repeats` independent pairs of N-sample grids, for the 1×1 group
// convolution `layer` (1 → 1 channels) and the transformation a ∈ H.
template <class H>
double group_conv_equivariance_error(group_conv<H, double>& layer, const mat2& a, std::size_t n, sampling mode, const equivariance_probe& probe) {
    require(layer.config().kernel == 1 && layer.config().in_channels == 1 && layer.config().out_channels == 1,
            "widenn::equivariant::group_conv_equivariance_error: needs a 1x1 group convolution with one input and one output channel");
    require(probe.repeats > 0, "widenn::equivariant::group_conv_equivariance_error: repeats must be positive, got 0");
    const mat2 h = rotation(0.3), ah = a * h, a_inv = lie::inverse(a);
    const double det_a = planar_group<H>::volume_preserving ? 1.0 : std::abs(lie::det(a));
    const std::array<std::size_t, 5> shape{1, n, 1, 1, 1};
    double total = 0, scale = 0;
    for (std::size_t rep = 0; rep < probe.repeats; ++rep) {
        rng r = rng::stream(probe.seed, rep);
        const auto g1 = sample_grid<H>(n, r, mode, log_normal_proposal(probe.sigma)),
                   g2 = sample_grid<H>(n, r, mode, log_normal_proposal(probe.sigma));
        xt::xtensor<double, 5> f1 = xt::empty<double>(shape), f2 = xt::empty<double>(shape);
        for (std::size_t j = 0; j < n; ++j) {
            f1(0, j, 0, 0, 0) = decaying_test_function(a_inv * g1.elements[j].h);
            f2(0, j, 0, 0, 0) = decaying_test_function(g2.elements[j].h);
        }
        const double transformed = layer.forward(f1, g1, group_grid{{{ah, 1.0}}})(0, 0, 0, 0, 0) * det_a;
        const double original = layer.forward(f2, g2, group_grid{{{h, 1.0}}})(0, 0, 0, 0, 0);
        total += std::abs(transformed - original);
        scale += std::abs(original);
    }
    return total / scale;
}

// A 1×1 probe layer whose kernel has one sign (readout bias 1 ≫ the SIREN's output), so that I(h, ψ) does not cancel.
template <class H>
group_conv<H, double> equivariance_probe_layer(std::uint64_t seed = 8) {
    group_conv<H, double> layer({.in_channels = 1, .out_channels = 1, .kernel = 1, .padding = 0, .kernel_hidden = 16, .kernel_layers = 2,
                                 .omega0 = 2.0, .seed = seed});
    layer.parameters().back()->value[0] = 1.0;
    return layer;
}

// The transformation used by the equivariance tests and the `widenn equivariance` command: anisotropic scale, shear
// and rotation; det 1 for volume-preserving H, det 1.44 for GL⁺(2), a rotation by 0.9 for SO(2).
template <class H>
mat2 example_transformation() {
    if constexpr (planar_group<H>::chart_dim == 1) return rotation(0.9);
    else if constexpr (planar_group<H>::volume_preserving) return mat2{1.5, 0.4, 0.0, 1 / 1.5} * rotation(0.9);
    else return mat2{1.8, 0.4, 0.0, 0.8} * rotation(0.9);
}

}  // namespace widenn::equivariant
