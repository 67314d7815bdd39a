#pragma once
// The infinite-width μP (equivalently mean-field) limit of a one-hidden-layer nonlinear network
// f(ξ) = α V φ(U ξ), U = √n u, V = v/√n (Yang & Hu 2020, "Feature Learning in Infinite-Width Neural Networks" = TP4,
// Thm 6.1), computed by Gauss–Hermite quadrature over the Gaussian of the initial coordinates.
//
// Thm 6.1: with g = (Z^{U_0}, Z^{nV_0}) Gaussian, every Z^{U_t}, Z^{nV_t} is a deterministic function of g, and
//     f̊_t(ξ) = α E[ Z^{nV_t} · φ(ξ·Z^{U_t}) ],  χ̊_t = ∂L/∂f at f̊_t(ξ_t),
//     Z^{nV_{t+1}} = Z^{nV_t} − η α χ̊_t φ(ξ_t·Z^{U_t}),
//     Z^{U_{t+1}}  = Z^{U_t}  − η α (χ̊_t·Z^{nV_t}) φ'(ξ_t·Z^{U_t}) ξ_t          (time-t values on the right).
// One "particle" (Z^U(g_k), Z^{nV}(g_k)) per quadrature node g_k evolves by these updates; E[·] becomes Σ_k w_k(·).
//
// Input-span reduction (docs/theory/feature-learning-limit.md §3): if every training and test input lies in a
// k-dimensional subspace S = span(Q), Q ∈ R^{d×k} orthonormal, every U-update lies in S and h = ξ·Z^U reads only QᵀZ^U,
// so the Gaussian to integrate is (QᵀZ^{U_0}, Z^{nV_0}) ∈ R^{k+d_o}: K^{k+d_o} nodes on a tensor grid
// (fewer on a Smolyak sparse grid). One step on a batch of B inputs costs O(B·N·(k + d_o)) for N nodes,
// independent of the step count. The error estimate is the distance to a coarser rule run alongside.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "../act/dual.hpp"
#include "../core/blas.hpp"
#include "../core/concepts.hpp"
#include "../core/errors.hpp"
#include "../core/tensor.hpp"
#include "mup_linear.hpp"

