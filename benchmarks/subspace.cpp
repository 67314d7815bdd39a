// Subspace training (nn/subspace.hpp) against ordinary training: one Adam step (forward, cross-entropy
// gradient, backward, update) of a ReLU MLP 784 -> 200 -> 200 -> 10 (D = 199,210 parameters, μP, float,
// batch 128) in full, and inside a Fastfood subspace of dimension d = 1,000 (the step adds Pᵀ S ∇θ and
// θ = θ₀ + S P θ_d: two fast Walsh–Hadamard transforms of length 2^18 each). Also the projection products
// alone and the transform alone. One BLAS thread.
//
// usage: bench_subspace [Google Benchmark flags, e.g. --benchmark_min_time=0.5]
#include <benchmark/benchmark.h>

#include <vector>

#include <widenn/act/activations.hpp>
#include <widenn/core/blas.hpp>
#include <widenn/core/rng.hpp>
#include <widenn/nn/loss.hpp>
#include <widenn/nn/mlp.hpp>
#include <widenn/nn/optim.hpp>
#include <widenn/nn/subspace.hpp>

namespace {

namespace nn = widenn::nn;
using net_t = nn::mlp<widenn::param::mup, widenn::act::relu, 2, float>;
constexpr std::size_t width = 200, batch = 128, subspace_dim = 1000;

net_t make_net() { return net_t({.d_in = 784, .width = width, .d_out = 10, .base_width = 128, .seed = 1}); }

struct data {
    widenn::matrix<float> x = widenn::normal_matrix<float>(batch, 784, 2);
    xt::xtensor<int, 1> y = xt::empty<int>({batch});
    data() {
        for (std::size_t i = 0; i < batch; ++i) y(i) = static_cast<int>(i % 10);
    }
};

void full_step(benchmark::State& state) {
    net_t net = make_net();
    nn::adam opt(net, {.lr = 1e-3});
    const data b;
    widenn::matrix<float> dout;
    auto step = [&] {
        nn::softmax_cross_entropy::value_and_gradient(net.forward(b.x), b.y, dout);
        opt.step(net.backward(b.x, dout));
    };
    step();
    for (auto _ : state) step();
    state.counters["D"] = static_cast<double>(net.parameter_count());
}

void fastfood_step(benchmark::State& state) {
    net_t net = make_net();
    nn::subspace sub(net, nn::make_projection(nn::projection_kind::fastfood, net.parameter_count(), subspace_dim, 3),
                     nn::subspace_scaling::adam);
    nn::adam opt(sub, {.lr = 1e-2});
    const data b;
    widenn::matrix<float> dout;
    nn::subspace_train_step<nn::softmax_cross_entropy>(sub, opt, b.x, b.y, dout);
    for (auto _ : state) nn::subspace_train_step<nn::softmax_cross_entropy>(sub, opt, b.x, b.y, dout);
    state.counters["D"] = static_cast<double>(net.parameter_count());
    state.counters["d"] = static_cast<double>(subspace_dim);
}

void fastfood_products(benchmark::State& state) {
    const std::size_t D = 199210;
    const auto p = nn::make_projection(nn::projection_kind::fastfood, D, subspace_dim, 3);
    std::vector<double> small(subspace_dim, 0.5), large(D, 0.25);
    for (auto _ : state) {
        p.apply(small.data(), large.data());
        p.apply_transpose(large.data(), small.data());
        benchmark::DoNotOptimize(small.data());
    }
}

void walsh_hadamard(benchmark::State& state) {
    std::vector<double> v(static_cast<std::size_t>(state.range(0)), 1.0);
    for (auto _ : state) {
        nn::fwht(v.data(), v.size());
        benchmark::DoNotOptimize(v.data());
    }
    state.SetItemsProcessed(state.iterations() * state.range(0));
}

}  // namespace

BENCHMARK(full_step)->Unit(benchmark::kMillisecond);
BENCHMARK(fastfood_step)->Unit(benchmark::kMillisecond);
BENCHMARK(fastfood_products)->Unit(benchmark::kMillisecond);
BENCHMARK(walsh_hadamard)->Arg(1 << 18)->Unit(benchmark::kMillisecond);

int main(int argc, char** argv) {
    widenn::blas::set_threads(1);
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
