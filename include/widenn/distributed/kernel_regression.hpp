#pragma once
// Kernel ridge regression (NTK gradient flow to convergence, or the NNGP posterior mean) across MPI processes on
// ScaLAPACK: the train kernel is computed directly into the 2-D block-cyclic layout (each process computes only its
// own blocks, by limit::kernel_plan for an MLP or limit::spec_kernel_plan for a SPEC's architecture, with no
// communication), factorised by PDPOTRF and solved for all classes at once
// by PDPOTRS, or (past the memory of the double kernel, or asked for) solved by preconditioned conjugate gradients on
// the kernel's upper triangle stored in float or double (distributed/pcg.hpp); the test predictions K(test, train)·α
// are computed by the processes in row slices and gathered to rank 0. Every phase ends with the collective failure agreement of agreement.hpp. docs/distributed.md has the
// communication volume of each phase and measured times.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <type_traits>
#include <string>
#include <utility>
#include <vector>

#include <mpi.h>

#include "../core/blas.hpp"
#include "../core/checked.hpp"
#include "../core/errors.hpp"
#include "../core/parallel.hpp"
#include "../core/tensor.hpp"
#include "../limit/kernel.hpp"
#include "../limit/solvers.hpp"
#include "../limit/pcg.hpp"
#include "../limit/spec_plan.hpp"
#include "../nn/spec.hpp"
#include "agreement.hpp"
#include "pcg.hpp"
#include "scalapack.hpp"

