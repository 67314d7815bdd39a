#pragma once
// Kernel ridge regression by preconditioned conjugate gradients across MPI processes: the iterative solver of
// limit/pcg.hpp (the same Nyström preconditioner from the same landmarks, the same block CG on all classes at once,
// the same stopping rule) with the train kernel distributed over the processes.
//
//   * cyclic_kernel_store<S>: the upper triangle of the m × m train kernel (blocks (I, J), I <= J) in S = float or
//     double, each block on the process ScaLAPACK's block-cyclic layout gives it ((I mod pr, J mod pc) of the pr × pc
//     grid), computed there with no communication. Unlike block_cyclic_matrix it stores only its blocks of the
//     triangle (about m²/(2P) entries per process instead of m²/P), each row-major and contiguous: CG reads every
//     block twice per product, once as K_IJ and once as K_JI = K_IJᵀ.
//   * The product (K + μI)·X for X m × k (replicated on every process): each process multiplies its blocks (local
//     GEMMs, a float block widened to double first, so products accumulate in double), then one MPI_Reduce of the m × k
//     partial products to rank 0 and one MPI_Bcast back, so every process holds the same bits (an MPI_Allreduce is not
//     guaranteed to give all ranks identical results, and CG's control flow must be the same on every rank).
//   * The preconditioner: the landmark columns K[:, landmarks] gathered onto every process (one sum of m × r numbers,
//     each owned by exactly one process, so exact), then the same limit::nystrom_preconditioner built on each process
//     (replicated: O(m·r²) once), applied in row slices (project_rows / correct_rows): 4·m·r·k/P flops per iteration
//     per process, one sum of r × k numbers and an all-gather of the m × k result (copies: the same bits everywhere).
//   * limit::block_conjugate_gradient itself, run by every process on the replicated m × k vectors with the distributed
//     product as its operator: every rank takes the same branch at every step, so its errors (an indefinite operator,
//     no convergence) are thrown by all ranks at the same point and then agreed like any phase's failure.
//
// With one process this is limit::kernel_ridge's PCG with the same preconditioner and the same iterates up to the
// rounding of the kernel products (the products sum the blocks in another order).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <exception>
#include <limits>
#include <optional>
#include <type_traits>
#include <vector>

#include <mpi.h>

#include "../core/blas.hpp"
#include "../core/checked.hpp"
#include "../core/errors.hpp"
#include "../core/parallel.hpp"
#include "../core/tensor.hpp"
#include "../limit/pcg.hpp"
#include "agreement.hpp"
#include "scalapack.hpp"

