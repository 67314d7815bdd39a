// expect: is not in the kernel regime
// limit::kernel_config_for(net) of a μP convolutional network: no kernel limit to configure.
#include <widenn/act/activations.hpp>
#include <widenn/limit/of.hpp>
#include <widenn/nn/serial.hpp>

int main() {
    namespace nn = widenn::nn;
    nn::network<widenn::param::mup, nn::serial<nn::conv<3>, widenn::act::relu, nn::gap>, double> net(
        {.image = {4, 4, 1}, .width = 8, .d_out = 1});
    return static_cast<int>(widenn::limit::kernel_config_for(net).width);
}
