// limit/predict.hpp and limit/solvers.hpp: gradient flow against its t -> ∞ limit, Euler integration and SGD on a
// wide nn::mlp; GP posterior and ensemble identities; maximum learning rate; Cholesky, eigh, CG; errors.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <type_traits>

#include <xtensor/xview.hpp>

#include <widenn/act/activations.hpp>
#include <widenn/core/rng.hpp>
#include <widenn/limit/kernel.hpp>
#include <widenn/limit/predict.hpp>
#include <widenn/limit/solvers.hpp>
#include <widenn/nn/loss.hpp>
#include <widenn/nn/mlp.hpp>
#include <widenn/nn/optim.hpp>

namespace wn = widenn;
namespace lim = widenn::limit;
namespace act = widenn::act;
using wn::matrix;

namespace {
matrix<double> dot(const matrix<double>& a, const matrix<double>& b) { return lim::detail::matmul(a, b); }
double max_abs(const matrix<double>& a) { return xt::amax(xt::abs(a))(); }

// Kernels on 8 train and 3 test points (relu NTK and NNGP, depth 2), rows 0..7 train, 8..10 test.
struct fixture {
    matrix<double> x = widenn::normal_matrix(11, 4, 21);
    lim::kernel_pair<double> k = lim::kernel<wn::param::ntk, act::relu, 2>::kernels(x, {.weight_var = 2.0, .bias_var = 0.1});
    matrix<double> ntk_dd = xt::view(k.ntk, xt::range(0, 8), xt::range(0, 8));
    matrix<double> ntk_td = xt::view(k.ntk, xt::range(8, 11), xt::range(0, 8));
    matrix<double> nngp_dd = xt::view(k.nngp, xt::range(0, 8), xt::range(0, 8));
    matrix<double> nngp_td = xt::view(k.nngp, xt::range(8, 11), xt::range(0, 8));
    matrix<double> nngp_tt = xt::view(k.nngp, xt::range(8, 11), xt::range(8, 11));
    matrix<double> y = widenn::normal_matrix(8, 2, 22);
};
}  // namespace

TEST_CASE("predict: t = ∞ equals the Cholesky solution; large finite t approaches it") {
    fixture f;
    const lim::gradient_descent_mse gd(f.ntk_dd, f.y, {.lr = 1.0});
    const matrix<double> direct = dot(f.ntk_td, lim::cholesky_factor(f.ntk_dd).solve(f.y));
    const matrix<double> inf = gd.test(f.ntk_td, lim::infinite_time);
    CHECK(max_abs(inf - direct) <= 1e-10 * max_abs(direct));
    CHECK(max_abs(gd.test(f.ntk_td, 1e9) - direct) <= 1e-8 * max_abs(direct));
    CHECK(max_abs(gd.train(lim::infinite_time) - f.y) == 0.0);
    CHECK(max_abs(gd.train(1e9) - f.y) <= 1e-8);
    // t = 0: nothing has moved
    CHECK(max_abs(gd.test(f.ntk_td, 0.0)) == 0.0);
}

TEST_CASE("predict: finite t agrees with small-step Euler integration of the gradient-flow ODE") {
    fixture f;
    const double lr = 0.7, steps = 40;
    const lim::gradient_descent_mse gd(f.ntk_dd, f.y, {.lr = lr});
    const matrix<double> f0_train = widenn::normal_matrix(8, 2, 23), f0_test = widenn::normal_matrix(3, 2, 24);
    // d f_D / dt' = −Θ (f_D − y),  d f_* / dt' = −Θ_{*D} (f_D − y),  t' = η t / N
    const double t_flow = gd.flow_time(steps);
    CHECK(t_flow == doctest::Approx(lr * steps / 16.0));
    auto euler = [&](int substeps) {
        const double h = t_flow / substeps;
        matrix<double> fd = f0_train, ft = f0_test;
        for (int s = 0; s < substeps; ++s) {
            const matrix<double> r = fd - f.y;
            ft -= h * dot(f.ntk_td, r);
            fd -= h * dot(f.ntk_dd, r);
        }
        return std::pair{fd, ft};
    };
    // Euler is first order: the error at step h/2 is about the difference between the runs at h and h/2 (Richardson).
    const auto [fd1, ft1] = euler(20000);
    const auto [fd2, ft2] = euler(40000);
    const double err_train = max_abs(fd1 - fd2), err_test = max_abs(ft1 - ft2);
    CHECK(max_abs(gd.train(steps, f0_train) - fd2) <= 2 * err_train + 1e-12);
    CHECK(max_abs(gd.test(f.ntk_td, steps, f0_test, f0_train) - ft2) <= 2 * err_test + 1e-12);
    CHECK(err_train < 1e-3 * max_abs(f.y));  // the check is sharp: the integration error is small
}

