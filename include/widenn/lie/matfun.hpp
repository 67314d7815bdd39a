#pragma once
// Matrix functions for the Lie group code (docs/theory/lie-groups.md §7): expm by scaling and squaring with Padé approximants
// (Higham, "The scaling and squaring method for the matrix exponential revisited", SIAM J. Matrix Anal. Appl. 2005),
// 2x2 closed forms, a cyclic Jacobi symmetric eigensolver, SPD exp/log/sqrt, the polar decomposition (2x2 closed form,
// scaled Newton iteration for n >= 3), Householder QR, the principal logarithm (2x2 closed form; inverse scaling and
// squaring with Denman-Beavers square roots and a Gauss-Legendre Padé form for n >= 3) and phi1(A) = Σ A^k/(k+1)!.
// Every function works for sizes fixed at compile time and for lie::dynamic.
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <numbers>
#include <utility>

#include "matrix.hpp"

namespace widenn::lie {

// Tolerance for "is this matrix in the set" checks (orthogonal, symmetric, det = 1), relative to the entries' scale.
// Like Sophus: 1e-10 in double, 1e-5 in float.
template <class T>
constexpr T membership_tolerance() {
    return sizeof(T) >= sizeof(double) ? T(1e-10) : T(1e-5);
}

namespace detail {
template <class T, std::size_t N>
void require_finite_matrix(const mat<T, N>& a, const char* where) {
    for (std::size_t i = 0; i < a.size(); ++i)
        for (std::size_t j = 0; j < a.size(); ++j)
            if (!std::isfinite(a(i, j))) fail(where, ": matrix has a non-finite entry (", a(i, j), ") at (", i, ", ", j, ")");
}
// A tangent vector (any fixed-size array of T) with non-finite coordinates is bad input (docs/lie.md, "Errors").
template <class Tangent>
void require_finite_tangent(const Tangent& v, const char* where) {
    for (std::size_t i = 0; i < v.size(); ++i)
        if (!std::isfinite(v[i])) fail(where, ": tangent coordinate ", i, " is not finite (", v[i], ")");
}
template <class T, std::size_t N>
void require_finite_result(const mat<T, N>& a, const char* where) {
    if (!all_finite(a)) fail<numerical_error>(where, ": result overflowed (non-finite entries); the argument is too large");
}
}  // namespace detail

// ---------------------------------------------------------------- exponential

// e^A for 2x2 A in closed form (§7): s = tr A/2, B = A - sI, q = -det B so that B² = qI,
// e^A = e^s (cosh√q I + sinh√q/√q B) (trigonometric for q < 0), with series near q = 0.
template <class T>
mat<T, 2> expm2(const mat<T, 2>& a) {
    const T s = (a(0, 0) + a(1, 1)) / 2;
    const T b00 = a(0, 0) - s;
    const T q = b00 * b00 + a(0, 1) * a(1, 0);
    T c, sh;  // cosh√q and sinh√q/√q (or their trigonometric forms)
    if (std::abs(q) < T(1e-3)) {
        c = 1 + q / 2 * (1 + q / 12 * (1 + q / 30));
        sh = 1 + q / 6 * (1 + q / 20 * (1 + q / 42));
    } else if (q > 0) {
        const T r = std::sqrt(q);
        c = std::cosh(r);
        sh = std::sinh(r) / r;
    } else {
        const T r = std::sqrt(-q);
        c = std::cos(r);
        sh = std::sin(r) / r;
    }
    const T e = std::exp(s);
    mat<T, 2> out{e * (c + sh * b00), e * sh * a(0, 1), e * sh * a(1, 0), e * (c - sh * b00)};
    detail::require_finite_result(out, "lie::expm2");
    return out;
}

// e^A by scaling and squaring with the [m/m] Padé approximants of Higham (2005), m in {3, 5, 7, 9, 13}, thresholds θ_m
// for double precision on ‖A‖₁ (conservative for float).
template <class T, std::size_t N>
mat<T, N> expm_pade(const mat<T, N>& a) {
    detail::require_finite_matrix(a, "lie::expm");
    static constexpr std::array<double, 4> theta{1.495585217958292e-2, 2.539398330063230e-1, 9.504178996162932e-1,
                                                 2.097847961257068e0};
    static constexpr double theta13 = 5.371920351148152e0;
    static constexpr double b3[] = {120., 60., 12., 1.};
    static constexpr double b5[] = {30240., 15120., 3360., 420., 30., 1.};
    static constexpr double b7[] = {17297280., 8648640., 1995840., 277200., 25200., 1512., 56., 1.};
    static constexpr double b9[] = {17643225600., 8821612800., 2075673600., 302702400., 30270240.,
                                    2162160.,     110880.,      3960.,        90.,         1.};
    static constexpr double b[] = {64764752532480000., 32382376266240000., 7771770303897600., 1187353796428800.,
                                   129060195264000.,   10559470521600.,    670442572800.,    33522128640.,
                                   1323241920.,        40840800.,          960960.,          16380.,
                                   182.,               1.};
    const std::size_t n = a.size();
    const auto I = mat<T, N>::identity(n);
    const double nrm = static_cast<double>(norm1(a));
    const double* coefficients[] = {b3, b5, b7, b9};
    for (int k = 0; k < 4; ++k) {
        if (nrm > theta[static_cast<std::size_t>(k)]) continue;
        const int m = 3 + 2 * k;
        const double* c = coefficients[k];
        const auto a2 = a * a;
        auto power = I;  // A^{2j}
        mat<T, N> u_even(n), v(n);
        for (int j = 0; j <= m / 2; ++j) {
            if (j > 0) power = power * a2;
            u_even += power * static_cast<T>(c[2 * j + 1]);
            v += power * static_cast<T>(c[2 * j]);
        }
        const auto u = a * u_even;
        return solve(v - u, v + u, "lie::expm");
    }
    const int s = std::max(0, static_cast<int>(std::ceil(std::log2(nrm / theta13))));
    const auto as = a * static_cast<T>(std::ldexp(1.0, -s));
    const auto a2 = as * as, a4 = a2 * a2, a6 = a4 * a2;
    auto B = [](int k) { return static_cast<T>(b[k]); };
    const auto u = as * (a6 * (a6 * B(13) + a4 * B(11) + a2 * B(9)) + a6 * B(7) + a4 * B(5) + a2 * B(3) + I * B(1));
    const auto v = a6 * (a6 * B(12) + a4 * B(10) + a2 * B(8)) + a6 * B(6) + a4 * B(4) + a2 * B(2) + I * B(0);
    auto x = solve(v - u, v + u, "lie::expm");
    for (int k = 0; k < s; ++k) x = x * x;
    detail::require_finite_result(x, "lie::expm");
    return x;
}

// e^A: the 2x2 closed form for N = 2, Padé 13 scaling and squaring otherwise.
template <class T, std::size_t N>
mat<T, N> expm(const mat<T, N>& a) {
    if constexpr (N == 2) {
        detail::require_finite_matrix(a, "lie::expm");
        return expm2(a);
    } else {
        return expm_pade(a);
    }
}

// phi1(A) = Σ_k A^k/(k+1)! = ∫₀¹ e^{tA} dt, read off the top-right block of exp([[A, I], [0, 0]]).
// It is the left Jacobian of the exponential in the form φ(ad) and the V matrix of affine groups.
template <class T, std::size_t N>
mat<T, N> phi1(const mat<T, N>& a) {
    const std::size_t n = a.size();
    constexpr std::size_t M = N == dynamic ? dynamic : 2 * N;
    mat<T, M> block(2 * n);
    for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t j = 0; j < n; ++j) block(i, j) = a(i, j);
        block(i, n + i) = T(1);
    }
    const auto e = expm_pade(block);
    mat<T, N> out(n);
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < n; ++j) out(i, j) = e(i, n + j);
    return out;
}

