#pragma once
// An exact rational number usable as a class-type template argument (C++20 structural type).
// The constructor normalises (positive denominator, lowest terms), so rational{2, 4} and
// rational{1, 2} are the same value and hence the same template argument. In a constant
// expression a zero denominator does not compile; at run time it throws widenn::error.
#include <compare>
#include <cstdint>
#include <numeric>
#include <ostream>
#include <string>
#include <string_view>

#include "errors.hpp"

namespace widenn {

struct rational {
    // Public members keep the type structural (usable as a non-type template parameter).
    std::int64_t num = 0;
    std::int64_t den = 1;

    constexpr rational() = default;
    constexpr rational(std::int64_t numerator, std::int64_t denominator = 1) : num(numerator), den(denominator) {  // NOLINT: implicit from integers is intended
        if (denominator == 0) throw error("widenn::rational: zero denominator");
        if (den < 0) {
            num = -num;
            den = -den;
        }
        const std::int64_t g = std::gcd(num < 0 ? -num : num, den);
        if (g > 1) {
            num /= g;
            den /= g;
        }
    }

    constexpr double to_double() const { return static_cast<double>(num) / static_cast<double>(den); }
    template <class T>
    constexpr T as() const { return static_cast<T>(num) / static_cast<T>(den); }

    constexpr bool is_integer() const { return den == 1; }

    friend constexpr rational operator+(rational x, rational y) { return {x.num * y.den + y.num * x.den, x.den * y.den}; }
    friend constexpr rational operator-(rational x, rational y) { return {x.num * y.den - y.num * x.den, x.den * y.den}; }
    friend constexpr rational operator*(rational x, rational y) { return {x.num * y.num, x.den * y.den}; }
    friend constexpr rational operator/(rational x, rational y) {
        if (y.num == 0) throw error("widenn::rational: division by zero");
        return {x.num * y.den, x.den * y.num};
    }
    friend constexpr rational operator-(rational x) { return {-x.num, x.den}; }
    rational& operator+=(rational y) { return *this = *this + y; }
    rational& operator-=(rational y) { return *this = *this - y; }

    friend constexpr bool operator==(rational x, rational y) = default;  // normalised, so memberwise is exact
    friend constexpr std::strong_ordering operator<=>(rational x, rational y) {
        return x.num * y.den <=> y.num * x.den;  // denominators are positive
    }
};

constexpr rational min(rational x, rational y) { return y < x ? y : x; }
constexpr rational max(rational x, rational y) { return x < y ? y : x; }

inline std::string to_string(rational q) {
    return q.den == 1 ? std::to_string(q.num) : std::to_string(q.num) + "/" + std::to_string(q.den);
}

inline std::ostream& operator<<(std::ostream& os, rational q) { return os << to_string(q); }

// Parse "3", "-1/2", "+2/4" (normalised). Throws widenn::error naming the text on anything else.
inline rational parse_rational(std::string_view text) {
    auto bad = [&]() -> rational { fail("widenn::parse_rational: cannot read '", text, "' as a rational (expected p or p/q, e.g. -1/2)"); };
    auto parse_int = [&](std::string_view s, bool allow_sign) -> std::int64_t {
        if (s.empty()) bad();
        bool negative = false;
        if (allow_sign && (s.front() == '-' || s.front() == '+')) {
            negative = s.front() == '-';
            s.remove_prefix(1);
        }
        if (s.empty() || s.size() > 15) bad();
        std::int64_t value = 0;
        for (char ch : s) {
            if (ch < '0' || ch > '9') bad();
            value = value * 10 + (ch - '0');
        }
        return negative ? -value : value;
    };
    const auto slash = text.find('/');
    if (slash == std::string_view::npos) return rational(parse_int(text, true));
    const std::int64_t q = parse_int(text.substr(slash + 1), false);
    if (q == 0) fail("widenn::parse_rational: zero denominator in '", text, "'");
    return rational(parse_int(text.substr(0, slash), true), q);
}

}  // namespace widenn
