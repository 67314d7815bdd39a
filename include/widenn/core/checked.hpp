#pragma once
// Size arithmetic that cannot wrap: a product of sizes that overflows is bad input (a corrupt header, an absurd
// width), not a small number. And the memory a request needs, checked against what the machine has before the
// allocation, so that a request too large fails with the size it needs instead of std::bad_alloc.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <string>
#include <string_view>

#include <unistd.h>

#include "errors.hpp"

namespace widenn {

// The product of sizes, or a widenn::error naming `what` when it does not fit in std::size_t.
template <class Sizes>
std::size_t checked_product(const Sizes& factors, std::string_view what) {
    std::size_t out = 1;
    for (const auto f : factors)
        if (__builtin_mul_overflow(out, static_cast<std::size_t>(f), &out)) fail(what, ": the sizes multiply to more than 2^64");
    return out;
}
inline std::size_t checked_product(std::initializer_list<std::size_t> factors, std::string_view what) {
    return checked_product<std::initializer_list<std::size_t>>(factors, what);
}

// Bytes as "1.5 GB" for messages.
inline std::string format_bytes(double bytes) {
    const char* units[] = {"B", "KB", "MB", "GB", "TB", "PB"};
    int u = 0;
    while (bytes >= 1000 && u < 5) {
        bytes /= 1000;
        ++u;
    }
    char text[32];
    std::snprintf(text, sizeof text, bytes < 10 && u > 0 ? "%.1f %s" : "%.0f %s", bytes, units[u]);
    return text;
}

// Memory this process can still use: MemAvailable from /proc/meminfo (Linux), else the physical memory.
inline std::size_t available_memory_bytes() {
    std::ifstream meminfo("/proc/meminfo");
    std::string key;
    std::size_t kilobytes = 0;
    std::string unit;
    while (meminfo >> key >> kilobytes >> unit)
        if (key == "MemAvailable:") return kilobytes * 1024;
    const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
    return pages > 0 && page > 0 ? static_cast<std::size_t>(pages) * static_cast<std::size_t>(page)
                                 : std::numeric_limits<std::size_t>::max();
}

// Refuses, before any allocation, a request for `bytes` that exceeds the available memory. `what` names the request
// and `remedy` says what to do instead.
inline void require_memory(std::size_t bytes, std::string_view what, std::string_view remedy) {
    const std::size_t available = available_memory_bytes();
    if (bytes > available)
        fail(what, " needs ", format_bytes(static_cast<double>(bytes)), " of memory, but only ",
             format_bytes(static_cast<double>(available)), " is available; ", remedy);
}

}  // namespace widenn
