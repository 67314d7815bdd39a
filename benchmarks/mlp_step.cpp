// One SGD training step (forward, MSE gradient, backward, update) of nn::mlp against a plain
// baseline: the same step written directly with cblas_?gemm / cblas_?axpy into preallocated
// buffers. d = 784, L = 3 hidden layers, k = 10, ReLU, μP; float and double; widths 128, 512,
// 1024, 4096; batch 64 and 256.
//
// usage: bench_mlp_step [--threads N] [Google Benchmark flags, e.g. --benchmark_min_time=0.2]
// --threads sets OpenBLAS's (and OpenMP's) thread count before anything runs (default 1).
#include <benchmark/benchmark.h>
#include <widenn/core/blas.hpp>
#ifdef WIDENN_USE_OPENMP
#include <omp.h>
#endif

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <widenn/act/activations.hpp>
#include <widenn/core/rng.hpp>
#include <widenn/nn/loss.hpp>
#include <widenn/nn/mlp.hpp>
#include <widenn/nn/optim.hpp>

namespace {

namespace nn = widenn::nn;
constexpr std::size_t d_in = 784, d_out = 10;
constexpr int hidden_layers = 3;
constexpr double learning_rate = 1e-3;
int threads = 1;

template <class T>
widenn::matrix<T> random_matrix(std::size_t rows, std::size_t cols, std::uint64_t seed) {
    widenn::matrix<T> m = widenn::matrix<T>::from_shape({rows, cols});
    widenn::rng g(seed);
    for (auto& v : m) v = static_cast<T>(g.normal());
    return m;
}

template <class T>
void library_step(benchmark::State& state) {
    const auto width = static_cast<std::size_t>(state.range(0)), batch = static_cast<std::size_t>(state.range(1));
    nn::mlp<widenn::param::mup, widenn::act::relu, hidden_layers, T> net(
        {.d_in = d_in, .width = width, .d_out = d_out, .base_width = 128, .seed = 1});
    nn::sgd opt(net, {.lr = learning_rate});
    const auto x = random_matrix<T>(batch, d_in, 2);
    const auto y = random_matrix<T>(batch, d_out, 3);
    widenn::matrix<T> dout;
    auto step = [&] {
        nn::mse::value_and_gradient(net.forward(x), y, dout);
        opt.step(net.backward(x, dout));
    };
    step();  // the first step at a batch size allocates the buffers; later steps allocate nothing
    for (auto _ : state) step();
    state.counters["threads"] = threads;
}

// The same step by hand: h = x Wᵀ + b, ReLU, MSE gradient, backward GEMMs, bias sums, w -= η g.
template <class T>
struct baseline {
    std::size_t width, batch;
    std::vector<std::size_t> fan_in, fan_out;
    std::vector<std::vector<T>> w, b, gw, gb, h, a, delta;
    std::vector<T> x, y, dout;

    baseline(std::size_t width_, std::size_t batch_) : width(width_), batch(batch_) {
        widenn::rng g(7);
        for (int l = 0; l <= hidden_layers; ++l) {
            fan_in.push_back(l == 0 ? d_in : width);
            fan_out.push_back(l == hidden_layers ? d_out : width);
            const std::size_t o = fan_out.back(), i = fan_in.back();
            w.emplace_back(o * i);
            for (auto& v : w.back()) v = static_cast<T>(g.normal() / std::sqrt(static_cast<double>(i)));
            b.emplace_back(o, T(0));
            gw.emplace_back(o * i);
            gb.emplace_back(o);
            h.emplace_back(batch * o);
            a.emplace_back(batch * o);
            delta.emplace_back(batch * o);
        }
        x.resize(batch * d_in);
        y.resize(batch * d_out);
        dout.resize(batch * d_out);
        for (auto& v : x) v = static_cast<T>(g.normal());
        for (auto& v : y) v = static_cast<T>(g.normal());
    }

    static void gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, std::size_t m, std::size_t n, std::size_t k, const T* A, std::size_t lda,
                     const T* B, std::size_t ldb, T beta, T* C, std::size_t ldc) {
        if constexpr (std::is_same_v<T, float>)
            cblas_sgemm(CblasRowMajor, ta, tb, (CBLAS_INT)m, (CBLAS_INT)n, (CBLAS_INT)k, 1.0f, A, (CBLAS_INT)lda, B, (CBLAS_INT)ldb, beta, C, (CBLAS_INT)ldc);
        else
            cblas_dgemm(CblasRowMajor, ta, tb, (CBLAS_INT)m, (CBLAS_INT)n, (CBLAS_INT)k, 1.0, A, (CBLAS_INT)lda, B, (CBLAS_INT)ldb, beta, C, (CBLAS_INT)ldc);
    }

