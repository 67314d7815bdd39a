// `widenn schedule`: the learning rate of every epoch of a schedule, one number a line.
#include <cstdio>
#include <iostream>
#include <string>

#include <widenn/nn/schedule.hpp>

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
    const std::string name = a.required_text("name");
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
    else throw widenn::cli::usage_error("--name must be constant, step, cosine or cosine-power, got '" + name + "'");
    return 0;
}

const bool registered = widenn::cli::add_command({
    "schedule",
    "learning rate of each epoch under a schedule (constant, step, cosine, cosine power annealing)",
    "usage: widenn schedule --name constant|step|cosine|cosine-power --epochs E --max-lr X --min-lr Y\n"
    "                       [--exponent P] [--warmup W] [--step-epochs S] [--gamma G]\n\n"
    "Prints the learning rate of epochs 1..E, one number a line (17 significant digits). Every schedule warms up\n"
    "linearly from --min-lr to --max-lr over the first W epochs (default 0), then runs over the remaining E - W\n"
    "epochs: constant (--max-lr), step (--max-lr times G every S epochs, never below --min-lr; defaults S = (E-W)/3,\n"
    "G = 0.1), cosine (from --max-lr to --min-lr), cosine-power (sharpDARTS' cosine power annealing with exponent P,\n"
    "default 10; P = 1 is cosine annealing). Bounds: 0 <= min-lr <= max-lr, max-lr > 0, W < E.\n"
    "Defaults: --epochs 100 --max-lr 0.1 --min-lr 0. See docs/subspace.md for the formulas.\n"
    "Example: widenn schedule --name cosine-power --epochs 100 --max-lr 0.8 --min-lr 0.02 --warmup 5\n",
    run,
});

}  // namespace
