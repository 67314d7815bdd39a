// expect: this parametrization is unstable
// limit::of<Net> of a network built with an unstable parametrization (opted in) says it has no infinite-width limit.
#include <widenn/act/activations.hpp>
#include <widenn/limit/of.hpp>
#include <widenn/nn/mlp.hpp>

int main() {
    using net = widenn::nn::mlp<widenn::param::allow_unstable<widenn::param::standard>, widenn::act::relu, 2, double>;
    using limit = widenn::limit::of<net>;
    return sizeof(limit);
}
