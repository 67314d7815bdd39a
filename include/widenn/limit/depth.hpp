#pragma once
// Infinite depth: the normalised dual on the sphere, its iteration, fixed points, and the classification of the
// deep limit (Radhakrishnan, Belkin & Uhler, "Wide and deep neural networks achieve consistency for
// classification", arXiv 2204.14126; iteration as in their code uhlerlab/inf_depth_ntks, see docs/theory/kernel-limits.md §7).
//
// Setting: inputs on the unit sphere, no biases and variance-preserving weights (σw² = 1/T(1,1,1)), so every
// diagonal stays 1 and a layer maps the correlation ξ to ǒ(ξ) = T(1, ξ, 1)/T(1, 1, 1); ǒ'(ξ) = Ṫ(1, ξ, 1)/T(1, 1, 1).
//   NNGP: Σ⁰ = ξ, Σ^{l+1} = clip(ǒ(Σ^l), −1, 1);  NTK: K⁰ = ξ, K^{l+1} = ǒ(Σ^l) + K^l ǒ'(Σ^l).
// With φ = Σ a_k h_k (orthonormal Hermite functions), ǒ(ξ) = Σ a_k² ξ^k, so ǒ(0) = a_0² and ǒ'(0) = a_1².
// Deep limit (our reconstruction of the paper's three classes from its code and asymptotics; docs/theory/kernel-limits.md §7):
//   a_0 ≠ 0                → majority vote: the kernel tends to a constant off the diagonal (ReLU);
//   a_0 = 0, a_1 = 0       → 1-nearest neighbour;
//   a_0 = 0, 0 < a_1² < 1  → singular kernel: the depth-L NNGP ~ C^L (1 − ξ)^{−α}, α = ln(1/ǒ'(0)) / ln ǒ'(1);
//   ǒ(ξ) = ξ (a_1² = 1)    → linear: every layer keeps the input correlation (no deep limit to speak of).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <functional>
#include <string_view>
#include <vector>

#include "../act/dual.hpp"
#include "../core/concepts.hpp"
#include "../core/errors.hpp"

