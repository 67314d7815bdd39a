#pragma once
// Planar structure groups H for the affine groups R² ⋊ H of the equivariant layers, and the sampled group
// grids the layers integrate over (Mironenco & Forré, "Lie Group Decompositions for Equivariant Neural
// Networks", ICLR 2024, §3-4; derivations in docs/theory/lie-groups.md §1-4).
//
// A layer takes the group as a compile-time policy H = lie::so<2>, lie::gl_plus<2> or lie::sl<2>; `planar_group<H>`
// is everything a layer needs from H, computed by the lie/ policies:
//   chart_dim            dimension of the global chart ξ⁻¹ (kernel input), 1 for SO(2), 3 for SL(2), 4 for GL⁺(2)
//   volume_preserving    det h = 1 (no determinant factors) and the hard kernel mask ‖h⁻¹u‖ ≤ 1
//   chart(g, out)        ξ⁻¹(g) = vee(log P + log R) for g = P R, in lie's trace-orthonormal basis
//   draw(rng, proposal)  one element h = exp(X) R with R Haar on SO(2) and X drawn from the SPD proposal (below) in
//                        orthonormal Sym coordinates, with its Haar importance weight vol·J(X)/q(X) (§4), here
//                        normalised to 1 at X = 0, so that (1/N) Σ w_j f(h_j) is a Haar-correct Monte Carlo integral
//                        up to one global constant.
//
// Two proposals for X. The log-normal one, X ~ N(0, σ² I), covers all of H, so the sums estimate integrals over the
// whole group; but its weights grow like exp(‖X‖²/2σ²), and with the N ≈ 10 samples of a layer one or two of them
// carry most of the weight (effective sample size ≈ 3 of 6, ≈ 4 of 10 at any σ). The ball proposal, X uniform in
// ‖X‖ ≤ r, estimates the Haar integral over the compact set exp(B_r)·SO(2) instead; its weights are J(X) ∈ [1, 1.05]
// for r ≤ 0.4, so every sample counts (effective sample size ≈ N). Haar measure on GL⁺(2) and SL(2) is infinite and
// a kernel need not decay in the SPD directions (SL(2)'s mask is spatial only), so some such truncation is what
// makes the integral finite; the equivariance is exact for maps that keep the relevant part of the integrand inside it.
#include <array>
#include <cmath>
#include <cstddef>
#include <numbers>
#include <string_view>
#include <vector>

#include "../core/errors.hpp"
#include "../core/rng.hpp"
#include "../lie/gl_plus.hpp"
#include "../lie/so.hpp"

