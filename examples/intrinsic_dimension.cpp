// Intrinsic dimension of fully connected networks (Li, Farkhoor, Liu & Yosinski 2018) under the standard
// parametrization (SP) and μP at several widths: each network is trained in a random Fastfood subspace
// θ = θ₀ + S P θ_d (nn/subspace.hpp) for a range of d, and d_int90, the smallest d reaching 90 % of the
// test accuracy of ordinary training with the same budget, is found by bisection on log d.
//
// Data: Fashion-MNIST (Debian package dataset-fashion-mnist) when installed, a synthetic 10-class problem
// otherwise (or with --synthetic). Writes a CSV of accuracy against d and, with gnuplot, a plot.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <iomanip>
#include <iostream>
#include <numeric>
#include <string>
#include <vector>

#include <widenn/act/activations.hpp>
#include <widenn/core/rng.hpp>
#include <widenn/io/idx.hpp>
#include <widenn/io/plot.hpp>
#include <widenn/nn/loss.hpp>
#include <widenn/nn/mlp.hpp>
#include <widenn/nn/optim.hpp>
#include <widenn/nn/subspace.hpp>

#include "cli/cli.hpp"

namespace wn = widenn;

namespace {

const char* usage =
    "usage: intrinsic_dimension [--widths 32,64,128] [--steps 300] [--batch 64] [--lr 0.02] [--baseline-lr 0.001]\n"
    "                           [--d-min 16] [--d-max 2048] [--tolerance 0.5] [--train 10000] [--test 2000] [--seed 1] [--seeds 1]\n"
    "                           [--synthetic] [--csv intrinsic_dimension.csv] [--plot intrinsic_dimension.png]\n\n"
    "Trains ReLU MLPs 784 -> n -> n -> 10 (2 hidden layers) with Adam for --steps steps of --batch examples, in SP and muP\n"
    "(base width = the smallest width), ordinarily (the baseline, rate --baseline-lr) and inside random Fastfood subspaces of\n"
    "dimension d (rate --lr on theta_d, per-layer muP/SP Adam factors moved into the map). d_int90 is searched in\n"
    "[--d-min, --d-max] until the bracket is within a factor 1 + --tolerance. Prints progress, a table of d_int90 per\n"
    "width, and writes the CSV and the plot. With --seeds k every accuracy (baseline and subspace) is the mean over k\n"
    "initialisations, projections and batch orders (seeds --seed .. --seed + k - 1).\n";

struct dataset {
    wn::matrix<float> x;
    xt::xtensor<int, 1> y;
};

// Zero mean, unit variance over all entries (one scalar each), with the training set's statistics.
void standardise(wn::matrix<float>& train, wn::matrix<float>& test) {
    double sum = 0, sum_sq = 0;
    for (float v : train) sum += v, sum_sq += static_cast<double>(v) * v;
    const double n = static_cast<double>(train.size()), mean = sum / n, sd = std::sqrt(std::max(sum_sq / n - mean * mean, 1e-12));
    for (float& v : train) v = static_cast<float>((v - mean) / sd);
    for (float& v : test) v = static_cast<float>((v - mean) / sd);
}

// Synthetic stand-in: Gaussian inputs in 784 dimensions labelled by a random linear teacher (argmax of 10 scores).
dataset synthetic(std::size_t count, std::uint64_t seed) {
    const std::size_t d = 784, k = 10;
    const wn::matrix<float> teacher = wn::normal_matrix<float>(k, d, 999);
    dataset out{wn::normal_matrix<float>(count, d, seed), xt::empty<int>({count})};
    for (std::size_t i = 0; i < count; ++i) {
        int best = 0;
        double top = -1e300;
        for (std::size_t c = 0; c < k; ++c) {
            double s = 0;
            for (std::size_t j = 0; j < d; ++j) s += teacher(c, j) * out.x(i, j);
            if (s > top) top = s, best = static_cast<int>(c);
        }
        out.y(i) = best;
    }
    return out;
}

template <class Net>
double accuracy(Net& net, const dataset& test) {
    const auto& out = net.forward(test.x);
    std::size_t right = 0;
    for (std::size_t i = 0; i < out.shape(0); ++i) {
        std::size_t best = 0;
        for (std::size_t c = 1; c < out.shape(1); ++c)
            if (out(i, c) > out(i, best)) best = c;
        right += static_cast<int>(best) == test.y(i);
    }
    return static_cast<double>(right) / static_cast<double>(out.shape(0));
}

struct settings {
    std::size_t steps, batch, base_width;
    double lr, baseline_lr;
    std::uint64_t seed;
    std::size_t seeds;
};

// Trains a fresh network (seed fixed, so θ₀ is the same for every d) ordinarily (d = 0) or in a d-dimensional
// Fastfood subspace, and returns its test accuracy (0 if the run diverges).
template <class Net>
double train_seed(const dataset& data, const dataset& test, std::size_t width, std::size_t d, const settings& s, std::uint64_t seed) {
    Net net({.d_in = data.x.shape(1), .width = width, .d_out = 10, .base_width = s.base_width, .seed = seed});
    const std::size_t n = data.x.shape(0), dim = data.x.shape(1), batch = std::min(s.batch, n);
    wn::matrix<float> xb = xt::empty<float>({batch, dim}), dout;
    xt::xtensor<int, 1> yb = xt::empty<int>({batch});
    wn::rng order(1000 + seed);
    std::vector<std::size_t> perm(n);
    std::iota(perm.begin(), perm.end(), std::size_t{0});
    std::size_t cursor = n;
    auto fill = [&] {
        for (std::size_t b = 0; b < batch; ++b) {
            if (cursor == n) {
                for (std::size_t i = n; i > 1; --i) std::swap(perm[i - 1], perm[order.below(i)]);
                cursor = 0;
            }
            const std::size_t row = perm[cursor++];
            std::copy(data.x.data() + row * dim, data.x.data() + (row + 1) * dim, xb.data() + b * dim);
            yb(b) = data.y(row);
        }
    };
    try {
        if (d == 0) {
            wn::nn::adam<Net> opt(net, {.lr = s.baseline_lr});
            for (std::size_t step = 0; step < s.steps; ++step) {
                fill();
                wn::nn::softmax_cross_entropy::value_and_gradient(net.forward(xb), yb, dout);
                opt.step(net.backward(xb, dout));
            }
        } else {
            wn::nn::subspace<Net> sub(net, wn::nn::make_projection(wn::nn::projection_kind::fastfood, net.parameter_count(), d, 77 + d + 100003 * seed),
                                      wn::nn::subspace_scaling::adam);
            wn::nn::adam<wn::nn::subspace<Net>> opt(sub, {.lr = s.lr});
            for (std::size_t step = 0; step < s.steps; ++step) {
                fill();
                wn::nn::subspace_train_step<wn::nn::softmax_cross_entropy>(sub, opt, xb, yb, dout);
            }
        }
        return accuracy(net, test);
    } catch (const wn::error&) {  // non-finite outputs: the run diverged
        return 0.0;
    }
}

// The mean test accuracy over s.seeds seeds.
template <class Net>
double train(const dataset& data, const dataset& test, std::size_t width, std::size_t d, const settings& s) {
    double sum = 0;
    for (std::size_t k = 0; k < s.seeds; ++k) sum += train_seed<Net>(data, test, width, d, s, s.seed + k);
    return sum / static_cast<double>(s.seeds);
}

}  // namespace

