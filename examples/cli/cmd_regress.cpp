// `widenn regress`: infinite-width kernel regression (NTK gradient flow or NNGP posterior mean) on IDX image data,
// Fashion-MNIST by default; prints accuracy and timings.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <iomanip>
#include <iostream>
#include <limits>
#include <string>

#include <widenn/core/checked.hpp>
#include <widenn/io/idx.hpp>
#include <widenn/limit/kernel.hpp>
#include <widenn/limit/pcg.hpp>
#include <widenn/limit/predict.hpp>
#include <widenn/limit/solvers.hpp>
#include <widenn/limit/spec_plan.hpp>
#include <widenn/nn/spec.hpp>

#include "cli.hpp"
#include "kernel_dispatch.hpp"
#include "regress_setup.hpp"

namespace {

using widenn::matrix;
namespace rs = widenn::cli::regress;

const char* solver_name(widenn::limit::ridge_solver s) {
    return s == widenn::limit::ridge_solver::cholesky ? "cholesky" : s == widenn::limit::ridge_solver::pcg ? "pcg" : "auto";
}

// The options of limit::kernel_ridge from the command's.
widenn::limit::ridge_options ridge_options_of(const rs::options& opt) {
    namespace lim = widenn::limit;
    lim::ridge_options r;
    r.reg = {.diag_reg = opt.diag_reg};
    r.solver = opt.solver == "cholesky" ? lim::ridge_solver::cholesky : opt.solver == "pcg" ? lim::ridge_solver::pcg : lim::ridge_solver::automatic;
    r.float_store = opt.store == "float";
    r.rank = opt.rank;
    r.seed = opt.seed;
    r.pcg = {.tolerance = opt.tolerance, .max_iterations = opt.max_iterations};
    return r;
}

int run_regress(widenn::cli::args& a) {
    namespace ks = widenn::cli::kernels;
    namespace lim = widenn::limit;
    // --arch SPEC: the kernels of a SPEC instead of an MLP's
    rs::options opt;
    const widenn::nn::spec spec = rs::read_arch(a, opt);
    rs::read_options(a, opt);
    a.reject_unknown();
    const std::string& arch = opt.arch;
    const bool converged_flow = std::isinf(opt.time);
    lim::ridge_options ridge = ridge_options_of(opt);
    // Before any work: the solver and its memory for the largest N asked for (rank > N, Cholesky beyond memory, ...).
    if (converged_flow) {
        (void)lim::plan_ridge(opt.n_train, 1, ridge);
    } else {
        // finite time: the eigendecomposition needs the kernel and its eigenvectors in double
        widenn::require_memory(widenn::checked_product({opt.n_train, opt.n_train, 2 * sizeof(double)}, "widenn regress"),
                               "the " + std::to_string(opt.n_train) + " x " + std::to_string(opt.n_train) +
                                   " train kernel and its eigenvectors (finite --time)",
                               "use a smaller --n-train, or --time inf");
    }

    const auto t_start = rs::clock_type::now();
    const rs::data data = rs::load_data(opt);
    const std::size_t m = data.x_train.shape()[0], p = data.x_test.shape()[0];
    const lim::spec_input input{data.height, data.width, data.channels};
    if (!arch.empty()) {  // the SPEC against the images (or vectors) before any kernel
        if (data.channels > 0)
            widenn::nn::infer_shapes(spec, data.height, data.width, data.channels);
        else
            widenn::nn::infer_shapes(spec, data.x_train.shape()[1]);
    }
    if (m < opt.n_train || p < opt.n_test)
        std::cout << "note: the data hold " << m << " train and " << p << " test points; using all of them\n";
    lim::ridge_plan plan;
    if (converged_flow) plan = lim::plan_ridge(m, data.classes, ridge);
    if (opt.diag_reg == 0) {
        const auto [i, j] = lim::find_identical_rows(data.x_train);
        if (i != j)
            throw widenn::error("--diag-reg 0 with a singular kernel: train points " + std::to_string(i) + " and " + std::to_string(j) +
                                " are identical (after preprocessing), so every kernel matrix of the data is singular; "
                                "give a larger --diag-reg (relative to the mean diagonal, e.g. 1e-4)");
    }
    const double load_seconds = rs::seconds_since(t_start);
    const bool use_ntk = opt.use_ntk();
    const int depth = opt.depth;
    const std::string network = arch.empty() ? opt.act + ", depth " + std::to_string(depth)
                                              : "--arch " + widenn::nn::format_spec(spec) +
                                                    (data.channels > 0 ? " on " + std::to_string(data.height) + "x" + std::to_string(data.width) +
                                                                             "x" + std::to_string(data.channels) + " images"
                                                                       : "");
    std::cout << "widenn regress: " << m << " train, " << p << " test points of " << data.x_train.shape()[1] << " features, "
              << data.classes << " classes; " << opt.kernel << " kernel, " << network << ", " << opt.param
              << " parametrization, weight_var " << opt.config.weight_var << ", bias_var " << opt.config.bias_var << ", diag_reg "
              << opt.diag_reg << ", t = " << opt.time << "\n";
    if (converged_flow) {
        std::cout << "solver: " << solver_name(plan.solver);
        if (plan.solver == lim::ridge_solver::pcg)
            std::cout << " (Nystrom rank " << plan.rank << ", " << (plan.float_store ? "float" : "double") << " kernel store, tolerance "
                      << opt.tolerance << ")";
        std::cout << ", " << widenn::format_bytes(static_cast<double>(plan.bytes)) << " of "
                  << widenn::format_bytes(static_cast<double>(widenn::available_memory_bytes())) << " available"
                  << (opt.solver == "auto" ? " (chosen from the memory; --solver cholesky|pcg forces one)" : "") << "\n" << std::flush;
    }

    double kernel_train_seconds = 0, preconditioner_seconds = 0, solve_seconds = 0, kernel_test_seconds = 0;
    std::size_t correct = 0;
    lim::ridge_report report;
    // make_train(config): the plan of the train kernel (limit::kernel_plan or limit::spec_kernel_plan); make_test(rows):
    // the plan of the kernel between test rows and the training inputs. Both solvers take either.
    const auto run = [&](auto&& make_train, auto&& make_test) {
        auto t0 = rs::clock_type::now();
        matrix<double> alpha;
        if (converged_flow) {
            ridge.kernel_progress = ks::progress_printer("train kernel");
            ridge.pcg.progress = [](const lim::pcg_progress& pr) {
                std::fprintf(stderr, "\rpcg: iteration %zu, relative residual %.2e (goal %.0e), %.0f s, about %s left   ", pr.iteration,
                             pr.relative_residual, pr.tolerance, pr.seconds,
                             std::isinf(pr.seconds_left) ? "? s" : (std::to_string(static_cast<long>(pr.seconds_left + 0.5)) + " s").c_str());
                std::fflush(stderr);
            };
            const auto train_plan = make_train(opt.config);
            alpha = lim::kernel_ridge(train_plan, use_ntk, data.y_train, ridge, &report);
            if (report.plan.solver == lim::ridge_solver::pcg) std::fprintf(stderr, "\n");
            kernel_train_seconds = report.kernel_seconds;
            preconditioner_seconds = report.preconditioner_seconds;
            solve_seconds = report.solve_seconds;
        } else {
            lim::kernel_config train_config = opt.config;
            train_config.progress = ks::progress_printer("train kernel");
            auto train = make_train(train_config).compute();
            matrix<double> k_train = use_ntk ? std::move(train.ntk) : std::move(train.nngp);
            train = {};
            kernel_train_seconds = rs::seconds_since(t0);
            t0 = rs::clock_type::now();
            const lim::gradient_descent_mse flow(std::move(k_train), data.y_train, {.lr = 1.0, .reg = {.diag_reg = opt.diag_reg}});
            alpha = flow.weights(data.y_train, opt.time);
            solve_seconds = rs::seconds_since(t0);
        }
        t0 = rs::clock_type::now();
        // test predictions block by block (each block's kernel in parallel): memory O(block x m)
        const std::size_t block = 1000;
        for (std::size_t r = 0; r < p; r += block) {
            const std::size_t r1 = std::min(r + block, p);
            const matrix<double> rows = widenn::row_block(data.x_test, r, r1);
            auto blk = make_test(rows).compute();
            const matrix<double> pred = lim::detail::matmul(use_ntk ? blk.ntk : blk.nngp, alpha);
            correct += rs::count_correct(pred, data.test_labels.data() + r);
            std::fprintf(stderr, "\rtest kernel and predictions: %3d%%%s", static_cast<int>(100 * r1 / p), r1 == p ? "\n" : "");
        }
        kernel_test_seconds = rs::seconds_since(t0);
    };
    if (arch.empty()) {
        ks::with_parametrization(opt.param, [&]<class P>() {
            ks::with_activation(opt.act, [&]<class A>() {
                run([&](const lim::kernel_config& c) { return lim::kernel_plan<P, A, double>(data.x_train, depth, c); },
                    [&](const matrix<double>& rows) { return lim::kernel_plan<P, A, double>(rows, data.x_train, depth, opt.config); });
            });
        });
    } else {
        const auto kind = rs::arch_kind(opt);
        run([&](const lim::kernel_config& c) { return lim::spec_kernel_plan<double>(spec, data.x_train, input, c, kind); },
            [&](const matrix<double>& rows) { return lim::spec_kernel_plan<double>(spec, rows, data.x_train, input, opt.config, kind); });
    }
    const double total = rs::seconds_since(t_start);
    std::cout << std::fixed << std::setprecision(4) << "accuracy " << static_cast<double>(correct) / static_cast<double>(p) << " ("
              << correct << " / " << p << ")\n";
    if (converged_flow && report.plan.solver == lim::ridge_solver::pcg)
        std::cout << std::scientific << std::setprecision(2) << "pcg: " << report.iterations << " iterations, true relative residual "
                  << report.relative_residual << "\n";
    std::cout << std::fixed << std::setprecision(2) << "time: load " << load_seconds << " s, train kernel " << kernel_train_seconds << " s";
    if (preconditioner_seconds > 0) std::cout << ", preconditioner " << preconditioner_seconds << " s";
    std::cout << ", solve " << solve_seconds << " s, test kernel + predict " << kernel_test_seconds << " s, total " << total << " s\n"
              << "memory peak " << widenn::format_bytes(static_cast<double>(rs::peak_memory_bytes())) << "\n";
    return 0;
}

const bool registered = widenn::cli::add_command({
    "regress",
    "infinite-width kernel regression on Fashion-MNIST (or any IDX images): accuracy and timings",
    std::string("usage: widenn regress\n") + widenn::cli::regress::options_usage +
    "  [--arch SPEC [--downsample F]]   the kernels of a SPEC (see widenn kernel --help) instead of --act/--depth\n" +
    "\nTrains an infinitely wide MLP with MSE (targets one-hot - 0.1) in closed form and reports test accuracy.\n"
    "--kernel ntk: gradient flow with the NTK until --time (in steps of learning rate 1; inf = converged);\n"
    "--kernel nngp: the NNGP posterior mean (exact Bayesian inference). --diag-reg is relative to the mean diagonal\n"
    "(neural-tangents' convention). Inputs are centred with the training mean and scaled to norm sqrt(d)\n"
    "(--no-preprocess: used as they are).\n"
    "Data: Fashion-MNIST from the Debian package dataset-fashion-mnist (" + widenn::io::fashion_mnist_dir() +
    "), or any IDX images (plain or .gz), or .npy arrays: features N x d (any float or integer dtype) and labels as\n"
    "integers (N or N x 1) or one-hot rows (N x classes).\n"
    "Solvers (t = inf): --solver cholesky factors the m x m kernel in double (exact; 8 m^2 bytes); --solver pcg stores\n"
    "the kernel in float (--store float, 4 m^2 bytes; products accumulate in double) or double and runs conjugate\n"
    "gradients on all classes at once with a Nystrom preconditioner of rank --rank (default min(m, 1000)) until every\n"
    "column's relative residual is below --tolerance. --solver auto (default) takes Cholesky when its kernel fits in\n"
    "90% of the available memory, else pcg with the float store. Test kernels are computed in blocks of 1000 rows.\n"
    "A finite --time needs an eigendecomposition of the train kernel (minutes at m = 10000).\n"
    "--arch SPEC (--act, --depth do not apply; --param standard with --width N as for the MLP): the NNGP/NTK of the SPEC's\n"
    "architecture, e.g. conv:3,relu,conv:3,relu,flatten, on the IDX images as N x 28 x 28 x 1 or on .npy images\n"
    "N x H x W x C (a dense-only SPEC takes .npy N x d); the same solvers. --downsample F averages F x F pixel blocks\n"
    "first (2: Fashion-MNIST at 14 x 14; pooled SPECs need the full spatial covariance, (H W)^2 per pair of images).\n"
    "Images are preprocessed as feature vectors: every pixel and channel centred with its training mean, every image\n"
    "scaled to norm sqrt(H W C).\n",
    run_regress,
});

}  // namespace