TEST_CASE("predict: SGD on a width-4096 NTK-parametrized nn::mlp follows the analytic prediction") {
    constexpr std::size_t width = 4096;
    const matrix<double> x = widenn::normal_matrix(6, 3, 31), y = widenn::normal_matrix(4, 1, 32);
    const matrix<double> x_train = xt::view(x, xt::range(0, 4), xt::all());
    const double wv = 2.0, bv = 0.1;
    wn::nn::mlp<wn::param::ntk, act::relu, 1, double> net(
        {.d_in = 3, .width = width, .d_out = 1, .weight_var = wv, .bias_var = bv, .constants = wn::nn::constants_in::multiplier, .seed = 5});
    const matrix<double> f0 = net.forward(x);
    const auto k = lim::kernel<wn::param::ntk, act::relu, 1>::kernels(x, {.weight_var = wv, .bias_var = bv});
    const matrix<double> ntk_dd = xt::view(k.ntk, xt::range(0, 4), xt::range(0, 4));
    const matrix<double> ntk_all_d = xt::view(k.ntk, xt::all(), xt::range(0, 4));
    const double lr = 0.1 * lim::max_learning_rate(ntk_dd, 4);  // ηλ_max/N = 0.2
    const int steps = 40;
    wn::nn::sgd<decltype(net)> opt(net, {.lr = lr});
    matrix<double> grad;
    for (int s = 0; s < steps; ++s) {
        const matrix<double> out = net.forward(x_train);
        wn::nn::mse::value_and_gradient(out, y, grad);
        opt.step(net.backward(x_train, grad));
    }
    const matrix<double> trained = net.forward(x);
    const lim::gradient_descent_mse gd(ntk_dd, y, {.lr = lr});
    const matrix<double> f0_train = xt::view(f0, xt::range(0, 4), xt::all());
    const matrix<double> predicted = gd.test(ntk_all_d, steps, f0, f0_train);
    // The finite network's NTK differs from the limit by O(1/√n) ≈ 1.6%, and gradient descent from gradient flow by
    // O(ηλ/N): 5% of the movement (neural-tangents' predict tests use the same order of tolerance at this width).
    const double moved = max_abs(trained - f0);
    CHECK(moved > 0.3);
    CHECK(max_abs(trained - predicted) <= 0.05 * moved);
}