namespace widenn::limit {

// One-dimensional Gauss–Hermite rules come from act/ (act::gauss_hermite(points), one implementation for the dual
// kernels' quadrature and these grids).
using act::gauss_hermite;
using act::quadrature_rule_1d;

// A quadrature rule for E[f(g)], g ~ N(0, I_dim): nodes (N×dim) and weights (N); Smolyak weights may be negative.
struct quadrature_grid {
    matrix<double> nodes;
    std::vector<double> weights;
    std::size_t size() const { return weights.size(); }
};

enum class grid_kind { tensor, sparse };

namespace detail {

// Number of nodes of a rule without building it (saturating at SIZE_MAX).
inline std::size_t checked_power(std::size_t base, std::size_t exponent) {
    std::size_t out = 1;
    for (std::size_t i = 0; i < exponent; ++i) {
        if (out > std::numeric_limits<std::size_t>::max() / base) return std::numeric_limits<std::size_t>::max();
        out *= base;
    }
    return out;
}

// Calls visit(index) for every multi-index in {1..upper}^dim with |index| in [low, high] (index entries ≥ 1).
template <class Visit>
void for_each_level(std::size_t dim, std::size_t low, std::size_t high, Visit&& visit) {
    std::vector<std::size_t> index(dim, 1);
    while (true) {
        std::size_t sum = 0;
        for (auto v : index) sum += v;
        if (sum >= low && sum <= high) visit(index);
        std::size_t j = 0;
        while (j < dim) {
            ++index[j];
            std::size_t s = 0;
            for (auto v : index) s += v;
            if (s <= high) break;
            index[j] = 1;
            ++j;
        }
        if (j == dim) return;
    }
}

inline double binomial(std::size_t n, std::size_t k) {
    double out = 1;
    for (std::size_t i = 1; i <= k; ++i) out = out * static_cast<double>(n - k + i) / static_cast<double>(i);
    return out;
}

}  // namespace detail

// Nodes of the Smolyak grid of level `level` in `dim` dimensions before merging duplicates (an upper bound), counted by
// dynamic programming over the dimensions so that intractable requests are refused before anything is enumerated.
// Saturates at SIZE_MAX.
inline std::size_t sparse_grid_size_bound(std::size_t dim, std::size_t level) {
    const std::size_t high = dim + level, low = std::max(dim, level + 1);
    // ways[s] = Σ over (i_1..i_j) with Σ i = s of Π (2 i − 1), in double (only compared against a limit)
    std::vector<double> ways(high + 1, 0.0);
    ways[0] = 1.0;
    for (std::size_t j = 0; j < dim; ++j) {
        std::vector<double> next(high + 1, 0.0);
        for (std::size_t s = 0; s <= high; ++s)
            if (ways[s] != 0.0)
                for (std::size_t i = 1; s + i <= high; ++i) next[s + i] += ways[s] * static_cast<double>(2 * i - 1);
        ways.swap(next);
    }
    double total = 0;
    for (std::size_t s = low; s <= high; ++s) total += ways[s];
    return total >= 1.8e19 ? std::numeric_limits<std::size_t>::max() : static_cast<std::size_t>(total);
}

// Tensor-product Gauss–Hermite grid with `points` nodes per dimension; refuses more than max_nodes nodes.
inline quadrature_grid tensor_gauss_hermite(std::size_t dim, int points, std::size_t max_nodes) {
    require(dim >= 1, "limit::tensor_gauss_hermite: the dimension must be at least 1");
    const std::size_t count = detail::checked_power(static_cast<std::size_t>(std::max(points, 1)), dim);
    if (count > max_nodes)
        fail("limit::tensor_gauss_hermite: ", points, "^", dim, " = ",
             count == std::numeric_limits<std::size_t>::max() ? std::string("more than 2^64") : std::to_string(count),
             " nodes exceed max_nodes = ", max_nodes, "; lower the degree, use grid_kind::sparse, or reduce the dimension");
    const quadrature_rule_1d rule = gauss_hermite(points);
    quadrature_grid grid{xt::empty<double>({count, dim}), std::vector<double>(count)};
    std::vector<std::size_t> index(dim, 0);
    for (std::size_t node = 0; node < count; ++node) {
        double w = 1;
        for (std::size_t j = 0; j < dim; ++j) {
            grid.nodes(node, j) = rule.nodes[index[j]];
            w *= rule.weights[index[j]];
        }
        grid.weights[node] = w;
        for (std::size_t j = 0; j < dim && ++index[j] == rule.nodes.size(); ++j) index[j] = 0;
    }
    return grid;
}

// Smolyak sparse grid of level ℓ ≥ 0 by the combination technique (Smolyak 1963; Gerstner & Griebel 1998):
//   Q = Σ_{dim ≤ |i| ≤ dim+ℓ} (−1)^{dim+ℓ−|i|} C(dim−1, dim+ℓ−|i|) ⊗_j U^{i_j},
// with U^i the (2i − 1)-point Gauss–Hermite rule; coinciding nodes are merged. Level 0 is the single node 0.
inline quadrature_grid sparse_gauss_hermite(std::size_t dim, int level, std::size_t max_nodes) {
    require(dim >= 1, "limit::sparse_gauss_hermite: the dimension must be at least 1");
    require(level >= 0 && level <= 200, "limit::sparse_gauss_hermite: the level must be in 0..200, got ", level);
    const auto lvl = static_cast<std::size_t>(level);
    const std::size_t bound = sparse_grid_size_bound(dim, lvl);
    if (bound > max_nodes)
        fail("limit::sparse_gauss_hermite: the level-", level, " sparse grid in ", dim, " dimensions needs up to ",
             bound == std::numeric_limits<std::size_t>::max() ? std::string("more than 2^64") : std::to_string(bound),
             " nodes, more than max_nodes = ", max_nodes, "; lower the level or reduce the dimension");
    std::vector<quadrature_rule_1d> rules(lvl + 2);
    for (std::size_t i = 1; i <= lvl + 1; ++i) rules[i] = gauss_hermite(static_cast<int>(2 * i - 1));
    std::map<std::vector<double>, double> merged;
    const std::size_t high = dim + lvl, low = high + 1 > dim + dim ? high + 1 - dim : dim;
    detail::for_each_level(dim, low, high, [&](const std::vector<std::size_t>& index) {
        std::size_t sum = 0;
        for (auto v : index) sum += v;
        const std::size_t gap = high - sum;
        const double coefficient = (gap % 2 ? -1.0 : 1.0) * detail::binomial(dim - 1, gap);
        std::vector<std::size_t> at(dim, 0);
        std::vector<double> point(dim);
        while (true) {
            double w = coefficient;
            for (std::size_t j = 0; j < dim; ++j) {
                point[j] = rules[index[j]].nodes[at[j]];
                w *= rules[index[j]].weights[at[j]];
            }
            merged[point] += w;
            std::size_t j = 0;
            for (; j < dim && ++at[j] == rules[index[j]].nodes.size(); ++j) at[j] = 0;
            if (j == dim) break;
        }
    });
    quadrature_grid grid{xt::empty<double>({merged.size(), dim}), {}};
    grid.weights.reserve(merged.size());
    std::size_t node = 0;
    for (const auto& [point, w] : merged) {
        for (std::size_t j = 0; j < dim; ++j) grid.nodes(node, j) = point[j];
        grid.weights.push_back(w);
        ++node;
    }
    return grid;
}

struct mup_1hl_options {
    double lr = 0.1;                 // η (TP4 form: μP SGD, η on U's coordinates·n and V's·1/n)
    loss_kind loss = loss_kind::mse;
    double weight_decay = 0.0;       // each step multiplies U and V by (1 − ηλ) before the gradient step
    double sigma_u = 1.0;            // Z^{U_0} ~ N(0, σ_u² I_d)
    double sigma_v = 1.0;            // Z^{nV_0} ~ N(0, σ_v² I_{d_o})
    double output_multiplier = 1.0;  // α
    double lr_input_factor = 1.0;    // per-layer learning-rate factors (1 for TP4 μP)
    double lr_output_factor = 1.0;
    grid_kind grid = grid_kind::tensor;
    int degree = 32;                 // tensor: Gauss–Hermite points per dimension; sparse: Smolyak level
    std::size_t max_nodes = std::size_t{1} << 22;  // refuse grids larger than this (memory ~ 8·(k + d_o)·N bytes)
    bool estimate_error = true;      // also run the coarser rule (degree ⌈K/2⌉, or level ℓ − 1) to estimate the error
    double span_tolerance = 1e-9;    // relative residual allowed for inputs outside the span given at construction
};

// The μP / mean-field limit of a one-hidden-layer network with activation A (TP4 Thm 6.1).
template <Activation A, class T = double>
class mup_1hl {
    static_assert(check_activation<A>());

public:
    using activation = A;
    using value_type = T;

