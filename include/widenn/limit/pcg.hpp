#pragma once
// Kernel ridge regression at large N on one machine: α = (K + λI)⁻¹ Y for all columns of Y at once.
//
//   * kernel_store<S>: the m×m training kernel computed once (in double, tile by tile, in parallel) and stored in S;
//     S = float halves the memory (60,000² entries: 14.4 GB instead of 28.8 GB); products K·X accumulate in double
//     (each tile is widened to double and multiplied by BLAS dgemm), so the only error is the rounding of the entries.
//   * nystrom_preconditioner: the Nyström approximation K ≈ C W⁻¹ Cᵀ from r uniformly sampled landmark columns
//     (Williams & Seeger 2001, the landmark scheme of FALKON, Rudi, Carratino & Rosasco 2017), used as the Nyström
//     preconditioner of Frangella, Tropp & Udell 2023 (Eq. 5.3): with BBᵀ = U Λ̂ Uᵀ (B = C L⁻ᵀ, W = LLᵀ),
//     P = U(Λ̂ + μI)Uᵀ/(λ̂_min + μ) + (I − UUᵀ), inverted by the Woodbury identity:
//     P⁻¹ = (λ̂_min + μ) U(Λ̂ + μI)⁻¹Uᵀ + (I − UUᵀ). Scaling the complement by λ̂_min + μ instead of μ is what keeps
//     the iteration count low when μ is tiny. Cost: ~2·m·r² once, 4·m·r·k per application.
//   * block_conjugate_gradient: one preconditioned CG per column (Hestenes & Stiefel 1952), the columns sharing every
//     product A·P and P⁻¹·R (one pass over the kernel for all k right-hand sides); stops when every column's
//     recursive residual is ≤ tolerance·‖b‖, then checks the true residual ‖b − A x‖ with one more product.
//   * kernel_ridge: picks Cholesky (exact, double) when the double kernel fits in memory, PCG on a float store
//     otherwise; forceable; refuses before any work what cannot run (rank > N, the memory, a singular kernel).
// Every function and class with code here is a template (on the value type T = double, not deduced from the arguments,
// where nothing else is a parameter), so a translation unit that includes this header compiles only what it uses.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <numeric>
#include <optional>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "../core/blas.hpp"
#include "../core/checked.hpp"
#include "../core/errors.hpp"
#include "../core/parallel.hpp"
#include "../core/rng.hpp"
#include "../core/tensor.hpp"
#include "solvers.hpp"

