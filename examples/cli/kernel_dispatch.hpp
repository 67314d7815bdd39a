#pragma once
// Run-time choice of activation and parametrization for the kernel commands (`widenn kernel`, `widenn regress`, the
// tour): each name maps to one compile-time policy, so every kernel loop is still fully instantiated.
#include <cstdio>
#include <string>
#include <utility>

#include <widenn/act/activations.hpp>
#include <widenn/act/depth_optimal.hpp>
#include <widenn/limit/kernel.hpp>
#include <widenn/param/abc.hpp>

#include "cli.hpp"

namespace widenn::cli::kernels {

// The options of --arch other than the SPEC: the SPEC names every layer (--act and --depth are refused), --param is
// neural-tangents' ntk or standard, and --width goes with standard only. For widenn kernel and both regress commands.
inline limit::parametrization_kind arch_parametrization(args& a) {
    for (const char* replaced : {"act", "depth"})
        if (a.has(replaced))
            throw usage_error(std::string("--") + replaced + " does not apply with --arch: the SPEC names every layer (e.g. --arch "
                              "conv:3,relu,conv:3,relu,flatten)");
    const std::string param = a.text("param", "ntk");
    if (param != "ntk" && param != "standard")
        throw usage_error("--arch computes neural-tangents' two parametrizations: --param ntk or --param standard, got '" + param + "'");
    if (param == "ntk" && a.has("width"))
        throw usage_error("--width applies to --param standard only (the NTK parametrization's kernels do not depend on the width)");
    return param == "standard" ? limit::parametrization_kind::standard : limit::parametrization_kind::ntk;
}

inline const char* activation_names = "relu, abs, leaky_relu (slope 0.01), erf, sigmoid_like, gelu, tanh (quadrature), "
                                      "softplus (quadrature), sin, identity, opt_3d";

// Calls f.template operator()<A>() for the activation named `name`.
template <class F>
decltype(auto) with_activation(const std::string& name, F&& f) {
    namespace a = widenn::act;
    if (name == "relu") return f.template operator()<a::relu>();
    if (name == "abs") return f.template operator()<a::abs>();
    if (name == "leaky_relu") return f.template operator()<a::leaky_relu<0.01>>();
    if (name == "erf") return f.template operator()<a::erf<>>();
    if (name == "sigmoid_like") return f.template operator()<a::sigmoid_like>();
    if (name == "gelu") return f.template operator()<a::gelu>();
    if (name == "tanh") return f.template operator()<a::tanh>();
    if (name == "softplus") return f.template operator()<a::softplus>();
    if (name == "sin") return f.template operator()<a::sin<>>();
    if (name == "identity") return f.template operator()<a::identity>();
    if (name == "opt_3d") return f.template operator()<a::opt_3d>();
    throw usage_error("--act: unknown activation '" + name + "' (choose from " + activation_names + ")");
}

// Calls f.template operator()<P>() for "ntk" (param::ntk) or "standard" (param::standard_lr_1_over_n, whose kernel is
// neural-tangents' standard-parametrization kernel at the given width).
template <class F>
decltype(auto) with_parametrization(const std::string& name, F&& f) {
    if (name == "ntk") return f.template operator()<widenn::param::ntk>();
    if (name == "standard") return f.template operator()<widenn::param::standard_lr_1_over_n>();
    throw usage_error("--param must be ntk or standard, got '" + name + "'");
}

// A progress line on stderr, updated at most every whole percent.
inline std::function<void(double)> progress_printer(std::string label) {
    return [label = std::move(label), last = -1](double fraction) mutable {
        const int percent = static_cast<int>(fraction * 100);
        if (percent == last) return;
        last = percent;
        std::fprintf(stderr, "\r%s: %3d%%%s", label.c_str(), percent, percent == 100 ? "\n" : "");
        std::fflush(stderr);
    };
}

}  // namespace widenn::cli::kernels
