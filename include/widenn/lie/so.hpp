#pragma once
// SO(n), the rotation group (docs/theory/lie-groups.md §2-4). Tangent coordinates are trace-orthonormal (group.hpp, basis::hat_so):
// a rotation by θ in SO(2) has coordinate √2θ, an SO(3) rotation vector ω has coordinates √2ω.
#include <cmath>
#include <numbers>
#include <vector>

#include "group.hpp"

namespace widenn::lie {

template <std::size_t N, class T = double>
class so : public group_base<so<N, T>> {
    static_assert(N >= 2, "widenn::lie::so<N>: rotations need N >= 2");
    static_assert(std::is_floating_point_v<T>, "widenn::lie::so<N, T>: T must be float or double");

public:
    using scalar = T;
    static constexpr std::size_t n = N;
    static constexpr std::size_t dof = N * (N - 1) / 2;
    static constexpr std::size_t dim = N;
    static constexpr bool is_matrix_group = true;  // the product is the matrix product
    using tangent = vec<T, dof>;
    using point = vec<T, N>;
    using algebra = mat<T, N>;
    using adjoint_matrix = mat<T, dof>;

    so() : r_(mat<T, N>::identity()) {}
    static so identity() { return so(); }

    // ------------------------------------------------------------ exp, log, hat, vee
    static algebra hat(const tangent& v) { return basis::hat_so<T, N>(v); }
    static tangent vee(const algebra& a) {
        tangent v{};
        basis::vee_so<T, N>(a, v);
        return v;
    }
    static so exp(const tangent& v) {
        detail::require_finite_tangent(v, "lie::so::exp");
        if constexpr (N == 2) {
            return rotation(v[0] * static_cast<T>(basis::inv_sqrt2));
        } else if constexpr (N == 3) {
            return from_rotation_vector({v[0] * c_, v[1] * c_, v[2] * c_});
        } else {
            return so(expm(hat(v)), trusted{});
        }
    }
    // The principal logarithm: SO(2) angle in (-π, π]; SO(3) angle in [0, π] with the near-0 and near-π branches of §2.
    tangent log() const {
        if constexpr (N == 2) {
            return {angle() * static_cast<T>(std::numbers::sqrt2)};
        } else if constexpr (N == 3) {
            const auto w = rotation_vector();
            return {w[0] * sqrt2_, w[1] * sqrt2_, w[2] * sqrt2_};
        } else {
            return vee(skew_part(logm(r_, "lie::so::log")));
        }
    }

    // ------------------------------------------------------------ group operations
    friend so operator*(const so& a, const so& b) { return so(a.r_ * b.r_, trusted{}); }
    so inverse() const { return so(transpose(r_), trusted{}); }
    point act(const point& x) const { return r_ * x; }
    // Ad_R x = vee(R hat(x) Rᵀ): 1 for SO(2), R itself for SO(3).
    adjoint_matrix adjoint() const {
        if constexpr (N == 2) {
            return adjoint_matrix{T(1)};
        } else if constexpr (N == 3) {
            return r_;
        } else {
            return detail::adjoint_of<so>(r_, transpose(r_));
        }
    }
    static adjoint_matrix left_jacobian(const tangent& v) {
        if constexpr (N == 2) {
            return adjoint_matrix{T(1)};
        } else if constexpr (N == 3) {
            // J_l(ω) = I + (1 - cos θ)/θ² W + (θ - sin θ)/θ³ W² (§2); the same matrix in the √2ω coordinates.
            const T w0 = v[0] * c_, w1 = v[1] * c_, w2 = v[2] * c_;
            const T t2 = w0 * w0 + w1 * w1 + w2 * w2;
            T a, b;
            if (t2 < T(1e-6)) {
                a = T(0.5) - t2 / 24 + t2 * t2 / 720;
                b = T(1) / 6 - t2 / 120 + t2 * t2 / 5040;
            } else {
                const T t = std::sqrt(t2);
                a = (1 - std::cos(t)) / t2;
                b = (t - std::sin(t)) / (t2 * t);
            }
            const mat<T, 3> w{0, -w2, w1, w2, 0, -w0, -w1, w0, 0};
            return mat<T, 3>::identity() + w * a + w * w * b;
        } else {
            return detail::left_jacobian_of<so>(v);
        }
    }
    // ad_v w = vee([hat v, hat w]); exp(ad_v) = Ad_{exp v}.

