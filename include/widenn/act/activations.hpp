#pragma once
// Activation policies: φ, φ' and, where one is known, the closed-form dual kernel.
//
// For (u, v) ~ N(0, [[q11, q12], [q12, q22]]) the dual of φ is the pair
//   T = E[φ(u) φ(v)]   and   Ṫ = E[φ'(u) φ'(v)] = ∂T/∂q12   (Price's theorem),
// which is what an infinite-width layer does to the NNGP and NTK (Neal 1996; Lee et al. 2018; Jacot et al. 2018).
// The closed forms follow neural-tangents' conventions (stax/elementwise.py at c17e770) as collected and
// derived in docs/theory/kernel-limits.md §2 (tests/act/duals.cpp checks each against quadrature or Monte Carlo):
//   - ReLU and ABReLU: the degree-1 arc-cosine kernel (Cho & Saul 2009, "Kernel methods for deep learning");
//   - erf: Williams 1997, "Computing with infinite networks";
//   - sin / cos / RBF / exp / Gaussian: Gaussian integrals of exponentials (neural-tangents Sin, Rbf, Exp, Gaussian);
//   - GELU: the exact xΦ(x) kernel as in neural-tangents' Gelu;
//   - polynomials (monomial, Hermite, polynomial): the Hermite/Mehler expansion of neural-tangents' Polynomial.
//
// A policy is a struct with `static constexpr std::string_view name`, `template <class T> static T value(T)`,
// `template <class T> static T derivative(T)` and optionally `template <class T> static dual_value<T> dual(T q11,
// T q12, T q22)`. act/dual.hpp supplies Gauss–Hermite quadrature for policies without `dual`.
//
// Preconditions of every `dual` here: q11 ≥ 0, q22 ≥ 0, q12² ≤ q11·q22 up to rounding (act::dual<A> checks them);
// a zero variance gives the defined limit (never NaN), with neural-tangents' convention atan2(0, 0) = π/2.
#include <algorithm>
#include <array>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <limits>
#include <numbers>
#include <string_view>
#include <type_traits>
#include <utility>

#include "../core/concepts.hpp"
#include "../core/errors.hpp"

