// Checks limit/pcg.hpp on real data: the Nyström-preconditioned CG against the exact Cholesky solve, plain CG against
// PCG (iteration counts), and the float kernel store against the double one (predictions and accuracy), on the NTK of
// Fashion-MNIST (relu, depth 3, the preprocessing of `widenn regress`). Prints one line per check and writes the
// residual histories to pcg_check.csv.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <vector>

#include <widenn/act/activations.hpp>
#include <widenn/io/plot.hpp>
#include <widenn/limit/kernel.hpp>
#include <widenn/limit/pcg.hpp>
#include <widenn/limit/predict.hpp>

#include "cli/cli.hpp"
#include "cli/regress_setup.hpp"

namespace {

namespace wn = widenn;
namespace lim = widenn::limit;
namespace rs = widenn::cli::regress;
using wn::matrix;

double max_abs(const matrix<double>& a) { return xt::amax(xt::abs(a))(); }

const char* usage =
    "usage: pcg_check [--n-train 8192] [--n-test 2000] [--rank 1000] [--diag-reg 1e-4] [--tolerance 1e-10]\n"
    "                 [--plain-tolerance 1e-5] [--plain-max 3000] [--out pcg_check]\n\n"
    "On the NTK (relu, depth 3, weight_var 2, bias_var 0.01) of Fashion-MNIST: PCG (double store) vs Cholesky, the\n"
    "iterations of plain CG and of Nystrom PCG to --plain-tolerance, and float vs double store predictions.\n"
    "Writes OUT.csv (relative residual per iteration of both).\n";

}  // namespace

