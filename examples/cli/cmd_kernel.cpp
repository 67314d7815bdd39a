// `widenn kernel`: the NNGP and NTK of an MLP on inputs from .npy files, written as .npy (neural-tangents' conventions).
#include <algorithm>
#include <chrono>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <widenn/core/checked.hpp>
#include <widenn/io/files.hpp>
#include <widenn/io/npy.hpp>
#include <widenn/limit/conv_kernel.hpp>
#include <widenn/limit/kernel.hpp>
#include <widenn/limit/spec_plan.hpp>
#include <widenn/limit/stream.hpp>
#include <widenn/nn/spec.hpp>

#include "cli.hpp"
#include "kernel_dispatch.hpp"

namespace {

using widenn::matrix;
using widenn::cli::usage_error;
namespace io = widenn::io;

// The header of an input (cheap), checked for what the command needs before anything is loaded.
io::npy_header input_header(const std::string& option, const std::string& path) {
    io::npy_header h = io::read_npy_header(path);
    if (h.shape.size() != 2)
        throw widenn::shape_error("--" + option + " '" + path + "' must hold a 2-D array N x d (one input per row), got rank " +
                                  std::to_string(h.shape.size()));
    if (h.shape[0] == 0 || h.shape[1] == 0)
        throw widenn::shape_error("--" + option + " '" + path + "' is empty (" + std::to_string(h.shape[0]) + " x " +
                                  std::to_string(h.shape[1]) + ")");
    return h;
}

// Rows of X1 per block when the kernels are streamed (0: computed whole). `requested` (--block-rows, 0 = not given)
// forces blocks; otherwise the kernels are computed whole when they fit in the available memory with the inputs, and
// streamed in blocks of at most a quarter of the available memory when they do not.
std::size_t choose_block_rows(std::size_t requested, std::size_t n1, std::size_t n2, std::size_t value_size, std::size_t kernels,
                              std::size_t input_bytes) {
    const std::size_t row_bytes = widenn::checked_product({n2, value_size, kernels}, "widenn kernel");
    const std::size_t whole = widenn::checked_product({n1, row_bytes}, "widenn kernel");
    const std::size_t available = widenn::available_memory_bytes();
    std::size_t rows = std::min(requested, n1);
    if (requested == 0) {
        if (whole <= available && input_bytes <= available - whole) return 0;
        rows = std::clamp<std::size_t>(available / 4 / row_bytes, 1, n1);
        std::cerr << "widenn kernel: the " << n1 << " x " << n2 << " kernel" << (kernels > 1 ? "s need " : " needs ")
                  << widenn::format_bytes(static_cast<double>(whole)) << ", more than the " << widenn::format_bytes(static_cast<double>(available))
                  << " available: streaming blocks of " << rows << " rows to the output files\n";
    }
    widenn::require_memory(input_bytes + rows * row_bytes, "the inputs and a block of " + std::to_string(rows) + " kernel rows",
                           "give --block-rows with fewer rows, or use --float");
    return rows;
}

// The output files of both forms of the command: distinct from the inputs and each other, created (as temporary
// files) before any work, and written once the kernels are computed (or block by block as they are streamed).
struct kernel_outputs {
    std::optional<io::output_file> nngp, ntk;
    double compute_seconds = 0, write_seconds = 0;