namespace widenn::equivariant {

// A 2×2 real matrix: lie's fixed-size matrix (row major, mat2{a, b, c, d} = [[a, b], [c, d]]).
using mat2 = lie::mat<double, 2>;

// The rotation by θ.
inline mat2 rotation(double theta) {
    const double c = std::cos(theta), s = std::sin(theta);
    return mat2{c, -s, s, c};
}

// m·(x, y).
inline std::array<double, 2> apply(const mat2& m, double x, double y) { return {m(0, 0) * x + m(0, 1) * y, m(1, 0) * x + m(1, 1) * y}; }

// The proposal of the SPD factor exp(X) of a sampled element h = exp(X) R (see the file comment).
struct spd_proposal {
    enum class shape { log_normal, ball };
    shape kind = shape::ball;
    double scale = 0.4;  // σ of the log-normal proposal; the radius r of the ball
};
inline spd_proposal log_normal_proposal(double sigma) { return {spd_proposal::shape::log_normal, sigma}; }
inline spd_proposal ball_proposal(double radius) { return {spd_proposal::shape::ball, radius}; }

// One sampled element h with its Haar importance weight.
struct group_element {
    mat2 h = mat2::identity();
    double weight = 1.0;
};

// What a layer needs from a structure group H, for H = lie::so<2>, lie::gl_plus<2>, lie::sl<2> (any scalar type;
// the geometry is computed in double). Specialise it to make another planar group usable.
template <class H>
struct planar_group;

namespace detail {


// The chart of lie::G, with the SO(2) angle coordinate (the last one, √2θ with θ in (−π, π]) put at +√2π when it is
// within round-off of −√2π: a relative rotation by π computed through products then always gets one chart value.
template <class G>
void chart_with_tie_at_pi(const mat2& g, double* out) {
    const auto z = G::from_matrix(g).chart();
    for (std::size_t k = 0; k < G::dof; ++k) out[k] = z[k];
    constexpr double edge = std::numbers::sqrt2 * std::numbers::pi;
    if (out[G::dof - 1] <= -edge + 1e-10) out[G::dof - 1] = edge;
}

template <class G, bool VolumePreserving>
struct polar_planar_group {
    static constexpr std::size_t chart_dim = G::dof;
    static constexpr bool volume_preserving = VolumePreserving;
    static void chart(const mat2& g, double* out) { chart_with_tie_at_pi<G>(g, out); }
    // Weights are normalised to 1 at X = 0 (a global constant: it divides out of every Monte Carlo sum).
    static group_element draw(rng& r, const spd_proposal& p) {
        using spd = typename G::spd_factor;
        if (p.kind == spd_proposal::shape::log_normal) {
            const typename spd::tangent zero{};
            const double at_identity = std::log(G::so_factor::volume()) - spd::log_normal_density(zero, p.scale);
            const auto s = G::sample(r, p.scale);
            return {s.element.matrix(), std::exp(static_cast<double>(s.log_weight) - at_identity)};
        }
        // uniform in the ball ‖v‖ ≤ r: a Gaussian direction, radius r·U^{1/d}; q is constant, so the weight is J(X)
        typename spd::tangent v{};
        double norm2 = 0;
        while (norm2 == 0) {
            norm2 = 0;
            for (auto& x : v) {
                x = r.normal();
                norm2 += x * x;
            }
        }
        const double radius = p.scale * std::pow(r.uniform(), 1.0 / static_cast<double>(spd::dof)) / std::sqrt(norm2);
        for (auto& x : v) x *= radius;
        const auto rotation = G::so_factor::sample_haar(r);
        const mat2 h = spd::exp(v).matrix() * rotation.matrix();
        return {h, std::exp(static_cast<double>(spd::polar_log_density(v)))};
    }
};

}  // namespace detail

template <class S>
struct planar_group<lie::so<2, S>> {
    using lie_group = lie::so<2, double>;
    static constexpr std::string_view name = "SO(2)";
    static constexpr std::size_t chart_dim = 1;
    static constexpr bool volume_preserving = true;
    static void chart(const mat2& g, double* out) { detail::chart_with_tie_at_pi<lie_group>(g, out); }
    static group_element draw(rng& r, const spd_proposal&) { return {lie_group::sample_haar(r).matrix(), 1.0}; }
};

template <class S>
struct planar_group<lie::gl_plus<2, S>> : detail::polar_planar_group<lie::gl_plus<2, double>, false> {
    using lie_group = lie::gl_plus<2, double>;
    static constexpr std::string_view name = "GL+(2)";
};

template <class S>
struct planar_group<lie::sl<2, S>> : detail::polar_planar_group<lie::sl<2, double>, true> {
    using lie_group = lie::sl<2, double>;
    static constexpr std::string_view name = "SL(2)";
};

template <class H>
concept PlanarGroup = requires(const mat2& g, double* out, rng& r, const spd_proposal& p) {
    { planar_group<H>::chart_dim } -> std::convertible_to<std::size_t>;
    { planar_group<H>::volume_preserving } -> std::convertible_to<bool>;
    planar_group<H>::chart(g, out);
    { planar_group<H>::draw(r, p) } -> std::same_as<group_element>;
};

// Called by every layer, so that another type is rejected with a sentence instead of a wall of template errors.
template <class H>
consteval bool check_planar_group() {
    static_assert(PlanarGroup<H>, "widenn::equivariant: the structure group H must be lie::so<2>, lie::sl<2> or lie::gl_plus<2> "
                                  "(or a type for which planar_group<H> is specialised with chart_dim, volume_preserving, chart and draw)");
    return PlanarGroup<H>;
}

// How the group samples of a forward pass are chosen.
enum class sampling {
    haar,          // Haar-weighted Monte Carlo: SO(2) factor Haar, SPD factor from the proposal, importance weights
    unweighted,    // the same draws with all weights 1 (what rgenn does; integrates against the proposal, not Haar)
    equidistant,   // SO(2) only: θ_k = 2πk/N, k = 0..N−1 (no duplicate rotation by π)
    stratified,    // as haar, but the rotation factors are θ₀ + 2πk/N with one uniform θ₀ (a randomly turned
                   // equidistant grid): each θ_k is still Haar on SO(2), so the Monte Carlo sums stay unbiased, and
                   // their variance over the rotation factor is far smaller than with independent angles
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
group_grid sample_grid(std::size_t n, rng& r, sampling mode = sampling::haar, const spd_proposal& proposal = {}) {
    require(n > 0, "widenn::equivariant::sample_grid: the number of group samples must be positive, got 0");
    // beyond ‖log P‖ ~ 10 the elements (scales e^10) and their weights overflow float features
    require(proposal.scale > 0 && proposal.scale <= 10,
            "widenn::equivariant::sample_grid: the scale of the SPD proposal (sigma or radius) must be in (0, 10], got ", proposal.scale);
    group_grid grid;
    grid.elements.reserve(n);
    if (mode == sampling::equidistant) {
        require(planar_group<H>::chart_dim == 1, "widenn::equivariant::sample_grid: equidistant grids exist only for SO(2), got ",
                planar_group<H>::name);
        for (const auto& rotation : lie::so<2, double>::equidistant(n)) grid.elements.push_back({rotation.matrix(), 1.0});
        return grid;
    }
    const double offset = mode == sampling::stratified ? 2.0 * std::numbers::pi * r.uniform() : 0.0;
    for (std::size_t k = 0; k < n; ++k) {
        auto e = planar_group<H>::draw(r, proposal);
        if (mode == sampling::unweighted) e.weight = 1.0;
        if (mode == sampling::stratified) {
            // h = P R (left polar form, docs/theory/lie-groups.md §7): keep P and its weight, replace R
            const auto& g = e.h;
            const double norm = std::hypot(g(0, 0) + g(1, 1), g(1, 0) - g(0, 1));
            const mat2 rotation_t{(g(0, 0) + g(1, 1)) / norm, (g(1, 0) - g(0, 1)) / norm, (g(0, 1) - g(1, 0)) / norm, (g(0, 0) + g(1, 1)) / norm};  // Rᵀ
            const mat2 spd = g * rotation_t;
            e.h = spd * rotation(offset + 2.0 * std::numbers::pi * static_cast<double>(k) / static_cast<double>(n));
        }
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