int main(int argc, char** argv) {
    return widenn::cli::run_program("pcg_check", usage, argc, argv, [](widenn::cli::args& a) {
        rs::options opt = rs::parse_options(a);
        opt.n_train = a.count("n-train", 8192);
        opt.n_test = a.count("n-test", 2000);
        const std::size_t rank = a.count("rank", 1000);
        const double tolerance = a.real("tolerance", 1e-10, 1e-14, 0.1);
        const double plain_tolerance = a.real("plain-tolerance", 1e-5, 1e-14, 0.1);
        const std::size_t plain_max = a.count("plain-max", 3000);
        const std::string out = a.text("out", "pcg_check");
        a.reject_unknown();
        using clock = rs::clock_type;
        const rs::data data = rs::load_data(opt);
        const std::size_t m = data.x_train.shape()[0];
        std::cout << "pcg_check: " << m << " train, " << data.x_test.shape()[0] << " test points; NTK relu depth 3; rank " << rank
                  << ", diag_reg " << opt.diag_reg << "\n";
        using K = lim::kernel<wn::param::ntk, wn::act::relu, 3>;
        const auto plan = K::plan(data.x_train, opt.config);
        auto t0 = clock::now();
        const auto store = lim::store_kernel<double>(plan, true);
        std::cout << "kernel (double store): " << rs::seconds_since(t0) << " s\n";
        const double shift = lim::diagonal_shift({.diag_reg = opt.diag_reg}, store.trace(), m);
        t0 = clock::now();
        const matrix<double> exact = lim::cholesky_factor(store.data(), {.diag_reg = shift, .absolute = true}).solve(data.y_train);
        std::cout << "cholesky: " << rs::seconds_since(t0) << " s\n";
        const lim::block_operator apply = [&](const matrix<double>& x, matrix<double>& y) { store.apply(x, y, shift); };
        t0 = clock::now();
        const lim::nystrom_preconditioner pre(m, rank, shift, [&](const std::vector<std::size_t>& idx) { return store.columns(idx); });
        std::cout << "nystrom preconditioner, rank " << pre.rank() << " kept of " << rank << ": " << rs::seconds_since(t0) << " s\n";
        const lim::block_operator precondition = [&](const matrix<double>& r, matrix<double>& z) { pre(r, z); };
        std::vector<double> pcg_history, plain_history;
        t0 = clock::now();
        const auto pcg = lim::block_conjugate_gradient(apply, data.y_train, precondition,
                                                       {.tolerance = tolerance, .progress = [&](const lim::pcg_progress& p) {
                                                            std::fprintf(stderr, "\rpcg: %zu %.2e", p.iteration, p.relative_residual);
                                                        }});
        const double pcg_seconds = rs::seconds_since(t0);
        std::cout << "\npcg to " << tolerance << ": " << pcg.iterations << " iterations, " << pcg_seconds << " s ("
                  << pcg_seconds / static_cast<double>(pcg.iterations + 1) << " s per product), true residual " << pcg.relative_residual
                  << "\n  relative difference to Cholesky (max over entries / max entry): " << max_abs(pcg.x - exact) / max_abs(exact) << "\n";
        // plain CG and PCG to the same looser tolerance, with their residual histories
        const auto history = [](std::vector<double>& h) {
            return [&h](const lim::pcg_progress& p) {
                h.push_back(p.relative_residual);
                std::fprintf(stderr, "\r%zu %.2e   ", p.iteration, p.relative_residual);
            };
        };
        const auto pcg_loose = lim::block_conjugate_gradient(apply, data.y_train, precondition,
                                                             {.tolerance = plain_tolerance, .progress = history(pcg_history)});
        t0 = clock::now();
        const auto plain = lim::block_conjugate_gradient(
            apply, data.y_train, {},
            {.tolerance = plain_tolerance, .max_iterations = plain_max, .throw_on_failure = false, .progress = history(plain_history)});
        std::cout << "\niterations to " << plain_tolerance << ": plain CG " << plain.iterations << (plain.converged ? "" : " (not converged")
                  << (plain.converged ? "" : ", residual " + std::to_string(plain.relative_residual) + ")") << ", Nystrom PCG "
                  << pcg_loose.iterations << "; ratio " << static_cast<double>(plain.iterations) / static_cast<double>(pcg_loose.iterations)
                  << (plain.converged ? "" : " (at least)") << "; plain CG " << rs::seconds_since(t0) << " s\n";
        // float store against double store: test predictions and accuracy
        const auto fstore = lim::store_kernel<float>(plan, true);
        const lim::block_operator apply_f = [&](const matrix<double>& x, matrix<double>& y) { fstore.apply(x, y, shift); };
        const lim::nystrom_preconditioner pre_f(m, rank, shift, [&](const std::vector<std::size_t>& idx) { return fstore.columns(idx); });
        const auto pcg_f = lim::block_conjugate_gradient(apply_f, data.y_train,
                                                         [&](const matrix<double>& r, matrix<double>& z) { pre_f(r, z); }, {.tolerance = tolerance});
        const matrix<double> k_test = K::kernels(data.x_test, data.x_train, opt.config).ntk;
        const matrix<double> pd = lim::detail::matmul(k_test, exact), pf = lim::detail::matmul(k_test, pcg_f.x);
        std::cout << "float store: " << pcg_f.iterations << " iterations; test predictions differ from the double Cholesky ones by "
                  << max_abs(pf - pd) / max_abs(pd) << " (max relative); accuracy double "
                  << static_cast<double>(rs::count_correct(pd, data.test_labels.data())) / static_cast<double>(pd.shape()[0]) << ", float "
                  << static_cast<double>(rs::count_correct(pf, data.test_labels.data())) / static_cast<double>(pf.shape()[0]) << "\n";
        wn::io::csv_writer csv(out + ".csv", {"iteration", "plain_cg", "nystrom_pcg"});
        for (std::size_t i = 0; i < std::max(pcg_history.size(), plain_history.size()); ++i)
            csv.row(i + 1, i < plain_history.size() ? plain_history[i] : NAN, i < pcg_history.size() ? pcg_history[i] : NAN);
        csv.close();
        return 0;
    });
}