namespace widenn::limit {

// Y = A·X for X and Y of shape m×k (row-major; Y has X's shape on entry).
using block_operator = std::function<void(const matrix<double>& x, matrix<double>& y)>;

// What a running CG reports after each iteration.
struct pcg_progress {
    std::size_t iteration = 0, max_iterations = 0;
    double relative_residual = 0;  // the largest over the columns still running
    double tolerance = 0;
    double seconds = 0;            // since the start of the iteration
    double seconds_left = 0;       // estimated from the rate of residual decrease so far (inf while unknown)
};

struct pcg_options {
    double tolerance = 1e-8;          // per column: stop when ‖b − A x‖ ≤ tolerance · ‖b‖
    std::size_t max_iterations = 0;   // 0: 10·m
    bool throw_on_failure = true;     // false: return the last iterate with converged = false
    std::function<void(const pcg_progress&)> progress = {};
};

struct block_cg_result {
    matrix<double> x;                    // m×k
    std::size_t iterations = 0;          // products A·P (all columns at once)
    std::vector<std::size_t> column_iterations;
    double relative_residual = 0;        // true residual max_c ‖b_c − A x_c‖ / ‖b_c‖, from one final product
    bool converged = false;
};

// Preconditioned CG on k right-hand sides at once (see the header comment). `precondition` (may be empty: identity)
// applies Z = M⁻¹R to all columns.
template <class T = double>
block_cg_result block_conjugate_gradient(const block_operator& apply, const detail::fixed_matrix<T>& b,
                                         const block_operator& precondition = {}, const pcg_options& opt = {}) {
    static_assert(std::is_same_v<T, double>, "limit::block_conjugate_gradient runs in double (a block_operator acts on double)");
    const char* where = "limit::block_conjugate_gradient";
    require_shape(b, any_size, any_size, where, "right-hand side");
    const std::size_t m = b.shape()[0], k = b.shape()[1];
    require<shape_error>(m > 0 && k > 0, where, ": the right-hand side must be non-empty, got ", m, " x ", k);
    require_finite(b, where, "right-hand side");
    require(opt.tolerance > 0 && opt.tolerance < 1, where, ": tolerance must be in (0, 1), got ", opt.tolerance);
    const std::size_t max_it = opt.max_iterations ? opt.max_iterations : 10 * m;
    using clock = std::chrono::steady_clock;
    const auto start = clock::now();

    block_cg_result out;
    out.x = xt::zeros<double>({m, k});
    out.column_iterations.assign(k, 0);
    matrix<double> r = b, z = xt::empty<double>({m, k}), p, q = xt::empty<double>({m, k});
    std::vector<double> bnorm(k, 0), rz(k, 0), res(k, 0);
    std::vector<char> active(k, 1);
    const auto column_dot = [&](const matrix<double>& u, const matrix<double>& v, std::vector<double>& s) {
        std::fill(s.begin(), s.end(), 0.0);
        for (std::size_t i = 0; i < m; ++i)
            for (std::size_t c = 0; c < k; ++c) s[c] += u(i, c) * v(i, c);
    };
    const auto precond = [&] {
        if (precondition)
            precondition(r, z);
        else
            z = r;
    };
    column_dot(b, b, bnorm);
    std::size_t running = 0;
    for (std::size_t c = 0; c < k; ++c) {
        bnorm[c] = std::sqrt(bnorm[c]);
        res[c] = 1;
        if (bnorm[c] == 0) active[c] = 0;  // x = 0 solves it
        running += active[c];
    }
    precond();
    p = z;
    column_dot(r, z, rz);
    for (std::size_t c = 0; c < k; ++c)
        if (!active[c])
            for (std::size_t i = 0; i < m; ++i) p(i, c) = 0;
    std::vector<double> pq(k), rz_new(k), rr(k);
    double first_residual = 1, worst = running ? 1.0 : 0.0;
    for (std::size_t it = 0; it < max_it && running > 0; ++it) {
        apply(p, q);
        column_dot(p, q, pq);
        for (std::size_t c = 0; c < k; ++c)
            if (active[c] && !(pq[c] > 0))
                fail<numerical_error>(where, ": the operator is not positive definite (pᵀAp = ", pq[c], " in column ", c,
                                      " at iteration ", it, "); the kernel is singular or indefinite: add a ridge (diag_reg > 0)");
        for (std::size_t i = 0; i < m; ++i)
            for (std::size_t c = 0; c < k; ++c)
                if (active[c]) {
                    const double alpha = rz[c] / pq[c];
                    out.x(i, c) += alpha * p(i, c);
                    r(i, c) -= alpha * q(i, c);
                }
        column_dot(r, r, rr);
        out.iterations = it + 1;
        worst = 0;
        for (std::size_t c = 0; c < k; ++c) {
            if (!active[c]) continue;
            ++out.column_iterations[c];
            res[c] = std::sqrt(rr[c]) / bnorm[c];
            worst = std::max(worst, res[c]);
            if (res[c] <= opt.tolerance) {
                active[c] = 0;
                --running;
                for (std::size_t i = 0; i < m; ++i) p(i, c) = 0;  // frozen: A·0 costs nothing extra and changes nothing
            }
        }
        if (it == 0) first_residual = worst;
        if (opt.progress) {
            pcg_progress pr{.iteration = it + 1, .max_iterations = max_it, .relative_residual = worst, .tolerance = opt.tolerance};
            pr.seconds = std::chrono::duration<double>(clock::now() - start).count();
            const double per_iteration = it > 0 ? std::log(first_residual / worst) / static_cast<double>(it) : 0;
            pr.seconds_left = running == 0 ? 0
                              : per_iteration > 0
                                  ? std::log(worst / opt.tolerance) / per_iteration * pr.seconds / static_cast<double>(it + 1)
                                  : std::numeric_limits<double>::infinity();
            opt.progress(pr);
        }
        if (running == 0) break;
        precond();
        column_dot(r, z, rz_new);
        for (std::size_t c = 0; c < k; ++c)
            if (active[c]) {
                const double beta = rz_new[c] / rz[c];
                rz[c] = rz_new[c];
                for (std::size_t i = 0; i < m; ++i) p(i, c) = z(i, c) + beta * p(i, c);
            }
    }
    // the true residual, from one more product: the recursive one drifts from it in floating point
    apply(out.x, q);
    out.relative_residual = 0;
    column_dot(b - q, b - q, rr);
    for (std::size_t c = 0; c < k; ++c)
        if (bnorm[c] > 0) out.relative_residual = std::max(out.relative_residual, std::sqrt(rr[c]) / bnorm[c]);
    // the true residual may sit a little above the recursive one; allow a factor 10 before calling it a failure
    out.converged = running == 0 && out.relative_residual <= 10 * opt.tolerance;
    if (!out.converged && opt.throw_on_failure)
        fail<numerical_error>(where, ": no convergence after ", out.iterations, " iterations (relative residual ", running ? worst : out.relative_residual,
                              " recursive / ", out.relative_residual, " true, asked ", opt.tolerance,
                              "); raise max_iterations or the preconditioner rank, or add diag_reg");
    return out;
}

// The m×m kernel stored in S (float or double), products accumulated in double.
template <class S>
class kernel_store {
    static_assert(std::is_same_v<S, float> || std::is_same_v<S, double>, "limit::kernel_store holds float or double");

public:
    kernel_store() = default;
    // Allocates m×m entries of S after checking the memory.
    explicit kernel_store(std::size_t m) {
        require(m > 0, "limit::kernel_store: the size must be positive");
        require_memory(bytes_for(m), widenn::detail::concat("limit::kernel_store: the ", m, " x ", m, " kernel in ", name()),
                       "store it in float, or use fewer training points");
        k_ = matrix<S>::from_shape({m, m});
    }
    static std::size_t bytes_for(std::size_t m) { return checked_product({m, m, sizeof(S)}, "limit::kernel_store"); }
    static const char* name() { return std::is_same_v<S, float> ? "float" : "double"; }