namespace widenn::act {

// The dual kernel at one covariance: value = T = E[φ(u)φ(v)], derivative = Ṫ = E[φ'(u)φ'(v)].
template <class T>
struct dual_value {
    T value;
    T derivative;
};

namespace detail {

template <class T>
inline constexpr T pi = std::numbers::pi_v<T>;

// ---- the dual formulas shared by the scalar duals below and the vectorised kernel loop (limit/kernel.hpp) ----
// They are written once over V, a floating-point scalar or an xsimd batch: the math functions are found by
// argument-dependent lookup (xsimd::sqrt, xsimd::atan2, xsimd::fma, xsimd::select for batches), the std ones by the
// using-declarations, and `select` below is the scalar form of xsimd::select.

template <class V, class = void>
struct scalar_of {
    using type = V;
};
template <class V>
struct scalar_of<V, std::void_t<typename V::value_type>> {
    using type = typename V::value_type;
};
template <class V>
using scalar_of_t = typename scalar_of<V>::type;

template <class T>
    requires std::is_arithmetic_v<T>
inline T select(bool condition, T if_true, T if_false) {
    return condition ? if_true : if_false;
}

// The rounding error e of the product p = fl(x·y), so that x·y = p + e exactly (barring under- and overflow):
// by fma where the target has a fused multiply-add, else by Dekker's splitting (exact with plain products).
template <class V>
inline V product_error(V x, V y, V p) {
#if defined(__FMA__) || defined(__ARM_FEATURE_FMA)
    using std::fma;
    return fma(x, y, -p);
#else
    using T = scalar_of_t<V>;
    constexpr int half = (std::numeric_limits<T>::digits + 1) / 2;
    const V split(static_cast<T>((1ULL << half) + 1));  // 2^⌈digits/2⌉ + 1
    const V tx = split * x, ty = split * y;
    const V xh = tx - (tx - x), yh = ty - (ty - y);
    const V xl = x - xh, yl = y - yh;
    return ((xh * yh - p) + xh * yl + xl * yh) + xl * yl;
#endif
}

// a·b − c², rounded about once: both products' rounding errors are removed (Kahan's discriminant), so it stays
// accurate relative to a·b as |ρ| = |c|/√(ab) → 1, where the plain expression loses everything. Not clamped; the
// operands must be in a range where their products neither overflow nor underflow (the scalar callers scale by a
// power of two first, the vector loop checks the range).
template <class V>
inline V discriminant_unscaled(V a, V c, V b) {
#if defined(__FMA__) || defined(__ARM_FEATURE_FMA)
    using std::fma;
    const V cc = c * c;
    return fma(a, b, -cc) - fma(c, c, -cc);  // a·b − cc rounded once, minus the exact error of cc
#else
    const V ab = a * b, cc = c * c;
    return ((ab - cc) + product_error(a, b, ab)) - product_error(c, c, cc);
#endif
}

template <class V>
inline V clamp_nonnegative(V x) {
    return select(x > V(scalar_of_t<V>(0)), x, V(scalar_of_t<V>(0)));
}

// The angle between u and v, θ = atan2(Δ, q12) ∈ [0, π], and Δ = √max(q11 q22 − q12², 0). Rounding past |ρ| = 1
// clamps to θ = 0 or π, exactly 0 on the diagonal (q11 = q22 = q12); zero variance gives θ = π/2 (neural-tangents'
// atan2(0, 0) convention).
template <class T>
struct angle_t {
    T delta;
    T theta;
};

// The angle of an unscaled covariance (operands in the range of discriminant_unscaled).
template <class V>
inline angle_t<V> angle_unscaled(V q11, V q12, V q22) {
    using std::atan2;
    using std::sqrt;
    using T = scalar_of_t<V>;
    const V zero(T(0));
    const V d = sqrt(clamp_nonnegative(discriminant_unscaled(q11, q12, q22)));
    const V theta = select((d == zero) & (q12 == zero), V(std::numbers::pi_v<T> / 2), atan2(d, q12));
    return {d, theta};
}

// The same for any covariance: computed on the covariance scaled by a power of two near max(q11, q22) (exact, unlike
// a division by the largest, whose rounding would undo the care above), so tiny variances neither underflow nor lose ρ.
template <class T>
inline angle_t<T> angle(T q11, T q12, T q22) {
    const T largest = std::max(q11, q22);
    if (!(largest > T(0))) return {T(0), pi<T> / 2};
    const int exponent = std::ilogb(largest);
    const auto [d, theta] = angle_unscaled(std::scalbn(q11, -exponent), std::scalbn(q12, -exponent), std::scalbn(q22, -exponent));
    return {std::scalbn(d, exponent), theta};
}

// q11 q22 − q12², clamped at 0 (the clamp only removes rounding past |ρ| = 1), for any covariance.
template <class T>
inline T discriminant(T q11, T q12, T q22) {
    const T largest = std::max({std::abs(q11), std::abs(q22), std::abs(q12)});
    if (!(largest > T(0)) || !std::isfinite(largest)) return clamp_nonnegative(q11 * q22 - q12 * q12);
    const int exponent = std::ilogb(largest);
    const T d = discriminant_unscaled(std::scalbn(q11, -exponent), std::scalbn(q12, -exponent), std::scalbn(q22, -exponent));
    return std::scalbn(clamp_nonnegative(d), 2 * exponent);
}

// The ABReLU dual (φ(x) = A·min(x, 0) + B·max(x, 0)) from the angle: T = kink·Δ + slope·q12, Ṫ = slope with
// kink = (A−B)²/2π and slope = (A²+B²)/2 − kink·θ.
template <double A, double B, class V>
inline dual_value<V> abrelu_dual(V q12, const angle_t<V>& angle) {
    using T = scalar_of_t<V>;
    constexpr double kink = (A - B) * (A - B) / (2 * std::numbers::pi);
    constexpr double mean_square = (A * A + B * B) / 2;
    const V slope = V(static_cast<T>(mean_square)) - V(static_cast<T>(kink)) * angle.theta;
    return {V(static_cast<T>(kink)) * angle.delta + slope * q12, slope};
}

// The dual of φ(x) = A·erf(B x) + C (Williams 1997) from the clamped discriminant q11 q22 − q12²:
//   T = (2A²/π) atan2(2B²q12, √(1 + 2B²(q11+q22) + 4B⁴ disc)) + C²,  Ṫ = 4A²B²/(π √(...)).
template <double A, double B, double C, class V>
inline dual_value<V> erf_dual(V q11, V q12, V q22, V disc) {
    using std::atan2;
    using std::sqrt;
    using T = scalar_of_t<V>;
    const V b2(static_cast<T>(2 * B * B));  // 2B²
    const V root = sqrt(V(T(1)) + b2 * (q11 + q22) + b2 * b2 * disc);
    const T a2 = static_cast<T>(A * A);
    return {V(2 * a2 / std::numbers::pi_v<T>) * atan2(b2 * q12, root) + V(static_cast<T>(C * C)),
            V(2 * a2) * b2 / (V(std::numbers::pi_v<T>) * root)};
}

constexpr double factorial(int n) {
    double f = 1.0;
    for (int k = 2; k <= n; ++k) f *= k;
    return f;
}

// Dual of a polynomial φ(x) = Σ_k c_k x^k through its Hermite expansion (neural-tangents' Polynomial; Mehler's
// formula): with s_l(q) = Σ_i c_{2i+l} (2i+l)!/(2^i i!) q^i,
//   T = Σ_l s_l(q11) s_l(q22) q12^l / l!,   Ṫ = Σ_{l≥1} s_l(q11) s_l(q22) q12^{l−1} / (l−1)!.
// This is Mehler's expansion in ρ = q12/√(q11 q22) with the powers of √q multiplied out: a polynomial in
// (q11, q12, q22), exact for every covariance including zero variances.
template <std::size_t D>
struct polynomial_dual {
    std::array<std::array<double, D>, D> s{};  // s[l][i]
    std::array<double, D> inverse_factorial{};

