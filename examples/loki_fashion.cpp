// Geometry-aware prediction of classes never seen in training (Loki: Roberts et al. 2023, "Geometry-aware adaptation
// for pretrained models", NeurIPS, §3): a classifier trained on 7 of the 10 Fashion-MNIST classes predicts all 10 by
// the Fréchet mean of its output distribution over a metric on the labels,
//   ŷ = argmin_y Σ_k p_k d(y, λ_k)²,
// against argmax (which can only predict the 7 training classes).
//
// Metrics on the 10 labels, both from label graphs (geometry::label_metric::from_graph, shortest paths):
//   hierarchy: a tree root -> {tops, bottoms, footwear, bags} -> classes (tops: T-shirt, pullover, dress, coat, shirt;
//     bottoms: trouser; footwear: sandal, sneaker, ankle boot; bags: bag), every edge of length 1;
//   hierarchy+order: the same tree with edges of length 2, plus edges of length 1 that order the classes inside a
//     category: T-shirt – shirt – pullover – coat, T-shirt – dress, sandal – sneaker – ankle boot.
// On the plain tree every class of a category is equidistant from its siblings, so an unseen class can never beat an
// observed sibling (its cost exceeds that sibling's by d²·p_sibling): the Fréchet mean needs unseen classes that lie
// between observed ones, which the ordering edges provide. Held out by default: pullover (2), shirt (6), sneaker (7).
//
// The network's softmax is taken at temperature 2 (logits / 2): a network trained to convergence is overconfident, and the
// Fréchet mean needs probability mass on more than one class (Loki uses calibrated pretrained models); --temperature.
//
// Reports accuracy and expected squared distance E[d(ŷ, y)²] (Loki's metric) on all test images and on the unseen
// classes, for argmax and for the Fréchet mean under each metric; a CSV and, with gnuplot, a bar chart.
//
//   loki_fashion [--unseen 2,6,7] [--train 20000] [--test 10000] [--width 256] [--epochs 5] [--temperature 2] [--seed 1] [--synthetic]
//                [--csv loki_fashion.csv] [--plot loki_fashion.png]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <set>
#include <string>
#include <vector>

#include <xtensor/xview.hpp>

#include <widenn/act/activations.hpp>
#include <widenn/core/rng.hpp>
#include <widenn/geometry/frechet.hpp>
#include <widenn/io/idx.hpp>
#include <widenn/io/plot.hpp>
#include <widenn/nn/loss.hpp>
#include <widenn/nn/mlp.hpp>
#include <widenn/nn/optim.hpp>
#include <widenn/nn/train.hpp>

#include "cli/cli.hpp"

namespace wn = widenn;
namespace geo = widenn::geometry;
using wn::matrix;

