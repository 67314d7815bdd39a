#pragma once
// Shared helpers for the lie tests.
#include <cmath>
#include <cstddef>

#include <widenn/core/rng.hpp>
#include <widenn/lie/matrix.hpp>

namespace lie_test {

template <class T, std::size_t N>
T rel_err(const widenn::lie::mat<T, N>& a, const widenn::lie::mat<T, N>& b) {
    return widenn::lie::max_abs(a - b) / std::max(T(1e-30), widenn::lie::max_abs(b));
}
template <class T, std::size_t N>
T abs_err(const widenn::lie::mat<T, N>& a, const widenn::lie::mat<T, N>& b) {
    return widenn::lie::max_abs(a - b);
}
template <class V>
double vec_err(const V& a, const V& b) {
    double e = 0;
    for (std::size_t i = 0; i < a.size(); ++i) e = std::max(e, std::abs(static_cast<double>(a[i]) - static_cast<double>(b[i])));
    return e;
}
template <class T, std::size_t N>
widenn::lie::mat<T, N> random_matrix(widenn::rng& r, double scale = 1.0, std::size_t n = N) {
    widenn::lie::mat<T, N> m(n);
    for (auto& x : m) x = static_cast<T>(scale * r.normal());
    return m;
}
template <class V>
V negated(V v) {
    for (auto& x : v) x = -x;
    return v;
}
template <class V>
V random_vector(widenn::rng& r, double scale = 1.0) {
    V v{};
    for (auto& x : v) x = static_cast<typename V::value_type>(scale * r.normal());
    return v;
}

}  // namespace lie_test
