// nn::conv supports strides 1 and 2 and says so for any other.
// expect: widenn::nn::conv<K, S, Pad>: the stride S must be 1 or 2
#include <widenn/act/activations.hpp>
#include <widenn/nn/serial.hpp>
namespace nn = widenn::nn;
int main() {
    nn::network<widenn::param::mup, nn::serial<nn::conv<3, 3>, widenn::act::relu, nn::gap>, float> net(
        {.image = {9, 9, 1}, .width = 4, .d_out = 1});
    (void)net;
}
