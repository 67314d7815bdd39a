// expect: P = widenn::param::mup;
// Presets are named types, so a compiler message about a preset names it (not its list of rational exponents).
#include <widenn/act/activations.hpp>
#include <widenn/limit/kernel.hpp>

int main() {
    using kernel = widenn::limit::kernel<widenn::param::mup, widenn::act::relu, 3>;
    return kernel::depth;
}
