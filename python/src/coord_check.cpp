// widenn.coord_check: mup's coordinate check (nn/coord_check.hpp) for a preset, with the network chosen by the
// `widenn coord-check` command's dispatch (examples/cli/coord_check_dispatch.hpp). Returns mup's columns as arrays.
#include <string>
#include <vector>

#include <pybind11/stl.h>

#include <widenn/nn/coord_check.hpp>

#include "cli/coord_check_dispatch.hpp"
#include "common.hpp"

namespace widenn::python {
namespace {

struct interrupted {};  // a Python signal handler raised (Ctrl-C): the Python error is set

py::dict coord_check(const std::string& preset, const std::vector<std::size_t>& widths, std::size_t steps, std::size_t seeds,
                     double lr, const std::string& act, int depth, const std::string& optimizer, std::size_t batch,
                     std::size_t d_in, std::size_t d_out, std::size_t base_width, bool zero_readout, std::uint64_t data_seed) {
    nn::coord_check_config config;
    config.widths = widths;
    config.steps = steps;
    config.seeds = seeds;
    config.lr = lr;
    require(optimizer == "sgd" || optimizer == "adam", "widenn.coord_check: optimizer must be 'sgd' or 'adam', got '", optimizer, "'");
    config.optimizer = optimizer == "sgd" ? nn::coord_check_optimizer::sgd : nn::coord_check_optimizer::adam;
    config.batch = batch;
    config.d_in = d_in;
    config.d_out = d_out;
    config.base_width = base_width;
    config.zero_readout = zero_readout;
    config.data_seed = data_seed;
    nn::coord_check_result result;
    try {
        py::gil_scoped_release release;
        // Ctrl-C between networks: the progress callback runs on this thread, outside any parallel region.
        const auto check_signals = [](std::size_t, std::size_t) {
            py::gil_scoped_acquire gil;
            if (PyErr_CheckSignals() != 0) throw interrupted{};
        };
        result = cli::coord_checks::with_network(preset, act, depth,
                                                 [&]<class Net>() { return nn::coord_check<Net>(config, check_signals); });
    } catch (const interrupted&) {
        throw py::error_already_set();
    } catch (const cli::usage_error& e) {
        fail("widenn.coord_check: ", e.what());
    }
    const std::size_t n = result.rows.size();
    py::array_t<std::int64_t> width(static_cast<py::ssize_t>(n)), seed(static_cast<py::ssize_t>(n)), step(static_cast<py::ssize_t>(n));
    py::array_t<double> l1(static_cast<py::ssize_t>(n));
    py::list layer;
    for (std::size_t i = 0; i < n; ++i) {
        const auto& r = result.rows[i];
        width.mutable_at(i) = static_cast<std::int64_t>(r.width);
        seed.mutable_at(i) = static_cast<std::int64_t>(r.seed);
        step.mutable_at(i) = static_cast<std::int64_t>(r.step);
        l1.mutable_at(i) = r.l1;
        layer.append(r.layer);
    }
    py::dict out;
    out["width"] = width;
    out["seed"] = seed;
    out["step"] = step;
    out["layer"] = py::module_::import("numpy").attr("array")(layer);
    out["l1"] = l1;
    return out;
}

}  // namespace

void bind_coord_check(py::module_& m) {
    using namespace pybind11::literals;
    m.def("coord_check", &coord_check, "preset"_a, "widths"_a, "steps"_a = 3, "seeds"_a = 5, "lr"_a = 0.1, py::kw_only(),
          "act"_a = "relu", "depth"_a = 2, "optimizer"_a = "sgd", "batch"_a = 32, "d_in"_a = 64, "d_out"_a = 10, "base_width"_a = 256,
          "zero_readout"_a = true, "data_seed"_a = 12345,
          "mup's coordinate check (Yang et al. 2022, Tensor Programs V, Fig. 5): MLPs of each width in `widths` (preset 'mup',\n"
          "'sp', 'ntk' or 'mf'; act 'relu' or 'tanh'; depth 1-3 hidden layers) are trained for steps-1 SGD or Adam steps\n"
          "(softmax cross-entropy, lr with the preset's per-layer factors) on one fixed Gaussian batch; at t = 1..steps\n"
          "l1 = mean |x| of every layer's output is recorded (h1, x1, ..., out). Under muP the curves are flat in width;\n"
          "under SP with this width-independent lr the later layers grow.\n"
          "Returns mup's table as columns: {'width', 'seed', 'step', 'layer', 'l1'} (numpy arrays; pandas.DataFrame(result)\n"
          "gives mup's data frame). The GIL is released; Ctrl-C interrupts between networks.");
}

}  // namespace widenn::python
