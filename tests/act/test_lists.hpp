#pragma once
// Activation lists and covariance settings shared by the act test translation units.
#include <cmath>
#include <numbers>
#include <string>
#include <type_traits>

#include <widenn/act/dual.hpp>

namespace widenn::act::testing {

template <class... A>
struct activation_list {};

// Calls f(std::type_identity<A>{}, index) for each A in the list.
template <class... A, class F>
void for_each(activation_list<A...>, F&& f) {
    int index = 0;
    (f(std::type_identity<A>{}, index++), ...);
}

inline constexpr double half_pi = std::numbers::pi / 2;

// Every activation with a closed-form dual (several parameter choices for the parametrised ones).
using closed_forms = activation_list<identity, relu, abrelu<-0.3, 2.0>, leaky_relu<0.1>, abs, sign, erf<>, erf<0.7, 1.3, 0.4>,
                                     sigmoid_like, gelu, sin<>, sin<1.2, 0.9, 0.3>, cos, sin<1.0, 1.0, half_pi>, rbf<0.7>, exp,
                                     scaled_exp<0.8, 0.6>, gaussian, scaled_gaussian<1.1, -0.4>, monomial<0>, monomial<1>,
                                     monomial<2>, monomial<3>, monomial<5>, hermite<0>, hermite<1>, hermite<3>, hermite<4>,
                                     polynomial<0.3, -0.5, 0.25, 0.1, -0.05>>;

// The smooth subset: quadrature converges geometrically for these.
using smooth_closed_forms = activation_list<identity, erf<>, erf<0.7, 1.3, 0.4>, sigmoid_like, gelu, sin<>, sin<1.2, 0.9, 0.3>, cos,
                                            sin<1.0, 1.0, half_pi>, rbf<0.7>, exp, scaled_exp<0.8, 0.6>, gaussian,
                                            scaled_gaussian<1.1, -0.4>, monomial<0>, monomial<1>, monomial<2>, monomial<3>,
                                            monomial<5>, hermite<0>, hermite<1>, hermite<3>, hermite<4>,
                                            polynomial<0.3, -0.5, 0.25, 0.1, -0.05>>;

// Kinked: closed forms are checked against Monte Carlo only.
using kinked = activation_list<relu, abrelu<-0.3, 2.0>, leaky_relu<0.1>, abs, sign>;

// Without a closed form (act::dual uses quadrature).
using quadrature_only = activation_list<tanh, sigmoid, softplus>;

using everything = activation_list<identity, relu, abrelu<-0.3, 2.0>, leaky_relu<0.1>, abs, sign, erf<>, erf<0.7, 1.3, 0.4>,
                                   sigmoid_like, gelu, tanh, softplus, sigmoid, sin<>, sin<1.2, 0.9, 0.3>, cos, rbf<0.7>, exp,
                                   scaled_exp<0.8, 0.6>, gaussian, scaled_gaussian<1.1, -0.4>, monomial<0>, monomial<1>,
                                   monomial<2>, monomial<3>, monomial<5>, hermite<0>, hermite<1>, hermite<2>, hermite<3>,
                                   hermite<5>, polynomial<0.3, -0.5, 0.25, 0.1, -0.05>>;

struct covariance {
    double q11, q12, q22;
    const char* what;
};

inline std::string label(std::string_view name, int index) { return std::string(name) + " (#" + std::to_string(index) + ")"; }

}  // namespace widenn::act::testing
