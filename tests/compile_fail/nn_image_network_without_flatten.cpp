// nn::network refuses an image network whose layers do not end in flatten or gap before the readout.
// expect: widenn::nn::network: the layers use images \(conv, avgpool\) but do not end in flatten or gap
#include <widenn/act/activations.hpp>
#include <widenn/nn/serial.hpp>
namespace nn = widenn::nn;
int main() {
    nn::network<widenn::param::mup, nn::serial<nn::conv<3>, widenn::act::relu, nn::avgpool<2>>, float> net(
        {.image = {8, 8, 1}, .width = 4, .d_out = 1});
    (void)net;
}