    std::size_t size() const { return k_.shape()[0]; }
    matrix<S>& data() { return k_; }
    const matrix<S>& data() const { return k_; }
    double trace() const {
        double t = 0;
        for (std::size_t i = 0; i < size(); ++i) t += static_cast<double>(k_(i, i));
        return t;
    }

    // Y = (K + shift·I) X for X, Y m×k (Y reshaped if needed). Row strips in parallel; each tile of K widened to double
    // and multiplied by dgemm (double store: dgemm on the strip directly).
    void apply(const matrix<double>& x, matrix<double>& y, double shift = 0) const {
        const std::size_t m = size(), k = x.shape()[1];
        require_shape(x, m, any_size, "limit::kernel_store::apply", "X");
        if (y.shape()[0] != m || y.shape()[1] != k) y = matrix<double>::from_shape({m, k});
        if (k == 0) return;
        constexpr std::size_t strip = 64, tile = 1024;
        const std::size_t strips = (m + strip - 1) / strip;
        const int threads = threads_for(strips);
        std::vector<std::vector<double>> buffers(static_cast<std::size_t>(threads));
        parallel_for(strips, [&](int thread, std::size_t s) {
            const std::size_t r0 = s * strip, r1 = std::min(r0 + strip, m), rows = r1 - r0;
            double* out = y.data() + r0 * k;
            if constexpr (std::is_same_v<S, double>) {
                blas::gemm(false, false, rows, k, m, 1.0, k_.data() + r0 * m, m, x.data(), k, 0.0, out, k);
            } else {
                auto& buf = buffers[static_cast<std::size_t>(thread)];
                buf.resize(strip * tile);
                for (std::size_t c0 = 0; c0 < m; c0 += tile) {
                    const std::size_t c1 = std::min(c0 + tile, m), cols = c1 - c0;
                    for (std::size_t i = 0; i < rows; ++i) {
                        const S* src = k_.data() + (r0 + i) * m + c0;
                        double* dst = buf.data() + i * cols;
                        for (std::size_t j = 0; j < cols; ++j) dst[j] = static_cast<double>(src[j]);
                    }
                    blas::gemm(false, false, rows, k, cols, 1.0, buf.data(), cols, x.data() + c0 * k, k, c0 == 0 ? 0.0 : 1.0, out, k);
                }
            }
            if (shift != 0)
                for (std::size_t i = r0; i < r1; ++i)
                    for (std::size_t c = 0; c < k; ++c) y(i, c) += shift * x(i, c);
        });
    }

