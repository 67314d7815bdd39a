// expect: this parametrization is trivial
// limit::of<Net> of a stable but trivial parametrization (the readout is too small to ever move the output).
#include <widenn/act/activations.hpp>
#include <widenn/limit/of.hpp>
#include <widenn/nn/mlp.hpp>

struct tiny_readout : widenn::param::abc<widenn::layer_exponents{0, 0, 0, 0}, widenn::layer_exponents{{1, 2}, 0, 0, 0},
                                         widenn::layer_exponents{1, 0, 0, 0}> {};

int main() {
    using net = widenn::nn::mlp<tiny_readout, widenn::act::relu, 2, double>;
    using limit = widenn::limit::of<net>;
    return sizeof(limit);
}