namespace widenn::distributed {

namespace detail {
// Collective: the element-wise sum over the ranks of `data` (count doubles), the same bits on every rank: reduced to
// rank 0, then broadcast (chunked: MPI counts are int).
inline void identical_sum(MPI_Comm comm, double* data, std::size_t count) {
    constexpr std::size_t chunk = std::size_t{1} << 27;
    int rank = 0;
    MPI_Comm_rank(comm, &rank);
    for (std::size_t at = 0; at < count; at += chunk) {
        const int n = static_cast<int>(std::min(chunk, count - at));
        MPI_Reduce(rank == 0 ? MPI_IN_PLACE : data + at, rank == 0 ? data + at : nullptr, n, MPI_DOUBLE, MPI_SUM, 0, comm);
        MPI_Bcast(data + at, n, MPI_DOUBLE, 0, comm);
    }
}
}  // namespace detail

// The blocks (I, J), I <= J, of the upper triangle of an m × m matrix that process (row, col) of a pr × pc grid owns in
// the block-cyclic layout with square blocks of edge nb: global rows [r0, r1) × columns [c0, c1).
struct triangle_block {
    std::size_t r0, r1, c0, c1;
    std::size_t offset;  // of its entries in the store (row-major, (r1 − r0) × (c1 − c0))
};
inline std::vector<triangle_block> owned_upper_blocks(std::size_t m, std::size_t nb, int pr, int pc, int row, int col) {
    std::vector<triangle_block> out;
    const cyclic_dimension rd{m, nb, pr, row}, cd{m, nb, pc, col};
    std::size_t offset = 0;
    for (std::size_t lj = 0; lj < cd.local_blocks(); ++lj)
        for (std::size_t li = 0; li < rd.local_blocks(); ++li) {
            const std::size_t bi = rd.global_block(li), bj = cd.global_block(lj);
            if (bi > bj) continue;
            const std::size_t r0 = bi * nb, r1 = std::min(r0 + nb, m), c0 = bj * nb, c1 = std::min(c0 + nb, m);
            out.push_back({r0, r1, c0, c1, offset});
            offset += (r1 - r0) * (c1 - c0);
        }
    return out;
}
// Entries of the blocks above (the store's size).
inline std::size_t owned_upper_entries(const std::vector<triangle_block>& blocks) {
    return blocks.empty() ? 0 : blocks.back().offset + (blocks.back().r1 - blocks.back().r0) * (blocks.back().c1 - blocks.back().c0);
}

// This process's blocks of the upper triangle of the symmetric m × m train kernel, stored in S (see the header comment).
template <class S>
class cyclic_kernel_store {
    static_assert(std::is_same_v<S, float> || std::is_same_v<S, double>, "distributed::cyclic_kernel_store holds float or double");

public:
    cyclic_kernel_store(const process_grid& grid, std::size_t m, std::size_t block) : m_(m), nb_(block) {
        require<shape_error>(m >= 1 && block >= 1, "distributed::cyclic_kernel_store: need m >= 1 and a block of at least 1, got m = ", m,
                             ", block ", block);
        blocks_ = owned_upper_blocks(m, block, grid.rows(), grid.cols(), grid.row(), grid.col());
        data_.assign(owned_upper_entries(blocks_), S{0});
    }
    // Bytes of the store on process (row, col).
    static std::size_t bytes_for(std::size_t m, std::size_t block, int pr, int pc, int row, int col) {
        return checked_product({owned_upper_entries(owned_upper_blocks(m, block, pr, pc, row, col)), sizeof(S)},
                               "distributed::cyclic_kernel_store");
    }
    static const char* name() { return std::is_same_v<S, float> ? "float" : "double"; }

    std::size_t size() const { return m_; }
    std::size_t block() const { return nb_; }
    const std::vector<triangle_block>& blocks() const { return blocks_; }
    const S* entries(const triangle_block& b) const { return data_.data() + b.offset; }

