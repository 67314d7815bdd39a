// Forward and backward of the equivariant layers at the paper's default size (Mironenco & Forré 2024; rgenn's train.py):
// 40 channels, kernel 5, 10 group samples, 40×40 images; batch 128 (Arg) and a small batch of 8 for quick runs.
// Lifting: 1 → 40 channels on 40×40 images (no padding); group convolution: 40 → 40 channels on the lifted 36×36
// features with padding 2 (the residual block's layers). Counter GFLOP/s: the GEMM work 2·(N C_out)·(N C_in k²)·positions
// per wall-clock second (OpenBLAS threads do the work, so CPU time of the main thread would overstate it).
#include <benchmark/benchmark.h>

#include <widenn/equivariant/group_conv.hpp>

namespace eq = widenn::equivariant;
namespace lie = widenn::lie;

namespace {

constexpr std::size_t channels = 40, kernel = 5, samples = 10, image = 40, lifted = image - kernel + 1;

template <class T, std::size_t N>
xt::xtensor<T, N> filled(const std::array<std::size_t, N>& shape) {
    xt::xtensor<T, N> x = xt::empty<T>(shape);
    widenn::rng r(1);
    for (auto& v : x) v = static_cast<T>(r.normal());
    return x;
}

template <class H>
eq::group_grid grid() {
    widenn::rng r(2);
    return eq::sample_grid<H>(samples, r);  // Haar-weighted, ball proposal (the models' default)
}

template <class H>
void lifting_forward(benchmark::State& state) {
    const auto batch = static_cast<std::size_t>(state.range(0));
    eq::lifting<H, float> layer({.in_channels = 1, .out_channels = channels, .kernel = kernel});
    const auto x = filled<float, 4>({batch, 1, image, image});
    const auto g = grid<H>();
    for (auto _ : state) benchmark::DoNotOptimize(layer.forward(x, g));
    state.counters["GFLOP/s"] = benchmark::Counter(2.0 * samples * channels * kernel * kernel * lifted * lifted * static_cast<double>(batch) * 1e-9,
                                                   benchmark::Counter::kIsIterationInvariantRate);
}

template <class H>
void lifting_backward(benchmark::State& state) {
    const auto batch = static_cast<std::size_t>(state.range(0));
    eq::lifting<H, float> layer({.in_channels = 1, .out_channels = channels, .kernel = kernel});
    const auto x = filled<float, 4>({batch, 1, image, image});
    const auto g = grid<H>();
    const auto dy = filled<float, 5>({batch, samples, channels, lifted, lifted});
    layer.forward(x, g);
    for (auto _ : state) benchmark::DoNotOptimize(layer.backward(dy));
    state.counters["GFLOP/s"] = benchmark::Counter(4.0 * samples * channels * kernel * kernel * lifted * lifted * static_cast<double>(batch) * 1e-9,
                                                   benchmark::Counter::kIsIterationInvariantRate);
}

template <class H>
void group_conv_forward(benchmark::State& state) {
    const auto batch = static_cast<std::size_t>(state.range(0));
    eq::group_conv<H, float> layer({.in_channels = channels, .out_channels = channels, .kernel = kernel, .padding = kernel / 2});
    const auto x = filled<float, 5>({batch, samples, channels, lifted, lifted});
    const auto g = grid<H>();
    for (auto _ : state) benchmark::DoNotOptimize(layer.forward(x, g, g));
    state.counters["GFLOP/s"] = benchmark::Counter(2.0 * samples * channels * samples * channels * kernel * kernel * lifted * lifted * static_cast<double>(batch) * 1e-9,
                                                   benchmark::Counter::kIsIterationInvariantRate);
}

template <class H>
void group_conv_backward(benchmark::State& state) {
    const auto batch = static_cast<std::size_t>(state.range(0));
    eq::group_conv<H, float> layer({.in_channels = channels, .out_channels = channels, .kernel = kernel, .padding = kernel / 2});
    const auto x = filled<float, 5>({batch, samples, channels, lifted, lifted});
    const auto g = grid<H>();
    const auto dy = filled<float, 5>({batch, samples, channels, lifted, lifted});
    layer.forward(x, g, g);
    for (auto _ : state) benchmark::DoNotOptimize(layer.backward(dy));
    state.counters["GFLOP/s"] = benchmark::Counter(4.0 * samples * channels * samples * channels * kernel * kernel * lifted * lifted * static_cast<double>(batch) * 1e-9,
                                                   benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace

#define WIDENN_EQUIVARIANT_BENCH(fn, H) BENCHMARK_TEMPLATE(fn, H)->Arg(8)->Arg(128)->Unit(benchmark::kMillisecond)->MinTime(0.5)->UseRealTime()
WIDENN_EQUIVARIANT_BENCH(lifting_forward, lie::so<2>);
WIDENN_EQUIVARIANT_BENCH(lifting_forward, lie::sl<2>);
WIDENN_EQUIVARIANT_BENCH(lifting_forward, lie::gl_plus<2>);
WIDENN_EQUIVARIANT_BENCH(lifting_backward, lie::so<2>);
WIDENN_EQUIVARIANT_BENCH(lifting_backward, lie::sl<2>);
WIDENN_EQUIVARIANT_BENCH(lifting_backward, lie::gl_plus<2>);
WIDENN_EQUIVARIANT_BENCH(group_conv_forward, lie::so<2>);
WIDENN_EQUIVARIANT_BENCH(group_conv_forward, lie::sl<2>);
WIDENN_EQUIVARIANT_BENCH(group_conv_forward, lie::gl_plus<2>);
WIDENN_EQUIVARIANT_BENCH(group_conv_backward, lie::so<2>);
WIDENN_EQUIVARIANT_BENCH(group_conv_backward, lie::sl<2>);
WIDENN_EQUIVARIANT_BENCH(group_conv_backward, lie::gl_plus<2>);

BENCHMARK_MAIN();