TEST_CASE("predict: GP posterior, NTK ensemble and readout-only identities") {
    fixture f;
    // NNGP posterior against an explicit inverse
    const auto post = lim::gp_posterior(f.nngp_dd, f.y, f.nngp_td, f.nngp_tt);
    const auto eig_k = lim::eigh(f.nngp_dd);  // explicit inverse V diag(1/λ) Vᵀ
    matrix<double> inv_eig = eig_k.vectors;
    for (std::size_t j = 0; j < 8; ++j) xt::view(inv_eig, xt::all(), j) /= eig_k.values(j);
    const matrix<double> inv = dot(inv_eig, xt::transpose(eig_k.vectors));
    CHECK(max_abs(post.mean - dot(f.nngp_td, dot(inv, f.y))) <= 1e-9 * max_abs(post.mean));
    const matrix<double> cov = f.nngp_tt - dot(f.nngp_td, dot(inv, xt::transpose(f.nngp_td)));
    CHECK(max_abs(post.covariance - cov) <= 1e-9 * max_abs(f.nngp_tt));
    // training points as test points: the posterior interpolates and has zero variance
    const auto self = lim::gp_posterior(f.nngp_dd, f.y, f.nngp_dd, f.nngp_dd);
    CHECK(max_abs(self.mean - f.y) <= 1e-8);
    CHECK(max_abs(self.covariance) <= 1e-8 * max_abs(f.nngp_dd));
    // ensemble at t = 0: mean 0, covariance the prior K_**
    const lim::gradient_descent_mse gd(f.ntk_dd, f.y);
    const auto e0 = lim::ntk_ensemble(gd, f.ntk_td, f.nngp_dd, f.nngp_td, f.nngp_tt, f.y, 0.0);
    CHECK(max_abs(e0.mean) == 0.0);
    CHECK(max_abs(e0.covariance - f.nngp_tt) <= 1e-14);
    // readout-only training (Θ = K): covariance K_** − K_{*D}K⁻¹(I − e^{−2Kt'})K_{D*} (docs/theory/kernel-limits.md §5)
    const lim::gradient_descent_mse readout(f.nngp_dd, f.y);
    const double t = 5.0;
    const auto e = lim::ntk_ensemble(readout, f.nngp_td, f.nngp_dd, f.nngp_td, f.nngp_tt, f.y, t);
    const auto eig = lim::eigh(f.nngp_dd);
    matrix<double> middle = xt::zeros<double>({8, 8});  // K⁻¹(I − e^{−2Kt'})
    for (std::size_t i = 0; i < 8; ++i) middle(i, i) = -std::expm1(-2 * eig.values(i) * readout.flow_time(t)) / eig.values(i);
    const matrix<double> expected =
        f.nngp_tt - dot(f.nngp_td, dot(eig.vectors, dot(middle, dot(xt::transpose(eig.vectors), xt::transpose(f.nngp_td)))));
    CHECK(max_abs(e.covariance - expected) <= 1e-9 * max_abs(f.nngp_tt));
    // t = ∞ ensemble mean = NTK-GP posterior mean
    const auto einf = lim::ntk_ensemble(gd, f.ntk_td, f.nngp_dd, f.nngp_td, f.nngp_tt, f.y, lim::infinite_time);
    CHECK(max_abs(einf.mean - lim::gp_posterior(f.ntk_dd, f.y, f.ntk_td).mean) <= 1e-9 * max_abs(einf.mean));
}

TEST_CASE("predict: 0.99·η_max converges and 1.01·η_max diverges") {
    fixture f;
    const std::size_t n_targets = f.y.size();
    const double eta_max = lim::max_learning_rate(f.ntk_dd, n_targets);
    for (const double factor : {0.99, 1.01}) {
        matrix<double> out = xt::zeros<double>(f.y.shape());
        for (int s = 0; s < 6000; ++s) out -= factor * eta_max / double(n_targets) * dot(f.ntk_dd, out - f.y);
        if (factor < 1)
            CHECK(max_abs(out - f.y) < 1e-6);
        else
            CHECK(max_abs(out - f.y) > 1.0);
    }
}

TEST_CASE("solvers: Cholesky, eigh and CG agree; diag_reg conventions; breakdown says how to regularise") {
    fixture f;
    const lim::regularization rel{.diag_reg = 1e-3}, abs{.diag_reg = 1e-3, .absolute = true};
    double trace = 0;
    for (std::size_t i = 0; i < 8; ++i) trace += f.ntk_dd(i, i);
    CHECK(lim::cholesky_factor(f.ntk_dd, rel).shift() == doctest::Approx(1e-3 * trace / 8));
    CHECK(lim::cholesky_factor(f.ntk_dd, abs).shift() == 1e-3);
    const lim::cholesky_factor chol(f.ntk_dd, rel);
    const matrix<double> x_chol = chol.solve(f.y);
    const matrix<double> l = chol.lower();
    CHECK(max_abs(dot(l, xt::transpose(l)) - (f.ntk_dd + chol.shift() * xt::eye(8))) <= 1e-12 * max_abs(f.ntk_dd));
    const auto e = lim::eigh(f.ntk_dd, rel);
    matrix<double> scaled = e.vectors;
    for (std::size_t j = 0; j < 8; ++j) xt::view(scaled, xt::all(), j) *= e.values(j);
    CHECK(max_abs(dot(scaled, xt::transpose(e.vectors)) - (f.ntk_dd + chol.shift() * xt::eye(8))) <= 1e-12 * max_abs(f.ntk_dd));
    for (std::size_t j = 1; j < 8; ++j) CHECK(e.values(j) >= e.values(j - 1));
    matrix<double> reg = f.ntk_dd + chol.shift() * xt::eye(8);
    const wn::vector<double> b = xt::view(f.y, xt::all(), 0);
    const auto cg = lim::conjugate_gradient(8, lim::dense_operator(reg), b);
    CHECK(cg.converged);
    CHECK(max_abs(matrix<double>(xt::reshape_view(cg.x, {8, 1})) - matrix<double>(xt::view(x_chol, xt::all(), xt::range(0, 1)))) <=
          1e-8 * max_abs(x_chol));
    // a singular matrix: Cholesky fails with advice, CG reports non-convergence or breakdown
    matrix<double> singular = xt::ones<double>({4, 4});
    singular(0, 0) = 0.5;
    CHECK_THROWS_AS(lim::cholesky_factor{singular}, wn::numerical_error);
    CHECK_THROWS_WITH(lim::cholesky_factor{singular}, doctest::Contains("diag_reg"));
    CHECK_THROWS_AS(lim::cholesky_factor(xt::ones<double>({3, 2})), wn::shape_error);
    CHECK_THROWS_AS(lim::gradient_descent_mse(f.ntk_dd, widenn::normal_matrix(7, 1, 1)), wn::shape_error);
    CHECK_THROWS_AS(lim::gradient_descent_mse(f.ntk_dd, f.y).test(f.ntk_td, -1.0), wn::error);
}

