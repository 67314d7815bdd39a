#pragma once
// Kernel-regime training and Bayesian inference of infinitely wide networks with MSE loss, in the conventions
// of neural-tangents' predict.py:
//   * loss L = 1/(2N) Σ‖f(x_i) − y_i‖² with N = y_train.size() = m·k, so gradient descent with learning rate η
//     for t steps is gradient flow for the time t' = η t / N;
//   * gradient flow (Jacot et al. 2018; Lee et al. 2019, "Wide neural networks of any depth evolve as linear
//     models", Eqs. 8–9): f_D(t) = y + e^{−Θt'}(f_D(0) − y),
//     f_*(t) = f_*(0) + Θ_{*D} Θ⁻¹ (I − e^{−Θt'}) (y − f_D(0));
//   * infinite ensemble (Lee et al. 2019, Eqs. 14–16) and the NNGP / NTK-GP posteriors;
//   * η_max = 2(1 + momentum) N / λ_max(Θ).
// The functions and gradient_descent_mse are templates on the value type T = double (its parameters are not deduced, so
// calls read as for plain functions): a translation unit compiles them only where it uses them.
#include <cmath>
#include <cstddef>
#include <limits>
#include <optional>
#include <type_traits>
#include <utility>

#include "../core/blas.hpp"
#include "../core/errors.hpp"
#include "../core/tensor.hpp"
#include "kernel.hpp"
#include "solvers.hpp"

namespace widenn::limit {

inline constexpr double infinite_time = std::numeric_limits<double>::infinity();

namespace detail {
// (1 − e^{−λt})/λ, stable at λt → 0 (docs/theory/kernel-limits.md §4: −expm1(−λt)/λ, series t(1 − λt/2) for |λt| < 1e-8).
inline double one_minus_exp_over(double lambda, double t) {
    if (std::isinf(t)) return lambda > 0 ? 1.0 / lambda : std::numeric_limits<double>::infinity();
    const double x = lambda * t;
    if (std::abs(x) < 1e-8) return t * (1 - x / 2);
    return -std::expm1(-x) / lambda;
}
// A·B through BLAS (row-major, contiguous).
template <class T = double>
matrix<T> matmul(const detail::fixed_matrix<T>& a, const detail::fixed_matrix<T>& b) {
    require<shape_error>(a.shape()[1] == b.shape()[0], "limit: matrix product of ", a.shape()[0], " x ", a.shape()[1], " and ",
                         b.shape()[0], " x ", b.shape()[1]);
    const std::size_t m = a.shape()[0], k = a.shape()[1], n = b.shape()[1];
    matrix<T> c = xt::zeros<T>({m, n});
    if (k) blas::gemm(a, b, c);
    return c;
}
}  // namespace detail

// Options of gradient_descent_mse.
struct gd_options {
    double lr = 1.0;                 // η (the time is t' = η t / N)
    std::size_t outputs_per_point = 0;  // k, for N = m·k; 0: the number of columns of y
    regularization reg = {};         // diag_reg on Θ_DD (NT convention)
};

// Gradient-flow predictions of a network trained with MSE from its NTK: construct from Θ_DD (m×m) and the
// targets y (m×k); then train(t) and test(Θ_{*D}, t). Time t is in steps of gradient descent with rate η
// (t = limit::infinite_time for convergence). Initial outputs default to 0 (the mean over initialisations).
template <class T = double>
class basic_gradient_descent_mse {
    static_assert(std::is_same_v<T, double>, "limit::gradient_descent_mse runs in double");

public:
    basic_gradient_descent_mse(matrix<T> ntk_train_train, matrix<T> y_train, const gd_options& opt = {})
        : ntk_(std::move(ntk_train_train)), y_(std::move(y_train)), opt_(opt) {
        detail::require_square(ntk_, "limit::gradient_descent_mse");
        require_finite(ntk_, "limit::gradient_descent_mse", "Θ_DD");
        require_shape(y_, ntk_.shape()[0], any_size, "limit::gradient_descent_mse", "y_train");
        require_finite(y_, "limit::gradient_descent_mse", "y_train");
        require(opt.lr > 0 && std::isfinite(opt.lr), "limit::gradient_descent_mse: lr must be positive and finite, got ", opt.lr);
        const std::size_t k = opt.outputs_per_point ? opt.outputs_per_point : y_.shape()[1];
        normaliser_ = static_cast<double>(m() * k);
        shift_ = diagonal_shift(opt.reg, detail::trace(ntk_), m());
    }

