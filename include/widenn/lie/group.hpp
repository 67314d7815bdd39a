#pragma once
// What every widenn Lie group provides (the LieGroup concept), the trace-orthonormal bases of Sym(n), traceless Sym(n)
// and so(n) (docs/theory/lie-groups.md §2), and the generic adjoint and Jacobians of matrix Lie groups.
#include <cmath>
#include <concepts>
#include <cstddef>
#include <numbers>

#include "../core/rng.hpp"
#include "matfun.hpp"

namespace widenn::lie {

// A Lie group value type in the style of Sophus and manif.
//   G::scalar, G::dof (tangent dimension), G::dim (it acts on R^dim), G::tangent (vec<scalar, dof>), G::point,
//   G::algebra (the matrix Lie algebra), G::adjoint_matrix (dof x dof);
//   G::identity(), G::exp(v), g.log(), G::hat(v), G::vee(A), g * h, g.inverse(), g.act(x), g.adjoint(),
//   g.chart() (the global chart ξ⁻¹) and G::from_chart(z), g.matrix(), G::from_matrix(M) (validated),
//   G::left_jacobian(v), G::right_jacobian(v), G::haar_log_density(z) (left Haar measure in chart coordinates).
// Every widenn group also has G::ad(v) (the bracket as a matrix), G::in_chart_domain(z) and G::sample(rng, sigma).
template <class G>
concept LieGroup = requires(const G g, const typename G::tangent v, const typename G::point x, const typename G::algebra a) {
    typename G::scalar;
    requires std::floating_point<typename G::scalar>;
    { G::dof } -> std::convertible_to<std::size_t>;
    { G::dim } -> std::convertible_to<std::size_t>;
    { G::identity() } -> std::same_as<G>;
    { G::exp(v) } -> std::same_as<G>;
    { g.log() } -> std::same_as<typename G::tangent>;
    { G::hat(v) } -> std::same_as<typename G::algebra>;
    { G::vee(a) } -> std::same_as<typename G::tangent>;
    { g* g } -> std::same_as<G>;
    { g.inverse() } -> std::same_as<G>;
    { g.act(x) } -> std::same_as<typename G::point>;
    { g.adjoint() } -> std::same_as<typename G::adjoint_matrix>;
    { g.chart() } -> std::same_as<typename G::tangent>;
    { G::from_chart(v) } -> std::same_as<G>;
    { g.matrix() } -> std::convertible_to<typename G::algebra>;
    { G::from_matrix(a) } -> std::same_as<G>;
    { G::left_jacobian(v) } -> std::same_as<typename G::adjoint_matrix>;
    { G::right_jacobian(v) } -> std::same_as<typename G::adjoint_matrix>;
    { G::haar_log_density(v) } -> std::convertible_to<typename G::scalar>;
};

// log of a matrix that should lie in G: G::from_matrix(m).log(). A matrix outside the group (det <= 0, not symmetric,
// not positive definite, not orthogonal beyond membership_tolerance) or without a principal logarithm raises
// widenn::error naming the violated property.
template <LieGroup G, class M>
typename G::tangent log_of_matrix(const M& m) {
    return G::from_matrix(m).log();
}

// A group element drawn from a proposal, with the importance weight that makes averages Haar integrals:
// E[weight · f(element)] = ∫_G f dμ (docs/theory/lie-groups.md §4), for the normalisation of μ stated by each group.
template <class G>
struct weighted {
    G element;
    typename G::scalar weight;
    typename G::scalar log_weight;
};

// The Riemannian volume of SO(n) for the trace metric <A, B> = tr(AᵀB) (docs/theory/lie-groups.md §3): vol SO(2) = 2√2π,
// vol SO(3) = 16√2π². It is 2^{n(n-1)/4} ∏_{k=2}^n vol(S^{k-1}), the product being the volume for ½tr(AᵀB).
inline double so_volume(std::size_t n) {
    double v = std::pow(2.0, static_cast<double>(n * (n - 1)) / 4.0);
    for (std::size_t k = 2; k <= n; ++k) {
        const double half = static_cast<double>(k) / 2.0;
        v *= 2.0 * std::pow(std::numbers::pi, half) / std::tgamma(half);
    }
    return v;
}

namespace basis {

inline constexpr double inv_sqrt2 = 0.70710678118654752440;

// Sym(n): E_ii (i = 0..n-1), then (E_ij + E_ji)/√2 for i < j in lexicographic order. Coordinates x_ii and √2 x_ij.
// The off-diagonal part shared by Sym(n) and traceless Sym(n): (E_ij + E_ji)/√2 for i < j, coordinates from v[k].
template <class T, std::size_t N, class V>
void hat_sym_offdiagonal(const V& v, std::size_t k, mat<T, N>& x) {
    for (std::size_t i = 0; i < N; ++i)
        for (std::size_t j = i + 1; j < N; ++j) x(i, j) = x(j, i) = v[k++] * static_cast<T>(inv_sqrt2);
}
template <class T, std::size_t N, class V>
void vee_sym_offdiagonal(const mat<T, N>& a, V& v, std::size_t k) {
    for (std::size_t i = 0; i < N; ++i)
        for (std::size_t j = i + 1; j < N; ++j) v[k++] = (a(i, j) + a(j, i)) * static_cast<T>(inv_sqrt2);
}

template <class T, std::size_t N, class V>
mat<T, N> hat_sym(const V& v, std::size_t offset = 0) {
    mat<T, N> x(N);
    for (std::size_t i = 0; i < N; ++i) x(i, i) = v[offset + i];
    hat_sym_offdiagonal<T, N>(v, offset + N, x);
    return x;
}
template <class T, std::size_t N, class V>
void vee_sym(const mat<T, N>& a, V& v, std::size_t offset = 0) {
    for (std::size_t i = 0; i < N; ++i) v[offset + i] = a(i, i);
    vee_sym_offdiagonal<T, N>(a, v, offset + N);
}

// Traceless Sym(n): D_k = (E_00 + ... + E_{k-1,k-1} - k E_kk)/√(k(k+1)) for k = 1..n-1, then (E_ij + E_ji)/√2.
// For n = 2 this is (E_00 - E_11)/√2, (E_01 + E_10)/√2.
template <class T, std::size_t N, class V>
mat<T, N> hat_sym0(const V& v, std::size_t offset = 0) {
    mat<T, N> x(N);
    std::size_t k = offset;
    for (std::size_t d = 1; d < N; ++d) {
        const T c = v[k++] / std::sqrt(static_cast<T>(d * (d + 1)));
        for (std::size_t i = 0; i < d; ++i) x(i, i) += c;
        x(d, d) -= static_cast<T>(d) * c;
    }
    hat_sym_offdiagonal<T, N>(v, k, x);
    return x;
}
template <class T, std::size_t N, class V>
void vee_sym0(const mat<T, N>& a, V& v, std::size_t offset = 0) {
    std::size_t k = offset;
    for (std::size_t d = 1; d < N; ++d) {
        T s = 0;
        for (std::size_t i = 0; i < d; ++i) s += a(i, i);
        v[k++] = (s - static_cast<T>(d) * a(d, d)) / std::sqrt(static_cast<T>(d * (d + 1)));
    }
    vee_sym_offdiagonal<T, N>(a, v, k);
}

// so(n): (E_ji - E_ij)/√2 for i < j in lexicographic order, except so(3), where the basis is hat(e_x), hat(e_y),
// hat(e_z) divided by √2 so that the coordinates are √2 times the usual rotation vector ω. so(2): J/√2, J = [[0,-1],[1,0]].
template <class T, std::size_t N, class V>
mat<T, N> hat_so(const V& v, std::size_t offset = 0) {
    mat<T, N> x(N);
    const T c = static_cast<T>(inv_sqrt2);
    if constexpr (N == 3) {
        const T wx = v[offset] * c, wy = v[offset + 1] * c, wz = v[offset + 2] * c;
        x(0, 1) = -wz, x(0, 2) = wy, x(1, 0) = wz, x(1, 2) = -wx, x(2, 0) = -wy, x(2, 1) = wx;
    } else {
        std::size_t k = offset;
        for (std::size_t i = 0; i < N; ++i)
            for (std::size_t j = i + 1; j < N; ++j) {
                x(j, i) = v[k] * c;
                x(i, j) = -v[k] * c;
                ++k;
            }
    }
    return x;
}
template <class T, std::size_t N, class V>
void vee_so(const mat<T, N>& a, V& v, std::size_t offset = 0) {
    const T c = static_cast<T>(inv_sqrt2);
    if constexpr (N == 3) {
        v[offset] = (a(2, 1) - a(1, 2)) * c;
        v[offset + 1] = (a(0, 2) - a(2, 0)) * c;
        v[offset + 2] = (a(1, 0) - a(0, 1)) * c;
    } else {
        std::size_t k = offset;
        for (std::size_t i = 0; i < N; ++i)
            for (std::size_t j = i + 1; j < N; ++j) v[k++] = (a(j, i) - a(i, j)) * c;
    }
}

}  // namespace basis

namespace detail {

template <class G>
typename G::tangent unit_tangent(std::size_t k) {
    typename G::tangent e{};
    e[k] = typename G::scalar(1);
    return e;
}

// Ad_g x = vee(M hat(x) M⁻¹), column by column.
template <class G>
typename G::adjoint_matrix adjoint_of(const typename G::algebra& m, const typename G::algebra& m_inv) {
    typename G::adjoint_matrix ad(G::dof);
    for (std::size_t k = 0; k < G::dof; ++k) {
        const auto col = G::vee(m * G::hat(unit_tangent<G>(k)) * m_inv);
        for (std::size_t i = 0; i < G::dof; ++i) ad(i, k) = col[i];
    }
    return ad;
}

// ad_v x = vee([hat v, hat x]).
template <class G>
typename G::adjoint_matrix small_adjoint_of(const typename G::tangent& v) {
    typename G::adjoint_matrix ad(G::dof);
    const auto a = G::hat(v);
    for (std::size_t k = 0; k < G::dof; ++k) {
        const auto b = G::hat(unit_tangent<G>(k));
        const auto col = G::vee(a * b - b * a);
        for (std::size_t i = 0; i < G::dof; ++i) ad(i, k) = col[i];
    }
    return ad;
}

// J_l(v) = Σ_k ad_v^k/(k+1)!: exp(v + δ) = exp(J_l(v) δ) exp(v) + O(δ²).
template <class G>
typename G::adjoint_matrix left_jacobian_of(const typename G::tangent& v) {
    return phi1(small_adjoint_of<G>(v));
}

template <class T, std::size_t K>
vec<T, K> scaled(vec<T, K> v, T c) {
    for (auto& x : v) x *= c;
    return v;
}

template <class T>
T log_sinhc(T x) {  // log(sinh x / x), accurate near 0 and for large |x|
    x = std::abs(x);
    if (x < T(1e-3)) return x * x / 6 - x * x * x * x / 180;
    if (x > T(20)) return x - std::log(2 * x);
    return std::log(std::sinh(x) / x);
}

}  // namespace detail

// The operations every group derives from its own exp, log, product, inverse and left Jacobian, written once (in the
// manner of manif's LieGroupBase): a group G derives from group_base<G> and gets
//   G::right_jacobian(v) = J_l(−v):  exp(v + δ) = exp(v) exp(J_r(v) δ) + O(δ²),
//   G::ad(v) = vee([hat v, hat ·]), the bracket of the matrix Lie algebra (a group with another bracket defines its own),
//   g.rplus(v) = g exp(v),  h.rminus(g) = log(g⁻¹ h),  g.between(h) = g⁻¹ h.
// The default template argument only delays naming G's member types until G is complete.
template <class G>
struct group_base {
    template <class D = G>
    static typename D::adjoint_matrix right_jacobian(const typename D::tangent& v) {
        return D::left_jacobian(detail::scaled<typename D::scalar, D::dof>(v, typename D::scalar(-1)));
    }
    template <class D = G>
    static typename D::adjoint_matrix ad(const typename D::tangent& v) {
        return detail::small_adjoint_of<D>(v);
    }
    template <class D = G>
    D rplus(const typename D::tangent& v) const {
        return self() * D::exp(v);
    }
    template <class D = G>
    typename D::tangent rminus(const D& g) const {
        return g.between(self()).log();
    }
    template <class D = G>
    D between(const D& h) const {
        return self().inverse() * h;
    }

private:
    const G& self() const { return static_cast<const G&>(*this); }
};

}  // namespace widenn::lie