    // Columns `idx` of K as an m×r double matrix (the rows idx, transposed: K is symmetric).
    matrix<double> columns(const std::vector<std::size_t>& idx) const {
        const std::size_t m = size(), r = idx.size();
        matrix<double> c = matrix<double>::from_shape({m, r});
        for (std::size_t j = 0; j < r; ++j) {
            require(idx[j] < m, "limit::kernel_store::columns: index ", idx[j], " is outside the ", m, " x ", m, " kernel");
            const S* row = k_.data() + idx[j] * m;
            for (std::size_t i = 0; i < m; ++i) c(i, j) = static_cast<double>(row[i]);
        }
        return c;
    }

private:
    matrix<S> k_;
};

// The symmetric kernel of `plan` (a kernel_plan built from the training inputs) computed in double tile by tile and
// stored in S; `use_ntk` picks Θ or Σ. Memory: the store plus two small tiles per thread. `progress` (fraction done)
// is called from the calling thread.
template <class S, class Plan>
kernel_store<S> store_kernel(const Plan& plan, bool use_ntk, const std::function<void(double)>& progress = {}) {
    const char* where = "limit::store_kernel";
    require(plan.symmetric(), where, ": needs a symmetric kernel_plan (built from the training inputs alone)");
    require(!use_ntk || plan.config().compute_ntk, where, ": the plan was built with compute_ntk = false");
    static_assert(std::is_same_v<typename Plan::value_type, double>, "limit::store_kernel computes in double: use a kernel_plan<P, A, double>");
    const std::size_t m = plan.rows();
    kernel_store<S> store(m);
    S* k = store.data().data();
    constexpr std::size_t strip = 64, tile = 1024;
    const std::size_t strips = (m + strip - 1) / strip;
    std::atomic<std::size_t> done{0};
    const int threads = plan.config().threads > 0 ? plan.config().threads : max_threads();
    // longest strips (the top of the upper triangle) first
    parallel_for_dynamic(strips, threads, [&](int thread, std::size_t s) {
        const std::size_t r0 = s * strip, r1 = std::min(r0 + strip, m), rows = r1 - r0;
        std::vector<double> nngp(rows * tile), ntk(use_ntk ? rows * tile : 0);
        for (std::size_t c0 = r0; c0 < m; c0 += tile) {
            const std::size_t c1 = std::min(c0 + tile, m), cols = c1 - c0;
            plan.block_into(r0, r1, c0, c1, nngp.data(), cols, use_ntk ? ntk.data() : nullptr, cols);
            const double* src = use_ntk ? ntk.data() : nngp.data();
            for (std::size_t i = 0; i < rows; ++i)
                for (std::size_t j = 0; j < cols; ++j) {
                    const S v = static_cast<S>(src[i * cols + j]);
                    k[(r0 + i) * m + c0 + j] = v;
                    k[(c0 + j) * m + r0 + i] = v;  // the mirror (the diagonal block writes both halves itself)
                }
        }
        const std::size_t finished = ++done;
        if (progress && thread == 0) progress(static_cast<double>(finished) / static_cast<double>(strips));
    });
    if (progress) progress(1.0);
    return store;
}

// The Nyström preconditioner of rank r for K + μI (see the header comment).
template <class T = double>
class basic_nystrom_preconditioner {
    static_assert(std::is_same_v<T, double>, "limit::nystrom_preconditioner runs in double (a block_operator acts on double)");

public:
    // columns(idx) returns K[:, idx] (m×r, without the shift). Landmarks: r distinct indices drawn uniformly (seed).
    basic_nystrom_preconditioner(std::size_t m, std::size_t rank, double shift,
                                 const std::function<matrix<T>(const std::vector<std::size_t>&)>& columns, std::uint64_t seed = 1)
        : shift_(shift) {
        const char* where = "limit::nystrom_preconditioner";
        require(rank >= 1 && rank <= m, where, ": the rank must be in [1, N = ", m, "], got ", rank);
        require(shift >= 0 && std::isfinite(shift), where, ": the ridge μ must be finite and >= 0, got ", shift);
        landmarks_ = sample_without_replacement(m, rank, seed);
        matrix<T> b = columns(landmarks_);
        require_shape(b, m, rank, where, "K[:, landmarks]");
        require_finite(b, where, "K[:, landmarks]");
        matrix<T> w = matrix<T>::from_shape({rank, rank});
        for (std::size_t i = 0; i < rank; ++i)
            for (std::size_t j = 0; j < rank; ++j) w(i, j) = b(landmarks_[i], j);
        // W = LLᵀ with a jitter that grows until the factor exists (duplicated or nearly dependent landmarks)
        const double mean_diag = detail::trace(w) / static_cast<double>(rank);
        require<numerical_error>(mean_diag > 0, where, ": the kernel's diagonal at the landmarks is ", mean_diag, ", not positive");
        std::optional<basic_cholesky_factor<T>> l;
        for (double jitter = 1e-10; !l; jitter *= 100) {
            try {
                l.emplace(w, regularization{.diag_reg = jitter});
            } catch (const numerical_error&) {
                if (jitter > 1e-2)
                    fail<numerical_error>(where, ": the ", rank, " x ", rank, " landmark kernel is not positive definite even with a jitter of ",
                                          jitter, " x its mean diagonal");
            }
        }
        jitter_ = l->shift();
        // B = C L⁻ᵀ (m×r), so that the Nyström approximation is BBᵀ: solve X Lᵀ = C in place
        blas::trsm(blas::side::right, blas::triangle::lower, true, m, rank, T(1), l->lower().data(), rank, b.data(), rank);
        // BᵀB = V Σ² Vᵀ, so BBᵀ = U Σ² Uᵀ with U = B V Σ⁻¹ (the directions with σ² > 1e-12·max kept)
        matrix<T> gram = xt::zeros<T>({rank, rank});
        blas::syrk_upper_transposed(rank, m, T(1), b.data(), rank, T(0), gram.data(), rank);
        for (std::size_t r = 0; r < rank; ++r)
            for (std::size_t c = 0; c < r; ++c) gram(r, c) = gram(c, r);
        const basic_eigh_result<T> e = eigh<T>(std::move(gram));
        const double top = e.values(rank - 1);
        require<numerical_error>(top > 0, where, ": the Nyström approximation is zero");
        std::size_t first = 0;
        while (first < rank && !(e.values(first) > 1e-12 * top)) ++first;
        const std::size_t kept = rank - first;
        matrix<T> v = matrix<T>::from_shape({rank, kept});
        values_ = xt::empty<T>({kept});
        for (std::size_t c = 0; c < kept; ++c) {
            values_(c) = e.values(first + c);
            const double inv = 1 / std::sqrt(values_(c));
            for (std::size_t r = 0; r < rank; ++r) v(r, c) = e.vectors(r, first + c) * inv;
        }
        u_ = xt::zeros<T>({m, kept});
        blas::gemm(b, v, u_);
        // P⁻¹ = U diag((λ̂_min + μ)/(λ̂_j + μ) − 1) Uᵀ + I
        scale_ = xt::empty<T>({kept});
        for (std::size_t c = 0; c < kept; ++c) scale_(c) = (values_(0) + shift) / (values_(c) + shift) - 1;
    }

