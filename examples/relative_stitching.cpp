// Latent-space stitching through absolute and relative representations (Moschella et al. 2023, "Relative
// representations enable zero-shot latent space communication", ICLR, §5.1).
//
// Two encoders (MLPs 784 -> 256 -> 256 -> 10, ReLU, NTK parametrization, Adam) are trained on Fashion-MNIST from
// different seeds. Each latent space is read out by two decoders trained on that encoder alone (one-hidden-layer MLPs,
// inputs standardised with their own training statistics): an absolute decoder on the last hidden layer h(x), and a
// relative decoder on the relative representation r(x) = cosines of h(x) to the latents of k class-balanced anchor
// images. Stitching feeds encoder A's space to encoder B's decoder. The absolute spaces of two seeds differ by an
// (approximate) orthogonal map and rescaling, which the relative representation removes, so relative stitching works
// and absolute stitching does not. (Moschella et al. train the relative decoders end to end; here the encoders are
// trained first and the decoders on their frozen features, which isolates the property of the representation.)
//
// The infinite-width side: at initialisation the relative representation of the last hidden layer is, up to
// O(width^{-1/2}), the normalised NNGP of the architecture (geometry::infinite_width_relative), the same for every seed.
//
// Data: Fashion-MNIST when installed (Debian dataset-fashion-mnist), a synthetic 10-class set otherwise. Writes a CSV
// of the accuracies and, with gnuplot, a bar chart.
//
//   relative_stitching [--train 10000] [--test 2000] [--width 256] [--anchors 300] [--epochs 5] [--decoder-epochs 8]
//                      [--seed-a 1] [--seed-b 2] [--synthetic] [--csv relative_stitching.csv] [--plot relative_stitching.png]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <string>
#include <vector>

#include <xtensor/xview.hpp>

#include <widenn/act/activations.hpp>
#include <widenn/core/rng.hpp>
#include <widenn/geometry/cka.hpp>
#include <widenn/geometry/relative.hpp>
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

using encoder_t = wn::nn::mlp<wn::param::ntk, wn::act::relu, 2, float>;
using decoder_t = wn::nn::mlp<wn::param::ntk, wn::act::relu, 1, float>;
using labels_t = xt::xtensor<int, 1>;

struct split {
    matrix<float> x;
    labels_t y;
};
struct dataset {
    split train, test;
    std::string name;
};

// Pixels standardised with the training set's mean and standard deviation (one number each).
void standardise(dataset& d) {
    const double mean = xt::mean(d.train.x)(), sd = std::sqrt(xt::mean(xt::square(d.train.x - static_cast<float>(mean)))());
    for (split* s : {&d.train, &d.test}) s->x = (s->x - static_cast<float>(mean)) / static_cast<float>(sd);
}

dataset load(std::size_t n_train, std::size_t n_test, bool synthetic) {
    dataset d;
    if (!synthetic && wn::io::fashion_mnist_available()) {
        auto tr = wn::io::read_fashion_mnist(true, n_train);
        auto te = wn::io::read_fashion_mnist(false, n_test);
        d.train = {tr.images, tr.labels};
        d.test = {te.images, te.labels};
        d.name = "Fashion-MNIST";
    } else {
        // 10 Gaussian clusters in 64 dimensions around random prototypes.
        const matrix<double> proto = wn::normal_matrix(10, 64, 99);
        wn::rng gen(100);
        for (auto [s, n] : {std::pair{&d.train, n_train}, std::pair{&d.test, n_test}}) {
            s->x = matrix<float>::from_shape({n, 64});
            s->y = labels_t::from_shape({n});
            for (std::size_t i = 0; i < n; ++i) {
                const std::size_t c = gen.below(10);
                s->y(i) = static_cast<int>(c);
                for (std::size_t j = 0; j < 64; ++j) s->x(i, j) = static_cast<float>(0.35 * proto(c, j) + gen.normal());
            }
        }
        d.name = "synthetic (10 Gaussian clusters, d = 64)";
    }
    standardise(d);
    return d;
}