    // Local work: computes this process's blocks of the kernel of `plan` (Θ when ntk, else Σ) in double and stores them
    // in S. Returns the entries computed. A block that is not finite throws numerical_error naming it.
    template <class Plan>
    std::size_t fill(const Plan& plan, bool ntk, int threads, bool inject_nonfinite = false) {
        require<shape_error>(plan.symmetric() && plan.rows() == m_, "distributed::cyclic_kernel_store::fill: need the symmetric plan of the ",
                             m_, " x ", m_, " kernel, got ", plan.rows(), " x ", plan.cols());
        require(!ntk || plan.config().compute_ntk, "distributed::cyclic_kernel_store::fill: the plan was made without the NTK (compute_ntk = false)");
        const int used = threads > 0 ? threads : max_threads();
        std::vector<std::vector<double>> nngp(static_cast<std::size_t>(std::max(used, 1))), theta(nngp.size());
        for (std::size_t t = 0; t < nngp.size(); ++t) {
            if (ntk || !std::is_same_v<S, double>) nngp[t].resize(nb_ * nb_);
            if (ntk && !std::is_same_v<S, double>) theta[t].resize(nb_ * nb_);
        }
        parallel_for_dynamic(blocks_.size(), used, [&](int thread, std::size_t i) {
            const triangle_block& b = blocks_[i];
            const std::size_t rows = b.r1 - b.r0, cols = b.c1 - b.c0;
            S* out = data_.data() + b.offset;
            auto& s1 = nngp[static_cast<std::size_t>(thread)];
            auto& s2 = theta[static_cast<std::size_t>(thread)];
            if constexpr (std::is_same_v<S, double>) {
                if (ntk)
                    plan.block_into(b.r0, b.r1, b.c0, b.c1, s1.data(), cols, out, cols);
                else
                    plan.block_into(b.r0, b.r1, b.c0, b.c1, out, cols, nullptr, 0);
            } else {
                plan.block_into(b.r0, b.r1, b.c0, b.c1, s1.data(), cols, ntk ? s2.data() : nullptr, cols);
                const double* src = ntk ? s2.data() : s1.data();
                for (std::size_t e = 0; e < rows * cols; ++e) out[e] = static_cast<S>(src[e]);
            }
        });
        if (inject_nonfinite && !blocks_.empty()) data_[0] = std::numeric_limits<S>::quiet_NaN();
        std::size_t entries = 0;
        for (const triangle_block& b : blocks_) {
            const std::size_t rows = b.r1 - b.r0, cols = b.c1 - b.c0;
            const S* v = data_.data() + b.offset;
            for (std::size_t e = 0; e < rows * cols; ++e)
                if (!std::isfinite(v[e]))
                    fail<numerical_error>("distributed::kernel: the train kernel block rows [", b.r0, ", ", b.r1, ") x columns [", b.c0, ", ", b.c1,
                                          ") is not finite (entry (", b.r0 + e / cols, ", ", b.c0 + e % cols, ") = ", static_cast<double>(v[e]),
                                          "); check the inputs and the kernel settings (weight_var, depth)");
            entries += rows * cols;
        }
        return entries;
    }

    // Local work: the sum of this process's diagonal entries.
    double local_trace() const {
        double t = 0;
        for (const triangle_block& b : blocks_)
            if (b.r0 == b.c0)
                for (std::size_t i = 0; i < b.r1 - b.r0; ++i) t += static_cast<double>(data_[b.offset + i * (b.c1 - b.c0) + i]);
        return t;
    }

    // Local work: y = this process's part of K·X (X and y m × k, row-major; y reshaped if needed): the sum over its
    // blocks of K_IJ·X_J into rows I and, off the diagonal, K_IJᵀ·X_I into rows J. The sum of y over the processes is K·X.
    void apply_local(const matrix<double>& x, matrix<double>& y, int threads) const {
        require_shape(x, m_, any_size, "distributed::cyclic_kernel_store::apply_local", "X");
        const std::size_t k = x.shape()[1];
        if (y.shape()[0] != m_ || y.shape()[1] != k) y = matrix<double>::from_shape({m_, k});
        std::fill(y.begin(), y.end(), 0.0);
        if (k == 0 || blocks_.empty()) return;
        const int used = std::max(1, std::min<int>(threads > 0 ? threads : max_threads(), static_cast<int>(blocks_.size())));
        // One m × k accumulator per extra thread (thread 0 writes y), one block in double per thread for a float store.
        std::vector<matrix<double>> sums(static_cast<std::size_t>(used - 1));
        for (auto& s : sums) s = xt::zeros<double>({m_, k});
        std::vector<std::vector<double>> wide(std::is_same_v<S, double> ? 0 : static_cast<std::size_t>(used));
        for (auto& w : wide) w.resize(nb_ * nb_);
        parallel_for_dynamic(blocks_.size(), used, [&](int thread, std::size_t i) {
            const triangle_block& b = blocks_[i];
            const std::size_t rows = b.r1 - b.r0, cols = b.c1 - b.c0;
            const double* a = nullptr;
            if constexpr (std::is_same_v<S, double>) {
                a = data_.data() + b.offset;
            } else {
                double* w = wide[static_cast<std::size_t>(thread)].data();
                const S* src = data_.data() + b.offset;
                for (std::size_t e = 0; e < rows * cols; ++e) w[e] = static_cast<double>(src[e]);
                a = w;
            }
            double* out = thread == 0 ? y.data() : sums[static_cast<std::size_t>(thread - 1)].data();
            blas::gemm(false, false, rows, k, cols, 1.0, a, cols, x.data() + b.c0 * k, k, 1.0, out + b.r0 * k, k);
            if (b.r0 != b.c0) blas::gemm(true, false, cols, k, rows, 1.0, a, cols, x.data() + b.r0 * k, k, 1.0, out + b.c0 * k, k);
        });
        for (const auto& s : sums) y += s;
    }

