// limit::spec_kernel_plan: the kernels of a SPEC as a block source of kernel_ridge. Its blocks are conv_kernel_plan's
// entries exactly; a dense-only SPEC is the MLP's kernel_plan (kernels and ridge predictions to 1e-10, Cholesky and
// PCG); on a pooled CNN SPEC Cholesky and PCG predict alike. limit::stream_row_blocks hands over any plan's rows in
// order, equal to the kernels computed whole.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include <widenn/act/activations.hpp>
#include <widenn/core/rng.hpp>
#include <widenn/limit/conv_kernel.hpp>
#include <widenn/limit/kernel.hpp>
#include <widenn/limit/pcg.hpp>
#include <widenn/limit/predict.hpp>
#include <widenn/limit/spec_plan.hpp>
#include <widenn/limit/stream.hpp>
#include <widenn/nn/spec.hpp>
#include <widenn/param/abc.hpp>

namespace {

namespace wn = widenn;
namespace lim = widenn::limit;
namespace nn = widenn::nn;
using wn::matrix;

matrix<double> gaussian(std::size_t n, std::size_t d, std::uint64_t seed) {
    wn::rng g(seed);
    matrix<double> x = xt::empty<double>({n, d});
    for (auto& v : x) v = g.normal();
    return x;
}

double max_abs(const matrix<double>& a) {
    double m = 0;
    for (double v : a) m = std::max(m, std::abs(v));
    return m;
}
double max_abs_diff(const matrix<double>& a, const matrix<double>& b) {
    REQUIRE(a.shape() == b.shape());
    double m = 0;
    for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(a.data()[i] - b.data()[i]));
    return m;
}

// One-hot − 0.1 targets of n points in k classes.
matrix<double> targets(std::size_t n, std::size_t k) {
    matrix<double> y = xt::full_like(matrix<double>::from_shape({n, k}), -0.1);
    for (std::size_t i = 0; i < n; ++i) y(i, (i * 7) % k) += 1.0;
    return y;
}

lim::ridge_options solver(lim::ridge_solver s) {
    lim::ridge_options r;
    r.solver = s;
    r.float_store = false;
    r.pcg = {.tolerance = 1e-12, .max_iterations = 1000};
    return r;
}

}  // namespace

TEST_CASE("spec_kernel_plan of a dense-only SPEC is the MLP's kernel_plan: kernels and ridge predictions (Cholesky, PCG) to 1e-10") {
    const matrix<double> x = gaussian(40, 6, 1), x_test = gaussian(15, 6, 2);
    const matrix<double> y = targets(40, 3);
    lim::kernel_config c{.weight_var = 2.0, .bias_var = 0.01};
    const lim::spec_kernel_plan<double> spec_train(nn::parse_spec("dense,relu,dense,relu"), x, {}, c);
    const lim::kernel_plan<wn::param::ntk, wn::act::relu, double> mlp_train(x, 2, c);
    const auto ks = spec_train.compute(), km = mlp_train.compute();
    CHECK(max_abs_diff(ks.nngp, km.nngp) <= 1e-12 * max_abs(km.nngp));
    CHECK(max_abs_diff(ks.ntk, km.ntk) <= 1e-12 * max_abs(km.ntk));
    for (auto s : {lim::ridge_solver::cholesky, lim::ridge_solver::pcg}) {
        CAPTURE(static_cast<int>(s));
        for (bool ntk : {true, false}) {
            const matrix<double> a_spec = lim::kernel_ridge(spec_train, ntk, y, solver(s));
            const matrix<double> a_mlp = lim::kernel_ridge(mlp_train, ntk, y, solver(s));
            const auto bs = lim::spec_kernel_plan<double>(nn::parse_spec("dense,relu,dense,relu"), x_test, x, {}, c).compute();
            const auto bm = lim::kernel_plan<wn::param::ntk, wn::act::relu, double>(x_test, x, 2, c).compute();
            const matrix<double> p_spec = lim::detail::matmul(ntk ? bs.ntk : bs.nngp, a_spec);
            const matrix<double> p_mlp = lim::detail::matmul(ntk ? bm.ntk : bm.nngp, a_mlp);
            CHECK(max_abs_diff(p_spec, p_mlp) <= 1e-10);
            CHECK(max_abs(p_mlp) > 0.1);
        }
    }
}

