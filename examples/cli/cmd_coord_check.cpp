// `widenn coord-check`: mup's coordinate check (docs/theory/abc-parametrization.md §6) for a preset, as a table, a CSV and a plot.
#include <chrono>
#include <cmath>
#include <iostream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include <widenn/act/activations.hpp>
#include <widenn/io/coord_check.hpp>
#include <widenn/nn/coord_check.hpp>
#include <widenn/nn/spec.hpp>

#include <widenn/io/files.hpp>

#include "cli.hpp"
#include "coord_check_dispatch.hpp"

namespace {

namespace wn = widenn;
using widenn::cli::usage_error;

struct choice {
    std::string preset, activation;
    int depth;
};

template <class Net>
wn::nn::coord_check_result run_for(const wn::nn::coord_check_config& config) {
    const auto start = std::chrono::steady_clock::now();
    const std::size_t total = config.widths.size() * config.seeds;
    std::size_t done = 0;
    return wn::nn::coord_check<Net>(config, [&](std::size_t width, std::size_t seed) {
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::cerr << "coord-check: [" << ++done << "/" << total << "] width " << width << ", seed " << seed << "  ("
                  << static_cast<long>(seconds) << " s elapsed)\n";
    });
}

int run_coord_check(wn::cli::args& a) {
    choice c;
    c.preset = a.text("preset", "mup");
    const std::string arch = a.text("arch", "");
    if (!arch.empty())
        for (const char* replaced : {"act", "depth"})
            if (a.has(replaced))
                throw usage_error(std::string("--") + replaced + " does not apply with --arch: the SPEC names every layer and --image " +
                                  "the input (e.g. --arch conv:3,relu,avgpool:2,conv:3,relu,gap --image 8,8,3)");
    if (arch.empty() && a.has("image")) throw usage_error("--image gives the input of an --arch SPEC for images; the MLP form takes --d-in");
    c.activation = a.text("act", "relu");
    c.depth = a.integer<int>("depth", c.preset == "mf" ? 1 : 2, 1, 64);
    wn::nn::coord_check_config config;
    config.widths = a.integers<std::size_t>("widths", {128, 256, 512, 1024, 2048, 4096}, 1, 65536);
    config.steps = a.integer<std::size_t>("steps", 3, 1, 100);
    config.seeds = a.integer<std::size_t>("seeds", 5, 1, 1000);
    config.batch = a.integer<std::size_t>("batch", 32, 1, 1 << 20);
    config.d_in = a.integer<std::size_t>("d-in", 64, 1, 1 << 20);
    config.base_width = a.integer<std::size_t>("base-width", 256, 1, 65536);
    const std::string optimizer = a.text("optimizer", "sgd");
    if (optimizer != "sgd" && optimizer != "adam") throw usage_error("--optimizer must be sgd or adam, got '" + optimizer + "'");
    config.optimizer = optimizer == "sgd" ? wn::nn::coord_check_optimizer::sgd : wn::nn::coord_check_optimizer::adam;
    config.lr = a.real("lr", optimizer == "sgd" ? 0.1 : 1e-3, std::numeric_limits<double>::min());
    config.zero_readout = !a.has("random-readout");
    config.data_seed = a.integer<std::uint64_t>("data-seed", 12345);
    const std::vector<std::size_t> image = a.integers<std::size_t>("image", {8, 8, 3}, 1, 4096);
    const std::string csv = a.text("csv", "");
    const std::string png = a.text("plot", "");
    a.reject_unknown();
    if (!arch.empty()) {
        config.arch = wn::nn::parse_spec(arch);
        if (wn::nn::spec_is_image(config.arch)) {
            if (a.has("d-in")) throw usage_error("--d-in does not apply to a SPEC with image layers: give its input as --image H,W,C");
            if (image.size() != 3) throw usage_error("--image must be H,W,C (three sizes), got " + std::to_string(image.size()) + " values");
            config.image = {image[0], image[1], image[2]};
            wn::nn::infer_shapes(config.arch, image[0], image[1], image[2]);
        } else {
            if (a.has("image")) throw usage_error("--image is for SPECs with image layers; '" + arch + "' is dense-only (its input: --d-in)");
            wn::nn::infer_shapes(config.arch, config.d_in);
        }
    }
    wn::io::require_distinct_outputs({}, {{"--csv", csv}, {"--plot", png}}, "");
    wn::io::require_writable(csv, "--csv");  // before the computation, not after it
    wn::io::require_writable(png, "--plot");

    const auto run = [&]<class Net>() {
        if constexpr (wn::nn::is_dynamic_network<Net>) {  // the SPEC's layers and sizes checked before the first progress line
            wn::nn::network_config probe{.d_in = config.d_in, .image = config.image, .width = config.widths.front(), .d_out = config.d_out,
                                         .base_width = config.base_width};
            if (config.image.channels > 0) probe.d_in = 0;
            Net check(config.arch, probe);
        }
        return run_for<Net>(config);
    };
    const wn::nn::coord_check_result result = arch.empty() ? wn::cli::coord_checks::with_network(c.preset, c.activation, c.depth, run)
                                                           : wn::cli::coord_checks::with_dynamic_network(c.preset, run);

    const std::string network =
        arch.empty() ? c.activation + ", L = " + std::to_string(c.depth) + " hidden layers"
                     : "--arch " + wn::nn::format_spec(config.arch) +
                           (config.image.channels > 0 ? " on " + std::to_string(config.image.height) + "x" + std::to_string(config.image.width) +
                                                            "x" + std::to_string(config.image.channels) + " images"
                                                      : "");
    std::cout << "coord check: preset " << c.preset << ", " << network << ", " << optimizer << " lr "
              << config.lr << ", base width " << config.base_width << ", batch " << config.batch << ", mean over " << config.seeds
              << " seed(s)\n"
              << result.table();
    if (!csv.empty()) {
        wn::io::write_coord_check_csv(result, csv);
        std::cout << "wrote " << csv << " (columns width,seed,step,layer,l1)\n";
    }
    if (!png.empty()) {
        std::string reason;
        std::ostringstream title;
        title << "coord check: " << c.preset << ", " << (arch.empty() ? c.activation + ", L = " + std::to_string(c.depth) : arch) << ", "
              << optimizer << " lr " << config.lr;
        if (wn::io::plot_coord_check(result, png, title.str(), &reason))
            std::cout << "wrote " << png << '\n';
        else
            std::cerr << "coord-check: no plot: " << reason << '\n';
    }
    return 0;
}

const bool registered = wn::cli::add_command({
    "coord-check",
    "mup's coordinate check: mean |x| per layer against width over a few SGD steps",
    "usage: widenn coord-check [--preset mup|sp|ntk|mf] [--widths 128,256,...] [--steps 3] [--seeds 5]\n"
    "                          [--optimizer sgd|adam] [--lr 0.1 (sgd), 1e-3 (adam)]\n"
    "                          [--act relu|tanh] [--depth 1|2|3] [--batch 32] [--d-in 64] [--base-width 256]\n"
    "                          [--random-readout] [--data-seed S] [--csv out.csv] [--plot out.png]\n"
    "       widenn coord-check --arch SPEC [--image H,W,C (8,8,3)] [the options above except --act, --depth]\n\n"
    "Trains an MLP of each width for steps-1 SGD or Adam steps (softmax cross-entropy) on one fixed Gaussian batch and records\n"
    "l1 = mean |x| of every layer's output (preactivations h1.., activations x1.., readout out) at t = 1..steps\n"
    "(t = 1 is initialisation), as the `mup` package does (Yang et al. 2022, Tensor Programs V). The readout starts at\n"
    "zero unless --random-readout. Under a correct muP the numbers do not change with width; under SP with this\n"
    "width-independent learning rate (unstable, TP4 Thm 4.1) the later layers grow with width from t = 2.\n"
    "Prints the seed-averaged table; --csv writes width,seed,step,layer,l1; --plot draws one panel per step (gnuplot).\n"
    "--arch SPEC: the finite network of a SPEC (the grammar of `widenn kernel --arch`, e.g. conv:3,relu,avgpool:2,conv:3,\n"
    "relu,gap; conv:K for K in 1..7, avgpool:K for K in 1..4) on a fixed batch of Gaussian H x W x C images (--image), or\n"
    "of --d-in features for a dense-only SPEC; records the output of every top-level layer (conv1, relu2, ..., out).\n",
    run_coord_check,
});

}  // namespace