    kernel_outputs(const std::string& x1_path, const std::string& x2_path, const std::string& nngp_path, const std::string& ntk_path) {
        io::require_distinct_outputs({{"--x1", x1_path}, {"--x2", x2_path}}, {{"--nngp", nngp_path}, {"--ntk", ntk_path}}, "");
        if (!nngp_path.empty()) nngp.emplace(nngp_path, "--nngp");
        if (!ntk_path.empty()) ntk.emplace(ntk_path, "--ntk");
    }
    // compute() returns a limit::kernel_pair; the kernels asked for are written, and both phases timed.
    template <class Compute>
    void compute_and_write(Compute&& compute) {
        const auto t0 = std::chrono::steady_clock::now();
        const auto pair = compute();
        const auto t1 = std::chrono::steady_clock::now();
        if (nngp) io::write_npy(*nngp, pair.nngp);
        if (ntk) io::write_npy(*ntk, pair.ntk);
        const auto t2 = std::chrono::steady_clock::now();
        compute_seconds = std::chrono::duration<double>(t1 - t0).count();
        write_seconds = std::chrono::duration<double>(t2 - t1).count();
    }
    // Streamed outputs are written as they are computed: the disk must hold them all (checked before any work).
    void require_disk_for(std::size_t n1, std::size_t n2, std::size_t value_size) const {
        const std::uintmax_t per_file = widenn::checked_product({n1, n2, value_size}, "widenn kernel") + 4096;  // + the header
        const std::uintmax_t files = (nngp ? 1u : 0u) + (ntk ? 1u : 0u);
        for (const auto* f : {&nngp, &ntk})
            if (*f)
                io::require_disk_space((*f)->path(), per_file * files, "the streamed " + std::to_string(n1) + " x " + std::to_string(n2) +
                                       " kernel" + (files > 1 ? "s" : ""), "compute fewer rows (split --x1), ask for one kernel only, or use --float");
    }
    // The kernels of a block plan (limit::kernel_plan, limit::spec_kernel_plan) in blocks of rows_per_block rows of X1,
    // each appended to the outputs as it is computed; the files appear once every row is written.
    template <class Plan>
    void stream_and_write(const Plan& plan, std::size_t rows_per_block, const std::function<void(double)>& progress) {
        using T = typename Plan::value_type;
        const std::vector<std::size_t> shape{plan.rows(), plan.cols()};
        std::optional<io::npy_row_writer<T>> nngp_rows, ntk_rows;
        if (nngp) nngp_rows.emplace(*nngp, shape);
        if (ntk) ntk_rows.emplace(*ntk, shape);
        const auto t0 = std::chrono::steady_clock::now();
        widenn::limit::stream_row_blocks(
            plan, rows_per_block,
            [&](std::size_t, std::size_t, const widenn::limit::kernel_pair<T>& block) {
                const auto w0 = std::chrono::steady_clock::now();
                if (nngp_rows) nngp_rows->append(block.nngp);
                if (ntk_rows) ntk_rows->append(block.ntk);
                write_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
            },
            progress);
        const auto w0 = std::chrono::steady_clock::now();
        if (nngp_rows) nngp_rows->commit();
        if (ntk_rows) ntk_rows->commit();
        const auto t1 = std::chrono::steady_clock::now();
        write_seconds += std::chrono::duration<double>(t1 - w0).count();
        compute_seconds = std::chrono::duration<double>(t1 - t0).count() - write_seconds;
    }
};

// The options both forms of the command share, read and checked together; every other option is refused here.
struct kernel_job {
    widenn::limit::kernel_config config;
    std::string x1_path, x2_path, nngp_path, ntk_path;
    bool use_float = false;
    std::size_t block_rows = 0;  // --block-rows (0: not given)
};

kernel_job read_kernel_job(widenn::cli::args& a, bool standard_param) {
    kernel_job job;
    job.config.weight_var = a.real("weight-var", 1.0, 0.0);
    job.config.bias_var = a.real("bias-var", 0.0, 0.0);
    job.config.width = a.integer<std::size_t>("width", 0, 0, std::size_t{1} << 40);
    job.config.threads = a.integer<int>("threads", 0, 0, 1024);
    job.x1_path = a.required_text("x1");
    job.x2_path = a.text("x2", "");
    job.nngp_path = a.text("nngp", "");
    job.ntk_path = a.text("ntk", "");
    job.use_float = a.has("float");
    job.block_rows = a.integer<std::size_t>("block-rows", 0, 1, std::size_t{1} << 40);
    a.reject_unknown();
    if (job.nngp_path.empty() && job.ntk_path.empty()) throw usage_error("give --nngp FILE and/or --ntk FILE for the output");
    if (standard_param && !job.ntk_path.empty() && job.config.width == 0)
        throw usage_error("--param standard: its NTK grows with the hidden width; give --width N");
    job.config.compute_ntk = !job.ntk_path.empty();
    return job;
}

// `widenn kernel --arch SPEC`: the kernels of a run-time architecture (limit/conv_kernel.hpp) on images N x H x W x C
// (or N x d for dense-only SPECs).
int run_arch_kernel(widenn::cli::args& a) {
    namespace ks = widenn::cli::kernels;
    const std::string arch = a.required_text("arch");
    const auto kind = ks::arch_parametrization(a);
    const std::string param_name = a.text("param", "ntk");
    kernel_job job = read_kernel_job(a, kind == widenn::limit::parametrization_kind::standard);
    const widenn::nn::spec spec = widenn::nn::parse_spec(arch);

    // The inputs' headers: rank 4 (images) or 2 (vectors), the same shape per input, checked against the SPEC.
    auto header = [](const std::string& option, const std::string& path) {
        io::npy_header h = io::read_npy_header(path);
        if (h.shape.size() != 4 && h.shape.size() != 2)
            throw widenn::shape_error("--" + option + " '" + path + "' must hold images N x H x W x C (or N x d for a dense-only SPEC), got rank " +
                                      std::to_string(h.shape.size()));
        for (std::size_t e : h.shape)
            if (e == 0) throw widenn::shape_error("--" + option + " '" + path + "' is empty (an extent is 0)");
        return h;
    };
    const io::npy_header h1 = header("x1", job.x1_path);
    const io::npy_header h2 = job.x2_path.empty() ? h1 : header("x2", job.x2_path);
    auto per_input = [](const io::npy_header& h) {
        std::string out;
        for (std::size_t k = 1; k < h.shape.size(); ++k) out += (k > 1 ? " x " : "") + std::to_string(h.shape[k]);
        return out;
    };
    if (h1.shape.size() != h2.shape.size() || !std::equal(h1.shape.begin() + 1, h1.shape.end(), h2.shape.begin() + 1))
        throw widenn::shape_error("--x1 and --x2 must have the same shape per input, got " + per_input(h1) + " and " + per_input(h2) +
                                  (h1.shape.size() == 4 && h2.shape.size() == 4 && h1.shape[3] != h2.shape[3] ? " (the channel counts differ)" : ""));
    if (h1.shape.size() == 4)
        widenn::nn::infer_shapes(spec, h1.shape[1], h1.shape[2], h1.shape[3]);
    else
        widenn::nn::infer_shapes(spec, h1.shape[1]);
    const std::size_t n1 = h1.shape[0], n2 = h2.shape[0];
    const std::size_t per = widenn::checked_product(std::vector<std::size_t>(h1.shape.begin() + 1, h1.shape.end()), "widenn kernel");
    const std::size_t value_size = job.use_float ? sizeof(float) : sizeof(double);
    const std::size_t inputs = widenn::checked_product({n1 + (job.x2_path.empty() ? 0 : n2), per, sizeof(double) + value_size}, "widenn kernel");
    const std::size_t rows_per_block = choose_block_rows(job.block_rows, n1, n2, value_size, 2, inputs);
    kernel_outputs out(job.x1_path, job.x2_path, job.nngp_path, job.ntk_path);
    if (rows_per_block) out.require_disk_for(n1, n2, value_size);

    const auto start = std::chrono::steady_clock::now();
    const auto x1 = io::read_npy<double>(job.x1_path);
    const auto x2 = job.x2_path.empty() ? decltype(x1)() : io::read_npy<double>(job.x2_path);
    const auto loaded = std::chrono::steady_clock::now();
    if (n1 * n2 >= 10000) job.config.progress = ks::progress_printer("widenn kernel");
    const std::string path_name =
        widenn::limit::automatic_path(spec) == widenn::limit::spatial_path::full ? "full spatial covariance" : "diagonal recursion";
    auto run = [&]<class T>() {
        if (rows_per_block == 0) {
            const auto path = widenn::limit::spatial_path::automatic;
            const auto plan = job.x2_path.empty() ? widenn::limit::conv_kernel_plan<T>(spec, x1, job.config, path, kind)
                                                  : widenn::limit::conv_kernel_plan<T>(spec, x1, x2, job.config, path, kind);
            out.compute_and_write([&] { return plan.compute(); });
            return;
        }
        // streamed: the same entries through limit::spec_kernel_plan's blocks, one image per row
        auto rows_of = [&](const auto& x) {
            matrix<T> m = matrix<T>::from_shape({x.shape()[0], per});
            std::transform(x.begin(), x.end(), m.begin(), [](double v) { return static_cast<T>(v); });
            return m;
        };
        const widenn::limit::spec_input input = h1.shape.size() == 4 ? widenn::limit::spec_input{h1.shape[1], h1.shape[2], h1.shape[3]}
                                                                     : widenn::limit::spec_input{};
        const matrix<T> r1 = rows_of(x1), r2 = job.x2_path.empty() ? matrix<T>() : rows_of(x2);
        auto stream_config = job.config;
        stream_config.progress = {};
        const auto blocks = job.x2_path.empty() ? widenn::limit::spec_kernel_plan<T>(spec, r1, input, stream_config, kind)
                                                : widenn::limit::spec_kernel_plan<T>(spec, r1, r2, input, stream_config, kind);
        out.stream_and_write(blocks, rows_per_block, job.config.progress);
    };
    if (job.use_float)
        run.template operator()<float>();
    else
        run.template operator()<double>();
    const double load_seconds = std::chrono::duration<double>(loaded - start).count();
    std::cout << "widenn kernel: --arch " << arch << " (" << path_name << "), " << param_name << " parametrization, " << (job.use_float ? "float" : "double")
              << ": " << n1 << " x " << n2 << " (inputs " << per_input(h1) << ")"
              << (rows_per_block ? ", streamed in blocks of " + std::to_string(rows_per_block) + " rows" : std::string())
              << "; read " << load_seconds << " s, kernels " << out.compute_seconds << " s, write " << out.write_seconds << " s, total "
              << load_seconds + out.compute_seconds + out.write_seconds << " s\n";
    return 0;
}

int run_kernel(widenn::cli::args& a) {
    namespace ks = widenn::cli::kernels;
    if (a.has("arch")) return run_arch_kernel(a);
    const std::string act_name = a.text("act", "relu"), param_name = a.text("param", "ntk");
    const int depth = a.integer<int>("depth", 1, 1, 10000);
    kernel_job job = read_kernel_job(a, param_name == "standard");
    ks::with_parametrization(param_name, []<class>() {});  // unknown names fail here, before any work
    ks::with_activation(act_name, []<class>() {});

    // Everything that can be checked before the computation is: the inputs' headers, the memory the result needs,
    // and the outputs (distinct from the inputs and each other, writable: their temporary files are created now).
    const io::npy_header h1 = input_header("x1", job.x1_path);
    const io::npy_header h2 = job.x2_path.empty() ? h1 : input_header("x2", job.x2_path);
    if (h2.shape[1] != h1.shape[1])
        throw widenn::shape_error("--x1 and --x2 must have the same number of features, got " + std::to_string(h1.shape[1]) + " and " +
                                  std::to_string(h2.shape[1]));
    const std::size_t n1 = h1.shape[0], n2 = h2.shape[0], d = h1.shape[1];
    const std::size_t value_size = job.use_float ? sizeof(float) : sizeof(double);
    const std::size_t kernels_wanted = 1 + (job.config.compute_ntk ? 1 : 0);  // the NNGP is always computed (the NTK needs it)
    const std::size_t inputs = widenn::checked_product({n1 + (job.x2_path.empty() ? 0 : n2), d, sizeof(double) + value_size}, "widenn kernel");
    const std::size_t rows_per_block = choose_block_rows(job.block_rows, n1, n2, value_size, kernels_wanted, inputs);
    kernel_outputs out(job.x1_path, job.x2_path, job.nngp_path, job.ntk_path);
    if (rows_per_block) out.require_disk_for(n1, n2, value_size);

    const auto start = std::chrono::steady_clock::now();
    const matrix<double> x1 = io::read_npy_matrix<double>(job.x1_path);
    const matrix<double> x2 = job.x2_path.empty() ? matrix<double>() : io::read_npy_matrix<double>(job.x2_path);
    const auto loaded = std::chrono::steady_clock::now();
    if (n1 * n2 >= 1000000) job.config.progress = ks::progress_printer("widenn kernel");
    auto run = [&]<class T>() {
        ks::with_parametrization(param_name, [&]<class P>() {
            ks::with_activation(act_name, [&]<class A>() {
                const auto plan = job.x2_path.empty() ? widenn::limit::kernel_plan<P, A, T>(x1, depth, job.config)
                                                      : widenn::limit::kernel_plan<P, A, T>(x1, x2, depth, job.config);
                if (rows_per_block == 0)
                    out.compute_and_write([&] { return plan.compute(); });
                else
                    out.stream_and_write(plan, rows_per_block, job.config.progress);
            });
        });
    };
    if (job.use_float)
        run.template operator()<float>();
    else
        run.template operator()<double>();
    const double load_seconds = std::chrono::duration<double>(loaded - start).count();
    std::cout << "widenn kernel: " << act_name << ", depth " << depth << ", " << param_name << " parametrization, "
              << (job.use_float ? "float" : "double") << ": " << n1 << " x " << n2 << " (d = " << d << ")"
              << (rows_per_block ? ", streamed in blocks of " + std::to_string(rows_per_block) + " rows" : std::string()) << "; read " << load_seconds
              << " s, kernels " << out.compute_seconds << " s, write " << out.write_seconds << " s, total "
              << load_seconds + out.compute_seconds + out.write_seconds << " s\n";
    return 0;
}

const bool registered = widenn::cli::add_command({
    "kernel",
    "NNGP and NTK of an infinitely wide MLP on .npy inputs (neural-tangents conventions)",
    "usage: widenn kernel --x1 X.npy [--x2 Y.npy] [--nngp K.npy] [--ntk T.npy] [--act relu] [--depth 1]\n"
    "                     [--weight-var 1] [--bias-var 0] [--param ntk|standard] [--width N] [--float] [--threads N]\n"
    "                     [--block-rows R]\n\n"
    "Computes the infinite-width NNGP Sigma(X1, X2) and NTK Theta(X1, X2) of an MLP with --depth hidden layers and a\n"
    "linear readout, in neural-tangents' conventions: first layer K0 = x.x'/d, weight variance --weight-var (W_std^2),\n"
    "bias variance --bias-var (b_std^2). --param ntk is the NTK parametrization (neural-tangents' default); --param\n"
    "standard is the standard parametrization, whose NTK grows with the hidden width (--width N required).\n"
    "Inputs: 2-D float64 or float32 .npy arrays, one input per row (np.save('X.npy', X)). Without --x2 the kernel of\n"
    "X1 with itself is computed (one triangle, exact diagonal). Outputs: float64 .npy (float32 with --float).\n"
    "Activations: " + std::string(widenn::cli::kernels::activation_names) + ".\n"
    "Every input and output is checked before the computation starts: the inputs' .npy headers, the memory the\n"
    "kernels need, and that the outputs are writable and distinct from the inputs and each other. Outputs appear\n"
    "whole or not at all (written under a temporary name, then renamed).\n"
    "Kernels larger than the available memory are streamed: computed in blocks of rows of X1 (at most a quarter of the\n"
    "memory each) and appended to the outputs as they are done; --block-rows R streams blocks of R rows at any size.\n"
    "Streaming a kernel of X1 with itself computes both triangles (twice the pairs).\n"
    "Example: widenn kernel --act relu --depth 3 --weight-var 2 --bias-var 0.1 --x1 X.npy --nngp K.npy --ntk T.npy\n\n"
    "       widenn kernel --arch SPEC --x1 X.npy [--x2 Y.npy] [--nngp K.npy] [--ntk T.npy] [--weight-var 1] [--bias-var 0]\n"
    "                     [--param ntk|standard] [--width N] [--float] [--threads N] [--block-rows R]\n"
    "Kernels of a convolutional (or any layered) architecture: SPEC is a comma-separated list of layers, conv:K (K x K,\n"
    "stride 1, same padding), conv:K:valid, conv:K:circular, conv:K:same:2 (stride 2), avgpool:K (window K, stride K),\n"
    "layernorm, an activation name, dense (for N x d inputs), res(SPEC) (residual block x + block(x), ending with a conv\n"
    "or dense layer), and for images last flatten or gap; a readout Dense(1) follows. Inputs N x H x W x C (NHWC), or\n"
    "N x d for dense-only SPECs. NTK parametrization, weights N(0, weight_var/fan_in), fan_in = C*K^2, SAME padding\n"
    "averaging over all K^2 taps (neural-tangents' conventions); --param standard trains the weights as they are, so\n"
    "its NTK grows with the hidden width (--width N; a bias adds 1 per layer). Without pooling or gap the diagonal-only recursion runs\n"
    "(cost linear in the pixels); with them the full (H*W)^2 spatial covariance per pair.\n"
    "Example: widenn kernel --arch conv:3,relu,conv:3,relu,flatten --weight-var 2 --x1 images.npy --nngp K.npy\n",
    run_kernel,
});

}  // namespace
