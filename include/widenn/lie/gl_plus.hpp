#pragma once
// GL+(n) and SL(n) through their polar decompositions g = P R, P = (g gᵀ)^{1/2} SPD (det 1 for SL), R in SO(n)
// (Mironenco & Forré, "Lie Group Decompositions for Equivariant Neural Networks", ICLR 2024; docs/theory/lie-groups.md §1-4).
// Tangent coordinates: the symmetric part first (spd<N> or sspd<N> coordinates), then the so(n) part, all
// trace-orthonormal. exp/log are the group exponential (matrix exp) and the principal matrix logarithm, which exists
// only for some g (exp is not surjective: diag(-2, -1/2) in SL(2) has no logarithm); chart() is the global chart
// ξ⁻¹(g) = vee(log P + log R), defined on the whole group, with inverse from_chart(z) = exp(hat_sym z_s) exp(hat_so z_w).
#include <cmath>

#include "so.hpp"
#include "spd.hpp"

namespace widenn::lie {

namespace detail {

template <std::size_t N, class T, bool Special>
class polar_group : public group_base<polar_group<N, T, Special>> {
    static_assert(N >= 2, "widenn::lie::gl_plus<N> / sl<N>: needs N >= 2");
    static_assert(std::is_floating_point_v<T>, "widenn::lie::gl_plus<N, T> / sl<N, T>: T must be float or double");

public:
    using scalar = T;
    using spd_factor = spd_group<N, T, Special>;
    using so_factor = so<N, T>;
    static constexpr std::size_t n = N;
    static constexpr std::size_t sym_dof = spd_factor::dof;
    static constexpr std::size_t dof = sym_dof + so_factor::dof;  // n² (GL+) or n² - 1 (SL)
    static constexpr std::size_t dim = N;
    static constexpr bool is_matrix_group = true;
    using tangent = vec<T, dof>;
    using point = vec<T, N>;
    using algebra = mat<T, N>;
    using adjoint_matrix = mat<T, dof>;

    polar_group() : g_(mat<T, N>::identity()) {}
    static polar_group identity() { return polar_group(); }

    static algebra hat(const tangent& v) {
        if constexpr (Special)
            return basis::hat_sym0<T, N>(v) + basis::hat_so<T, N>(v, sym_dof);
        else
            return basis::hat_sym<T, N>(v) + basis::hat_so<T, N>(v, sym_dof);
    }
    static tangent vee(const algebra& a) {
        tangent v{};
        if constexpr (Special)
            basis::vee_sym0<T, N>(sym_part(a), v);
        else
            basis::vee_sym<T, N>(sym_part(a), v);
        basis::vee_so<T, N>(skew_part(a), v, sym_dof);
        return v;
    }
    // The group exponential: the matrix exponential of hat(v).
    static polar_group exp(const tangent& v) { return polar_group(expm(hat(v)), trusted{}); }
    // The principal matrix logarithm; throws if g has none (a real eigenvalue <= 0). Use chart() for a global chart.
    tangent log() const { return vee(logm(g_, Special ? "lie::sl::log" : "lie::gl_plus::log")); }

    friend polar_group operator*(const polar_group& a, const polar_group& b) { return polar_group(a.g_ * b.g_, trusted{}); }
    polar_group inverse() const { return polar_group(lie::inverse(g_, "lie::gl_plus::inverse"), trusted{}); }
    point act(const point& x) const { return g_ * x; }
    adjoint_matrix adjoint() const { return adjoint_of<polar_group>(g_, lie::inverse(g_, "lie::gl_plus::adjoint")); }
    static adjoint_matrix left_jacobian(const tangent& v) { return left_jacobian_of<polar_group>(v); }
    // ad_v w = vee([hat v, hat w]); exp(ad_v) = Ad_{exp v}.

