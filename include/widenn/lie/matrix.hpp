#pragma once
// Small dense square matrices and vectors for the Lie group code: std::array storage when the size N is known at
// compile time, std::vector when N == lie::dynamic. Row-major. Deliberately minimal: products, sums, transpose,
// trace, norms, and LU (solve, inverse, determinant) with partial pivoting.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <initializer_list>
#include <limits>
#include <ostream>
#include <type_traits>
#include <vector>

#include "../core/errors.hpp"

namespace widenn::lie {

// The size tag for matrices whose size is chosen at run time.
inline constexpr std::size_t dynamic = 0;

// A vector of K entries (std::array for K fixed, std::vector for dynamic).
template <class T, std::size_t K>
using vec = std::conditional_t<K == dynamic, std::vector<T>, std::array<T, K>>;

namespace detail {
template <class T, std::size_t N>
struct square_storage {
    std::array<T, N * N> values{};
    static constexpr std::size_t size() { return N; }
    void resize(std::size_t n) {
        require<shape_error>(n == N, "lie::mat: a ", N, "x", N, " matrix cannot be created with size ", n);
    }
};
template <class T>
struct square_storage<T, dynamic> {
    std::vector<T> values;
    std::size_t n = 0;
    std::size_t size() const { return n; }
    void resize(std::size_t m) {
        n = m;
        values.assign(m * m, T(0));
    }
};
}  // namespace detail

template <class T, std::size_t N>
class mat {
    static_assert(std::is_floating_point_v<T>, "widenn::lie::mat: the scalar type must be float, double or long double");

public:
    using value_type = T;
    static constexpr std::size_t extent = N;

    mat() requires(N != dynamic) = default;
    explicit mat(std::size_t n) { s_.resize(n); }
    // Row-major entries: mat<double, 2>{{1, 2, 3, 4}} is [[1, 2], [3, 4]].
    mat(std::initializer_list<T> row_major) requires(N != dynamic) {
        require<shape_error>(row_major.size() == N * N, "lie::mat: expected ", N * N, " entries, got ", row_major.size());
        std::copy(row_major.begin(), row_major.end(), s_.values.begin());
    }

    static mat zeros(std::size_t n = N) { return mat(n); }
    static mat identity(std::size_t n = N) {
        mat out(n);
        for (std::size_t i = 0; i < n; ++i) out(i, i) = T(1);
        return out;
    }

    std::size_t size() const { return s_.size(); }
    T& operator()(std::size_t i, std::size_t j) { return s_.values[i * size() + j]; }
    const T& operator()(std::size_t i, std::size_t j) const { return s_.values[i * size() + j]; }
    T* data() { return s_.values.data(); }
    const T* data() const { return s_.values.data(); }
    auto begin() { return s_.values.begin(); }
    auto end() { return s_.values.end(); }
    auto begin() const { return s_.values.begin(); }
    auto end() const { return s_.values.end(); }

    template <class U>
    mat<U, N> cast() const {
        mat<U, N> out(size());
        for (std::size_t k = 0; k < size() * size(); ++k) out.data()[k] = static_cast<U>(data()[k]);
        return out;
    }

