#pragma once
// Dual kernels of activations: the closed form when the policy has one, Gauss–Hermite quadrature otherwise.
//
//   act::dual<A>(q11, q12, q22)                    -> dual_value{T, Ṫ}; closed form if A has `dual`, else quadrature
//   act::dual_quadrature<A, Degree>(q11, q12, q22) -> the same by 2-D Gauss–Hermite quadrature of degree Degree
//   act::has_closed_form_dual<A>                   -> whether A provides `dual`
//
// with T = E[φ(u)φ(v)], Ṫ = E[φ'(u)φ'(v)] for (u, v) ~ N(0, [[q11, q12], [q12, q22]]).
// Quadrature (docs/theory/kernel-limits.md §3): v = (q12/q11) u + √(q22 − q12²/q11) z is the conditional decomposition, i.e. the
// Cholesky factor of the 2×2 covariance; pivoting on the larger variance and clamping the conditional variance at 0
// (rounding past |ρ| = 1) are the only adjustments. The 1-D rule is Golub & Welsch (1969): nodes are the eigenvalues
// of the Jacobi matrix of the probabilists' Hermite polynomials (found by Sturm-sequence bisection) and the weights
// are the Christoffel numbers 1/Σ_k ψ_k(z)², ψ_k = He_k/√(k!); both are computed once per degree.
// Quadrature converges fast for smooth φ (erf: 7e-14 at degree 50) but only as O(1/degree) for kinked φ (ReLU),
// which is why every kinked activation in activations.hpp has a closed form.
#include <algorithm>
#include <array>
#include <cmath>
#include <concepts>
#include <iomanip>
#include <limits>
#include <sstream>
#include <type_traits>
#include <utility>
#include <vector>

#include "../core/concepts.hpp"
#include "../core/errors.hpp"
#include "activations.hpp"

