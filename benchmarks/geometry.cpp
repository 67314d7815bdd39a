// Representation geometry at N = 10,000 rows, d = 1,024 features (double): linear CKA and relative representations
// against the GEMMs they consist of (issue #13's goal: both within 1.5x of those GEMMs), with 1 and 2 BLAS threads.
//   linear CKA  = centring + XᵀY (GEMM) and the upper triangles of XᵀX, YᵀY (SYRK) + O(N + d²) sums;
//                 baselines: those BLAS calls alone (one GEMM, two SYRKs), and three full GEMMs;
//   relative    = row normalisation of E and the anchors + one GEMM E·Aᵀ (N x k, k = 300 and 1,024 anchors).
#include <benchmark/benchmark.h>

#include <vector>

#include <widenn/core/blas.hpp>
#include <widenn/core/tensor.hpp>
#include <widenn/geometry/cka.hpp>
#include <widenn/geometry/relative.hpp>

namespace {

constexpr std::size_t n = 10000, d = 1024;

const widenn::matrix<double>& x() {
    static const widenn::matrix<double> m = widenn::normal_matrix(n, d, 1);
    return m;
}
const widenn::matrix<double>& y() {
    static const widenn::matrix<double> m = widenn::normal_matrix(n, d, 2) + 0.5 * x();
    return m;
}

void bm_linear_cka(benchmark::State& state) {
    widenn::blas::set_threads(static_cast<int>(state.range(0)));
    const auto est = state.range(1) ? widenn::geometry::hsic_estimator::debiased : widenn::geometry::hsic_estimator::biased;
    for (auto _ : state) benchmark::DoNotOptimize(widenn::geometry::linear_cka(x(), y(), est));
    state.SetLabel(state.range(1) ? "debiased" : "biased");
}

// Three full GEMMs (what the feature-space CKA would cost without SYRK).
void bm_cka_three_gemms(benchmark::State& state) {
    widenn::blas::set_threads(static_cast<int>(state.range(0)));
    std::vector<double> xy(d * d), xx(d * d), yy(d * d);
    for (auto _ : state) {
        widenn::blas::gemm(true, false, d, d, n, 1.0, x().data(), d, y().data(), d, 0.0, xy.data(), d);
        widenn::blas::gemm(true, false, d, d, n, 1.0, x().data(), d, x().data(), d, 0.0, xx.data(), d);
        widenn::blas::gemm(true, false, d, d, n, 1.0, y().data(), d, y().data(), d, 0.0, yy.data(), d);
        benchmark::DoNotOptimize(xy.data());
        benchmark::DoNotOptimize(xx.data());
        benchmark::DoNotOptimize(yy.data());
    }
}

// The BLAS calls linear_cka makes: XᵀY by GEMM, XᵀX and YᵀY by SYRK (one triangle each); centring is not included.
void bm_cka_gemm_two_syrk(benchmark::State& state) {
    widenn::blas::set_threads(static_cast<int>(state.range(0)));
    std::vector<double> xy(d * d), xx(d * d), yy(d * d);
    const int di = static_cast<int>(d), ni = static_cast<int>(n);
    for (auto _ : state) {
        widenn::blas::gemm(true, false, d, d, n, 1.0, x().data(), d, y().data(), d, 0.0, xy.data(), d);
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, di, ni, 1.0, x().data(), di, 0.0, xx.data(), di);
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, di, ni, 1.0, y().data(), di, 0.0, yy.data(), di);
        benchmark::DoNotOptimize(xy.data());
        benchmark::DoNotOptimize(xx.data());
        benchmark::DoNotOptimize(yy.data());
    }
}

std::vector<std::size_t> anchors(std::size_t k) { return widenn::geometry::random_anchors(n, k, 3); }

void bm_relative(benchmark::State& state) {
    widenn::blas::set_threads(static_cast<int>(state.range(0)));
    const auto a = anchors(static_cast<std::size_t>(state.range(1)));
    for (auto _ : state) benchmark::DoNotOptimize(widenn::geometry::relative(x(), a).data());
}

// The GEMM of the relative representation alone: (N x d) · (d x k) into a preallocated N x k result.
void bm_relative_gemm(benchmark::State& state) {
    widenn::blas::set_threads(static_cast<int>(state.range(0)));
    const std::size_t k = static_cast<std::size_t>(state.range(1));
    const auto idx = anchors(k);
    std::vector<double> a(k * d), out(n * k);
    for (std::size_t j = 0; j < k; ++j)
        for (std::size_t c = 0; c < d; ++c) a[j * d + c] = x()(idx[j], c);
    for (auto _ : state) {
        widenn::blas::gemm(false, true, n, k, d, 1.0, x().data(), d, a.data(), d, 0.0, out.data(), k);
        benchmark::DoNotOptimize(out.data());
    }
}

}  // namespace

BENCHMARK(bm_linear_cka)->ArgsProduct({{1, 2}, {0, 1}})->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);
BENCHMARK(bm_cka_three_gemms)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);
BENCHMARK(bm_cka_gemm_two_syrk)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);
BENCHMARK(bm_relative)->ArgsProduct({{1, 2}, {300, 1024}})->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(1.0);
BENCHMARK(bm_relative_gemm)->ArgsProduct({{1, 2}, {300, 1024}})->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(1.0);
BENCHMARK_MAIN();