namespace widenn::distributed {

namespace detail {
inline constexpr std::size_t mpi_chunk = std::size_t{1} << 27;  // elements per MPI call (counts are int)

template <class T>
MPI_Datatype mpi_type() {
    if constexpr (std::is_same_v<T, double>) return MPI_DOUBLE;
    else if constexpr (std::is_same_v<T, int>) return MPI_INT;
    else static_assert(sizeof(T) == 0, "widenn::distributed: no MPI type for this element type");
}
template <class T>
void broadcast_values(MPI_Comm comm, int root, T* data, std::size_t count) {
    for (std::size_t at = 0; at < count; at += mpi_chunk)
        MPI_Bcast(data + at, static_cast<int>(std::min(mpi_chunk, count - at)), mpi_type<T>(), root, comm);
}
template <class T>
void sum_in_place(MPI_Comm comm, T* data, std::size_t count) {
    for (std::size_t at = 0; at < count; at += mpi_chunk)
        MPI_Allreduce(MPI_IN_PLACE, data + at, static_cast<int>(std::min(mpi_chunk, count - at)), mpi_type<T>(), MPI_SUM, comm);
}
}  // namespace detail

// Collective: `root`'s matrix (shape and values) on every rank of `comm`. The receiving ranks allocate inside an
// agreed phase, so a rank that cannot allocate stops every rank instead of leaving them in the broadcast.
inline void broadcast(MPI_Comm comm, int root, matrix<double>& x) {
    unsigned long long shape[2] = {x.shape()[0], x.shape()[1]};
    MPI_Bcast(shape, 2, MPI_UNSIGNED_LONG_LONG, root, comm);
    int rank = 0;
    MPI_Comm_rank(comm, &rank);
    collective_phase(comm, "broadcast", [&] {
        if (rank != root) x = matrix<double>::from_shape({static_cast<std::size_t>(shape[0]), static_cast<std::size_t>(shape[1])});
    });
    detail::broadcast_values(comm, root, x.data(), x.size());
}
// Collective: `root`'s vector on every rank of `comm` (allocated as above).
inline void broadcast(MPI_Comm comm, int root, std::vector<int>& v) {
    unsigned long long size = v.size();
    MPI_Bcast(&size, 1, MPI_UNSIGNED_LONG_LONG, root, comm);
    collective_phase(comm, "broadcast", [&] { v.resize(static_cast<std::size_t>(size)); });
    detail::broadcast_values(comm, root, v.data(), v.size());
}

// The solver kernel_regression follows and its memory (agreed by every rank before any kernel work).
struct regression_plan {
    limit::ridge_solver solver = limit::ridge_solver::cholesky;
    bool float_store = false;
    std::size_t rank = 0;        // pcg: the Nyström rank asked for
    std::size_t host_bytes = 0;  // the largest over the hosts of the memory its processes need
};

struct regression_options {
    bool ntk = true;                  // the NTK (gradient flow to convergence) or the NNGP (posterior mean)
    limit::regularization reg = {};   // K + λ·s·I, s = tr(K)/m unless reg.absolute (neural-tangents' convention)
    std::size_t block = 64;           // edge of the square blocks of the block-cyclic layout
    int threads = 0;                  // OpenMP threads per process for the kernel blocks (0: the OpenMP default)
    std::size_t test_chunk = 128;     // rows of K(test, train) per task (memory: chunk × m per thread)
    int inject_nonfinite_rank = -1;   // for testing the failure protocol: this rank writes NaN into its first kernel block
    // Called on rank 0 after each phase with its name and wall-clock seconds (progress for long runs).
    std::function<void(const std::string&, double)> on_phase = {};
    // The solver: Cholesky (pdpotrf + pdpotrs, the kernel in double), PCG (distributed/pcg.hpp), or automatic:
    // Cholesky where every host holds its processes' parts of the double kernel in 90% of its memory, else PCG on the
    // float store (the rule of limit::plan_ridge, per host).
    limit::ridge_solver solver = limit::ridge_solver::cholesky;
    bool float_store = true;          // pcg: the kernel in float (half the memory) or double
    std::size_t rank = 0;             // pcg: Nyström rank; 0: min(m, 1000)
    std::uint64_t seed = 1;           // pcg: landmarks (the same draw as limit::kernel_ridge)
    limit::pcg_options pcg = {.tolerance = 1e-6, .max_iterations = 1000};  // progress is called on rank 0 only
    std::size_t memory_bytes = 0;     // the memory of each host; 0: available_memory_bytes() on each host
    // Called on rank 0 with the agreed plan, before the kernel.
    std::function<void(const regression_plan&)> on_plan = {};
};


// Wall-clock seconds of each phase (rank 0, between agreements, so the slowest rank's time).
struct regression_seconds {
    double train_kernel = 0, cholesky = 0, preconditioner = 0, solve = 0, predict = 0;
};

struct regression_result {
    matrix<double> predictions;        // p × k test predictions, on rank 0 (empty on the others)
    matrix<double> weights;            // α = (K + shift·I)⁻¹ Y, m × k, on every rank
    double shift = 0;                  // the number added to the diagonal
    std::size_t local_kernel_entries = 0;  // train kernel entries this process computed
    regression_seconds seconds;
    regression_plan plan;                  // the solver used
    pcg_report pcg;                        // pcg: iterations, true residual, the split of the solve time (this rank's)
};

// Which triangle the Cholesky factorisation works on. Measured on this machine (docs/distributed.md): with PDPOTRF's
// 'U' a 2 × 1 grid is much faster than 1 × 2, and 'L' on 1 × 2 is the transpose of that, so the triangle follows the grid.
inline char cholesky_triangle(const process_grid& grid) { return grid.rows() < grid.cols() ? 'L' : 'U'; }

// Local work, no communication: the blocks (I, J) of the train kernel that this process owns in one triangle (I <= J
// for 'U', I >= J for 'L'), computed into k's local storage (the other triangle's blocks are not referenced by the
// Cholesky factorisation and stay 0). Returns the entries computed. A block that is not finite throws numerical_error
// naming it.
template <class Plan>
std::size_t fill_kernel_triangle(block_cyclic_matrix& k, const Plan& plan, char triangle, bool ntk, int threads,
                                 bool inject_nonfinite = false) {
    require<shape_error>(plan.symmetric() && plan.rows() == k.rows() && k.rows() == k.cols(),
                         "distributed::fill_kernel_triangle: need the symmetric plan of the ", k.rows(), " x ", k.cols(), " matrix, got ",
                         plan.rows(), " x ", plan.cols());
    require(!ntk || plan.config().compute_ntk, "distributed::fill_kernel_triangle: the plan was made without the NTK (compute_ntk = false)");
    const cyclic_dimension& rd = k.row_layout();
    const cyclic_dimension& cd = k.col_layout();
    const std::size_t nb = k.block(), n = k.rows();
    std::vector<std::pair<std::size_t, std::size_t>> tasks;  // local block indices (row, column)
    for (std::size_t lj = 0; lj < cd.local_blocks(); ++lj)
        for (std::size_t li = 0; li < rd.local_blocks(); ++li)
            if (triangle == 'L' ? rd.global_block(li) >= cd.global_block(lj) : rd.global_block(li) <= cd.global_block(lj))
                tasks.emplace_back(li, lj);
    const int used = threads > 0 ? threads : max_threads();
    // The NTK recursion needs the NNGP block as its workspace.
    std::vector<std::vector<double>> scratch(static_cast<std::size_t>(std::max(used, 1)));
    if (ntk)
        for (auto& s : scratch) s.resize(nb * nb);
    std::vector<std::size_t> entries(scratch.size(), 0);
    parallel_for_dynamic(tasks.size(), used, [&](int thread, std::size_t t) {
        const auto [li, lj] = tasks[t];
        const std::size_t r0 = rd.global_block(li) * nb, r1 = std::min(r0 + nb, n);
        const std::size_t c0 = cd.global_block(lj) * nb, c1 = std::min(c0 + nb, n);
        double* out = k.local() + li * nb + lj * nb * k.ld();
        // Row-major rows [c0, c1) × columns [r0, r1) of the symmetric kernel is the column-major block [r0, r1) × [c0, c1).
        if (ntk)
            plan.block_into(c0, c1, r0, r1, scratch[static_cast<std::size_t>(thread)].data(), r1 - r0, out, k.ld());
        else
            plan.block_into(c0, c1, r0, r1, out, k.ld(), nullptr, 0);
        entries[static_cast<std::size_t>(thread)] += (r1 - r0) * (c1 - c0);
    });
    if (inject_nonfinite && !tasks.empty()) k.local()[0] = std::numeric_limits<double>::quiet_NaN();
    for (const auto& [li, lj] : tasks) {
        const std::size_t r0 = rd.global_block(li) * nb, r1 = std::min(r0 + nb, n);
        const std::size_t c0 = cd.global_block(lj) * nb, c1 = std::min(c0 + nb, n);
        for (std::size_t j = 0; j < c1 - c0; ++j)
            for (std::size_t i = 0; i < r1 - r0; ++i) {
                const double v = k.local(li * nb + i, lj * nb + j);
                if (!std::isfinite(v))
                    fail<numerical_error>("distributed::kernel: the train kernel block rows [", r0, ", ", r1, ") x columns [", c0, ", ",
                                          c1, ") is not finite (entry (", r0 + i, ", ", c0 + j, ") = ", v,
                                          "); check the inputs and the kernel settings (weight_var, depth)");
            }
    }
    std::size_t total = 0;
    for (std::size_t e : entries) total += e;
    return total;
}

// The number of processes of `comm` on this process's host (a collective call every rank makes).
inline int ranks_on_this_host(MPI_Comm comm) {
    int rank = 0, host_ranks = 1;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm host;
    MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &host);
    MPI_Comm_size(host, &host_ranks);
    MPI_Comm_free(&host);
    return host_ranks;
}

