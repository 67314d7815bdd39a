// limit/pcg.hpp: the kernel store (float and double), the Nyström preconditioner, multi-column PCG against the exact
// Cholesky solve, the automatic solver choice and its errors.
#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include <xtensor/xview.hpp>

#include <widenn/act/activations.hpp>
#include <widenn/core/rng.hpp>
#include <widenn/limit/kernel.hpp>
#include <widenn/limit/pcg.hpp>
#include <widenn/limit/predict.hpp>
#include <widenn/limit/solvers.hpp>

namespace wn = widenn;
namespace lim = widenn::limit;
using wn::matrix;

namespace {

double max_abs(const matrix<double>& a) { return xt::amax(xt::abs(a))(); }

using K = lim::kernel<wn::param::ntk, wn::act::relu, 3>;
const lim::kernel_config config{.weight_var = 2.0, .bias_var = 0.01};

// Clustered data like images: 10 class centres in R^d, points scattered around them, rows normalised to norm √d.
struct problem {
    matrix<double> x, x_test, y;
    explicit problem(std::size_t n, std::size_t p = 50, std::uint64_t seed = 3, std::size_t d = 30, double spread = 0.7) {
        const matrix<double> centres = wn::normal_matrix(10, d, seed);
        wn::rng g(seed + 1);
        const auto make = [&](std::size_t rows, matrix<double>& out, matrix<double>* targets) {
            out = wn::normal_matrix(rows, d, g.next_u64(), spread);
            if (targets) *targets = xt::full_like(matrix<double>::from_shape({rows, std::size_t{10}}), -0.1);
            for (std::size_t i = 0; i < rows; ++i) {
                const std::size_t c = g.below(10);
                double norm = 0;
                for (std::size_t k = 0; k < d; ++k) norm += (out(i, k) += centres(c, k)) * out(i, k);
                for (std::size_t k = 0; k < d; ++k) out(i, k) *= std::sqrt(static_cast<double>(d) / norm);
                if (targets) (*targets)(i, c) += 1.0;
            }
        };
        make(n, x, &y);
        make(p, x_test, nullptr);
    }
};

}  // namespace

TEST_CASE("pcg: the kernel store equals the computed kernel; float products accumulate in double") {
    const problem pr(300);
    const auto plan = K::plan(pr.x, config);
    const matrix<double> exact = K::kernels(pr.x, config).ntk;
    const auto d = lim::store_kernel<double>(plan, true);
    const auto f = lim::store_kernel<float>(plan, true);
    CHECK(max_abs(d.data() - exact) <= 1e-14 * max_abs(exact));  // the same recursion, Gram blocks of other sizes
    CHECK(max_abs(xt::cast<double>(f.data()) - exact) <= 6e-8 * max_abs(exact));  // float rounding of each entry
    CHECK(max_abs(xt::cast<double>(f.data()) - xt::transpose(xt::cast<double>(f.data()))) == 0.0);
    // Y = (K + 0.5 I) X: the double store is dgemm; the float store equals the product of its widened entries to double
    // rounding (a float accumulation would be off by ~1e-6)
    const matrix<double> xin = wn::normal_matrix(300, 7, 5);
    matrix<double> yd, yf;
    d.apply(xin, yd, 0.5);
    f.apply(xin, yf, 0.5);
    const matrix<double> widened = xt::cast<double>(f.data());
    const matrix<double> want_d = lim::detail::matmul(exact, xin) + 0.5 * xin, want_f = lim::detail::matmul(widened, xin) + 0.5 * xin;
    CHECK(max_abs(yd - want_d) <= 1e-13 * max_abs(want_d));
    CHECK(max_abs(yf - want_f) <= 1e-13 * max_abs(want_f));
    const auto cols = f.columns({0, 17, 299});
    for (std::size_t i = 0; i < 300; ++i) CHECK(cols(i, 1) == static_cast<double>(f.data()(17, i)));
}