    // Limit for inputs anywhere in R^{d_in}: integrates over all d_in + d_out Gaussian coordinates.
    mup_1hl(std::size_t d_in, std::size_t d_out, mup_1hl_options options = {})
        : mup_1hl(identity(d_in), d_out, options, "mup_1hl") {}

    // Limit for inputs in the span of the rows of `span_inputs` (all training and test inputs, or a basis):
    // integrates over (rank + d_out) Gaussian coordinates.
    mup_1hl(const matrix<T>& span_inputs, std::size_t d_out, mup_1hl_options options = {})
        : mup_1hl(span_inputs, d_out, options, "mup_1hl") {}

    std::size_t d_in() const { return basis_.shape()[0]; }
    std::size_t d_out() const { return d_out_; }
    std::size_t span_dim() const { return basis_.shape()[1]; }
    // The dimension of the Gaussian integrated over: span_dim() + d_out().
    std::size_t gaussian_dim() const { return span_dim() + d_out_; }
    std::size_t nodes() const { return fine_.weight.size(); }
    const matrix<T>& basis() const { return basis_; }  // Q: d_in × span_dim, orthonormal columns
    const mup_1hl_options& options() const { return options_; }
    long steps() const { return steps_; }

    // f̊_t(X), B×d_o.
    matrix<T> predict(const matrix<T>& X) const {
        detail::check_batch<T>("mup_1hl::predict", X, nullptr, d_in(), d_out_);
        const matrix<T> P = project(X, "mup_1hl::predict");
        matrix<T> H;
        return forward(fine_, P, H);
    }

    // |f̊ − f̊_coarse|: the distance between the predictions of this rule and of the coarser one run alongside.
    matrix<T> error_estimate(const matrix<T>& X) const {
        detail::check_batch<T>("mup_1hl::error_estimate", X, nullptr, d_in(), d_out_);
        require(options_.estimate_error, "mup_1hl::error_estimate: constructed with estimate_error = false");
        const matrix<T> P = project(X, "mup_1hl::error_estimate");
        matrix<T> H;
        return xt::abs(forward(fine_, P, H) - forward(coarse_, P, H));
    }