    std::size_t rank() const { return u_.shape()[1]; }  // the directions kept
    const std::vector<std::size_t>& landmarks() const { return landmarks_; }
    double jitter() const { return jitter_; }
    // The Nyström eigenvalues λ̂ (ascending).
    const vector<T>& eigenvalues() const { return values_; }

    // Z = P⁻¹ R for R m×k.
    void operator()(const matrix<T>& r, matrix<T>& z) const {
        const std::size_t m = u_.shape()[0], k = r.shape()[1], rk = rank();
        require_shape(r, m, any_size, "limit::nystrom_preconditioner", "R");
        matrix<T> t = xt::zeros<T>({rk, k});
        blas::gemm(u_, r, t, true, false);
        for (std::size_t j = 0; j < rk; ++j)
            for (std::size_t c = 0; c < k; ++c) t(j, c) *= scale_(j);
        z = r;
        blas::gemm(false, false, m, k, rk, T(1), u_.data(), rk, t.data(), k, T(1), z.data(), k);
    }

    // P⁻¹ in row slices, for R held by several processes (distributed/pcg.hpp): the sum over the slices [row0, row1) of
    // project_rows(R, row0, row1) is T = UᵀR (rank() × k); then correct_rows(R, T, Z, row0, row1) writes the rows
    // [row0, row1) of Z = P⁻¹R (Z m×k). One slice [0, m) makes the same BLAS calls as operator().
    matrix<double> project_rows(const matrix<double>& r, std::size_t row0, std::size_t row1) const {
        const std::size_t m = u_.shape()[0], k = r.shape()[1], rk = rank();
        require_shape(r, m, any_size, "limit::nystrom_preconditioner::project_rows", "R");
        require(row0 <= row1 && row1 <= m, "limit::nystrom_preconditioner::project_rows: rows [", row0, ", ", row1, ") outside [0, ", m, ")");
        matrix<double> t = xt::zeros<double>({rk, k});
        if (row1 > row0) blas::gemm(true, false, rk, k, row1 - row0, 1.0, u_.data() + row0 * rk, r.data() + row0 * k, 0.0, t.data());
        return t;
    }
    void correct_rows(const matrix<double>& r, matrix<double> t, matrix<double>& z, std::size_t row0, std::size_t row1) const {
        const std::size_t m = u_.shape()[0], k = r.shape()[1], rk = rank();
        require_shape(r, m, any_size, "limit::nystrom_preconditioner::correct_rows", "R");
        require_shape(t, rk, k, "limit::nystrom_preconditioner::correct_rows", "T");
        require(row0 <= row1 && row1 <= m, "limit::nystrom_preconditioner::correct_rows: rows [", row0, ", ", row1, ") outside [0, ", m, ")");
        if (z.shape()[0] != m || z.shape()[1] != k) z = matrix<double>::from_shape({m, k});
        for (std::size_t j = 0; j < rk; ++j)
            for (std::size_t c = 0; c < k; ++c) t(j, c) *= scale_(j);
        std::copy(r.data() + row0 * k, r.data() + row1 * k, z.data() + row0 * k);
        blas::gemm(false, false, row1 - row0, k, rk, 1.0, u_.data() + row0 * rk, rk, t.data(), k, 1.0, z.data() + row0 * k, k);
    }

