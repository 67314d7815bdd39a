// nn::serial accepts layer policies and activations only, and lists them when given something else.
// expect: widenn::nn::serial: a layer must be nn::dense, nn::conv
#include <widenn/nn/serial.hpp>
namespace nn = widenn::nn;
struct not_a_layer {};
int main() {
    nn::network<widenn::param::mup, nn::serial<nn::dense, not_a_layer>, float> net({.d_in = 3, .width = 4, .d_out = 1});
    (void)net;
}
