// The distributed train kernel at scale: `mpirun -np P bench_scale_mpi --n 20000` computes the relu NTK (depth 3) of N
// synthetic points in R^d (rows scaled to norm √d, as `widenn regress` preprocesses images) into the block-cyclic
// layout, and reports the kernel entries per second per process, the load balance, and with --cholesky the PDPOTRF
// time. With --pcg it computes the upper triangle into distributed/pcg.hpp's store (--store float|double) instead and
// times the distributed PCG (rank --rank Nyström preconditioner, --classes random right-hand sides, --iterations CG
// iterations, the split of each iteration into local products, their reductions and the preconditioner). Wall and CPU
// time of every process, and the load average (/proc/loadavg) before and after, are printed: on a shared machine the
// CPU time is the measure of the work. A timing program (one run per process count), not a Google Benchmark: every
// rank must take part in each step.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <mpi.h>

#include <widenn/act/activations.hpp>
#include <widenn/core/rng.hpp>
#include <widenn/distributed/kernel_regression.hpp>
#include <widenn/param/abc.hpp>

#include "../../examples/cli/cli.hpp"

namespace {

namespace dist = widenn::distributed;

// CPU seconds of this process (all its threads): the work a phase costs, whatever else shares the cores.
double cpu_seconds() {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

// The 1-minute load average of the host.
double load_average() {
    std::ifstream in("/proc/loadavg");
    double load = -1;
    in >> load;
    return load;
}

// Collective: max and sum of a number over the ranks (on rank 0).
struct spread {
    double max = 0, sum = 0;
};
spread over_ranks(double v) {
    spread s;
    MPI_Reduce(&v, &s.max, 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
    MPI_Reduce(&v, &s.sum, 1, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD);
    return s;
}

// --pcg: the kernel into the triangle store, then `iterations` iterations of the distributed PCG.
template <class S>
int run_pcg(const widenn::matrix<double>& x, std::size_t block, int depth, int threads, std::size_t rank_r, std::size_t classes,
            std::size_t iterations, int size) {
    const std::size_t n = x.shape()[0];
    const dist::process_grid grid(MPI_COMM_WORLD);
    const int me = grid.rank();
    const double load0 = load_average();
    std::optional<dist::cyclic_kernel_store<S>> store;
    std::size_t entries = 0;
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = MPI_Wtime(), cpu0 = cpu_seconds();
    dist::collective_phase(MPI_COMM_WORLD, "train kernel", [&] {
        const widenn::limit::kernel_plan<widenn::param::ntk, widenn::act::relu, double> plan(x, depth, {.weight_var = 2.0, .bias_var = 0.01});
        store.emplace(grid, n, block);
        entries = store->fill(plan, true, threads);
    });
    const double kernel_cpu = cpu_seconds() - cpu0;
    MPI_Barrier(MPI_COMM_WORLD);
    const double kernel_wall = MPI_Wtime() - t0;
    double trace = store->local_trace();
    dist::detail::identical_sum(MPI_COMM_WORLD, &trace, 1);
    const double shift = 1e-4 * trace / static_cast<double>(n);
    const widenn::matrix<double> y = widenn::normal_matrix(n, classes, 7);
    dist::pcg_report rep;
    widenn::limit::pcg_options opt{.tolerance = 1e-14, .max_iterations = iterations, .throw_on_failure = false};
    double cpu_first = 0, cpu_last = 0;  // rank 0's CPU time at the end of the first and the last iteration
    std::size_t last = 0;
    opt.progress = [&](const widenn::limit::pcg_progress& pr) {
        (pr.iteration == 1 ? cpu_first : cpu_last) = cpu_seconds();
        last = pr.iteration;
    };
    cpu0 = cpu_seconds();
    t0 = MPI_Wtime();
    (void)dist::distributed_pcg(MPI_COMM_WORLD, *store, y, shift, rank_r, 1, opt, threads, &rep);
    const double solve_cpu = cpu_seconds() - cpu0;
    const double load1 = load_average();
    const spread kcpu = over_ranks(kernel_cpu), scpu = over_ranks(solve_cpu), prod = over_ranks(rep.product_seconds),
                 comm = over_ranks(rep.communication_seconds), prec = over_ranks(rep.precondition_seconds),
                 ent = over_ranks(static_cast<double>(entries)), pcpu = over_ranks(rep.product_cpu_seconds);
    // The preconditioner's build is in solve_cpu too: its wall time is known on every rank; its CPU time is not split.
    if (me == 0) {
        const double it = static_cast<double>(rep.iterations + 1);  // products: the iterations and the final true residual
        std::printf("bench_scale_mpi --pcg: N = %zu, d = %zu, relu NTK depth %d, grid %d x %d, block %zu, %s store, %d thread(s) per process, "
                    "rank %zu, k = %zu; load average %.2f before, %.2f after\n",
                    n, x.shape()[1], depth, grid.rows(), grid.cols(), block, dist::cyclic_kernel_store<S>::name(), threads, rank_r, classes,
                    load0, load1);
        std::printf("train kernel (upper triangle, %.3g entries): wall %.2f s, %.3g M entries/s per process; CPU %.2f s on the busiest "
                    "process, %.2f s in all (%.3g M entries per CPU second)\n",
                    ent.sum, kernel_wall, ent.sum / size / kernel_wall / 1e6, kcpu.max, kcpu.sum, ent.sum / kcpu.sum / 1e6);
        std::printf("preconditioner (rank %zu, replicated): wall %.2f s\n", rep.rank, rep.preconditioner_seconds);
        std::printf("pcg: %zu iterations + the final product, wall %.3f s per iteration; per iteration, busiest process: local products "
                    "%.3f s, their reduce + broadcast %.3f s, preconditioner %.3f s; CPU of the solve (incl. the preconditioner build) "
                    "%.2f s on the busiest process, %.2f s in all\n",
                    rep.iterations, rep.solve_seconds / it, prod.max / it, comm.max / it, prec.max / static_cast<double>(std::max<std::size_t>(rep.iterations, 1)),
                    scpu.max, scpu.sum);
        std::printf("pcg: CPU of the local products per product: %.3f s on the busiest process, %.3f s in all (%.3g G entries of the symmetric "
                    "kernel times k columns per CPU second)\n",
                    pcpu.max / it, pcpu.sum / it, static_cast<double>(n) * static_cast<double>(n) / (pcpu.sum / it) / 1e9);
        if (last > 1)
            std::printf("pcg: CPU per iteration on rank 0 (iterations 2 to %zu): %.3f s\n", last, (cpu_last - cpu_first) / static_cast<double>(last - 1));
    }
    return 0;
}

int run(int argc, char** argv, int rank, int size) {
    std::vector<std::string> tokens(argv + 1, argv + argc);
    if (std::find(tokens.begin(), tokens.end(), "--help") != tokens.end()) {
        if (rank == 0)
            std::printf("usage: mpirun -np P bench_scale_mpi [--n 20000] [--d 784] [--depth 3] [--block 64] [--threads 1] [--cholesky]\n"
                        "       [--pcg [--store float|double] [--rank 1000] [--classes 10] [--iterations 20]]\n");
        return 0;
    }
    std::size_t n = 0, d = 0, block = 0;
    int depth = 3, threads = 1;
    bool cholesky = false, pcg = false;
    std::string store = "float";
    std::size_t rank_r = 1000, classes = 10, iterations = 20;
    dist::collective_phase(MPI_COMM_WORLD, "options", [&] {
        widenn::cli::args a("bench_scale_mpi", tokens, "bench_scale_mpi");
        n = a.count("n", 20000, 1, 1 << 20);
        d = a.count("d", 784, 1, 1 << 20);
        depth = a.integer<int>("depth", 3, 1, 1000);
        block = a.count("block", 64, 1, 1 << 16);
        threads = a.integer<int>("threads", 1, 0, 1024);
        cholesky = a.has("cholesky");
        pcg = a.has("pcg");
        store = a.text("store", "float");
        rank_r = a.count("rank", 1000);
        classes = a.count("classes", 10, 1, 10000);
        iterations = a.count("iterations", 20, 1, 100000);
        a.reject_unknown();
        if (store != "float" && store != "double") throw widenn::error("--store must be float or double, got '" + store + "'");
        if (pcg && cholesky) throw widenn::error("give --pcg or --cholesky, not both");
    });
    widenn::matrix<double> x = widenn::normal_matrix(n, d, 1);
    for (std::size_t i = 0; i < n; ++i) {
        double s = 0;
        for (std::size_t k = 0; k < d; ++k) s += x(i, k) * x(i, k);
        for (std::size_t k = 0; k < d; ++k) x(i, k) *= std::sqrt(static_cast<double>(d) / s);
    }
    if (pcg)
        return store == "float" ? run_pcg<float>(x, block, depth, threads, rank_r, classes, iterations, size)
                                : run_pcg<double>(x, block, depth, threads, rank_r, classes, iterations, size);
    const dist::process_grid grid(MPI_COMM_WORLD);
    const char triangle = dist::cholesky_triangle(grid);
    std::optional<dist::block_cyclic_matrix> k;
    std::size_t entries = 0;
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = MPI_Wtime(), mine = 0, cpu0 = cpu_seconds(), cpu = 0;
    dist::collective_phase(MPI_COMM_WORLD, "train kernel", [&] {
        const widenn::limit::kernel_plan<widenn::param::ntk, widenn::act::relu, double> plan(x, depth, {.weight_var = 2.0, .bias_var = 0.01});
        k.emplace(grid, n, n, block);
        entries = dist::fill_kernel_triangle(*k, plan, triangle, true, threads);
        mine = MPI_Wtime() - t0;
        cpu = cpu_seconds() - cpu0;
    });
    const double wall = MPI_Wtime() - t0;
    double slowest = 0, fastest = 0, cpu_max = 0, cpu_sum = 0;
    MPI_Reduce(&cpu, &cpu_max, 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
    MPI_Reduce(&cpu, &cpu_sum, 1, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD);
    unsigned long long local = entries, total = 0;
    MPI_Reduce(&mine, &slowest, 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
    MPI_Reduce(&mine, &fastest, 1, MPI_DOUBLE, MPI_MIN, 0, MPI_COMM_WORLD);
    MPI_Reduce(&local, &total, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM, 0, MPI_COMM_WORLD);
    if (rank == 0)
        std::printf("bench_scale_mpi: N = %zu, d = %zu, relu NTK depth %d, grid %d x %d, block %zu, %d thread(s) per process\n"
                    "train kernel (one triangle, %.3g entries): %.2f s (processes %.2f to %.2f s), %.3g M entries/s per process, "
                    "%.3g M entries/s in all; CPU time %.2f s in all, %.2f s on the busiest process (%.3g M entries per CPU second)\n",
                    n, d, depth, grid.rows(), grid.cols(), block, threads, static_cast<double>(total), wall, fastest, slowest,
                    static_cast<double>(total) / static_cast<double>(size) / wall / 1e6, static_cast<double>(total) / wall / 1e6, cpu_sum, cpu_max,
                    static_cast<double>(total) / cpu_sum / 1e6);
    if (cholesky) {
        // Every diagonal entry is at least as large as its row's others (a normalised kernel): the shift keeps it definite.
        for (std::size_t li = 0; li < k->local_rows(); ++li) {
            const std::size_t g = k->row_layout().global_index(li);
            if (k->col_layout().owner(g) == grid.col()) k->local(li, k->col_layout().local_index(g)) += 1e-3;
        }
        const int nn = static_cast<int>(n), one = 1;
        int info = 0;
        MPI_Barrier(MPI_COMM_WORLD);
        t0 = MPI_Wtime();
        dist::detail::scalapack::pdpotrf_(&triangle, &nn, k->local(), &one, &one, k->descriptor(), &info);
        const double seconds = MPI_Wtime() - t0;
        dist::collective_phase(MPI_COMM_WORLD, "Cholesky", [&] { widenn::require<widenn::numerical_error>(info == 0, "pdpotrf info ", info); });
        if (rank == 0)
            std::printf("Cholesky (pdpotrf '%c'): %.2f s, %.3g GFlop/s in all\n", triangle, seconds,
                        std::pow(static_cast<double>(n), 3) / 3 / seconds / 1e9);
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    MPI_Init(&argc, &argv);
    int rank = 0, size = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    int code = 0;
    try {
        code = run(argc, argv, rank, size);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_scale_mpi: %s\n", e.what());
        code = 2;
    }
    MPI_Finalize();
    return code;
}