// Collective: the solver for m training points and k classes, before any work. Each host's memory must hold the parts
// of all its processes (host_ranks of them: each process checks its own part times host_ranks). Every rank returns
// the same plan, or every rank throws the same error (rank > N, a ridge of 0 for PCG, not enough memory).
inline regression_plan plan_regression(const process_grid& grid, std::size_t m, std::size_t classes, const regression_options& opt,
                                       int host_ranks) {
    MPI_Comm comm = grid.comm();
    const char* where = "distributed::kernel_regression";
    regression_plan p;
    std::size_t budget = 0, cholesky_bytes = 0;
    const auto pcg_bytes = [&](bool in_float) {  // the store, the gathered landmark columns and the preconditioner, CG's vectors
        const std::size_t store = in_float ? cyclic_kernel_store<float>::bytes_for(m, opt.block, grid.rows(), grid.cols(), grid.row(), grid.col())
                                           : cyclic_kernel_store<double>::bytes_for(m, opt.block, grid.rows(), grid.cols(), grid.row(), grid.col());
        return checked_product({store + checked_product({m, 2 * p.rank + 8 * classes, sizeof(double)}, where),
                                static_cast<std::size_t>(host_ranks)}, where);
    };
    int fits = 0;
    collective_phase(comm, "plan", [&] {
        require(m >= 1, where, ": no training points");
        require(opt.block >= 1, where, ": the block size must be at least 1, got ", opt.block);
        p.rank = opt.rank ? opt.rank : std::min<std::size_t>(m, 1000);
        require(p.rank <= m, where, ": the preconditioner rank ", p.rank, " is larger than the number of training points N = ", m,
                "; give a rank in [1, ", m, "]");
        budget = opt.memory_bytes ? opt.memory_bytes : available_memory_bytes();
        cholesky_bytes = checked_product({cyclic_dimension{m, opt.block, grid.rows(), grid.row()}.local_count(),
                                          cyclic_dimension{m, opt.block, grid.cols(), grid.col()}.local_count(), sizeof(double),
                                          static_cast<std::size_t>(host_ranks)},
                                         where);
        fits = cholesky_bytes <= budget / 10 * 9 ? 1 : 0;
    });
    MPI_Allreduce(MPI_IN_PLACE, &fits, 1, MPI_INT, MPI_MIN, comm);  // Cholesky only if it fits on every host
    collective_phase(comm, "plan", [&] {
        const std::string share = "this host's share of the " + std::to_string(m) + " x " + std::to_string(m) + " train kernel (" +
                                  std::to_string(host_ranks) + " process" + (host_ranks > 1 ? "es" : "") + ")";
        switch (opt.solver) {
        case limit::ridge_solver::cholesky:
            if (cholesky_bytes > budget)
                fail(where, ": ", share, " in double needs ", format_bytes(static_cast<double>(cholesky_bytes)), " of memory, but only ",
                     format_bytes(static_cast<double>(budget)), " is available; use --solver pcg (float store: ",
                     format_bytes(static_cast<double>(pcg_bytes(true))), "), spread the processes over more hosts, or use a smaller training set");
            p.solver = limit::ridge_solver::cholesky, p.host_bytes = cholesky_bytes;
            return;
        case limit::ridge_solver::pcg:
            p.solver = limit::ridge_solver::pcg, p.float_store = opt.float_store;
            break;
        case limit::ridge_solver::automatic:
            if (fits) {
                p.solver = limit::ridge_solver::cholesky, p.host_bytes = cholesky_bytes;
                return;
            }
            p.solver = limit::ridge_solver::pcg, p.float_store = true;
            break;
        }
        p.host_bytes = pcg_bytes(p.float_store);
        if (p.host_bytes > budget)
            fail(where, ": ", share, " for the pcg solver (the upper triangle in ", p.float_store ? "float" : "double", " and the rank-", p.rank,
                 " preconditioner) needs ", format_bytes(static_cast<double>(p.host_bytes)), " of memory, but only ",
                 format_bytes(static_cast<double>(budget)), " is available; spread the processes over more hosts, use a smaller training set",
                 p.float_store ? "" : " or the float store");
        require(opt.reg.diag_reg > 0, where, ": the pcg solver needs a positive ridge (diag_reg > 0): its Nyström preconditioner "
                                             "divides by it, and an unregularised kernel system is ill-conditioned");
    });
    return p;
}