    std::size_t m() const { return ntk_.shape()[0]; }
    // t' = η t / N: the gradient-flow time after t steps.
    double flow_time(double t) const { return opt_.lr * t / normaliser_; }

    // f_D(t). With diag_reg > 0 the train predictions at t = ∞ are not y; pass Θ_DD to test() for NT's convention.
    matrix<T> train(double t, const std::optional<matrix<T>>& f0_train = std::nullopt) const {
        check_time(t, "train");
        const matrix<T> f0 = initial(f0_train, m(), "f0_train");
        if (std::isinf(t)) return y_;
        const auto& e = eig();
        // y + V e^{−λt'} Vᵀ (f0 − y)
        matrix<T> c = detail::matmul<T>(xt::transpose(e.vectors), f0 - y_);
        scale_rows(c, [&](double lambda) { return std::exp(-std::max(lambda, 0.0) * flow_time(t)); });
        return y_ + detail::matmul<T>(e.vectors, c);
    }

    // f_*(t) for test points with Θ_{*D} (p×m). t = ∞ uses the Cholesky factor, finite t the eigendecomposition.
    matrix<T> test(const matrix<T>& ntk_test_train, double t, const std::optional<matrix<T>>& f0_test = std::nullopt,
                   const std::optional<matrix<T>>& f0_train = std::nullopt) const {
        require_shape(ntk_test_train, any_size, m(), "limit::gradient_descent_mse::test", "Θ_*D");
        require_finite(ntk_test_train, "limit::gradient_descent_mse::test", "Θ_*D");
        check_time(t, "test");
        const matrix<T> r = y_ - initial(f0_train, m(), "f0_train");
        matrix<T> out = detail::matmul<T>(ntk_test_train, weights(r, t));
        if (f0_test) {
            require_shape(*f0_test, ntk_test_train.shape()[0], y_.shape()[1], "limit::gradient_descent_mse::test", "f0_test");
            require_finite(*f0_test, "limit::gradient_descent_mse::test", "f0_test");
            out += *f0_test;
        }
        return out;
    }

    // Θ⁻¹(I − e^{−Θt'}) r (the dual weights α with f_* = f_*(0) + Θ_{*D} α).
    matrix<T> weights(const matrix<T>& r, double t) const {
        require_shape(r, m(), any_size, "limit::gradient_descent_mse::weights", "r");
        require_finite(r, "limit::gradient_descent_mse::weights", "r");
        if (std::isinf(t)) return chol().solve(r);
        const auto& e = eig();
        matrix<T> c = detail::matmul<T>(xt::transpose(e.vectors), r);
        scale_rows(c, [&](double lambda) { return detail::one_minus_exp_over(std::max(lambda, 0.0), flow_time(t)); });
        return detail::matmul<T>(e.vectors, c);
    }

    const basic_eigh_result<T>& eig() const {
        if (!eig_) eig_ = eigh<T>(ntk_, regularization{shift_, true});
        return *eig_;
    }
    const basic_cholesky_factor<T>& chol() const {
        if (!chol_) chol_.emplace(ntk_, regularization{shift_, true});
        return *chol_;
    }

private:
    void check_time(double t, const char* fn) const {
        require(t >= 0 && !std::isnan(t), "limit::gradient_descent_mse::", fn, ": time must be >= 0 (or infinite_time), got ", t);
    }
    matrix<T> initial(const std::optional<matrix<T>>& f0, std::size_t rows, const char* what) const {
        if (!f0) return xt::zeros<T>(y_.shape());
        require_shape(*f0, rows, y_.shape()[1], "limit::gradient_descent_mse", what);
        require_finite(*f0, "limit::gradient_descent_mse", what);
        return *f0;
    }
    template <class F>
    void scale_rows(matrix<T>& c, F factor) const {
        const auto& e = eig();
        for (std::size_t i = 0; i < c.shape()[0]; ++i) {
            const double s = factor(e.values(i));
            for (std::size_t j = 0; j < c.shape()[1]; ++j) c(i, j) *= s;
        }
    }

