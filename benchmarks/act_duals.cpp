// Cost of one dual-kernel entry: closed forms (what kernel loops call per entry) and Gauss–Hermite quadrature.
#include <benchmark/benchmark.h>

#include <widenn/act/dual.hpp>

namespace act = widenn::act;

namespace {

// A sweep of correlations so that branch prediction and constant folding do not flatter the closed forms.
template <class Dual>
void sweep(benchmark::State& state, Dual dual) {
    double rho = -0.95, sink = 0;
    for (auto _ : state) {
        const auto d = dual(1.3, rho * std::sqrt(1.3 * 0.7), 0.7);
        sink += d.value + d.derivative;
        rho = rho > 0.95 ? -0.95 : rho + 0.0137;
    }
    benchmark::DoNotOptimize(sink);
}

template <class A>
void closed_form(benchmark::State& state) {
    sweep(state, [](double a, double b, double c) { return act::dual<A>(a, b, c); });
}

template <class A, int Degree>
void quadrature(benchmark::State& state) {
    sweep(state, [](double a, double b, double c) { return act::dual_quadrature<A, Degree>(a, b, c); });
}

BENCHMARK(closed_form<act::relu>);
BENCHMARK(closed_form<act::abrelu<-0.3, 2.0>>);
BENCHMARK(closed_form<act::erf<>>);
BENCHMARK(closed_form<act::gelu>);
BENCHMARK(closed_form<act::sin<1.2, 0.9, 0.3>>);
BENCHMARK(closed_form<act::polynomial<0.3, -0.5, 0.25, 0.1, -0.05>>);
BENCHMARK(quadrature<act::tanh, 25>);
BENCHMARK(quadrature<act::tanh, act::default_quadrature_degree>);
BENCHMARK(quadrature<act::erf<>, act::default_quadrature_degree>);

}  // namespace

BENCHMARK_MAIN();
