// nn::mlp refuses the PyTorch-default standard parametrization (unstable, TP4 Thm 4.1) and names the failed condition.
// expect: TP4 stability condition 5 fails
#include <widenn/nn/mlp.hpp>
struct linear {
    template <class T>
    static T value(T x) { return x; }
    template <class T>
    static T derivative(T) { return T(1); }
};
int main() {
    widenn::nn::mlp<widenn::param::standard, linear, 2, double> net({.d_in = 1, .width = 4, .d_out = 1});
    (void)net;
}