namespace {

using net_t = wn::nn::mlp<wn::param::ntk, wn::act::relu, 2, float>;
using labels_t = xt::xtensor<int, 1>;
const char* const class_names[10] = {"T-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle boot"};

struct split {
    matrix<float> x;
    labels_t y;
};

// Fashion-MNIST, or a synthetic stand-in whose class means sit on the same label graph (so the geometry is shared).
std::pair<split, split> load(std::size_t n_train, std::size_t n_test, bool synthetic, std::string& name) {
    split tr, te;
    if (!synthetic && wn::io::fashion_mnist_available()) {
        auto a = wn::io::read_fashion_mnist(true, n_train);
        auto b = wn::io::read_fashion_mnist(false, n_test);
        tr = {a.images, a.labels};
        te = {b.images, b.labels};
        name = "Fashion-MNIST";
    } else {
        // class means along the ordering: a random walk over the classes in the order 5, 7, 9 | 1 | 8 | 3, 0, 6, 2, 4
        const std::vector<int> order{5, 7, 9, 1, 8, 3, 0, 6, 2, 4};
        const matrix<double> steps = wn::normal_matrix(10, 64, 41);
        matrix<double> means = xt::zeros<double>({10, 64});
        for (std::size_t i = 1; i < 10; ++i)
            xt::view(means, static_cast<std::size_t>(order[i]), xt::all()) =
                xt::view(means, static_cast<std::size_t>(order[i - 1]), xt::all()) + 0.6 * xt::view(steps, i, xt::all());
        wn::rng gen(42);
        for (auto [s, n] : {std::pair{&tr, n_train}, std::pair{&te, n_test}}) {
            s->x = matrix<float>::from_shape({n, 64});
            s->y = labels_t::from_shape({n});
            for (std::size_t i = 0; i < n; ++i) {
                const std::size_t c = gen.below(10);
                s->y(i) = static_cast<int>(c);
                for (std::size_t j = 0; j < 64; ++j) s->x(i, j) = static_cast<float>(means(c, j) + gen.normal());
            }
        }
        name = "synthetic (10 Gaussian classes along a chain, d = 64)";
    }
    const double mean = xt::mean(tr.x)(), sd = std::sqrt(xt::mean(xt::square(tr.x - static_cast<float>(mean)))());
    for (split* s : {&tr, &te}) s->x = (s->x - static_cast<float>(mean)) / static_cast<float>(sd);
    return {tr, te};
}

split subset(const split& s, const std::vector<std::size_t>& idx) {
    split out{matrix<float>::from_shape({idx.size(), s.x.shape(1)}), labels_t::from_shape({idx.size()})};
    for (std::size_t i = 0; i < idx.size(); ++i) {
        xt::view(out.x, i, xt::all()) = xt::view(s.x, idx[i], xt::all());
        out.y(i) = s.y(idx[i]);
    }
    return out;
}

geo::label_metric hierarchy(bool with_order) {
    // vertices 0..9 classes, 10 tops, 11 bottoms, 12 footwear, 13 bags, 14 root
    const double leaf = with_order ? 2.0 : 1.0;
    std::vector<geo::label_edge> e{{10, 14}, {11, 14}, {12, 14}, {13, 14}};
    for (std::size_t c : {0, 2, 3, 4, 6}) e.push_back({c, 10, leaf});
    e.push_back({1, 11, leaf});
    for (std::size_t c : {5, 7, 9}) e.push_back({c, 12, leaf});
    e.push_back({8, 13, leaf});
    if (with_order)
        for (auto [a, b] : std::vector<std::pair<std::size_t, std::size_t>>{{0, 6}, {6, 2}, {2, 4}, {0, 3}, {5, 7}, {7, 9}}) e.push_back({a, b, 1.0});
    const auto full = geo::label_metric::from_graph(15, e);
    // the metric restricted to the 10 classes (a sub-metric is a metric; from_matrix checks it again)
    matrix<double> d = xt::view(full.distances(), xt::range(0, 10), xt::range(0, 10));
    return geo::label_metric::from_matrix(d);
}

}  // namespace