    // The limit's hidden-layer (post-activation) kernel at the current step t (TP4 Thm 6.1):
    //     K_t(ξ, ξ') = E[ φ(ξ·Z^{U_t}) φ(ξ'·Z^{U_t}) ]  = Σ_i w_i φ(h_i(ξ)) φ(h_i(ξ')),   h_i(ξ) = ξ·Z^{U_t}(g_i),
    // the quadrature over the particles, which move with every step. It is the n → ∞ limit of a width-n μP network's
    // hidden Gram matrix φ(Uξ)·φ(Uξ')/n (fluctuations O(n^{-1/2})); at t = 0 it is the NNGP post-activation kernel
    // E[φ(u)φ(v)] of the covariance σ_u² ξ·ξ' (act::dual<A>). X1: B1×d_in, X2: B2×d_in, every row in the span given at
    // construction (as for predict); returns B1×B2. Costs O(B1·B2·N + (B1 + B2)·N·k) for N nodes, in blocks of nodes.
    // Positive semi-definite on tensor grids (positive weights); Smolyak weights can be negative, so on sparse grids only
    // up to the quadrature error.
    matrix<T> hidden_kernel(const matrix<T>& X1, const matrix<T>& X2) const {
        const matrix<T> P1 = checked_projection(X1, "mup_1hl::hidden_kernel", "X1");
        const matrix<T> P2 = checked_projection(X2, "mup_1hl::hidden_kernel", "X2");
        return post_kernel(fine_, P1, P2);
    }

    // The symmetric B×B hidden kernel K_t(X, X) (exactly symmetric).
    matrix<T> hidden_kernel(const matrix<T>& X) const {
        const matrix<T> P = checked_projection(X, "mup_1hl::hidden_kernel", "X");
        return symmetrised(post_kernel(fine_, P, P));
    }

    // |K_t − K_t,coarse|: the distance between the hidden kernels of this rule and of the coarser one run alongside.
    matrix<T> hidden_kernel_error_estimate(const matrix<T>& X1, const matrix<T>& X2) const {
        require(options_.estimate_error, "mup_1hl::hidden_kernel_error_estimate: constructed with estimate_error = false");
        const matrix<T> P1 = checked_projection(X1, "mup_1hl::hidden_kernel_error_estimate", "X1");
        const matrix<T> P2 = checked_projection(X2, "mup_1hl::hidden_kernel_error_estimate", "X2");
        return xt::abs(post_kernel(fine_, P1, P2) - post_kernel(coarse_, P1, P2));
    }

    // The pre-activation kernel E[h_t(ξ) h_t(ξ')] = ξᵀ Q M_t Qᵀ ξ' with M_t = Σ_i w_i u_i u_iᵀ (k×k): the limit of
    // (Uξ)·(Uξ')/n; σ_u² ξ·ξ' at t = 0 (second moments: exact on tensor grids of degree ≥ 2 and sparse grids of level ≥ 1).
    matrix<T> preactivation_kernel(const matrix<T>& X1, const matrix<T>& X2) const {
        const matrix<T> P1 = checked_projection(X1, "mup_1hl::preactivation_kernel", "X1");
        const matrix<T> P2 = checked_projection(X2, "mup_1hl::preactivation_kernel", "X2");
        return pre_kernel(P1, P2);
    }

    // The symmetric B×B pre-activation kernel (exactly symmetric).
    matrix<T> preactivation_kernel(const matrix<T>& X) const {
        const matrix<T> P = checked_projection(X, "mup_1hl::preactivation_kernel", "X");
        return symmetrised(pre_kernel(P, P));
    }

    // One SGD step of the limit on a batch (X: B×d_in, Y: B×d_out); returns the mean loss before the step.
    T step(const matrix<T>& X, const matrix<T>& Y) {
        detail::check_batch<T>("mup_1hl::step", X, &Y, d_in(), d_out_);
        const matrix<T> P = project(X, "mup_1hl::step");
        const T loss = step_particles(fine_, P, Y);
        if (options_.estimate_error) step_particles(coarse_, P, Y);
        ++steps_;
        return loss;
    }

private:
    struct particles {
        matrix<T> u;           // N × k: QᵀZ^{U_t} at each node
        matrix<T> v;           // N × d_o: Z^{nV_t} at each node
        std::vector<T> weight;  // N
    };

