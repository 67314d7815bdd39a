// Every learning-rate schedule of nn/schedule.hpp over the same epochs, as a CSV and (with gnuplot) a plot:
// constant, step, cosine and sharpDARTS' cosine power annealing (Hundt, Jain & Hager 2019) at several
// exponents, with and without warm-up.
#include <cmath>
#include <iostream>
#include <string>
#include <vector>

#include <widenn/io/plot.hpp>
#include <widenn/nn/schedule.hpp>

#include "cli/cli.hpp"

namespace wn = widenn;

int main(int argc, char** argv) {
    const char* usage =
        "usage: schedules [--epochs 100] [--max-lr 0.8] [--min-lr 0.02] [--warmup 5] [--csv schedules.csv] [--plot schedules.png]\n\n"
        "Writes the learning rate of every epoch under: constant, step (x0.1 every third of the run), cosine, cosine power\n"
        "annealing with exponents 2 and 10, and cosine power annealing (exponent 10) with a linear warm-up of --warmup epochs.\n"
        "The plot has a linear and a logarithmic panel.\n";
    return wn::cli::run_program("schedules", usage, argc, argv, [&](wn::cli::args& a) {
        wn::nn::schedule_config c;
        c.epochs = a.count("epochs", 100, 2, 1'000'000);
        c.max_lr = a.real("max-lr", 0.8);
        c.min_lr = a.real("min-lr", 0.02);
        const std::size_t warmup = a.count("warmup", 5, 1, 1'000'000);
        const std::string csv_path = a.text("csv", "schedules.csv"), plot_path = a.text("plot", "schedules.png");
        a.reject_unknown();
        wn::nn::schedule_config warm = c;
        warm.warmup = warmup;
        const wn::nn::constant_schedule constant(c);
        const wn::nn::step_schedule step(c, std::max<std::size_t>(1, c.epochs / 3), 0.1);
        const wn::nn::cosine_schedule cosine(c);
        const wn::nn::cosine_power_schedule power2(c, 2), power10(c, 10), power10_warm(warm, 10);
        const std::vector<std::string> names = {"constant", "step", "cosine", "cosine-power p=2", "cosine-power p=10",
                                                "cosine-power p=10 warm-up " + std::to_string(warmup)};
        wn::io::csv_writer csv(csv_path, {"epoch", "constant", "step", "cosine", "cosine_power_2", "cosine_power_10", "cosine_power_10_warmup"});
        for (std::size_t e = 1; e <= c.epochs; ++e) csv.row(e, constant(e), step(e), cosine(e), power2(e), power10(e), power10_warm(e));
        std::cout << "schedules: " << c.epochs << " epochs from " << c.max_lr << " to " << c.min_lr << "; written to " << csv_path << '\n'
                  << "epoch " << c.epochs / 2 << ": constant " << constant(c.epochs / 2) << ", step " << step(c.epochs / 2) << ", cosine "
                  << cosine(c.epochs / 2) << ", cosine-power p=2 " << power2(c.epochs / 2) << ", p=10 " << power10(c.epochs / 2) << '\n';
        std::string plots;
        for (std::size_t k = 0; k < names.size(); ++k)
            plots += (k ? ", " : "") + wn::io::gnuplot_quote(csv_path) + " using 1:" + std::to_string(k + 2) + " with lines lw 2 title '" + names[k] + "'";
        const std::string script = "set terminal pngcairo size 1200,500\nset output " + wn::io::gnuplot_quote(plot_path) +
                                   "\nset datafile separator ','\nset key autotitle columnhead\nset multiplot layout 1,2\n"
                                   "set xlabel 'epoch'\nset ylabel 'learning rate'\nset key top right\nplot " + plots +
                                   "\nset logscale y\nset key bottom left\nplot " + plots + "\nunset multiplot\n";
        std::string reason;
        if (wn::io::run_gnuplot(script, &reason)) std::cout << "plot: " << plot_path << '\n';
        else std::cout << "no plot: " << reason << '\n';
        return 0;
    });
}
