#pragma once
// An exact rational number usable as a class-type template argument (C++20 structural type).
// The constructor normalises (positive denominator, lowest terms), so rational{2, 4} and
// rational{1, 2} are the same value and hence the same template argument. In a constant
// expression a zero denominator does not compile; at run time it throws widenn::error. Arithmetic is exact or it
// fails: a result whose numerator or denominator does not fit in 64 bits does not compile in a constant expression
// and throws widenn::error at run time (never undefined behaviour, never a wrapped value).
#include <climits>
#include <compare>
#include <cstdint>
#include <numeric>
#include <ostream>
#include <string>
#include <string_view>

#include "errors.hpp"

namespace widenn {

namespace detail {
__extension__ typedef __int128 int128;  // exact cross products for comparisons (GCC and Clang)
}

struct rational {
    // Public members keep the type structural (usable as a non-type template parameter).
    std::int64_t num = 0;
    std::int64_t den = 1;

    constexpr rational() = default;
    constexpr rational(std::int64_t numerator, std::int64_t denominator = 1) : num(numerator), den(denominator) {  // NOLINT: implicit from integers is intended
        if (denominator == 0) throw error("widenn::rational: zero denominator");
        // -INT64_MIN does not exist: keep both parts in ±(2^63 - 1) so that negation and gcd are defined.
        if (num == INT64_MIN || den == INT64_MIN) throw error("widenn::rational: a numerator or denominator of -2^63 is out of range");
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

    friend constexpr rational operator+(rational x, rational y) {
        const std::int64_t g = std::gcd(x.den, y.den);  // a/b + c/d = (a·(d/g) + c·(b/g)) / (b·(d/g)): smaller terms
        return {add(mul(x.num, y.den / g), mul(y.num, x.den / g)), mul(x.den, y.den / g)};
    }
    friend constexpr rational operator-(rational x, rational y) { return x + (-y); }
    friend constexpr rational operator*(rational x, rational y) {
        const std::int64_t g1 = std::gcd(x.num < 0 ? -x.num : x.num, y.den), g2 = std::gcd(y.num < 0 ? -y.num : y.num, x.den);
        if (g1 == 0 || g2 == 0) return {0, 1};  // a zero factor
        return {mul(x.num / g1, y.num / g2), mul(x.den / g2, y.den / g1)};
    }
    friend constexpr rational operator/(rational x, rational y) {
        if (y.num == 0) throw error("widenn::rational: division by zero");
        return x * rational(y.den, y.num);
    }
    friend constexpr rational operator-(rational x) { return {-x.num, x.den}; }
    rational& operator+=(rational y) { return *this = *this + y; }
    rational& operator-=(rational y) { return *this = *this - y; }

    friend constexpr bool operator==(rational x, rational y) = default;  // normalised, so memberwise is exact
    friend constexpr std::strong_ordering operator<=>(rational x, rational y) {
        // Denominators are positive; the cross products are exact in 128 bits.
        return static_cast<detail::int128>(x.num) * y.den <=> static_cast<detail::int128>(y.num) * x.den;
    }

private:
    static constexpr std::int64_t mul(std::int64_t a, std::int64_t b) {
        std::int64_t out = 0;
        if (__builtin_mul_overflow(a, b, &out) || out == INT64_MIN) throw error("widenn::rational: arithmetic overflows 64 bits");
        return out;
    }
    static constexpr std::int64_t add(std::int64_t a, std::int64_t b) {
        std::int64_t out = 0;
        if (__builtin_add_overflow(a, b, &out) || out == INT64_MIN) throw error("widenn::rational: arithmetic overflows 64 bits");
        return out;
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
