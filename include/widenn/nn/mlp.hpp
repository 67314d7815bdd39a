#pragma once
// A finite-width multilayer perceptron under any abc-parametrization (Yang & Hu 2020, "Tensor
// Programs IV", §3), in the base-width form of "Tensor Programs V" (Yang et al. 2022, Eq. 4) so
// that μP equals the standard parametrization at width = base width.
//
//   h^1 = W^1 ξ + b^1,  x^l = φ(h^l),  h^{l+1} = W^{l+1} x^l + b^{l+1},  f = h^{L+1}
//
// nn::mlp<P, A, L, T> is the composition nn::network<P, nn::serial<nn::dense, A, ..., nn::dense, A>, T> ((dense, A)
// L times, then the readout; nn/serial.hpp) with nn::mlp_config and the MLP's names for its layers: it has no numerics
// of its own. Every trainable tensor p is stored as p = m · w with a scalar multiplier m and trainable w.
// With ñ = width / base_width and per-layer exponents (a, b, c, c_adam) from the policy P
// (input layer for W^1, hidden for W^2..W^L, output for W^{L+1}):
//   constants_in::init        W = ñ^{-a} w,                 w ~ N(0, σ²/base_fan_in · ñ^{-2b})
//   constants_in::multiplier  W = √(σ²/base_fan_in) ñ^{-a} w,  w ~ N(0, ñ^{-2b})
//   SGD learning rate on w: η ñ^{-c}; Adam: η ñ^{-c_adam}.
// base_fan_in is d_in for W^1 and base_width for the other weights. Hidden biases b^1..b^L use the
// input-layer exponents, σ_b² and base_fan_in 1 (a bias has one infinite dimension and fan_in 1,
// TP5 Table 3). The readout bias b^{L+1} has no infinite dimension (its fan_out is d_out), so its
// width ratio is 1 and its initialisation and learning rate do not depend on width, as in the
// `mup` package (a tensor's width multiplier is that of its infinite dimensions).
//
// Weight layer l draws its weight from rng::stream(seed, 2l) and its bias from rng::stream(seed, 2l + 1). All batch
// work goes through BLAS GEMM into buffers that are allocated on the first call at a given batch size and reused.
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "../core/checked.hpp"
#include "../core/concepts.hpp"
#include "../core/errors.hpp"
#include "../param/classify.hpp"
#include "network.hpp"
#include "serial.hpp"

