// Rational arithmetic that overflows 64 bits in a constant expression does not compile.
// expect: overflows 64 bits
#include <cstdint>

#include <widenn/core/rational.hpp>
template <widenn::rational Q>
struct tag {};
tag<widenn::rational{INT64_MAX, 3} + widenn::rational{1, 5}> t;
int main() {}
