#pragma once
// Planar structure groups H for the affine groups R² ⋊ H of the equivariant layers, and the sampled group
// grids the layers integrate over (Mironenco & Forré, "Lie Group Decompositions for Equivariant Neural
// Networks", ICLR 2024, §3-4; formulas checked in shared/reference/lie-groups.md §1-4).
//
// A layer takes the group as a compile-time policy H; `planar_group<H>` is everything a layer needs from H:
//   chart_dim            dimension of the global chart ξ⁻¹ (kernel input), 1 for SO(2), 3 for SL(2), 4 for GL⁺(2)
//   volume_preserving    det h = 1 (no determinant factors) and the hard kernel mask ‖h⁻¹u‖ ≤ 1
//   chart(g, out)        ξ⁻¹(g) = vee(log P + log R) for g = P R, in the trace-orthonormal basis
//   draw(rng, sigma)     one element h = exp(X) R(θ) with θ ~ U[0, 2π) (Haar on SO(2)) and X ~ N(0, σ² I) in
//                        orthonormal Sym coordinates, and its Haar importance weight J(X) / q(X) (normalised to 1
//                        at X = 0), so that (1/N) Σ w_j f(h_j) is a Haar-correct Monte Carlo integral (§4).
#include <array>
#include <cmath>
#include <cstddef>
#include <numbers>
#include <string_view>
#include <vector>

#include "../core/errors.hpp"
#include "../core/rng.hpp"

