// One SGD training step (forward, cross-entropy gradient, backward, update) of a μP CNN built with nn::network:
// conv3 (same) - relu - avgpool2 - conv3 - relu - gap - readout, on 28 x 28 x 1 images (Fashion-MNIST's shape), batch
// 32, widths 32, 64 and 128, float. The counter GFLOP/s counts the six convolution GEMMs of a step (forward, weight
// gradient, input gradient of each conv; the first conv's input gradient is skipped); BM_gemm runs one SGEMM of the
// second conv's forward shape for the machine's rate on the same operands.
//
// usage: bench_serial_step [Google Benchmark flags, e.g. --benchmark_min_time=0.2]
#include <benchmark/benchmark.h>

#include <cstddef>
#include <vector>

#include <widenn/act/activations.hpp>
#include <widenn/core/blas.hpp>
#include <widenn/core/tensor.hpp>
#include <widenn/nn/loss.hpp>
#include <widenn/nn/optim.hpp>
#include <widenn/nn/serial.hpp>
#include <widenn/nn/train.hpp>

namespace {

namespace nn = widenn::nn;
using relu = widenn::act::relu;
using cnn = nn::network<widenn::param::mup, nn::serial<nn::conv<3>, relu, nn::avgpool<2>, nn::conv<3>, relu, nn::gap>, float>;
constexpr std::size_t side = 28, batch = 32;

// GEMM flops of one step: conv1 (forward and weight gradient, K²·1 inputs at 28x28), conv2 (three GEMMs, 9·w inputs at 14x14).
double step_flops(std::size_t width) {
    const double rows1 = batch * side * side, rows2 = batch * (side / 2) * (side / 2);
    return 2 * (2.0 * rows1 * 9 * width) + 3 * (2.0 * rows2 * 9 * width * width);
}

void BM_cnn_step(benchmark::State& state) {
    const auto width = static_cast<std::size_t>(state.range(0));
    widenn::blas::set_threads(1);
    cnn net({.image = {side, side, 1}, .width = width, .d_out = 10, .base_width = 32, .seed = 1});
    nn::sgd opt(net.parameters(), {.lr = 0.1});
    const auto x = widenn::normal_matrix<float>(batch, side * side, 2);
    xt::xtensor<int, 1> labels = xt::empty<int>({batch});
    for (std::size_t i = 0; i < batch; ++i) labels(i) = static_cast<int>(i % 10);
    widenn::matrix<float> dout;
    for (auto _ : state) benchmark::DoNotOptimize(nn::train_step<nn::softmax_cross_entropy>(net, opt, x, labels, dout));
    state.counters["GFLOP/s"] = benchmark::Counter(step_flops(width) * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
    state.counters["images/s"] = benchmark::Counter(static_cast<double>(batch), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_cnn_step)->Arg(32)->Arg(64)->Arg(128)->Unit(benchmark::kMillisecond);

void BM_gemm(benchmark::State& state) {
    const auto width = static_cast<std::size_t>(state.range(0));
    widenn::blas::set_threads(1);
    const std::size_t rows = batch * (side / 2) * (side / 2), inner = 9 * width;
    const auto a = widenn::normal_matrix<float>(rows, inner, 3);
    const auto b = widenn::normal_matrix<float>(width, inner, 4);
    std::vector<float> c(rows * width);
    for (auto _ : state) {
        widenn::blas::gemm<float>(false, true, rows, width, inner, 1.0f, a.data(), b.data(), 0.0f, c.data());
        benchmark::DoNotOptimize(c.data());
    }
    state.counters["GFLOP/s"] = benchmark::Counter(2.0 * rows * inner * width * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_gemm)->Arg(32)->Arg(64)->Arg(128)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
