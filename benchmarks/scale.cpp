// Kernel regression at scale (limit/pcg.hpp), single process: the rate at which kernel entries are computed (NTK of a
// depth-3 ReLU MLP on inputs in R^784, the Fashion-MNIST setting) and the cost of one PCG iteration at N = 20,000 with
// 10 right-hand sides: the kernel product from a float or double store, the Nyström preconditioner (rank 1000), and
// what recomputing the kernel on the fly would cost instead. These numbers feed the model of docs/scale.md.
// Memory: the N = 20,000 stores take 1.6 GB (float) and 3.2 GB (double).
#include <benchmark/benchmark.h>

#include <cmath>
#include <map>
#include <vector>

#include <widenn/act/activations.hpp>
#include <widenn/core/rng.hpp>
#include <widenn/limit/kernel.hpp>
#include <widenn/limit/pcg.hpp>

namespace {

namespace wn = widenn;
namespace lim = widenn::limit;
using wn::matrix;
using K = lim::kernel<wn::param::ntk, wn::act::relu, 3>;
const lim::kernel_config config{.weight_var = 2.0, .bias_var = 0.01};
constexpr std::size_t d = 784, k = 10, big = 20000, rank = 1000;

// n points in R^784 scaled to norm √d, correlated like images (a shared component plus noise)
const matrix<double>& inputs(std::size_t n) {
    static std::map<std::size_t, matrix<double>> cache;
    auto [it, fresh] = cache.try_emplace(n);
    if (fresh) {
        const matrix<double> common = wn::normal_matrix(1, d, 3);
        matrix<double> x = wn::normal_matrix(n, d, 4);
        for (std::size_t i = 0; i < n; ++i) {
            double norm = 0;
            for (std::size_t j = 0; j < d; ++j) norm += (x(i, j) += 2 * common(0, j)) * x(i, j);
            for (std::size_t j = 0; j < d; ++j) x(i, j) *= std::sqrt(d / norm);
        }
        it->second = std::move(x);
    }
    return it->second;
}

// The symmetric train kernel into a float store (N = state.range(0)): entries of the full matrix per second (the
// upper triangle is computed, the lower mirrored).
void store_float(benchmark::State& state) {
    const std::size_t n = static_cast<std::size_t>(state.range(0));
    const auto plan = K::plan(inputs(n), config);
    for (auto _ : state) benchmark::DoNotOptimize(lim::store_kernel<float>(plan, true).data().data());
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n * n));
}
BENCHMARK(store_float)->Arg(4096)->Unit(benchmark::kMillisecond)->UseRealTime();

// One off-diagonal 1024 x 4096 block recomputed (what an on-the-fly product pays per block): entries per second.
void block_on_the_fly(benchmark::State& state) {
    const auto plan = K::plan(inputs(4096), config);
    std::vector<double> nngp(1024 * 4096), ntk(1024 * 4096);
    for (auto _ : state) {
        plan.block_into(0, 1024, 0, 4096, nngp.data(), 4096, ntk.data(), 4096);
        benchmark::DoNotOptimize(ntk.data());
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * 1024 * 4096));
}
BENCHMARK(block_on_the_fly)->Unit(benchmark::kMillisecond)->UseRealTime();

template <class S>
const lim::kernel_store<S>& store_20k() {
    static const lim::kernel_store<S> s = lim::store_kernel<S>(K::plan(inputs(big), config), true);
    return s;
}

// (K + λI)·X for X of N x 10 from the store: the product of one PCG iteration.
template <class S>
void product_20k(benchmark::State& state) {
    const auto& s = store_20k<S>();
    const matrix<double> x = wn::normal_matrix(big, k, 5);
    matrix<double> y;
    for (auto _ : state) {
        s.apply(x, y, 1e-4);
        benchmark::DoNotOptimize(y.data());
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * big * big));
}
BENCHMARK_TEMPLATE(product_20k, float)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_TEMPLATE(product_20k, double)->Unit(benchmark::kMillisecond)->UseRealTime();

// Building the rank-1000 Nyström preconditioner at N = 20,000, and applying it to N x 10.
void nystrom_build_20k(benchmark::State& state) {
    const auto& s = store_20k<float>();
    const double shift = 1e-4 * s.trace() / big;
    for (auto _ : state) {
        const lim::nystrom_preconditioner pre(big, rank, shift, [&](const std::vector<std::size_t>& idx) { return s.columns(idx); });
        benchmark::DoNotOptimize(pre.rank());
    }
}
BENCHMARK(nystrom_build_20k)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);

void nystrom_apply_20k(benchmark::State& state) {
    const auto& s = store_20k<float>();
    const double shift = 1e-4 * s.trace() / big;
    const lim::nystrom_preconditioner pre(big, rank, shift, [&](const std::vector<std::size_t>& idx) { return s.columns(idx); });
    const matrix<double> r = wn::normal_matrix(big, k, 6);
    matrix<double> z;
    for (auto _ : state) {
        pre(r, z);
        benchmark::DoNotOptimize(z.data());
    }
}
BENCHMARK(nystrom_apply_20k)->Unit(benchmark::kMillisecond)->UseRealTime();

// A whole PCG solve at N = 20,000 (float store, rank 1000, tolerance 1e-6, 10 right-hand sides): seconds per iteration.
void pcg_solve_20k(benchmark::State& state) {
    const auto& s = store_20k<float>();
    const double shift = 1e-4 * s.trace() / big;
    const lim::nystrom_preconditioner pre(big, rank, shift, [&](const std::vector<std::size_t>& idx) { return s.columns(idx); });
    const matrix<double> b = wn::normal_matrix(big, k, 7);
    std::size_t iterations = 0;
    for (auto _ : state) {
        const auto res = lim::block_conjugate_gradient([&](const matrix<double>& x, matrix<double>& y) { s.apply(x, y, shift); }, b,
                                                       [&](const matrix<double>& r, matrix<double>& z) { pre(r, z); }, {.tolerance = 1e-6});
        iterations = res.iterations;
    }
    state.counters["iterations"] = static_cast<double>(iterations);
    state.counters["s_per_iteration"] = benchmark::Counter(static_cast<double>(iterations), benchmark::Counter::kIsIterationInvariantRate |
                                                                                                benchmark::Counter::kInvert);
}
BENCHMARK(pcg_solve_20k)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