    constexpr explicit polynomial_dual(const std::array<double, D>& c) {
        for (std::size_t l = 0; l < D; ++l) {
            inverse_factorial[l] = 1.0 / factorial(static_cast<int>(l));
            for (std::size_t i = 0; 2 * i + l < D; ++i)
                s[l][i] = c[2 * i + l] * factorial(static_cast<int>(2 * i + l)) /
                          (factorial(static_cast<int>(i)) * static_cast<double>(1ULL << i));
        }
    }

    template <class T>
    dual_value<T> operator()(T q11, T q12, T q22) const {
        T value = 0, derivative = 0, q12_power = 1;  // q12^l
        T previous_power = 0;                         // q12^{l−1}
        for (std::size_t l = 0; l < D; ++l) {
            T s11 = 0, s22 = 0;
            for (std::size_t i = (D - 1 - l) / 2 + 1; i-- > 0;) {  // Horner over i
                s11 = s11 * q11 + static_cast<T>(s[l][i]);
                s22 = s22 * q22 + static_cast<T>(s[l][i]);
            }
            const T product = s11 * s22;
            value += product * q12_power * static_cast<T>(inverse_factorial[l]);
            if (l > 0) derivative += product * previous_power * static_cast<T>(inverse_factorial[l - 1]);
            previous_power = q12_power;
            q12_power *= q12;
        }
        return {value, derivative};
    }
};

// Coefficients of the probabilists' Hermite polynomial He_n (He_{k+1} = x He_k − k He_{k−1}).
template <int N>
constexpr std::array<double, N + 1> hermite_coefficients() {
    std::array<double, N + 1> previous{}, current{};
    current[0] = 1.0;  // He_0
    for (int k = 0; k < N; ++k) {
        std::array<double, N + 1> next{};
        for (int j = 0; j < N; ++j) next[j + 1] += current[j];
        for (int j = 0; j <= N; ++j) next[j] -= k * previous[j];
        previous = current;
        current = next;
    }
    return current;
}

template <class T, std::size_t D>
inline T horner(const std::array<double, D>& c, T x) {
    T y = 0;
    for (std::size_t k = D; k-- > 0;) y = y * x + static_cast<T>(c[k]);
    return y;
}

}  // namespace detail

// ---------------------------------------------------------------------------------------------------------------
// Piecewise linear: identity and the ABReLU family (arc-cosine kernel of degree 1, Cho & Saul 2009).

struct identity {
    static constexpr std::string_view name = "identity";
    template <class T>
    static T value(T x) { return x; }
    template <class T>
    static T derivative(T) { return T(1); }
    template <class T>
    static dual_value<T> dual(T, T q12, T) { return {q12, T(1)}; }
};

// φ(x) = A·min(x, 0) + B·max(x, 0). φ'(0) is taken as A (the left derivative).
// T = ((A−B)²/2π)Δ + ((A²+B²)/2 − (A−B)²θ/2π) q12,  Ṫ = (A²+B²)/2 − (A−B)²θ/2π  (neural-tangents ABRelu).
template <double A, double B>
struct abrelu {
    static constexpr std::string_view name = "abrelu";
    template <class T>
    static T value(T x) { return x > T(0) ? static_cast<T>(B) * x : static_cast<T>(A) * x; }
    template <class T>
    static T derivative(T x) { return x > T(0) ? static_cast<T>(B) : static_cast<T>(A); }
    template <class T>
    static dual_value<T> dual(T q11, T q12, T q22) {
        return detail::abrelu_dual<A, B>(q12, detail::angle(q11, q12, q22));
    }
};

// φ(x) = max(x, 0), φ'(0) = 0. T = (Δ + (π − θ) q12)/2π, Ṫ = (π − θ)/2π (Cho & Saul 2009, n = 1).
struct relu {
    static constexpr std::string_view name = "relu";
    template <class T>
    static T value(T x) { return x > T(0) ? x : T(0); }
    template <class T>
    static T derivative(T x) { return x > T(0) ? T(1) : T(0); }
    template <class T>
    static dual_value<T> dual(T q11, T q12, T q22) {
        return detail::abrelu_dual<0.0, 1.0>(q12, detail::angle(q11, q12, q22));
    }
};

// φ(x) = Alpha·x for x < 0, x otherwise: abrelu<Alpha, 1>.
template <double Alpha>
struct leaky_relu : abrelu<Alpha, 1.0> {
    static constexpr std::string_view name = "leaky_relu";
};

// φ(x) = |x| = abrelu<−1, 1>, with φ'(0) = 0. T = (2/π)Δ + (1 − 2θ/π) q12, Ṫ = 1 − 2θ/π.
struct abs {
    static constexpr std::string_view name = "abs";
    template <class T>
    static T value(T x) { return std::abs(x); }
    template <class T>
    static T derivative(T x) { return T((x > T(0)) - (x < T(0))); }
    template <class T>
    static dual_value<T> dual(T q11, T q12, T q22) {
        return detail::abrelu_dual<-1.0, 1.0>(q12, detail::angle(q11, q12, q22));
    }
};

// φ(x) = sign(x) (0 at 0). T = 1 − 2θ/π = (2/π) arcsin ρ, and 0 when a variance is 0. The true E[φ'φ'] is a delta
// function; Ṫ = 0 follows neural-tangents (its NTK contribution is dropped), and derivative() is 0 accordingly.
struct sign {
    static constexpr std::string_view name = "sign";
    template <class T>
    static T value(T x) { return T((x > T(0)) - (x < T(0))); }
    template <class T>
    static T derivative(T) { return T(0); }
    template <class T>
    static dual_value<T> dual(T q11, T q12, T q22) {
        const T theta = detail::angle(q11, q12, q22).theta;
        return {T(1) - 2 * theta / detail::pi<T>, T(0)};
    }
};

// ---------------------------------------------------------------------------------------------------------------
// Sigmoidal: erf (closed form, Williams 1997), and tanh, sigmoid, softplus (quadrature).

// φ(x) = A·erf(B x) + C. With P = (1 + 2B²q11)(1 + 2B²q22):
//   T = (2A²/π) arcsin(2B²q12/√P) + C²,  Ṫ = 4A²B²/(π √(P − 4B⁴q12²))   (Williams 1997).
// The arcsin is evaluated as atan2(2B²q12, √(P − 4B⁴q12²)) with P − 4B⁴q12² = 1 + 2B²(q11+q22) + 4B⁴(q11q22 − q12²),
// a sum of non-negative terms, so neither |ρ| → 1 nor rounding past it can produce a NaN.
template <double A = 1.0, double B = 1.0, double C = 0.0>
struct erf {
    static constexpr std::string_view name = "erf";
    template <class T>
    static T value(T x) { return static_cast<T>(A) * std::erf(static_cast<T>(B) * x) + static_cast<T>(C); }
    template <class T>
    static T derivative(T x) {
        const T bx = static_cast<T>(B) * x;
        return static_cast<T>(2 * A * B * std::numbers::inv_sqrtpi) * std::exp(-bx * bx);
    }
    template <class T>
    static dual_value<T> dual(T q11, T q12, T q22) {
        return detail::erf_dual<A, B, C>(q11, q12, q22, detail::discriminant(q11, q12, q22));
    }
};

// neural-tangents' sigmoid_like: erf<1/2, 1/2.4020563531719796, 1/2>, the least-squares fit of an erf to the
// logistic function on [−5, 5]; a sigmoid with a closed-form dual.
struct sigmoid_like : erf<0.5, 1.0 / 2.4020563531719796, 0.5> {
    static constexpr std::string_view name = "sigmoid_like";
};

struct tanh {
    static constexpr std::string_view name = "tanh";
    template <class T>
    static T value(T x) { return std::tanh(x); }
    template <class T>
    static T derivative(T x) {
        const T t = std::tanh(x);
        return T(1) - t * t;
    }
};

// The logistic function 1/(1 + e^{−x}), evaluated without overflow for either sign of x.
struct sigmoid {
    static constexpr std::string_view name = "sigmoid";
    template <class T>
    static T value(T x) {
        if (x >= T(0)) return T(1) / (T(1) + std::exp(-x));
        const T e = std::exp(x);
        return e / (T(1) + e);
    }
    template <class T>
    static T derivative(T x) {
        const T s = value(x);
        return s * (T(1) - s);
    }
};

// log(1 + e^x), evaluated without overflow; φ' is the logistic function.
struct softplus {
    static constexpr std::string_view name = "softplus";
    template <class T>
    static T value(T x) { return x > T(0) ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); }
    template <class T>
    static T derivative(T x) { return sigmoid::value(x); }
};

