// `widenn mup-limit`: trains the exact μP limit of a one-hidden-layer linear network (TP4 Cor 6.2) on .npy data and,
// for each requested width, a finite μP network (nn::mlp) initialised from the same coefficients; writes the limit's
// predictions and the finite-vs-limit function-space distance per width and step.
#include <cmath>
#include <optional>
#include <iomanip>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <widenn/act/activations.hpp>
#include <widenn/io/files.hpp>
#include <widenn/io/npy.hpp>
#include <widenn/io/plot.hpp>
#include <widenn/limit/feature_learning.hpp>
#include <widenn/nn/loss.hpp>
#include <widenn/nn/mlp.hpp>
#include <widenn/nn/optim.hpp>

#include "cli.hpp"

namespace {

using widenn::matrix;
using widenn::cli::usage_error;
namespace lim = widenn::limit;
using net_t = widenn::nn::mlp<widenn::param::mup, widenn::act::identity, 1, double>;

// Integer class labels (N x 1) -> one-hot rows (N x classes).
matrix<double> one_hot(const matrix<double>& labels, const std::string& path) {
    double top = 0;
    for (std::size_t i = 0; i < labels.shape()[0]; ++i) {
        const double v = labels(i, 0);
        if (!(v >= 0) || v != std::floor(v) || v > 1e6)
            throw widenn::error("--loss xent with 1-D targets needs integer class labels >= 0; '" + path +
                                "' has " + std::to_string(v) + " at row " + std::to_string(i));
        top = std::max(top, v);
    }
    const auto classes = static_cast<std::size_t>(top) + 1;
    if (classes < 2) throw widenn::error("--loss xent needs at least 2 classes, '" + path + "' has 1");
    matrix<double> out = xt::zeros<double>({labels.shape()[0], classes});
    for (std::size_t i = 0; i < labels.shape()[0]; ++i) out(i, static_cast<std::size_t>(labels(i, 0))) = 1.0;
    return out;
}

matrix<double> rows_of(const matrix<double>& m, std::size_t start, std::size_t count) {
    matrix<double> out = xt::empty<double>({count, m.shape()[1]});
    for (std::size_t r = 0; r < count; ++r)
        for (std::size_t c = 0; c < m.shape()[1]; ++c) out(r, c) = m((start + r) % m.shape()[0], c);
    return out;
}

double rms_distance(const matrix<double>& a, const matrix<double>& b) {
    double sum = 0;
    for (std::size_t i = 0; i < a.size(); ++i) sum += (a.flat(i) - b.flat(i)) * (a.flat(i) - b.flat(i));
    return std::sqrt(sum / static_cast<double>(a.shape()[0]));
}

int run_mup_limit(widenn::cli::args& a) {
    const std::string x_path = a.required_text("x"), y_path = a.required_text("y");
    const long steps = a.integer<long>("steps", 100, 0, 100000000);
    const double lr = a.real("lr", 0.1, std::numeric_limits<double>::min());
    const std::size_t batch_arg = a.integer<std::size_t>("batch", 0, 0, std::size_t{1} << 40);
    const std::string loss_name = a.text("loss", "mse");
    const std::vector<std::size_t> widths = a.integers<std::size_t>("widths", {}, 1, std::size_t{1} << 24);
    const std::string predict_path = a.text("predict", ""), out_path = a.text("out", "");
    const std::string csv_path = a.text("csv", "");
    const double weight_decay = a.real("weight-decay", 0.0, 0.0);
    const std::uint64_t seed = a.integer<std::uint64_t>("seed", 0);
    a.reject_unknown();
    if (loss_name != "mse" && loss_name != "xent") throw usage_error("--loss must be mse or xent, got '" + loss_name + "'");
    if (predict_path.empty() != out_path.empty()) throw usage_error("--predict and --out go together");
    widenn::io::require_distinct_outputs({{"--x", x_path}, {"--y", y_path}, {"--predict", predict_path}},
                                         {{"--out", out_path}, {"--csv", csv_path}}, "");
    std::optional<widenn::io::output_file> out_file;
    if (!out_path.empty()) out_file.emplace(out_path, "--out");  // an unwritable path fails now, not after training
    const auto loss = loss_name == "mse" ? lim::loss_kind::mse : lim::loss_kind::cross_entropy;

    const matrix<double> X = widenn::io::read_npy_matrix<double>(x_path);
    matrix<double> Y = widenn::io::read_npy_matrix<double>(y_path);
    if (loss == lim::loss_kind::cross_entropy && Y.shape()[1] == 1) Y = one_hot(Y, y_path);
    if (Y.shape()[0] != X.shape()[0])
        throw widenn::shape_error("X has " + std::to_string(X.shape()[0]) + " rows but Y has " + std::to_string(Y.shape()[0]));
    widenn::require_finite(X, "--x", x_path);
    widenn::require_finite(Y, "--y", y_path);
    const std::size_t n_data = X.shape()[0], d = X.shape()[1], d_out = Y.shape()[1];
    if (n_data == 0 || d == 0 || d_out == 0) throw widenn::shape_error("--x and --y must not be empty");
    const std::size_t batch = batch_arg == 0 ? n_data : std::min(batch_arg, n_data);
    matrix<double> X_test;
    if (!predict_path.empty()) {
        X_test = widenn::io::read_npy_matrix<double>(predict_path);
        widenn::require_shape(X_test, widenn::any_size, d, "--predict", "--predict inputs (N x d_in)");
    }

    // The limit and one finite μP net per width, all trained by plain SGD with rate lr (nn::sgd for the finite nets).
    net_t probe_net({.d_in = d, .width = 1, .d_out = d_out, .base_width = 1, .bias = false});
    lim::mup_linear<double> limit(d, d_out, lim::mup_linear_options_for(probe_net, lr, loss, weight_decay));
    std::vector<net_t> nets;
    std::vector<widenn::nn::sgd<net_t>> optimizers;
    nets.reserve(widths.size());
    for (std::size_t w : widths) {
        nets.emplace_back(widenn::nn::mlp_config{.d_in = d, .width = w, .d_out = d_out, .base_width = 1, .bias = false});
        lim::initialise_from_coefficients(nets.back(), limit, seed);
    }
    for (auto& net : nets) optimizers.emplace_back(net, widenn::nn::sgd_config{.lr = lr, .weight_decay = weight_decay});

    std::cout << "mup-limit: " << n_data << " examples, d = " << d << ", d_o = " << d_out << ", loss " << loss_name << ", batch " << batch
              << ", lr " << lr << "; the limit is a width-" << limit.coefficient_dim() << " coefficient network\n";
    std::unique_ptr<widenn::io::csv_writer> csv;
    if (!csv_path.empty()) csv = std::make_unique<widenn::io::csv_writer>(csv_path, std::initializer_list<std::string>{"step", "width", "loss", "distance"});
    std::vector<double> last_distance(nets.size(), 0.0);
    auto report = [&](long t, double limit_loss) {
        const matrix<double> f_limit = limit.predict(X);
        if (csv) csv->row(t, 0, limit_loss, 0.0);
        for (std::size_t k = 0; k < nets.size(); ++k) {
            last_distance[k] = rms_distance(nets[k].forward(X), f_limit);
            if (csv) csv->row(t, nets[k].config().width, std::nan(""), last_distance[k]);
        }
    };
    const long every = std::max<long>(1, steps / 10);
    double limit_loss = std::nan("");
    report(0, limit_loss);
    for (long t = 1; t <= steps; ++t) {
        const std::size_t start = static_cast<std::size_t>(t - 1) * batch % n_data;
        const matrix<double> xb = rows_of(X, start, batch), yb = rows_of(Y, start, batch);
        limit_loss = limit.step(xb, yb);
        for (std::size_t k = 0; k < nets.size(); ++k) {
            matrix<double> grad;
            if (loss == lim::loss_kind::mse) {
                widenn::nn::mse::value_and_gradient(nets[k].forward(xb), yb, grad);
            } else {
                widenn::nn::loss_value_and_gradient(loss, nets[k].forward(xb), yb, grad);
            }
            optimizers[k].step(nets[k].backward(xb, grad));
        }
        if (t % every == 0 || t == steps) {
            report(t, limit_loss);
            std::cout << "  step " << std::setw(6) << t << "  limit loss " << std::setw(12) << limit_loss;
            for (std::size_t k = 0; k < nets.size(); ++k) std::cout << "  |f_" << nets[k].config().width << " - f_lim| " << last_distance[k];
            std::cout << '\n' << std::flush;
        }
    }
    if (!widths.empty()) {
        std::cout << "function-space distance (rms over the training inputs) after " << steps << " steps:\n";
        for (std::size_t k = 0; k < nets.size(); ++k)
            std::cout << "  width " << std::setw(8) << nets[k].config().width << "  " << last_distance[k] << "  (x sqrt(width) = "
                      << last_distance[k] * std::sqrt(static_cast<double>(nets[k].config().width)) << ")\n";
    }
    if (!out_path.empty()) {
        const matrix<double> prediction = limit.predict(X_test);
        widenn::require_finite(prediction, "widenn mup-limit", "the limit's predictions (did training diverge? lower --lr)");
        widenn::io::write_npy(*out_file, prediction);
        std::cout << "wrote the limit's predictions for " << X_test.shape()[0] << " inputs to " << out_path << '\n';
    }
    if (csv) csv->close();
    if (csv) std::cout << "wrote " << csv->path() << " (step, width [0 = limit], limit loss, distance)\n";
    return 0;
}

const bool registered = widenn::cli::add_command({
    "mup-limit",
    "train the exact infinite-width muP limit of a linear 1-hidden-layer net (TP4 Cor 6.2) and finite nets",
    "usage: widenn mup-limit --x X.npy --y Y.npy [--steps T] [--lr ETA] [--batch B] [--loss mse|xent]\n"
    "                        [--widths 64,256,...] [--seed S] [--weight-decay W]\n"
    "                        [--predict Xtest.npy --out P.npy] [--csv curve.csv]\n\n"
    "Trains limit::mup_linear, the exact infinite-width limit of f(x) = V U x in muP (Yang & Hu 2020, Tensor\n"
    "Programs IV, Cor. 6.2): a width-(d + d_o) coefficient network trained by SGD with rate ETA on batches of B\n"
    "rows taken in order (default: the whole data set). X is N x d, Y is N x d_o (for --loss xent, Y may be a\n"
    "1-D array of integer class labels). For each width n in --widths a finite muP network (nn::mlp) is\n"
    "initialised from the same coefficients (U = Omega A, nV = B Omega', Omega ~ N(0,1), seed S) and trained\n"
    "alongside; the rms distance between its outputs and the limit's on X is printed (it shrinks like\n"
    "1/sqrt(n)) and written to the CSV (columns step, width [0 = the limit], loss, distance).\n"
    "--predict/--out write the limit's predictions on Xtest as .npy. .npy arrays: float64/32, int64/32, C order.\n",
    run_mup_limit,
});

}  // namespace
