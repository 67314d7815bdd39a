// limit/pcg.hpp: the Nyström preconditioner applied in row slices (project_rows / correct_rows, as the distributed
// PCG of distributed/pcg.hpp applies it across processes) equals the whole application.
#include <doctest/doctest.h>

#include <cstddef>
#include <vector>

#include <widenn/core/blas.hpp>
#include <widenn/core/rng.hpp>
#include <widenn/limit/pcg.hpp>

namespace wn = widenn;
namespace lim = widenn::limit;
using wn::matrix;

TEST_CASE("pcg: the Nyström preconditioner in row slices equals the whole application") {
    // A positive definite m × m matrix G = AAᵀ/d + I standing in for the kernel.
    const std::size_t m = 300, d = 40, k = 3, rank = 50;
    const matrix<double> a = wn::normal_matrix(m, d, 21);
    matrix<double> g = xt::zeros<double>({m, m});
    wn::blas::gemm(a, a, g, false, true, 1.0 / static_cast<double>(d));
    for (std::size_t i = 0; i < m; ++i) g(i, i) += 1.0;
    const auto columns = [&](const std::vector<std::size_t>& idx) {
        matrix<double> c = matrix<double>::from_shape({m, idx.size()});
        for (std::size_t i = 0; i < m; ++i)
            for (std::size_t j = 0; j < idx.size(); ++j) c(i, j) = g(i, idx[j]);
        return c;
    };
    const lim::nystrom_preconditioner pre(m, rank, 1e-3, columns, 5);
    const matrix<double> r = wn::normal_matrix(m, k, 22);
    matrix<double> whole;
    pre(r, whole);

    // One slice [0, m): the same BLAS calls, the same bits.
    matrix<double> one = xt::zeros<double>({m, k});
    pre.correct_rows(r, pre.project_rows(r, 0, m), one, 0, m);
    CHECK(xt::amax(xt::abs(one - whole))() == 0.0);

    // Three uneven slices: the projections summed, then each slice corrected, as three processes would.
    const std::size_t cut[] = {0, 77, 200, m};
    matrix<double> t = xt::zeros<double>({pre.rank(), k});
    for (std::size_t s = 0; s < 3; ++s) t += pre.project_rows(r, cut[s], cut[s + 1]);
    matrix<double> sliced = xt::zeros<double>({m, k});
    for (std::size_t s = 0; s < 3; ++s) pre.correct_rows(r, t, sliced, cut[s], cut[s + 1]);
    const double err = xt::amax(xt::abs(sliced - whole))() / xt::amax(xt::abs(whole))();
    MESSAGE("row slices vs the whole application: ", err, " relative (max)");
    CHECK(err <= 1e-13);
    CHECK(xt::amax(xt::abs(sliced - r))() > 1e-3);  // the preconditioner really changes R

    // Bad slices and shapes are refused.
    CHECK_THROWS_WITH(pre.project_rows(r, 10, m + 1), doctest::Contains("rows [10, 301) outside [0, 300)"));
    CHECK_THROWS_AS(pre.correct_rows(r, xt::zeros<double>({pre.rank() + 1, k}), sliced, 0, m), wn::shape_error);
}
