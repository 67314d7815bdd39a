// Uses the installed headers: the umbrella header compiles, and a compile-time fact holds.
#include <iostream>

#include <widenn/widenn.hpp>

namespace wn = widenn;

int main() {
    constexpr auto info = wn::param::classify<wn::param::mup, 3>();
    static_assert(info.stable && info.regime == wn::regime::feature_learning && info.r == wn::rational{0});
    const auto ntk = wn::param::classify<wn::param::ntk, 2>();
    if (ntk.r != wn::rational{1, 2}) {
        std::cerr << "consumer: NTK r should be 1/2, got " << ntk.r << '\n';
        return 1;
    }
    std::cout << "consumer: widenn found and usable\n";
    return 0;
}
