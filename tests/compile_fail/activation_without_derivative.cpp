// An activation policy without derivative is rejected with a sentence saying what is missing.
// expect: needs `template <class T> static T derivative\(T x\)`
#include <widenn/core/concepts.hpp>
struct square {
    template <class T>
    static T value(T x) { return x * x; }
};
static_assert(widenn::check_activation<square>());
int main() {}
