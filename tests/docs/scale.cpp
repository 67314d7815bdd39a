// The ```cpp block of docs/scale.md, compiled and run (the convention of tests/docs: the block is pasted verbatim between
// "// BEGIN docs/scale.md block <n>" and "// END docs/scale.md block <n>" at column 0, preceded by the inputs the page's
// text describes and followed by checks of what the block's comments claim). Change the page and this file together.
#include <cmath>
#include <cstddef>

#include <xtensor/xtensor.hpp>

#include <widenn/act/activations.hpp>
#include <widenn/core/rng.hpp>
#include <widenn/limit/kernel.hpp>
#include <widenn/limit/pcg.hpp>
#include <widenn/limit/solvers.hpp>

#include <doctest/doctest.h>

TEST_CASE("docs/scale.md block 1: kernel ridge regression with the solver chosen from the memory, or forced") {
    // 300 training points in R^20 and 3 targets (the page leaves them open)
    const widenn::matrix<double> x_train = widenn::normal_matrix(300, 20, 1), y_train = widenn::normal_matrix(300, 3, 2);

// BEGIN docs/scale.md block 1 (verbatim: change the page and this copy together)
#include <widenn/limit/kernel.hpp>
#include <widenn/limit/pcg.hpp>
namespace lim = widenn::limit;

const auto plan = lim::kernel<widenn::param::ntk, widenn::act::relu, 3>::plan(x_train, {.weight_var = 2.0, .bias_var = 0.01});
lim::ridge_report report;
const widenn::matrix<double> alpha = lim::kernel_ridge(      // (Θ + λI)⁻¹ Y, all columns at once
    plan, /*use_ntk=*/true, y_train,
    {.reg = {.diag_reg = 1e-4},                              // λ = 1e-4 · mean diagonal
     .solver = lim::ridge_solver::pcg,                       // default: automatic (Cholesky if it fits in memory)
     .float_store = true,                                    // the kernel in float (half the memory), products in double
     .rank = 100,                                            // Nyström landmarks
     .pcg = {.tolerance = 1e-10}},                           // per column: ‖y − (Θ + λI)α‖ ≤ 1e-10 ‖y‖
    &report);
// report.iterations, report.relative_residual (the true residual), report.plan.bytes (the memory it planned)
// END docs/scale.md block 1

    // the comments' claims: the true residual meets the tolerance (within the factor 10 the solver allows), and the
    // solution is the exact one up to the float rounding of the kernel's entries
    CHECK(report.plan.solver == lim::ridge_solver::pcg);
    CHECK(report.relative_residual <= 1e-9);
    CHECK(report.iterations > 0);
    const widenn::matrix<double> exact = lim::cholesky_factor(lim::kernel<widenn::param::ntk, widenn::act::relu, 3>::kernels(
                                                                  x_train, {.weight_var = 2.0, .bias_var = 0.01}).ntk,
                                                              {.diag_reg = 1e-4})
                                             .solve(y_train);
    CHECK(xt::amax(xt::abs(alpha - exact))() <= 1e-5 * xt::amax(xt::abs(exact))());
    CHECK(report.plan.bytes >= 300 * 300 * sizeof(float));
}