// ---------------------------------------------------------------- symmetric eigendecomposition

template <class T, std::size_t N>
struct eigen_decomposition {
    vec<T, N> values;   // ascending
    mat<T, N> vectors;  // column k is the eigenvector of values[k]
};

// Cyclic Jacobi (§7) on the symmetric part of s: rotations zero a_pq with t = sign(τ)/(|τ| + √(1+τ²)),
// τ = (a_qq - a_pp)/(2 a_pq), until off(A) <= eps ‖A‖_F. Quadratic convergence; small relative eigenvalue errors.
template <class T, std::size_t N>
eigen_decomposition<T, N> eigh(const mat<T, N>& s) {
    detail::require_finite_matrix(s, "lie::eigh");
    const std::size_t n = s.size();
    auto a = sym_part(s);
    auto v = mat<T, N>::identity(n);
    const T scale = frobenius(a);
    const T eps = std::numeric_limits<T>::epsilon();
    auto off = [&] {
        T o = 0;
        for (std::size_t p = 0; p < n; ++p)
            for (std::size_t q = p + 1; q < n; ++q) o += a(p, q) * a(p, q);
        return std::sqrt(2 * o);
    };
    int sweep = 0;
    for (; sweep < 60 && off() > eps * scale; ++sweep) {
        for (std::size_t p = 0; p + 1 < n; ++p)
            for (std::size_t q = p + 1; q < n; ++q) {
                const T apq = a(p, q);
                if (apq == T(0)) continue;
                const T tau = (a(q, q) - a(p, p)) / (2 * apq);
                const T t = tau == T(0) ? T(1) : std::copysign(T(1), tau) / (std::abs(tau) + std::hypot(T(1), tau));
                const T c = 1 / std::sqrt(1 + t * t), sn = t * c;
                a(p, p) -= t * apq;
                a(q, q) += t * apq;
                a(p, q) = a(q, p) = 0;
                for (std::size_t r = 0; r < n; ++r) {
                    if (r != p && r != q) {
                        const T arp = a(r, p), arq = a(r, q);
                        a(r, p) = a(p, r) = c * arp - sn * arq;
                        a(r, q) = a(q, r) = sn * arp + c * arq;
                    }
                    const T vrp = v(r, p), vrq = v(r, q);
                    v(r, p) = c * vrp - sn * vrq;
                    v(r, q) = sn * vrp + c * vrq;
                }
            }
    }
    if (off() > eps * scale * 16) fail<numerical_error>("lie::eigh: cyclic Jacobi did not converge in ", sweep, " sweeps");
    eigen_decomposition<T, N> out{{}, mat<T, N>(n)};
    if constexpr (N == dynamic) out.values.assign(n, T(0));
    vec<std::size_t, N> order{};
    if constexpr (N == dynamic) order.assign(n, 0);
    for (std::size_t i = 0; i < n; ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](std::size_t i, std::size_t j) { return a(i, i) < a(j, j); });
    for (std::size_t k = 0; k < n; ++k) {
        out.values[k] = a(order[k], order[k]);
        for (std::size_t r = 0; r < n; ++r) out.vectors(r, k) = v(r, order[k]);
    }
    return out;
}

