#pragma once
// The message a test expects from a widenn::error, shared by the test areas.
#include <string>

#include <widenn/core/errors.hpp>

namespace widenn_test {

// The message of the widenn::error that f throws, or "(no error)", which no expected message contains.
template <class F>
std::string message_of(F&& f) {
    try {
        f();
    } catch (const widenn::error& e) {
        return e.what();
    }
    return "(no error)";
}

inline bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace widenn_test
