// An equivariant layer over a group that does not act on the plane is rejected with a sentence.
// expect: the structure group H must be lie::so<2>, lie::sl<2> or lie::gl_plus<2>
#include <widenn/equivariant/group_conv.hpp>

int main() {
    widenn::equivariant::lifting<widenn::lie::so<3>, float> layer({});
    (void)layer;
}
