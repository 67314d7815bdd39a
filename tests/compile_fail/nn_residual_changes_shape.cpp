// nn::residual refuses a block that changes the spatial shape (here a stride-2 conv): x + block(x) is not defined.
// expect: widenn::nn::residual: the block changes the spatial shape
#include <widenn/act/activations.hpp>
#include <widenn/nn/serial.hpp>
namespace nn = widenn::nn;
int main() {
    nn::network<widenn::param::mup, nn::serial<nn::conv<3>, nn::residual<nn::conv<3, 2>, widenn::act::relu>, nn::gap>, float> net(
        {.image = {8, 8, 1}, .width = 4, .d_out = 1});
    (void)net;
}
