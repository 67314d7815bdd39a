#pragma once
// What the `widenn` command knows about the machine: the BLAS library and the core it runs, the CPU's vector
// extensions, the SIMD level widenn's own kernels were compiled for, threads and memory. And the one action taken on
// it: when OpenBLAS runs kernels below what the CPU supports (Debian's OpenBLAS 0.3.21 picks Prescott, SSE3, on a Xeon
// with AVX-512 whose model is masked by the hypervisor), the command restarts itself once with OPENBLAS_CORETYPE set.
// OpenBLAS reads OPENBLAS_CORETYPE only when the library is loaded (its dynamic-arch constructor, before main), so
// setting it later in the process changes nothing; a re-exec is the only way from inside. Never more than once
// (WIDENN_BLAS_REEXEC marks the restarted process), never when the user set OPENBLAS_CORETYPE, and not at all with
// WIDENN_KEEP_BLAS_CORE=1.
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

#ifdef WIDENN_USE_XSIMD
#include <xsimd/xsimd.hpp>
#endif

#include <widenn/core/blas.hpp>

extern "C" {
// OpenBLAS's self-description, declared weak so that another BLAS still links (the pointers are then null).
char* openblas_get_config(void) __attribute__((weak));
char* openblas_get_corename(void) __attribute__((weak));
}

namespace widenn::cli::machine {

// Vector-extension levels, ordered.
enum class simd_level { unknown = 0, sse3 = 1, avx = 2, avx2 = 3, avx512 = 4 };

inline const char* level_name(simd_level l) {
    switch (l) {
    case simd_level::sse3: return "SSE3";
    case simd_level::avx: return "AVX";
    case simd_level::avx2: return "AVX2";
    case simd_level::avx512: return "AVX-512";
    default: return "unknown";
    }
}

// The best level the CPU (and the OS) supports.
inline simd_level cpu_level() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl")) return simd_level::avx512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return simd_level::avx2;
    if (__builtin_cpu_supports("avx")) return simd_level::avx;
    if (__builtin_cpu_supports("sse3")) return simd_level::sse3;
#endif
    return simd_level::unknown;
}

// The OpenBLAS core for a CPU level (the names OPENBLAS_CORETYPE takes).
inline const char* openblas_core_for(simd_level l) {
    switch (l) {
    case simd_level::avx512: return "SkylakeX";
    case simd_level::avx2: return "Haswell";
    case simd_level::avx: return "Sandybridge";
    default: return "Prescott";
    }
}

inline std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

// The vector level of an OpenBLAS core name (x86 cores; unknown for others).
inline simd_level core_level(const std::string& core) {
    const std::string c = lower(core);
    for (const char* n : {"skylakex", "cooperlake", "sapphirerapids"})
        if (c == n) return simd_level::avx512;
    for (const char* n : {"haswell", "zen", "skylake"})
        if (c == n) return simd_level::avx2;
    for (const char* n : {"sandybridge"})
        if (c == n) return simd_level::avx;
    for (const char* n : {"prescott", "core2", "penryn", "dunnington", "nehalem", "atom", "katmai", "coppermine", "northwood",
                          "banias", "opteron", "barcelona", "bobcat", "bulldozer", "piledriver", "steamroller", "excavator"})
        if (c == n) return simd_level::sse3;
    return simd_level::unknown;
}

struct blas_info {
    bool openblas = false;
    std::string config, core;  // OpenBLAS's build configuration and the core it runs
    int threads = 1;
};

inline blas_info blas() {
    blas_info b;
    b.openblas = openblas_get_config != nullptr;
    if (b.openblas) {
        b.config = openblas_get_config();
        if (openblas_get_corename) b.core = openblas_get_corename();
    }
    b.threads = widenn::blas::threads();
    return b;
}

// The SIMD instruction set widenn's own loops (xsimd) were compiled for.
inline std::string compiled_simd() {
#ifdef WIDENN_USE_XSIMD
    return xsimd::default_arch::name();
#else
    return "none (WIDENN_USE_XSIMD off: scalar loops, auto-vectorised by the compiler)";
#endif
}

inline std::string cpu_model() {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("model name", 0) == 0) {
            const auto colon = line.find(':');
            return colon == std::string::npos ? line : line.substr(colon + 2);
        }
    return "unknown";
}

inline std::size_t total_memory_bytes() {
    const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
    return pages > 0 && page > 0 ? static_cast<std::size_t>(pages) * static_cast<std::size_t>(page) : 0;
}

// The OpenBLAS core to restart with, or "" when nothing should be done: not OpenBLAS, the core already matches the
// CPU, the core is unknown, or the user decided (OPENBLAS_CORETYPE set, WIDENN_KEEP_BLAS_CORE=1, or this process is
// already the restarted one).
inline std::string better_core() {
    const blas_info b = blas();
    if (!b.openblas || b.core.empty()) return "";
    const simd_level have = core_level(b.core), can = cpu_level();
    if (have == simd_level::unknown || can == simd_level::unknown || have >= can) return "";
    return openblas_core_for(can);
}

inline bool env_set(const char* name) {
    const char* v = std::getenv(name);
    return v != nullptr && *v != '\0';
}

// At the start of main: restarts the program once with OPENBLAS_CORETYPE=<the CPU's core> when OpenBLAS picked a
// lower one (see the header comment). Returns normally when it does not restart (or the exec fails).
inline void upgrade_blas_core(char** argv) {
    if (env_set("OPENBLAS_CORETYPE") || env_set("WIDENN_BLAS_REEXEC")) return;
    const char* keep = std::getenv("WIDENN_KEEP_BLAS_CORE");
    if (keep != nullptr && std::string(keep) != "0" && *keep != '\0') return;
    const std::string core = better_core();
    if (core.empty()) return;
    if (setenv("OPENBLAS_CORETYPE", core.c_str(), 1) != 0 || setenv("WIDENN_BLAS_REEXEC", core.c_str(), 1) != 0) return;
    execv("/proc/self/exe", argv);
    // exec failed: carry on with the core we have, and do not pretend we changed it
    unsetenv("OPENBLAS_CORETYPE");
    unsetenv("WIDENN_BLAS_REEXEC");
}

// One line for the start of a report: the BLAS and its core, and what was done or can be done about it.
inline std::string blas_summary() {
    const blas_info b = blas();
    if (!b.openblas) return "BLAS: not OpenBLAS (core and threads unknown)";
    std::string s = "BLAS: OpenBLAS, core " + b.core + ", " + std::to_string(b.threads) + " thread" + (b.threads == 1 ? "" : "s");
    if (env_set("WIDENN_BLAS_REEXEC")) s += " (restarted with OPENBLAS_CORETYPE=" + std::string(std::getenv("WIDENN_BLAS_REEXEC")) +
                                            "; WIDENN_KEEP_BLAS_CORE=1 keeps OpenBLAS's own choice)";
    return s;
}

// The warning when the core is below the CPU (after upgrade_blas_core, only when the user kept the core), or "".
inline std::string blas_warning() {
    const std::string core = better_core();
    if (core.empty()) return "";
    const blas_info b = blas();
    return "warning: OpenBLAS runs its " + b.core + " kernels (" + level_name(core_level(b.core)) + ") but this CPU supports " +
           level_name(cpu_level()) + "; every kernel, solve and training step is several times slower (a 4096 x 784 Gram matrix: "
           "about 4.7x). Fix: run with OPENBLAS_CORETYPE=" + core + " in the environment (widenn restarts itself with it unless "
           "OPENBLAS_CORETYPE or WIDENN_KEEP_BLAS_CORE=1 is set).";
}

}  // namespace widenn::cli::machine
