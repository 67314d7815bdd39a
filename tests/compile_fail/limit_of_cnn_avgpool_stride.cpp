// expect: with a stride S other than its window K has no kernel here
// limit::of<Net> of a composition with a layer the kernel side has no form for names the layer at compile time.
#include <widenn/act/activations.hpp>
#include <widenn/limit/of.hpp>
#include <widenn/nn/serial.hpp>

int main() {
    namespace nn = widenn::nn;
    using net = nn::network<widenn::param::ntk, nn::serial<nn::conv<3>, widenn::act::relu, nn::avgpool<2, 1>, nn::flatten>, double>;
    using limit = widenn::limit::of<net>;
    return static_cast<int>(limit::text().size());
}
