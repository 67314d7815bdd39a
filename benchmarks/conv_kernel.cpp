// NNGP + NTK of a CNN (8 conv layers 3×3 same, ReLU, NTK parametrization, double) on 28×28×1 images, per kernel
// entry, with 1 and 2 threads: the flatten readout (diagonal-only recursion, cost linear in the pixels) and the gap
// readout (the full (H·W)² spatial covariance per pair). Then the rate of the spatial covariance convolution alone
// (one conv's window sums over a 784² covariance, counted as one add per tap and entry) against a 784³ DGEMM in the
// same run. Issue 11's goal: the gap path's convolutions at >= 30 % of DGEMM's rate. For orientation, neural-tangents'
// README reports 0.120 ms (flatten) and 112.9 ms (gap) per entry for a 21-layer CNN on 32×32×3 on its CPU.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include <xtensor/xarray.hpp>

#include <widenn/core/blas.hpp>
#include <widenn/core/rng.hpp>
#include <widenn/limit/conv_kernel.hpp>
#include <widenn/nn/spec.hpp>

namespace {

constexpr std::size_t side = 28;

xt::xarray<double> images(std::size_t n) {
    widenn::rng g(3);
    xt::xarray<double> x = xt::xarray<double>::from_shape({n, side, side, std::size_t{1}});
    for (auto& v : x) v = g.normal();
    return x;
}

std::string cnn(const char* readout) {
    std::string s;
    for (int l = 0; l < 8; ++l) s += "conv:3,relu,";
    return s + readout;
}

// The time per kernel entry (the inverse rate of entries; real time, so the 2-thread runs show their speed-up).
void run(benchmark::State& state, const char* readout, std::size_t n) {
    const auto x = images(n);
    const widenn::nn::spec spec = widenn::nn::parse_spec(cnn(readout));
    const widenn::limit::kernel_config c{.weight_var = 2.0, .bias_var = 0.1, .threads = static_cast<int>(state.range(0))};
    const widenn::limit::conv_kernel_plan<double> plan(spec, x, c);
    for (auto _ : state) benchmark::DoNotOptimize(plan.compute());
    // entries of the symmetric kernel computed: the upper triangle and, once each, the inputs' own recursions
    const double entries = static_cast<double>(n * (n + 1) / 2 + n);
    state.counters["time_per_entry"] =
        benchmark::Counter(entries, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

void flatten_path(benchmark::State& state) { run(state, "flatten", 32); }
void gap_path(benchmark::State& state) { run(state, "gap", 3); }

// One conv layer's window sums on a 784 × 784 spatial covariance (the work of the gap path's convolutions).
void spatial_convolution(benchmark::State& state) {
    widenn::limit::detail::kernel_op<double> op;
    op.h_in = op.w_in = op.h_out = op.w_out = side;
    op.ty = widenn::limit::detail::axis_taps::make(side, 3, 1, widenn::nn::padding::same);
    op.tx = op.ty;
    const std::size_t size = side * side * side * side;
    std::vector<double> in(size, 1.0), out(size), local(widenn::limit::detail::window_scratch(op));
    for (auto _ : state) {
        widenn::limit::detail::window_sums(op, true, false, in.data(), out.data(), local.data(), 2.0 / 9.0, 0.1, static_cast<const double*>(nullptr));
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    // rows: 3 taps × (28² blocks of 28² entries) - boundary; columns: the same: about 2 · 3 · 784² adds
    state.counters["GFLOP/s"] = benchmark::Counter(2.0 * 3.0 * static_cast<double>(size), benchmark::Counter::kIsIterationInvariantRate);
}

void dgemm(benchmark::State& state) {
    constexpr std::size_t m = side * side;
    widenn::blas::set_threads(1);
    std::vector<double> a(m * m, 0.5), b(m * m, 0.25), c(m * m);
    for (auto _ : state) {
        widenn::blas::gemm(false, false, m, m, m, 1.0, a.data(), b.data(), 0.0, c.data());
        benchmark::DoNotOptimize(c.data());
    }
    state.counters["GFLOP/s"] = benchmark::Counter(2.0 * m * m * m, benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace

BENCHMARK(flatten_path)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(gap_path)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);
BENCHMARK(spatial_convolution)->Unit(benchmark::kMillisecond);
BENCHMARK(dgemm)->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();
