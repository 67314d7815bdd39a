// A closed-form dual written for double only is rejected when a float kernel asks for it, with a sentence.
// expect: closed-form dual must be `template <class T> static dual_value<T> dual
#include <string_view>

#include <widenn/act/dual.hpp>
struct half_relu {
    static constexpr std::string_view name = "half_relu";
    template <class T>
    static T value(T x) { return x > T(0) ? x / 2 : T(0); }
    template <class T>
    static T derivative(T x) { return x > T(0) ? T(0.5) : T(0); }
    static widenn::act::dual_value<double> dual(double q11, double q12, double q22) {
        const auto r = widenn::act::relu::dual(q11, q12, q22);
        return {r.value / 4, r.derivative / 4};
    }
};
int main() { return static_cast<int>(widenn::act::dual<half_relu>(1.0f, 0.5f, 1.0f).value); }
