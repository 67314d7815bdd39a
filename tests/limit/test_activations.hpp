#pragma once
// TEMPORARY stand-ins for act::relu / act::erf<> until branch act is merged (same interface, formulas from
// kernel-limits.md §2), so that the kernel tests run meanwhile.
#include <cmath>
#include <numbers>
#include <string_view>

#include <widenn/limit/kernel.hpp>

namespace test_act {
struct relu {
    static constexpr std::string_view name = "relu";
    template <class T> static T value(T x) { return x > 0 ? x : T(0); }
    template <class T> static T derivative(T x) { return x > 0 ? T(1) : T(0); }
    template <class T> static widenn::act::dual_value<T> dual(T q11, T q12, T q22) {
        const T delta = std::sqrt(std::max(q11 * q22 - q12 * q12, T(0)));
        const T theta = std::atan2(delta, q12);
        const T pi = std::numbers::pi_v<T>;
        return {(delta + (pi - theta) * q12) / (2 * pi), (pi - theta) / (2 * pi)};
    }
};
struct erf {
    static constexpr std::string_view name = "erf";
    template <class T> static T value(T x) { return std::erf(x); }
    template <class T> static T derivative(T x) { return 2 / std::sqrt(std::numbers::pi_v<T>) * std::exp(-x * x); }
    template <class T> static widenn::act::dual_value<T> dual(T q11, T q12, T q22) {
        const T pi = std::numbers::pi_v<T>;
        const T p = (1 + 2 * q11) * (1 + 2 * q22);
        const T root = std::sqrt(std::max(p - 4 * q12 * q12, T(0)));
        return {2 / pi * std::atan2(2 * q12, root), 4 / (pi * root)};
    }
};
struct identity {
    static constexpr std::string_view name = "identity";
    template <class T> static T value(T x) { return x; }
    template <class T> static T derivative(T) { return T(1); }
    template <class T> static widenn::act::dual_value<T> dual(T, T q12, T) { return {q12, T(1)}; }
};
}  // namespace test_act
