#pragma once
// Activations whose dual realises a chosen normalised dual ǒ(ξ) = E[φ(u)φ(v)] (u, v standard normal with
// correlation ξ), in particular the duals that Radhakrishnan, Belkin & Uhler ("Wide and deep neural networks achieve
// consistency for classification", arXiv 2204.14126) pair with a data dimension d: as depth → ∞ the NNGP of such a
// network becomes a singular kernel ‖x − x'‖^{−2α} with 2α = d − 1 on S^{d−1}, Devroye's Hilbert-kernel exponent.
//
//   opt_2d: ǒ = ξ⁷/2 + ξ/2          (α = 1/2)     opt_3d: ǒ = ξ³/2 + ξ/2                (α = 1)
//   opt_5d: ǒ = ξ³/4 + ξ²/2 + ξ/4   (α = 2)       opt_9d: ǒ = ξ³/16 + 7ξ²/8 + ξ/16      (α = 4)
//   sine<a>: ǒ = sinh(aξ)/sinh(a), realised by φ(x) = √(eᵃ/sinh a)·sin(√a x)  (a = 2.676, 6.13539, 13.8258 give α = 1, 2, 4)
//
// Realisation (Mehler's formula): ǒ(ξ) = Σ c_k ξ^k with c_k ≥ 0 is the dual of φ = Σ_k √c_k He_k/√(k!) (He_k the
// probabilists' Hermite polynomials), see docs/theory/kernel-limits.md §7. The policies are polynomials, so their dual is exact
// for every covariance (act::polynomial's Hermite-expansion dual), not only on the sphere.
#include <array>
#include <cmath>
#include <cstddef>
#include <string_view>
#include <utility>

#include "activations.hpp"

namespace widenn::act {

namespace detail {

// √x by Newton's method, usable in constant expressions (std::sqrt is not constexpr in C++20).
constexpr double constexpr_sqrt(double x) {
    if (!(x > 0)) return 0.0;
    double r = x < 1 ? 1.0 : x;
    for (int i = 0; i < 200; ++i) {
        const double next = 0.5 * (r + x / r);
        if (next == r) break;
        r = next;
    }
    return r;
}

// Monomial coefficients of Σ_k √c_k He_k/√(k!).
template <std::size_t D, std::size_t... K>
constexpr std::array<double, D> monomials_realising(const std::array<double, D>& c, std::index_sequence<K...>) {
    std::array<double, D> out{};
    (
        [&] {
            const auto he = hermite_coefficients<static_cast<int>(K)>();
            const double scale = constexpr_sqrt(c[K]) / constexpr_sqrt(factorial(static_cast<int>(K)));
            for (std::size_t j = 0; j <= K; ++j) out[j] += scale * he[j];
        }(),
        ...);
    return out;
}

// The monomial coefficients of φ with normalised dual Σ_k c_k ξ^k; the checks come first so a user reads the sentence.
template <double... DualCoefficients>
constexpr auto monomials_realising_dual() {
    constexpr std::size_t terms = sizeof...(DualCoefficients);
    static_assert(terms > 0 && terms <= 21, "widenn: act::dual_polynomial supports degree <= 20");
    static_assert(((DualCoefficients >= 0) && ...),
                  "widenn: a dual sum_k c_k xi^k is realised by an activation only if every c_k >= 0 (Schoenberg)");
    return monomials_realising(std::array<double, terms>{DualCoefficients...}, std::make_index_sequence<terms>{});
}

}  // namespace detail

// φ with normalised dual ǒ(ξ) = Σ_k DualCoefficients_k ξ^k at unit variance (coefficients ≥ 0; they sum to 1 for ǒ(1) = 1).
template <double... DualCoefficients>
struct dual_polynomial : detail::polynomial_from_coefficients<detail::monomials_realising_dual<DualCoefficients...>()> {
    static constexpr std::string_view name = "dual_polynomial";
    static constexpr std::array<double, sizeof...(DualCoefficients)> dual_coefficients{DualCoefficients...};
};

// ǒ(ξ) = ξ⁷/2 + ξ/2: singular exponent α = 1/2, Bayes-consistent on S¹ (d = 2).
struct opt_2d : dual_polynomial<0.0, 0.5, 0.0, 0.0, 0.0, 0.0, 0.0, 0.5> {
    static constexpr std::string_view name = "opt_2d";
};
// ǒ(ξ) = ξ³/2 + ξ/2, φ(x) = x/√2 + (x³ − 3x)/√12: α = 1 (d = 3).
struct opt_3d : dual_polynomial<0.0, 0.5, 0.0, 0.5> {
    static constexpr std::string_view name = "opt_3d";
};
// ǒ(ξ) = ξ³/4 + ξ²/2 + ξ/4: α = 2 (d = 5).
struct opt_5d : dual_polynomial<0.0, 0.25, 0.5, 0.25> {
    static constexpr std::string_view name = "opt_5d";
};
// ǒ(ξ) = ξ³/16 + 7ξ²/8 + ξ/16: α = 4 (d = 9).
struct opt_9d : dual_polynomial<0.0, 0.0625, 0.875, 0.0625> {
    static constexpr std::string_view name = "opt_9d";
};

namespace detail {
// √(eᵃ/sinh a) = √(2/(1 − e^{−2a})), by a series for e^{−2a} good to double precision for a ≥ 0.
constexpr double constexpr_exp(double x) {  // e^x for |x| moderate, by squaring a short Taylor series
    int halvings = 0;
    while (x > 0.5 || x < -0.5) {
        x /= 2;
        ++halvings;
    }
    double term = 1, sum = 1;
    for (int k = 1; k < 30; ++k) {
        term *= x / k;
        sum += term;
    }
    for (int i = 0; i < halvings; ++i) sum *= sum;
    return sum;
}
}  // namespace detail

// sine_a of Radhakrishnan et al.: φ(x) = √(eᵃ/sinh a)·sin(√a·x), whose normalised dual is sinh(aξ)/sinh(a)
// (E[sin(√a u) sin(√a v)] = e^{−a} sinh(aξ) at unit variance).
template <double Alpha>
struct sine : sin<detail::constexpr_sqrt(2.0 / (1.0 - detail::constexpr_exp(-2.0 * Alpha))), detail::constexpr_sqrt(Alpha), 0.0> {
    static_assert(Alpha > 0, "widenn: act::sine<a> needs a > 0");
    static constexpr std::string_view name = "sine";
    static constexpr double a = Alpha;
};

}  // namespace widenn::act
