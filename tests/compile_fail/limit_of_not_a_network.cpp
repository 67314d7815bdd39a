// expect: needs a finite network type
// limit::of<Net> of something that is not a finite network (here a kernel limit) says what a network must provide.
#include <widenn/act/activations.hpp>
#include <widenn/limit/of.hpp>

int main() {
    using not_a_network = widenn::limit::kernel<widenn::param::ntk, widenn::act::relu, 2>;
    using limit = widenn::limit::of<not_a_network>;
    return sizeof(limit*);
}
