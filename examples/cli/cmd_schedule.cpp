// `widenn schedule`: the learning rate of every epoch of a schedule, one number a line. Also the tour
// section for schedules, subspace training and the halfspace tester-learner (docs/subspace.md).
#include <cmath>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <numbers>
#include <ostream>
#include <string>

#include <widenn/act/activations.hpp>
#include <widenn/learn/halfspace.hpp>
#include <widenn/nn/loss.hpp>
#include <widenn/nn/mlp.hpp>
#include <widenn/nn/optim.hpp>
#include <widenn/nn/schedule.hpp>
#include <widenn/nn/subspace.hpp>

#include "cli.hpp"

namespace {

namespace nn = widenn::nn;

template <class S>
void print(const S& s) {
    char buffer[64];
    for (std::size_t e = 1; e <= s.config().epochs; ++e) {
        std::snprintf(buffer, sizeof buffer, "%.17g", s(e));
        std::cout << buffer << '\n';
    }
}

int run(widenn::cli::args& a) {
    const std::string name = a.positional(0);
    if (name.empty()) throw widenn::cli::usage_error("name the schedule: widenn schedule constant|step|cosine|cosine-power --epochs E ...");
    nn::schedule_config c;
    c.epochs = a.count("epochs", 100, 1, nn::max_schedule_epochs);
    c.max_lr = a.real("max-lr", 0.1);
    c.min_lr = a.real("min-lr", 0.0);
    c.warmup = a.count("warmup", 0, 0, nn::max_schedule_epochs);
    const double exponent = a.real("exponent", 10.0);
    const std::size_t annealing = c.epochs > c.warmup ? c.epochs - c.warmup : 1;
    const std::size_t step_epochs = a.count("step-epochs", annealing >= 3 ? annealing / 3 : 1, 1, nn::max_schedule_epochs);
    const double gamma = a.real("gamma", 0.1);
    a.reject_unknown();
    if (name == "constant") print(nn::constant_schedule(c));
    else if (name == "step") print(nn::step_schedule(c, step_epochs, gamma));
    else if (name == "cosine") print(nn::cosine_schedule(c));
    else if (name == "cosine-power") print(nn::cosine_power_schedule(c, exponent));
    else throw widenn::cli::usage_error("the schedule must be constant, step, cosine or cosine-power, got '" + name + "'");
    return 0;
}

const bool registered = widenn::cli::add_command({
    "schedule",
    "learning rate of each epoch under a schedule (constant, step, cosine, cosine power annealing)",
    "usage: widenn schedule constant|step|cosine|cosine-power --epochs E --max-lr X --min-lr Y\n"
    "                       [--exponent P] [--warmup W] [--step-epochs S] [--gamma G]\n\n"
    "Prints the learning rate of epochs 1..E, one number a line (17 significant digits). Every schedule warms up\n"
    "linearly from --min-lr to --max-lr over the first W epochs (default 0), then runs over the remaining E - W\n"
    "epochs: constant (--max-lr), step (--max-lr times G every S epochs, never below --min-lr; defaults S = (E-W)/3,\n"
    "G = 0.1), cosine (from --max-lr to --min-lr), cosine-power (sharpDARTS' cosine power annealing with exponent P,\n"
    "default 10; P = 1 is cosine annealing). Bounds: 0 <= min-lr <= max-lr, max-lr > 0, W < E.\n"
    "Defaults: --epochs 100 --max-lr 0.1 --min-lr 0. See docs/subspace.md for the formulas.\n"
    "Example: widenn schedule cosine-power --epochs 100 --max-lr 0.8 --min-lr 0.02 --warmup 5\n",
    run,
});

// Tour: cosine power annealing at a few epochs; a small MLP trained ordinarily and inside Fastfood subspaces
// of growing dimension; the tester-learner on Gaussian and cube data.
void tour(std::ostream& out) {
    const nn::cosine_power_schedule power({.epochs = 100, .max_lr = 0.8, .min_lr = 0.02, .warmup = 5}, 10);
    const nn::cosine_schedule cosine({.epochs = 100, .max_lr = 0.8, .min_lr = 0.02});
    out << "Cosine power annealing (sharpDARTS, p = 10, warm-up 5) against cosine, 100 epochs 0.8 -> 0.02:\n  epoch  " << std::right;
    for (std::size_t e : {1, 5, 6, 25, 50, 75, 100}) out << std::setw(8) << e;
    out << "\n  power  ";
    for (std::size_t e : {1, 5, 6, 25, 50, 75, 100}) out << std::setw(8) << std::setprecision(3) << power(e);
    out << "\n  cosine ";
    for (std::size_t e : {1, 5, 6, 25, 50, 75, 100}) out << std::setw(8) << std::setprecision(3) << cosine(e);
    out << std::setprecision(6) << std::left << "\n\n";

    // A 2-hidden-layer muP tanh MLP on a fixed regression batch, Adam for 200 steps, in full and in subspaces.
    using net_t = nn::mlp<widenn::param::mup, widenn::act::tanh, 2, double>;
    const widenn::matrix<double> x = widenn::normal_matrix<double>(64, 8, 1), y = widenn::normal_matrix<double>(64, 2, 2, 0.5);
    auto make = [] { return net_t({.d_in = 8, .width = 64, .d_out = 2, .base_width = 16, .seed = 3}); };
    widenn::matrix<double> dout;
    net_t full = make();
    const std::size_t D = full.parameter_count();
    nn::adam opt_full(full, {.lr = 3e-3});
    for (int s = 0; s < 200; ++s) {
        nn::mse::value_and_gradient(full.forward(x), y, dout);
        opt_full.step(full.backward(x, dout));
    }
    out << "Training inside random Fastfood subspaces theta = theta0 + S P theta_d (Li et al. 2018), D = " << D
        << ", Adam 200 steps, MSE on a fixed batch:\n  full training: loss " << nn::mse::value(full.forward(x), y) << '\n';
    for (std::size_t d : {4, 16, 64, 256}) {
        net_t net = make();
        nn::subspace sub(net, nn::make_projection(nn::projection_kind::fastfood, D, d, 5), nn::subspace_scaling::adam);
        nn::adam opt(sub, {.lr = 3e-2});
        for (int s = 0; s < 200; ++s) nn::subspace_train_step<nn::mse>(sub, opt, x, y, dout);
        out << "  d = " << std::setw(4) << d << ":     loss " << nn::mse::value(net.forward(x), y) << '\n';
    }

    // The tester-learner (Gollakota, Klivans, Stavropoulos & Vasilyan 2023).
    namespace learn = widenn::learn;
    const std::size_t n = 8000, dim = 6;
    std::vector<double> w_star = {0.5, -0.5, 0.5, 0.0, 0.5, 0.0};
    auto label = [&](const widenn::matrix<double>& xs) {
        widenn::rng g(9);
        xt::xtensor<int, 1> ys = xt::empty<int>({xs.shape(0)});
        for (std::size_t i = 0; i < xs.shape(0); ++i) {
            double p = 0;
            for (std::size_t j = 0; j < dim; ++j) p += w_star[j] * xs(i, j);
            ys(i) = (p >= 0 ? 1 : -1) * (g.uniform() < 0.05 ? -1 : 1);
        }
        return ys;
    };
    const widenn::matrix<double> gauss = widenn::normal_matrix<double>(n, dim, 7);
    widenn::matrix<double> cube = xt::empty<double>({n, dim});
    widenn::rng g(8);
    for (auto& v : cube) v = std::sqrt(3.0) * (2 * g.uniform() - 1);
    out << "\nHalfspace tester-learner, d = " << dim << ", n = " << n << ", 5 % random label noise:\n";
    for (int which = 0; which < 2; ++which) {
        const auto& xs = which == 0 ? gauss : cube;
        const auto r = learn::tester_learner(xs, label(xs));
        out << "  " << (which == 0 ? "Gaussian inputs:     " : "uniform on the cube: ") << (r.accepted ? "accept" : "reject") << "  ("
            << r.reason.substr(0, r.reason.find(':')) << ")";
        if (r.accepted) {
            double c = 0;
            for (std::size_t j = 0; j < dim; ++j) c += r.h.w[j] * w_star[j];
            out << ", angle to w*/pi = " << std::acos(std::min(1.0, c)) / std::numbers::pi;
        }
        out << '\n';
    }
}

const bool registered_section =
    widenn::cli::add_tour_section({80, "schedules, intrinsic dimension by subspace training, halfspace tester-learner", tour});

}  // namespace