TEST_CASE("spec_kernel_plan's blocks are conv_kernel_plan's entries exactly (any tiling, symmetric and cross), and store_kernel assembles them (to rounding)") {
    const nn::spec s = nn::parse_spec("conv:3,relu,avgpool:2,conv:2:valid,relu,gap");
    const matrix<double> x = gaussian(9, 5 * 5 * 2, 3), x2 = gaussian(4, 5 * 5 * 2, 4);
    const lim::kernel_config c{.weight_var = 1.5, .bias_var = 0.1};
    const lim::spec_input in{5, 5, 2};
    const lim::spec_kernel_plan<double> sym(s, x, in, c), cross(s, x2, x, in, c);
    const auto images = [](const matrix<double>& m) {
        return xt::xarray<double>(xt::adapt(m.data(), m.size(), xt::no_ownership(), std::vector<std::size_t>{m.shape()[0], 5, 5, 2}));
    };
    const auto full = lim::conv_kernel_plan<double>(s, images(x), c).compute();
    const auto full_cross = lim::conv_kernel_plan<double>(s, images(x2), images(x), c).compute();
    // a 3 x 4 tile at (2, 5)
    std::vector<double> nngp(12), ntk(12);
    sym.block_into(2, 5, 5, 9, nngp.data(), 4, ntk.data(), 4);
    for (std::size_t i = 0; i < 3; ++i)
        for (std::size_t j = 0; j < 4; ++j) {
            CHECK(nngp[i * 4 + j] == full.nngp(2 + i, 5 + j));
            CHECK(ntk[i * 4 + j] == full.ntk(2 + i, 5 + j));
        }
    const auto k = cross.compute();
    CHECK(k.ntk == full_cross.ntk);
    // (store_kernel's diagonal tiles compute K(x_j, x_i) as well as K(x_i, x_j): equal up to rounding)
    const auto store = lim::store_kernel<double>(sym, true);
    CHECK(max_abs_diff(store.data(), full.ntk) <= 1e-14 * max_abs(full.ntk));
    // Cholesky and PCG on the pooled CNN's NTK predict alike
    const matrix<double> y = targets(9, 3);
    const matrix<double> a_chol = lim::kernel_ridge(sym, true, y, solver(lim::ridge_solver::cholesky));
    const matrix<double> a_pcg = lim::kernel_ridge(sym, true, y, solver(lim::ridge_solver::pcg));
    const matrix<double> p_chol = lim::detail::matmul(full_cross.ntk, a_chol), p_pcg = lim::detail::matmul(full_cross.ntk, a_pcg);
    CHECK(max_abs_diff(p_chol, p_pcg) <= 1e-8 * max_abs(p_chol));
}

TEST_CASE("spec_kernel_plan refuses inputs that do not fit the SPEC, naming the sizes") {
    const matrix<double> x = gaussian(3, 16, 5);
    auto message = [](auto&& f) -> std::string {
        try {
            f();
        } catch (const wn::error& e) {
            return e.what();
        }
        return "(no exception)";
    };
    const nn::spec conv = nn::parse_spec("conv:3,relu,flatten");
    CHECK(message([&] { lim::spec_kernel_plan<double>(conv, x, {4, 4, 1}, {}); }) == "(no exception)");
    CHECK(message([&] { lim::spec_kernel_plan<double>(conv, x, {4, 3, 1}, {}); }).find("need 12 values per row, the inputs have 16") !=
          std::string::npos);
    CHECK(message([&] { lim::spec_kernel_plan<double>(conv, x, {}, {}); }).find("works on images, but the input is 2-D") != std::string::npos);
    CHECK(message([&] { lim::spec_kernel_plan<double>(nn::parse_spec("conv:5:valid,flatten"), x, {4, 4, 1}, {}); })
              .find("needs an image of at least 5 x 5") != std::string::npos);
    const matrix<double> other = gaussian(2, 12, 6);
    CHECK(message([&] { lim::spec_kernel_plan<double>(conv, other, x, {4, 4, 1}, {}); }).find("the same number of values per input") !=
          std::string::npos);
}