int main(int argc, char** argv) {
    const std::string usage =
        "usage: loki_fashion [--unseen 2,6,7] [--train 20000] [--test 10000] [--width 256] [--epochs 5] [--temperature 2] [--seed 1] [--synthetic]\n"
        "                    [--csv loki_fashion.csv] [--plot loki_fashion.png]\n";
    return wn::cli::run_program("loki_fashion", usage, argc, argv, [&](wn::cli::args& a) {
        const std::vector<int> unseen_list = a.integers<int>("unseen", {2, 6, 7}, 0, 9);
        const std::size_t n_train = a.count("train", 20000, 100, 60000), n_test = a.count("test", 10000, 10, 10000);
        const std::size_t width = a.count("width", 256, 8, 8192), epochs = a.count("epochs", 5, 1, 1000);
        const auto seed = a.integer<std::uint64_t>("seed", 1);
        const double temperature = a.real("temperature", 2.0, 1e-3, 1e3);
        const bool synthetic = a.has("synthetic");
        const std::string csv = a.text("csv", "loki_fashion.csv"), plot = a.text("plot", "loki_fashion.png");
        a.reject_unknown();
        const std::set<int> unseen(unseen_list.begin(), unseen_list.end());
        if (unseen.size() != unseen_list.size() || unseen.empty() || unseen.size() > 8)
            throw wn::cli::usage_error("--unseen must list 1 to 8 distinct classes in 0..9");
        const auto start = std::chrono::steady_clock::now();

        std::string name;
        auto [train_all, test] = load(n_train, n_test, synthetic, name);
        std::vector<std::size_t> observed, keep;  // observed: the network's output k is class observed[k]
        std::vector<int> column_of(10, -1);
        for (int c = 0; c < 10; ++c)
            if (!unseen.count(c)) column_of[static_cast<std::size_t>(c)] = static_cast<int>(observed.size()), observed.push_back(static_cast<std::size_t>(c));
        for (std::size_t i = 0; i < train_all.y.size(); ++i)
            if (!unseen.count(train_all.y(i))) keep.push_back(i);
        split train = subset(train_all, keep);
        for (auto& y : train.y) y = column_of[static_cast<std::size_t>(y)];
        std::cout << "loki_fashion: " << name << "; training on " << observed.size() << " classes (" << train.y.size()
                  << " images), unseen:";
        for (int c : unseen) std::cout << ' ' << c << " (" << class_names[c] << ")";
        std::cout << "; MLP " << train.x.shape(1) << " -> " << width << " -> " << width << " -> " << observed.size() << std::endl;

        net_t net({.d_in = train.x.shape(1), .width = width, .d_out = observed.size(), .weight_var = 2.0,
                   .constants = wn::nn::constants_in::multiplier, .seed = seed});
        wn::nn::adam opt(net, {.lr = 1e-3});
        matrix<float> dout;
        wn::rng gen(seed + 1);
        const std::size_t n = train.y.size(), batch = 100;
        std::vector<std::size_t> order(n);
        for (std::size_t e = 0; e < epochs; ++e) {
            for (std::size_t i = 0; i < n; ++i) order[i] = i;
            for (std::size_t i = 0; i + 1 < n; ++i) std::swap(order[i], order[i + gen.below(n - i)]);
            double loss = 0;
            std::size_t steps = 0;
            for (std::size_t b = 0; b + batch <= n; b += batch, ++steps) {
                const split mb = subset(train, std::vector<std::size_t>(order.begin() + static_cast<long>(b), order.begin() + static_cast<long>(b + batch)));
                loss += wn::nn::train_step<wn::nn::softmax_cross_entropy>(net, opt, mb.x, mb.y, dout);
            }
            std::cout << "  epoch " << e + 1 << "/" << epochs << ": mean training loss " << loss / static_cast<double>(steps) << std::endl;
        }

        const matrix<double> p = xt::cast<double>(wn::nn::softmax_cross_entropy::softmax(matrix<float>(net.forward(test.x) / static_cast<float>(temperature))));
        std::vector<std::size_t> argmax(test.y.size());
        for (std::size_t i = 0; i < test.y.size(); ++i) {
            std::size_t best = 0;
            for (std::size_t k = 1; k < observed.size(); ++k)
                if (p(i, k) > p(i, best)) best = k;
            argmax[i] = observed[best];
        }
        const auto tree = hierarchy(false), ordered = hierarchy(true);
        struct method {
            std::string name;
            std::vector<std::size_t> pred;
        };
        const std::vector<method> methods{{"argmax", argmax},
                                          {"frechet tree", geo::frechet_predict(p, tree, observed)},
                                          {"frechet tree+order", geo::frechet_predict(p, ordered, observed)}};
        wn::io::csv_writer out(csv, {"method", "accuracy_all", "accuracy_unseen", "esd_hierarchy_all", "esd_hierarchy_unseen",
                                     "esd_order_all", "esd_order_unseen", "unseen_predictions"});
        std::vector<std::size_t> unseen_rows;
        for (std::size_t i = 0; i < test.y.size(); ++i)
            if (unseen.count(test.y(i))) unseen_rows.push_back(i);
        std::printf("\n%-24s %9s %9s %12s %12s %12s %12s %10s\n", "method", "acc all", "acc unseen", "E[d²] tree", "(unseen)", "E[d²] order",
                    "(unseen)", "#pred unseen");
        std::string data_rows;
        for (const auto& m : methods) {
            auto stats = [&](const std::vector<std::size_t>& rows, const geo::label_metric& metric, double& acc) {
                std::vector<std::size_t> pr, tr;
                std::size_t correct = 0;
                for (auto i : rows) {
                    pr.push_back(m.pred[i]);
                    tr.push_back(static_cast<std::size_t>(test.y(i)));
                    correct += m.pred[i] == static_cast<std::size_t>(test.y(i)) ? 1 : 0;
                }
                acc = static_cast<double>(correct) / static_cast<double>(rows.size());
                return geo::mean_squared_distance(pr, tr, metric);
            };
            std::vector<std::size_t> all(test.y.size());
            for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
            double acc_all = 0, acc_unseen = 0, dummy = 0;
            const double tree_all = stats(all, tree, acc_all), tree_unseen = stats(unseen_rows, tree, acc_unseen);
            const double order_all = stats(all, ordered, dummy), order_unseen = stats(unseen_rows, ordered, dummy);
            std::size_t predicted_unseen = 0;
            for (auto v : m.pred) predicted_unseen += unseen.count(static_cast<int>(v)) ? 1 : 0;
            out.row(m.name, acc_all, acc_unseen, tree_all, tree_unseen, order_all, order_unseen, predicted_unseen);
            std::printf("%-24s %9.4f %9.4f %12.4f %12.4f %12.4f %12.4f %10zu\n", m.name.c_str(), acc_all, acc_unseen, tree_all, tree_unseen,
                        order_all, order_unseen, predicted_unseen);
            data_rows += "\"" + m.name + "\" " + std::to_string(acc_all) + " " + std::to_string(acc_unseen) + "\n";
        }
        std::printf("(chance accuracy 0.1; %zu test images of unseen classes)\n", unseen_rows.size());
        // per unseen class: how often the Fréchet mean (ordered metric) names it
        for (int c : unseen) {
            std::size_t total = 0, hit = 0;
            for (auto i : unseen_rows)
                if (test.y(i) == c) ++total, hit += methods[2].pred[i] == static_cast<std::size_t>(c) ? 1 : 0;
            std::printf("  unseen %-10s: %4zu / %4zu correct with tree+order\n", class_names[c], hit, total);
        }
        const std::string data_path = plot + ".dat";
        if (FILE* f = std::fopen(data_path.c_str(), "w")) {
            std::fputs(data_rows.c_str(), f);
            std::fclose(f);
        }
        std::string reason;
        const std::string script = "set terminal pngcairo size 760,450\nset output " + wn::io::gnuplot_quote(plot) +
                                   "\nset title 'Trained on 7 classes, predicting 10 (" + name +
                                   ")'\nset style data histograms\nset style fill solid 0.8 border -1\nset yrange [0:1]\n"
                                   "set ylabel 'test accuracy'\nset key top right\nset grid ytics\n"
                                   "plot " + wn::io::gnuplot_quote(data_path) +
                                   " using 2:xtic(1) title 'all test images', '' using 3 title 'unseen classes'\n";
        if (wn::io::run_gnuplot(script, &reason))
            std::cout << "wrote " << csv << " and " << plot << '\n';
        else
            std::cout << "wrote " << csv << " (no plot: " << reason << ")\n";
        std::cout << "total " << std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() << " s\n";
        return 0;
    });
}
