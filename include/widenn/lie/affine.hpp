#pragma once
// Affine groups R^n ⋊ H (docs/theory/lie-groups.md §1, §3): (x, h)(y, k) = (x + h y, h k), (x, h)⁻¹ = (-h⁻¹x, h⁻¹), acting on R^n
// by y -> h y + x; as matrices [[h, x], [0, 1]]. Tangent coordinates: the translation part v first, then H's ξ,
// orthonormal for the trace metric of (n+1) x (n+1) matrices. The left Haar measure is |det h|⁻¹ dx dμ_H(h); the group
// is not unimodular when H is not volume-preserving.
#include <cmath>

#include "group.hpp"

namespace widenn::lie {

template <LieGroup H>
class affine : public group_base<affine<H>> {
    static_assert(H::is_matrix_group,
                  "widenn::lie::affine<H>: H must be a matrix group (so, gl_plus, sl) whose product is the matrix product; "
                  "spd and sspd use the log-Euclidean product and do not act linearly");

public:
    using scalar = typename H::scalar;
    using T = scalar;
    using linear_group = H;
    static constexpr std::size_t n = H::dim;
    static constexpr std::size_t dof = n + H::dof;
    static constexpr std::size_t dim = n;
    static constexpr bool is_matrix_group = true;
    using tangent = vec<T, dof>;
    using point = vec<T, n>;
    using algebra = mat<T, n + 1>;
    using adjoint_matrix = mat<T, dof>;

    affine() : t_{}, h_() {}
    affine(const point& translation, const H& linear) : t_(translation), h_(linear) {}
    static affine identity() { return affine(); }
    static affine translation_only(const point& x) { return affine(x, H::identity()); }

    const point& translation() const { return t_; }
    const H& linear() const { return h_; }

    static algebra hat(const tangent& v) {
        algebra a(n + 1);
        const auto b = H::hat(h_part(v));
        for (std::size_t i = 0; i < n; ++i) {
            for (std::size_t j = 0; j < n; ++j) a(i, j) = b(i, j);
            a(i, n) = v[i];
        }
        return a;
    }
    static tangent vee(const algebra& a) {
        mat<T, n> b(n);
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t j = 0; j < n; ++j) b(i, j) = a(i, j);
        const auto xi = H::vee(b);
        tangent v{};
        for (std::size_t i = 0; i < n; ++i) v[i] = a(i, n);
        for (std::size_t k = 0; k < H::dof; ++k) v[n + k] = xi[k];
        return v;
    }
    // exp(v, ξ) = (phi1(hat ξ) v, exp ξ), phi1(A) = Σ A^k/(k+1)!.
    static affine exp(const tangent& v) {
        detail::require_finite_tangent(v, "lie::affine::exp");
        const auto xi = h_part(v);
        return affine(phi1(H::hat(xi)) * t_part(v), H::exp(xi));
    }
    // log = (phi1(hat ξ)⁻¹ x, ξ) with ξ = log h (throws where H's log does).
    tangent log() const {
        const auto xi = h_.log();
        const auto vmat = phi1(H::hat(xi));
        mat<T, n> rhs(n);
        for (std::size_t i = 0; i < n; ++i) rhs(i, 0) = t_[i];
        const auto sol = solve(vmat, rhs, "lie::affine::log");
        tangent out{};
        for (std::size_t i = 0; i < n; ++i) out[i] = sol(i, 0);
        for (std::size_t k = 0; k < H::dof; ++k) out[n + k] = xi[k];
        return out;
    }

    friend affine operator*(const affine& a, const affine& b) {
        auto x = a.h_.act(b.t_);
        for (std::size_t i = 0; i < n; ++i) x[i] += a.t_[i];
        return affine(x, a.h_ * b.h_);
    }
    affine inverse() const {
        const auto hi = h_.inverse();
        auto x = hi.act(t_);
        for (auto& c : x) c = -c;
        return affine(x, hi);
    }
    point act(const point& y) const {
        auto x = h_.act(y);
        for (std::size_t i = 0; i < n; ++i) x[i] += t_[i];
        return x;
    }
    adjoint_matrix adjoint() const { return detail::adjoint_of<affine>(matrix(), inverse().matrix()); }
    static adjoint_matrix left_jacobian(const tangent& v) { return detail::left_jacobian_of<affine>(v); }
    // ad_v w = vee([hat v, hat w]); exp(ad_v) = Ad_{exp v}.

    // The chart of R^n ⋊ H: (x, ξ⁻¹_H(h)), a global chart when H's is.
    tangent chart() const {
        const auto zh = h_.chart();
        tangent z{};
        for (std::size_t i = 0; i < n; ++i) z[i] = t_[i];
        for (std::size_t k = 0; k < H::dof; ++k) z[n + k] = zh[k];
        return z;
    }
    static affine from_chart(const tangent& z) { return affine(t_part(z), H::from_chart(h_part(z))); }
    static bool in_chart_domain(const tangent& z) { return H::in_chart_domain(h_part(z)); }

    algebra matrix() const {
        algebra m(n + 1);
        const auto& hm = h_.matrix();
        for (std::size_t i = 0; i < n; ++i) {
            for (std::size_t j = 0; j < n; ++j) m(i, j) = hm(i, j);
            m(i, n) = t_[i];
        }
        m(n, n) = T(1);
        return m;
    }
    // Validates the last row (0, ..., 0, 1) and the linear block with H::from_matrix.
    static affine from_matrix(const algebra& m) {
        detail::require_finite_matrix(m, "lie::affine::from_matrix");
        for (std::size_t j = 0; j <= n; ++j) {
            const T expected = j == n ? T(1) : T(0);
            if (m(n, j) != expected)
                fail("lie::affine::from_matrix: the last row must be (0, ..., 0, 1); entry (", n, ", ", j, ") is ", m(n, j));
        }
        mat<T, n> b(n);
        point x{};
        for (std::size_t i = 0; i < n; ++i) {
            for (std::size_t j = 0; j < n; ++j) b(i, j) = m(i, j);
            x[i] = m(i, n);
        }
        return affine(x, H::from_matrix(b));
    }

    // Left Haar density in chart coordinates: |det h|⁻¹ times H's density (§3).
    static T haar_log_density(const tangent& z) {
        const auto h = H::from_chart(h_part(z));
        return -std::log(std::abs(det(h.matrix()))) + H::haar_log_density(h_part(z));
    }

    static typename H::tangent h_part(const tangent& v) {
        typename H::tangent xi{};
        for (std::size_t k = 0; k < H::dof; ++k) xi[k] = v[n + k];
        return xi;
    }
    static point t_part(const tangent& v) {
        point x{};
        for (std::size_t i = 0; i < n; ++i) x[i] = v[i];
        return x;
    }

private:
    point t_;
    H h_;
};

}  // namespace widenn::lie
