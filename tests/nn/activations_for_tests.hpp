#pragma once
// Stand-ins with the interface of include/widenn/act/activations.hpp (value, derivative), used
// until branch `act` is merged; the tests only need φ and φ'.
#include <cmath>
#include <numbers>
#include <string_view>

namespace nn_test {

struct identity {
    static constexpr std::string_view name = "identity";
    template <class T> static T value(T x) { return x; }
    template <class T> static T derivative(T) { return T(1); }
};
struct relu {
    static constexpr std::string_view name = "relu";
    template <class T> static T value(T x) { return x > T(0) ? x : T(0); }
    template <class T> static T derivative(T x) { return x > T(0) ? T(1) : T(0); }
};
struct tanh {
    static constexpr std::string_view name = "tanh";
    template <class T> static T value(T x) { return std::tanh(x); }
    template <class T> static T derivative(T x) { const T t = std::tanh(x); return T(1) - t * t; }
};
struct erf {
    static constexpr std::string_view name = "erf";
    template <class T> static T value(T x) { return std::erf(x); }
    template <class T> static T derivative(T x) { return T(2) / std::sqrt(std::numbers::pi_v<T>) * std::exp(-x * x); }
};
struct gelu {
    static constexpr std::string_view name = "gelu";
    template <class T> static T value(T x) { return x * T(0.5) * std::erfc(-x / std::numbers::sqrt2_v<T>); }
    template <class T> static T derivative(T x) {
        return T(0.5) * std::erfc(-x / std::numbers::sqrt2_v<T>) + x * std::exp(-x * x / T(2)) / std::sqrt(T(2) * std::numbers::pi_v<T>);
    }
};

}  // namespace nn_test