    // The polar factors g = P R.
    std::pair<spd_factor, so_factor> polar_factors() const {
        const auto f = lie::polar(g_);
        return {spd_factor::from_matrix(f.p), so_factor::from_matrix(f.r)};
    }
    // ξ⁻¹(g) = vee(log P + log R) (§2), with the principal log of R (angle in (-π, π] for n = 2).
    tangent chart() const {
        const auto f = lie::polar(g_);
        const auto x = spd_log(f.p);
        const auto w = so_factor::from_matrix(f.r).log();
        tangent z{};
        if constexpr (Special)
            basis::vee_sym0<T, N>(x, z);
        else
            basis::vee_sym<T, N>(x, z);
        for (std::size_t k = 0; k < so_factor::dof; ++k) z[sym_dof + k] = w[k];
        return z;
    }
    static polar_group from_chart(const tangent& z) {
        const auto p = spd_exp_unchecked(Special ? basis::hat_sym0<T, N>(z) : basis::hat_sym<T, N>(z));
        return polar_group(p * so_factor::exp(so_part(z)).matrix(), trusted{});
    }
    static bool in_chart_domain(const tangent& z) { return so_factor::in_chart_domain(so_part(z)); }
    static typename so_factor::tangent so_part(const tangent& z) {
        typename so_factor::tangent w{};
        for (std::size_t k = 0; k < so_factor::dof; ++k) w[k] = z[sym_dof + k];
        return w;
    }
    static typename spd_factor::tangent sym_part_of(const tangent& z) {
        typename spd_factor::tangent x{};
        for (std::size_t k = 0; k < sym_dof; ++k) x[k] = z[k];
        return x;
    }

    const mat<T, N>& matrix() const { return g_; }
    T determinant() const { return det(g_); }
    // Validates: finite, det > 0 (GL+) or det = 1 within membership_tolerance (SL).
    static polar_group from_matrix(const mat<T, N>& m) {
        const char* where = Special ? "lie::sl::from_matrix" : "lie::gl_plus::from_matrix";
        detail::require_finite_matrix(m, where);
        const T d = det(m);
        if constexpr (Special) {
            if (!(std::abs(d - 1) <= membership_tolerance<T>()))
                fail(where, ": det g = ", d, ", expected 1 within ", membership_tolerance<T>(), " (g must be in SL(", N, "))");
        } else {
            if (!(d > 0)) fail(where, ": det g = ", d, ", expected > 0 (g must be in GL+(", N, "))");
        }
        return polar_group(m, trusted{});
    }

    // ------------------------------------------------------------ Haar measure
    // Left (= right: the group is unimodular) Haar density in chart coordinates z = (x, w) (§3):
    // dμ = ∏_{i<j} sinh(λ_i - λ_j)/(λ_i - λ_j) dx · dR, λ = eigenvalues of X = hat_sym(x), dR the trace-metric volume of
    // SO(n) (density so<N>::haar_log_density(w) in w). With these normalisations the constant is exactly 1; for SL the
    // same holds with X traceless, relative to the volume of an orthonormal basis of sl(n).
    static T haar_log_density(const tangent& z) {
        return spd_factor::polar_log_density(sym_part_of(z)) + so_factor::haar_log_density(so_part(z));
    }
    // Importance sampling (§4): X = hat_sym(v) with v ~ N(0, σ² I) (log-normal P = e^X), R Haar on SO(n), g = e^X R,
    // weight = vol(SO(n)) J(X)/q(v). Then E[weight f(g)] = ∫ f dμ for every μ-integrable f. (The paper's code omits the
    // weights, so its Monte Carlo sums integrate against the proposal, not against the Haar measure.)
    static weighted<polar_group> sample(rng& gen, T sigma = T(0.5)) {
        const auto v = spd_factor::normal_tangent(gen, sigma);
        const auto r = so_factor::sample_haar(gen);
        static const T log_volume = std::log(so_factor::volume());
        const T lw = log_volume + spd_factor::polar_log_density(v) - spd_factor::log_normal_density(v, sigma);
        return {polar_group(spd_exp_unchecked(spd_factor::hat(v)) * r.matrix(), trusted{}), std::exp(lw), lw};
    }

private:
    struct trusted {};
    polar_group(const mat<T, N>& m, trusted) : g_(m) {}
    mat<T, N> g_;
};

}  // namespace detail

// Invertible n x n matrices with positive determinant, g = P R with P in SPD(n), R in SO(n).
template <std::size_t N, class T = double>
using gl_plus = detail::polar_group<N, T, false>;
// Matrices with determinant 1, g = P R with P in SSPD(n), R in SO(n).
template <std::size_t N, class T = double>
using sl = detail::polar_group<N, T, true>;

}  // namespace widenn::lie
