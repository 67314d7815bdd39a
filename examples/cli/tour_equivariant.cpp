// Tour section: affine-equivariant layers (lifting and group convolution on R^2 x| H).
#include <chrono>
#include <iomanip>
#include <ostream>

#include <widenn/equivariant/equivariance.hpp>
#include <widenn/equivariant/model.hpp>

#include "cli.hpp"

namespace {

namespace eq = widenn::equivariant;

// Rotation by +π/2 of the last two axes: f'[row][col] = f[S−1−col][row].
xt::xtensor<double, 4> rotate90(const xt::xtensor<double, 4>& x) {
    const std::size_t S = x.shape()[3], planes = x.size() / (S * S);
    xt::xtensor<double, 4> out = xt::empty<double>(x.shape());
    for (std::size_t p = 0; p < planes; ++p)
        for (std::size_t row = 0; row < S; ++row)
            for (std::size_t col = 0; col < S; ++col) out.data()[p * S * S + row * S + col] = x.data()[p * S * S + (S - 1 - col) * S + row];
    return out;
}

void run(std::ostream& out) {
    out << "Lifting and group convolutions on R^2 x| H with a SIREN kernel, H = SO(2), SL(2), GL+(2) (Mironenco & Forre 2024).\n";
    eq::model_config c;
    out << "parameters at rgenn's default size (40 channels, kernel 5): SL(2) "
        << eq::count_parameters(eq::affine_model<widenn::lie::sl<2>>(c).parameters()) << ", GL+(2) "
        << eq::count_parameters(eq::affine_model<widenn::lie::gl_plus<2>>(c).parameters()) << " (rgenn: 339102, 339282)\n";

    // exact invariance of a small SO(2) model to rotations by pi/2 on an equidistant grid of 4 rotations
    eq::model_config small{.image_size = 16, .in_channels = 1, .channels = 4, .kernel = 3, .classes = 3, .head_width = 8, .dropout = 0.0,
                           .kernel_hidden = 16, .kernel_layers = 2, .omega0 = 5.0, .seed = 1};
    eq::affine_model<widenn::lie::so<2>, double> net(small);
    widenn::rng r(1);
    const auto grid = eq::sample_grid<widenn::lie::so<2>>(4, r, eq::sampling::equidistant);
    xt::xtensor<double, 4> x = xt::empty<double>({2, 1, 16, 16});
    for (auto& v : x) v = r.normal();
    const auto logits = net.forward(x, grid, false), rotated = net.forward(rotate90(x), grid, false);
    out << "SO(2) model, 4 equidistant rotations: max |logits(rot90 x) - logits(x)| = " << std::scientific << std::setprecision(2)
        << xt::amax(xt::abs(logits - rotated))() << " (logits of size " << xt::amax(xt::abs(logits))() << ")\n"
        << std::defaultfloat;

    out << "Monte Carlo equivariance error of a 1x1 group convolution (mean of 12 pairs of draws):\n";
    const eq::equivariance_probe probe{.sigma = 0.8, .repeats = 12, .seed = 0};
    const auto report = [&]<class H>() {
        auto layer = eq::equivariance_probe_layer<H>();
        const auto a = eq::example_transformation<H>();
        out << "  " << std::left << std::setw(7) << eq::planar_group<H>::name << " Haar-weighted:";
        for (std::size_t n : {16, 256, 4096}) out << "  N=" << n << ": " << std::setprecision(3) << eq::group_conv_equivariance_error(layer, a, n, eq::sampling::haar, probe);
        out << "\n          unweighted:    N=4096: " << eq::group_conv_equivariance_error(layer, a, 4096, eq::sampling::unweighted, probe)
            << " (the paper's code: does not vanish)\n";
    };
    report.operator()<widenn::lie::sl<2>>();
    report.operator()<widenn::lie::gl_plus<2>>();
    out << "More: widenn equivariance (CSV and plot), the affine_invariance example (training on Fashion-MNIST).\n";
}

const bool registered = widenn::cli::add_tour_section({70, "affine-equivariant networks", run});

}  // namespace