// V f(Λ) Vᵀ for a symmetric matrix given by its eigendecomposition.
template <class T, std::size_t N, class F>
mat<T, N> spectral_apply(const eigen_decomposition<T, N>& e, F&& f) {
    const std::size_t n = e.vectors.size();
    mat<T, N> out(n);
    for (std::size_t k = 0; k < n; ++k) {
        const T fk = f(e.values[k]);
        for (std::size_t i = 0; i < n; ++i) {
            const T vik = e.vectors(i, k) * fk;
            for (std::size_t j = i; j < n; ++j) out(i, j) += vik * e.vectors(j, k);
        }
    }
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < i; ++j) out(i, j) = out(j, i);
    return out;
}

// ---------------------------------------------------------------- SPD functions

// Throws widenn::error naming `where` unless s is symmetric within membership_tolerance (relative).
template <class T, std::size_t N>
void require_symmetric(const mat<T, N>& s, const char* where) {
    detail::require_finite_matrix(s, where);
    const T asym = max_abs(s - transpose(s));
    const T tol = membership_tolerance<T>() * std::max(T(1), max_abs(s));
    if (asym > tol) fail(where, ": matrix is not symmetric (max |S - Sᵀ| = ", asym, ", tolerance ", tol, ")");
}

namespace detail {
template <class T, std::size_t N>
eigen_decomposition<T, N> spd_eigen(const mat<T, N>& p, const char* where) {
    require_symmetric(p, where);
    auto e = eigh(p);
    if (!(e.values[0] > T(0)))
        fail(where, ": matrix is not positive definite (smallest eigenvalue ", e.values[0], ", expected > 0)");
    return e;
}
}  // namespace detail

