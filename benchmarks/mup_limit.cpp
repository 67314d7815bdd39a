// One SGD step of the exact μP limit of a linear one-hidden-layer net (limit::mup_linear, a width-(d + d_o) coefficient
// network) against one SGD step of a finite μP net of width 4096 (nn::mlp), at d = 784, d_o = 10, batch 64.
#include <benchmark/benchmark.h>

#include <widenn/act/activations.hpp>
#include <widenn/core/rng.hpp>
#include <widenn/limit/feature_learning.hpp>
#include <widenn/nn/loss.hpp>
#include <widenn/nn/mlp.hpp>
#include <widenn/nn/optim.hpp>

namespace {

constexpr std::size_t d_in = 784, d_out = 10, batch = 64;

template <class T>
widenn::matrix<T> gaussian(std::size_t rows, std::size_t cols, std::uint64_t seed, double scale) {
    widenn::rng gen(seed);
    widenn::matrix<T> m = xt::empty<T>({rows, cols});
    for (auto& v : m) v = static_cast<T>(scale * gen.normal());
    return m;
}

void limit_step(benchmark::State& state) {
    widenn::limit::mup_linear<double> limit(d_in, d_out, {.lr = 1e-3});
    const auto X = gaussian<double>(batch, d_in, 1, 1.0 / 28), Y = gaussian<double>(batch, d_out, 2, 1.0);
    for (auto _ : state) benchmark::DoNotOptimize(limit.step(X, Y));
    state.counters["width"] = static_cast<double>(limit.coefficient_dim());
    state.counters["examples/s"] = benchmark::Counter(static_cast<double>(batch), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(limit_step)->Unit(benchmark::kMillisecond)->UseRealTime();

template <class T>
void finite_step(benchmark::State& state) {
    using net_t = widenn::nn::mlp<widenn::param::mup, widenn::act::identity, 1, T>;
    const auto width = static_cast<std::size_t>(state.range(0));
    net_t net({.d_in = d_in, .width = width, .d_out = d_out, .base_width = 1, .bias = false});
    widenn::nn::sgd<net_t> opt(net, {.lr = 1e-3});
    const auto X = gaussian<T>(batch, d_in, 1, 1.0 / 28), Y = gaussian<T>(batch, d_out, 2, 1.0);
    widenn::matrix<T> grad;
    for (auto _ : state) {
        benchmark::DoNotOptimize(widenn::nn::mse::value_and_gradient(net.forward(X), Y, grad));
        opt.step(net.backward(X, grad));
    }
    state.counters["width"] = static_cast<double>(width);
    state.counters["examples/s"] = benchmark::Counter(static_cast<double>(batch), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(finite_step<double>)->Arg(4096)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(finite_step<float>)->Arg(4096)->Unit(benchmark::kMillisecond)->UseRealTime();

// The finite net sampled from the limit's coefficients (limit::mup_linear_finite), same arithmetic as the limit.
void sampled_finite_step(benchmark::State& state) {
    widenn::limit::mup_linear<double> limit(d_in, d_out, {.lr = 1e-3});
    auto net = limit.sample(4096, 3);
    const auto X = gaussian<double>(batch, d_in, 1, 1.0 / 28), Y = gaussian<double>(batch, d_out, 2, 1.0);
    for (auto _ : state) benchmark::DoNotOptimize(net.step(X, Y));
    state.counters["examples/s"] = benchmark::Counter(static_cast<double>(batch), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(sampled_finite_step)->Unit(benchmark::kMillisecond)->UseRealTime();

// Steps 1..k cost the same: the limit's state does not grow with the step count.
void limit_step_after_many(benchmark::State& state) {
    widenn::limit::mup_linear<double> limit(d_in, d_out, {.lr = 1e-3});
    const auto X = gaussian<double>(batch, d_in, 1, 1.0 / 28), Y = gaussian<double>(batch, d_out, 2, 1.0);
    for (long i = 0; i < state.range(0); ++i) limit.step(X, Y);
    for (auto _ : state) benchmark::DoNotOptimize(limit.step(X, Y));
}
BENCHMARK(limit_step_after_many)->Arg(200)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