// Collective: kernel ridge regression of Y (m × k) on X_train (m × d), predictions at X_test (p × d) gathered to rank
// 0, with the kernels of any block plan: train_plan(config) is the plan of X_train with itself, test_plan(config) the
// plan of X_test against X_train (limit::kernel_plan, limit::spec_kernel_plan: rows(), block_into()). Every rank
// passes its copy of the inputs (normally identical, e.g. from broadcast()). Any failure on any rank -> the same
// exception on every rank.
template <class TrainPlan, class TestPlan>
regression_result kernel_regression_of(const process_grid& grid, const matrix<double>& x_train, const matrix<double>& y,
                                       const matrix<double>& x_test, limit::kernel_config config, const regression_options& opt,
                                       TrainPlan&& train_plan, TestPlan&& test_plan) {
    MPI_Comm comm = grid.comm();
    regression_result out;
    config.compute_ntk = opt.ntk;
    const std::size_t m = x_train.shape()[0], classes = y.shape()[1];
    const char triangle = cholesky_triangle(grid);
    auto now = [] { return MPI_Wtime(); };
    auto report = [&](const char* phase, double seconds) {
        if (grid.rank() == 0 && opt.on_phase) opt.on_phase(phase, seconds);
    };
    // The processes on this host share its memory.
    const int host_ranks = ranks_on_this_host(comm);
    out.plan = plan_regression(grid, m, classes, opt, host_ranks);
    if (grid.rank() == 0 && opt.on_plan) opt.on_plan(out.plan);
    // The checks of phase 1 (inside it), shared by both solvers.
    const auto check_inputs = [&] {
        require<shape_error>(y.shape()[0] == m && classes >= 1, "distributed::kernel_regression: Y must be ", m,
                             " x k (one row per training point), got ", y.shape()[0], " x ", classes);
        require_finite(y, "distributed::kernel_regression", "Y");
        // The test inputs are checked here too, so that bad ones stop the run before the solve, not after.
        require<shape_error>(x_test.dimension() == 2 && x_test.shape()[1] == x_train.shape()[1],
                             "distributed::kernel_regression: X_test must have the ", x_train.shape()[1], " features of X_train, got ",
                             x_test.shape()[0], " x ", x_test.shape()[1]);
        require_finite(x_test, "distributed::kernel_regression", "X_test");
    };

    if (out.plan.solver == limit::ridge_solver::pcg) {
        // Phase 1: this process's blocks of the upper triangle (no communication), then the trace (one number, the same
        // bits on every rank: CG's control flow depends on the shift). Phases 2-3: distributed_pcg.
        const auto solve = [&]<class S>() {
            double t0 = now();
            std::optional<cyclic_kernel_store<S>> store;
            collective_phase(comm, "train kernel", [&] {
                check_inputs();
                const auto plan = train_plan(config);
                store.emplace(grid, m, opt.block);
                out.local_kernel_entries = store->fill(plan, opt.ntk, opt.threads, grid.rank() == opt.inject_nonfinite_rank);
            });
            double trace = store->local_trace();
            detail::identical_sum(comm, &trace, 1);
            out.shift = limit::diagonal_shift(opt.reg, trace, m);
            out.seconds.train_kernel = now() - t0;
            report("train kernel", out.seconds.train_kernel);
            out.weights = distributed_pcg(comm, *store, y, out.shift, out.plan.rank, opt.seed, opt.pcg, opt.threads, &out.pcg);
            out.seconds.preconditioner = out.pcg.preconditioner_seconds;
            report("preconditioner (Nystrom)", out.seconds.preconditioner);
            out.seconds.solve = out.pcg.solve_seconds;
            report("conjugate gradient", out.seconds.solve);
        };
        if (out.plan.float_store)
            solve.template operator()<float>();
        else
            solve.template operator()<double>();
    } else {
        // Phase 1: the train kernel, each process its own blocks (no communication).
        double t0 = now();
        std::optional<block_cyclic_matrix> k;
        collective_phase(comm, "train kernel", [&] {
            check_inputs();
            const auto plan = train_plan(config);
            k.emplace(grid, m, m, opt.block);
            out.local_kernel_entries = fill_kernel_triangle(*k, plan, triangle, opt.ntk, opt.threads, grid.rank() == opt.inject_nonfinite_rank);
        });
        // The diagonal shift needs the trace: one reduction of a number.
        double trace = 0;
        const cyclic_dimension& rd = k->row_layout();
        const cyclic_dimension& cd = k->col_layout();
        for (std::size_t li = 0; li < k->local_rows(); ++li) {
            const std::size_t g = rd.global_index(li);
            if (cd.owner(g) == grid.col()) trace += k->local(li, cd.local_index(g));
        }
        MPI_Allreduce(MPI_IN_PLACE, &trace, 1, MPI_DOUBLE, MPI_SUM, comm);
        out.shift = limit::diagonal_shift(opt.reg, trace, m);
        for (std::size_t li = 0; li < k->local_rows(); ++li) {
            const std::size_t g = rd.global_index(li);
            if (cd.owner(g) == grid.col()) k->local(li, cd.local_index(g)) += out.shift;
        }
        out.seconds.train_kernel = now() - t0;
        report("train kernel", out.seconds.train_kernel);

        // Phase 2: K + shift·I = UᵀU or LLᵀ (PDPOTRF; every rank calls it).
        t0 = now();
        const int n = static_cast<int>(m), one = 1;
        int info = 0;
        detail::scalapack::pdpotrf_(&triangle, &n, k->local(), &one, &one, k->descriptor(), &info);
        collective_phase(comm, "Cholesky", [&] {
            if (info != 0)
                fail<numerical_error>("distributed::kernel_regression: the ", m, " x ", m, " train kernel plus ", out.shift,
                                      " on the diagonal is not positive definite (ScaLAPACK pdpotrf ",
                                      info > 0 ? "broke down at pivot " : "failed with info ", info, ", mean diagonal ",
                                      trace / static_cast<double>(m),
                                      "); give a larger --diag-reg (relative to the mean diagonal, e.g. 1e-4 or 1e-3), or check the data "
                                      "for duplicated points");
        });
        out.seconds.cholesky = now() - t0;
        report("Cholesky (pdpotrf)", out.seconds.cholesky);

        // Phase 3: α = (K + shift·I)⁻¹ Y for all classes at once (PDPOTRS), then α on every rank (one sum of m × k numbers:
        // each entry is owned by exactly one process, so the sum is exact).
        t0 = now();
        std::optional<block_cyclic_matrix> b;
        collective_phase(comm, "solve", [&] {  // every allocation before a collective call is inside a phase
            b.emplace(grid, m, classes, opt.block);
            for (std::size_t lj = 0; lj < b->local_cols(); ++lj)
                for (std::size_t li = 0; li < b->local_rows(); ++li)
                    b->local(li, lj) = y(b->row_layout().global_index(li), b->col_layout().global_index(lj));
        });
        const int nrhs = static_cast<int>(classes);
        info = 0;
        detail::scalapack::pdpotrs_(&triangle, &n, &nrhs, k->local(), &one, &one, k->descriptor(), b->local(), &one, &one, b->descriptor(), &info);
        collective_phase(comm, "solve", [&] {
            require<numerical_error>(info == 0, "distributed::kernel_regression: ScaLAPACK pdpotrs failed with info ", info);
            k.reset();
            out.weights = xt::zeros<double>({m, classes});
            for (std::size_t lj = 0; lj < b->local_cols(); ++lj)
                for (std::size_t li = 0; li < b->local_rows(); ++li)
                    out.weights(b->row_layout().global_index(li), b->col_layout().global_index(lj)) = b->local(li, lj);
        });
        detail::sum_in_place(comm, out.weights.data(), out.weights.size());
        out.seconds.solve = now() - t0;
        report("solve (pdpotrs)", out.seconds.solve);

    }

    // Phase 4: predictions K(test, train)·α, rank r computing test rows [p·r/P, p·(r+1)/P), gathered to rank 0.
    const double t0 = now();
    const std::size_t p = x_test.shape()[0], ranks = static_cast<std::size_t>(grid.size());
    auto first_row = [&](std::size_t r) { return p * r / ranks; };
    const std::size_t row0 = first_row(static_cast<std::size_t>(grid.rank())), row1 = first_row(static_cast<std::size_t>(grid.rank()) + 1);
    matrix<double> mine;
    std::vector<int> counts(ranks), displs(ranks);
    collective_phase(comm, "test kernel and predictions", [&] {
        mine = matrix<double>::from_shape({row1 - row0, classes});
        for (std::size_t r = 0; r < ranks; ++r) {
            counts[r] = static_cast<int>((first_row(r + 1) - first_row(r)) * classes);
            displs[r] = static_cast<int>(first_row(r) * classes);
        }
        if (grid.rank() == 0) out.predictions = matrix<double>::from_shape({p, classes});
        const auto plan = test_plan(config);
        const std::size_t chunk = std::max<std::size_t>(opt.test_chunk, 1), tasks = (row1 - row0 + chunk - 1) / chunk;
        const int used = opt.threads > 0 ? opt.threads : max_threads();
        // One chunk × m buffer (two for the NTK) per thread, allocated here: nothing allocates inside the parallel loop.
        const std::size_t buffer_rows = std::min(chunk, row1 - row0);
        std::vector<limit::kernel_pair<double>> blocks(static_cast<std::size_t>(std::max(used, 1)));
        for (auto& blk : blocks) {
            blk.nngp = matrix<double>::from_shape({buffer_rows, m});
            if (opt.ntk) blk.ntk = matrix<double>::from_shape({buffer_rows, m});
        }
        std::vector<char> bad(tasks, 0);
        parallel_for_dynamic(tasks, used, [&](int thread, std::size_t t) {
            const std::size_t r0 = row0 + t * chunk, r1 = std::min(r0 + chunk, row1);
            auto& blk = blocks[static_cast<std::size_t>(thread)];
            plan.block_into(r0, r1, 0, m, blk.nngp.data(), m, opt.ntk ? blk.ntk.data() : nullptr, m);
            const double* kt = opt.ntk ? blk.ntk.data() : blk.nngp.data();
            blas::gemm(false, false, r1 - r0, classes, m, 1.0, kt, out.weights.data(), 0.0, mine.data() + (r0 - row0) * classes);
            for (std::size_t i = 0; i < (r1 - r0) * classes; ++i)
                if (!std::isfinite(mine.data()[(r0 - row0) * classes + i])) bad[t] = 1;
        });
        for (std::size_t t = 0; t < tasks; ++t)
            if (bad[t])
                fail<numerical_error>("distributed::kernel_regression: the predictions of test rows [", row0 + t * chunk, ", ",
                                      std::min(row0 + (t + 1) * chunk, row1), ") are not finite");
    });
    MPI_Gatherv(mine.data(), static_cast<int>(mine.size()), MPI_DOUBLE, grid.rank() == 0 ? out.predictions.data() : nullptr,
                counts.data(), displs.data(), MPI_DOUBLE, 0, comm);
    out.seconds.predict = now() - t0;
    report("test kernel and predictions", out.seconds.predict);
    return out;
}