namespace detail {
// exp of a matrix known to be exactly symmetric (e.g. built by hat): no validation.
template <class T, std::size_t N>
mat<T, N> spd_exp_unchecked(const mat<T, N>& x) {
    if constexpr (N == 2) {
        auto out = expm2(x);
        out(0, 1) = out(1, 0) = (out(0, 1) + out(1, 0)) / 2;
        return out;
    } else {
        auto out = spectral_apply(eigh(x), [](T l) { return std::exp(l); });
        detail::require_finite_result(out, "lie::spd_exp");
        return out;
    }
}
}  // namespace detail

// exp of a symmetric matrix (the result is SPD).
template <class T, std::size_t N>
mat<T, N> spd_exp(const mat<T, N>& x) {
    require_symmetric(x, "lie::spd_exp");
    if constexpr (N == 2) return detail::spd_exp_unchecked(sym_part(x));  // symmetric to the last bit before expm2
    else return detail::spd_exp_unchecked(x);
}
// The symmetric logarithm of an SPD matrix; throws naming the violated property (symmetric, positive definite).
// 2x2: with s = tr P/2, B = P - sI, r = ‖B‖ the eigenvalues are λ± = s ± r (λ- = det P/λ+ without cancellation) and
// log P = (ln λ+ + ln λ-)/2 I + (ln λ+ - ln λ-)/(2r) B.
template <class T, std::size_t N>
mat<T, N> spd_log(const mat<T, N>& p) {
    if constexpr (N == 2) {
        require_symmetric(p, "lie::spd_log");
        const T s = (p(0, 0) + p(1, 1)) / 2, b00 = (p(0, 0) - p(1, 1)) / 2, b01 = (p(0, 1) + p(1, 0)) / 2;
        const T r = std::hypot(b00, b01);
        const T d = p(0, 0) * p(1, 1) - b01 * b01;
        if (!(d > 0 && s > 0))
            fail("lie::spd_log: matrix is not positive definite (det ", d, ", trace ", 2 * s, ", both must be > 0)");
        // ln λ± through log1p of λ± - 1 computed from P - I, so that near-identity P keep their relative precision.
        const T d0 = p(0, 0) - 1, d1 = p(1, 1) - 1;
        const T det_m1 = d0 * d1 + d0 + d1 - b01 * b01;  // det P - 1
        const T lp = s + r, lp_m1 = (d0 + d1) / 2 + r;
        const T lm = d / lp, lm_m1 = (det_m1 - lp_m1) / lp;  // λ- and λ- - 1
        const T log_lp = std::abs(lp_m1) < T(0.5) ? std::log1p(lp_m1) : std::log(lp);
        const T log_lm = std::abs(lm_m1) < T(0.5) ? std::log1p(lm_m1) : std::log(lm);
        const T y = (r / s) * (r / s);
        const T beta = y < T(1e-3) ? (1 + y * (T(1) / 3 + y * (T(1) / 5 + y * (T(1) / 7 + y * (T(1) / 9 + y / 11))))) / s
                                   : (log_lp - log_lm) / (2 * r);
        const T alpha = (log_lp + log_lm) / 2;
        return mat<T, 2>{alpha + beta * b00, beta * b01, beta * b01, alpha - beta * b00};
    } else {
        return spectral_apply(detail::spd_eigen(p, "lie::spd_log"), [](T l) { return std::log(l); });
    }
}
// P^{1/2}: (S + √det S I)/√(tr S + 2√det S) for 2x2 (§7), spectral otherwise.
template <class T, std::size_t N>
mat<T, N> spd_sqrt(const mat<T, N>& p) {
    if constexpr (N == 2) {
        require_symmetric(p, "lie::spd_sqrt");
        const T d = det(p), tr = trace(p);
        if (!(d > 0 && tr > 0))
            fail("lie::spd_sqrt: matrix is not positive definite (det ", d, ", trace ", tr, ", both must be > 0)");
        const T sd = std::sqrt(d), r = 1 / std::sqrt(tr + 2 * sd);
        auto out = sym_part(p);
        out(0, 0) += sd;
        out(1, 1) += sd;
        return out * r;
    } else {
        return spectral_apply(detail::spd_eigen(p, "lie::spd_sqrt"), [](T l) { return std::sqrt(l); });
    }
}
template <class T, std::size_t N>
mat<T, N> spd_inv_sqrt(const mat<T, N>& p) {
    return spectral_apply(detail::spd_eigen(p, "lie::spd_inv_sqrt"), [](T l) { return 1 / std::sqrt(l); });
}

