#pragma once
// Coordinate check (the `mup` package's test protocol; Yang et al. 2022, "Tensor Programs V", §D / Fig. 5,
// and docs/theory/abc-parametrization.md §6): train networks of several widths for a few SGD steps on one fixed batch
// and record l1 = mean |x| over all entries of every layer's output (preactivations h^l, activations x^l and
// the readout). Under a correct μP every curve is flat in width; under SP with a Θ(1) learning rate the
// later layers grow with width once t ≥ 2.
//
// Step t = 1 is the forward pass at initialisation; t = 2..T follow 1..T-1 updates, as in mup.
#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "../core/errors.hpp"
#include "../core/rng.hpp"
#include "../core/tensor.hpp"
#include "dynamic.hpp"
#include "loss.hpp"
#include "mlp.hpp"
#include "optim.hpp"
#include "serial.hpp"

namespace widenn::nn {

// mup's coord check runs with MuSGD (lr 0.1) or MuAdam (lr 1e-3); both take their per-layer rates from P.
enum class coord_check_optimizer { sgd, adam };

struct coord_check_config {
    std::vector<std::size_t> widths;   // hidden widths to compare, e.g. 128, 256, ..., 8192
    std::size_t steps = 3;             // T: records at t = 1..T (T - 1 updates)
    std::size_t seeds = 5;             // network seeds 0..seeds-1; the batch is the same for all
    double lr = 0.1;                   // η; per-layer factors come from the parametrization
    coord_check_optimizer optimizer = coord_check_optimizer::sgd;  // Adam: default betas and ε (ε scaled per tensor)
    std::size_t d_in = 64;             // input dimension
    std::size_t d_out = 10;            // classes (softmax cross-entropy, as mup)
    std::size_t batch = 32;            // the fixed batch (mup: 32 CIFAR-10 images)
    std::size_t base_width = 256;      // n0: μP equals SP at this width (mup's coord check uses 256)
    bool zero_readout = true;          // mup's readout_zero_init
    bool bias = true;
    std::uint64_t data_seed = 12345;   // seed of the fixed batch
    image_shape image{};               // nn::network with image layers: the input image (then d_in is ignored)
    spec arch{};                       // nn::dynamic_network: the SPEC of the network (nn/spec.hpp)
};

// One recorded value: layer is "h1", "x1", ..., "hL", "xL", "out" (nn::mlp) or the output of every top-level layer,
// "conv1", "relu2", ..., "out" (nn::network).
struct coord_check_row {
    std::size_t width, seed, step;
    std::string layer;
    double l1;
};

struct coord_check_result {
    std::vector<std::string> layers;  // in network order
    std::vector<std::size_t> widths;
    std::size_t steps = 0, seeds = 0;
    std::vector<coord_check_row> rows;

    // l1 averaged over seeds at (width, step, layer); throws if that combination was not recorded.
    double mean_l1(std::size_t width, std::size_t step, const std::string& layer) const {
        double sum = 0;
        std::size_t count = 0;
        for (const auto& r : rows)
            if (r.width == width && r.step == step && r.layer == layer) {
                sum += r.l1;
                ++count;
            }
        require(count > 0, "widenn::nn::coord_check_result::mean_l1: no record for width ", width, ", step ", step, ", layer '",
                layer, "'");
        return sum / static_cast<double>(count);
    }

