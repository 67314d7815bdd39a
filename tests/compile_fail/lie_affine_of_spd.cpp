// affine<H> needs a matrix group: spd<N> uses the log-Euclidean product and must be rejected with a sentence.
// expect: H must be a matrix group
#include <widenn/lie/affine.hpp>
#include <widenn/lie/spd.hpp>

int main() {
    widenn::lie::affine<widenn::lie::spd<2>> g;
    return static_cast<int>(g.dof);
}