// ---------------------------------------------------------------- polar decomposition

template <class T, std::size_t N>
struct polar_factors {
    mat<T, N> p;  // symmetric positive definite, (g gᵀ)^{1/2}
    mat<T, N> r;  // rotation, g = p r
};

// g = P R with P SPD and R in SO(n), for det g > 0. 2x2: R = [[a+d, b-c], [c-b, a+d]]/√((a+d)² + (c-b)²) (§7).
// n >= 3: Newton iteration X ← (ζX + ζ⁻¹X⁻ᵀ)/2 with Frobenius scaling ζ = (‖X⁻¹‖_F/‖X‖_F)^{1/2} (Higham 1986);
// this never forms g gᵀ, which would square the condition number.
template <class T, std::size_t N>
polar_factors<T, N> polar(const mat<T, N>& g) {
    detail::require_finite_matrix(g, "lie::polar");
    const std::size_t n = g.size();
    const T d = det(g);
    if (!(d > 0)) fail("lie::polar: det g = ", d, ", expected > 0 (g must be in GL+(", n, "))");
    mat<T, N> r(n);
    if constexpr (N == 2) {
        const T a = g(0, 0), b = g(0, 1), c = g(1, 0), dd = g(1, 1);
        const T h = std::hypot(a + dd, c - b);
        r = mat<T, 2>{(a + dd) / h, (b - c) / h, (c - b) / h, (a + dd) / h};
    } else {
        r = g;
        const T eps = std::numeric_limits<T>::epsilon();
        bool converged = false;
        for (int k = 0; k < 100 && !converged; ++k) {
            const auto inv = inverse(r, "lie::polar (Newton iteration)");
            const T zeta = std::sqrt(frobenius(inv) / frobenius(r));
            const auto next = (r * zeta + transpose(inv) * (1 / zeta)) * T(0.5);
            const T change = norm1(next - r);
            r = next;
            if (change <= std::sqrt(eps) * norm1(r)) {  // quadratic convergence: one more step reaches round-off
                const auto inv2 = inverse(r, "lie::polar (Newton iteration)");
                r = (r + transpose(inv2)) * T(0.5);
                converged = true;
            }
        }
        if (!converged) fail<numerical_error>("lie::polar: scaled Newton iteration did not converge in 100 steps");
    }
    return {sym_part(g * transpose(r)), r};
}

// ---------------------------------------------------------------- QR

