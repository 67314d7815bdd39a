// Lie group hot paths (issue 6, item 5): 10^6 weighted samples from gl_plus<2> and sl<2>; exp and log of 10^6 2x2 and
// 3x3 elements; the image action on a batch of 128 40x40 images (forward and adjoint).
#include <benchmark/benchmark.h>

#include <vector>

#include <widenn/lie/lie.hpp>

namespace lie = widenn::lie;

namespace {
constexpr std::size_t million = 1000000;

template <class G>
void bm_sample(benchmark::State& state) {
    widenn::rng gen(1);
    for (auto _ : state) {
        double acc = 0;
        for (std::size_t i = 0; i < million; ++i) acc += G::sample(gen, 0.5).weight;
        benchmark::DoNotOptimize(acc);
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * million));
}

template <class G>
std::vector<typename G::tangent> tangents(double scale) {
    widenn::rng gen(2);
    std::vector<typename G::tangent> out(million);
    for (auto& v : out)
        for (auto& x : v) x = static_cast<typename G::scalar>(scale * gen.normal());
    return out;
}

template <class G>
void bm_exp(benchmark::State& state) {
    const auto v = tangents<G>(0.5);
    for (auto _ : state) {
        double acc = 0;
        for (const auto& x : v) acc += G::exp(x).matrix()(0, 0);
        benchmark::DoNotOptimize(acc);
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * million));
}

template <class G>
void bm_log(benchmark::State& state) {
    const auto v = tangents<G>(0.5);
    std::vector<G> g;
    g.reserve(million);
    for (const auto& x : v) g.push_back(G::exp(x));
    for (auto _ : state) {
        double acc = 0;
        for (const auto& x : g) acc += x.log()[0];
        benchmark::DoNotOptimize(acc);
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * million));
}

template <class G>
void bm_chart(benchmark::State& state) {
    const auto v = tangents<G>(0.5);
    std::vector<G> g;
    g.reserve(million);
    for (const auto& x : v) g.push_back(G::from_chart(x));
    for (auto _ : state) {
        double acc = 0;
        for (const auto& x : g) acc += x.chart()[0];
        benchmark::DoNotOptimize(acc);
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * million));
}

using A = lie::affine<lie::gl_plus<2, float>>;
const A transform({0.1f, -0.05f}, lie::gl_plus<2, float>::from_chart({0.2f, -0.1f, 0.15f, 0.6f}));

xt::xtensor<float, 3> image_batch() {
    widenn::rng gen(3);
    xt::xtensor<float, 3> x = xt::xtensor<float, 3>::from_shape({128, 40, 40});
    for (auto& v : x) v = static_cast<float>(gen.uniform());
    return x;
}

void bm_image_action(benchmark::State& state) {
    const auto x = image_batch();
    xt::xtensor<float, 3> y = xt::xtensor<float, 3>::from_shape(x.shape());
    for (auto _ : state) {
        const lie::image_warp<float> warp(transform, 40, 40);  // built per call: included in the time
        warp.apply(x, y);
        benchmark::DoNotOptimize(y.data());
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * 128));
}

void bm_image_action_adjoint(benchmark::State& state) {
    const auto x = image_batch();
    for (auto _ : state) {
        auto g = lie::act_on_images_adjoint(transform, x);
        benchmark::DoNotOptimize(g.data());
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * 128));
}
}  // namespace

BENCHMARK(bm_sample<lie::gl_plus<2>>)->Name("sample_1e6/gl_plus<2>")->Unit(benchmark::kMillisecond);
BENCHMARK(bm_sample<lie::sl<2>>)->Name("sample_1e6/sl<2>")->Unit(benchmark::kMillisecond);
BENCHMARK(bm_sample<lie::gl_plus<2, float>>)->Name("sample_1e6/gl_plus<2,float>")->Unit(benchmark::kMillisecond);
BENCHMARK(bm_exp<lie::gl_plus<2>>)->Name("exp_1e6/gl_plus<2>")->Unit(benchmark::kMillisecond);
BENCHMARK(bm_log<lie::gl_plus<2>>)->Name("log_1e6/gl_plus<2>")->Unit(benchmark::kMillisecond);
BENCHMARK(bm_chart<lie::gl_plus<2>>)->Name("chart_1e6/gl_plus<2>")->Unit(benchmark::kMillisecond);
BENCHMARK(bm_exp<lie::so<2>>)->Name("exp_1e6/so<2>")->Unit(benchmark::kMillisecond);
BENCHMARK(bm_log<lie::so<2>>)->Name("log_1e6/so<2>")->Unit(benchmark::kMillisecond);
BENCHMARK(bm_exp<lie::gl_plus<3>>)->Name("exp_1e6/gl_plus<3>")->Unit(benchmark::kMillisecond);
BENCHMARK(bm_log<lie::gl_plus<3>>)->Name("log_1e6/gl_plus<3>")->Unit(benchmark::kMillisecond);
BENCHMARK(bm_chart<lie::gl_plus<3>>)->Name("chart_1e6/gl_plus<3>")->Unit(benchmark::kMillisecond);
BENCHMARK(bm_exp<lie::so<3>>)->Name("exp_1e6/so<3>")->Unit(benchmark::kMillisecond);
BENCHMARK(bm_log<lie::so<3>>)->Name("log_1e6/so<3>")->Unit(benchmark::kMillisecond);
BENCHMARK(bm_image_action)->Name("image_action/128x40x40")->Unit(benchmark::kMillisecond);
BENCHMARK(bm_image_action_adjoint)->Name("image_action_adjoint/128x40x40")->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