    mat& operator+=(const mat& b) {
        for (std::size_t k = 0; k < size() * size(); ++k) data()[k] += b.data()[k];
        return *this;
    }
    mat& operator-=(const mat& b) {
        for (std::size_t k = 0; k < size() * size(); ++k) data()[k] -= b.data()[k];
        return *this;
    }
    mat& operator*=(T c) {
        for (auto& v : s_.values) v *= c;
        return *this;
    }
    friend mat operator+(mat a, const mat& b) { return a += b; }
    friend mat operator-(mat a, const mat& b) { return a -= b; }
    friend mat operator-(mat a) { return a *= T(-1); }
    friend mat operator*(mat a, T c) { return a *= c; }
    friend mat operator*(T c, mat a) { return a *= c; }
    friend mat operator/(mat a, T c) { return a *= T(1) / c; }
    friend mat operator*(const mat& a, const mat& b) {
        const std::size_t n = a.size();
        mat out(n);
        if constexpr (N == 2) {
            out(0, 0) = a(0, 0) * b(0, 0) + a(0, 1) * b(1, 0);
            out(0, 1) = a(0, 0) * b(0, 1) + a(0, 1) * b(1, 1);
            out(1, 0) = a(1, 0) * b(0, 0) + a(1, 1) * b(1, 0);
            out(1, 1) = a(1, 0) * b(0, 1) + a(1, 1) * b(1, 1);
        } else {
            for (std::size_t i = 0; i < n; ++i)
                for (std::size_t k = 0; k < n; ++k) {
                    const T aik = a(i, k);
                    for (std::size_t j = 0; j < n; ++j) out(i, j) += aik * b(k, j);
                }
        }
        return out;
    }
    friend vec<T, N> operator*(const mat& a, const vec<T, N>& x) {
        const std::size_t n = a.size();
        vec<T, N> y{};
        if constexpr (N == dynamic) y.assign(n, T(0));
        for (std::size_t i = 0; i < n; ++i) {
            T s = 0;
            for (std::size_t j = 0; j < n; ++j) s += a(i, j) * x[j];
            y[i] = s;
        }
        return y;
    }
    friend bool operator==(const mat& a, const mat& b) { return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin()); }
    friend std::ostream& operator<<(std::ostream& os, const mat& a) {
        os << '[';
        for (std::size_t i = 0; i < a.size(); ++i) {
            os << (i ? ", [" : "[");
            for (std::size_t j = 0; j < a.size(); ++j) os << (j ? ", " : "") << a(i, j);
            os << ']';
        }
        return os << ']';
    }

private:
    detail::square_storage<T, N> s_;
};

template <class T, std::size_t N>
mat<T, N> transpose(const mat<T, N>& a) {
    mat<T, N> out(a.size());
    for (std::size_t i = 0; i < a.size(); ++i)
        for (std::size_t j = 0; j < a.size(); ++j) out(j, i) = a(i, j);
    return out;
}
template <class T, std::size_t N>
T trace(const mat<T, N>& a) {
    T s = 0;
    for (std::size_t i = 0; i < a.size(); ++i) s += a(i, i);
    return s;
}
// ‖A‖₁: the largest column sum of absolute values (the norm the expm thresholds refer to).
template <class T, std::size_t N>
T norm1(const mat<T, N>& a) {
    T best = 0;
    for (std::size_t j = 0; j < a.size(); ++j) {
        T s = 0;
        for (std::size_t i = 0; i < a.size(); ++i) s += std::abs(a(i, j));
        best = std::max(best, s);
    }
    return best;
}
template <class T, std::size_t N>
T frobenius(const mat<T, N>& a) {
    T s = 0;
    for (T v : a) s += v * v;
    return std::sqrt(s);
}
template <class T, std::size_t N>
T max_abs(const mat<T, N>& a) {
    T s = 0;
    for (T v : a) s = std::max(s, std::abs(v));
    return s;
}
// (A + Aᵀ)/2 and (A − Aᵀ)/2.
template <class T, std::size_t N>
mat<T, N> sym_part(const mat<T, N>& a) {
    return (a + transpose(a)) * T(0.5);
}
template <class T, std::size_t N>
mat<T, N> skew_part(const mat<T, N>& a) {
    return (a - transpose(a)) * T(0.5);
}
template <class T, std::size_t N>
bool all_finite(const mat<T, N>& a) {
    return std::all_of(a.begin(), a.end(), [](T v) { return std::isfinite(v); });
}

// LU factorisation with partial pivoting, P A = L U (L unit lower, stored below the diagonal of lu).
template <class T, std::size_t N>
struct lu_factors {
    mat<T, N> lu;
    vec<std::size_t, N> pivot;
    int sign = 1;       // sign of the permutation
    bool singular = false;
};

template <class T, std::size_t N>
lu_factors<T, N> lu_factor(const mat<T, N>& a) {
    const std::size_t n = a.size();
    lu_factors<T, N> f{a, {}, 1, false};
    if constexpr (N == dynamic) f.pivot.assign(n, 0);
    for (std::size_t k = 0; k < n; ++k) {
        std::size_t p = k;
        for (std::size_t i = k + 1; i < n; ++i)
            if (std::abs(f.lu(i, k)) > std::abs(f.lu(p, k))) p = i;
        f.pivot[k] = p;
        if (p != k) {
            for (std::size_t j = 0; j < n; ++j) std::swap(f.lu(k, j), f.lu(p, j));
            f.sign = -f.sign;
        }
        const T d = f.lu(k, k);
        if (d == T(0)) {
            f.singular = true;
            continue;
        }
        for (std::size_t i = k + 1; i < n; ++i) {
            const T m = f.lu(i, k) /= d;
            for (std::size_t j = k + 1; j < n; ++j) f.lu(i, j) -= m * f.lu(k, j);
        }
    }
    return f;
}

