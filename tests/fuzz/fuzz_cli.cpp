// Fuzz target: the `widenn` command's option parser on any token list (tokens separated by NUL bytes) gives values in
// the declared ranges or a usage error, never a crash, a wrapped or narrowed integer, or undefined behaviour. The
// rational parser of `widenn classify` is fuzzed on every token too.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "cli/cli.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::vector<std::string> tokens(1);
    for (std::size_t i = 0; i < size && tokens.size() < 64; ++i) {
        if (data[i] == 0)
            tokens.emplace_back();
        else
            tokens.back() += static_cast<char>(data[i]);
    }
    for (const auto& t : tokens) {
        try {
            const widenn::rational q = widenn::parse_rational(t);
            if (q.den <= 0) __builtin_trap();
            (void)(q + q * q - q);  // arithmetic on parsed values: exact or a widenn::error
        } catch (const widenn::error&) {
        }
    }
    try {
        widenn::cli::args a("fuzz", tokens);
        const int depth = a.integer<int>("depth", 1, 1, 10000);
        if (depth < 1 || depth > 10000) __builtin_trap();
        const std::size_t n = a.count("n", 5, 1, 1000);
        if (n < 1 || n > 1000) __builtin_trap();
        const std::uint64_t seed = a.integer<std::uint64_t>("seed", 0);
        (void)seed;
        const double lr = a.real("lr", 0.1, 0.0, 10.0);
        if (!(lr >= 0.0 && lr <= 10.0)) __builtin_trap();
        for (long w : a.integers<long>("widths", {1}, 1, 65536))
            if (w < 1 || w > 65536) __builtin_trap();
        (void)a.fraction("a-in", widenn::rational{0});
        (void)a.text("out", "");
        (void)a.has("float");
        a.reject_unknown();
    } catch (const widenn::error&) {
    }
    return 0;
}
