// The helper of the distributed tests (tests/distributed/run.sh), single-process:
//   mpi_test_tool write DIR       synthetic data sets as .npy and the single-process reference predictions
//   mpi_test_tool compare A B TOL  max |A - B| / max |B| <= TOL (exit 0), else exit 1
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include <widenn/act/activations.hpp>
#include <widenn/core/blas.hpp>
#include <widenn/core/rng.hpp>
#include <widenn/io/npy.hpp>
#include <widenn/limit/kernel.hpp>
#include <widenn/limit/solvers.hpp>
#include <widenn/param/abc.hpp>

#include <xtensor/xview.hpp>

namespace {

using widenn::matrix;
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

// What `widenn-mpi regress` computes with its defaults (NTK, relu, depth 3, weight_var 2, bias_var 0.01, diag_reg 1e-4),
// on one process with the library's Cholesky solver.
matrix<double> reference(const matrix<double>& x_train, const xt::xtensor<int, 1>& y_train, const matrix<double>& x_test) {
    const std::size_t m = x_train.shape()[0];
    matrix<double> y = xt::full_like(matrix<double>::from_shape({m, 4}), -0.1);
    for (std::size_t i = 0; i < m; ++i) y(i, static_cast<std::size_t>(y_train(i))) += 1.0;
    const lim::kernel_config config{.weight_var = 2.0, .bias_var = 0.01};
    using plan = lim::kernel_plan<widenn::param::ntk, widenn::act::relu, double>;
    const matrix<double> alpha = lim::cholesky_factor(plan(x_train, 3, config).compute().ntk, {.diag_reg = 1e-4}).solve(y);
    const matrix<double> cross = plan(x_test, x_train, 3, config).compute().ntk;
    matrix<double> pred = xt::zeros<double>({x_test.shape()[0], std::size_t{4}});
    widenn::blas::gemm(cross, alpha, pred);
    return pred;
}

void write_set(const std::string& dir, const std::string& name, const matrix<double>& x_train, const matrix<double>& x_test,
               bool with_reference) {
    widenn::io::write_npy(dir + "/" + name + "_train_x.npy", x_train);
    widenn::io::write_npy(dir + "/" + name + "_train_y.npy", labels_of(x_train));
    widenn::io::write_npy(dir + "/" + name + "_test_x.npy", x_test);
    widenn::io::write_npy(dir + "/" + name + "_test_y.npy", labels_of(x_test));
    if (with_reference) widenn::io::write_npy(dir + "/" + name + "_reference.npy", reference(x_train, labels_of(x_train), x_test));
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
            return 0;
        }
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
        std::fprintf(stderr, "usage: mpi_test_tool write DIR | mpi_test_tool compare A.npy B.npy TOL\n");
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "mpi_test_tool: %s\n", e.what());
        return 1;
    }
}