    matrix<T> ntk_, y_;
    gd_options opt_;
    double normaliser_ = 1, shift_ = 0;
    mutable std::optional<basic_eigh_result<T>> eig_;
    mutable std::optional<basic_cholesky_factor<T>> chol_;
};
using gradient_descent_mse = basic_gradient_descent_mse<double>;

// Mean and covariance of a Gaussian prediction.
template <class T = double>
struct basic_gaussian_prediction {
    matrix<T> mean;        // p×k
    matrix<T> covariance;  // p×p (shared by the k outputs); empty if not asked for
};
using gaussian_prediction = basic_gaussian_prediction<double>;

// GP posterior with prior kernel K: mean K_{*D}K⁻¹y, covariance K_** − K_{*D}K⁻¹K_{D*} (NNGP inference with the
// NNGP, NT's "ntkgp" with the NTK). Pass K_** to get the covariance. Cholesky with diag_reg.
template <class T = double>
basic_gaussian_prediction<T> gp_posterior(const detail::fixed_matrix<T>& k_train_train, const detail::fixed_matrix<T>& y_train,
                                          const detail::fixed_matrix<T>& k_test_train,
                                          const std::optional<detail::fixed_matrix<T>>& k_test_test = std::nullopt,
                                          const regularization& reg = {}) {
    const char* where = "limit::gp_posterior";
    detail::require_square(k_train_train, where);
    const std::size_t m = k_train_train.shape()[0];
    require_shape(y_train, m, any_size, where, "y_train");
    require_shape(k_test_train, any_size, m, where, "K_*D");
    require_finite(y_train, where, "y_train");
    require_finite(k_test_train, where, "K_*D");
    const basic_cholesky_factor<T> chol(k_train_train, reg);
    basic_gaussian_prediction<T> out;
    out.mean = detail::matmul<T>(k_test_train, chol.solve(y_train));
    if (k_test_test) {
        require_shape(*k_test_test, k_test_train.shape()[0], k_test_train.shape()[0], where, "K_**");
        const matrix<T> w = chol.solve(matrix<T>(xt::transpose(k_test_train)));
        out.covariance = *k_test_test - detail::matmul<T>(k_test_train, w);
    }
    return out;
}

// The infinite ensemble of NTK-trained networks at time t (Lee et al. 2019, Eqs. 14–16): initial outputs drawn
// from GP(0, K) (NNGP), trained with the NTK Θ. A_t = Θ_{*D}Θ⁻¹(I − e^{−Θt'});
// mean A_t y, covariance K_** + A_t K A_tᵀ − (A_t K_{D*} + K_{*D} A_tᵀ).
template <class T = double>
basic_gaussian_prediction<T> ntk_ensemble(const basic_gradient_descent_mse<std::type_identity_t<T>>& flow,
                                          const detail::fixed_matrix<T>& ntk_test_train, const detail::fixed_matrix<T>& nngp_train_train,
                                          const detail::fixed_matrix<T>& nngp_test_train, const detail::fixed_matrix<T>& nngp_test_test,
                                          const detail::fixed_matrix<T>& y_train, double t) {
    const char* where = "limit::ntk_ensemble";
    const std::size_t m = flow.m(), p = ntk_test_train.shape()[0];
    require_shape(ntk_test_train, any_size, m, where, "Θ_*D");
    require_shape(nngp_train_train, m, m, where, "K_DD");
    require_shape(nngp_test_train, p, m, where, "K_*D");
    require_shape(nngp_test_test, p, p, where, "K_**");
    // A_tᵀ = (I − e^{−Θt'})Θ⁻¹ Θ_{D*}  (Θ symmetric)
    const matrix<T> at_t = flow.weights(matrix<T>(xt::transpose(ntk_test_train)), t);
    const matrix<T> a = xt::transpose(at_t);
    basic_gaussian_prediction<T> out;
    out.mean = detail::matmul<T>(a, y_train);
    const matrix<T> akdt = detail::matmul<T>(a, matrix<T>(xt::transpose(nngp_test_train)));
    out.covariance = nngp_test_test + detail::matmul<T>(detail::matmul<T>(a, nngp_train_train), at_t) - akdt - xt::transpose(akdt);
    return out;
}

// The largest stable learning rate of full-batch gradient descent on the NTK: 2(1 + momentum)·N/λ_max(Θ_DD),
// N = m·k (pass it: neural-tangents infers it from the kernel's rows, which is wrong by k under trace_axes).
template <class T = double>
double max_learning_rate(const detail::fixed_matrix<T>& ntk_train_train, std::size_t n_targets, double momentum = 0.0) {
    detail::require_square(ntk_train_train, "limit::max_learning_rate");
    require(n_targets > 0, "limit::max_learning_rate: N = m·k must be positive");
    const auto e = eigh<T>(ntk_train_train);
    const double lmax = static_cast<double>(e.values(e.values.size() - 1));
    require<numerical_error>(lmax > 0, "limit::max_learning_rate: the kernel's largest eigenvalue is ", lmax, ", not positive");
    return 2 * (1 + momentum) * static_cast<double>(n_targets) / lmax;
}

// Matrix-free kernel regression: α = (K + shift·I)⁻¹ y by block-Jacobi-preconditioned CG, where K·v is computed
// block by block from a symmetric kernel_plan and never stored (memory O(m·k + block²)); `use_ntk` picks Θ or Σ.
// Each CG iteration recomputes the kernel, so this pays when m² doubles do not fit in memory.
template <class Plan>
matrix<double> matrix_free_solve(const Plan& plan, bool use_ntk, const matrix<double>& y, const regularization& reg = {},
                                 const cg_options& opt = {}) {
    const char* where = "limit::matrix_free_solve";
    require(plan.symmetric(), where, ": needs a symmetric kernel_plan (built from the training inputs alone)");
    require(!use_ntk || plan.config().compute_ntk, where, ": the plan was built with compute_ntk = false");
    const std::size_t m = plan.rows(), bs = std::max<std::size_t>(plan.config().block, 8);
    require_shape(y, m, any_size, where, "y");
    using T = typename Plan::value_type;
    const auto& var = plan.row_variances();
    const std::size_t depth = static_cast<std::size_t>(plan.depth()), diag_row = use_ntk ? depth + 1 : depth;
    double trace = 0;
    for (std::size_t i = 0; i < m; ++i) trace += static_cast<double>(var(diag_row, i));
    const double shift = diagonal_shift(reg, trace, m);
    const auto fetch = [&](std::size_t r0, std::size_t r1, std::size_t c0, std::size_t c1) {
        auto b = plan.block(r0, r1, c0, c1);
        return use_ntk ? std::move(b.ntk) : std::move(b.nngp);
    };
    const linear_operator apply = [&](const double* x, double* out) {
        std::fill(out, out + m, 0.0);
        for (std::size_t r = 0; r < m; r += bs) {
            const std::size_t r1 = std::min(r + bs, m);
            for (std::size_t c = 0; c < m; c += bs) {
                const std::size_t c1 = std::min(c + bs, m);
                const matrix<T> blk = fetch(r, r1, c, c1);
                for (std::size_t i = r; i < r1; ++i) {
                    double s = 0;
                    for (std::size_t j = c; j < c1; ++j) s += static_cast<double>(blk(i - r, j - c)) * x[j];
                    out[i] += s;
                }
            }
            for (std::size_t i = r; i < r1; ++i) out[i] += shift * x[i];
        }
    };
    const block_jacobi pre(m, bs, [&](std::size_t r0, std::size_t r1) {
        matrix<double> blk = xt::cast<double>(fetch(r0, r1, r0, r1));
        detail::add_to_diagonal(blk, shift);
        return blk;
    });
    const linear_operator precondition = [&pre](const double* x, double* out) { pre(x, out); };
    matrix<double> alpha = xt::zeros<double>(y.shape());
    for (std::size_t col = 0; col < y.shape()[1]; ++col) {
        const cg_result res = conjugate_gradient(m, apply, column(y, col), precondition, opt);
        set_column(alpha, col, res.x);
    }
    return alpha;
}

}  // namespace widenn::limit
