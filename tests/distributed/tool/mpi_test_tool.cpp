// The helper of the distributed tests (tests/distributed/run.sh), single-process:
//   mpi_test_tool write DIR       synthetic data sets as .npy and the single-process reference predictions
//   mpi_test_tool compare A B TOL  max |A - B| / max |B| <= TOL (exit 0), else exit 1
//   mpi_test_tool layout           the block-cyclic index arithmetic of distributed/scalapack.hpp against ScaLAPACK's
//                                  NUMROC, INDXG2P and INDXL2G, and the process grids chosen
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include <widenn/act/activations.hpp>
#include <widenn/core/blas.hpp>
#include <widenn/core/rng.hpp>
#include <widenn/distributed/scalapack.hpp>
#include <widenn/io/npy.hpp>
#include <widenn/limit/kernel.hpp>
#include <widenn/limit/pcg.hpp>
#include <widenn/limit/solvers.hpp>
#include <widenn/limit/spec_plan.hpp>
#include <widenn/nn/spec.hpp>
#include <widenn/param/abc.hpp>

#include <xtensor/xview.hpp>

extern "C" {
int indxg2p_(const int* indxglob, const int* nb, const int* iproc, const int* isrcproc, const int* nprocs);
int indxl2g_(const int* indxloc, const int* nb, const int* iproc, const int* isrcproc, const int* nprocs);
}