// φ(x) = x Φ(x) (exact GELU, not the tanh approximation). With D² = (1+q11)(1+q22) − q12², ψ = atan2(q12, D):
//   T = q12/4 + [(q12² + q11q22 D²)/((1+q11)(1+q22)D) + q12 ψ]/2π,
//   Ṫ = 1/4 + ψ/2π + (q12/2πD)[1/D² + (1 − q11q22)/((1+q11)(1+q22)) + 1]      (neural-tangents Gelu).
struct gelu {
    static constexpr std::string_view name = "gelu";
    template <class T>
    static T value(T x) { return x * T(0.5) * std::erfc(-x / std::numbers::sqrt2_v<T>); }
    template <class T>
    static T derivative(T x) {
        const T cdf = T(0.5) * std::erfc(-x / std::numbers::sqrt2_v<T>);
        const T pdf = std::exp(-x * x / 2) / std::sqrt(2 * detail::pi<T>);
        return cdf + x * pdf;
    }
    template <class T>
    static dual_value<T> dual(T q11, T q12, T q22) {
        const T one_plus = (T(1) + q11) * (T(1) + q22);
        const T d2 = T(1) + q11 + q22 + detail::discriminant(q11, q12, q22);  // (1+q11)(1+q22) − q12² ≥ 1
        const T d = std::sqrt(d2);
        const T psi = std::atan2(q12, d);
        const T p = q11 * q22;
        const T two_pi = 2 * detail::pi<T>;
        return {q12 / 4 + ((q12 * q12 + p * d2) / (one_plus * d) + q12 * psi) / two_pi,
                T(0.25) + psi / two_pi + q12 / (two_pi * d) * (T(1) / d2 + (T(1) - p) / one_plus + T(1))};
    }
};

