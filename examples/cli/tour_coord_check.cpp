// Tour section: a short coordinate check (mup's protocol, docs/theory/abc-parametrization.md §6) for muP and SP.
#include <algorithm>
#include <cmath>
#include <iomanip>
#include <ostream>

#include <widenn/act/activations.hpp>
#include <widenn/nn/coord_check.hpp>

#include "cli.hpp"

namespace {

namespace wn = widenn;

// Largest factor by which any layer's seed-mean l1 differs between the two widths at steps >= 2.
double worst_ratio(const wn::nn::coord_check_result& r) {
    double worst = 1;
    for (std::size_t t = 2; t <= r.steps; ++t)
        for (const auto& layer : r.layers) {
            const double ratio = r.mean_l1(r.widths.back(), t, layer) / r.mean_l1(r.widths.front(), t, layer);
            worst = std::max(worst, std::max(ratio, 1 / ratio));
        }
    return worst;
}

const bool registered = wn::cli::add_tour_section({
    30,
    "Coordinate check: muP keeps every layer's scale as width grows, SP does not (mup's protocol)",
    [](std::ostream& out) {
        wn::nn::coord_check_config c;
        c.widths = {256, 1024};
        c.steps = 3;
        c.seeds = 2;
        c.lr = 1.0;
        c.d_in = 16;
        c.batch = 16;
        c.base_width = 256;
        out << "ReLU MLP, 2 hidden layers, zero readout, SGD lr " << c.lr << " on one fixed batch of " << c.batch
            << "; l1 = mean |x| per layer, mean of " << c.seeds << " seeds; t = 1 is initialisation.\n"
            << "(widenn coord-check --preset mup|sp --widths 128,...,8192 --plot cc.png for the full check)\n";
        using mup_net = wn::nn::mlp<wn::param::mup, wn::act::relu, 2, float>;
        using sp_net = wn::nn::mlp<wn::param::allow_unstable<wn::param::standard>, wn::act::relu, 2, float>;
        const auto mup = wn::nn::coord_check<mup_net>(c);
        out << "\nmuP:\n" << mup.table();
        const auto sp = wn::nn::coord_check<sp_net>(c);
        out << "\nSP (unstable with a width-independent lr, TP4 Thm 4.1):\n" << sp.table();
        out << std::setprecision(3) << "\nlargest l1 ratio between n = 1024 and n = 256 at t >= 2: muP " << worst_ratio(mup)
            << ", SP " << worst_ratio(sp) << "\nSP readout at t = 3 grows x" << sp.mean_l1(1024, 3, "out") / sp.mean_l1(256, 3, "out")
            << " from n = 256 to 1024; muP x" << mup.mean_l1(1024, 3, "out") / mup.mean_l1(256, 3, "out") << '\n';
    },
});

}  // namespace
