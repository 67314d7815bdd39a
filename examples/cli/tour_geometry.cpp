// Tour section: representation geometry (docs/geometry.md): a random ReLU layer's relative representation against its
// infinite-width value 1/π, invariances of relative representations and CKA, and Loki's Fréchet-mean rule predicting a
// label it never saw.
#include <cmath>
#include <iomanip>
#include <numbers>
#include <ostream>
#include <vector>

#include <xtensor/xview.hpp>

#include <widenn/act/activations.hpp>
#include <widenn/geometry/cka.hpp>
#include <widenn/geometry/frechet.hpp>
#include <widenn/geometry/relative.hpp>
#include <widenn/nn/mlp.hpp>

#include "cli.hpp"

namespace {

namespace geo = widenn::geometry;
using widenn::matrix;

void run(std::ostream& out) {
    using net = widenn::nn::mlp<widenn::param::ntk, widenn::act::relu, 1, double>;
    const matrix<double> x{{1.0, 0.0, 0.0}, {0.0, 1.0, 0.0}};  // two orthogonal inputs
    const double limit = geo::infinite_width_relative<net>(xt::view(x, xt::range(0, 1), xt::all()), xt::view(x, xt::range(1, 2), xt::all()),
                                                           {.weight_var = 2.0})(0, 0);
    out << "Relative representation (cosine to an anchor) of two orthogonal inputs through one random ReLU layer;\n"
           "the infinite-width value from the NNGP is " << std::setprecision(6) << limit << " (1/pi = " << 1 / std::numbers::pi << "):\n"
        << "  width    mean over 50 seeds    rms error x sqrt(width)\n";
    for (std::size_t width : {64, 1024, 16384}) {
        double sum = 0, sq = 0;
        for (std::uint64_t s = 0; s < 50; ++s) {
            net f({.d_in = 3, .width = width, .d_out = 1, .bias = false, .constants = widenn::nn::constants_in::multiplier, .seed = s});
            f.forward(x);
            const matrix<double> h = f.post_activation(1);
            const double c = geo::relative(xt::view(h, xt::range(0, 1), xt::all()), xt::view(h, xt::range(1, 2), xt::all()))(0, 0);
            sum += c;
            sq += (c - limit) * (c - limit);
        }
        out << "  " << std::right << std::setw(5) << width << std::setw(18) << std::fixed << std::setprecision(4) << sum / 50 << std::setw(22)
            << std::sqrt(sq / 50 * static_cast<double>(width)) << std::defaultfloat << '\n';
    }
    const matrix<double> e = widenn::normal_matrix(500, 32, 3);
    matrix<double> moved = -4.0 * e;  // a reflection and a rescaling of the latent space
    xt::view(moved, xt::all(), 0) = 4.0 * xt::view(e, xt::all(), 1);
    xt::view(moved, xt::all(), 1) = -4.0 * xt::view(e, xt::all(), 0);  // a quarter turn in the first plane, same scale
    const auto anchors = geo::random_anchors(500, 50, 4);
    out << "\nA latent space rotated, reflected and rescaled (500 x 32, 50 anchors):\n"
        << "  max change of the relative representation: " << std::scientific << std::setprecision(1)
        << xt::amax(xt::abs(geo::relative(moved, anchors) - geo::relative(e, anchors)))() << std::defaultfloat << '\n'
        << "  max change of the coordinates:             " << std::setprecision(3) << xt::amax(xt::abs(moved - e))() << '\n'
        << "  linear CKA between the two spaces:         " << std::setprecision(15) << geo::linear_cka(e, moved) << '\n';
    const auto path = geo::label_metric::from_graph(3, {{0, 1}, {1, 2}});
    const auto y = geo::frechet_predict(matrix<double>{{0.5, 0.5}, {0.8, 0.2}}, path, {0, 2});
    out << "\nLoki on the label path 0 - 1 - 2, a classifier that only knows labels 0 and 2:\n"
        << "  p = (1/2, 1/2) -> Frechet mean " << y[0] << " (never observed; argmax would say 0)\n"
        << "  p = (0.8, 0.2) -> Frechet mean " << y[1] << '\n';
}

const bool registered = widenn::cli::add_tour_section({80, "representation geometry: relative representations, CKA, Loki", run});

}  // namespace
