// μTransfer (Yang et al. 2022, "Tensor Programs V", Fig. 1 and §3): sweep the learning rate at several widths
// under the standard parametrization (SP) and under μP, and compare where the training loss is lowest.
// Under μP the optimal learning rate stays put as width grows (so it can be tuned on a small model); under SP
// it drifts. μP and SP are the same network at the base width (TP5 Eq. 4), the smallest width here.
//
// Data: Fashion-MNIST (Debian package dataset-fashion-mnist) when installed, a synthetic 10-class problem
// otherwise (or with --synthetic). Writes a CSV and, with gnuplot, a plot of loss against log2 lr.
//
//   mutransfer [--widths 32,64,128,256,512,1024] [--log2-lr-min -14 --log2-lr-max -4 --log2-lr-step 1] [--steps 300]
//              [--batch 64] [--seeds 1] [--optimizer adam|sgd] [--momentum 0] [--train 20000]
//              [--zero-readout] [--synthetic] [--csv mutransfer.csv] [--plot mutransfer.png]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <iomanip>
#include <iostream>
#include <limits>
#include <map>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include <widenn/act/activations.hpp>
#include <widenn/core/rng.hpp>
#include <widenn/io/idx.hpp>
#include <widenn/io/plot.hpp>
#include <widenn/nn/loss.hpp>
#include <widenn/nn/mlp.hpp>
#include <widenn/nn/optim.hpp>

#include "cli/cli.hpp"

namespace wn = widenn;

