// `widenn-mpi regress`: the kernel regression of `widenn regress` across MPI processes on ScaLAPACK
// (include/widenn/distributed/). Start it as `mpirun -np P widenn-mpi regress ...`; see docs/distributed.md.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include <mpi.h>

#include <widenn/distributed/kernel_regression.hpp>
#include <widenn/io/npy.hpp>

#include "../cli/cli.hpp"
#include "../cli/kernel_dispatch.hpp"
#include "../cli/regress_setup.hpp"

namespace {

namespace cli = widenn::cli;
namespace dist = widenn::distributed;
using widenn::matrix;

const std::string usage = std::string("usage: mpirun -np P widenn-mpi regress [options of widenn regress]\n") + widenn::cli::regress::options_usage +
    "  [--block 64] [--grid RxC] [--predictions FILE.npy] [--inject-fault RANK:input|kernel]\n\n"
    "The kernel regression of `widenn regress` (the same options, data loading and preprocessing) on P MPI processes:\n"
    "the train kernel is computed directly into ScaLAPACK's 2-D block-cyclic layout (each process its own blocks),\n"
    "factorised by pdpotrf and solved by pdpotrs for all classes at once (--solver cholesky), or its upper triangle\n"
    "stored in float or double (--store) and solved by conjugate gradients with the Nystrom preconditioner of\n"
    "`widenn regress --solver pcg` (--solver pcg: same --rank, --seed, --tolerance, --max-iterations, so one process\n"
    "follows the same iterates). --solver auto (default): cholesky where every host holds its processes' parts of the\n"
    "double kernel in 90% of its memory, else pcg on the float store. The test predictions are computed in row\n"
    "slices and gathered to rank 0, which prints the accuracy, the process grid and the time of each phase.\n"
    "Rank 0 reads the data and broadcasts it. --time: only inf.\n"
    "--block: edge of the square blocks of the layout. --grid: the process grid (default: the most nearly square).\n"
    "--threads: OpenMP threads per process for the kernel (0: the OpenMP default; with one process per core use 1).\n"
    "--predictions: write the p x k test predictions (rank 0).\n"
    "--inject-fault (for testing the failure protocol): rank RANK gets a NaN in its copy of the training inputs (input)\n"
    "  or in its first train kernel block (kernel).\n"
    "Any failure on any rank stops every rank with the same one-line message (exit 2 for bad input, 1 for a numerical\n"
    "failure). As root, mpirun needs --allow-run-as-root; more processes than cores need --oversubscribe.\n";

double wall() { return MPI_Wtime(); }

int run_regress(cli::args& a, int rank, int size) {
    namespace ks = cli::kernels;
    namespace io = widenn::io;
    namespace lim = widenn::limit;
    MPI_Comm comm = MPI_COMM_WORLD;
    // Options: every rank parses the same command line; agreed anyway, so that no rank can go on alone. The flags and the
    // data loading are those of `widenn regress` (cli/regress_setup.hpp); the MPI-only flags follow.
    namespace rg = cli::regress;
    rg::options o;
    widenn::nn::spec spec;
    std::string predictions_path, fault_phase;
    int fault_rank = -1;
    std::size_t block = 64;
    dist::grid_shape shape = dist::near_square_grid(size);
    dist::collective_phase(comm, "options", [&] {
        spec = rg::read_arch(a, o);
        rg::read_options(a, o);
        block = a.count("block", 64, 1, 1 << 20);
        predictions_path = a.text("predictions", "");
        const std::string grid_text = a.text("grid", "");
        const std::string fault = a.text("inject-fault", "");
        a.reject_unknown();
        if (!std::isinf(o.time))
            throw cli::usage_error("--time: widenn-mpi solves to convergence only (--time inf); a finite time needs the "
                                   "eigendecomposition of the train kernel (use widenn regress)");
        if (!grid_text.empty()) {
            int r = 0, c = 0;
            char x = 0, extra = 0;
            if (std::sscanf(grid_text.c_str(), "%d%c%d%c", &r, &x, &c, &extra) != 3 || x != 'x' || r < 1 || c < 1)
                throw cli::usage_error("--grid expects ROWSxCOLS, e.g. 2x2, got '" + grid_text + "'");
            if (r * c != size)
                throw cli::usage_error("--grid " + grid_text + " has " + std::to_string(r * c) + " processes, but mpirun started " +
                                       std::to_string(size));
            shape = {r, c};
        }
        if (!fault.empty()) {
            const auto colon = fault.find(':');
            fault_phase = colon == std::string::npos ? "" : fault.substr(colon + 1);
            try {
                fault_rank = std::stoi(fault.substr(0, colon));
            } catch (const std::exception&) {
                fault_rank = -1;
            }
            if (fault_rank < 0 || fault_rank >= size || (fault_phase != "input" && fault_phase != "kernel"))
                throw cli::usage_error("--inject-fault expects RANK:input or RANK:kernel with RANK in [0, " + std::to_string(size) +
                                       "), got '" + fault + "'");
        }
    });
    const lim::kernel_config& config = o.config;
    const std::string &kernel_name = o.kernel, &act_name = o.act, &param_name = o.param;
    const int depth = o.depth;

    // Input: rank 0 reads and preprocesses, then broadcasts (one read of the files, even on hosts without a shared disk).
    const double t_start = wall();
    rg::data data;
    int classes = 0;
    dist::collective_phase(comm, "input", [&] {
        if (rank != 0) return;
        data = rg::load_data(o);
        classes = static_cast<int>(data.classes);
    });
    dist::broadcast(comm, 0, data.x_train);
    dist::broadcast(comm, 0, data.x_test);
    dist::broadcast(comm, 0, data.y_train);
    dist::broadcast(comm, 0, data.test_labels);
    MPI_Bcast(&classes, 1, MPI_INT, 0, comm);
    if (rank == fault_rank && fault_phase == "input") data.x_train(0, 0) = std::numeric_limits<double>::quiet_NaN();
    const std::size_t m = data.x_train.shape()[0], p = data.x_test.shape()[0];
    const matrix<double>& y = data.y_train;  // one-hot − 0.1
    const double load_seconds = wall() - t_start;

    // the image shape (rank 0 read it) and the SPEC checked against it, on every rank alike
    unsigned long long image[3] = {data.height, data.width, data.channels};
    MPI_Bcast(image, 3, MPI_UNSIGNED_LONG_LONG, 0, comm);
    const lim::spec_input input{image[0], image[1], image[2]};
    dist::collective_phase(comm, "architecture", [&] {
        if (o.arch.empty()) return;
        if (input.channels > 0)
            widenn::nn::infer_shapes(spec, input.height, input.width, input.channels);
        else
            widenn::nn::infer_shapes(spec, data.x_train.shape()[1]);
    });
    const std::string network = o.arch.empty() ? act_name + ", depth " + std::to_string(depth)
                                                : "--arch " + widenn::nn::format_spec(spec) +
                                                      (input.channels > 0 ? " on " + std::to_string(input.height) + "x" + std::to_string(input.width) +
                                                                                "x" + std::to_string(input.channels) + " images"
                                                                          : "");
    const dist::process_grid grid(comm, shape);
    if (rank == 0)
        std::cout << "widenn-mpi regress: " << m << " train, " << p << " test points of " << data.x_train.shape()[1] << " features, "
                  << classes << " classes; " << kernel_name << " kernel, " << network << ", " << param_name
                  << " parametrization, weight_var " << config.weight_var << ", bias_var " << config.bias_var << ", diag_reg " << o.diag_reg
                  << "\nprocess grid " << grid.rows() << " x " << grid.cols() << " (" << size << " process" << (size > 1 ? "es" : "")
                  << "), block " << block << ", " << (config.threads > 0 ? config.threads : widenn::max_threads())
                  << " OpenMP thread(s) per process" << std::endl;

    dist::regression_options opt;
    opt.ntk = kernel_name == "ntk";
    opt.reg = {.diag_reg = o.diag_reg};
    opt.block = block;
    opt.threads = config.threads;
    opt.inject_nonfinite_rank = fault_phase == "kernel" ? fault_rank : -1;
    opt.solver = o.solver == "cholesky" ? lim::ridge_solver::cholesky : o.solver == "pcg" ? lim::ridge_solver::pcg : lim::ridge_solver::automatic;
    opt.float_store = o.store == "float";
    opt.rank = o.rank;
    opt.seed = o.seed;
    opt.pcg = {.tolerance = o.tolerance, .max_iterations = o.max_iterations};
    opt.pcg.progress = [](const lim::pcg_progress& pr) {  // rank 0 only
        std::fprintf(stderr, "pcg: iteration %zu, relative residual %.2e (goal %.0e), %.0f s, about %s left\n", pr.iteration,
                     pr.relative_residual, pr.tolerance, pr.seconds,
                     std::isinf(pr.seconds_left) ? "? s" : (std::to_string(static_cast<long>(pr.seconds_left + 0.5)) + " s").c_str());
    };
    opt.on_plan = [&](const dist::regression_plan& plan) {
        std::cout << "solver: " << (plan.solver == lim::ridge_solver::pcg ? "pcg" : "cholesky");
        if (plan.solver == lim::ridge_solver::pcg)
            std::cout << " (Nystrom rank " << plan.rank << ", " << (plan.float_store ? "float" : "double")
                      << " store of the upper triangle, tolerance " << o.tolerance << ")";
        std::cout << ", " << widenn::format_bytes(static_cast<double>(plan.host_bytes)) << " on the busiest host"
                  << (o.solver == "auto" ? " (chosen from the memory; --solver cholesky|pcg forces one)" : "") << std::endl;
    };
    opt.on_phase = [](const std::string& phase, double seconds) { std::fprintf(stderr, "%s: %.2f s\n", phase.c_str(), seconds); };
    dist::regression_result result;
    if (o.arch.empty()) {
        ks::with_parametrization(param_name, [&]<class P>() {
            ks::with_activation(act_name, [&]<class A>() {
                result = dist::kernel_regression<P, A>(grid, data.x_train, y, data.x_test, depth, config, opt);
            });
        });
    } else {
        result = dist::kernel_regression(grid, data.x_train, y, data.x_test, spec, input, rg::arch_kind(o), config, opt);
    }
    unsigned long long entries = result.local_kernel_entries, total_entries = 0;
    MPI_Reduce(&entries, &total_entries, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM, 0, comm);

    dist::collective_phase(comm, "output", [&] {
        if (rank != 0 || predictions_path.empty()) return;
        io::write_npy(predictions_path, result.predictions);
    });
    if (rank == 0) {
        std::size_t correct = 0;
        for (std::size_t i = 0; i < p; ++i) {
            const double* row = result.predictions.data() + i * static_cast<std::size_t>(classes);
            if (std::max_element(row, row + classes) - row == data.test_labels[i]) ++correct;
        }
        const auto& s = result.seconds;
        const double total = wall() - t_start;
        const double per_process = static_cast<double>(total_entries) / static_cast<double>(size) / std::max(s.train_kernel, 1e-9);
        std::cout << std::fixed << std::setprecision(4) << "accuracy " << static_cast<double>(correct) / static_cast<double>(p) << " ("
                  << correct << " / " << p << ")\n"
                  << std::setprecision(2) << "time: load + broadcast " << load_seconds << " s, train kernel " << s.train_kernel << " s ("
                  << std::setprecision(3) << per_process / 1e6 << std::setprecision(2) << " M entries/s per process), ";
        if (result.plan.solver == lim::ridge_solver::pcg)
            std::cout << "preconditioner " << s.preconditioner << " s, conjugate gradient " << s.solve << " s ("
                      << result.pcg.iterations << " iterations, " << s.solve / static_cast<double>(std::max<std::size_t>(result.pcg.iterations, 1))
                      << " s per iteration; rank 0: local products " << result.pcg.product_seconds << " s, their reductions "
                      << result.pcg.communication_seconds << " s)";
        else
            std::cout << "Cholesky " << s.cholesky << " s, solve " << s.solve << " s";
        std::cout << ", test kernel + predict " << s.predict << " s, total " << total << " s\n";
        if (result.plan.solver == lim::ridge_solver::pcg)
            std::cout << std::scientific << std::setprecision(2) << "pcg: " << result.pcg.iterations << " iterations, true relative residual "
                      << result.pcg.relative_residual << "\n";
    }
    return 0;
}

int run(int argc, char** argv, int rank, int size) {
    std::vector<std::string> tokens(argv + 1, argv + argc);
    const bool help = std::find(tokens.begin(), tokens.end(), "--help") != tokens.end() ||
                      std::find(tokens.begin(), tokens.end(), "-h") != tokens.end();
    if (tokens.empty() || tokens[0] != "regress") {
        if (rank == 0) {
            if (help || tokens.empty())
                std::cout << "widenn-mpi: widenn's kernel regression on MPI + ScaLAPACK\n\n" << usage;
            else
                std::cerr << "widenn-mpi: unknown command '" << tokens[0] << "' (the command is regress; see widenn-mpi --help)\n";
        }
        return tokens.empty() ? 2 : help ? 0 : 2;
    }
    tokens.erase(tokens.begin());
    if (help) {
        if (rank == 0) std::cout << usage;
        return 0;
    }
    // Every rank reaches here with the same failure (agreed): each prints the same line (one write, so that mpirun does
    // not interleave the ranks' lines), all exit with the same code.
    auto report = [](const char* what, int code) {
        const std::string line = std::string("widenn-mpi regress: ") + what + "\n";
        std::fputs(line.c_str(), stderr);
        std::fflush(stderr);
        return code;
    };
    try {
        cli::args a("regress", tokens, "widenn-mpi regress");
        return run_regress(a, rank, size);
    } catch (const widenn::numerical_error& e) {
        return report(e.what(), 1);
    } catch (const widenn::error& e) {
        return report(e.what(), 2);
    } catch (const std::exception& e) {
        return report(e.what(), 1);
    }
}

}  // namespace

int main(int argc, char** argv) {
    MPI_Init(&argc, &argv);
    int rank = 0, size = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    const int code = run(argc, argv, rank, size);
    MPI_Finalize();
    return code;
}
