#pragma once
// SPD(n) and SSPD(n) (det 1): the symmetric positive definite factor of the polar decomposition (docs/theory/lie-groups.md §1-2).
// exp: Sym(n) -> SPD(n) is a diffeomorphism, so SPD(n) is a Lie group under the log-Euclidean product
// P ⊙ Q = exp(log P + log Q) (Arsigny et al. 2007), isomorphic to (Sym(n), +): abelian, Ad = I, J_l = I, and its Haar
// measure is Lebesgue measure in the log coordinates. This is the structure widenn gives spd<N>; note that
// P ⊙ Q ≠ PQ unless P and Q commute, and that act(x) = P x is the linear map P, which is an action of the matrix
// product, not of ⊙. The GL+-invariant measure of the polar factor is polar_log_density (used by gl_plus and sl).
#include <cmath>
#include <numbers>

#include "group.hpp"

namespace widenn::lie {

namespace detail {

template <std::size_t N, class T, bool Special>
class spd_group : public group_base<spd_group<N, T, Special>> {
    static_assert(N >= 1 && (!Special || N >= 2), "widenn::lie::sspd<N>: needs N >= 2");
    static_assert(std::is_floating_point_v<T>, "widenn::lie::spd<N, T>: T must be float or double");

public:
    using scalar = T;
    static constexpr std::size_t n = N;
    static constexpr std::size_t dof = N * (N + 1) / 2 - (Special ? 1 : 0);
    static constexpr std::size_t dim = N;
    static constexpr bool is_matrix_group = false;  // the product is log-Euclidean, not the matrix product
    using tangent = vec<T, dof>;
    using point = vec<T, N>;
    using algebra = mat<T, N>;
    using adjoint_matrix = mat<T, dof>;

    spd_group() : p_(mat<T, N>::identity()) {}
    static spd_group identity() { return spd_group(); }

    static algebra hat(const tangent& v) {
        if constexpr (Special)
            return basis::hat_sym0<T, N>(v);
        else
            return basis::hat_sym<T, N>(v);
    }
    static tangent vee(const algebra& a) {
        tangent v{};
        if constexpr (Special)
            basis::vee_sym0<T, N>(a, v);
        else
            basis::vee_sym<T, N>(a, v);
        return v;
    }
    static spd_group exp(const tangent& v) {
        detail::require_finite_tangent(v, "lie::spd::exp");
        return spd_group(spd_exp_unchecked(hat(v)), trusted{});
    }
    tangent log() const { return vee(spd_log(p_)); }

    friend spd_group operator*(const spd_group& a, const spd_group& b) {
        return spd_group(spd_exp(spd_log(a.p_) + spd_log(b.p_)), trusted{});
    }
    spd_group inverse() const { return spd_group(sym_part(lie::inverse(p_, "lie::spd::inverse")), trusted{}); }
    point act(const point& x) const { return p_ * x; }
    adjoint_matrix adjoint() const { return adjoint_matrix::identity(); }
    static adjoint_matrix left_jacobian(const tangent&) { return adjoint_matrix::identity(); }
    static adjoint_matrix ad(const tangent&) { return adjoint_matrix::zeros(); }  // abelian

    tangent chart() const { return log(); }
    static spd_group from_chart(const tangent& z) { return exp(z); }
    static bool in_chart_domain(const tangent&) { return true; }
    const mat<T, N>& matrix() const { return p_; }
    // Validates: finite, symmetric, positive definite, and det 1 for sspd (each within membership_tolerance).
    static spd_group from_matrix(const mat<T, N>& m) {
        const char* where = Special ? "lie::sspd::from_matrix" : "lie::spd::from_matrix";
        (void)detail::spd_eigen(m, where);
        if constexpr (Special) {
            const T d = det(m);
            if (!(std::abs(d - 1) <= membership_tolerance<T>()))
                fail(where, ": det P = ", d, ", expected 1 within ", membership_tolerance<T>());
        }
        return spd_group(sym_part(m), trusted{});
    }

    // Haar measure of the log-Euclidean group: Lebesgue in the log coordinates.
    static T haar_log_density(const tangent&) { return T(0); }
    // log of ∏_{i<j} sinh(λ_i - λ_j)/(λ_i - λ_j), λ = eigenvalues of X = hat(z) (§3): the density of the polar factor
    // exp(X) under the Haar measure of GL+(n) (SL(n) for sspd), relative to dX.
    static T polar_log_density(const tangent& z) {
        if constexpr (N == 2) {
            const auto x = hat(z);
            const T d = x(0, 0) - x(1, 1);
            return log_sinhc(2 * std::hypot(d / 2, x(0, 1)));
        } else {
            const auto e = eigh(hat(z));
            T s = 0;
            for (std::size_t i = 0; i < N; ++i)
                for (std::size_t j = i + 1; j < N; ++j) s += log_sinhc(e.values[j] - e.values[i]);
            return s;
        }
    }
    // Log-normal proposal (§4): v ~ N(0, σ² I) in the orthonormal coordinates, P = exp(hat v). Returns P with the weight
    // 1/q(v), so that E[weight f(P)] is the integral against this group's Haar measure (Lebesgue in v).
    static weighted<spd_group> sample(rng& gen, T sigma = T(0.5)) {
        const tangent v = normal_tangent(gen, sigma);
        const T lw = -log_normal_density(v, sigma);
        return {exp(v), std::exp(lw), lw};
    }
    // A draw from N(0, σ² I) on the tangent space.
    static tangent normal_tangent(rng& gen, T sigma) {
        tangent v{};
        for (auto& x : v) x = static_cast<T>(sigma * gen.normal());
        return v;
    }
    // log of the N(0, σ² I) density at v (in dof dimensions).
    static T log_normal_density(const tangent& v, T sigma) {
        require(sigma > 0, "lie::spd::sample: the proposal width sigma must be positive, got ", sigma);
        const T r2 = dot(v, v);
        return -r2 / (2 * sigma * sigma) - static_cast<T>(dof) * std::log(sigma * std::sqrt(2 * std::numbers::pi_v<T>));
    }

private:
    struct trusted {};
    spd_group(const mat<T, N>& m, trusted) : p_(m) {}
    mat<T, N> p_;
};

}  // namespace detail

// Symmetric positive definite n x n matrices under the log-Euclidean product (see the file comment).
template <std::size_t N, class T = double>
using spd = detail::spd_group<N, T, false>;
// SPD matrices with det 1 (traceless logarithm): the polar factor of SL(n).
template <std::size_t N, class T = double>
using sspd = detail::spd_group<N, T, true>;

}  // namespace widenn::lie