    // The seed-averaged table as text: one block per step, a row per layer, a column per width.
    std::string table() const {
        std::ostringstream out;
        out.setf(std::ios::scientific);
        out.precision(3);
        for (std::size_t t = 1; t <= steps; ++t) {
            out << "t = " << t << (t == 1 ? " (initialisation)" : "") << "\n  layer";
            for (auto w : widths) out << std::string(w < 10000 ? 11 - std::to_string(w).size() : 1, ' ') << "n=" << w;
            out << '\n';
            for (const auto& layer : layers) {
                out << "  " << layer << std::string(layer.size() < 5 ? 5 - layer.size() : 1, ' ');
                for (auto w : widths) out << "  " << mean_l1(w, t, layer);
                out << '\n';
            }
        }
        return out.str();
    }
};

namespace detail {

// One network of the coordinate check: records the output of every top-level layer and the readout at t = 1..T
// (for nn::mlp: h^l, x^l and the output).
template <class Net>
void coord_check_one(const coord_check_config& config, std::size_t width, std::size_t seed, const matrix<typename Net::value_type>& x,
                     const xt::xtensor<int, 1>& labels, matrix<typename Net::value_type>& dloss, coord_check_result& result) {
    using T = typename Net::value_type;
    auto configure = [&](auto net_config) {
        net_config.width = width;
        net_config.d_out = config.d_out;
        net_config.base_width = config.base_width;
        net_config.bias = config.bias;
        net_config.zero_readout = config.zero_readout;
        net_config.seed = seed;
        return net_config;
    };
    auto make = [&]() -> Net {
        if constexpr (std::is_constructible_v<Net, const mlp_config&>) {
            return Net(configure(mlp_config{.d_in = config.d_in}));
        } else {
            network_config c;
            if (config.image.channels > 0)
                c.image = config.image;
            else
                c.d_in = config.d_in;
            if constexpr (is_dynamic_network<Net>)
                return Net(config.arch, configure(std::move(c)));
            else
                return Net(configure(std::move(c)));
        }
    };
    Net net = make();
    // step(): one optimiser step from the gradients of the last forward.
    auto run = [&](auto&& step) {
        for (std::size_t t = 1; t <= config.steps; ++t) {
            const matrix<T>& out = net.forward(x);
            net.for_each_output([&](const std::string& name, const T* p, std::size_t n) {
                double sum = 0;
                for (std::size_t i = 0; i < n; ++i) sum += std::abs(static_cast<double>(p[i]));
                result.rows.push_back({width, seed, t, name, n ? sum / static_cast<double>(n) : 0.0});
            });
            if (t == config.steps) break;
            softmax_cross_entropy::value_and_gradient(out, labels, dloss);
            step();
        }
    };
    if constexpr (is_dynamic_network<Net>) {  // trained through its parameter list: the same per-tensor rules
        auto train = [&](auto opt) { run([&] { net.backward(x, dloss); opt.step(); }); };
        if (config.optimizer == coord_check_optimizer::sgd)
            train(sgd<parameter_list<T>>(net.parameters(), sgd_config{.lr = config.lr}));
        else
            train(adam<parameter_list<T>>(net.parameters(), adam_config{.lr = config.lr}));
    } else {
        auto train = [&](auto opt) { run([&] { opt.step(net.backward(x, dloss)); }); };
        if (config.optimizer == coord_check_optimizer::sgd)
            train(sgd<Net>(net, sgd_config{.lr = config.lr}));
        else
            train(adam<Net>(net, adam_config{.lr = config.lr}));
    }
}

}  // namespace detail

// Runs the coordinate check for Net = nn::mlp<P, A, L, T>, nn::network<P, nn::serial<...>, T> or
// nn::dynamic_network<P, T> (its SPEC in config.arch) (config.image for image inputs). `progress(width, seed)` is called before each network.
// Unstable parametrizations (SP with a Θ(1) learning rate) must be opted in with param::allow_unstable<P>,
// which is the point of running the check on them.
template <class Net>
coord_check_result coord_check(const coord_check_config& config,
                               const std::function<void(std::size_t width, std::size_t seed)>& progress = {}) {
    using T = typename Net::value_type;
    constexpr const char* where = "widenn::nn::coord_check";
    require(!config.widths.empty(), where, ": widths must not be empty");
    for (auto w : config.widths) require(w > 0, where, ": widths must be positive, got ", w);
    require(config.steps >= 1, where, ": steps must be at least 1, got ", config.steps);
    require(config.seeds >= 1, where, ": seeds must be at least 1, got ", config.seeds);
    require(config.batch >= 1 && config.d_in >= 1 && config.d_out >= 1, where, ": batch, d_in and d_out must be positive, got ",
            config.batch, ", ", config.d_in, ", ", config.d_out);
    require(std::isfinite(config.lr) && config.lr > 0, where, ": lr must be positive and finite, got ", config.lr);

    coord_check_result result;
    if constexpr (is_dynamic_network<Net>)
        result.layers = Net::output_names(config.arch);
    else
        result.layers = Net::output_names();
    result.widths = config.widths;
    result.steps = config.steps;
    result.seeds = config.seeds;

    // One fixed batch for every width and seed (mup's fix_data): x ~ N(0, 1) entries, uniform labels.
    rng data(config.data_seed);
    const bool image = !std::is_constructible_v<Net, const mlp_config&> && config.image.channels > 0;
    const std::size_t d_in = image ? config.image.height * config.image.width * config.image.channels : config.d_in;
    matrix<T> x = xt::empty<T>({config.batch, d_in});
    for (auto& v : x) v = static_cast<T>(data.normal());
    xt::xtensor<int, 1> labels = xt::empty<int>({config.batch});
    for (auto& y : labels) y = static_cast<int>(data.below(config.d_out));

    matrix<T> dloss;
    for (auto width : config.widths) {
        for (std::size_t seed = 0; seed < config.seeds; ++seed) {
            if (progress) progress(width, seed);
            detail::coord_check_one<Net>(config, width, seed, x, labels, dloss, result);
        }
    }
    return result;
}

}  // namespace widenn::nn
