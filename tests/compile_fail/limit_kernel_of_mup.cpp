// expect: learns features
// Asking for the kernel limit of a μP network is a compile error that points to the feature-learning limits.
#include <widenn/act/activations.hpp>
#include <widenn/limit/kernel.hpp>

int main() {
    using kernel = widenn::limit::kernel<widenn::param::mup, widenn::act::relu, 2>;
    return kernel::depth;
}
