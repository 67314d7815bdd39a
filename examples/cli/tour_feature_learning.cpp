// Tour section: finite μP networks approach their exact infinite-width feature-learning limits (TP4 §6).
#include <cmath>
#include <iomanip>
#include <ostream>
#include <vector>

#include <widenn/act/activations.hpp>
#include <widenn/core/rng.hpp>
#include <widenn/limit/feature_learning.hpp>
#include <widenn/nn/loss.hpp>
#include <widenn/nn/mlp.hpp>
#include <widenn/nn/optim.hpp>
#include <widenn/nn/train.hpp>

#include "cli.hpp"

namespace {

using widenn::matrix;
namespace lim = widenn::limit;
namespace nn = widenn::nn;

double rms(const matrix<double>& a, const matrix<double>& b) {
    double s = 0;
    for (std::size_t i = 0; i < a.size(); ++i) s += (a.flat(i) - b.flat(i)) * (a.flat(i) - b.flat(i));
    return std::sqrt(s / static_cast<double>(a.size()));
}

void run(std::ostream& out) {
    // (1) linear μP, d = 8, d_o = 3: exact limit = width-11 coefficient net; finite nets from the same coefficients.
    using linear_net = nn::mlp<widenn::param::mup, widenn::act::identity, 1, double>;
    const std::size_t d = 8, d_out = 3, steps = 20;
    const auto X = xt::eval(widenn::normal_matrix(16, d, 1) / std::sqrt(double(d)));
    const auto Y = widenn::normal_matrix(16, d_out, 2);
    out << "linear muP net, d = 8, d_o = 3, 20 full-batch SGD steps (lr 0.5): limit::mup_linear is a width-11 coefficient\n"
           "network (TP4 Cor 6.2); finite nn::mlp nets start from the same coefficients (U = Omega A, nV = B Omega').\n";
    out << "  width   rms |f_n - f_lim| over 3 seeds   x sqrt(n)\n";
    std::vector<double> errors;
    const std::vector<std::size_t> widths = {64, 1024, 16384};
    double final_loss = 0;
    for (std::size_t width : widths) {
        double sum2 = 0;
        for (std::uint64_t seed = 0; seed < 3; ++seed) {
            linear_net net({.d_in = d, .width = width, .d_out = d_out, .base_width = 1, .bias = false});
            lim::mup_linear<double> limit(d, d_out, lim::mup_linear_options_for(net, 0.5));
            lim::initialise_from_coefficients(net, limit, seed);
            nn::sgd<linear_net> opt(net, {.lr = 0.5});
            matrix<double> dout;  // the output gradient, reused across steps
            for (std::size_t t = 0; t < steps; ++t) {
                nn::train_step<nn::mse>(net, opt, X, Y, dout);
                final_loss = limit.step(X, Y);
            }
            const double e = rms(net.forward(X), limit.predict(X));
            sum2 += e * e;
        }
        errors.push_back(std::sqrt(sum2 / 3));
        out << "  " << std::setw(5) << width << "   " << std::setw(12) << errors.back() << "                     "
            << errors.back() * std::sqrt(double(width)) << '\n';
    }
    out << "  fitted slope of log error vs log width: "
        << std::log(errors.back() / errors.front()) / std::log(double(widths.back()) / double(widths.front()))
        << " (TP4: -1/2); limit training loss after 20 steps " << final_loss << '\n';

    // (2) tanh μP, scalar in/out: the Thm 6.1 limit by Gauss–Hermite quadrature against finite nets.
    using tanh_net = nn::mlp<widenn::param::mup, widenn::act::tanh, 1, double>;
    const double xs[6] = {0.41, -0.69, -1.38, -1.45, 0.94, 1.24}, ys[6] = {0.21, 0.46, 0.09, 0.87, 0.63, -0.99};
    const matrix<double> probe = {{-1.0}, {-0.5}, {0.0}, {0.5}, {1.0}};
    tanh_net shape({.d_in = 1, .width = 1, .d_out = 1, .base_width = 1, .bias = false});
    lim::mup_1hl<widenn::act::tanh> limit(1, 1, lim::mup_1hl_options_for(shape, 0.5, lim::loss_kind::mse, 0.0, {.degree = 200}));
    for (int t = 0; t < 6; ++t) limit.step(matrix<double>{{xs[t]}}, matrix<double>{{ys[t]}});
    out << "tanh muP net, scalar input and output, 6 SGD steps (lr 0.5): limit::mup_1hl (TP4 Thm 6.1) with " << limit.nodes()
        << " Gauss-Hermite particles, quadrature error estimate " << xt::amax(limit.error_estimate(probe))() << '\n';
    out << "  width   rms |f_n - f_lim| on 5 inputs, 3 seeds   x sqrt(n)\n";
    for (std::size_t width : {256u, 4096u, 65536u}) {
        double sum2 = 0;
        for (std::uint64_t seed = 0; seed < 3; ++seed) {
            tanh_net net({.d_in = 1, .width = width, .d_out = 1, .base_width = 1, .bias = false, .seed = seed});
            nn::sgd<tanh_net> opt(net, {.lr = 0.5});
            matrix<double> dout;  // the output gradient, reused across steps
            for (int t = 0; t < 6; ++t) nn::train_step<nn::mse>(net, opt, matrix<double>{{xs[t]}}, matrix<double>{{ys[t]}}, dout);
            const double e = rms(net.forward(probe), limit.predict(probe));
            sum2 += e * e;
        }
        const double e = std::sqrt(sum2 / 3);
        out << "  " << std::setw(5) << width << "   " << std::setw(12) << e << "                            " << e * std::sqrt(double(width)) << '\n';
    }
}

const bool registered = widenn::cli::add_tour_section({50, "Feature learning: finite muP nets approach their exact infinite-width limits (TP4 6)", run});

}  // namespace
