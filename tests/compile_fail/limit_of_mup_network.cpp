// expect: limit::mup_linear
// limit::of<Net> of a μP network names the feature-learning limits (or is fl's type once that branch provides one).
#include <widenn/act/activations.hpp>
#include <widenn/limit/of.hpp>
#include <widenn/nn/mlp.hpp>

int main() {
    using net = widenn::nn::mlp<widenn::param::mup, widenn::act::relu, 2, float>;
    using limit = widenn::limit::of<net>;
    return sizeof(limit);
}
