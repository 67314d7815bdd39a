// The ```cpp blocks of docs/subspace.md, compiled and run (the convention of tests/docs: each block is pasted verbatim
// between "// BEGIN docs/subspace.md block <n>" and "// END docs/subspace.md block <n>" at column 0, preceded by the
// inputs the page's text describes and followed by checks of what the block's comments claim). Change the page and this
// file together.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <iostream>
#include <numbers>
#include <vector>

#include <xtensor/xtensor.hpp>

#include <widenn/act/activations.hpp>
#include <widenn/core/rng.hpp>
#include <widenn/learn/halfspace.hpp>
#include <widenn/nn/loss.hpp>
#include <widenn/nn/mlp.hpp>
#include <widenn/nn/optim.hpp>
#include <widenn/nn/schedule.hpp>
#include <widenn/nn/subspace.hpp>

#include <doctest/doctest.h>

namespace {

struct example {
    widenn::matrix<float> x;
    xt::xtensor<int, 1> y;
};

// Every parameter of an nn::mlp, in order.
template <class Net>
std::vector<float> parameters(const Net& net) {
    std::vector<float> out;
    for (int l = 1; l <= Net::layers; ++l) {
        out.insert(out.end(), net.weight(l).begin(), net.weight(l).end());
        out.insert(out.end(), net.bias(l).begin(), net.bias(l).end());
    }
    return out;
}

TEST_CASE("docs/subspace.md block 1: a schedule drives an optimiser") {
    // a small μP ReLU network and two batches of 8 samples with labels 0..3 (the page leaves net and batches open)
    widenn::nn::mlp<widenn::param::mup, widenn::act::relu, 2> net({.d_in = 6, .width = 16, .d_out = 4, .seed = 3});
    std::vector<example> batches;
    for (std::uint64_t b = 0; b < 2; ++b) batches.push_back({widenn::normal_matrix<float>(8, 6, 10 + b), xt::xtensor<int, 1>{0, 1, 2, 3, 3, 2, 1, 0}});
    widenn::matrix<float> dout;

// BEGIN docs/subspace.md block 1 (verbatim: change the page and this copy together)
#include <widenn/nn/optim.hpp>
#include <widenn/nn/schedule.hpp>
namespace nn = widenn::nn;

nn::adam opt(net, {.lr = 1e-3});
nn::scheduled driver(opt, nn::cosine_power_schedule({.epochs = 100, .max_lr = 0.8, .min_lr = 0.02, .warmup = 5}, 10));
for (std::size_t epoch = 1; epoch <= 100; ++epoch) {
    driver.at(epoch);                                    // sets the optimiser's base rate η
    for (auto& [x, y] : batches) {
        nn::softmax_cross_entropy::value_and_gradient(net.forward(x), y, dout);
        driver.step(net.backward(x, dout));              // = opt.step, except at a rate of exactly 0
    }
}
std::vector<double> lr = nn::rates(nn::cosine_schedule({.epochs = 10, .max_lr = 0.1}));  // all epochs
// END docs/subspace.md block 1

    // "sets the optimiser's base rate η": after epoch 100 the optimiser runs at the schedule's last rate, min_lr
    CHECK(driver.lr() == doctest::Approx(0.02).epsilon(1e-12));
    CHECK(opt.config().lr == driver.lr());
    CHECK(opt.steps() == 200);  // every step of every epoch reached the optimiser
    // the warm-up rises linearly to max_lr at epoch W = 5; the annealing starts just below it (the page's consequences)
    const auto& power = driver.schedule();
    CHECK(power(1) == doctest::Approx(0.02 + 0.78 / 5).epsilon(1e-12));
    CHECK(power(5) == doctest::Approx(0.8).epsilon(1e-12));
    CHECK(power(6) < 0.8);
    CHECK(power(6) > 0.7);
    // "all epochs" of the cosine schedule: E = 10 rates from max_lr to min_lr = 0, the mean of the two halfway
    REQUIRE(lr.size() == 10);
    CHECK(lr[0] == doctest::Approx(0.1).epsilon(1e-12));
    CHECK(std::abs(lr[9]) < 1e-15);
    for (std::size_t e = 0; e < 10; ++e) CHECK(lr[e] == doctest::Approx(0.05 * (1 + std::cos(std::numbers::pi * e / 9.0))).epsilon(1e-12));
    // "except at a rate of exactly 0": the last epoch of a schedule with min_lr = 0 leaves the network and the optimiser alone
    nn::scheduled zero(opt, nn::cosine_schedule({.epochs = 2, .max_lr = 0.1}));
    CHECK(zero.at(2) == 0.0);
    const auto before = parameters(net);
    nn::softmax_cross_entropy::value_and_gradient(net.forward(batches[0].x), batches[0].y, dout);
    zero.step(net.backward(batches[0].x, dout));
    CHECK(parameters(net) == before);
    CHECK(opt.steps() == 200);
    CHECK(opt.config().lr == driver.lr());
}

TEST_CASE("docs/subspace.md block 2: training in a random subspace") {
    // one batch of 16 standardised "images" (B x 784, float) with labels 0..9, trained on for 10 steps
    const widenn::matrix<float> x = widenn::normal_matrix<float>(16, 784, 21);
    xt::xtensor<int, 1> labels = xt::empty<int>({std::size_t{16}});
    for (std::size_t i = 0; i < 16; ++i) labels(i) = static_cast<int>((i * 7) % 10);
    widenn::matrix<float> dout;
    const int steps = 10;

// BEGIN docs/subspace.md block 2 (verbatim: change the page and this copy together)
#include <widenn/nn/subspace.hpp>
namespace wn = widenn;
namespace nn = widenn::nn;

nn::mlp<wn::param::mup, wn::act::relu, 2> net({.d_in = 784, .width = 256, .d_out = 10, .base_width = 32});
nn::subspace sub(net, nn::make_projection(nn::projection_kind::fastfood, net.parameter_count(), /*d=*/1000, /*seed=*/7),
                 nn::subspace_scaling::adam);
nn::adam opt(sub, {.lr = 0.02});                 // nn's optimisers, unchanged, on θ_d
for (int step = 0; step < steps; ++step)
    nn::subspace_train_step<nn::softmax_cross_entropy>(sub, opt, x, labels, dout);
// END docs/subspace.md block 2

    CHECK(sub.dimension() == 1000);
    CHECK(sub.full_dimension() == net.parameter_count());
    CHECK(opt.steps() == steps);
    // training through the subspace changes the network and lowers the loss on the batch it trains on
    const auto trained = parameters(net);
    const double loss_trained = nn::softmax_cross_entropy::value(net.forward(x), labels);
    double moved = 0;
    for (double t : sub.theta_d()) moved += t * t;
    CHECK(moved > 0);
    // θ = θ₀ + S P θ_d: with θ_d = 0 the network is its initialisation again, bit for bit
    sub.set_theta_d(std::vector<double>(1000, 0.0));
    const auto initial = parameters(net);
    nn::mlp<wn::param::mup, wn::act::relu, 2> fresh({.d_in = 784, .width = 256, .d_out = 10, .base_width = 32});
    CHECK(initial == parameters(fresh));
    CHECK(trained != initial);
    const double loss_initial = nn::softmax_cross_entropy::value(net.forward(x), labels);
    CHECK(loss_trained < 0.9 * loss_initial);
}

TEST_CASE("docs/subspace.md block 3: the halfspace tester-learner") {
    // n = 2000 samples of N(0, I_5) labelled by a halfspace through the origin: the tester accepts
    const std::size_t n = 2000, d = 5;
    const widenn::matrix<double> x = widenn::normal_matrix<double>(n, d, 31);
    const std::vector<double> normal{0.6, -0.8, 0.0, 0.0, 0.0};
    xt::xtensor<int, 1> y = xt::empty<int>({n});
    for (std::size_t s = 0; s < n; ++s) y(s) = normal[0] * x(s, 0) + normal[1] * x(s, 1) >= 0 ? 1 : -1;

// BEGIN docs/subspace.md block 3 (verbatim: change the page and this copy together)
#include <widenn/learn/halfspace.hpp>
namespace learn = widenn::learn;

auto r = learn::tester_learner(x, y, {.degree = 4, .delta = 0.03, .learner = {.sigma = 0.1, .lr = 0.05, .epochs = 20}});
if (r.accepted) std::cout << r.h.error(x, y) << '\n';  // r.h.w: unit normal; r.h.predict(x): ±1 labels
else std::cerr << r.reason << '\n';                     // which test rejected, with its statistic
// END docs/subspace.md block 3

    CHECK(r.accepted);
    CHECK(r.reason == "accepted");
    REQUIRE(r.h.w.size() == d);
    double norm2 = 0, cosine = 0;
    for (std::size_t i = 0; i < d; ++i) norm2 += r.h.w[i] * r.h.w[i], cosine += r.h.w[i] * normal[i];
    CHECK(norm2 == doctest::Approx(1.0).epsilon(1e-12));  // "unit normal"
    CHECK(cosine > 0.95);                                  // it found the labelling halfspace
    CHECK(r.h.error(x, y) < 0.05);
    const auto predicted = r.h.predict(x);                 // "±1 labels"
    std::size_t signs = 0;
    for (std::size_t s = 0; s < n; ++s) signs += predicted(s) == 1 || predicted(s) == -1;
    CHECK(signs == n);

    // "which test rejected, with its statistic": uniform samples on [−√3, √3]^5 (mean 0, variance 1, but fourth moment
    // 9/5 instead of 3) fail the moment test
    widenn::rng g(32);
    widenn::matrix<double> u = xt::empty<double>({n, d});
    for (auto& v : u) v = std::sqrt(3.0) * (2 * g.uniform() - 1);
    const auto rejected = learn::tester_learner(u, y, {.degree = 4, .delta = 0.03});
    CHECK_FALSE(rejected.accepted);
    CHECK(rejected.reason.rfind("moment test: ", 0) == 0);
    CHECK(rejected.moments.worst_z > rejected.moments.threshold);
}

}  // namespace
