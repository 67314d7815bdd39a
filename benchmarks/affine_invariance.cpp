// One training step (forward, backward, Adam) of the affine_invariance example's models at its default size:
// 8 channels, kernel 5, 8 group samples (stratified draws), SIREN width 32, head 64, batch 32, 40×40 images.
#include <benchmark/benchmark.h>

#include <widenn/equivariant/model.hpp>
#include <widenn/nn/loss.hpp>
#include <widenn/nn/optim.hpp>

namespace eq = widenn::equivariant;
namespace lie = widenn::lie;

namespace {

constexpr std::size_t batch = 32;

eq::model_config example_config() {
    return {.image_size = 40, .in_channels = 1, .channels = 8, .kernel = 5, .classes = 10, .samples = 8, .head_width = 64,
            .dropout = 0.1, .kernel_hidden = 32, .kernel_layers = 3, .omega0 = 10.0, .seed = 1};
}

xt::xtensor<float, 4> images() {
    xt::xtensor<float, 4> x = xt::empty<float>({batch, std::size_t{1}, std::size_t{40}, std::size_t{40}});
    widenn::rng r(3);
    for (auto& v : x) v = static_cast<float>(r.normal());
    return x;
}

xt::xtensor<int, 1> labels() {
    xt::xtensor<int, 1> y = xt::empty<int>({batch});
    for (std::size_t i = 0; i < batch; ++i) y(i) = static_cast<int>(i % 10);
    return y;
}

template <class H>
void affine_training_step(benchmark::State& state) {
    eq::affine_model<H, float> net(example_config());
    widenn::nn::adam opt(net.parameters(), {.lr = 1e-3});
    const auto x = images();
    const auto y = labels();
    widenn::rng draws(4);
    widenn::matrix<float> grad;
    for (auto _ : state) {
        opt.zero_grad();
        const widenn::matrix<float> logits = net.forward(x, net.draw_grid(draws, eq::sampling::stratified), true);
        benchmark::DoNotOptimize(widenn::nn::softmax_cross_entropy::value_and_gradient(logits, y, grad));
        net.backward(grad);
        opt.step();
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * batch));
}

void cnn_training_step(benchmark::State& state) {
    auto config = example_config();
    config.channels = static_cast<std::size_t>(state.range(0));
    eq::cnn_model<float> net(config);
    widenn::nn::adam opt(net.parameters(), {.lr = 1e-3});
    const auto x = images();
    const auto y = labels();
    widenn::matrix<float> grad;
    for (auto _ : state) {
        opt.zero_grad();
        const widenn::matrix<float> logits = net.forward(x, true);
        benchmark::DoNotOptimize(widenn::nn::softmax_cross_entropy::value_and_gradient(logits, y, grad));
        net.backward(grad);
        opt.step();
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * batch));
}

}  // namespace

BENCHMARK_TEMPLATE(affine_training_step, lie::gl_plus<2>)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_TEMPLATE(affine_training_step, lie::sl<2>)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(cnn_training_step)->Arg(14)->Unit(benchmark::kMillisecond)->UseRealTime();  // 14 channels: the example's baseline size

BENCHMARK_MAIN();