// ---------------------------------------------------------------------------------------------------------------
// Trigonometric and exponential (Gaussian integrals of exponentials; neural-tangents Sin, Cos, Rbf, Exp, Gaussian).

// φ(x) = A·sin(B x + C). With s = q11 + q22:
//   T = (A²/2)[e^{B²(q12 − s/2)} − cos 2C · e^{−B²(q12 + s/2)}],  Ṫ = (A²B²/2)[e^{B²(q12 − s/2)} + cos 2C · e^{−B²(q12 + s/2)}].
// Evaluated as T = A² e^{−B²s/2}[sinh(B²q12) + sin²C · e^{−B²q12}], Ṫ = A²B² e^{−B²s/2}[sinh(B²q12) + cos²C · e^{−B²q12}]
// (the same by cos 2C = 1 − 2 sin²C = 2 cos²C − 1), which keeps full relative accuracy at tiny variances, where the
// difference of two exponentials near 1 would not.
template <double A = 1.0, double B = 1.0, double C = 0.0>
struct sin {
    static constexpr std::string_view name = "sin";
    template <class T>
    static T value(T x) { return static_cast<T>(A) * std::sin(static_cast<T>(B) * x + static_cast<T>(C)); }
    template <class T>
    static T derivative(T x) { return static_cast<T>(A * B) * std::cos(static_cast<T>(B) * x + static_cast<T>(C)); }
    template <class T>
    static dual_value<T> dual(T q11, T q12, T q22) {
        const T b2 = static_cast<T>(B * B);
        const T half_s = (q11 + q22) / 2;
        const T damping = std::exp(-b2 * half_s);
        const T odd = damping * std::sinh(b2 * q12);
        const T even = std::exp(-b2 * (half_s + q12));
        const T sin_c = static_cast<T>(std::sin(C)), cos_c = static_cast<T>(std::cos(C));
        const T a2 = static_cast<T>(A * A);
        return {a2 * (odd + sin_c * sin_c * even), a2 * b2 * (odd + cos_c * cos_c * even)};
    }
};

