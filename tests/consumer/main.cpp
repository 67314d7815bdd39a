// A downstream program using the installed headers: the umbrella header compiles together with
// xtensor-blas, a compile-time fact holds, and a finite network agrees with its kernel limit's shape; widenn::io
// (the file formats, with zlib) links.
#include <iostream>

#include <widenn/io/npy.hpp>
#include <widenn/widenn.hpp>
#include <xtensor-blas/xlinalg.hpp>

namespace wn = widenn;

int main() {
    constexpr auto info = wn::param::classify<wn::param::mup, 3>();
    static_assert(info.stable && info.regime == wn::regime::feature_learning && info.r == wn::rational{0});
    const auto ntk = wn::param::classify<wn::param::ntk, 2>();
    if (ntk.r != wn::rational{1, 2}) {
        std::cerr << "consumer: NTK r should be 1/2, got " << ntk.r << '\n';
        return 1;
    }
    // relu's dual at q11 = q22 = 1, rho = 0: T = 1/(2 pi), Tdot = 1/4 (Cho & Saul 2009).
    const auto d = wn::act::dual<wn::act::relu>(1.0, 0.0, 1.0);
    xt::xtensor<double, 2> m = {{2.0, 0.0}, {0.0, 3.0}};
    if (std::abs(d.derivative - 0.25) > 1e-15 || std::abs(xt::linalg::det(m) - 6.0) > 1e-12) {
        std::cerr << "consumer: unexpected values\n";
        return 1;
    }
    // widenn::io: an .npy round trip through a file (exact).
    const std::string path = "consumer_roundtrip.npy";
    wn::io::write_npy(path, m);
    if (wn::io::read_npy_matrix<double>(path) != m) {
        std::cerr << "consumer: .npy round trip changed the matrix\n";
        return 1;
    }
    std::cout << "consumer: widenn found and usable\n";
    return 0;
}
