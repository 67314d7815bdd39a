#pragma once
// Helpers shared by the io/ tests.
#include <doctest/doctest.h>

#include <functional>
#include <string>

#include <widenn/core/errors.hpp>

namespace widenn_io_test {

// The message of the widenn::error thrown by f, or "" (and a failed check) if none was thrown.
inline std::string error_message(const std::function<void()>& f) {
    try {
        f();
    } catch (const widenn::error& e) {
        return e.what();
    }
    FAIL_CHECK("expected a widenn::error");
    return "";
}

inline bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace widenn_io_test
