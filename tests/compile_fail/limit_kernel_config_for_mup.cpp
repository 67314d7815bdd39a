// expect: is not in the kernel regime
// limit::kernel_config_for(net) of a feature-learning network points to its limit and the options that configure it.
#include <widenn/act/activations.hpp>
#include <widenn/limit/of.hpp>
#include <widenn/nn/mlp.hpp>

int main() {
    widenn::nn::mlp<widenn::param::mup, widenn::act::relu, 2, double> net({.d_in = 2, .width = 8, .d_out = 1});
    return static_cast<int>(widenn::limit::kernel_config_for(net).width);
}
