// `widenn info`: the machine as widenn sees it (BLAS and its core, SIMD, threads, memory), with a warning and the fix
// when OpenBLAS runs kernels below what the CPU supports.
#include <chrono>
#include <iomanip>
#include <iostream>

#include <widenn/core/blas.hpp>
#include <widenn/core/checked.hpp>
#include <widenn/core/parallel.hpp>
#include <widenn/core/tensor.hpp>

#include "cli.hpp"
#include "machine.hpp"

namespace {

namespace mc = widenn::cli::machine;

// The machine summary (shared with the tour's first lines).
void print_machine(std::ostream& out) {
    const auto b = mc::blas();
    out << "CPU: " << mc::cpu_model() << ", " << mc::level_name(mc::cpu_level()) << " supported\n"
        << mc::blas_summary() << "\n";
    if (b.openblas) out << "  OpenBLAS build: " << b.config << "\n";
    out << "SIMD of widenn's own kernels (xsimd, compile time): " << mc::compiled_simd() << "\n"
        << "OpenMP threads: " << widenn::max_threads() << "\n"
        << "memory: " << widenn::format_bytes(static_cast<double>(mc::total_memory_bytes())) << " total, "
        << widenn::format_bytes(static_cast<double>(widenn::available_memory_bytes())) << " available\n";
    const std::string warning = mc::blas_warning();
    if (!warning.empty()) out << warning << "\n";
}

int run_info(widenn::cli::args& a) {
    const bool measure = a.has("measure");
    a.reject_unknown();
    print_machine(std::cout);
    if (measure) {
        // the Gram matrix of 4096 points in R^784 (the first step of every kernel), best of 3
        const widenn::matrix<double> x = widenn::normal_matrix(4096, 784, 1);
        widenn::matrix<double> g = xt::zeros<double>({std::size_t{4096}, std::size_t{4096}});
        double best = 1e300;
        for (int rep = 0; rep < 3; ++rep) {
            const auto t0 = std::chrono::steady_clock::now();
            widenn::blas::gemm(x, x, g, false, true);
            best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        }
        std::cout << "4096 x 784 Gram matrix (dgemm): " << std::fixed << std::setprecision(0) << best * 1000 << " ms (best of 3), "
                  << std::setprecision(1) << 2.0 * 4096 * 4096 * 784 / best / 1e9 << " GFLOP/s\n";
    }
    return 0;
}

const bool registered = widenn::cli::add_command({
    "info",
    "the machine as widenn sees it: BLAS library, core and threads, SIMD, OpenMP, memory",
    "usage: widenn info [--measure]\n\n"
    "Prints the CPU and the vector extensions it supports, the BLAS library (OpenBLAS: its build configuration, the core\n"
    "it runs and its threads), the SIMD instruction set widenn's own loops were compiled for, the OpenMP threads and the\n"
    "memory. Warns when OpenBLAS runs kernels below what the CPU supports, with the fix.\n"
    "--measure also times a 4096 x 784 Gram matrix.\n\n"
    "Every widenn command restarts itself once with OPENBLAS_CORETYPE set to the CPU's core when OpenBLAS picked a lower one\n"
    "(OpenBLAS reads the variable only when it is loaded). It does not when OPENBLAS_CORETYPE is already set, and not at all\n"
    "with WIDENN_KEEP_BLAS_CORE=1.\n",
    run_info,
});

const bool tour_registered = widenn::cli::add_tour_section({-1000, "the machine", print_machine});

}  // namespace