TEST_CASE("stream_row_blocks: consecutive row blocks of any block plan equal the kernels computed whole") {
    // rows: [r0, r1) in order, covering every row once; values: the rows of compute() (both triangles when symmetric)
    auto check_stream = [](const auto& plan, const auto& whole, std::size_t rows_per_block) {
        CAPTURE(rows_per_block);
        std::size_t next = 0, blocks = 0;
        double worst = 0, progress = 0;
        const double scale_nngp = max_abs(whole.nngp), scale_ntk = max_abs(whole.ntk);
        lim::stream_row_blocks(
            plan, rows_per_block,
            [&](std::size_t r0, std::size_t r1, const lim::kernel_pair<double>& k) {
                CHECK(r0 == next);
                CHECK(r1 - r0 == std::min(rows_per_block, plan.rows() - r0));
                REQUIRE(k.nngp.shape(0) == r1 - r0);
                REQUIRE(k.nngp.shape(1) == plan.cols());
                for (std::size_t i = r0; i < r1; ++i)
                    for (std::size_t j = 0; j < plan.cols(); ++j) {
                        worst = std::max(worst, std::abs(k.nngp(i - r0, j) - whole.nngp(i, j)) / scale_nngp);
                        worst = std::max(worst, std::abs(k.ntk(i - r0, j) - whole.ntk(i, j)) / scale_ntk);
                    }
                next = r1;
                ++blocks;
            },
            [&](double f) { progress = f; });
        CHECK(next == plan.rows());
        CHECK(blocks == (plan.rows() + rows_per_block - 1) / rows_per_block);
        CHECK(progress == 1.0);
        CHECK(worst < 1e-13);
    };
    const lim::kernel_config c{.weight_var = 2.0, .bias_var = 0.05, .threads = 2};
    // an MLP's kernel_plan, symmetric (130 rows: three strips of 64 in one block) and cross (1100 columns: two tiles)
    const matrix<double> x = gaussian(130, 6, 11), z = gaussian(1100, 6, 12);
    const lim::kernel_plan<wn::param::ntk, wn::act::relu, double> mlp(x, 3, c);
    const auto mlp_whole = mlp.compute();
    for (std::size_t r : {1, 7, 64, 130, 500}) check_stream(mlp, mlp_whole, r);
    const lim::kernel_plan<wn::param::ntk, wn::act::relu, double> mlp_cross(x, z, 2, c);
    check_stream(mlp_cross, mlp_cross.compute(), 70);
    // a pooled SPEC's spec_kernel_plan (images as rows), symmetric and cross
    const matrix<double> img = gaussian(9, 4 * 4 * 2, 13), img2 = gaussian(5, 4 * 4 * 2, 14);
    const nn::spec spec = nn::parse_spec("conv:3,relu,avgpool:2,conv:1,erf,gap");
    const lim::spec_kernel_plan<double> cnn(spec, img, {4, 4, 2}, c);
    const auto cnn_whole = cnn.compute();
    for (std::size_t r : {1, 4, 9}) check_stream(cnn, cnn_whole, r);
    const lim::spec_kernel_plan<double> cnn_cross(spec, img, img2, {4, 4, 2}, c);
    check_stream(cnn_cross, cnn_cross.compute(), 2);
    CHECK_THROWS_WITH_AS(lim::stream_row_blocks(cnn, 0, [](std::size_t, std::size_t, const lim::kernel_pair<double>&) {}),
                         doctest::Contains("rows_per_block must be at least 1"), wn::error);
}

TEST_CASE("spec_kernel_plan: the standard parametrization's kernels, and its missing width refused at construction") {
    const matrix<double> img = gaussian(6, 4 * 4 * 1, 15);
    const nn::spec spec = nn::parse_spec("conv:3,relu,conv:3,relu,gap");
    const lim::kernel_config c{.weight_var = 2.0, .bias_var = 0.05, .width = 64};
    const lim::spec_kernel_plan<double> plan(spec, img, {4, 4, 1}, c, lim::parametrization_kind::standard);
    CHECK(plan.kind() == lim::parametrization_kind::standard);
    const auto blocks = plan.compute();
    const auto direct = lim::conv_kernels(spec, xt::reshape_view(img, {6, 4, 4, 1}), c, lim::spatial_path::automatic,
                                          lim::parametrization_kind::standard);
    CHECK(max_abs_diff(blocks.ntk, direct.ntk) == 0.0);
    CHECK(max_abs_diff(blocks.nngp, direct.nngp) == 0.0);
    matrix<double> tile = xt::zeros<double>({std::size_t{2}, std::size_t{3}}), tile_ntk = tile;
    plan.block_into(1, 3, 2, 5, tile.data(), 3, tile_ntk.data(), 3);
    for (std::size_t i = 0; i < 2; ++i)
        for (std::size_t j = 0; j < 3; ++j) CHECK(tile_ntk(i, j) == doctest::Approx(direct.ntk(1 + i, 2 + j)).epsilon(1e-14));
    // its NTK grows with the width: the hidden layers add width x Σ, far above the NTK parametrization's
    const auto ntk_form = lim::spec_kernel_plan<double>(spec, img, {4, 4, 1}, c).compute();
    CHECK(blocks.ntk(0, 0) > 10 * ntk_form.ntk(0, 0));
    lim::kernel_config no_width = c;
    no_width.width = 0;
    CHECK_THROWS_WITH_AS(lim::spec_kernel_plan<double>(spec, img, {4, 4, 1}, no_width, lim::parametrization_kind::standard),
                         doctest::Contains("set kernel_config::width"), wn::error);
}