template <class T, std::size_t N>
T det(const mat<T, N>& a) {
    if constexpr (N == 1) {
        return a(0, 0);
    } else if constexpr (N == 2) {
        return a(0, 0) * a(1, 1) - a(0, 1) * a(1, 0);
    } else if constexpr (N == 3) {
        return a(0, 0) * (a(1, 1) * a(2, 2) - a(1, 2) * a(2, 1)) - a(0, 1) * (a(1, 0) * a(2, 2) - a(1, 2) * a(2, 0)) +
               a(0, 2) * (a(1, 0) * a(2, 1) - a(1, 1) * a(2, 0));
    } else {
        const auto f = lu_factor(a);
        T d = static_cast<T>(f.sign);
        for (std::size_t i = 0; i < a.size(); ++i) d *= f.lu(i, i);
        return d;
    }
}

// X with A X = B. Throws numerical_error naming `where` if A is singular to working precision.
template <class T, std::size_t N>
mat<T, N> solve(const mat<T, N>& a, mat<T, N> b, const char* where = "lie::solve") {
    const std::size_t n = a.size();
    require<shape_error>(b.size() == n, where, ": right-hand side must be ", n, "x", n, ", got ", b.size(), "x", b.size());
    if constexpr (N == 1) {
        if (!(std::abs(a(0, 0)) > T(0)) || !std::isfinite(a(0, 0))) fail<numerical_error>(where, ": 1x1 matrix is singular (", a(0, 0), ")");
        b(0, 0) /= a(0, 0);
        return b;
    }
    const auto f = lu_factor(a);
    T largest = max_abs(a), smallest_pivot = largest;
    for (std::size_t i = 0; i < n; ++i) smallest_pivot = std::min(smallest_pivot, std::abs(f.lu(i, i)));
    if (f.singular || !(smallest_pivot > largest * std::numeric_limits<T>::epsilon() * T(n)))
        fail<numerical_error>(where, ": matrix is singular to working precision (smallest LU pivot ", smallest_pivot, ", largest entry ", largest, ")");
    for (std::size_t k = 0; k < n; ++k)
        if (f.pivot[k] != k)
            for (std::size_t j = 0; j < n; ++j) std::swap(b(k, j), b(f.pivot[k], j));
    for (std::size_t j = 0; j < n; ++j) {
        for (std::size_t i = 0; i < n; ++i) {
            T s = b(i, j);
            for (std::size_t k = 0; k < i; ++k) s -= f.lu(i, k) * b(k, j);
            b(i, j) = s;
        }
        for (std::size_t ii = n; ii-- > 0;) {
            T s = b(ii, j);
            for (std::size_t k = ii + 1; k < n; ++k) s -= f.lu(ii, k) * b(k, j);
            b(ii, j) = s / f.lu(ii, ii);
        }
    }
    return b;
}

template <class T, std::size_t N>
mat<T, N> inverse(const mat<T, N>& a, const char* where = "lie::inverse") {
    if constexpr (N == 2) {
        const T d = det(a);
        if (!(std::abs(d) > std::numeric_limits<T>::min()) || !std::isfinite(d))
            fail<numerical_error>(where, ": 2x2 matrix is singular (det = ", d, ")");
        return mat<T, 2>{a(1, 1) / d, -a(0, 1) / d, -a(1, 0) / d, a(0, 0) / d};
    } else {
        return solve(a, mat<T, N>::identity(a.size()), where);
    }
}

// Vector helpers used by the groups (tangent vectors are vec<T, K>).
template <class V>
auto dot(const V& a, const V& b) {
    typename V::value_type s = 0;
    for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
    return s;
}
template <class V>
auto norm(const V& a) {
    return std::sqrt(dot(a, a));
}

}  // namespace widenn::lie