    static std::vector<std::size_t> sample_without_replacement(std::size_t m, std::size_t r, std::uint64_t seed) {
        std::vector<std::size_t> all(m);
        std::iota(all.begin(), all.end(), std::size_t{0});
        rng g(seed);
        for (std::size_t i = 0; i < r; ++i) std::swap(all[i], all[i + g.below(m - i)]);
        all.resize(r);
        std::sort(all.begin(), all.end());
        return all;
    }

private:
    double shift_ = 0, jitter_ = 0;
    std::vector<std::size_t> landmarks_;
    matrix<T> u_;
    vector<T> values_, scale_;
};
using nystrom_preconditioner = basic_nystrom_preconditioner<double>;

// The first pair of identical rows of X (i < j), or {0, 0} when all rows differ. Identical inputs make every kernel
// matrix singular: with no ridge, the solve is ill-posed.
template <class T = double>
std::pair<std::size_t, std::size_t> find_identical_rows(const detail::fixed_matrix<T>& x) {
    static_assert(std::is_same_v<T, double>, "limit::find_identical_rows hashes double rows");
    const std::size_t n = x.shape()[0], d = x.shape()[1];
    std::unordered_multimap<std::uint64_t, std::size_t> seen;
    seen.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        const T* row = x.data() + i * d;
        std::uint64_t h = 1469598103934665603ull;
        for (std::size_t k = 0; k < d; ++k) {
            const T v = row[k] == 0 ? T(0) : row[k];  // -0 == 0
            std::uint64_t bits;
            std::memcpy(&bits, &v, sizeof bits);
            h = (h ^ bits) * 1099511628211ull;
        }
        const auto [first, last] = seen.equal_range(h);
        for (auto it = first; it != last; ++it)
            if (std::equal(row, row + d, x.data() + it->second * d)) return {it->second, i};
        seen.emplace(h, i);
    }
    return {0, 0};
}

// How kernel_ridge solves.
enum class ridge_solver { automatic, cholesky, pcg };