namespace widenn::equivariant {

// A 2×2 real matrix, row major: {a, b, c, d} = [[a, b], [c, d]].
struct mat2 {
    double a = 1, b = 0, c = 0, d = 1;
    double det() const { return a * d - b * c; }
    mat2 inverse() const {
        const double q = det();
        return {d / q, -b / q, -c / q, a / q};
    }
    std::array<double, 2> apply(double x, double y) const { return {a * x + b * y, c * x + d * y}; }
    friend mat2 operator*(const mat2& p, const mat2& q) {
        return {p.a * q.a + p.b * q.c, p.a * q.b + p.b * q.d, p.c * q.a + p.d * q.c, p.c * q.b + p.d * q.d};
    }
    static mat2 rotation(double theta) {
        const double c = std::cos(theta), s = std::sin(theta);
        return {c, -s, s, c};
    }
};

namespace detail {

// exp of the symmetric matrix [[x11, x12], [x12, x22]]: with m = tr/2 and B = X − m I, B² = r² I (reference §7).
inline mat2 exp_sym2(double x11, double x12, double x22) {
    const double m = 0.5 * (x11 + x22), h = 0.5 * (x11 - x22);
    const double r = std::hypot(h, x12);
    const double sinhc = r < 1e-8 ? 1.0 + r * r / 6.0 : std::sinh(r) / r;
    const double e = std::exp(m), ch = std::cosh(r);
    return {e * (ch + sinhc * h), e * sinhc * x12, e * sinhc * x12, e * (ch - sinhc * h)};
}

// Angle in (−π, π]; an angle within round-off of −π is the rotation by π (so that a relative rotation
// by π, computed by products with round-off, always gets one chart value).
inline double principal_angle(double s, double c) {
    const double theta = std::atan2(s, c);
    return theta <= -std::numbers::pi + 1e-12 ? std::numbers::pi : theta;
}

// The polar decomposition g = P R (det g > 0) in closed form and X = log P (reference §7):
// R = [[a+d, b−c], [c−b, a+d]] / √((a+d)² + (c−b)²), P = g Rᵀ; log of the SPD P from its eigenvalues μ± = m ± r.
struct polar_log {
    double x11, x12, x22, theta;
};
inline polar_log polar_log2(const mat2& g, std::string_view where) {
    if (!(g.det() > 0) || !std::isfinite(g.det()))
        fail(where, ": the chart needs det g > 0 (an element of GL+(2)), got det = ", g.det());
    const double ca = g.a + g.d, sa = g.c - g.b, norm = std::hypot(ca, sa);
    const double co = ca / norm, si = sa / norm;  // R = [[co, −si], [si, co]]
    // P = g Rᵀ, symmetrised.
    const double p11 = g.a * co - g.b * si, p22 = g.c * si + g.d * co;
    const double p12 = 0.5 * ((g.a * si + g.b * co) + (g.c * co - g.d * si));
    const double m = 0.5 * (p11 + p22), h = 0.5 * (p11 - p22), r = std::hypot(h, p12);
    const double lo = m - r, hi = m + r;
    // (ln μ+ − ln μ−) / (2r) = atanh(r/m)/r, with its series near r = 0.
    const double t = r / m;
    const double slope = t < 1e-4 ? (1.0 + t * t / 3.0) / m : std::atanh(t) / r;
    const double mean_log = 0.5 * (std::log(lo) + std::log(hi));
    return {mean_log + slope * h, slope * p12, mean_log - slope * h, principal_angle(si, co)};
}

// Haar density of GL⁺(2) / SL(2) in polar-exponential coordinates relative to dX dR: J(X) = sinh(Δ)/Δ with
// Δ = λ₁ − λ₂ = 2√(((x11−x22)/2)² + x12²) (reference §3; the constant is exactly 1).
inline double haar_jacobian_sym2(double x11, double x12, double x22) {
    const double delta = 2.0 * std::hypot(0.5 * (x11 - x22), x12);
    return delta < 1e-8 ? 1.0 + delta * delta / 6.0 : std::sinh(delta) / delta;
}

}  // namespace detail

// One sampled element h with its inverse and Haar importance weight.
struct group_element {
    mat2 h;
    double weight = 1.0;
};

// The three structure groups. These tags are the compile-time policies of the layers; lie::so<2>,
// lie::gl_plus<2> and lie::sl<2> map onto them through planar_group (see below).
struct so2 {
    static constexpr std::string_view name = "SO(2)";
    static constexpr std::size_t chart_dim = 1;
    static constexpr bool volume_preserving = true;
    // ξ⁻¹(R(θ)) = √2 θ, θ ∈ (−π, π] (coordinate in the orthonormal basis (E21 − E12)/√2).
    static void chart(const mat2& g, double* out) { out[0] = std::numbers::sqrt2 * detail::principal_angle(g.c - g.b, g.a + g.d); }
    static group_element draw(rng& r, double /*sigma*/) { return {mat2::rotation(2.0 * std::numbers::pi * r.uniform()), 1.0}; }
};

struct gl_plus2 {
    static constexpr std::string_view name = "GL+(2)";
    static constexpr std::size_t chart_dim = 4;
    static constexpr bool volume_preserving = false;
    // ξ⁻¹(P R) = (x11, √2 x12, x22, √2 θ) with X = log P: orthonormal basis E11, (E12+E21)/√2, E22, (E21−E12)/√2.
    static void chart(const mat2& g, double* out) {
        const auto p = detail::polar_log2(g, "widenn::equivariant::gl_plus2::chart");
        out[0] = p.x11;
        out[1] = std::numbers::sqrt2 * p.x12;
        out[2] = p.x22;
        out[3] = std::numbers::sqrt2 * p.theta;
    }
    // v ~ N(0, σ² I₃) in the orthonormal Sym(2) coordinates; weight J(X)/q(v) · q(0) = J(X) exp(|v|²/(2σ²)).
    static group_element draw(rng& r, double sigma) {
        const double v0 = sigma * r.normal(), v1 = sigma * r.normal(), v2 = sigma * r.normal();
        const double x11 = v0, x12 = v1 / std::numbers::sqrt2, x22 = v2;
        const double weight = detail::haar_jacobian_sym2(x11, x12, x22) * std::exp((v0 * v0 + v1 * v1 + v2 * v2) / (2 * sigma * sigma));
        return {detail::exp_sym2(x11, x12, x22) * mat2::rotation(2.0 * std::numbers::pi * r.uniform()), weight};
    }
};

struct sl2 {
    static constexpr std::string_view name = "SL(2)";
    static constexpr std::size_t chart_dim = 3;
    static constexpr bool volume_preserving = true;
    // ξ⁻¹(P R) = ((x11 − x22)/√2, √2 x12, √2 θ): basis (E11−E22)/√2, (E12+E21)/√2, (E21−E12)/√2.
    static void chart(const mat2& g, double* out) {
        const auto p = detail::polar_log2(g, "widenn::equivariant::sl2::chart");
        out[0] = (p.x11 - p.x22) / std::numbers::sqrt2;
        out[1] = std::numbers::sqrt2 * p.x12;
        out[2] = std::numbers::sqrt2 * p.theta;
    }
    static group_element draw(rng& r, double sigma) {
        const double v0 = sigma * r.normal(), v1 = sigma * r.normal();
        const double x11 = v0 / std::numbers::sqrt2, x12 = v1 / std::numbers::sqrt2;
        const double weight = detail::haar_jacobian_sym2(x11, x12, -x11) * std::exp((v0 * v0 + v1 * v1) / (2 * sigma * sigma));
        return {detail::exp_sym2(x11, x12, -x11) * mat2::rotation(2.0 * std::numbers::pi * r.uniform()), weight};
    }
};

// What a layer needs from a structure group H. Specialise it to make another policy type usable.
template <class H>
struct planar_group;
template <>
struct planar_group<so2> : so2 {};
template <>
struct planar_group<gl_plus2> : gl_plus2 {};
template <>
struct planar_group<sl2> : sl2 {};

template <class H>
concept PlanarGroup = requires(const mat2& g, double* out, rng& r) {
    { planar_group<H>::chart_dim } -> std::convertible_to<std::size_t>;
    { planar_group<H>::volume_preserving } -> std::convertible_to<bool>;
    planar_group<H>::chart(g, out);
    { planar_group<H>::draw(r, 1.0) } -> std::same_as<group_element>;
};

// How the group samples of a forward pass are chosen.
enum class sampling {
    haar,          // Haar-weighted Monte Carlo: SO(2) factor Haar, SPD factor log-normal with importance weights
    unweighted,    // the same draws with all weights 1 (what rgenn does; integrates against the proposal, not Haar)
    equidistant,   // SO(2) only: θ_k = 2πk/N, k = 0..N−1 (no duplicate rotation by π)
};

// The N group elements a layer's features live on (or integrates over), with their Monte Carlo weights.
struct group_grid {
    std::vector<group_element> elements;
    std::size_t size() const { return elements.size(); }
};

// Draws a grid of n elements of H. Deterministic for a given rng state: pass rng(seed) for fixed evaluation samples,
// or a training rng for fresh draws at every step.
template <class H>
    requires PlanarGroup<H>
group_grid sample_grid(std::size_t n, rng& r, sampling mode = sampling::haar, double sigma = 0.3) {
    require(n > 0, "widenn::equivariant::sample_grid: the number of group samples must be positive, got 0");
    require(sigma > 0 && std::isfinite(sigma), "widenn::equivariant::sample_grid: the proposal scale sigma must be positive, got ", sigma);
    group_grid grid;
    grid.elements.reserve(n);
    if (mode == sampling::equidistant) {
        require(planar_group<H>::chart_dim == 1, "widenn::equivariant::sample_grid: equidistant grids exist only for SO(2), got ",
                planar_group<H>::name);
        for (std::size_t k = 0; k < n; ++k)
            grid.elements.push_back({mat2::rotation(2.0 * std::numbers::pi * static_cast<double>(k) / static_cast<double>(n)), 1.0});
        return grid;
    }
    for (std::size_t k = 0; k < n; ++k) {
        auto e = planar_group<H>::draw(r, sigma);
        if (mode == sampling::unweighted) e.weight = 1.0;
        grid.elements.push_back(e);
    }
    return grid;
}

// The grid {a h_j}: transports a sample set by a group element (left translation keeps Haar weights).
inline group_grid left_translate(const mat2& a, const group_grid& grid) {
    group_grid out = grid;
    for (auto& e : out.elements) e.h = a * e.h;
    return out;
}

}  // namespace widenn::equivariant