namespace {

// The SPEC of the --arch tests (tests/distributed/CMakeLists.txt passes the same).
constexpr const char* arch_spec = "conv:3,relu,avgpool:2,conv:3,relu,gap";

using widenn::matrix;

// Every (n, nb, procs, me) up to small sizes: local counts, owners and index maps agree with ScaLAPACK's tools, and
// global -> local -> global is the identity on each process's indices. Returns the number of disagreements.
int check_layout() {
    namespace dist = widenn::distributed;
    int errors = 0, cases = 0;
    for (int n = 1; n <= 70; ++n)
        for (int nb = 1; nb <= 9; ++nb)
            for (int procs = 1; procs <= 5; ++procs) {
                std::size_t total = 0;
                for (int me = 0; me < procs; ++me) {
                    ++cases;
                    const dist::cyclic_dimension dim{static_cast<std::size_t>(n), static_cast<std::size_t>(nb), procs, me};
                    const int zero = 0;
                    const int expected = widenn::distributed::detail::scalapack::numroc_(&n, &nb, &me, &zero, &procs);
                    if (dim.local_count() != static_cast<std::size_t>(expected)) ++errors;
                    total += dim.local_count();
                    for (std::size_t l = 0; l < dim.local_count(); ++l) {
                        const int local1 = static_cast<int>(l) + 1;
                        const std::size_t g = dim.global_index(l);
                        if (g + 1 != static_cast<std::size_t>(indxl2g_(&local1, &nb, &me, &zero, &procs)) || dim.owner(g) != me ||
                            dim.local_index(g) != l)
                            ++errors;
                    }
                    for (int g = 0; g < n; ++g) {
                        const int g1 = g + 1;
                        if (dim.owner(static_cast<std::size_t>(g)) != indxg2p_(&g1, &nb, &me, &zero, &procs)) ++errors;
                    }
                }
                if (total != static_cast<std::size_t>(n)) ++errors;
            }
    const int grids[][3] = {{1, 1, 1}, {2, 1, 2}, {3, 1, 3}, {4, 2, 2}, {6, 2, 3}, {7, 1, 7}, {8, 2, 4}, {9, 3, 3}, {12, 3, 4}, {64, 8, 8}};
    for (const auto& g : grids) {
        const auto shape = dist::near_square_grid(g[0]);
        if (shape.rows != g[1] || shape.cols != g[2]) {
            std::printf("near_square_grid(%d) = %d x %d, expected %d x %d\n", g[0], shape.rows, shape.cols, g[1], g[2]);
            ++errors;
        }
    }
    std::printf("block-cyclic layout: %d cases against NUMROC/INDXG2P/INDXL2G, %d disagreements\n", cases, errors);
    return errors;
}
namespace lim = widenn::limit;

// Labels from the sign pattern of two fixed projections (4 classes), so the classes are learnable.
xt::xtensor<int, 1> labels_of(const matrix<double>& x) {
    const std::size_t n = x.shape()[0], d = x.shape()[1];
    xt::xtensor<int, 1> out = xt::zeros<int>({n});
    for (std::size_t i = 0; i < n; ++i) {
        double a = 0, b = 0;
        for (std::size_t k = 0; k < d; ++k) {
            a += x(i, k) * std::sin(1.0 + static_cast<double>(k));
            b += x(i, k) * std::cos(2.0 * static_cast<double>(k));
        }
        out(i) = (a > 0 ? 1 : 0) + (b > 0 ? 2 : 0);
    }
    return out;
}

// What `widenn-mpi regress` computes with its defaults (relu, depth 3, weight_var 2, bias_var 0.01, diag_reg 1e-4) and
// --kernel ntk (or nngp), on one process with the library's Cholesky solver.
matrix<double> reference(const matrix<double>& x_train, const xt::xtensor<int, 1>& y_train, const matrix<double>& x_test, bool ntk) {
    const std::size_t m = x_train.shape()[0];
    matrix<double> y = xt::full_like(matrix<double>::from_shape({m, 4}), -0.1);
    for (std::size_t i = 0; i < m; ++i) y(i, static_cast<std::size_t>(y_train(i))) += 1.0;
    const lim::kernel_config config{.weight_var = 2.0, .bias_var = 0.01, .compute_ntk = ntk};
    using plan = lim::kernel_plan<widenn::param::ntk, widenn::act::relu, double>;
    auto train = plan(x_train, 3, config).compute();
    const matrix<double> alpha = lim::cholesky_factor(ntk ? std::move(train.ntk) : std::move(train.nngp), {.diag_reg = 1e-4}).solve(y);
    auto cross = plan(x_test, x_train, 3, config).compute();
    matrix<double> pred = xt::zeros<double>({x_test.shape()[0], std::size_t{4}});
    widenn::blas::gemm(ntk ? cross.ntk : cross.nngp, alpha, pred);
    return pred;
}

// The same with `widenn-mpi regress --solver pcg --store STORE --rank 300 --tolerance 1e-10` on one process:
// limit::kernel_ridge's PCG (seed 1).
matrix<double> reference_pcg(const matrix<double>& x_train, const xt::xtensor<int, 1>& y_train, const matrix<double>& x_test, bool float_store) {
    const std::size_t m = x_train.shape()[0];
    matrix<double> y = xt::full_like(matrix<double>::from_shape({m, 4}), -0.1);
    for (std::size_t i = 0; i < m; ++i) y(i, static_cast<std::size_t>(y_train(i))) += 1.0;
    const lim::kernel_config config{.weight_var = 2.0, .bias_var = 0.01, .compute_ntk = true};
    using plan = lim::kernel_plan<widenn::param::ntk, widenn::act::relu, double>;
    const lim::ridge_options opt{.reg = {.diag_reg = 1e-4}, .solver = lim::ridge_solver::pcg, .float_store = float_store, .rank = 300, .seed = 1,
                                 .pcg = {.tolerance = 1e-10, .max_iterations = 1000}};
    const matrix<double> alpha = lim::kernel_ridge(plan(x_train, 3, config), true, y, opt);
    auto cross = plan(x_test, x_train, 3, config).compute();
    matrix<double> pred = xt::zeros<double>({x_test.shape()[0], std::size_t{4}});
    widenn::blas::gemm(cross.ntk, alpha, pred);
    return pred;
}

// `widenn-mpi regress --arch conv:3,relu,avgpool:2,conv:3,relu,gap --no-preprocess` (the defaults above, NTK) on
// 6 x 6 x 2 images, one per row: limit::kernel_ridge's Cholesky on one process with limit::spec_kernel_plan.
matrix<double> reference_arch(const matrix<double>& x_train, const xt::xtensor<int, 1>& y_train, const matrix<double>& x_test) {
    const std::size_t m = x_train.shape()[0];
    matrix<double> y = xt::full_like(matrix<double>::from_shape({m, 4}), -0.1);
    for (std::size_t i = 0; i < m; ++i) y(i, static_cast<std::size_t>(y_train(i))) += 1.0;
    const lim::kernel_config config{.weight_var = 2.0, .bias_var = 0.01, .compute_ntk = true};
    const widenn::nn::spec spec = widenn::nn::parse_spec(arch_spec);
    const lim::spec_input image{6, 6, 2};
    const lim::ridge_options opt{.reg = {.diag_reg = 1e-4}, .solver = lim::ridge_solver::cholesky};
    const matrix<double> alpha = lim::kernel_ridge(lim::spec_kernel_plan<double>(spec, x_train, image, config), true, y, opt);
    const auto cross = lim::spec_kernel_plan<double>(spec, x_test, x_train, image, config).compute();
    matrix<double> pred = xt::zeros<double>({x_test.shape()[0], std::size_t{4}});
    widenn::blas::gemm(cross.ntk, alpha, pred);
    return pred;
}

void write_set(const std::string& dir, const std::string& name, const matrix<double>& x_train, const matrix<double>& x_test,
               bool with_reference) {
    widenn::io::write_npy(dir + "/" + name + "_train_x.npy", x_train);
    widenn::io::write_npy(dir + "/" + name + "_train_y.npy", labels_of(x_train));
    widenn::io::write_npy(dir + "/" + name + "_test_x.npy", x_test);
    widenn::io::write_npy(dir + "/" + name + "_test_y.npy", labels_of(x_test));
    if (with_reference) {
        widenn::io::write_npy(dir + "/" + name + "_reference_ntk.npy", reference(x_train, labels_of(x_train), x_test, true));
        widenn::io::write_npy(dir + "/" + name + "_reference_nngp.npy", reference(x_train, labels_of(x_train), x_test, false));
        widenn::io::write_npy(dir + "/" + name + "_reference_pcg_double.npy", reference_pcg(x_train, labels_of(x_train), x_test, false));
        widenn::io::write_npy(dir + "/" + name + "_reference_pcg_float.npy", reference_pcg(x_train, labels_of(x_train), x_test, true));
    }
}

}  // namespace