TEST_CASE("pcg: block CG runs one CG per column (the same iterates as limit::conjugate_gradient) sharing the products") {
    const problem pr(200);
    matrix<double> a = K::kernels(pr.x, config).ntk;
    lim::detail::add_to_diagonal(a, 1e-2 * lim::detail::trace(a) / 200);
    const matrix<double> b = xt::view(pr.y, xt::all(), xt::range(0, 3));
    std::size_t products = 0;
    const auto single = lim::dense_operator(a);
    const lim::block_operator apply = [&](const matrix<double>& x, matrix<double>& y) {  // column by column: the same arithmetic
        ++products;
        y = xt::zeros_like(x);
        for (std::size_t c = 0; c < x.shape()[1]; ++c) {
            std::vector<double> in(x.shape()[0]), out(x.shape()[0]);
            for (std::size_t i = 0; i < in.size(); ++i) in[i] = x(i, c);
            single(in.data(), out.data());
            for (std::size_t i = 0; i < in.size(); ++i) y(i, c) = out[i];
        }
    };
    const auto res = lim::block_conjugate_gradient(apply, b, {}, {.tolerance = 1e-10});
    CHECK(res.converged);
    std::size_t most = 0;
    for (std::size_t c = 0; c < 3; ++c) {
        const wn::vector<double> bc = xt::view(b, xt::all(), c);
        const auto one = lim::conjugate_gradient(200, lim::dense_operator(a), bc, {}, {.tolerance = 1e-10});
        CHECK(res.column_iterations[c] == one.iterations);
        most = std::max(most, one.iterations);
        const wn::vector<double> xc = xt::view(res.x, xt::all(), c);
        CHECK(xt::amax(xt::abs(xc - one.x))() == 0.0);
    }
    CHECK(res.iterations == most);
    CHECK(products == most + 1);  // one product per iteration for all columns, plus the true-residual check
    CHECK(res.relative_residual <= 1e-9);
}

TEST_CASE("pcg: Nyström-preconditioned CG equals the Cholesky solution to 1e-8 and cuts the iterations") {
    const std::size_t n = 1000;
    const problem pr(n);
    const auto plan = K::plan(pr.x, config);
    const lim::regularization reg{.diag_reg = 1e-4};
    const matrix<double> exact = lim::cholesky_factor(K::kernels(pr.x, config).ntk, reg).solve(pr.y);
    lim::ridge_report rep;
    const matrix<double> alpha = lim::kernel_ridge(
        plan, true, pr.y, {.reg = reg, .solver = lim::ridge_solver::pcg, .float_store = false, .rank = 200, .pcg = {.tolerance = 1e-12}}, &rep);
    CHECK(rep.plan.solver == lim::ridge_solver::pcg);
    const double err = max_abs(alpha - exact) / max_abs(exact);
    MESSAGE("N = 1000, rank 200: PCG vs Cholesky max relative difference ", err, ", ", rep.iterations, " iterations");
    CHECK(err <= 1e-8);
    CHECK(rep.relative_residual <= 1e-11);

    // Iterations with and without the preconditioner, on data of low intrinsic dimension (points in R^3: a fast-decaying
    // spectrum, hard for plain CG, like images), two right-hand sides
    const problem low(1000, 10, 5, 3, 0.3);
    const auto store = lim::store_kernel<double>(K::plan(low.x, config), true);
    const double shift = 1e-4 * store.trace() / n;
    const lim::block_operator apply = [&](const matrix<double>& x, matrix<double>& y) { store.apply(x, y, shift); };
    const matrix<double> b = xt::view(low.y, xt::all(), xt::range(0, 2));
    const auto plain = lim::block_conjugate_gradient(apply, b, {}, {.tolerance = 1e-8, .max_iterations = 5000});
    const lim::nystrom_preconditioner pre(n, 200, shift, [&](const std::vector<std::size_t>& idx) { return store.columns(idx); });
    const auto pcg = lim::block_conjugate_gradient(
        apply, b, [&](const matrix<double>& r, matrix<double>& z) { pre(r, z); }, {.tolerance = 1e-8});
    MESSAGE("iterations to 1e-8: plain CG ", plain.iterations, ", Nyström rank 200 PCG ", pcg.iterations);
    CHECK(pcg.converged);
    CHECK(plain.converged);
    CHECK(5 * pcg.iterations <= plain.iterations);
    CHECK(max_abs(pcg.x - plain.x) <= 1e-6 * max_abs(plain.x));
    CHECK(pre.landmarks().size() == 200);
    CHECK(std::is_sorted(pre.landmarks().begin(), pre.landmarks().end()));
}

TEST_CASE("pcg: float store predictions equal the double ones within 1e-5 relative") {
    const problem pr(800, 200);
    const auto plan = K::plan(pr.x, config);
    const lim::ridge_options base{.reg = {.diag_reg = 1e-4}, .solver = lim::ridge_solver::pcg, .rank = 200, .pcg = {.tolerance = 1e-10}};
    lim::ridge_options in_float = base, in_double = base;
    in_float.float_store = true;
    in_double.float_store = false;
    const matrix<double> af = lim::kernel_ridge(plan, true, pr.y, in_float), ad = lim::kernel_ridge(plan, true, pr.y, in_double);
    const matrix<double> k_test = K::kernels(pr.x_test, pr.x, config).ntk;
    const matrix<double> pf = lim::detail::matmul(k_test, af), pd = lim::detail::matmul(k_test, ad);
    const double err = max_abs(pf - pd) / max_abs(pd);
    MESSAGE("float vs double store: predictions differ by ", err, " relative (max), weights by ", max_abs(af - ad) / max_abs(ad));
    CHECK(err <= 1e-5);
    CHECK(err > 0);  // the stores really differ
}