template <class T, std::size_t N>
struct qr_factors {
    mat<T, N> q;  // orthogonal
    mat<T, N> r;  // upper triangular
};

// Householder QR of a square matrix: a = q r.
template <class T, std::size_t N>
qr_factors<T, N> qr(const mat<T, N>& a) {
    detail::require_finite_matrix(a, "lie::qr");
    const std::size_t n = a.size();
    auto r = a;
    auto q = mat<T, N>::identity(n);
    vec<T, N> v{};
    if constexpr (N == dynamic) v.assign(n, T(0));
    for (std::size_t k = 0; k + 1 < n; ++k) {
        T x2 = 0;
        for (std::size_t i = k; i < n; ++i) x2 += r(i, k) * r(i, k);
        const T xn = std::sqrt(x2);
        if (xn == T(0)) continue;
        const T alpha = r(k, k) > 0 ? -xn : xn;
        for (std::size_t i = 0; i < n; ++i) v[i] = i < k ? T(0) : r(i, k);
        v[k] -= alpha;
        T v2 = 0;
        for (std::size_t i = k; i < n; ++i) v2 += v[i] * v[i];
        if (v2 == T(0)) continue;
        // r ← (I - 2vvᵀ/vᵀv) r,  q ← q (I - 2vvᵀ/vᵀv)
        for (std::size_t j = 0; j < n; ++j) {
            T s = 0;
            for (std::size_t i = k; i < n; ++i) s += v[i] * r(i, j);
            s *= 2 / v2;
            for (std::size_t i = k; i < n; ++i) r(i, j) -= s * v[i];
        }
        for (std::size_t i = 0; i < n; ++i) {
            T s = 0;
            for (std::size_t j = k; j < n; ++j) s += q(i, j) * v[j];
            s *= 2 / v2;
            for (std::size_t j = k; j < n; ++j) q(i, j) -= s * v[j];
        }
        for (std::size_t i = k + 1; i < n; ++i) r(i, k) = 0;
    }
    return {q, r};
}

// ---------------------------------------------------------------- principal logarithm and square root

// The principal square root by the determinant-scaled Denman-Beavers iteration (Higham, Functions of Matrices, §6.3).
// Fails with numerical_error when it does not converge (an eigenvalue on the closed negative real axis).
template <class T, std::size_t N>
mat<T, N> sqrtm(const mat<T, N>& a, const char* where = "lie::sqrtm") {
    detail::require_finite_matrix(a, where);
    const std::size_t n = a.size();
    auto y = a;
    auto z = mat<T, N>::identity(n);
    const T eps = std::numeric_limits<T>::epsilon();
    bool scaling = true;  // determinant scaling speeds up the first steps; it is switched off near convergence
    for (int k = 0; k < 100; ++k) {
        const auto yi = inverse(y, where), zi = inverse(z, where);
        T mu = 1;
        if (scaling) {
            const T dd = std::abs(det(y) * det(z));
            if (dd > 0 && std::isfinite(dd)) mu = std::pow(dd, T(-1) / T(2 * n));
        }
        const auto ny = (y * mu + zi * (1 / mu)) * T(0.5);
        const auto nz = (z * mu + yi * (1 / mu)) * T(0.5);
        const T change = norm1(ny - y);
        y = ny;
        z = nz;
        if (change <= T(0.01) * norm1(y)) scaling = false;
        if (!scaling && change <= std::sqrt(eps) * norm1(y))  // quadratic convergence: one more step reaches round-off
            return (y + inverse(z, where)) * T(0.5);
    }
    fail<numerical_error>(where, ": no principal square root found (Denman-Beavers did not converge; the matrix has an "
                                 "eigenvalue on or near the closed negative real axis)");
}

