#pragma once
// Run-time choice of the network of a coordinate check (`widenn coord-check`, the Python module's widenn.coord_check):
// a preset, an activation and a depth name one nn::mlp<P, A, L, float>, so every network is fully instantiated.
#include <string>

#include <widenn/act/activations.hpp>
#include <widenn/nn/dynamic.hpp>
#include <widenn/nn/mlp.hpp>
#include <widenn/param/abc.hpp>

#include "cli.hpp"

namespace widenn::cli::coord_checks {

namespace detail {
template <class P, class A, class F>
decltype(auto) with_depth(const std::string& preset, int depth, F&& f) {
    if constexpr (P::max_depth == 1) {
        if (depth != 1) throw usage_error("preset " + preset + " is defined for one hidden layer only; use --depth 1");
        return f.template operator()<widenn::nn::mlp<P, A, 1, float>>();
    } else {
        switch (depth) {
            case 1: return f.template operator()<widenn::nn::mlp<P, A, 1, float>>();
            case 2: return f.template operator()<widenn::nn::mlp<P, A, 2, float>>();
            case 3: return f.template operator()<widenn::nn::mlp<P, A, 3, float>>();
        }
        throw usage_error("--depth must be 1, 2 or 3 (hidden layers), got " + std::to_string(depth));
    }
}

template <class A, class F>
decltype(auto) with_preset(const std::string& preset, int depth, F&& f) {
    namespace p = widenn::param;
    // SP with a width-independent learning rate is unstable (TP4 Thm 4.1); showing that is the point of the check.
    if (preset == "sp") return with_depth<p::allow_unstable<p::standard>, A>(preset, depth, f);
    if (preset == "mup") return with_depth<p::mup, A>(preset, depth, f);
    if (preset == "ntk") return with_depth<p::ntk, A>(preset, depth, f);
    if (preset == "mf") return with_depth<p::mean_field, A>(preset, depth, f);
    throw usage_error("unknown preset '" + preset + "' (choose mup, sp, ntk or mf)");
}
}  // namespace detail

// Calls f.template operator()<Net>() for Net = nn::dynamic_network<P, float> of the named preset (`--arch SPEC`: the
// SPEC is a run-time value, so one network type per preset).
template <class F>
decltype(auto) with_dynamic_network(const std::string& preset, F&& f) {
    namespace p = widenn::param;
    if (preset == "sp") return f.template operator()<widenn::nn::dynamic_network<p::allow_unstable<p::standard>, float>>();
    if (preset == "mup") return f.template operator()<widenn::nn::dynamic_network<p::mup, float>>();
    if (preset == "ntk") return f.template operator()<widenn::nn::dynamic_network<p::ntk, float>>();
    if (preset == "mf") return f.template operator()<widenn::nn::dynamic_network<p::mean_field, float>>();
    throw usage_error("unknown preset '" + preset + "' (choose mup, sp, ntk or mf)");
}

// Calls f.template operator()<Net>() for Net = nn::mlp<P, A, depth, float> of the named preset and activation.
template <class F>
decltype(auto) with_network(const std::string& preset, const std::string& activation, int depth, F&& f) {
    if (activation == "relu") return detail::with_preset<widenn::act::relu>(preset, depth, f);
    if (activation == "tanh") return detail::with_preset<widenn::act::tanh>(preset, depth, f);
    throw usage_error("unknown --act '" + activation + "' (choose relu or tanh)");
}

}  // namespace widenn::cli::coord_checks
