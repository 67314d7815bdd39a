// affine_invariance: train on upright images, test on affinely transformed copies (the affNIST protocol of Mironenco &
// Forré, ICLR 2024, §6, on Fashion-MNIST). Models: the R² ⋊ GL⁺(2) and R² ⋊ SL(2) networks of widenn::equivariant and a
// plain CNN of similar parameter count, trained the same way (Adam with coupled weight decay, cosine schedule, batch,
// inputs (x − 0.5)/0.5, images padded to 40×40).
//
// Test transformations (seeded, one per test image), acting about the image centre by bilinear resampling (lie::image_warp):
//   g = (t, R(θ) · [[1, s], [0, 1]] · diag(e^{a}, e^{b})),  θ ~ U(±rotation), s ~ U(±shear), a, b ~ U(±log-scale),
//   t ~ U(±translation pixels) per axis.
// Defaults: rotation 180° (uniformly random: the Haar measure of SO(2)), shear 0.3, log-scale 0.25 (scales 0.78..1.28),
// translation 3 pixels. A sweep over the rotation range (0, 15, 30, 45, 90, 180°; --sweep-rotation) shows where
// invariance starts to pay: OUT_rotation.csv and OUT_rotation.png.
// Model defaults are far smaller than the paper's (8 channels, 8 group samples, SIREN width 32, head 64, 6000 training
// images, 5 epochs, Adam lr 5e-3) so that the three models train in under 30 minutes on 2 cores; flags scale them up.
// Group samples: fresh stratified draws at every training step (rotation factors θ₀ + 2πk/N, SPD factors from the ball
// proposal ‖log P‖ ≤ 0.4 with Haar weights; groups.hpp), and at evaluation the logits averaged over --eval-draws fixed
// grids (deterministic seeds). docs/equivariant.md explains these choices with measurements.
//
//   affine_invariance [--quick] [--train 6000] [--test 1000] [--epochs 5] [--batch 32] [--channels 8] [--samples 8]
//                     [--eval-draws 4] [--models gl,sl,cnn] [--test-images F --test-labels F] [--out affine_invariance]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <iomanip>
#include <iostream>
#include <numbers>
#include <string>
#include <vector>

#include <widenn/equivariant/model.hpp>
#include <widenn/io/idx.hpp>
#include <widenn/io/plot.hpp>
#include <widenn/lie/affine.hpp>
#include <widenn/lie/image.hpp>
#include <widenn/nn/loss.hpp>
#include <widenn/nn/optim.hpp>

#include "cli/cli.hpp"

namespace eq = widenn::equivariant;
namespace lie = widenn::lie;
using clock_type = std::chrono::steady_clock;