namespace detail {
// log A for 2x2 A in closed form: with s = tr A/2, B = A - sI, q = -det B (B² = qI), the eigenvalues are s ± √q and
// log A = ½ ln(det A) I + β B with β = atanh(√q/s)/√q (q > 0), atan(√-q/s)/√-q (q < 0), 1/s (q = 0).
template <class T>
mat<T, 2> logm2(const mat<T, 2>& a, const char* where) {
    const T s = (a(0, 0) + a(1, 1)) / 2;
    const T b00 = a(0, 0) - s;
    const T q = b00 * b00 + a(0, 1) * a(1, 0);
    const T d = det(a);
    if (!(d > 0)) fail(where, ": det = ", d, ", expected > 0: no real logarithm");
    if (q >= 0 && !(s - std::sqrt(q) > 0))
        fail(where, ": the matrix has the real eigenvalue ", s - std::sqrt(q),
             " <= 0, so it has no principal logarithm (the exponential is not surjective here; use chart() instead)");
    T beta;
    if (s > 0) {
        const T y = q / (s * s);
        T f;
        if (std::abs(y) < T(1e-3))
            f = 1 + y * (T(1) / 3 + y * (T(1) / 5 + y * (T(1) / 7 + y * (T(1) / 9 + y / 11))));
        else if (y > 0)
            f = std::atanh(std::sqrt(y)) / std::sqrt(y);
        else
            f = std::atan(std::sqrt(-y)) / std::sqrt(-y);
        beta = f / s;
    } else {
        const T r = std::sqrt(-q);
        beta = std::atan2(r, s) / r;
    }
    const T d0 = a(0, 0) - 1, d1 = a(1, 1) - 1;
    const T det_m1 = d0 * d1 + d0 + d1 - a(0, 1) * a(1, 0);
    const T alpha = (std::abs(det_m1) < T(0.5) ? std::log1p(det_m1) : std::log(d)) / 2;  // ½ ln det A, precise near A = I
    return mat<T, 2>{alpha + beta * b00, beta * a(0, 1), beta * a(1, 0), alpha - beta * b00};
}
}  // namespace detail

// The principal logarithm (eigenvalues of the result have imaginary parts in (-π, π)). 2x2: closed form. n >= 3:
// inverse scaling and squaring: square roots until ‖A - I‖₁ <= 1/4, then log(I + X) = ∫₀¹ X (I + tX)⁻¹ dt by
// 8-point Gauss-Legendre (the [8/8] Padé approximant), times 2^k. Throws if no principal logarithm exists.
template <class T, std::size_t N>
mat<T, N> logm(const mat<T, N>& a, const char* where = "lie::logm") {
    detail::require_finite_matrix(a, where);
    if constexpr (N == 2) {
        return detail::logm2(a, where);
    } else {
        const std::size_t n = a.size();
        const auto I = mat<T, N>::identity(n);
        auto x = a;
        int k = 0;
        while (norm1(x - I) > T(0.25)) {
            if (++k > 60) fail<numerical_error>(where, ": no principal logarithm (60 square roots did not approach I)");
            x = sqrtm(x, where);
        }
        x -= I;
        static constexpr double nodes[] = {0.1834346424956498, 0.5255324099163290, 0.7966664774136267, 0.9602898564975363};
        static constexpr double weights[] = {0.3626837833783620, 0.3137066458778873, 0.2223810344533745, 0.1012285362903763};
        mat<T, N> l(n);
        for (int j = 0; j < 4; ++j)
            for (int sign : {-1, 1}) {
                const T t = static_cast<T>((1 + sign * nodes[j]) / 2), w = static_cast<T>(weights[j] / 2);
                l += solve(I + x * t, x, where) * w;
            }
        l *= static_cast<T>(std::ldexp(1.0, k));
        // A residual check guards against a square root that converged to a non-principal branch.
        const auto back = expm_pade(l);
        if (!(max_abs(back - a) <= std::sqrt(membership_tolerance<T>()) * std::max(T(1), max_abs(a))))
            fail<numerical_error>(where, ": no principal logarithm found (exp(log A) differs from A by ", max_abs(back - a), ")");
        return l;
    }
}

}  // namespace widenn::lie