TEST_CASE("solvers: matrix-free block-Jacobi CG over kernel blocks equals the dense Cholesky solve") {
    const matrix<double> x = widenn::normal_matrix(70, 5, 41), y = widenn::normal_matrix(70, 2, 42);
    using K = lim::kernel<wn::param::ntk, act::erf<>, 2>;
    const lim::kernel_config c{.weight_var = 1.5, .bias_var = 0.1, .block = 16};
    const lim::regularization reg{.diag_reg = 1e-4};
    const auto plan = K::plan(x, c);
    const matrix<double> alpha = lim::matrix_free_solve(plan, true, y, reg, {.tolerance = 1e-11});
    const matrix<double> dense = lim::cholesky_factor(K::kernels(x, c).ntk, reg).solve(y);
    CHECK(max_abs(alpha - dense) <= 1e-7 * max_abs(dense));
    const matrix<double> alpha_nngp = lim::matrix_free_solve(plan, false, y, reg, {.tolerance = 1e-11});
    const matrix<double> dense_nngp = lim::cholesky_factor(K::kernels(x, c).nngp, reg).solve(y);
    CHECK(max_abs(alpha_nngp - dense_nngp) <= 1e-7 * max_abs(dense_nngp));
}

TEST_CASE("solvers: the float Cholesky factor and eigh agree with the double ones to float accuracy") {
    // A = X Xᵀ/10 + I (6×6): eigenvalues in [1, ~4.2], so cond(A) < 5 and float results are within ~m·cond·eps_float of double
    const matrix<double> x = widenn::normal_matrix(6, 10, 5);
    const matrix<double> a = dot(x, xt::transpose(x)) / 10.0 + xt::eye(6);
    const matrix<double> rhs = widenn::normal_matrix(6, 2, 6);
    const lim::cholesky_factor chol(a);
    const lim::basic_cholesky_factor<float> chol_f(xt::cast<float>(a));
    const matrix<double> x_d = chol.solve(rhs), x_f = xt::cast<double>(chol_f.solve(matrix<float>(xt::cast<float>(rhs))));
    const double eps = std::numeric_limits<float>::epsilon();
    CHECK(max_abs(x_f - x_d) <= 6 * 5 * eps * max_abs(x_d));
    CHECK(max_abs(x_f - x_d) > 0);  // really solved in float
    CHECK(chol_f.log_det() == doctest::Approx(chol.log_det()).epsilon(6 * 5 * eps));
    const auto e = lim::eigh(a);
    const auto e_f = lim::eigh<float>(xt::cast<float>(a));
    static_assert(std::is_same_v<decltype(e_f.values)::value_type, float>);
    CHECK(max_abs(matrix<double>(xt::reshape_view(xt::cast<double>(e_f.values) - e.values, {6, 1}))) <= 6 * eps * e.values(5));
    // the float matrix is not positive definite: the same advice as in double
    matrix<float> singular = xt::ones<float>({3, 3});
    CHECK_THROWS_WITH(lim::basic_cholesky_factor<float>{singular}, doctest::Contains("diag_reg"));
}
