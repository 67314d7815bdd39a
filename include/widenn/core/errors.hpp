#pragma once
// Error types: every runtime failure of widenn derives from widenn::error.
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace widenn {

// Bad runtime input: the message names the function, what was expected and what was given.
struct error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// A shape (or size) did not match what the function requires.
struct shape_error : error {
    using error::error;
};

// A numerical method failed (Cholesky breakdown, non-convergence, ...): the message says what was tried.
struct numerical_error : error {
    using error::error;
};

namespace detail {
template <class... Parts>
std::string concat(Parts&&... parts) {
    std::ostringstream out;
    (out << ... << std::forward<Parts>(parts));
    return out.str();
}
}  // namespace detail

// Throw E with a message built by streaming the parts: fail<shape_error>("mlp::forward: expected ", d, ...).
template <class E = error, class... Parts>
[[noreturn]] void fail(Parts&&... parts) {
    throw E(detail::concat(std::forward<Parts>(parts)...));
}

// A helper for the most common check: `require(cond, "fn: message parts", ...)`.
template <class E = error, class... Parts>
void require(bool condition, Parts&&... parts) {
    if (!condition) fail<E>(std::forward<Parts>(parts)...);
}

}  // namespace widenn