// φ(x) = cos x = sin<1, 1, π/2>: T = e^{−s/2} cosh q12, Ṫ = e^{−s/2} sinh q12. For A·cos(Bx + C) use
// sin<A, B, C + π/2>.
struct cos {
    static constexpr std::string_view name = "cos";
    template <class T>
    static T value(T x) { return std::cos(x); }
    template <class T>
    static T derivative(T x) { return -std::sin(x); }
    template <class T>
    static dual_value<T> dual(T q11, T q12, T q22) {
        const T damping = std::exp(-(q11 + q22) / 2);
        return {damping * std::cosh(q12), damping * std::sinh(q12)};
    }
};

// φ(x) = √2 sin(√(2γ) x + π/4), the random-Fourier-feature activation whose dual is the RBF kernel:
// T = exp(−γ(q11 + q22 − 2q12)), Ṫ = 2γT (neural-tangents Rbf; Rahimi & Recht 2007).
template <double Gamma = 1.0>
struct rbf {
    static_assert(Gamma > 0, "widenn: act::rbf<Gamma> needs Gamma > 0");
    static constexpr std::string_view name = "rbf";
    template <class T>
    static T value(T x) {
        return std::numbers::sqrt2_v<T> * std::sin(std::sqrt(static_cast<T>(2 * Gamma)) * x + detail::pi<T> / 4);
    }
    template <class T>
    static T derivative(T x) {
        const T frequency = std::sqrt(static_cast<T>(2 * Gamma));
        return std::numbers::sqrt2_v<T> * frequency * std::cos(frequency * x + detail::pi<T> / 4);
    }
    template <class T>
    static dual_value<T> dual(T q11, T q12, T q22) {
        const T gamma = static_cast<T>(Gamma);
        const T t = std::exp(-gamma * ((q11 - q12) + (q22 - q12)));
        return {t, 2 * gamma * t};
    }
};