matrix<float> rows(const matrix<float>& x, const std::vector<std::size_t>& idx) {
    matrix<float> out = matrix<float>::from_shape({idx.size(), x.shape(1)});
    for (std::size_t i = 0; i < idx.size(); ++i) xt::view(out, i, xt::all()) = xt::view(x, idx[i], xt::all());
    return out;
}
labels_t rows(const labels_t& y, const std::vector<std::size_t>& idx) {
    labels_t out = labels_t::from_shape({idx.size()});
    for (std::size_t i = 0; i < idx.size(); ++i) out(i) = y(idx[i]);
    return out;
}

// Adam on softmax cross-entropy, minibatches in a seeded random order.
template <class Net>
void train(Net& net, const matrix<float>& x, const labels_t& y, std::size_t epochs, double lr, std::uint64_t seed, const std::string& what) {
    wn::nn::adam opt(net, {.lr = lr});
    const std::size_t n = x.shape(0), batch = 100;
    matrix<float> dout;
    wn::rng gen(seed);
    std::vector<std::size_t> order(n);
    for (std::size_t e = 0; e < epochs; ++e) {
        for (std::size_t i = 0; i < n; ++i) order[i] = i;
        for (std::size_t i = 0; i + 1 < n; ++i) std::swap(order[i], order[i + gen.below(n - i)]);
        double loss = 0;
        std::size_t steps = 0;
        for (std::size_t b = 0; b + batch <= n; b += batch) {
            const std::vector<std::size_t> idx(order.begin() + static_cast<long>(b), order.begin() + static_cast<long>(b + batch));
            loss += wn::nn::train_step<wn::nn::softmax_cross_entropy>(net, opt, rows(x, idx), rows(y, idx), dout);
            ++steps;
        }
        std::cout << "  " << what << ": epoch " << e + 1 << "/" << epochs << ", mean training loss " << std::fixed << std::setprecision(4)
                  << loss / static_cast<double>(steps) << std::defaultfloat << std::endl;
    }
}

template <class Net>
double accuracy(Net& net, const matrix<float>& x, const labels_t& y) {
    const matrix<float>& out = net.forward(x);
    std::size_t correct = 0;
    for (std::size_t i = 0; i < x.shape(0); ++i) {
        const auto row = xt::view(out, i, xt::all());
        correct += static_cast<int>(std::distance(row.begin(), std::max_element(row.begin(), row.end()))) == y(i) ? 1 : 0;
    }
    return static_cast<double>(correct) / static_cast<double>(x.shape(0));
}

matrix<double> latent(encoder_t& enc, const matrix<float>& x) {
    enc.forward(x);
    return xt::cast<double>(enc.post_activation(2));
}

// A decoder with its input standardisation (per feature, from the training features it was fitted on).
struct decoder {
    decoder_t net;
    std::vector<double> mean, sd;
    decoder(std::size_t d_in, std::size_t width, std::uint64_t seed)
        : net({.d_in = d_in, .width = width, .d_out = 10, .weight_var = 2.0, .constants = wn::nn::constants_in::multiplier, .seed = seed}) {}
    matrix<float> prepare(const matrix<double>& f) const {
        matrix<float> out = matrix<float>::from_shape(f.shape());
        for (std::size_t i = 0; i < f.shape(0); ++i)
            for (std::size_t j = 0; j < f.shape(1); ++j) out(i, j) = static_cast<float>((f(i, j) - mean[j]) / sd[j]);
        return out;
    }
    void fit(const matrix<double>& f, const labels_t& y, std::size_t epochs, std::uint64_t seed, const std::string& what) {
        const std::size_t n = f.shape(0), d = f.shape(1);
        mean.assign(d, 0.0), sd.assign(d, 0.0);
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t j = 0; j < d; ++j) mean[j] += f(i, j) / static_cast<double>(n);
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t j = 0; j < d; ++j) sd[j] += (f(i, j) - mean[j]) * (f(i, j) - mean[j]) / static_cast<double>(n);
        for (auto& s : sd) s = std::sqrt(s) + 1e-6;
        train(net, prepare(f), y, epochs, 1e-3, seed, what);
    }
    double accuracy_on(const matrix<double>& f, const labels_t& y) { return accuracy(net, prepare(f), y); }
};

}  // namespace

