// Adding an activation to widenn: one small struct. This program is the example of docs/activations.md.
#include <cmath>
#include <cstdio>
#include <string_view>

#include <widenn/act/dual.hpp>
#include <widenn/act/xtensor.hpp>

#include "cli/cli.hpp"

namespace act = widenn::act;

// Swish / SiLU, φ(x) = x·σ(x). value and derivative are all widenn needs: act::dual integrates the dual kernel
// by Gauss–Hermite quadrature, act::apply maps it over tensors, and networks backpropagate with derivative.
struct swish {
    static constexpr std::string_view name = "swish";
    template <class T>
    static T value(T x) { return x * act::sigmoid::value(x); }
    template <class T>
    static T derivative(T x) {
        const T s = act::sigmoid::value(x);
        return s + x * s * (T(1) - s);
    }
};

// A scaled ReLU with its closed-form dual: adding `dual` makes act::dual use it instead of quadrature.
// √2·max(x, 0) keeps E[φ(u)²] = q (He et al. 2015 initialisation); T = 2·T_relu, Ṫ = 2·Ṫ_relu.
struct he_relu {
    static constexpr std::string_view name = "he_relu";
    template <class T>
    static T value(T x) { return x > T(0) ? std::sqrt(T(2)) * x : T(0); }
    template <class T>
    static T derivative(T x) { return x > T(0) ? std::sqrt(T(2)) : T(0); }
    template <class T>
    static act::dual_value<T> dual(T q11, T q12, T q22) {
        const auto r = act::relu::dual(q11, q12, q22);
        return {2 * r.value, 2 * r.derivative};
    }
};

int print_duals() {
    static_assert(!act::has_closed_form_dual<swish>);
    static_assert(act::has_closed_form_dual<he_relu>);
    std::printf("%-8s %6s %12s %12s\n", "phi", "rho", "T", "Tdot");
    for (double rho : {0.0, 0.5, 0.9}) {
        const auto s = act::dual<swish>(1.0, rho, 1.0);   // quadrature, degree act::default_quadrature_degree
        const auto h = act::dual<he_relu>(1.0, rho, 1.0); // closed form
        std::printf("%-8s %6.2f %12.8f %12.8f\n", "swish", rho, s.value, s.derivative);
        std::printf("%-8s %6.2f %12.8f %12.8f\n", "he_relu", rho, h.value, h.derivative);
    }
    return 0;
}

int main(int argc, char** argv) {
    return widenn::cli::run_program("custom_activation",
                                    "usage: custom_activation\n"
                                    "Prints the dual kernel T and its derivative Tdot at correlations 0, 0.5 and 0.9 for two activations\n"
                                    "defined here: swish (by Gauss-Hermite quadrature) and he_relu (by its closed form). No options.\n",
                                    argc, argv, [](widenn::cli::args& a) {
                                        a.reject_unknown();
                                        return print_duals();
                                    });
}