    void step() {
        const int layers = hidden_layers + 1;
        for (int l = 0; l < layers; ++l) {
            const std::size_t o = fan_out[l], i = fan_in[l];
            T* hl = h[l].data();
            for (std::size_t r = 0; r < batch; ++r) std::memcpy(hl + r * o, b[l].data(), o * sizeof(T));
            gemm(CblasNoTrans, CblasTrans, batch, o, i, l == 0 ? x.data() : a[l - 1].data(), i, w[l].data(), i, T(1), hl, o);
            if (l < layers - 1) {
                T* al = a[l].data();
                for (std::size_t k = 0; k < batch * o; ++k) al[k] = hl[k] > T(0) ? hl[k] : T(0);
            }
        }
        const T inv_batch = T(1) / static_cast<T>(batch);
        for (std::size_t k = 0; k < batch * d_out; ++k) delta[layers - 1][k] = (h[layers - 1][k] - y[k]) * inv_batch;
        for (int l = layers - 1; l >= 0; --l) {
            const std::size_t o = fan_out[l], i = fan_in[l];
            gemm(CblasTrans, CblasNoTrans, o, i, batch, delta[l].data(), o, l == 0 ? x.data() : a[l - 1].data(), i, T(0), gw[l].data(), i);
            std::fill(gb[l].begin(), gb[l].end(), T(0));
            for (std::size_t r = 0; r < batch; ++r)
                for (std::size_t j = 0; j < o; ++j) gb[l][j] += delta[l][r * o + j];
            if (l > 0) {
                gemm(CblasNoTrans, CblasNoTrans, batch, i, o, delta[l].data(), o, w[l].data(), i, T(0), delta[l - 1].data(), i);
                const T* hp = h[l - 1].data();
                T* dp = delta[l - 1].data();
                for (std::size_t k = 0; k < batch * i; ++k) dp[k] = hp[k] > T(0) ? dp[k] : T(0);  // branch-free, vectorisable
            }
        }
        for (int l = 0; l < layers; ++l) {
            widenn::blas::axpy<T>(w[l].size(), static_cast<T>(-learning_rate), gw[l].data(), w[l].data());
            widenn::blas::axpy<T>(b[l].size(), static_cast<T>(-learning_rate), gb[l].data(), b[l].data());
        }
    }
};

template <class T>
void baseline_step(benchmark::State& state) {
    baseline<T> net(static_cast<std::size_t>(state.range(0)), static_cast<std::size_t>(state.range(1)));
    net.step();  // warm up like the library (same cache and page state)
    for (auto _ : state) {
        net.step();
        benchmark::DoNotOptimize(net.w[0].data());
        benchmark::ClobberMemory();
    }
    state.counters["threads"] = threads;
}

void grid(benchmark::internal::Benchmark* b) {
    b->ArgNames({"width", "batch"});
    for (long width : {128, 512, 1024, 4096})
        for (long batch : {64, 256}) b->Args({width, batch});
    // On a shared machine the minimum over repetitions is the least disturbed estimate.
    b->Unit(benchmark::kMillisecond)->UseRealTime()->ComputeStatistics("min", [](const std::vector<double>& v) {
        return *std::min_element(v.begin(), v.end());
    });
}

BENCHMARK(library_step<float>)->Apply(grid);
BENCHMARK(baseline_step<float>)->Apply(grid);
BENCHMARK(library_step<double>)->Apply(grid);
BENCHMARK(baseline_step<double>)->Apply(grid);

}  // namespace

int main(int argc, char** argv) {
    // Take --threads N (or --threads=N) out of argv before Google Benchmark sees the flags.
    std::vector<char*> rest;
    for (int i = 0; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--threads" && i + 1 < argc) {
            threads = std::atoi(argv[++i]);
        } else if (arg.rfind("--threads=", 0) == 0) {
            threads = std::atoi(arg.c_str() + 10);
        } else {
            rest.push_back(argv[i]);
        }
    }
    if (threads < 1) {
        std::fprintf(stderr, "bench_mlp_step: --threads must be a positive integer\n");
        return 2;
    }
    widenn::blas::set_threads(threads);
#ifdef WIDENN_USE_OPENMP
    omp_set_num_threads(threads);
#endif
    int count = static_cast<int>(rest.size());
    benchmark::Initialize(&count, rest.data());
    if (benchmark::ReportUnrecognizedArguments(count, rest.data())) return 1;
    benchmark::AddCustomContext("openblas_threads", std::to_string(threads));
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