// φ(x) = A·e^{Bx}: T = A² exp(B²((q11+q22)/2 + q12)), Ṫ = B²T.
template <double A = 1.0, double B = 1.0>
struct scaled_exp {
    static constexpr std::string_view name = "scaled_exp";
    template <class T>
    static T value(T x) { return static_cast<T>(A) * std::exp(static_cast<T>(B) * x); }
    template <class T>
    static T derivative(T x) { return static_cast<T>(A * B) * std::exp(static_cast<T>(B) * x); }
    template <class T>
    static dual_value<T> dual(T q11, T q12, T q22) {
        const T t = static_cast<T>(A * A) * std::exp(static_cast<T>(B * B) * ((q11 + q22) / 2 + q12));
        return {t, static_cast<T>(B * B) * t};
    }
};

// φ(x) = e^x.
struct exp : scaled_exp<1.0, 1.0> {
    static constexpr std::string_view name = "exp";
};

// φ(x) = A·e^{Bx²}. With G = (1 − 2Bq11)(1 − 2Bq22) − 4B²q12²: T = A²/√G, Ṫ = 4A²B²q12/G^{3/2}.
// For B ≤ 0, G = 1 − 2B(q11+q22) + 4B²(q11q22 − q12²) ≥ 1. For B > 0 the expectation is finite only while G > 0;
// otherwise dual throws widenn::error (a divergent integral, not a rounding issue).
template <double A = 1.0, double B = -1.0>
struct scaled_gaussian {
    static constexpr std::string_view name = "scaled_gaussian";
    template <class T>
    static T value(T x) { return static_cast<T>(A) * std::exp(static_cast<T>(B) * x * x); }
    template <class T>
    static T derivative(T x) { return static_cast<T>(2 * A * B) * x * std::exp(static_cast<T>(B) * x * x); }
    template <class T>
    static dual_value<T> dual(T q11, T q12, T q22) {
        const T b = static_cast<T>(B);
        const T g = T(1) - 2 * b * (q11 + q22) + 4 * b * b * detail::discriminant(q11, q12, q22);
        if constexpr (B > 0) {
            if (!(g > T(0)) || !(2 * b * std::max(q11, q22) < T(1)))
                fail("act::gaussian::dual: E[phi(u)phi(v)] for phi(x) = a*exp(b x^2) with b = ", B,
                     " diverges unless 2*b*q < 1 and G > 0; got q11 = ", q11, ", q22 = ", q22, ", G = ", g);
        }
        const T root = std::sqrt(g);
        const T t = static_cast<T>(A * A) / root;
        return {t, 4 * b * b * q12 * t / g};
    }
};

// φ(x) = e^{−x²} (neural-tangents' Gaussian with a = 1, b = −1).
struct gaussian : scaled_gaussian<1.0, -1.0> {
    static constexpr std::string_view name = "gaussian";
};

// ---------------------------------------------------------------------------------------------------------------
// Polynomials, with exact duals for every covariance (Hermite expansion, see detail::polynomial_dual).