namespace widenn::nn {

struct mlp_config {
    std::size_t d_in = 0;
    std::size_t width = 0;
    std::size_t d_out = 0;
    std::size_t base_width = 0;  // 0 means base_width = width (so ñ = 1)
    bool bias = true;
    bool zero_readout = false;   // W^{L+1} = 0 and b^{L+1} = 0 at initialisation (mup's readout_zero_init)
    double weight_var = 1.0;     // σ²
    double bias_var = 0.0;       // σ_b²; 0 keeps trainable zero-initialised biases
    constants_in constants = constants_in::init;
    std::uint64_t seed = 0;
};

namespace detail {

// serial<dense, A, ..., dense, A> with L pairs.
template <class A, int L, class... Ls>
struct mlp_layers {
    using type = typename mlp_layers<A, L - 1, dense, A, Ls...>::type;
};
template <class A, class... Ls>
struct mlp_layers<A, 0, Ls...> {
    using type = serial<Ls...>;
};

// The MLP's sizes checked (before any allocation: a width of 2^62 is an error, not a heap overflow) and base_width
// resolved (0: the width).
template <class T>
mlp_config checked_mlp_config(mlp_config c, int L) {
    require(c.d_in > 0 && c.width > 0 && c.d_out > 0, "nn::mlp: d_in, width and d_out must be positive, got d_in = ", c.d_in,
            ", width = ", c.width, ", d_out = ", c.d_out);
    if (c.base_width == 0) c.base_width = c.width;
    constexpr std::size_t size_limit = std::size_t{1} << 32;  // keeps the sums below exact in 64 bits
    require(c.width <= size_limit && c.d_in <= size_limit && c.d_out <= size_limit, "nn::mlp: d_in, width and d_out must be at most 2^32, got d_in = ",
            c.d_in, ", width = ", c.width, ", d_out = ", c.d_out);
    const std::size_t n = c.width, hidden = static_cast<std::size_t>(L - 1);
    const std::size_t parameters = checked_product({c.d_in + 1 + hidden * (n + 1) + c.d_out, n}, "nn::mlp") + c.d_out;
    require_memory(checked_product({parameters, 2 * sizeof(T)}, "nn::mlp"), widenn::detail::concat("nn::mlp of width ", n), "use a smaller width");
    require(c.weight_var > 0 && std::isfinite(c.weight_var), "nn::mlp: weight_var must be positive and finite, got ", c.weight_var);
    require(c.bias_var >= 0 && std::isfinite(c.bias_var), "nn::mlp: bias_var must be >= 0 and finite, got ", c.bias_var);
    return c;
}

inline network_config network_config_of(const mlp_config& c) {
    network_config n;
    n.d_in = c.d_in;
    n.width = c.width;
    n.d_out = c.d_out;
    n.base_width = c.base_width;
    n.bias = c.bias;
    n.zero_readout = c.zero_readout;
    n.weight_var = c.weight_var;
    n.bias_var = c.bias_var;
    n.constants = c.constants;
    n.seed = c.seed;
    return n;
}

}  // namespace detail

template <class A, int L>
using mlp_layers = typename detail::mlp_layers<A, L>::type;

// L = number of hidden layers, T = float or double.
// Note: the activation policy is the member type `activation`, so the post-activations x^l are
// read with post_activation(l) (a member function cannot share the type's name).
template <Parametrization P, class A, int L, class T = float>
class mlp : public network<P, mlp_layers<A, L>, T> {
    static_assert(check_activation<A>());
    static_assert(Activation<A>, "widenn::nn::mlp: the activation policy must provide value(x) and derivative(x) for float and double");
    static_assert(L >= 1, "widenn::nn::mlp: the number of hidden layers L must be at least 1");
    static_assert(param::require_stable<P, L>());
    static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "widenn::nn::mlp: the value type must be float or double (BLAS)");
    using base = network<P, mlp_layers<A, L>, T>;

public:
    using activation = A;
    static constexpr int depth = L;

    explicit mlp(const mlp_config& config) : mlp(detail::checked_mlp_config<T>(config, L), 0) {}

    const mlp_config& config() const { return config_; }
    double width_ratio() const { return static_cast<double>(config_.width) / static_cast<double>(config_.base_width); }  // ñ

    // h^l for l = 1..L+1 (h^{L+1} is the output) and x^l = φ(h^l) for l = 1..L, from the last forward (batch x fan_out(l)).
    auto preactivation(int l) const {
        require(this->batch() > 0, "nn::mlp::preactivation: call forward first");
        require<shape_error>(l >= 1 && l <= L + 1, "nn::mlp::preactivation: layer must be in 1..", L + 1, ", got ", l);
        return output_view(static_cast<std::size_t>(l == L + 1 ? 2 * L + 1 : 2 * l - 1), l);
    }
    auto post_activation(int l) const {
        require(this->batch() > 0, "nn::mlp::post_activation: call forward first");
        require(l >= 1 && l <= L, "nn::mlp::post_activation: layer must be in 1..", L, ", got ", l);
        return output_view(static_cast<std::size_t>(2 * l), l);
    }

    // The coordinates of a coordinate check: h1, x1, ..., hL, xL, out.
    static std::vector<std::string> output_names() {
        std::vector<std::string> names;
        for (int l = 1; l <= L; ++l)
            for (const char kind : {'h', 'x'}) {
                std::string name(1, kind);  // appended: GCC 12's -Wrestrict misfires on "h" + std::to_string(l)
                name += std::to_string(l);
                names.push_back(std::move(name));
            }
        names.push_back("out");
        return names;
    }
    template <class F>
    void for_each_output(F&& f) const {
        const auto names = output_names();
        std::size_t i = 0;
        base::for_each_output([&](const std::string&, const T* p, std::size_t n) { f(names[i++], p, n); });
    }

private:
    mlp(const mlp_config& checked, int) : base(detail::network_config_of(checked)), config_(checked) {}

    auto output_view(std::size_t i, int l) const {
        const std::size_t cols = this->fan_out(l);
        return xt::adapt(this->layer_output(i), this->batch() * cols, xt::no_ownership(), std::array<std::size_t, 2>{this->batch(), cols});
    }

    mlp_config config_;
};

}  // namespace widenn::nn