int main(int argc, char** argv) {
    try {
        const std::string mode = argc > 1 ? argv[1] : "";
        if (mode == "write" && argc == 3) {
            const std::string dir = argv[2];
            const std::size_t d = 32;
            // N = 4,096: the comparison with the single-process solution.
            write_set(dir, "main", widenn::normal_matrix(4096, d, 11), widenn::normal_matrix(500, d, 12), true);
            // A small set for the failure tests.
            write_set(dir, "small", widenn::normal_matrix(600, d, 13), widenn::normal_matrix(50, d, 14), false);
            // 600 training points, 60 distinct ones repeated 10 times: with no ridge the kernel is singular.
            const matrix<double> base = widenn::normal_matrix(60, d, 15);
            matrix<double> dup = matrix<double>::from_shape({600, d});
            for (std::size_t i = 0; i < 600; ++i) xt::view(dup, i, xt::all()) = xt::view(base, i % 60, xt::all());
            write_set(dir, "duplicated", dup, widenn::normal_matrix(50, d, 16), false);
            // 6 x 6 x 2 images for --arch, stored N x 6 x 6 x 2 (NHWC), and the reference of a pooled SPEC
            const matrix<double> images_train = widenn::normal_matrix(400, 72, 17), images_test = widenn::normal_matrix(60, 72, 18);
            auto save_images = [&](const std::string& name, const matrix<double>& x) {
                xt::xarray<double> nhwc = x;
                nhwc.reshape({x.shape()[0], std::size_t{6}, std::size_t{6}, std::size_t{2}});
                widenn::io::write_npy(dir + "/" + name, nhwc);
            };
            save_images("images_train_x.npy", images_train);
            save_images("images_test_x.npy", images_test);
            widenn::io::write_npy(dir + "/images_train_y.npy", labels_of(images_train));
            widenn::io::write_npy(dir + "/images_test_y.npy", labels_of(images_test));
            widenn::io::write_npy(dir + "/images_reference_ntk.npy", reference_arch(images_train, labels_of(images_train), images_test));
            return 0;
        }
        if (mode == "layout" && argc == 2) return check_layout() == 0 ? 0 : 1;
        if (mode == "compare" && argc == 5) {
            const auto a = widenn::io::read_npy_matrix<double>(argv[2]), b = widenn::io::read_npy_matrix<double>(argv[3]);
            const double tol = std::stod(argv[4]);
            if (a.shape() != b.shape()) {
                std::printf("shapes differ: %zu x %zu and %zu x %zu\n", a.shape()[0], a.shape()[1], b.shape()[0], b.shape()[1]);
                return 1;
            }
            const double diff = xt::amax(xt::abs(a - b))(), scale = xt::amax(xt::abs(b))();
            const double relative = diff / std::max(scale, 1e-300);
            std::printf("max |a - b| / max |b| = %.3e (tolerance %.1e)\n", relative, tol);
            return relative <= tol ? 0 : 1;
        }
        std::fprintf(stderr, "usage: mpi_test_tool write DIR | compare A.npy B.npy TOL | layout\n");
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "mpi_test_tool: %s\n", e.what());
        return 1;
    }
}
