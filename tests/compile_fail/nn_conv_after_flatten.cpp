// nn::network refuses a conv layer after flatten (the signal is a vector there) and says which layer and why.
// expect: widenn::nn::conv: this conv layer comes after flatten or gap
#include <widenn/act/activations.hpp>
#include <widenn/nn/serial.hpp>
namespace nn = widenn::nn;
int main() {
    nn::network<widenn::param::mup, nn::serial<nn::conv<3>, widenn::act::relu, nn::flatten, nn::conv<3>, nn::gap>, float> net(
        {.image = {8, 8, 1}, .width = 4, .d_out = 1});
    (void)net;
}