    // Local work: c = this process's entries of the columns `idx` of K (m × r, zero where another process owns the
    // entry). Every entry of K[:, idx] is owned by exactly one process, so the sum over the processes is exact.
    void columns_local(const std::vector<std::size_t>& idx, matrix<double>& c) const {
        const std::size_t r = idx.size();
        c = xt::zeros<double>({m_, r});
        for (std::size_t j = 0; j < r; ++j)
            require(idx[j] < m_, "distributed::cyclic_kernel_store::columns_local: index ", idx[j], " is outside the ", m_, " x ", m_, " kernel");
        for (const triangle_block& b : blocks_) {
            const std::size_t cols = b.c1 - b.c0;
            const S* v = data_.data() + b.offset;
            for (std::size_t j = 0; j < r; ++j) {
                const std::size_t g = idx[j];
                if (g >= b.c0 && g < b.c1)  // column g of K_IJ: K[r0..r1, g]
                    for (std::size_t i = b.r0; i < b.r1; ++i) c(i, j) = static_cast<double>(v[(i - b.r0) * cols + (g - b.c0)]);
                if (b.r0 != b.c0 && g >= b.r0 && g < b.r1)  // row g of K_IJ is K[g, c0..c1] = K[c0..c1, g]
                    for (std::size_t i = b.c0; i < b.c1; ++i) c(i, j) = static_cast<double>(v[(g - b.r0) * cols + (i - b.c0)]);
            }
        }
    }

private:
    std::size_t m_ = 0, nb_ = 1;
    std::vector<triangle_block> blocks_;
    std::vector<S> data_;
};

// What distributed_pcg did.
struct pcg_report {
    std::size_t rank = 0;              // the Nyström directions kept
    std::size_t iterations = 0;        // products K·P (all columns at once)
    double relative_residual = 0;      // the true residual max_c ‖y_c − (K + μI)α_c‖ / ‖y_c‖
    double preconditioner_seconds = 0, solve_seconds = 0;
    double product_seconds = 0;        // of solve_seconds: the local block products
    double product_cpu_seconds = 0;    // CPU time of this process in them (the work, whatever else shares the cores)
    double communication_seconds = 0;  // of solve_seconds: the reductions and broadcasts of the products
    double precondition_seconds = 0;   // of solve_seconds: the preconditioner's applications (replicated on every rank)
};

// Collective: α = (K + shift·I)⁻¹ Y by PCG with the rank-`rank` Nyström preconditioner from landmarks drawn by `seed`,
// `store` the kernel (filled on every rank), Y (m × k) the same on every rank. Returns α on every rank. Every rank
// throws the same exception on a failure (a preconditioner that cannot be built, no convergence). opt.progress is
// called on rank 0 only.
template <class S>
matrix<double> distributed_pcg(MPI_Comm comm, const cyclic_kernel_store<S>& store, const matrix<double>& y, double shift, std::size_t rank,
                               std::uint64_t seed, limit::pcg_options opt, int threads, pcg_report* report = nullptr) {
    const std::size_t m = store.size();
    int me = 0;
    MPI_Comm_rank(comm, &me);
    pcg_report rep;
    // Checked (and agreed) here, so the preconditioner's own checks cannot throw on some ranks before its collective call.
    collective_phase(comm, "preconditioner", [&] {
        require(rank >= 1 && rank <= m, "distributed::pcg: the preconditioner rank must be in [1, N = ", m, "], got ", rank);
        require(shift > 0 && std::isfinite(shift), "distributed::pcg: needs a positive finite ridge (the shift), got ", shift,
                "; give --diag-reg > 0");
        require_shape(y, m, any_size, "distributed::pcg", "Y");
        require_finite(y, "distributed::pcg", "Y");
    });
    double t0 = MPI_Wtime();
    // Every rank builds the same preconditioner from the same gathered columns; its failures happen on every rank alike.
    std::optional<limit::nystrom_preconditioner> pre;
    failure local;
    try {
        pre.emplace(m, rank, shift,
                    [&](const std::vector<std::size_t>& idx) {
                        matrix<double> c;
                        store.columns_local(idx, c);
                        detail::identical_sum(comm, c.data(), c.size());
                        return c;
                    },
                    seed);
    } catch (...) {
        local = describe(std::current_exception());
    }
    agree(comm, local, "preconditioner");
    rep.rank = pre->rank();
    rep.preconditioner_seconds = MPI_Wtime() - t0;

    t0 = MPI_Wtime();
    const auto cpu_now = [] {
        timespec t{};
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
        return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
    };
    const limit::block_operator apply = [&](const matrix<double>& x, matrix<double>& out) {
        const double a = MPI_Wtime(), cpu = cpu_now();
        store.apply_local(x, out, threads);
        rep.product_cpu_seconds += cpu_now() - cpu;
        const double b = MPI_Wtime();
        detail::identical_sum(comm, out.data(), out.size());
        rep.product_seconds += b - a;
        rep.communication_seconds += MPI_Wtime() - b;
        out += shift * x;
    };
    // P⁻¹ by row slices: process p takes rows [m·p/P, m·(p+1)/P) of the 4·m·r·k flops; one sum of the r × k projection,
    // then the slices of Z gathered onto every process (copies: the same bits everywhere).
    int ranks = 1;
    MPI_Comm_size(comm, &ranks);
    std::vector<int> counts(static_cast<std::size_t>(ranks)), displs(counts.size());
    const auto first_row = [&](int p) { return m * static_cast<std::size_t>(p) / static_cast<std::size_t>(ranks); };
    const limit::block_operator precondition = [&](const matrix<double>& r, matrix<double>& z) {
        const double a = MPI_Wtime();
        const std::size_t k = r.shape()[1], row0 = first_row(me), row1 = first_row(me + 1);
        matrix<double> t = pre->project_rows(r, row0, row1);
        detail::identical_sum(comm, t.data(), t.size());
        pre->correct_rows(r, std::move(t), z, row0, row1);
        for (int p = 0; p < ranks; ++p) {
            counts[static_cast<std::size_t>(p)] = static_cast<int>((first_row(p + 1) - first_row(p)) * k);
            displs[static_cast<std::size_t>(p)] = static_cast<int>(first_row(p) * k);
        }
        if (ranks > 1) MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, z.data(), counts.data(), displs.data(), MPI_DOUBLE, comm);
        rep.precondition_seconds += MPI_Wtime() - a;
    };
    if (me != 0) opt.progress = {};
    limit::block_cg_result res;
    local = {};
    try {
        res = limit::block_conjugate_gradient(apply, y, precondition, opt);
    } catch (...) {
        local = describe(std::current_exception());
    }
    agree(comm, local, "conjugate gradient");
    rep.iterations = res.iterations;
    rep.relative_residual = res.relative_residual;
    rep.solve_seconds = MPI_Wtime() - t0;
    if (report) *report = rep;
    return std::move(res.x);
}

}  // namespace widenn::distributed