    mup_1hl(const matrix<T>& span_inputs, std::size_t d_out, mup_1hl_options options, std::string_view where)
        : d_out_(d_out), options_(options) {
        require(d_out > 0, where, ": d_out must be positive, got 0");
        require_shape(span_inputs, any_size, any_size, where, "span inputs");
        require<shape_error>(span_inputs.shape()[0] > 0 && span_inputs.shape()[1] > 0, where,
                             ": span inputs must be a non-empty matrix (rows: inputs of dimension d_in), got ",
                             span_inputs.shape()[0], " x ", span_inputs.shape()[1]);
        require_finite(span_inputs, where, "span inputs");
        require(std::isfinite(options.lr) && std::isfinite(options.weight_decay) && std::isfinite(options.sigma_u) &&
                    std::isfinite(options.sigma_v) && std::isfinite(options.output_multiplier) &&
                    std::isfinite(options.lr_input_factor) && std::isfinite(options.lr_output_factor),
                where, ": every option must be finite (lr = ", options.lr, ", sigma_u = ", options.sigma_u, ", sigma_v = ",
                options.sigma_v, ")");
        require(options.loss != loss_kind::cross_entropy || d_out >= 2, where, ": cross-entropy needs d_out >= 2, got ", d_out);
        require(options.grid == grid_kind::sparse ? options.degree >= 0 : options.degree >= 1, where,
                ": degree must be >= 1 points per dimension (tensor) or a level >= 0 (sparse), got ", options.degree);
        basis_ = orthonormal_basis(span_inputs);
        require(span_dim() > 0, where, ": the span inputs are all zero; the span is {0}");
        const std::size_t dim = gaussian_dim();
        const auto grid_for = [&](int degree) {
            if (options.grid == grid_kind::tensor) {
                const std::size_t count = detail::checked_power(static_cast<std::size_t>(degree), dim);
                if (count > options.max_nodes)
                    fail(where, ": intractable quadrature: the Gaussian has ", dim, " dimensions (input span ", span_dim(),
                         " + outputs ", d_out_, "), so degree ", degree, " needs ", degree, "^", dim, " = ",
                         count == std::numeric_limits<std::size_t>::max() ? std::string("more than 2^64") : std::to_string(count),
                         " nodes > max_nodes = ", options.max_nodes,
                         ". Lower the degree, use grid_kind::sparse, or give inputs spanning fewer dimensions");
                return tensor_gauss_hermite(dim, degree, options.max_nodes);
            }
            const std::size_t bound = sparse_grid_size_bound(dim, static_cast<std::size_t>(degree));
            if (bound > options.max_nodes)
                fail(where, ": intractable quadrature: the Gaussian has ", dim, " dimensions (input span ", span_dim(),
                     " + outputs ", d_out_, "), so the level-", degree, " sparse grid needs up to ",
                     bound == std::numeric_limits<std::size_t>::max() ? std::string("more than 2^64") : std::to_string(bound),
                     " nodes > max_nodes = ", options.max_nodes,
                     ". Lower the level or give inputs spanning fewer dimensions");
            return sparse_gauss_hermite(dim, degree, options.max_nodes);
        };
        fine_ = initial_particles(grid_for(options.degree));
        if (options.estimate_error) {
            const int coarse_degree = options.grid == grid_kind::tensor ? (options.degree + 1) / 2 : std::max(options.degree - 1, 0);
            coarse_ = initial_particles(grid_for(coarse_degree));
        }
    }

    static matrix<T> identity(std::size_t d) {
        matrix<T> out = xt::zeros<T>({d, d});
        for (std::size_t j = 0; j < d; ++j) out(j, j) = T(1);
        return out;
    }

    // Modified Gram–Schmidt on the rows, twice for stability; drops directions below a relative tolerance.
    static matrix<T> orthonormal_basis(const matrix<T>& rows) {
        const std::size_t d = rows.shape()[1];
        std::vector<std::vector<T>> basis;
        T scale = 0;
        for (auto v : rows) scale = std::max(scale, std::abs(v));
        const T tolerance = std::sqrt(std::numeric_limits<T>::epsilon()) * scale * std::sqrt(static_cast<T>(d));
        for (std::size_t r = 0; r < rows.shape()[0] && basis.size() < d; ++r) {
            std::vector<T> x(d);
            for (std::size_t j = 0; j < d; ++j) x[j] = rows(r, j);
            for (int pass = 0; pass < 2; ++pass)
                for (const auto& q : basis) {
                    T dot = 0;
                    for (std::size_t j = 0; j < d; ++j) dot += q[j] * x[j];
                    for (std::size_t j = 0; j < d; ++j) x[j] -= dot * q[j];
                }
            T norm = 0;
            for (auto v : x) norm += v * v;
            norm = std::sqrt(norm);
            if (norm <= tolerance) continue;
            for (auto& v : x) v /= norm;
            basis.push_back(std::move(x));
        }
        matrix<T> Q = xt::zeros<T>({d, basis.size()});
        for (std::size_t c = 0; c < basis.size(); ++c)
            for (std::size_t j = 0; j < d; ++j) Q(j, c) = basis[c][j];
        return Q;
    }