namespace widenn::limit {

// A normalised dual ǒ and its derivative on [−1, 1], given as functions (so duals that are not activations can be studied too).
struct sphere_dual {
    std::function<double(double)> value;
    std::function<double(double)> derivative;
};

// The normalised dual of activation A: ǒ(ξ) = T(1, ξ, 1)/T(1, 1, 1) (the weight variance 1/T(1,1,1) keeps the variance at 1).
template <Activation A>
sphere_dual normalised_dual() {
    static_assert(check_activation<A>());
    const double scale = act::dual<A>(1.0, 1.0, 1.0).value;
    require<numerical_error>(scale > 0 && std::isfinite(scale), "limit::normalised_dual<", A::name, ">: T(1, 1, 1) = ", scale,
                             " cannot be normalised to 1");
    return {[scale](double xi) { return act::dual<A>(1.0, std::clamp(xi, -1.0, 1.0), 1.0).value / scale; },
            [scale](double xi) { return act::dual<A>(1.0, std::clamp(xi, -1.0, 1.0), 1.0).derivative / scale; }};
}

// The NNGP Σ^L(ξ) and NTK K^L(ξ) after `depth` layers of the normalised recursion (correlations clipped to [−1, 1]).
struct deep_kernel {
    double nngp;
    double ntk;
};
inline deep_kernel iterate(const sphere_dual& dual, double xi, int depth) {
    require(depth >= 0, "limit::iterate: depth must be >= 0, got ", depth);
    require(xi >= -1 && xi <= 1, "limit::iterate: the correlation must be in [-1, 1], got ", xi);
    double sigma = xi, ntk = xi;
    for (int l = 0; l < depth; ++l) {
        const double next = std::clamp(dual.value(sigma), -1.0, 1.0);
        ntk = next + ntk * dual.derivative(sigma);
        sigma = next;
    }
    return {sigma, ntk};
}

// A fixed point ξ* = ǒ(ξ*) and whether the iteration is attracted to it (|ǒ'(ξ*)| < 1).
struct fixed_point {
    double xi;
    double slope;  // ǒ'(ξ*)
    bool attracting;
};

// Fixed points in [−1, 1], located by sign changes of ǒ(ξ) − ξ on a grid of `grid` cells and refined by bisection,
// plus exact endpoints (ξ = 1 is always fixed when ǒ(1) = 1). Tangential fixed points between grid nodes can be missed.
inline std::vector<fixed_point> fixed_points(const sphere_dual& dual, int grid = 2000) {
    require(grid >= 2, "limit::fixed_points: grid must be >= 2, got ", grid);
    const auto g = [&](double xi) { return dual.value(xi) - xi; };
    std::vector<fixed_point> out;
    const auto add = [&](double xi) {
        for (const auto& p : out)
            if (std::abs(p.xi - xi) < 1e-9) return;
        const double s = dual.derivative(xi);
        out.push_back({xi, s, std::abs(s) < 1});
    };
    const double tol = 1e-13;
    double x0 = -1, g0 = g(x0);
    if (std::abs(g0) <= tol) add(-1.0);
    for (int i = 1; i <= grid; ++i) {
        const double x1 = -1 + 2.0 * i / grid, g1 = g(x1);
        if (std::abs(g1) <= tol) {
            add(x1);
        } else if (g0 * g1 < 0 && std::abs(g0) > tol) {
            double lo = x0, hi = x1, glo = g0;
            for (int it = 0; it < 200 && hi - lo > 1e-15; ++it) {
                const double mid = 0.5 * (lo + hi), gm = g(mid);
                if ((gm < 0) == (glo < 0))
                    lo = mid, glo = gm;
                else
                    hi = mid;
            }
            add(0.5 * (lo + hi));
        }
        x0 = x1, g0 = g1;
    }
    std::sort(out.begin(), out.end(), [](const fixed_point& a, const fixed_point& b) { return a.xi < b.xi; });
    return out;
}

enum class deep_limit { majority_vote, nearest_neighbour, singular_kernel, linear };

constexpr std::string_view to_string(deep_limit k) {
    switch (k) {
        case deep_limit::majority_vote: return "majority vote";
        case deep_limit::nearest_neighbour: return "1-nearest neighbour";
        case deep_limit::singular_kernel: return "singular kernel";
        case deep_limit::linear: return "linear";
    }
    return "?";
}

struct depth_classification {
    deep_limit kind;
    double value_at_0;       // ǒ(0) = a_0²
    double slope_at_0;       // ǒ'(0) = a_1²
    double slope_at_1;       // ǒ'(1)
    double alpha;            // singular exponent ln(1/ǒ'(0))/ln ǒ'(1) (NaN unless singular_kernel)
    std::vector<fixed_point> fixed;
};

// Classifies the deep limit of a normalised dual; `zero` is the threshold below which a_0², a_1² count as 0.
inline depth_classification classify_depth(const sphere_dual& dual, double zero = 1e-12) {
    const double one = dual.value(1.0);
    require(std::abs(one - 1) <= 1e-9, "limit::classify_depth: the dual must be normalised, ǒ(1) = 1, got ", one);
    depth_classification c{};
    c.value_at_0 = dual.value(0.0);
    c.slope_at_0 = dual.derivative(0.0);
    c.slope_at_1 = dual.derivative(1.0);
    c.alpha = std::nan("");
    c.fixed = fixed_points(dual);
    if (std::abs(c.value_at_0) > zero)
        c.kind = deep_limit::majority_vote;
    else if (std::abs(c.slope_at_0) <= zero)
        c.kind = deep_limit::nearest_neighbour;
    else if (std::abs(c.slope_at_0 - 1) <= 1e-9)
        c.kind = deep_limit::linear;
    else {
        c.kind = deep_limit::singular_kernel;
        c.alpha = std::log(1 / c.slope_at_0) / std::log(c.slope_at_1);
    }
    return c;
}

template <Activation A>
depth_classification classify_depth() {
    return classify_depth(normalised_dual<A>());
}

}  // namespace widenn::limit
