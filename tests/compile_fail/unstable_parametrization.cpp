// The PyTorch-default standard parametrization is unstable under TP4: the guard names condition 5.
// expect: TP4 stability condition 5 fails
#include <widenn/param/classify.hpp>
static_assert(widenn::param::require_stable<widenn::param::standard, 2>());
int main() {}
