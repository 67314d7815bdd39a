// limit::kernel: closed forms, identities, symmetry/PSD, stability at depth, blocks, errors.
#include <doctest/doctest.h>

#include <cmath>
#include <numbers>

#include <widenn/core/rng.hpp>
#include <widenn/limit/kernel.hpp>
#include <widenn/limit/solvers.hpp>

#include "test_activations.hpp"

namespace wn = widenn;
namespace lim = widenn::limit;
using wn::matrix;

namespace {
matrix<double> random_inputs(std::size_t n, std::size_t d, std::uint64_t seed) {
    wn::rng g(seed);
    matrix<double> x = xt::empty<double>({n, d});
    for (auto& v : x) v = g.normal();
    return x;
}
// A plain transcription of neural-tangents' recursion for one pair (kernel-limits.md §1), independent of the tiled code.
template <class A>
std::pair<double, double> reference_pair(const double* x, const double* y, std::size_t d, int depth, double wv, double bv,
                                         bool ntk_param, double width = 0, bool bias = true) {
    double k11 = 0, k12 = 0, k22 = 0;
    for (std::size_t i = 0; i < d; ++i) k11 += x[i] * x[i], k12 += x[i] * y[i], k22 += y[i] * y[i];
    k11 /= double(d), k12 /= double(d), k22 /= double(d);
    double theta = 0, in_width = double(d);
    for (int l = 0; l <= depth; ++l) {
        if (l > 0) {
            const auto t12 = A::dual(k11, k12, k22), t11 = A::dual(k11, k11, k11), t22 = A::dual(k22, k22, k22);
            theta *= t12.derivative;
            k11 = t11.value, k12 = t12.value, k22 = t22.value;
        }
        const double s11 = wv * k11 + bv, s12 = wv * k12 + bv, s22 = wv * k22 + bv;
        theta = ntk_param ? s12 + wv * theta : in_width * k12 + wv * theta + (bias ? 1.0 : 0.0);
        k11 = s11, k12 = s12, k22 = s22;
        in_width = width;
    }
    return {k12, theta};
}
}  // namespace

TEST_CASE("kernel: tiled, threaded kernels equal the plain recursion (relu, erf; NTK and standard parametrization)") {
    const auto x = random_inputs(37, 5, 1), y = random_inputs(23, 5, 2);
    lim::kernel_config c{.weight_var = 1.7, .bias_var = 0.2, .width = 300, .block = 8};
    auto check = [&](auto kern, auto act, bool ntk_param) {
        using K = decltype(kern);
        using A = decltype(act);
        const auto [s, t] = K::kernels(x, y, c);
        const auto [ss, ts] = K::kernels(x, c);
        double worst = 0;
        for (std::size_t i = 0; i < 37; ++i) {
            for (std::size_t j = 0; j < 23; ++j) {
                const auto [rs, rt] = reference_pair<A>(&x(i, 0), &y(j, 0), 5, 3, 1.7, 0.2, ntk_param, 300);
                worst = std::max({worst, std::abs(s(i, j) - rs) / std::abs(rs), std::abs(t(i, j) - rt) / std::abs(rt)});
            }
            for (std::size_t j = 0; j < 37; ++j) {
                const auto [rs, rt] = reference_pair<A>(&x(i, 0), &x(j, 0), 5, 3, 1.7, 0.2, ntk_param, 300);
                worst = std::max({worst, std::abs(ss(i, j) - rs) / std::abs(rs), std::abs(ts(i, j) - rt) / std::abs(rt)});
                CHECK(ss(i, j) == ss(j, i));
                CHECK(ts(i, j) == ts(j, i));
            }
        }
        CHECK(worst < 1e-12);
    };
    check(lim::kernel<wn::param::ntk, test_act::relu, 3>{}, test_act::relu{}, true);
    check(lim::kernel<wn::param::ntk, test_act::erf, 3>{}, test_act::erf{}, true);
    check(lim::kernel<wn::param::standard_lr_1_over_n, test_act::relu, 3>{}, test_act::relu{}, false);
    check(lim::kernel<wn::param::standard_lr_1_over_n, test_act::erf, 3>{}, test_act::erf{}, false);
}