int main(int argc, char** argv) {
    const std::string usage =
        "usage: relative_stitching [--train 10000] [--test 2000] [--width 256] [--anchors 300] [--epochs 5] [--decoder-epochs 8]\n"
        "                          [--seed-a 1] [--seed-b 2] [--synthetic] [--csv relative_stitching.csv] [--plot relative_stitching.png]\n";
    return wn::cli::run_program("relative_stitching", usage, argc, argv, [&](wn::cli::args& a) {
        const std::size_t n_train = a.count("train", 10000, 100, 60000), n_test = a.count("test", 2000, 10, 10000);
        const std::size_t width = a.count("width", 256, 8, 8192), k = a.count("anchors", 300, 10, 5000);
        const std::size_t epochs = a.count("epochs", 5, 1, 1000), dec_epochs = a.count("decoder-epochs", 8, 1, 1000);
        const auto seed_a = a.integer<std::uint64_t>("seed-a", 1), seed_b = a.integer<std::uint64_t>("seed-b", 2);
        const bool synthetic = a.has("synthetic");
        const std::string csv = a.text("csv", "relative_stitching.csv"), plot = a.text("plot", "relative_stitching.png");
        a.reject_unknown();
        if (seed_a == seed_b) throw wn::cli::usage_error("--seed-a and --seed-b must differ");
        const auto start = std::chrono::steady_clock::now();

        dataset data = load(n_train, n_test, synthetic);
        const std::size_t d_in = data.train.x.shape(1);
        std::cout << "relative_stitching: " << data.name << ", " << n_train << " training and " << n_test << " test images, encoders "
                  << d_in << " -> " << width << " -> " << width << " -> 10 (ReLU, NTK parametrization), " << k << " anchors" << std::endl;
        const auto anchors = geo::class_balanced_anchors(data.train.y, k, 7);
        const matrix<float> anchor_x = rows(data.train.x, anchors);

        const wn::nn::mlp_config enc_config{.d_in = d_in, .width = width, .d_out = 10, .weight_var = 2.0,
                                            .constants = wn::nn::constants_in::multiplier};
        auto config_a = enc_config, config_b = enc_config;
        config_a.seed = seed_a, config_b.seed = seed_b;
        encoder_t enc_a(config_a), enc_b(config_b);

        // Initialisation: both relative spaces against the infinite-width one.
        const matrix<double> rel_inf = geo::infinite_width_relative<encoder_t>(data.test.x, anchor_x, {.weight_var = 2.0});
        const matrix<double> rel0_a = geo::relative(latent(enc_a, data.test.x), latent(enc_a, anchor_x));
        const matrix<double> rel0_b = geo::relative(latent(enc_b, data.test.x), latent(enc_b, anchor_x));
        const double init_a_inf = xt::mean(xt::abs(rel0_a - rel_inf))(), init_a_b = xt::mean(xt::abs(rel0_a - rel0_b))();
        std::cout << "at initialisation: mean |r_A - r_inf| = " << init_a_inf << ", mean |r_A - r_B| = " << init_a_b
                  << " (r_inf: normalised NNGP of the architecture)" << std::endl;

        train(enc_a, data.train.x, data.train.y, epochs, 1e-3, seed_a + 100, "encoder A");
        train(enc_b, data.train.x, data.train.y, epochs, 1e-3, seed_b + 100, "encoder B");
        const double own_a = accuracy(enc_a, data.test.x, data.test.y), own_b = accuracy(enc_b, data.test.x, data.test.y);
        std::cout << "encoder test accuracy (own readout): A " << own_a << ", B " << own_b << std::endl;

        const matrix<double> h_train_a = latent(enc_a, data.train.x), h_train_b = latent(enc_b, data.train.x);
        const matrix<double> h_test_a = latent(enc_a, data.test.x), h_test_b = latent(enc_b, data.test.x);
        const matrix<double> anchors_a = latent(enc_a, anchor_x), anchors_b = latent(enc_b, anchor_x);
        const matrix<double> r_train_a = geo::relative(h_train_a, anchors_a), r_train_b = geo::relative(h_train_b, anchors_b);
        const matrix<double> r_test_a = geo::relative(h_test_a, anchors_a), r_test_b = geo::relative(h_test_b, anchors_b);
        const double cka_abs = geo::linear_cka(h_test_a, h_test_b), cka_rel = geo::linear_cka(r_test_a, r_test_b);
        const double mean_abs_diff = xt::mean(xt::abs(h_test_a - h_test_b))() / xt::mean(xt::abs(h_test_a))();
        const double mean_rel_diff = xt::mean(xt::abs(r_test_a - r_test_b))() / xt::mean(xt::abs(r_test_a))();
        std::cout << "trained latent spaces A vs B (test set): linear CKA absolute " << cka_abs << ", relative " << cka_rel
                  << "; mean |A - B| / mean |A|: absolute " << mean_abs_diff << ", relative " << mean_rel_diff << std::endl;

        decoder abs_a(width, 256, seed_a + 200), abs_b(width, 256, seed_b + 200), rel_a(k, 256, seed_a + 300), rel_b(k, 256, seed_b + 300);
        abs_a.fit(h_train_a, data.train.y, dec_epochs, seed_a + 400, "absolute decoder A");
        abs_b.fit(h_train_b, data.train.y, dec_epochs, seed_b + 400, "absolute decoder B");
        rel_a.fit(r_train_a, data.train.y, dec_epochs, seed_a + 500, "relative decoder A");
        rel_b.fit(r_train_b, data.train.y, dec_epochs, seed_b + 500, "relative decoder B");

        struct row {
            std::string space, encoder, decoder;
            double accuracy;
        };
        const std::vector<row> table{
            {"absolute", "A", "A", abs_a.accuracy_on(h_test_a, data.test.y)}, {"absolute", "B", "B", abs_b.accuracy_on(h_test_b, data.test.y)},
            {"absolute", "A", "B", abs_b.accuracy_on(h_test_a, data.test.y)}, {"absolute", "B", "A", abs_a.accuracy_on(h_test_b, data.test.y)},
            {"relative", "A", "A", rel_a.accuracy_on(r_test_a, data.test.y)}, {"relative", "B", "B", rel_b.accuracy_on(r_test_b, data.test.y)},
            {"relative", "A", "B", rel_b.accuracy_on(r_test_a, data.test.y)}, {"relative", "B", "A", rel_a.accuracy_on(r_test_b, data.test.y)},
        };
        wn::io::csv_writer out(csv, {"space", "encoder", "decoder", "stitched", "test_accuracy"});
        std::cout << "\nspace     encoder  decoder  stitched  test accuracy\n";
        for (const auto& r : table) {
            const bool stitched = r.encoder != r.decoder;
            out.row(r.space, r.encoder, r.decoder, stitched ? 1 : 0, r.accuracy);
            std::printf("%-9s %-8s %-8s %-9s %.4f\n", r.space.c_str(), r.encoder.c_str(), r.decoder.c_str(), stitched ? "yes" : "no", r.accuracy);
        }
        const double abs_own = (table[0].accuracy + table[1].accuracy) / 2, abs_st = (table[2].accuracy + table[3].accuracy) / 2;
        const double rel_own = (table[4].accuracy + table[5].accuracy) / 2, rel_st = (table[6].accuracy + table[7].accuracy) / 2;
        std::printf("\nmean accuracy   unstitched  stitched\nabsolute        %.4f      %.4f\nrelative        %.4f      %.4f\n(chance: 0.1)\n",
                    abs_own, abs_st, rel_own, rel_st);
        const std::string data_path = plot + ".dat";
        if (FILE* f = std::fopen(data_path.c_str(), "w")) {
            std::fprintf(f, "space unstitched stitched\nabsolute %g %g\nrelative %g %g\n", abs_own, abs_st, rel_own, rel_st);
            std::fclose(f);
        }
        std::string reason;
        const std::string script = "set terminal pngcairo size 700,450\nset output " + wn::io::gnuplot_quote(plot) +
                                   "\nset title 'Stitching encoder A to decoder B (" + data.name +
                                   ")'\nset style data histograms\nset style fill solid 0.8 border -1\nset yrange [0:1]\n"
                                   "set ylabel 'test accuracy'\nset key top left\nset grid ytics\n"
                                   "plot " + wn::io::gnuplot_quote(data_path) + " using 2:xtic(1) title columnheader, '' using 3 title columnheader\n";
        if (wn::io::run_gnuplot(script, &reason))
            std::cout << "wrote " << csv << " and " << plot << '\n';
        else
            std::cout << "wrote " << csv << " (no plot: " << reason << ")\n";
        std::cout << "total " << std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() << " s\n";
        return 0;
    });
}