    // P = X Q (B×k), after checking that every row of X lies in the span.
    matrix<T> project(const matrix<T>& X, std::string_view where) const {
        const std::size_t batch = X.shape()[0], k = span_dim(), d = d_in();
        matrix<T> P = xt::zeros<T>({batch, k});
        for (std::size_t b = 0; b < batch; ++b) {
            T norm2 = 0, residual2 = 0;
            for (std::size_t c = 0; c < k; ++c) {
                T dot = 0;
                for (std::size_t j = 0; j < d; ++j) dot += X(b, j) * basis_(j, c);
                P(b, c) = dot;
            }
            for (std::size_t j = 0; j < d; ++j) {
                T rebuilt = 0;
                for (std::size_t c = 0; c < k; ++c) rebuilt += P(b, c) * basis_(j, c);
                residual2 += (X(b, j) - rebuilt) * (X(b, j) - rebuilt);
                norm2 += X(b, j) * X(b, j);
            }
            if (residual2 > options_.span_tolerance * options_.span_tolerance * std::max(norm2, T(1e-300)) && residual2 > 0)
                fail<shape_error>(where, ": input row ", b, " lies outside the ", k, "-dimensional span given at construction ",
                                  "(relative residual ", std::sqrt(residual2 / std::max(norm2, T(1e-300))),
                                  "); construct the limit with every training and test input");
        }
        return P;
    }

    // check_batch's shape and finiteness checks, then the span check of project(): P = X Q.
    matrix<T> checked_projection(const matrix<T>& X, std::string_view function, std::string_view name) const {
        const std::string where = std::string(function) + " (" + std::string(name) + ")";
        detail::check_batch<T>(where, X, nullptr, d_in(), d_out_);
        return project(X, where);
    }

    static matrix<T> symmetrised(matrix<T> K) {
        for (std::size_t a = 0; a < K.shape()[0]; ++a)
            for (std::size_t b = a + 1; b < K.shape()[1]; ++b) K(a, b) = K(b, a) = (K(a, b) + K(b, a)) / 2;
        return K;
    }

    // Σ_i w_i φ(P1 u_i) φ(P2 u_i)ᵀ over blocks of nodes: H = P uᵀ as in forward(), then one GEMM per block
    // (P1 and P2 may be the same object: then φ(H) is computed once).
    matrix<T> post_kernel(const particles& p, const matrix<T>& P1, const matrix<T>& P2) const {
        const std::size_t b1 = P1.shape()[0], b2 = P2.shape()[0], count = p.weight.size();
        const bool same = &P1 == &P2;
        constexpr std::size_t block = 2048;
        matrix<T> K = xt::zeros<T>({b1, b2});
        matrix<T> U, weighted, phi;
        for (std::size_t start = 0; start < count; start += block) {
            const std::size_t size = std::min(block, count - start);
            U = row_block(p.u, start, start + size);
            phi = xt::empty<T>({b2, size});
            blas::gemm<T>(P2, U, phi, false, true);
            for (auto& h : phi) h = A::value(h);
            if (same) {
                weighted = phi;
            } else {
                weighted = xt::empty<T>({b1, size});
                blas::gemm<T>(P1, U, weighted, false, true);
                for (auto& h : weighted) h = A::value(h);
            }
            for (std::size_t b = 0; b < b1; ++b)
                for (std::size_t i = 0; i < size; ++i) weighted(b, i) *= p.weight[start + i];
            blas::gemm<T>(weighted, phi, K, false, true, T(1), T(1));
        }
        return K;
    }

