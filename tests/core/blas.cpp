#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <vector>

// widenn's BLAS header and xtensor-blas coexist in one translation unit (they share declarations).
#include <widenn/core/blas.hpp>
#include <widenn/core/parallel.hpp>
#include <widenn/core/tensor.hpp>
#include <xtensor-blas/xlinalg.hpp>

TEST_CASE("gemm, syrk_upper and axpy compute exact small products in float and double") {
    const std::array<double, 6> a = {1, 2, 3, 4, 5, 6};  // 2x3
    std::array<double, 4> c{};
    widenn::blas::gemm(false, true, 2, 2, 3, 1.0, a.data(), 3, a.data(), 3, 0.0, c.data(), 2);  // A Aᵀ
    CHECK(c == std::array<double, 4>{14, 32, 32, 77});
    std::array<double, 4> upper{-1, -1, -1, -1};
    widenn::blas::syrk_upper(2, 3, 2.0, a.data(), 3, 0.0, upper.data(), 2);
    CHECK(upper[0] == 28);
    CHECK(upper[1] == 64);
    CHECK(upper[3] == 154);
    CHECK(upper[2] == -1);  // the lower triangle is left alone
    // Aᵀ A (3x3) of the same 2x3 A: columns (1,4), (2,5), (3,6).
    std::array<double, 9> gram{-1, -1, -1, -1, -1, -1, -1, -1, -1};
    widenn::blas::syrk_upper_transposed(3, 2, 1.0, a.data(), 3, 0.0, gram.data(), 3);
    CHECK(gram == std::array<double, 9>{17, 22, 27, -1, 29, 36, -1, -1, 45});
    std::array<float, 3> x{1, 2, 3}, y{1, 1, 1};
    widenn::blas::axpy(3, 2.0f, x.data(), y.data());
    CHECK(y == std::array<float, 3>{3, 5, 7});
    const std::array<float, 4> sq{1, 2, 3, 4};
    std::array<float, 4> prod{};
    widenn::blas::gemm(true, false, 2, 2, 2, 1.0f, sq.data(), 2, sq.data(), 2, 0.0f, prod.data(), 2);  // SᵀS
    CHECK(prod == std::array<float, 4>{10, 14, 14, 20});
}

TEST_CASE("trsm solves triangular systems exactly on both sides, in float and double") {
    using widenn::blas::side, widenn::blas::triangle;
    // X·Lᵀ = B with L = [[2, 0], [1, 3]] (the strictly upper entry is junk that must be ignored) and X = [[1, 2], [3, 4], [5, 6]]
    const std::array<double, 4> l{2, 99, 1, 3};
    std::array<double, 6> b{2, 7, 6, 15, 10, 23};
    widenn::blas::trsm(side::right, triangle::lower, true, 3, 2, 1.0, l.data(), 2, b.data(), 2);
    CHECK(b == std::array<double, 6>{1, 2, 3, 4, 5, 6});
    // L·X = 2·B on the left, float: L·[[1, 2], [3, 4]] = [[2, 4], [10, 14]]
    const std::array<float, 4> lf{2, 99, 1, 3};
    std::array<float, 4> bf{1, 2, 5, 7};
    widenn::blas::trsm(side::left, triangle::lower, false, 2, 2, 2.0f, lf.data(), 2, bf.data(), 2);
    CHECK(bf == std::array<float, 4>{1, 2, 3, 4});
    // U·X = B with a unit upper U = [[1, 5], [0, 1]]: the stored diagonal (9) is not read
    const std::array<double, 4> u{9, 5, -7, 9};
    std::array<double, 4> bu{16, 22, 3, 4};
    widenn::blas::trsm(side::left, triangle::upper, false, 2, 2, 1.0, u.data(), 2, bu.data(), 2, true);
    CHECK(bu == std::array<double, 4>{1, 2, 3, 4});
    // nothing to solve: B is left alone
    std::array<double, 1> untouched{42};
    widenn::blas::trsm(side::left, triangle::lower, false, 0, 1, 1.0, l.data(), 1, untouched.data(), 1);
    CHECK(untouched[0] == 42);
}

TEST_CASE("the OpenBLAS thread scope restores the thread count") {
    const int before = widenn::blas::threads();
    {
        widenn::blas::single_threaded_scope scope;
        CHECK(widenn::blas::threads() == 1);
    }
    CHECK(widenn::blas::threads() == before);
}

TEST_CASE("the contiguous and xtensor forms of gemm equal the strided one; a shape mismatch is a shape_error") {
    const widenn::matrix<double> a = {{1.0, 2.0, -1.0}, {0.5, 3.0, 4.0}}, b = {{2.0, -1.0}, {1.0, 0.0}, {3.0, 5.0}};
    widenn::matrix<double> c1 = xt::zeros<double>({2, 2}), c2 = xt::zeros<double>({2, 2}), c3 = xt::zeros<double>({2, 2});
    widenn::blas::gemm(false, false, 2, 2, 3, 1.0, a.data(), 3, b.data(), 2, 0.0, c1.data(), 2);
    widenn::blas::gemm(false, false, 2, 2, 3, 1.0, a.data(), b.data(), 0.0, c2.data());
    widenn::blas::gemm(a, b, c3);
    CHECK(std::equal(c1.begin(), c1.end(), c2.begin()));
    CHECK(std::equal(c1.begin(), c1.end(), c3.begin()));
    CHECK(c1(0, 0) == 1.0);   // 2 + 2 − 3
    CHECK(c1(1, 1) == 19.5);  // −0.5 + 0 + 20
    widenn::matrix<double> wrong = xt::zeros<double>({3, 3});
    CHECK_THROWS_AS(widenn::blas::gemm(a, b, wrong), widenn::shape_error);
}

TEST_CASE("parallel_for and parallel_for_dynamic visit every index once") {
    for (std::size_t count : {0, 1, 7, 1000}) {
        std::vector<std::atomic<int>> seen(count);
        widenn::parallel_for(count, [&](int, std::size_t i) { ++seen[i]; });
        widenn::parallel_for_dynamic(count, 0, [&](int, std::size_t i) { ++seen[i]; });
        for (auto& s : seen) CHECK(s.load() == 2);
    }
}