int main(int argc, char** argv) {
    return wn::cli::run_program("intrinsic_dimension", usage, argc, argv, [&](wn::cli::args& a) {
        auto widths = a.integers<std::size_t>("widths", {32, 64, 128}, 1, 8192);
        std::sort(widths.begin(), widths.end());
        settings s{};
        s.steps = a.count("steps", 300, 1, 1'000'000);
        s.batch = a.count("batch", 64, 1, 60000);
        s.lr = a.real("lr", 0.02, 1e-8, 10);
        s.baseline_lr = a.real("baseline-lr", 0.001, 1e-8, 10);
        s.seed = a.integer<std::uint64_t>("seed", 1);
        s.seeds = a.count("seeds", 1, 1, 1000);
        s.base_width = widths.front();
        const std::size_t d_min = a.count("d-min", 16), d_max = a.count("d-max", 2048);
        const double tolerance = a.real("tolerance", 0.5, 1e-6, 100);
        const std::size_t n_train = a.count("train", 10000, 10, 60000), n_test = a.count("test", 2000, 10, 10000);
        const bool force_synthetic = a.has("synthetic");
        const std::string csv_path = a.text("csv", "intrinsic_dimension.csv"), plot_path = a.text("plot", "intrinsic_dimension.png");
        a.reject_unknown();
        wn::require(d_min <= d_max, "--d-min must be <= --d-max");

        dataset data, test;
        std::string source;
        if (!force_synthetic && wn::io::fashion_mnist_available()) {
            auto tr = wn::io::read_fashion_mnist(true, n_train);
            auto te = wn::io::read_fashion_mnist(false, n_test);
            data = {std::move(tr.images), std::move(tr.labels)};
            test = {std::move(te.images), std::move(te.labels)};
            standardise(data.x, test.x);
            source = "Fashion-MNIST";
        } else {
            if (!force_synthetic) std::cerr << "intrinsic_dimension: Fashion-MNIST not found; using synthetic data\n";
            data = synthetic(n_train, 1);
            test = synthetic(n_test, 2);
            source = "synthetic (random linear teacher)";
        }
        std::cout << "intrinsic_dimension: " << source << ", " << data.x.shape(0) << " train / " << test.x.shape(0)
                  << " test; ReLU MLP 784 -> n -> n -> 10, Adam, " << s.steps << " steps of " << s.batch << "; Fastfood subspaces, d in ["
                  << d_min << ", " << d_max << "], tolerance " << tolerance << "; mean over " << s.seeds << " seed(s)\n";

        using relu = wn::act::relu;
        using sp_net = wn::nn::mlp<wn::param::allow_unstable<wn::param::standard>, relu, 2, float>;
        using mup_net = wn::nn::mlp<wn::param::mup, relu, 2, float>;
        const std::vector<std::string> names = {"SP", "muP"};
        wn::io::csv_writer csv(csv_path, {"parametrization", "width", "parameters", "d", "accuracy", "baseline_accuracy"});
        const auto start = std::chrono::steady_clock::now();
        auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
        struct row {
            std::string name;
            std::size_t width, D;
            double baseline;
            wn::nn::intrinsic_search_result r;
        };
        std::vector<row> rows;
        for (std::size_t p = 0; p < 2; ++p)
            for (std::size_t width : widths) {
                auto run = [&](std::size_t d) {
                    return p == 0 ? train<sp_net>(data, test, width, d, s) : train<mup_net>(data, test, width, d, s);
                };
                const std::size_t D = 784 * width + width + width * width + width + width * 10 + 10;
                const double baseline = run(0);
                csv.row(names[p], width, D, 0, baseline, baseline);
                std::cerr << std::fixed << std::setprecision(1) << "[" << elapsed() << " s] " << names[p] << " width " << width << " (D = " << D
                          << "): baseline accuracy " << std::setprecision(4) << baseline << '\n';
                auto perf = [&](std::size_t d) {
                    const double acc = run(d);
                    csv.row(names[p], width, D, d, acc, baseline);
                    std::cerr << std::fixed << std::setprecision(1) << "[" << elapsed() << " s]   d = " << d << ": accuracy "
                              << std::setprecision(4) << acc << '\n';
                    return acc;
                };
                const auto r = wn::nn::intrinsic_dimension_search(perf, baseline,
                                                                  {.d_min = d_min, .d_max = std::min(d_max, D), .tolerance = tolerance});
                rows.push_back({names[p], width, D, baseline, r});
            }

        std::cout << "\n" << std::left << std::setw(6) << "param" << std::setw(7) << "width" << std::setw(10) << "D" << std::setw(11)
                  << "baseline" << std::setw(10) << "target" << "d_int90 (bracket)\n";
        for (const auto& r : rows) {
            std::cout << std::left << std::setw(6) << r.name << std::setw(7) << r.width << std::setw(10) << r.D << std::fixed << std::setprecision(4)
                      << std::setw(11) << r.baseline << std::setw(10) << r.r.target;
            if (!r.r.found) std::cout << "> " << std::min(d_max, r.D) << " (not reached)\n";
            else std::cout << r.r.d_int << " (" << r.r.lower << ", " << r.r.d_int << "]\n";
        }
        std::cout << std::defaultfloat << "total " << std::setprecision(3) << elapsed() << " s; curves in " << csv_path << '\n';

        std::string script = "set terminal pngcairo size 900,600\nset output " + wn::io::gnuplot_quote(plot_path) +
                             "\nset datafile separator ','\nset logscale x 2\nset key bottom right\nset xlabel 'subspace dimension d'\n"
                             "set ylabel 'test accuracy'\nset title 'Intrinsic dimension (Fastfood subspaces), " + source + "'\nplot ";
        const char* separator = "";
        for (const auto& r : rows) {
            script += separator;
            script += wn::io::gnuplot_quote(csv_path) + " using ((strcol(1) eq '" + r.name + "' && $2 == " + std::to_string(r.width) +
                      " && $4 > 0) ? $4 : 1/0):5 smooth unique with linespoints title '" + r.name + " n=" + std::to_string(r.width) + "'";
            separator = ", ";
        }
        script += "\n";
        std::string reason;
        if (wn::io::run_gnuplot(script, &reason)) std::cout << "plot: " << plot_path << '\n';
        else std::cout << "no plot: " << reason << '\n';
        return 0;
    });
}
