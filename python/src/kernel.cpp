// widenn.kernel: the NNGP and NTK of an infinitely wide MLP (limit/kernel.hpp), with the activation and
// parametrization chosen at run time by the `widenn kernel` command's dispatch (examples/cli/kernel_dispatch.hpp).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <pybind11/stl.h>

#include <widenn/core/checked.hpp>
#include <widenn/core/parallel.hpp>
#include <widenn/limit/conv_kernel.hpp>
#include <widenn/limit/kernel.hpp>
#include <widenn/nn/spec.hpp>

#include "cli/kernel_dispatch.hpp"
#include "common.hpp"

namespace widenn::python {
namespace {

// The names of `get` that were asked for, in order: "nngp" and/or "ntk" (a single name returns one array).
struct wanted {
    bool nngp = false, ntk = false, single = false;
    std::vector<std::string> order;
};

wanted parse_get(py::handle get) {
    wanted w;
    std::vector<std::string> names;
    if (py::isinstance<py::str>(get)) {
        names.push_back(get.cast<std::string>());
        w.single = true;
    } else if (py::isinstance<py::sequence>(get)) {
        for (py::handle item : get) {
            if (!py::isinstance<py::str>(item))
                fail("widenn.kernel: get must be 'nngp', 'ntk' or a tuple of them, got an item of type ", type_name(item));
            names.push_back(item.cast<std::string>());
        }
    } else {
        fail("widenn.kernel: get must be 'nngp', 'ntk' or a tuple of them, got ", type_name(get));
    }
    require(!names.empty(), "widenn.kernel: get is empty; ask for 'nngp' and/or 'ntk'");
    for (const auto& n : names) {
        if (n == "nngp") w.nngp = true;
        else if (n == "ntk") w.ntk = true;
        else fail("widenn.kernel: get must name 'nngp' or 'ntk', got '", n, "'");
        w.order.push_back(n);
    }
    return w;
}

// Mirrors block [r0, r1) x [c0, c1) (c0 >= r0) of the upper triangle below the diagonal.
template <class T>
void mirror_block(T* p, std::size_t n, std::size_t r0, std::size_t r1, std::size_t c0, std::size_t c1) {
    for (std::size_t i = r0; i < r1; ++i)
        for (std::size_t j = std::max(c0, i + 1); j < c1; ++j) p[j * n + i] = p[i * n + j];
}

// The whole kernel of `plan`, computed as kernel_plan::compute does (row strips in parallel, longest first, the upper
// triangle mirrored in the symmetric case), with two additions so that Ctrl-C is seen within a fraction of a second
// even for the quadrature activations (a 256 x 256 block of tanh takes minutes): each strip is computed in row chunks
// whose height adapts so that one chunk takes 10-40 ms (a single row at least; large chunks keep BLAS efficient), and
// the calling thread, which is thread 0 of the parallel loop and runs without the GIL, re-acquires it every 50 ms to
// let Python run its signal handlers (when it is Python's main thread, the only one that runs them). On a signal the
// remaining chunks are skipped and false is returned (the Python error is set).
template <class Plan, class T>
bool compute_interruptibly(const Plan& plan, limit::kernel_pair<T>& out, bool main_thread) {
    using clock = std::chrono::steady_clock;
    const auto& config = plan.config();
    const std::size_t n1 = plan.rows(), n2 = plan.cols(), bs = std::max<std::size_t>(config.block, 8);
    const bool symmetric = plan.symmetric(), want_ntk = config.compute_ntk;
    require_memory(checked_product({n1, n2, sizeof(T), std::size_t{want_ntk ? 2u : 1u}}, "widenn.kernel"),
                   widenn::detail::concat("widenn.kernel: the ", n1, " x ", n2, " kernel", want_ntk ? "s" : ""),
                   "ask for one kernel only (get='nngp'), pass float32 inputs (half the memory), or split x1 into row blocks");
    out.nngp = matrix<T>::from_shape({n1, n2});
    if (want_ntk) out.ntk = matrix<T>::from_shape({n1, n2});
    const int threads = config.threads > 0 ? config.threads : max_threads();
    const std::size_t strip = std::clamp<std::size_t>((n1 + 4 * threads - 1) / (4 * static_cast<std::size_t>(threads)), 16, bs);
    const std::size_t count = (n1 + strip - 1) / strip;
    T* nngp = out.nngp.data();
    T* ntk = want_ntk ? out.ntk.data() : nullptr;
    std::atomic<bool> stop{false};
    std::vector<std::size_t> chunk_rows(static_cast<std::size_t>(threads) + 1, 1);  // per thread, adapted as it goes
    auto last_check = clock::now();
    parallel_for_dynamic(count, threads, [&](int thread, std::size_t k) {
        std::size_t& rows = chunk_rows[std::min<std::size_t>(static_cast<std::size_t>(thread), static_cast<std::size_t>(threads))];
        const std::size_t r0 = k * strip, r1 = std::min(r0 + strip, n1);
        for (std::size_t c = symmetric ? r0 : 0; c < n2; c += bs) {
            const std::size_t c1 = std::min(c + bs, n2);
            for (std::size_t a = r0; a < r1;) {
                if (stop.load(std::memory_order_relaxed)) return;
                const std::size_t b = std::min(a + rows, r1), first = symmetric ? std::max(c, a) : c;
                const auto t0 = clock::now();
                if (first < c1) {  // in the symmetric case only entries on or above the diagonal are computed
                    plan.block_into(a, b, first, c1, nngp + a * n2 + first, n2, ntk ? ntk + a * n2 + first : nullptr, n2);
                    if (symmetric) {
                        mirror_block(nngp, n2, a, b, first, c1);
                        if (ntk) mirror_block(ntk, n2, a, b, first, c1);
                    }
                }
                const auto t1 = clock::now();
                if (t1 - t0 < std::chrono::milliseconds(10) && rows < strip) rows *= 2;
                else if (t1 - t0 > std::chrono::milliseconds(40) && rows > 1) rows /= 2;
                a = b;
                // Only the main thread sees signals: elsewhere the GIL is not taken at all.
                if (!main_thread || thread != 0 || t1 - last_check < std::chrono::milliseconds(50)) continue;
                last_check = t1;
                py::gil_scoped_acquire gil;
                if (PyErr_CheckSignals() != 0) stop = true;
            }
        }
    });
    return !stop;
}

template <class T>
py::object kernel_in(py::handle x1_obj, py::handle x2_obj, const std::string& act, int depth, const std::string& param,
                     limit::kernel_config config, const wanted& w) {
    const char* where = "widenn.kernel";
    const auto x1 = as_array<T>(x1_obj, where, "x1");
    std::optional<py::array_t<T, py::array::c_style>> x2;
    if (!x2_obj.is_none()) x2 = as_array<T>(x2_obj, where, "x2");
    limit::kernel_pair<T> pair;
    bool finished = true;
    const py::module_ threading = py::module_::import("threading");
    const bool main_thread = threading.attr("get_ident")().equal(threading.attr("main_thread")().attr("ident"));
    {
        py::gil_scoped_release release;
        namespace ks = widenn::cli::kernels;
        ks::with_parametrization(param, [&]<class P>() {
            ks::with_activation(act, [&]<class A>() {
                const auto plan = x2 ? limit::kernel_plan<P, A, T>(view2(x1), view2(*x2), depth, config)
                                     : limit::kernel_plan<P, A, T>(view2(x1), depth, config);
                finished = compute_interruptibly(plan, pair, main_thread);
            });
        });
    }
    if (!finished) throw py::error_already_set();
    if (w.single) return w.nngp ? py::object(to_numpy(std::move(pair.nngp))) : py::object(to_numpy(std::move(pair.ntk)));
    py::dict out;
    for (const auto& name : w.order) {
        if (out.contains(name)) continue;
        out[py::str(name)] = name == "nngp" ? to_numpy(std::move(pair.nngp)) : to_numpy(std::move(pair.ntk));
    }
    return out;
}

// The kernels of a SPEC architecture (limit/conv_kernel.hpp) on N x H x W x C images or N x d vectors, as
// `widenn kernel --arch` computes them.
template <class T>
py::object arch_kernel_in(py::handle x1_obj, py::handle x2_obj, const std::string& arch, limit::kernel_config config,
                          limit::parametrization_kind kind, const wanted& w) {
    const char* where = "widenn.kernel";
    const auto x1 = as_array<T>(x1_obj, where, "x1", 0);
    std::optional<py::array_t<T, py::array::c_style>> x2;
    if (!x2_obj.is_none()) x2 = as_array<T>(x2_obj, where, "x2", 0);
    auto adapt = [&](const py::array_t<T, py::array::c_style>& a, const char* what) {
        if (a.ndim() != 2 && a.ndim() != 4)
            fail<shape_error>(where, ": with arch, ", what, " must be N x H x W x C images or N x d vectors, got a ", a.ndim(), "-D array");
        std::vector<std::size_t> shape(static_cast<std::size_t>(a.ndim()));
        for (std::size_t i = 0; i < shape.size(); ++i) shape[i] = static_cast<std::size_t>(a.shape(static_cast<py::ssize_t>(i)));
        return xt::adapt(a.data(), static_cast<std::size_t>(a.size()), xt::no_ownership(), shape);
    };
    const nn::spec spec = nn::parse_spec(arch);
    if (x1.ndim() == 4)
        nn::infer_shapes(spec, static_cast<std::size_t>(x1.shape(1)), static_cast<std::size_t>(x1.shape(2)), static_cast<std::size_t>(x1.shape(3)));
    else if (x1.ndim() == 2)
        nn::infer_shapes(spec, static_cast<std::size_t>(x1.shape(1)));
    limit::kernel_pair<T> pair;
    {
        py::gil_scoped_release release;
        const auto path = limit::spatial_path::automatic;
        pair = x2 ? limit::conv_kernel_plan<T>(spec, adapt(x1, "x1"), adapt(*x2, "x2"), config, path, kind).compute()
                  : limit::conv_kernel_plan<T>(spec, adapt(x1, "x1"), config, path, kind).compute();
    }
    if (w.single) return w.nngp ? py::object(to_numpy(std::move(pair.nngp))) : py::object(to_numpy(std::move(pair.ntk)));
    py::dict out;
    for (const auto& name : w.order) {
        if (out.contains(name)) continue;
        out[py::str(name)] = name == "nngp" ? to_numpy(std::move(pair.nngp)) : to_numpy(std::move(pair.ntk));
    }
    return out;
}

py::object kernel(const py::object& x1, const py::object& x2, const py::object& act_or_none, const py::object& depth_or_none,
                  const py::object& arch, const std::string& param, double weight_var, double bias_var, const py::object& get,
                  std::size_t width, int threads) {
    const wanted w = parse_get(get);
    if (!arch.is_none()) {
        require(act_or_none.is_none() && depth_or_none.is_none(),
                "widenn.kernel: act and depth do not apply with arch: the SPEC names every layer (e.g. arch='conv:3,relu,flatten')");
        require(param == "ntk" || param == "standard",
                "widenn.kernel: arch computes neural-tangents' two parametrizations: param='ntk' or 'standard', got '", param, "'");
        const auto kind = param == "standard" ? limit::parametrization_kind::standard : limit::parametrization_kind::ntk;
        require(kind == limit::parametrization_kind::standard || width == 0,
                "widenn.kernel: width applies to param='standard' only (the NTK parametrization's kernels do not depend on it)");
        require(kind == limit::parametrization_kind::ntk || !w.ntk || width > 0,
                "widenn.kernel: param='standard': its NTK grows with the hidden width; give width=N");
        require(threads >= 0, "widenn.kernel: threads must be >= 0 (0: the OpenMP default), got ", threads);
        limit::kernel_config config;
        config.weight_var = weight_var;
        config.bias_var = bias_var;
        config.compute_ntk = w.ntk;
        config.threads = threads;
        config.width = width;
        const bool single = is_float32(x1) && (x2.is_none() || is_float32(x2));
        const std::string spec_text = py::str(arch).cast<std::string>();
        return single ? arch_kernel_in<float>(x1, x2, spec_text, config, kind, w)
                      : arch_kernel_in<double>(x1, x2, spec_text, config, kind, w);
    }
    const std::string act = act_or_none.is_none() ? std::string("relu") : py::str(act_or_none).cast<std::string>();
    const int depth = depth_or_none.is_none() ? 3 : depth_or_none.cast<int>();
    try {  // unknown names fail here, before any work, with the command's list of choices
        widenn::cli::kernels::with_parametrization(param, []<class>() {});
        widenn::cli::kernels::with_activation(act, []<class>() {});
    } catch (const widenn::cli::usage_error& e) {
        fail(std::string("widenn.kernel: ") + (e.what() + (e.what()[0] == '-' ? 2 : 0)));
    }
    require(threads >= 0, "widenn.kernel: threads must be >= 0 (0: the OpenMP default), got ", threads);
    limit::kernel_config config;
    config.weight_var = weight_var;
    config.bias_var = bias_var;
    config.width = width;
    config.compute_ntk = w.ntk;
    config.threads = threads;
    if (param == "standard" && w.ntk && width == 0)
        fail("widenn.kernel: param='standard': its NTK grows with the hidden width; give width=N");
    const bool single = is_float32(x1) && (x2.is_none() || is_float32(x2));
    return single ? kernel_in<float>(x1, x2, act, depth, param, config, w) : kernel_in<double>(x1, x2, act, depth, param, config, w);
}

const std::string& kernel_doc() {
    static const std::string doc = std::string(
               "The infinite-width NNGP and NTK of an MLP with `depth` hidden layers and a linear readout, in neural-tangents'\n"
               "conventions (stax.serial(Dense(W_std, b_std), act, ..., Dense) with W_std**2 = weight_var, b_std**2 = bias_var):\n"
               "K0 = x.x'/d, Sigma1 = weight_var K0 + bias_var, then the dual-activation recursion (Lee et al. 2018; Jacot et al. 2018).\n\n"
               "x1: (N1, d) array, x2: (N2, d) array or None (the kernel of x1 with itself: one triangle computed, the diagonal\n"
               "exact). C-contiguous float64 inputs are used without a copy; float32 inputs (both) are computed in float32;\n"
               "anything else is converted to float64 once.\n"
               "get: 'nngp' or 'ntk' returns that array; a tuple returns a dict {'nngp': ..., 'ntk': ...}.\n"
               "param: 'ntk' (neural-tangents' default) or 'standard' (its NTK grows with the hidden width: give width=N).\n"
               "act: ") + widenn::cli::kernels::activation_names +
           " (default relu); depth: hidden layers (default 3).\n"
           "arch: a SPEC as `widenn kernel --arch` takes it, e.g. 'conv:3,relu,avgpool:2,conv:3,relu,gap' (conv:K, conv:K:valid,\n"
           "conv:K:circular, conv:K:same:2, avgpool:K, layernorm, activation names, dense, res(SPEC), last flatten or gap; the\n"
           "readout Dense(1) follows). x1, x2 are then N x H x W x C images (NHWC) or N x d vectors for dense-only SPECs;\n"
           "act and depth must be left out; param 'ntk' or 'standard' as above. The GIL is released; this path is not\n"
           "interruptible.\n"
           "threads: OpenMP threads (0: the default). The GIL is released while the kernel is computed; Ctrl-C interrupts.\n"
           "Raises ValueError for bad shapes, dtypes, names or non-finite inputs, RuntimeError when a variance overflows.";
    return doc;
}

}  // namespace

void bind_kernel(py::module_& m) {
    using namespace pybind11::literals;
    m.def("kernel", &kernel, "x1"_a, "x2"_a = py::none(), py::kw_only(), "act"_a = py::none(), "depth"_a = py::none(), "arch"_a = py::none(),
          "param"_a = "ntk", "weight_var"_a = 2.0, "bias_var"_a = 0.1, "get"_a = py::make_tuple("nngp", "ntk"), "width"_a = 0,
          "threads"_a = 0,
          kernel_doc().c_str());
}

}  // namespace widenn::python