struct ridge_options {
    regularization reg = {.diag_reg = 1e-4};
    ridge_solver solver = ridge_solver::automatic;
    bool float_store = true;         // pcg: the kernel in float (half the memory) or double
    std::size_t rank = 0;            // pcg: Nyström rank; 0: min(N, 1000)
    std::uint64_t seed = 1;          // pcg: landmarks
    pcg_options pcg = {.tolerance = 1e-6, .max_iterations = 1000};
    std::size_t memory_bytes = 0;    // the budget; 0: available_memory_bytes()
    std::function<void(double)> kernel_progress = {};  // fraction of the train kernel computed
};

// The plan kernel_ridge follows for N points and k right-hand sides: which solver and how much memory it needs.
struct ridge_plan {
    ridge_solver solver = ridge_solver::cholesky;
    bool float_store = false;
    std::size_t rank = 0;
    std::size_t bytes = 0;  // the kernel store plus, for pcg, the preconditioner's m×r and the CG vectors
};

// Decides the solver for N points before any work; errors for what cannot run. T: the value type of the Cholesky solver's
// kernel (the one kernel_ridge uses is double).
template <class T = double>
ridge_plan plan_ridge(std::size_t n, std::size_t k, const ridge_options& opt) {
    const char* where = "limit::kernel_ridge";
    require(n > 0, where, ": no training points");
    const std::size_t budget = opt.memory_bytes ? opt.memory_bytes : available_memory_bytes();
    const std::size_t cholesky_bytes = kernel_store<T>::bytes_for(n);
    const std::size_t rank = opt.rank ? opt.rank : std::min<std::size_t>(n, 1000);
    require(rank <= n, where, ": the preconditioner rank ", rank, " is larger than the number of training points N = ", n,
            "; give a rank in [1, ", n, "]");
    const auto pcg_bytes = [&](bool in_float) {
        return (in_float ? kernel_store<float>::bytes_for(n) : kernel_store<double>::bytes_for(n)) +
               checked_product({n, rank + 8 * k, sizeof(double)}, where);
    };
    ridge_plan p;
    p.rank = rank;
    switch (opt.solver) {
    case ridge_solver::cholesky:
        if (cholesky_bytes > budget)
            fail(where, ": the Cholesky solver needs the ", n, " x ", n, " kernel in double, ", format_bytes(static_cast<double>(cholesky_bytes)),
                 ", but only ", format_bytes(static_cast<double>(budget)), " of memory is available; use the pcg solver (float store: ",
                 format_bytes(static_cast<double>(pcg_bytes(true))), ") or fewer training points");
        p.solver = ridge_solver::cholesky, p.bytes = cholesky_bytes;
        return p;
    case ridge_solver::pcg:
        p.solver = ridge_solver::pcg, p.float_store = opt.float_store, p.bytes = pcg_bytes(opt.float_store);
        break;
    case ridge_solver::automatic:
        // Cholesky where the double kernel fits with 10% to spare; else PCG on a float store
        if (cholesky_bytes <= budget / 10 * 9) {
            p.solver = ridge_solver::cholesky, p.bytes = cholesky_bytes;
            return p;
        }
        p.solver = ridge_solver::pcg, p.float_store = true, p.bytes = pcg_bytes(true);
        break;
    }
    if (p.bytes > budget)
        fail(where, ": the pcg solver needs ", format_bytes(static_cast<double>(p.bytes)), " (the ", n, " x ", n, " kernel in ",
             p.float_store ? "float" : "double", " and the rank-", rank, " preconditioner), but only ",
             format_bytes(static_cast<double>(budget)), " of memory is available; use fewer training points",
             p.float_store ? "" : " or the float store");
    require(opt.reg.diag_reg > 0, where, ": the pcg solver needs a positive ridge (diag_reg > 0): its Nyström preconditioner "
                                         "divides by it, and an unregularised kernel system is ill-conditioned");
    return p;
}

// What kernel_ridge did.
struct ridge_report {
    ridge_plan plan;
    double shift = 0;                 // λ added to the diagonal
    std::size_t iterations = 0;       // pcg
    double relative_residual = 0;     // pcg: the true residual
    double kernel_seconds = 0, preconditioner_seconds = 0, solve_seconds = 0;
};