namespace detail {
// φ(x) = Σ_k c_k x^k for a coefficient array c known at compile time: value and derivative by Horner, the exact dual.
// act::polynomial and act::dual_polynomial differ only in where c comes from.
template <auto Coefficients>
struct polynomial_from_coefficients {
    static constexpr std::size_t terms = Coefficients.size();
    static_assert(terms > 0 && terms <= 21, "widenn: act::polynomial supports 1 to 21 coefficients, degree <= 20 (factorials in the dual overflow beyond)");
    static constexpr std::array<double, terms> coefficients = Coefficients;
    static constexpr std::array<double, terms> derivative_coefficients = [] {
        std::array<double, terms> d{};
        for (std::size_t k = 1; k < terms; ++k) d[k - 1] = static_cast<double>(k) * coefficients[k];
        return d;
    }();
    static constexpr polynomial_dual<terms> table{coefficients};

    template <class T>
    static T value(T x) { return horner(coefficients, x); }
    template <class T>
    static T derivative(T x) { return horner(derivative_coefficients, x); }
    template <class T>
    static dual_value<T> dual(T q11, T q12, T q22) { return table(q11, q12, q22); }
};
}  // namespace detail

// φ(x) = Σ_k C_k x^k.
template <double... C>
struct polynomial : detail::polynomial_from_coefficients<std::array<double, sizeof...(C)>{C...}> {
    static constexpr std::string_view name = "polynomial";
};

// φ(x) = x^N: T(q, q, q) = (2N−1)!! q^N, Ṫ = N² T_{N−1}.
template <int N>
struct monomial {
    static_assert(N >= 0 && N <= 20, "widenn: act::monomial<N> needs 0 <= N <= 20");
    static constexpr std::string_view name = "monomial";
    static constexpr detail::polynomial_dual<N + 1> table{[] {
        std::array<double, N + 1> c{};
        c[N] = 1.0;
        return c;
    }()};
    template <class T>
    static T value(T x) {
        T y = 1;
        for (int k = 0; k < N; ++k) y *= x;
        return y;
    }
    template <class T>
    static T derivative(T x) {
        if constexpr (N == 0) {
            (void)x;
            return T(0);
        } else {
            return static_cast<T>(N) * monomial<N - 1>::value(x);
        }
    }
    template <class T>
    static dual_value<T> dual(T q11, T q12, T q22) { return table(q11, q12, q22); }
};

// φ(x) = He_N(x)/√(N!), the orthonormal probabilists' Hermite polynomial. At unit variances T = q12^N,
// Ṫ = N q12^{N−1} (Mehler); for other variances the exact polynomial dual applies.
template <int N>
struct hermite {
    static_assert(N >= 0 && N <= 20, "widenn: act::hermite<N> needs 0 <= N <= 20");
    static constexpr std::string_view name = "hermite";
    static constexpr std::array<double, N + 1> coefficients = detail::hermite_coefficients<N>();  // of He_N
    static constexpr detail::polynomial_dual<N + 1> table{coefficients};

    template <class T>
    static T norm() { return T(1) / std::sqrt(static_cast<T>(detail::factorial(N))); }
    // He_N by its three-term recurrence (stabler than the monomial expansion).
    template <class T>
    static T unnormalized(int n, T x) {
        T previous = 0, current = 1;
        for (int k = 0; k < n; ++k) {
            const T next = x * current - static_cast<T>(k) * previous;
            previous = current;
            current = next;
        }
        return current;
    }
    template <class T>
    static T value(T x) { return unnormalized(N, x) * norm<T>(); }
    template <class T>
    static T derivative(T x) {  // He_N' = N He_{N−1}
        if constexpr (N == 0) {
            (void)x;
            return T(0);
        } else {
            return static_cast<T>(N) * unnormalized(N - 1, x) * norm<T>();
        }
    }
    template <class T>
    static dual_value<T> dual(T q11, T q12, T q22) {
        const auto d = table(q11, q12, q22);
        const T inverse = static_cast<T>(1.0 / detail::factorial(N));
        return {d.value * inverse, d.derivative * inverse};
    }
};

}  // namespace widenn::act
