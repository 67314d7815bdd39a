#pragma once
// What a finite network is, for the code that reads one without knowing its type (limit::of, limit::kernel_config_for,
// the feature-learning limit options): nn::FiniteNetwork, composed of small named concepts so that a failed
// constraint names the part that is missing.
#include <concepts>
#include <cstddef>

#include "../core/concepts.hpp"

namespace widenn::nn {

// Where the width-independent constant σ/√base_fan_in of each weight lives.
enum class constants_in {
    init,        // in the initial variance of w (mup / PyTorch style)
    multiplier,  // in the multiplier m (neural-tangents style; with param::ntk this is neural-tangents' NTK parametrization)
};

// The policies a network is instantiated from: an abc-parametrization and an activation.
template <class Net>
concept HasNetworkPolicies = requires {
    typename Net::parametrization;
    typename Net::activation;
    typename Net::value_type;
} && Parametrization<typename Net::parametrization> && Activation<typename Net::activation>;

// The number of hidden layers L, a compile-time constant.
template <class Net>
concept HasDepth = requires {
    { Net::depth } -> std::convertible_to<int>;
} && (Net::depth >= 1);

// The run-time description of the finite network: sizes and where the constants live (nn::mlp_config).
template <class Config>
concept NetworkConfig = requires(const Config& c) {
    { c.d_in } -> std::convertible_to<std::size_t>;
    { c.width } -> std::convertible_to<std::size_t>;
    { c.d_out } -> std::convertible_to<std::size_t>;
    { c.base_width } -> std::convertible_to<std::size_t>;
    { c.bias } -> std::convertible_to<bool>;
    { c.weight_var } -> std::convertible_to<double>;
    { c.bias_var } -> std::convertible_to<double>;
    { c.constants } -> std::convertible_to<constants_in>;
};

// A finite network with policies, a depth and a configuration (nn::mlp<P, A, L, T> is one).
template <class Net>
concept FiniteNetwork = HasNetworkPolicies<Net> && HasDepth<Net> && requires(const Net& net) {
    { net.config() } -> NetworkConfig;
};

}  // namespace widenn::nn