// α = (K + λI)⁻¹ Y for the symmetric kernel of `plan` (Θ when use_ntk, else Σ), by the solver plan_ridge picks.
template <class Plan>
matrix<double> kernel_ridge(const Plan& plan, bool use_ntk, const matrix<double>& y, const ridge_options& opt = {},
                            ridge_report* report = nullptr) {
    const char* where = "limit::kernel_ridge";
    const std::size_t m = plan.rows();
    require_shape(y, m, any_size, where, "Y");
    require_finite(y, where, "Y");
    ridge_report rep;
    rep.plan = plan_ridge(m, y.shape()[1], opt);
    using clock = std::chrono::steady_clock;
    const auto seconds = [](clock::time_point t) { return std::chrono::duration<double>(clock::now() - t).count(); };
    auto t0 = clock::now();
    matrix<double> alpha;
    if (rep.plan.solver == ridge_solver::cholesky) {
        kernel_store<double> store = store_kernel<double>(plan, use_ntk, opt.kernel_progress);
        rep.kernel_seconds = seconds(t0);
        t0 = clock::now();
        const double trace = store.trace();
        rep.shift = diagonal_shift(opt.reg, trace, m);
        std::vector<double> diagonal(m);
        for (std::size_t i = 0; i < m; ++i) diagonal[i] = store.data()(i, i);
        std::optional<cholesky_factor> chol;
        try {
            chol.emplace(std::move(store.data()), opt.reg);
        } catch (const numerical_error& e) {
            fail<numerical_error>(where, ": the ", m, " x ", m, " kernel with diag_reg ", opt.reg.diag_reg,
                                  opt.reg.diag_reg == 0 ? " (no ridge) is singular or not positive definite" : " is not positive definite",
                                  " (Cholesky broke down); give a larger diag_reg (relative to the mean diagonal, e.g. 1e-4 or 1e-3), or check "
                                  "the data for duplicated points");
        }
        // With no ridge, a pivot that keeps almost none of its point's variance (L_ii² / K_ii below 1e-7) means the point is,
        // to working accuracy, a combination of earlier points: the kernel is singular and only rounding made dpotrf pass.
        // (Identical inputs give ~1e-9 here, not 0: the kernels' arccos near cosine 1 turns rounding into √eps.)
        if (opt.reg.diag_reg == 0)
            for (std::size_t i = 0; i < m; ++i) {
                const double kept = chol->lower()(i, i) * chol->lower()(i, i) / diagonal[i];
                if (!(kept >= 1e-7))
                    fail<numerical_error>(where, ": the ", m, " x ", m, " kernel with no ridge (diag_reg 0) is singular to working accuracy: "
                                          "point ", i, " keeps only ", kept, " of its variance after the earlier points (a duplicated or "
                                          "dependent input); give diag_reg > 0 (relative to the mean diagonal, e.g. 1e-4)");
            }
        alpha = chol->solve(y);
        rep.solve_seconds = seconds(t0);
    } else {
        const auto run = [&]<class S>(kernel_store<S> store) {
            rep.kernel_seconds = seconds(t0);
            t0 = clock::now();
            rep.shift = diagonal_shift(opt.reg, store.trace(), m);
            const nystrom_preconditioner pre(m, rep.plan.rank, rep.shift, [&](const std::vector<std::size_t>& idx) { return store.columns(idx); },
                                             opt.seed);
            rep.preconditioner_seconds = seconds(t0);
            t0 = clock::now();
            const block_operator apply = [&](const matrix<double>& x, matrix<double>& out) { store.apply(x, out, rep.shift); };
            const block_operator precondition = [&](const matrix<double>& r, matrix<double>& z) { pre(r, z); };
            block_cg_result res = block_conjugate_gradient(apply, y, precondition, opt.pcg);
            rep.iterations = res.iterations;
            rep.relative_residual = res.relative_residual;
            rep.solve_seconds = seconds(t0);
            return std::move(res.x);
        };
        alpha = rep.plan.float_store ? run(store_kernel<float>(plan, use_ntk, opt.kernel_progress))
                                     : run(store_kernel<double>(plan, use_ntk, opt.kernel_progress));
    }
    if (report) *report = rep;
    return alpha;
}

}  // namespace widenn::limit