    // ------------------------------------------------------------ chart and matrices
    tangent chart() const { return log(); }
    static so from_chart(const tangent& z) { return exp(z); }
    // z lies in the chart's domain (where chart(from_chart(z)) = z): every rotation angle of exp(z) is <= π. For n <= 3
    // that is ‖z‖ <= √2π; in general the largest eigenvalue of -hat(z)² (the squared angles) must be <= π².
    static bool in_chart_domain(const tangent& z) {
        if constexpr (N <= 3) {
            return norm(z) <= static_cast<T>(std::numbers::sqrt2 * std::numbers::pi);
        } else {
            const auto w = hat(z);
            return eigh(-(w * w)).values[N - 1] <= std::numbers::pi_v<T> * std::numbers::pi_v<T>;
        }
    }
    const mat<T, N>& matrix() const { return r_; }
    // Validates: finite, orthogonal within membership_tolerance, det +1 (not a reflection).
    static so from_matrix(const mat<T, N>& m) {
        detail::require_finite_matrix(m, "lie::so::from_matrix");
        const T dev = max_abs(transpose(m) * m - mat<T, N>::identity());
        if (dev > membership_tolerance<T>())
            fail("lie::so<", N, ">::from_matrix: matrix is not orthogonal (max |RᵀR - I| = ", dev, ", tolerance ",
                 membership_tolerance<T>(), ")");
        const T d = det(m);
        if (!(d > 0)) fail("lie::so<", N, ">::from_matrix: det R = ", d, ", expected +1 (a reflection is not in SO(", N, "))");
        return so(m, trusted{});
    }

    // ------------------------------------------------------------ SO(2) and SO(3) conveniences
    static so rotation(T theta) requires(N == 2) {
        const T c = std::cos(theta), s = std::sin(theta);
        return so(mat<T, 2>{c, -s, s, c}, trusted{});
    }
    // The angle in (-π, π] (rgenn uses [0, 2π), which puts the branch cut at the identity).
    T angle() const requires(N == 2) {
        const T a = std::atan2(r_(1, 0), r_(0, 0));
        return a <= -std::numbers::pi_v<T> ? std::numbers::pi_v<T> : a;  // -π (from sin = -0 or -1e-16) is π
    }
    // Rodrigues: exp(ω) = I + sin θ/θ W + (1 - cos θ)/θ² W², with series for θ² < 1e-8.
    static so from_rotation_vector(const vec<T, 3>& w) requires(N == 3) {
        const T t2 = w[0] * w[0] + w[1] * w[1] + w[2] * w[2];
        T a, b;
        if (t2 < T(1e-8)) {
            a = 1 - t2 / 6 + t2 * t2 / 120;
            b = T(0.5) - t2 / 24 + t2 * t2 / 720;
        } else {
            const T t = std::sqrt(t2);
            a = std::sin(t) / t;
            b = (1 - std::cos(t)) / t2;
        }
        const mat<T, 3> W{0, -w[2], w[1], w[2], 0, -w[0], -w[1], w[0], 0};
        return so(mat<T, 3>::identity() + W * a + W * W * b, trusted{});
    }
    vec<T, 3> rotation_vector() const requires(N == 3) {
        const auto& r = r_;
        const vec<T, 3> v{(r(2, 1) - r(1, 2)) / 2, (r(0, 2) - r(2, 0)) / 2, (r(1, 0) - r(0, 1)) / 2};  // sin θ · u
        const T c = std::clamp((trace(r) - 1) / 2, T(-1), T(1));
        const T s = norm(v);
        const T theta = std::atan2(s, c);
        if (theta < T(1e-4)) {  // θ/sin θ series
            const T f = 1 + theta * theta / 6 + 7 * theta * theta * theta * theta / 360;
            return {v[0] * f, v[1] * f, v[2] * f};
        }
        if (std::numbers::pi_v<T> - theta < T(1e-4)) {  // B = (R + Rᵀ)/2 - cI = (1 - c) u uᵀ
            mat<T, 3> bm = sym_part(r) - mat<T, 3>::identity() * c;
            std::size_t j = 0;
            for (std::size_t i = 1; i < 3; ++i)
                if (bm(i, i) > bm(j, j)) j = i;
            const T scale = 1 / std::sqrt(bm(j, j) * (1 - c));
            vec<T, 3> u{bm(0, j) * scale, bm(1, j) * scale, bm(2, j) * scale};
            if (u[0] * v[0] + u[1] * v[1] + u[2] * v[2] < 0) u = {-u[0], -u[1], -u[2]};
            return {theta * u[0], theta * u[1], theta * u[2]};
        }
        const T f = theta / s;
        return {v[0] * f, v[1] * f, v[2] * f};
    }