TEST_CASE("pcg: the solver choice follows the memory, and what cannot run is refused before any work") {
    const std::size_t gb = 1000000000;
    CHECK(lim::plan_ridge(10000, 10, {.memory_bytes = 20 * gb}).solver == lim::ridge_solver::cholesky);
    const auto big = lim::plan_ridge(60000, 10, {.memory_bytes = 20 * gb});
    CHECK(big.solver == lim::ridge_solver::pcg);
    CHECK(big.float_store);
    CHECK(big.bytes < 16 * gb);
    CHECK_THROWS_WITH(lim::plan_ridge(60000, 10, {.solver = lim::ridge_solver::cholesky, .memory_bytes = 20 * gb}),
                      doctest::Contains("the Cholesky solver needs the 60000 x 60000 kernel in double, 29 GB"));
    CHECK_THROWS_WITH(lim::plan_ridge(100, 10, {.solver = lim::ridge_solver::pcg, .rank = 101}),
                      doctest::Contains("rank 101 is larger than the number of training points N = 100"));
    CHECK_THROWS_WITH(lim::plan_ridge(60000, 10, {.solver = lim::ridge_solver::pcg, .float_store = false, .memory_bytes = 20 * gb}),
                      doctest::Contains("or the float store"));
    CHECK_THROWS_WITH(lim::plan_ridge(100, 10, {.reg = {.diag_reg = 0}, .solver = lim::ridge_solver::pcg}),
                      doctest::Contains("needs a positive ridge"));
    CHECK_THROWS_WITH(lim::plan_ridge(2000000, 10, {.memory_bytes = 20 * gb}), doctest::Contains("use fewer training points"));
    // the preconditioner itself
    const auto cols = [](const std::vector<std::size_t>& idx) { return matrix<double>(xt::ones<double>({std::size_t{5}, idx.size()})); };
    CHECK_THROWS_WITH(lim::nystrom_preconditioner(5, 6, 1.0, cols), doctest::Contains("the rank must be in [1, N = 5], got 6"));
    CHECK_THROWS_WITH(lim::nystrom_preconditioner(5, 2, -1.0, cols), doctest::Contains("must be finite and >= 0"));
    // a singular kernel (identical inputs) with no ridge: found before the work, and by the solvers if asked anyway
    problem pr(40);
    xt::view(pr.x, 7, xt::all()) = xt::view(pr.x, 31, xt::all());
    CHECK(lim::find_identical_rows(pr.x) == std::pair<std::size_t, std::size_t>{7, 31});
    CHECK(lim::find_identical_rows(problem(40).x) == std::pair<std::size_t, std::size_t>{0, 0});
    const auto plan = K::plan(pr.x, config);
    CHECK_THROWS_AS(lim::kernel_ridge(plan, true, pr.y, {.reg = {.diag_reg = 0}, .solver = lim::ridge_solver::cholesky}), wn::numerical_error);
    CHECK_THROWS_WITH(lim::kernel_ridge(plan, true, pr.y, {.reg = {.diag_reg = 0}, .solver = lim::ridge_solver::cholesky}),
                      doctest::Contains("singular"));
    // the same kernel with a ridge solves, and the preconditioner copes with the duplicated landmark by its jitter
    CHECK_NOTHROW(lim::kernel_ridge(plan, true, pr.y, {.solver = lim::ridge_solver::pcg, .rank = 40, .pcg = {.tolerance = 1e-8}}));
    // non-convergence is reported, not returned as a solution
    CHECK_THROWS_WITH(lim::kernel_ridge(plan, true, pr.y, {.reg = {.diag_reg = 1e-8}, .solver = lim::ridge_solver::pcg, .rank = 1,
                                                           .pcg = {.tolerance = 1e-12, .max_iterations = 2}}),
                      doctest::Contains("no convergence after 2 iterations"));
    CHECK_THROWS_AS(lim::block_conjugate_gradient([](const matrix<double>& x, matrix<double>& y) { y = -x; }, pr.y),
                    wn::numerical_error);
}
