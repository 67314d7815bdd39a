#include <doctest/doctest.h>

#include <type_traits>

#include <widenn/core/rational.hpp>

using widenn::rational;

template <rational Q>
struct tag {};

TEST_CASE("rational is a normalised class-type template argument") {
    static_assert(std::is_same_v<tag<rational{2, 4}>, tag<rational{1, 2}>>);
    static_assert(std::is_same_v<tag<rational{-3, -6}>, tag<rational{1, 2}>>);
    static_assert(!std::is_same_v<tag<rational{1, 2}>, tag<rational{-1, 2}>>);
    static_assert(rational{3, -6} == rational{-1, 2});
    static_assert(rational{0, 5} == rational{0});
    CHECK(rational{6, 4}.num == 3);
    CHECK(rational{6, 4}.den == 2);
}

TEST_CASE("rational arithmetic and ordering are exact in constant expressions") {
    static_assert(rational{1, 2} + rational{1, 3} == rational{5, 6});
    static_assert(rational{1, 2} - rational{1, 3} == rational{1, 6});
    static_assert(rational{2, 3} * rational{3, 4} == rational{1, 2});
    static_assert(rational{2, 3} / rational{4, 9} == rational{3, 2});
    static_assert(-rational{1, 2} < rational{0});
    static_assert(rational{1, 3} < rational{1, 2});
    static_assert(rational{-1, 2} <= rational{-2, 4});
    static_assert(widenn::min(rational{1, 2}, rational{2, 5}) == rational{2, 5});
    CHECK(rational{1, 4}.to_double() == 0.25);
}

TEST_CASE("zero denominators and unreadable text are errors at run time") {
    volatile long long zero = 0;
    CHECK_THROWS_AS(rational(1, zero), widenn::error);
    CHECK_THROWS_AS(rational{1} / rational{0}, widenn::error);
    CHECK(widenn::parse_rational("-1/2") == rational{-1, 2});
    CHECK(widenn::parse_rational("+2/4") == rational{1, 2});
    CHECK(widenn::parse_rational("7") == rational{7});
    for (const char* bad : {"", "1/", "/2", "1/0", "a", "1.5", "1/-2", "--1", "1/2/3"})
        CHECK_THROWS_AS(widenn::parse_rational(bad), widenn::error);
    CHECK(widenn::to_string(rational{-3, 6}) == "-1/2");
}

TEST_CASE("rational arithmetic that does not fit in 64 bits throws instead of wrapping") {
    // Eight-digit primes as denominators: their products pass 2^63 after three factors.
    const rational a{1, 99999989}, b{1, 99999971}, c{1, 99999959};
    CHECK_THROWS_WITH_AS(a + b * c, doctest::Contains("overflows 64 bits"), widenn::error);
    CHECK_THROWS_AS(rational(INT64_MIN, 1), widenn::error);
    CHECK_THROWS_AS(rational(INT64_MAX) + rational(1), widenn::error);
    CHECK_THROWS_AS(rational(INT64_MAX) * rational(2), widenn::error);
    // Cancellation before multiplying keeps exact results exact when they fit.
    CHECK(rational(INT64_MAX, 3) * rational(3, INT64_MAX) == rational(1));
    CHECK(a * rational(99999989) == rational(1));
    CHECK(rational(INT64_MAX - 1, 2) + rational(1, 2) == rational(INT64_MAX, 2));
    // Comparison is exact for any two representable values (128-bit cross products).
    CHECK(rational(INT64_MAX - 1, INT64_MAX) < rational(INT64_MAX, INT64_MAX - 1));
    CHECK(rational(-INT64_MAX, 3) < rational(INT64_MAX, 7));
}
