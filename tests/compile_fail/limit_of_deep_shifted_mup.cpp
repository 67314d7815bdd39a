// expect: exists only for one-hidden-layer networks
// limit::of<Net> of a deep feature-learning network (here μP shifted by θ = 1/2) names the exact limits that exist.
#include <widenn/act/activations.hpp>
#include <widenn/limit/of.hpp>
#include <widenn/nn/mlp.hpp>

int main() {
    using P = widenn::param::shift<widenn::param::mup, widenn::rational{1, 2}>;
    using limit = widenn::limit::of<widenn::nn::mlp<P, widenn::act::tanh, 3, float>>;
    return sizeof(limit);
}