namespace widenn::act {

// The activation provides `template <class T> static dual_value<T> dual(T q11, T q12, T q22)` (detected at double;
// act::dual checks with a sentence that the other floating-point types work too).
template <class A>
concept has_closed_form_dual = requires(double d) {
    { A::dual(d, d, d) } -> std::same_as<dual_value<double>>;
};

// The degree act::dual uses for activations without a closed form: 10⁴ evaluations of φ and φ' per entry. Measured
// relative errors at ρ = 0.4: softplus ≤ 1e-13 for q ≤ 4; tanh's Ṫ 1e-11 at q = 1, 4e-8 at q = 2, 1e-5 at q = 4 (its poles at
// z = ±iπ/(2√q) approach the real axis as q grows: ask dual_quadrature for a higher degree there).
inline constexpr int default_quadrature_degree = 100;
inline constexpr int max_quadrature_degree = 300;  // beyond, Σψ_k² overflows double at the outermost nodes

// Nodes z_i and weights w_i with Σ_i w_i f(z_i) ≈ E[f(Z)], Z ~ N(0, 1); exact for polynomials of degree ≤ 2·Degree − 1.
template <int Degree>
struct gauss_hermite_rule {
    std::array<double, Degree> nodes{};
    std::array<double, Degree> weights{};
};

namespace detail {

// Number of eigenvalues below x of the Jacobi matrix J of He_n: zero diagonal, off-diagonal √k (k = 1..n−1).
inline int eigenvalues_below(int n, double x) {
    int count = 0;
    double d = -x;  // LDLᵀ pivots of J − xI
    for (int k = 1;; ++k) {
        if (d < 0) ++count;
        if (k == n) break;
        if (d == 0) d = std::numeric_limits<double>::min();
        d = -x - static_cast<double>(k) / d;
    }
    return count;
}

// Throws unless (q11, q12, q22) is a covariance: finite, q11, q22 ≥ 0 and q12² ≤ q11 q22 up to a relative slack of
// √ε (rounding in Gram matrices gives |ρ| = 1 + O(ε); anything larger is a caller bug, not rounding).
template <class T>
inline void require_covariance(T q11, T q12, T q22, const char* where) {
    const T slack = T(1) + std::sqrt(std::numeric_limits<T>::epsilon());
    if (q11 >= T(0) && q22 >= T(0) && std::isfinite(q11) && std::isfinite(q22) && std::isfinite(q12)) {
        if (q12 * q12 <= q11 * q22 * slack) return;
        const T scale = std::max(q11, q22);  // retry without underflow for tiny variances
        if (scale > T(0) && (q12 / scale) * (q12 / scale) <= (q11 / scale) * (q22 / scale) * slack) return;
    }
    std::ostringstream given;  // full precision: the interesting failures are a few ulps past |ρ| = 1
    given << std::setprecision(std::numeric_limits<T>::max_digits10) << '(' << q11 << ", " << q12 << ", " << q22 << ')';
    fail(where, ": (q11, q12, q22) must be a covariance (finite, q11 >= 0, q22 >= 0, q12^2 <= q11*q22), got ", given.str());
}

}  // namespace detail

// A one-dimensional rule of run-time size: Σ_i weights[i]·f(nodes[i]) ≈ E[f(Z)], Z ~ N(0, 1), nodes ascending.
struct quadrature_rule_1d {
    std::vector<double> nodes;
    std::vector<double> weights;
};

// The probabilists' Gauss–Hermite rule with `points` nodes (exact for polynomials of degree ≤ 2·points − 1), the one
// implementation behind act::gauss_hermite<Degree>() and the feature-learning limits' grids (limit/mup_1hl.hpp).
// Nodes: the eigenvalues of the Jacobi matrix, by Sturm-sequence bisection to full precision; weights: the Christoffel
// numbers 1/Σ_k ψ_k(z)², with the sum rescaled by powers of two when it grows past 2^600 (outer nodes of large rules,
// whose weights then underflow to 0 as they should), renormalised to sum to 1; exactly symmetric.
inline quadrature_rule_1d gauss_hermite(int points) {
    require(points >= 1 && points <= 4096, "act::gauss_hermite: the number of points must be in 1..4096, got ", points);
    const int n = points;
    quadrature_rule_1d rule;
    rule.nodes.assign(static_cast<std::size_t>(n), 0.0);
    rule.weights.assign(static_cast<std::size_t>(n), 0.0);
    const double bound = 2.0 * std::sqrt(static_cast<double>(n)) + 1.0;  // Gershgorin: |z| ≤ 2√(n−1)
    for (int j = n / 2; j < n; ++j) {                                  // the non-negative roots; mirror the rest
        double lo = (n % 2 == 1 && j == n / 2) ? -1.0 : 0.0, hi = bound;
        for (int it = 0; it < 200; ++it) {
            const double mid = 0.5 * (lo + hi);
            if (mid <= lo || mid >= hi) break;
            (detail::eigenvalues_below(n, mid) <= j ? lo : hi) = mid;
        }
        double z = 0.5 * (lo + hi);
        if (n % 2 == 1 && j == n / 2) z = 0.0;  // the middle root of an odd rule is exactly 0
        // Christoffel number: 1 / Σ_{k<n} ψ_k(z)², ψ_{k+1} = (z ψ_k − √k ψ_{k−1}) / √(k+1).
        double previous = 0.0, current = 1.0, sum = 1.0;
        int scaled = 0;  // the true sum is sum · 2^scaled
        for (int k = 0; k + 1 < n; ++k) {
            const double next = (z * current - std::sqrt(static_cast<double>(k)) * previous) / std::sqrt(static_cast<double>(k + 1));
            previous = current;
            current = next;
            sum += current * current;
            if (sum > 0x1p600) {
                previous = std::scalbn(previous, -300);
                current = std::scalbn(current, -300);
                sum = std::scalbn(sum, -600);
                scaled += 600;
            }
        }
        const double weight = std::scalbn(1.0 / sum, -scaled);
        rule.nodes[static_cast<std::size_t>(j)] = z;
        rule.weights[static_cast<std::size_t>(j)] = weight;
        rule.nodes[static_cast<std::size_t>(n - 1 - j)] = -z;
        rule.weights[static_cast<std::size_t>(n - 1 - j)] = weight;
    }
    // The weights sum to 1 in exact arithmetic; renormalising removes the rounding of the Christoffel sums.
    double total = 0.0;
    for (double w : rule.weights) total += w;
    for (double& w : rule.weights) w /= total;
    return rule;
}

// The Gauss–Hermite rule of the given degree as fixed-size arrays, computed on first use (thread-safe) and kept.
template <int Degree>
const gauss_hermite_rule<Degree>& gauss_hermite() {
    static_assert(Degree >= 1 && Degree <= max_quadrature_degree,
                  "widenn: the Gauss-Hermite degree must be between 1 and act::max_quadrature_degree (300)");
    static const gauss_hermite_rule<Degree> rule = [] {
        const quadrature_rule_1d r = gauss_hermite(Degree);
        gauss_hermite_rule<Degree> out;
        std::copy(r.nodes.begin(), r.nodes.end(), out.nodes.begin());
        std::copy(r.weights.begin(), r.weights.end(), out.weights.begin());
        return out;
    }();
    return rule;
}

// T and Ṫ of A by 2-D Gauss–Hermite quadrature with Degree² nodes, evaluated in at least double precision.
// Exact for polynomial φ of degree < Degree. Throws widenn::error for a non-covariance input and
// widenn::numerical_error if φ overflows at the nodes (e.g. exp at a huge variance).
template <class A, int Degree, class T>
dual_value<T> dual_quadrature(T q11, T q12, T q22) {
    static_assert(check_activation<A>());
    static_assert(std::floating_point<T>, "widenn: act::dual_quadrature needs floating-point variances");
    detail::require_covariance(q11, q12, q22, "act::dual_quadrature");
    using R = std::common_type_t<T, double>;
    const auto& rule = gauss_hermite<Degree>();
    // E[φ(u)φ(v)] is symmetric in (u, v): pivot on the larger variance so the Cholesky factor is well conditioned.
    R a = q11, c = q12, b = q22;
    if (b > a) std::swap(a, b);
    const R l11 = std::sqrt(a);
    const R l21 = a > R(0) ? c / l11 : R(0);
    R l22 = 0;  // √((q11 q22 − q12²)/q11), on the covariance scaled by an even power of two (exact) against underflow
    if (a > R(0)) {
        const int even = std::ilogb(a) & ~1;
        const R as = std::scalbn(a, -even), bs = std::scalbn(b, -even), cs = std::scalbn(c, -even);
        l22 = std::scalbn(std::sqrt(detail::discriminant(as, cs, bs) / as), even / 2);
    }
    R value = 0, derivative = 0;
    for (int i = 0; i < Degree; ++i) {
        const R wi = static_cast<R>(rule.weights[i]);
        const R zi = static_cast<R>(rule.nodes[i]);
        const R u = l11 * zi;
        R inner_value = 0, inner_derivative = 0;
        for (int j = 0; j < Degree; ++j) {
            const R v = l21 * zi + l22 * static_cast<R>(rule.nodes[j]);
            const R wj = static_cast<R>(rule.weights[j]);
            inner_value += wj * static_cast<R>(A::value(v));
            inner_derivative += wj * static_cast<R>(A::derivative(v));
        }
        value += wi * static_cast<R>(A::value(u)) * inner_value;
        derivative += wi * static_cast<R>(A::derivative(u)) * inner_derivative;
    }
    if (!std::isfinite(value) || !std::isfinite(derivative))
        fail<numerical_error>("act::dual_quadrature<", A::name, ", ", Degree, ">: phi overflowed at the quadrature nodes for (q11, q12, q22) = (",
                              q11, ", ", q12, ", ", q22, "); got T = ", value, ", Tdot = ", derivative);
    return {static_cast<T>(value), static_cast<T>(derivative)};
}

// T and Ṫ of A at one covariance: the closed form when A has one, else quadrature of default_quadrature_degree.
// Checks that the input is a covariance (widenn::error otherwise); a zero variance gives the defined limit.
template <class A, class T>
dual_value<T> dual(T q11, T q12, T q22) {
    static_assert(check_activation<A>());
    static_assert(std::floating_point<T>, "widenn: act::dual needs floating-point variances");
    if constexpr (has_closed_form_dual<A>) {
        static_assert(std::same_as<decltype(A::dual(q11, q12, q22)), dual_value<T>>,
                      "widenn: an activation's closed-form dual must be `template <class T> static dual_value<T> dual(T q11, T q12, T q22)`, "
                      "a template over the scalar type, so that float and double kernels both use it");
        detail::require_covariance(q11, q12, q22, "act::dual");
        return A::dual(q11, q12, q22);
    } else {
        return dual_quadrature<A, default_quadrature_degree>(q11, q12, q22);
    }
}

}  // namespace widenn::act
