#pragma once
// The lazy xtensor forms of an activation policy, in their own header so that including act/ does not pull xtensor's
// function machinery into every translation unit: act::apply<A>(e), act::apply_derivative<A>(e).
#include <concepts>
#include <utility>

#include <xtensor/xmath.hpp>

#include "activations.hpp"

namespace widenn::act {

// Lazy xtensor forms: act::apply<A>(e) is φ applied elementwise to the expression e, act::apply_derivative<A>(e)
// is φ'. Both are unevaluated xfunctions (assign them, e.g. with xt::noalias, to evaluate).

namespace detail {
template <class A>
struct value_functor {
    template <std::floating_point T>
    T operator()(T x) const { return A::value(x); }
};
template <class A>
struct derivative_functor {
    template <std::floating_point T>
    T operator()(T x) const { return A::derivative(x); }
};
}  // namespace detail

template <class A, class E>
auto apply(E&& e) {
    static_assert(check_activation<A>());
    return xt::make_lambda_xfunction(detail::value_functor<A>{}, std::forward<E>(e));
}

template <class A, class E>
auto apply_derivative(E&& e) {
    static_assert(check_activation<A>());
    return xt::make_lambda_xfunction(detail::derivative_functor<A>{}, std::forward<E>(e));
}

}  // namespace widenn::act