// The kernels of an MLP: depth hidden layers, policies P and A, the settings of `config`.
template <Parametrization P, Activation A>
regression_result kernel_regression(const process_grid& grid, const matrix<double>& x_train, const matrix<double>& y,
                                    const matrix<double>& x_test, int depth, const limit::kernel_config& config, const regression_options& opt) {
    return kernel_regression_of(
        grid, x_train, y, x_test, config, opt, [&](const limit::kernel_config& c) { return limit::kernel_plan<P, A, double>(x_train, depth, c); },
        [&](const limit::kernel_config& c) { return limit::kernel_plan<P, A, double>(x_test, x_train, depth, c); });
}

// The kernels of a SPEC's architecture (limit/spec_plan.hpp): one input per row, images in NHWC order of the shape
// `input` (channels 0: feature vectors), neural-tangents' NTK or standard parametrization (kind).
inline regression_result kernel_regression(const process_grid& grid, const matrix<double>& x_train, const matrix<double>& y,
                                           const matrix<double>& x_test, const nn::spec& spec, limit::spec_input input,
                                           limit::parametrization_kind kind, const limit::kernel_config& config,
                                           const regression_options& opt) {
    return kernel_regression_of(
        grid, x_train, y, x_test, config, opt,
        [&](const limit::kernel_config& c) { return limit::spec_kernel_plan<double>(spec, x_train, input, c, kind); },
        [&](const limit::kernel_config& c) { return limit::spec_kernel_plan<double>(spec, x_test, x_train, input, c, kind); });
}

}  // namespace widenn::distributed