    // P1 M P2ᵀ with M = Σ_i w_i u_i u_iᵀ.
    matrix<T> pre_kernel(const matrix<T>& P1, const matrix<T>& P2) const {
        const std::size_t k = span_dim(), count = fine_.weight.size();
        matrix<T> M = xt::zeros<T>({k, k});
        for (std::size_t i = 0; i < count; ++i)
            for (std::size_t a = 0; a < k; ++a)
                for (std::size_t b = 0; b < k; ++b) M(a, b) += fine_.weight[i] * fine_.u(i, a) * fine_.u(i, b);
        matrix<T> PM = xt::empty<T>({P1.shape()[0], k});
        blas::gemm<T>(P1, M, PM);
        matrix<T> K = xt::empty<T>({P1.shape()[0], P2.shape()[0]});
        blas::gemm<T>(PM, P2, K, false, true);
        return K;
    }

    particles initial_particles(const quadrature_grid& grid) const {
        const std::size_t count = grid.size(), k = span_dim();
        particles p{xt::empty<T>({count, k}), xt::empty<T>({count, d_out_}), std::vector<T>(count)};
        for (std::size_t i = 0; i < count; ++i) {
            // Z^{U_0} = σ_u Q g_{1..k} (+ a component orthogonal to S that never matters), Z^{nV_0} = σ_v g_{k+1..}
            for (std::size_t c = 0; c < k; ++c) p.u(i, c) = static_cast<T>(options_.sigma_u * grid.nodes(i, c));
            for (std::size_t j = 0; j < d_out_; ++j) p.v(i, j) = static_cast<T>(options_.sigma_v * grid.nodes(i, k + j));
            p.weight[i] = static_cast<T>(grid.weights[i]);
        }
        return p;
    }

    // F = α Σ_i w_i φ(H_{·i}) v_i with H = P uᵀ (B×N), which is kept for the step.
    matrix<T> forward(const particles& p, const matrix<T>& P, matrix<T>& H) const {
        const std::size_t batch = P.shape()[0], count = p.weight.size(), k = span_dim();
        H.resize({batch, count});
        matrix<T> F = xt::zeros<T>({batch, d_out_});
        const auto alpha = static_cast<T>(options_.output_multiplier);
        for (std::size_t b = 0; b < batch; ++b)
            for (std::size_t i = 0; i < count; ++i) {
                T h = 0;
                for (std::size_t c = 0; c < k; ++c) h += P(b, c) * p.u(i, c);
                H(b, i) = h;
                const T x = p.weight[i] * A::value(h);
                for (std::size_t j = 0; j < d_out_; ++j) F(b, j) += x * p.v(i, j);
            }
        return F *= alpha;
    }

    T step_particles(particles& p, const matrix<T>& P, const matrix<T>& Y) {
        matrix<T> H, G;
        const matrix<T> F = forward(p, P, H);
        const T loss = nn::loss_value_and_gradient(options_.loss, F, Y, G);
        const std::size_t batch = P.shape()[0], count = p.weight.size(), k = span_dim();
        const auto rate_u = static_cast<T>(options_.lr * options_.lr_input_factor * options_.output_multiplier);
        const auto rate_v = static_cast<T>(options_.lr * options_.lr_output_factor * options_.output_multiplier);
        const auto decay = static_cast<T>(1.0 - options_.lr * options_.weight_decay);
        std::vector<T> du(k), dv(d_out_);
        for (std::size_t i = 0; i < count; ++i) {
            std::fill(du.begin(), du.end(), T(0));
            std::fill(dv.begin(), dv.end(), T(0));
            for (std::size_t b = 0; b < batch; ++b) {
                const T h = H(b, i), x = A::value(h);
                T chi_v = 0;  // χ̊·Z^{nV_t}
                for (std::size_t j = 0; j < d_out_; ++j) {
                    chi_v += G(b, j) * p.v(i, j);
                    dv[j] += G(b, j) * x;
                }
                const T back = chi_v * A::derivative(h);
                for (std::size_t c = 0; c < k; ++c) du[c] += back * P(b, c);
            }
            for (std::size_t c = 0; c < k; ++c) p.u(i, c) = decay * p.u(i, c) - rate_u * du[c];
            for (std::size_t j = 0; j < d_out_; ++j) p.v(i, j) = decay * p.v(i, j) - rate_v * dv[j];
        }
        return loss;
    }

    std::size_t d_out_;
    mup_1hl_options options_;
    matrix<T> basis_;
    particles fine_, coarse_;
    long steps_ = 0;
};

}  // namespace widenn::limit
