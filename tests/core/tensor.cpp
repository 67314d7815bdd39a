// core/tensor.hpp: the copying row and column accessors and the shape and finiteness checks.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include <widenn/core/tensor.hpp>

using widenn::matrix;
using widenn::vector;

TEST_CASE("row_block, column and set_column copy exactly the entries they name; out-of-range indices are errors") {
    matrix<double> m = xt::empty<double>({4, 3});
    for (std::size_t i = 0; i < 4; ++i)
        for (std::size_t j = 0; j < 3; ++j) m(i, j) = static_cast<double>(10 * i + j);
    const matrix<double> block = widenn::row_block(m, 1, 3);
    REQUIRE(block.shape()[0] == 2);
    REQUIRE(block.shape()[1] == 3);
    CHECK(block(0, 0) == 10.0);
    CHECK(block(1, 2) == 22.0);
    CHECK(widenn::row_block(m, 2, 2).shape()[0] == 0);
    CHECK_THROWS_AS(widenn::row_block(m, 3, 5), widenn::error);
    CHECK_THROWS_AS(widenn::row_block(m, 3, 2), widenn::error);

    const vector<double> c = widenn::column(m, 2);
    REQUIRE(c.size() == 4);
    for (std::size_t i = 0; i < 4; ++i) CHECK(c(i) == static_cast<double>(10 * i + 2));
    CHECK_THROWS_AS(widenn::column(m, 3), widenn::error);

    widenn::set_column(m, 0, c);
    for (std::size_t i = 0; i < 4; ++i) CHECK(m(i, 0) == m(i, 2));
    CHECK_THROWS_AS(widenn::set_column(m, 0, vector<double>(xt::zeros<double>({3}))), widenn::error);
}

TEST_CASE("require_shape and require_finite name what is wrong") {
    const matrix<double> m = xt::zeros<double>({2, 3});
    CHECK_NOTHROW(widenn::require_shape(m, 2, widenn::any_size, "f"));
    try {
        widenn::require_shape(m, 3, 3, "f", "x");
        FAIL("no shape_error");
    } catch (const widenn::shape_error& e) {
        CHECK(std::string(e.what()) == "f: x must be 3 x 3, got 2 x 3");
    }
    matrix<double> n = m;
    n(1, 2) = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_WITH_AS(widenn::require_finite(n, "g"), doctest::Contains("flat index 5"), widenn::error);
}
