// expect: exists only for one-hidden-layer networks
// limit::of<Net> of a μP convolutional network keeps the feature-learning refusal: no exact limit exists for it.
#include <widenn/act/activations.hpp>
#include <widenn/limit/of.hpp>
#include <widenn/nn/serial.hpp>

int main() {
    namespace nn = widenn::nn;
    using net = nn::network<widenn::param::mup, nn::serial<nn::conv<3>, widenn::act::relu, nn::conv<3>, widenn::act::relu, nn::gap>, float>;
    using limit = widenn::limit::of<net>;
    return sizeof(limit);
}