namespace {

struct options {
    bool quick = false;
    std::size_t train = 6000, test = 1000, epochs = 5, batch = 32, channels = 8, samples = 8, eval_draws = 4, kernel_hidden = 32;
    std::size_t eval_samples = 0;  // group samples of the evaluation grids; 0: as in training
    std::vector<double> sweep = {0, 15, 30, 45, 90, 180};  // further rotation ranges (degrees) to test, on the first sweep_test images
    std::size_t sweep_test = 500;
    std::size_t image = 40;
    double lr = 5e-3, weight_decay = 5e-4, spd_scale = 0.4, dropout = 0.1;
    double rotation_deg = 180, shear = 0.3, log_scale = 0.25, translation = 3;
    std::string models = "gl,sl,cnn", test_images, test_labels, out = "affine_invariance";
    eq::spd_proposal::shape proposal = eq::spd_proposal::shape::ball;  // of the SPD factor; --spd-scale is its radius or sigma
    eq::sampling sampling = eq::sampling::stratified;                  // of the training (and evaluation) grids
    bool fixed_grid = false;              // train on one fixed grid instead of fresh draws at every step (an ablation)
    std::uint64_t seed = 123;
};

const char* const usage =
    "usage: affine_invariance [--quick] [--train N] [--test N] [--epochs E] [--batch B] [--channels C] [--samples N]\n"
    "       [--eval-draws K] [--eval-samples N] [--sweep-rotation D,D,...|none] [--sweep-test N] [--kernel-hidden H] [--lr X] [--weight-decay X] [--proposal ball|log-normal] [--spd-scale X] [--dropout P] [--rotation DEG]\n"
    "       [--shear S] [--log-scale A] [--translation PX] [--models gl,sl,cnn] [--test-images F --test-labels F]\n"
    "       [--sampling stratified|haar|unweighted] [--grid fresh|fixed] [--seed S] [--out PREFIX]\n"
    "Trains the R2 x| GL+(2) and R2 x| SL(2) equivariant networks and a CNN on upright Fashion-MNIST images and tests them on\n"
    "affinely transformed copies (defaults: 6000 training images, 5 epochs, under 30 minutes on 2 cores; --quick: a smoke\n"
    "test of about a minute). Writes PREFIX.csv, PREFIX_rotation.csv and, with gnuplot, PREFIX_rotation.png.\n";

options parse(widenn::cli::args& a) {
    using widenn::cli::usage_error;
    options o;
    o.quick = a.has("quick");
    const bool explicit_size = a.has("train");
    o.train = a.count("train", o.train);
    o.test = a.count("test", o.test);
    o.epochs = a.count("epochs", o.epochs);
    o.batch = a.count("batch", o.batch);
    o.channels = a.count("channels", o.channels);
    o.samples = a.count("samples", o.samples);
    o.eval_draws = a.count("eval-draws", o.eval_draws);
    o.eval_samples = a.count("eval-samples", o.eval_samples);  // 0 (not given): as in training
    if (a.text("sweep-rotation", "") == "none") o.sweep.clear();
    else o.sweep = a.reals("sweep-rotation", o.sweep, 0, 180);
    o.sweep_test = a.count("sweep-test", o.sweep_test);
    o.kernel_hidden = a.count("kernel-hidden", o.kernel_hidden);
    o.lr = a.real("lr", o.lr, 0, 100);
    o.weight_decay = a.real("weight-decay", o.weight_decay, 0, 100);
    const std::string proposal = a.text("proposal", "ball");
    if (proposal != "ball" && proposal != "log-normal") throw usage_error("--proposal must be ball or log-normal, got " + proposal);
    o.proposal = proposal == "ball" ? eq::spd_proposal::shape::ball : eq::spd_proposal::shape::log_normal;
    o.spd_scale = a.real("spd-scale", o.spd_scale, 0, 10);
    const std::string grid = a.text("grid", "fresh");
    if (grid != "fresh" && grid != "fixed") throw usage_error("--grid must be fresh or fixed, got " + grid);
    o.fixed_grid = grid == "fixed";
    o.dropout = a.real("dropout", o.dropout, 0, 1);
    if (o.dropout >= 1) throw usage_error("--dropout must be in [0, 1)");
    o.rotation_deg = a.real("rotation", o.rotation_deg, 0, 180);
    o.shear = a.real("shear", o.shear, 0, 10);
    o.log_scale = a.real("log-scale", o.log_scale, 0, 5);
    o.translation = a.real("translation", o.translation, 0, 1000);
    o.models = a.text("models", o.models);
    for (std::size_t start = 0; start <= o.models.size();) {  // a mistyped model name would silently train nothing
        const std::size_t end = std::min(o.models.find(',', start), o.models.size());
        const std::string model = o.models.substr(start, end - start);
        if (model != "gl" && model != "sl" && model != "cnn") throw usage_error("--models takes gl, sl and cnn separated by commas, got '" + o.models + "'");
        start = end + 1;
    }
    const std::string sampling = a.text("sampling", "stratified");
    if (sampling == "stratified") o.sampling = eq::sampling::stratified;
    else if (sampling == "haar") o.sampling = eq::sampling::haar;
    else if (sampling == "unweighted") o.sampling = eq::sampling::unweighted;
    else throw usage_error("--sampling must be stratified, haar or unweighted, got " + sampling);
    o.test_images = a.text("test-images", "");
    o.test_labels = a.text("test-labels", "");
    o.seed = a.integer<std::uint64_t>("seed", o.seed);
    o.out = a.text("out", o.out);
    a.reject_unknown();
    if (o.quick && !explicit_size) {
        o.train = 1500;
        o.test = 500;
        o.epochs = 2;
        o.channels = 6;
        o.samples = 4;
        o.eval_draws = 1;
        o.sweep = {0, 45, 180};
        o.sweep_test = 250;
    }
    if (o.eval_samples == 0) o.eval_samples = o.samples;
    if (o.test_images.empty() != o.test_labels.empty()) throw usage_error("--test-images and --test-labels go together");
    if (o.out.empty()) throw usage_error("--out needs a path prefix");
    return o;
}

// A labelled set of B × 1 × S × S images in [0, 1].
struct dataset {
    xt::xtensor<float, 4> images;
    xt::xtensor<int, 1> labels;
    std::string source;
};

// N × (side²) rows -> N × 1 × S × S, centred on a zero canvas of size S (affNIST's "just centred" layout).
xt::xtensor<float, 4> pad_to_canvas(const xt::xtensor<float, 2>& rows, std::size_t canvas, const std::string& where) {
    const std::size_t n = rows.shape()[0], pixels = rows.shape()[1];
    const auto side = static_cast<std::size_t>(std::lround(std::sqrt(static_cast<double>(pixels))));
    if (side * side != pixels) widenn::fail<widenn::shape_error>(where, ": images must be square, got ", pixels, " pixels per image");
    if (side > canvas) widenn::fail<widenn::shape_error>(where, ": images of ", side, " x ", side, " do not fit the ", canvas, " x ", canvas, " canvas");
    xt::xtensor<float, 4> out = xt::zeros<float>({n, std::size_t{1}, canvas, canvas});
    const std::size_t offset = (canvas - side) / 2;
    for (std::size_t b = 0; b < n; ++b)
        for (std::size_t i = 0; i < side; ++i)
            for (std::size_t j = 0; j < side; ++j) out(b, 0, i + offset, j + offset) = rows(b, i * side + j);
    return out;
}

// Synthetic stand-in when Fashion-MNIST is absent: class c is a fixed pattern of three Gaussian blobs plus noise.
dataset synthetic(std::size_t n, std::size_t canvas, std::uint64_t seed) {
    widenn::rng protos(777);
    std::vector<std::array<double, 9>> blobs(10);
    for (auto& p : blobs)
        for (std::size_t k = 0; k < 3; ++k) p[3 * k] = 8 + 12 * protos.uniform(), p[3 * k + 1] = 8 + 12 * protos.uniform(), p[3 * k + 2] = 1.5 + 3 * protos.uniform();
    widenn::rng r(seed);
    xt::xtensor<float, 2> rows = xt::zeros<float>({n, std::size_t{28 * 28}});
    xt::xtensor<int, 1> labels = xt::empty<int>({n});
    for (std::size_t b = 0; b < n; ++b) {
        const auto c = static_cast<int>(r.below(10));
        labels(b) = c;
        for (std::size_t i = 0; i < 28; ++i)
            for (std::size_t j = 0; j < 28; ++j) {
                double v = 0.1 * r.normal();
                for (std::size_t k = 0; k < 3; ++k) {
                    const auto& p = blobs[static_cast<std::size_t>(c)];
                    v += std::exp(-(std::pow(static_cast<double>(i) - p[3 * k], 2) + std::pow(static_cast<double>(j) - p[3 * k + 1], 2)) / (2 * p[3 * k + 2] * p[3 * k + 2]));
                }
                rows(b, i * 28 + j) = static_cast<float>(std::clamp(v, 0.0, 1.0));
            }
    }
    return {pad_to_canvas(rows, canvas, "synthetic"), labels, "synthetic blobs"};
}

dataset load(bool train, std::size_t n, std::size_t canvas, std::uint64_t seed) {
    if (!widenn::io::fashion_mnist_available()) return synthetic(n, canvas, seed + (train ? 0 : 1));
    auto set = widenn::io::read_fashion_mnist(train, n);
    return {pad_to_canvas(set.images, canvas, "Fashion-MNIST"), set.labels, "Fashion-MNIST (" + widenn::io::fashion_mnist_dir() + ")"};
}

// The seeded test-set generator documented at the top of this file.
xt::xtensor<float, 4> transform_images(const xt::xtensor<float, 4>& images, const options& o) {
    using G = lie::affine<lie::gl_plus<2, float>>;
    widenn::rng r = widenn::rng::stream(o.seed, 0xAFF);
    const std::size_t n = images.shape()[0], S = images.shape()[2];
    std::vector<G> moves;
    moves.reserve(n);
    const auto uniform = [&](double half) { return half * (2 * r.uniform() - 1); };
    for (std::size_t b = 0; b < n; ++b) {
        const double theta = uniform(o.rotation_deg * std::numbers::pi / 180), s = uniform(o.shear);
        const double sx = std::exp(uniform(o.log_scale)), sy = std::exp(uniform(o.log_scale));
        const double c = std::cos(theta), si = std::sin(theta);
        // R(θ) · [[1, s], [0, 1]] · diag(sx, sy)
        const lie::mat<float, 2> m{{static_cast<float>(c * sx), static_cast<float>((c * s - si) * sy), static_cast<float>(si * sx),
                                    static_cast<float>((si * s + c) * sy)}};
        const float pixel = 2.0f / static_cast<float>(S);  // image coordinates are in (−1, 1)
        const typename G::point t{static_cast<float>(uniform(o.translation)) * pixel, static_cast<float>(uniform(o.translation)) * pixel};
        moves.emplace_back(t, lie::gl_plus<2, float>::from_matrix(m));
    }
    xt::xtensor<float, 3> flat = xt::reshape_view(images, std::array<std::size_t, 3>{n, S, S});
    xt::xtensor<float, 3> moved = lie::act_on_images(std::span<const G>(moves), flat);
    return xt::reshape_view(moved, std::array<std::size_t, 4>{n, 1, S, S});
}

xt::xtensor<float, 4> batch_of(const xt::xtensor<float, 4>& images, const std::vector<std::size_t>& order, std::size_t start, std::size_t count) {
    const std::size_t S = images.shape()[2];
    xt::xtensor<float, 4> out = xt::empty<float>({count, std::size_t{1}, S, S});
    for (std::size_t b = 0; b < count; ++b) {
        const float* src = images.data() + order[start + b] * S * S;
        for (std::size_t i = 0; i < S * S; ++i) out.data()[b * S * S + i] = (src[i] - 0.5f) / 0.5f;  // rgenn's normalisation
    }
    return out;
}

// The rotation sweep: the first sweep_test test images under the transformations above with the rotation range replaced
// by each of `degrees` (the generator's other draws are the same, so only the rotation angles scale).
struct rotation_sweep {
    std::vector<double> degrees;
    std::vector<xt::xtensor<float, 4>> images;
    xt::xtensor<int, 1> labels;
};

rotation_sweep make_sweep(const dataset& test, const options& o) {
    rotation_sweep sweep;
    if (!o.test_images.empty() || o.sweep.empty()) return sweep;  // given test files are used as they are
    const std::size_t n = std::min(o.sweep_test, test.images.shape()[0]), S = test.images.shape()[2];
    xt::xtensor<float, 4> first = xt::empty<float>({n, std::size_t{1}, S, S});
    std::copy(test.images.data(), test.images.data() + n * S * S, first.data());
    sweep.labels = xt::empty<int>({n});
    for (std::size_t i = 0; i < n; ++i) sweep.labels(i) = test.labels(i);
    for (double d : o.sweep) {
        options rotated = o;
        rotated.rotation_deg = d;
        sweep.degrees.push_back(d);
        sweep.images.push_back(transform_images(first, rotated));
    }
    return sweep;
}

// The common training and evaluation loop; `Net` is an eq::affine_model<H> or eq::cnn_model.
struct result {
    std::string name;
    std::size_t parameters = 0;
    double train_seconds = 0, train_cpu_seconds = 0, upright = 0, transformed = 0, final_loss = 0;
    std::vector<double> sweep;  // accuracy on each rotation range of the sweep
};

template <class Forward>
double accuracy(Forward&& forward, const xt::xtensor<float, 4>& images, const xt::xtensor<int, 1>& labels, std::size_t batch) {
    const std::size_t n = images.shape()[0];
    std::vector<std::size_t> order(n);
    for (std::size_t i = 0; i < n; ++i) order[i] = i;
    std::size_t correct = 0;
    for (std::size_t start = 0; start < n; start += batch) {
        const std::size_t count = std::min(batch, n - start);
        const auto logits = forward(batch_of(images, order, start, count));
        for (std::size_t b = 0; b < count; ++b) {
            std::size_t best = 0;
            for (std::size_t k = 1; k < logits.shape()[1]; ++k)
                if (logits(b, k) > logits(b, best)) best = k;
            correct += static_cast<int>(best) == labels(start + b);
        }
    }
    return static_cast<double>(correct) / static_cast<double>(n);
}

template <class Net, class StepForward, class EvalForward>
result train_and_test(const std::string& name, Net& net, StepForward&& step_forward, EvalForward&& eval_forward, const dataset& train, const dataset& test,
                      const xt::xtensor<float, 4>& test_moved, const rotation_sweep& sweep, const options& o) {
    auto params = net.parameters();
    result res;
    res.name = name;
    res.parameters = eq::count_parameters(params);
    std::cout << "\n[" << name << "] " << res.parameters << " parameters; training on " << train.images.shape()[0] << " images for " << o.epochs
              << " epochs\n"
              << std::flush;
    widenn::nn::adam opt(params, {.lr = o.lr, .weight_decay = o.weight_decay});
    widenn::rng shuffle = widenn::rng::stream(o.seed, 5);
    const std::size_t n = train.images.shape()[0], steps_per_epoch = (n + o.batch - 1) / o.batch, total = steps_per_epoch * o.epochs;
    std::vector<std::size_t> order(n);
    for (std::size_t i = 0; i < n; ++i) order[i] = i;
    const auto start_time = clock_type::now();
    const std::clock_t start_cpu = std::clock();  // process CPU time, all threads: on a shared machine wall time overstates the cost
    std::size_t step = 0;
    widenn::matrix<float> grad;
    for (std::size_t epoch = 0; epoch < o.epochs; ++epoch) {
        for (std::size_t i = n; i > 1; --i) std::swap(order[i - 1], order[shuffle.below(i)]);
        double loss_sum = 0;
        std::size_t loss_count = 0;
        for (std::size_t start = 0; start < n; start += o.batch, ++step) {
            const std::size_t count = std::min(o.batch, n - start);
            xt::xtensor<int, 1> labels = xt::empty<int>({count});
            for (std::size_t b = 0; b < count; ++b) labels(b) = train.labels(order[start + b]);
            opt.set_lr(eq::cosine_lr(o.lr, 1e-6, step, total));
            opt.zero_grad();
            const widenn::matrix<float> logits = step_forward(batch_of(train.images, order, start, count));
            loss_sum += widenn::nn::softmax_cross_entropy::value_and_gradient(logits, labels, grad);
            ++loss_count;
            net.backward(grad);
            opt.step();
            if ((step + 1) % 20 == 0 || step + 1 == total) {
                const double elapsed = std::chrono::duration<double>(clock_type::now() - start_time).count();
                std::cout << "  epoch " << epoch + 1 << "/" << o.epochs << "  step " << step + 1 << "/" << total << "  loss " << std::fixed << std::setprecision(4)
                          << loss_sum / static_cast<double>(loss_count) << "  " << std::setprecision(0) << elapsed << " s elapsed, ~"
                          << elapsed / static_cast<double>(step + 1) * static_cast<double>(total - step - 1) << " s left\n"
                          << std::defaultfloat << std::flush;
            }
        }
        res.final_loss = loss_sum / static_cast<double>(std::max<std::size_t>(loss_count, 1));
    }
    res.train_seconds = std::chrono::duration<double>(clock_type::now() - start_time).count();
    res.train_cpu_seconds = static_cast<double>(std::clock() - start_cpu) / CLOCKS_PER_SEC;
    std::cout << "  evaluating on " << test.images.shape()[0] << " upright and " << test_moved.shape()[0] << " transformed test images\n" << std::flush;
    res.upright = accuracy(eval_forward, test.images, test.labels, 64);
    res.transformed = accuracy(eval_forward, test_moved, test.labels, 64);
    std::cout << "  " << name << ": upright " << std::setprecision(4) << 100 * res.upright << " %, transformed " << 100 * res.transformed << " %, "
              << std::setprecision(1) << std::fixed << res.train_seconds << " s training (" << res.train_cpu_seconds << " s CPU)\n"
              << std::defaultfloat << std::flush;
    if (!sweep.images.empty()) {
        std::cout << "  rotation sweep on " << sweep.labels.size() << " test images:" << std::flush;
        for (std::size_t k = 0; k < sweep.images.size(); ++k) {
            res.sweep.push_back(accuracy(eval_forward, sweep.images[k], sweep.labels, 64));
            std::cout << "  +-" << std::defaultfloat << std::setprecision(4) << sweep.degrees[k] << " deg " << std::fixed << std::setprecision(1) << 100 * res.sweep.back() << " %" << std::defaultfloat << std::flush;
        }
        std::cout << "\n";
    }
    return res;
}

template <class H>
result run_affine(const std::string& name, const eq::model_config& config, const dataset& train, const dataset& test, const xt::xtensor<float, 4>& moved,
                  const rotation_sweep& sweep, const options& o) {
    eq::affine_model<H, float> net(config);
    widenn::rng draws = widenn::rng::stream(o.seed, 31);
    // evaluation: eval_draws fixed grids (deterministic seeds), logits averaged; a fixed training grid is also the evaluation grid
    std::vector<eq::group_grid> eval_grids;
    for (std::size_t k = 0; k < (o.fixed_grid ? 1 : o.eval_draws); ++k) {
        widenn::rng fixed = widenn::rng::stream(o.seed, 1000 + k);
        eval_grids.push_back(eq::sample_grid<H>(o.fixed_grid ? o.samples : o.eval_samples, fixed, o.sampling, config.proposal));
    }
    auto step = [&](const xt::xtensor<float, 4>& x) { return net.forward(x, o.fixed_grid ? eval_grids[0] : net.draw_grid(draws, o.sampling), true); };
    auto eval = [&](const xt::xtensor<float, 4>& x) {
        widenn::matrix<float> sum = net.forward(x, eval_grids[0], false);
        for (std::size_t k = 1; k < eval_grids.size(); ++k) sum += net.forward(x, eval_grids[k], false);
        return widenn::matrix<float>(sum / static_cast<float>(eval_grids.size()));
    };
    return train_and_test(name, net, step, eval, train, test, moved, sweep, o);
}

// OUT_rotation.csv (accuracy per rotation range and model) and, with gnuplot, OUT_rotation.png.
void write_sweep(const rotation_sweep& sweep, const std::vector<result>& results, const std::string& out) {
    std::vector<std::string> header{"rotation_deg"};
    for (const auto& r : results) header.push_back(r.name);
    const std::string path = out + "_rotation.csv";
    {
        widenn::io::csv_writer csv(path, header);
        for (std::size_t k = 0; k < sweep.degrees.size(); ++k) {
            std::vector<std::string> row{std::to_string(sweep.degrees[k])};
            for (const auto& r : results) row.push_back(std::to_string(r.sweep[k]));
            csv.row_of(row);
        }
        csv.close();  // before gnuplot reads it
    }
    std::string script = "set terminal pngcairo size 800,560\nset output " + widenn::io::gnuplot_quote(out + "_rotation.png") +
                         "\nset datafile separator ','\nset key autotitle columnhead bottom left\nset xlabel 'test rotations drawn from +-x degrees "
                         "(with shear, scales, translation)'\nset ylabel 'test accuracy'\nset yrange [0:1]\nset xtics (0, 15, 30, 45, 90, 180)\n"
                         "set title 'trained on upright images: accuracy under rotation'\nplot";
    for (std::size_t m = 0; m < results.size(); ++m)
        script += (m ? ", " : " ") + widenn::io::gnuplot_quote(path) + " using 1:" + std::to_string(m + 2) + " with linespoints lw 2 pt 7";
    std::string reason;
    std::cout << "wrote " << path << (widenn::io::run_gnuplot(script + "\n", &reason) ? " and " + out + "_rotation.png" : "; no plot: " + reason) << "\n";
}

// Trains the chosen models, tests them and writes the results.
int run(const options& o) {
    // An unwritable --out is reported now, not after the training.
    widenn::io::require_writable(o.out + ".csv", "--out");
    widenn::io::require_writable(o.out + "_rotation.csv", "--out");
    const auto t0 = clock_type::now();
    std::cout << "affine_invariance: train on upright images, test on affinely transformed ones" << (o.quick ? " (--quick)" : "") << "\n";
    const dataset train = load(true, o.train, o.image, o.seed);
    dataset test;
    if (!o.test_images.empty()) {
        test = {pad_to_canvas(widenn::io::read_idx_images(o.test_images, o.test), o.image, o.test_images), widenn::io::read_idx_labels(o.test_labels, o.test),
                o.test_images};
        if (test.labels.shape()[0] != test.images.shape()[0])
            widenn::fail<widenn::shape_error>("affine_invariance: ", o.test_images, " and ", o.test_labels, " have different lengths");
    } else {
        test = load(false, o.test, o.image, o.seed);
    }
    // Given test files are used as they are (already transformed, e.g. affNIST); otherwise transformed copies are generated.
    const xt::xtensor<float, 4> moved = o.test_images.empty() ? transform_images(test.images, o) : test.images;
    std::cout << "data: " << train.source << ", " << train.images.shape()[0] << " training and " << test.images.shape()[0] << " test images on a " << o.image << " x "
              << o.image << " canvas\n"
              << "test transformations: rotation +-" << o.rotation_deg << " deg, shear +-" << o.shear << ", log-scales +-" << o.log_scale << ", translation +-"
              << o.translation << " px (seed " << o.seed << ")\n";
    const rotation_sweep sweep = make_sweep(test, o);

    eq::model_config config{.image_size = o.image, .in_channels = 1, .channels = o.channels, .kernel = 5, .classes = 10, .samples = o.samples,
                            .proposal = {o.proposal, o.spd_scale}, .head_width = 64,
                            .dropout = o.dropout, .kernel_hidden = o.kernel_hidden, .kernel_layers = 3, .omega0 = 10.0, .seed = o.seed};
    std::vector<result> results;
    const auto wants = [&](const std::string& m) { return ("," + o.models + ",").find("," + m + ",") != std::string::npos; };
    std::size_t reference_parameters = 0;
    if (wants("gl")) {
        results.push_back(run_affine<lie::gl_plus<2>>("R2 x| GL+(2)", config, train, test, moved, sweep, o));
        reference_parameters = results.back().parameters;
    }
    if (wants("sl")) {
        results.push_back(run_affine<lie::sl<2>>("R2 x| SL(2)", config, train, test, moved, sweep, o));
        if (!reference_parameters) reference_parameters = results.back().parameters;
    }
    if (wants("cnn")) {
        eq::model_config cnn_config = config;
        if (reference_parameters) cnn_config.channels = eq::cnn_channels_for(reference_parameters, config);
        eq::cnn_model<float> net(cnn_config);
        auto step = [&](const xt::xtensor<float, 4>& x) { return net.forward(x, true); };
        auto eval = [&](const xt::xtensor<float, 4>& x) { return net.forward(x, false); };
        results.push_back(train_and_test("CNN (" + std::to_string(cnn_config.channels) + " channels)", net, step, eval, train, test, moved, sweep, o));
    }

    widenn::io::csv_writer csv(o.out + ".csv", {"model", "parameters", "train_seconds", "train_cpu_seconds", "upright_accuracy", "transformed_accuracy", "final_train_loss"});
    std::cout << "\n" << std::left << std::setw(26) << "model" << std::setw(12) << "parameters" << std::setw(12) << "train [s]" << std::setw(12) << "cpu [s]" << std::setw(12) << "upright"
              << "transformed\n";
    for (const auto& r : results) {
        csv.row(r.name, r.parameters, r.train_seconds, r.train_cpu_seconds, r.upright, r.transformed, r.final_loss);
        std::cout << std::left << std::setw(26) << r.name << std::setw(12) << r.parameters << std::setw(12) << std::fixed << std::setprecision(1) << r.train_seconds
                  << std::setw(12) << r.train_cpu_seconds << std::setw(12) << std::setprecision(2) << 100 * r.upright << std::setprecision(2) << 100 * r.transformed << "\n"
                  << std::defaultfloat;
    }
    csv.close();  // the CSV appears whole here
    if (!sweep.images.empty()) write_sweep(sweep, results, o.out);
    std::cout << "wrote " << csv.path() << "; total wall time " << std::fixed << std::setprecision(1)
              << std::chrono::duration<double>(clock_type::now() - t0).count() << " s, CPU time " << static_cast<double>(std::clock()) / CLOCKS_PER_SEC << " s\n";
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    return widenn::cli::run_program("affine_invariance", usage, argc, argv, [](widenn::cli::args& a) { return run(parse(a)); });
}
