// The infinite-width relative representation is the normalised NNGP: a μP (feature-learning) network type is refused.
// expect: infinite_width_relative<Net> needs a network in the kernel regime
#include <widenn/act/activations.hpp>
#include <widenn/geometry/relative.hpp>
#include <widenn/nn/mlp.hpp>
int main() {
    using net = widenn::nn::mlp<widenn::param::mup, widenn::act::relu, 1, double>;
    const widenn::matrix<double> x = widenn::normal_matrix(3, 2, 1);
    return static_cast<int>(widenn::geometry::infinite_width_relative<net>(x, x)(0, 0));
}
