// A zero denominator in a constant expression does not compile.
// expect: zero denominator
#include <widenn/core/rational.hpp>
template <widenn::rational Q>
struct tag {};
tag<widenn::rational{1, 0}> t;
int main() {}