namespace {

struct options {
    std::vector<std::size_t> widths = {32, 64, 128, 256, 512, 1024};
    double log2_lr_min = -14, log2_lr_max = -4;  // the adam grid; sgd's is -10..0
    double log2_lr_step = 1;
    std::size_t steps = 300, batch = 64, seeds = 1, train = 20000;
    std::string optimizer = "adam";
    double momentum = 0;
    bool zero_readout = false, synthetic = false;
    std::string csv = "mutransfer.csv", plot = "mutransfer.png";
};

struct dataset {
    wn::matrix<float> x;  // N x d, standardised
    xt::xtensor<int, 1> y;
    std::string name;
};

// ---- command line ----

const char* const usage =
    "usage: mutransfer [--widths 32,64,128,256,512,1024] [--log2-lr-min A --log2-lr-max B --log2-lr-step S] [--steps 300]\n"
    "                  [--batch 64] [--seeds 1] [--optimizer adam|sgd] [--momentum 0] [--train 20000]\n"
    "                  [--zero-readout] [--synthetic] [--csv mutransfer.csv] [--plot mutransfer.png]\n"
    "Learning-rate sweep at several widths, SP against muP (Tensor Programs V): under muP the optimal learning rate\n"
    "stays put as the width grows. Fashion-MNIST when installed, synthetic data otherwise (or with --synthetic).\n"
    "Default grids: log2 lr -14..-4 for adam, -10..0 for sgd. Writes the CSV and, with gnuplot, the plot.\n";

options parse(wn::cli::args& a) {
    options o;
    o.widths = a.integers<std::size_t>("widths", o.widths, 1, 65536);
    std::sort(o.widths.begin(), o.widths.end());
    o.widths.erase(std::unique(o.widths.begin(), o.widths.end()), o.widths.end());
    o.optimizer = a.text("optimizer", o.optimizer);
    // Default grids bracket the optima seen at widths 32..1024 (Adam 2^-11..2^-7, SGD 2^-3..2^-2) and SP's divergence edge.
    o.log2_lr_min = a.real("log2-lr-min", o.optimizer == "sgd" ? -10 : -14, -1000, 1000);
    o.log2_lr_max = a.real("log2-lr-max", o.optimizer == "sgd" ? 0 : -4, -1000, 1000);
    o.log2_lr_step = a.real("log2-lr-step", o.log2_lr_step, 0, 1000);
    o.steps = a.count("steps", o.steps, 1, 10000000);
    o.batch = a.count("batch", o.batch, 1, 100000);
    o.seeds = a.count("seeds", o.seeds, 1, 1000);
    o.train = a.count("train", o.train, 1, 60000);
    o.momentum = a.real("momentum", o.momentum, 0, 1);
    o.zero_readout = a.has("zero-readout");
    o.synthetic = a.has("synthetic");
    o.csv = a.text("csv", o.csv);
    o.plot = a.text("plot", o.plot);
    a.reject_unknown();
    using wn::cli::usage_error;
    if (o.optimizer != "sgd" && o.optimizer != "adam") throw usage_error("--optimizer must be adam or sgd, got '" + o.optimizer + "'");
    if (!(o.log2_lr_step > 0) || o.log2_lr_max < o.log2_lr_min) throw usage_error("need --log2-lr-step > 0 and --log2-lr-max >= --log2-lr-min");
    if ((o.log2_lr_max - o.log2_lr_min) / o.log2_lr_step > 10000) throw usage_error("the learning-rate grid would have more than 10000 points");
    if (o.momentum >= 1) throw usage_error("--momentum must be in [0, 1)");
    if (o.csv.empty() || o.plot.empty()) throw usage_error("--csv and --plot need a file name");
    return o;
}

// ---- data ----

// Scales x to zero mean and unit variance over all entries (one scalar each), so the first layer sees Θ(1) inputs.
void standardise(wn::matrix<float>& x) {
    double sum = 0, sum_sq = 0;
    for (float v : x) {
        sum += v;
        sum_sq += static_cast<double>(v) * v;
    }
    const double n = static_cast<double>(x.size()), mean = sum / n, sd = std::sqrt(std::max(sum_sq / n - mean * mean, 1e-12));
    for (float& v : x) v = static_cast<float>((v - mean) / sd);
}

// A synthetic 10-class problem in 784 dimensions: labels of a random two-layer ReLU teacher on Gaussian inputs.
dataset synthetic_data(std::size_t count) {
    const std::size_t d = 784, hidden = 64, classes = 10;
    wn::rng g(2022);
    wn::matrix<float> teacher1 = xt::empty<float>({hidden, d}), teacher2 = xt::empty<float>({classes, hidden});
    for (auto& v : teacher1) v = static_cast<float>(g.normal() / std::sqrt(double(d)));
    for (auto& v : teacher2) v = static_cast<float>(g.normal() / std::sqrt(double(hidden)));
    dataset out{xt::empty<float>({count, d}), xt::empty<int>({count}), "synthetic (random ReLU teacher, d = 784, 10 classes)"};
    std::vector<double> h(hidden);
    for (std::size_t i = 0; i < count; ++i) {
        for (std::size_t j = 0; j < d; ++j) out.x(i, j) = static_cast<float>(g.normal());
        for (std::size_t k = 0; k < hidden; ++k) {
            double s = 0;
            for (std::size_t j = 0; j < d; ++j) s += teacher1(k, j) * out.x(i, j);
            h[k] = std::max(s, 0.0);
        }
        int best = 0;
        double best_value = -1e300;
        for (std::size_t c = 0; c < classes; ++c) {
            double s = 0;
            for (std::size_t k = 0; k < hidden; ++k) s += teacher2(c, k) * h[k];
            if (s > best_value) best_value = s, best = static_cast<int>(c);
        }
        out.y(i) = best;
    }
    return out;
}

dataset load_data(const options& o) {
    if (!o.synthetic && wn::io::fashion_mnist_available()) {
        auto d = wn::io::read_fashion_mnist(true, o.train);
        dataset out{std::move(d.images), std::move(d.labels), "Fashion-MNIST (" + wn::io::fashion_mnist_dir() + ")"};
        standardise(out.x);
        return out;
    }
    if (!o.synthetic) std::cerr << "mutransfer: Fashion-MNIST not found in " << wn::io::fashion_mnist_dir() << "; using synthetic data\n";
    return synthetic_data(o.train);
}

// ---- training ----

struct run_result {
    double loss;  // mean mini-batch cross-entropy over the last quarter of the steps; NaN if training diverged
    bool diverged;
};

// Trains one network and returns its training loss: the mean mini-batch loss over the last quarter of the steps
// (averaging over iterates and batches makes the loss-against-lr curve smooth enough to locate its minimum).
template <class Net>
run_result train_one(const dataset& data, const options& o, std::size_t width, std::size_t seed, double lr) {
    using T = float;
    wn::nn::mlp_config config;
    config.d_in = data.x.shape(1);
    config.width = width;
    config.d_out = 10;
    config.base_width = o.widths.front();  // μP equals SP at the smallest width
    config.zero_readout = o.zero_readout;
    config.seed = seed;
    Net net(config);
    const std::size_t n = data.x.shape(0), d = data.x.shape(1), batch = std::min(o.batch, n);
    wn::matrix<T> xb = xt::empty<T>({batch, d}), dloss;
    xt::xtensor<int, 1> yb = xt::empty<int>({batch});
    // The same sequence of mini-batches for every width and learning rate: shuffled epochs from the seed.
    wn::rng order(1000 + seed);
    std::vector<std::size_t> perm(n);
    std::iota(perm.begin(), perm.end(), std::size_t{0});
    std::size_t cursor = n;
    auto fill_batch = [&] {
        for (std::size_t b = 0; b < batch; ++b) {
            if (cursor == n) {
                for (std::size_t i = n; i > 1; --i) std::swap(perm[i - 1], perm[order.below(i)]);
                cursor = 0;
            }
            const std::size_t row = perm[cursor++];
            std::copy(data.x.data() + row * d, data.x.data() + (row + 1) * d, xb.data() + b * d);
            yb(b) = data.y(row);
        }
    };
    const std::size_t averaged = std::max<std::size_t>(1, o.steps / 4);
    double loss_sum = 0;
    auto train = [&](auto& opt) -> bool {
        for (std::size_t step = 0; step < o.steps; ++step) {
            fill_batch();
            const auto& out = net.forward(xb);
            const double loss = wn::nn::softmax_cross_entropy::value_and_gradient(out, yb, dloss);
            if (!std::isfinite(loss) || loss > 100) return false;  // ln(10) ≈ 2.3 at chance: this run has blown up
            if (step + averaged >= o.steps) loss_sum += loss;
            opt.step(net.backward(xb, dloss));
        }
        return true;
    };
    try {
        bool ok = false;
        if (o.optimizer == "sgd") {
            wn::nn::sgd<Net> opt(net, wn::nn::sgd_config{.lr = lr, .momentum = o.momentum});
            ok = train(opt);
        } else {
            wn::nn::adam<Net> opt(net, wn::nn::adam_config{.lr = lr});
            ok = train(opt);
        }
        if (!ok) return {std::numeric_limits<double>::quiet_NaN(), true};
        return {loss_sum / static_cast<double>(averaged), false};
    } catch (const wn::error&) {  // non-finite outputs or gradients: the run diverged
        return {std::numeric_limits<double>::quiet_NaN(), true};
    }
}

// The fitted optimum: the vertex of a least-squares parabola through the grid minimum and up to two finite
// neighbours on each side (the grid argmin itself if the fit is not convex or its vertex leaves that window).
double refined_optimum(const std::vector<double>& log2_lr, const std::vector<double>& loss) {
    std::size_t best = log2_lr.size();
    for (std::size_t i = 0; i < loss.size(); ++i)
        if (!std::isnan(loss[i]) && (best == log2_lr.size() || loss[i] < loss[best])) best = i;
    if (best == log2_lr.size()) return std::numeric_limits<double>::quiet_NaN();
    // Normal equations of loss ≈ a + b u + c u², u = log2 lr − log2 lr[best], in double.
    double s[5] = {0, 0, 0, 0, 0}, r[3] = {0, 0, 0};
    double lo = log2_lr[best], hi = log2_lr[best];
    std::size_t used = 0;
    for (std::size_t i = best >= 2 ? best - 2 : 0; i < std::min(loss.size(), best + 3); ++i) {
        if (std::isnan(loss[i])) continue;
        const double u = log2_lr[i] - log2_lr[best];
        double power = 1;
        for (double& si : s) si += power, power *= u;
        r[0] += loss[i], r[1] += loss[i] * u, r[2] += loss[i] * u * u;
        lo = std::min(lo, log2_lr[i]), hi = std::max(hi, log2_lr[i]);
        ++used;
    }
    if (used < 3) return log2_lr[best];
    // Solve the 3 x 3 system [[s0 s1 s2] [s1 s2 s3] [s2 s3 s4]] (a b c) = r by Cramer's rule.
    auto det = [](double a, double b, double c, double d, double e, double f, double g, double h, double i) {
        return a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
    };
    const double d = det(s[0], s[1], s[2], s[1], s[2], s[3], s[2], s[3], s[4]);
    if (std::abs(d) < 1e-12) return log2_lr[best];
    const double b = det(s[0], r[0], s[2], s[1], r[1], s[3], s[2], r[2], s[4]) / d;
    const double c = det(s[0], s[1], r[0], s[1], s[2], r[1], s[2], s[3], r[2]) / d;
    if (c <= 0) return log2_lr[best];
    const double vertex = log2_lr[best] - b / (2 * c);
    return vertex >= lo && vertex <= hi ? vertex : log2_lr[best];
}

// The sweep, the table of optima and the plot.
int sweep(const options& o) {
    using relu = wn::act::relu;
    using sp_net = wn::nn::mlp<wn::param::allow_unstable<wn::param::standard>, relu, 2, float>;
    using mup_net = wn::nn::mlp<wn::param::mup, relu, 2, float>;

    const auto start = std::chrono::steady_clock::now();
    const dataset data = load_data(o);
    std::vector<double> grid;
    for (double v = o.log2_lr_min; v <= o.log2_lr_max + 1e-9; v += o.log2_lr_step) grid.push_back(v);
    const std::vector<std::string> names = {"SP", "muP"};
    std::cout << "mutransfer: " << data.name << ", " << data.x.shape(0) << " training examples; ReLU MLP 784 -> n -> n -> 10;\n"
              << "  " << o.optimizer << (o.momentum > 0 ? " with momentum" : "") << ", batch " << o.batch << ", " << o.steps
              << " steps; base width " << o.widths.front() << " (muP = SP there); " << grid.size() << " learning rates 2^"
              << o.log2_lr_min << " .. 2^" << o.log2_lr_max << "; " << o.seeds << " seed(s);\n"
              << "  loss = mean mini-batch cross-entropy over the last " << std::max<std::size_t>(1, o.steps / 4) << " steps\n";

    wn::io::csv_writer csv(o.csv, {"parametrization", "width", "seed", "log2_lr", "lr", "train_loss", "diverged"});
    // mean loss over seeds, [parametrization][width index][lr index]; NaN if any seed diverged.
    std::vector<std::vector<std::vector<double>>> mean(2, std::vector<std::vector<double>>(o.widths.size(), std::vector<double>(grid.size(), 0)));
    const std::size_t total = 2 * o.widths.size() * grid.size() * o.seeds;
    std::size_t done = 0;
    for (std::size_t w = 0; w < o.widths.size(); ++w)
        for (std::size_t p = 0; p < 2; ++p)
            for (std::size_t k = 0; k < grid.size(); ++k)
                for (std::size_t seed = 0; seed < o.seeds; ++seed) {
                    const double lr = std::exp2(grid[k]);
                    const run_result r = p == 0 ? train_one<sp_net>(data, o, o.widths[w], seed, lr)
                                                : train_one<mup_net>(data, o, o.widths[w], seed, lr);
                    csv.row(names[p], o.widths[w], seed, grid[k], lr, r.loss, r.diverged ? 1 : 0);
                    mean[p][w][k] += r.loss / static_cast<double>(o.seeds);
                    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
                    std::cerr << "[" << ++done << "/" << total << "] " << std::setw(3) << names[p] << " width " << std::setw(5) << o.widths[w]
                              << "  log2 lr " << std::setw(5) << grid[k] << "  seed " << seed << "  loss "
                              << (r.diverged ? std::string("diverged") : std::to_string(r.loss)) << "   (" << std::fixed
                              << std::setprecision(0) << seconds << " s)" << std::defaultfloat << std::setprecision(6) << '\n';
                }

    csv.close();  // the CSV appears whole here

    // The table of optima.
    std::cout << "\nlog2 of the optimal learning rate (grid argmin; vertex of a parabola fitted around it) and the loss there:\n"
              << std::left << std::setw(8) << "width";
    for (const auto& name : names) std::cout << std::setw(38) << name;
    std::cout << '\n' << std::right << std::fixed << std::setprecision(2);
    std::vector<std::vector<double>> optimum(2);
    for (std::size_t w = 0; w < o.widths.size(); ++w) {
        std::cout << std::left << std::setw(8) << o.widths[w] << std::right;
        for (std::size_t p = 0; p < 2; ++p) {
            const auto& loss = mean[p][w];
            std::size_t best = grid.size();
            for (std::size_t k = 0; k < grid.size(); ++k)
                if (!std::isnan(loss[k]) && (best == grid.size() || loss[k] < loss[best])) best = k;
            if (best == grid.size()) {
                std::cout << std::setw(38) << "every learning rate diverged";
                optimum[p].push_back(std::numeric_limits<double>::quiet_NaN());
                continue;
            }
            const double refined = refined_optimum(grid, loss);
            optimum[p].push_back(refined);
            std::ostringstream cell;
            cell << std::fixed << std::setprecision(2) << "grid " << std::setw(6) << grid[best] << "  fit " << std::setw(6) << refined
                 << "  loss " << std::setprecision(3) << loss[best];
            std::cout << std::setw(38) << std::left << cell.str() << std::right;
        }
        std::cout << '\n';
    }
    for (std::size_t p = 0; p < 2; ++p) {
        // Range of the fitted optima, and the least-squares slope of the optimum against log2 width (per doubling).
        double lo = std::numeric_limits<double>::infinity(), hi = -lo, su = 0, sv = 0, suu = 0, suv = 0, count = 0;
        for (std::size_t w = 0; w < optimum[p].size(); ++w) {
            const double v = optimum[p][w], u = std::log2(static_cast<double>(o.widths[w]));
            if (std::isnan(v)) continue;
            lo = std::min(lo, v), hi = std::max(hi, v);
            su += u, sv += v, suu += u * u, suv += u * v, count += 1;
        }
        const double slope = count >= 2 && count * suu - su * su > 0 ? (count * suv - su * sv) / (count * suu - su * su) : 0.0;
        std::cout << std::setw(3) << names[p] << ": fitted optimum spans " << std::setprecision(2) << (hi - lo) << " in log2 lr over widths "
                  << o.widths.front() << ".." << o.widths.back() << "; it moves " << std::showpos << slope << std::noshowpos
                  << " per doubling of width (base width " << optimum[p].front() << ", widest " << optimum[p].back() << ")\n";
    }
    std::cout << std::defaultfloat << "wrote " << o.csv << " (columns parametrization,width,seed,log2_lr,lr,train_loss,diverged)\n";

    // Plot: loss against log2 lr, one panel per parametrization, one line per width.
    std::ostringstream s;
    s << "set terminal pngcairo size 1100,450 font ',10'\nset output " << wn::io::gnuplot_quote(o.plot) << '\n';
    double lowest = std::numeric_limits<double>::infinity();
    for (std::size_t p = 0; p < 2; ++p)
        for (std::size_t w = 0; w < o.widths.size(); ++w) {
            s << "$p" << p << "w" << w << " << EOD\n";
            for (std::size_t k = 0; k < grid.size(); ++k) {
                s << grid[k] << ' ' << (std::isnan(mean[p][w][k]) ? std::string("NaN") : std::to_string(mean[p][w][k])) << '\n';
                if (!std::isnan(mean[p][w][k])) lowest = std::min(lowest, mean[p][w][k]);
            }
            s << "EOD\n";
        }
    s << "set multiplot layout 1,2 title 'muTransfer: training loss against learning rate (" << data.x.shape(0) << " examples, "
      << o.optimizer << ", " << o.steps << " steps)'\nset xlabel 'log2 learning rate'\nset ylabel 'training loss'\nset grid\nset key top left\n"
      << "set yrange [" << (std::isfinite(lowest) ? 0.95 * lowest : 0.0) << ":" << (std::isfinite(lowest) ? std::min(2.6, 1.8 * lowest) : 2.6)
      << "]\nset key top center\n";
    for (std::size_t p = 0; p < 2; ++p) {
        s << "set title '" << names[p] << "'\nplot ";
        for (std::size_t w = 0; w < o.widths.size(); ++w)
            s << (w ? ", " : "") << "$p" << p << "w" << w << " using 1:2 with linespoints title 'width " << o.widths[w] << "'";
        s << '\n';
    }
    s << "unset multiplot\n";
    std::string reason;
    if (wn::io::run_gnuplot(s.str(), &reason)) std::cout << "wrote " << o.plot << '\n';
    else std::cerr << "mutransfer: no plot: " << reason << '\n';
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    return wn::cli::run_program("mutransfer", usage, argc, argv, [](wn::cli::args& a) { return sweep(parse(a)); });
}