    // ------------------------------------------------------------ Haar measure and sampling
    // Total volume for the trace metric (2√2π for SO(2), 16√2π² for SO(3)).
    static T volume() {
        static const T v = static_cast<T>(so_volume(N));
        return v;
    }
    // Density of the Riemannian volume (= Haar measure normalised to volume()) in chart coordinates z:
    // 1 for SO(2); 2(1 - cos θ)/θ² with θ = ‖z‖/√2 for SO(3) (§3); log det J_l(z) in general.
    static T haar_log_density(const tangent& z) {
        if constexpr (N == 2) {
            (void)z;
            return T(0);
        } else if constexpr (N == 3) {
            const T t = norm(z) * c_;
            if (t < T(1e-3)) return -t * t / 12 - t * t * t * t / 1440;  // log(sinc²(t/2))
            const T s = std::sin(t / 2) / (t / 2);
            return 2 * std::log(std::abs(s));
        } else {
            return std::log(std::abs(det(left_jacobian(z))));
        }
    }
    // A Haar-distributed rotation. SO(2): θ uniform in (-π, π]. n >= 3: Mezzadri's QR of a Gaussian matrix with
    // Q ← Q diag(sign R_ii), then the first column negated if det Q < 0 (§4).
    static so sample_haar(rng& gen) {
        if constexpr (N == 2) {
            return rotation(static_cast<T>(std::numbers::pi * (1 - 2 * gen.uniform())));
        } else {
            mat<double, N> z;
            for (auto& x : z) x = gen.normal();
            auto [q, r] = qr(z);
            for (std::size_t j = 0; j < N; ++j)
                if (r(j, j) < 0)
                    for (std::size_t i = 0; i < N; ++i) q(i, j) = -q(i, j);
            if (det(q) < 0)
                for (std::size_t i = 0; i < N; ++i) q(i, 0) = -q(i, 0);
            return so(q.template cast<T>(), trusted{});
        }
    }
    // Haar sample with the weight volume(): E[weight f(R)] = ∫ f dR. The proposal width is unused (kept for uniformity).
    static weighted<so> sample(rng& gen, T /*sigma*/ = T(0.5)) {
        const T v = volume();
        return {sample_haar(gen), v, std::log(v)};
    }
    // N rotations by 2πk/N, k = 0..N-1 (rgenn's linspace(-π, π, N) lists the rotation by π twice).
    static std::vector<so> equidistant(std::size_t count) requires(N == 2) {
        require(count > 0, "lie::so<2>::equidistant: count must be positive, got 0");
        std::vector<so> out;
        out.reserve(count);
        for (std::size_t k = 0; k < count; ++k)
            out.push_back(rotation(static_cast<T>(2 * std::numbers::pi * static_cast<double>(k) / static_cast<double>(count))));
        return out;
    }

private:
    struct trusted {};
    so(const mat<T, N>& m, trusted) : r_(m) {}
    static constexpr T c_ = static_cast<T>(basis::inv_sqrt2);
    static constexpr T sqrt2_ = static_cast<T>(std::numbers::sqrt2);
    mat<T, N> r_;
};

}  // namespace widenn::lie
