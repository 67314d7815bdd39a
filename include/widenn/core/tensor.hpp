#pragma once
// Tensor aliases and shape checks shared by every area.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string_view>

#include <xtensor/xtensor.hpp>

#include "errors.hpp"
#include "rng.hpp"

namespace widenn {

template <class T>
using vector = xt::xtensor<T, 1>;
template <class T>
using matrix = xt::xtensor<T, 2>;

// A rows x cols matrix of i.i.d. N(0, scale^2) entries from widenn::rng(seed), filled in row-major
// order, so the values depend only on the seed.
template <class T = double>
matrix<T> normal_matrix(std::size_t rows, std::size_t cols, std::uint64_t seed, T scale = T(1)) {
    rng gen(seed);
    matrix<T> m = xt::empty<T>({rows, cols});
    for (auto& v : m) v = scale * static_cast<T>(gen.normal());
    return m;
}

// Throws shape_error naming `where` unless m is rows x cols (pass npos to leave a dimension free).
inline constexpr std::size_t any_size = static_cast<std::size_t>(-1);

template <class M>
void require_shape(const M& m, std::size_t rows, std::size_t cols, std::string_view where, std::string_view what = "input") {
    const auto& s = m.shape();
    if (s.size() != 2 || (rows != any_size && s[0] != rows) || (cols != any_size && s[1] != cols)) {
        auto dim = [](std::size_t v) { return v == any_size ? std::string("*") : std::to_string(v); };
        fail<shape_error>(where, ": ", what, " must be ", dim(rows), " x ", dim(cols), ", got ",
                          s.size() == 2 ? std::to_string(s[0]) + " x " + std::to_string(s[1]) : "rank " + std::to_string(s.size()));
    }
}

// Throws widenn::error naming `where` and the first offending index if any entry is NaN or infinite.
template <class E>
void require_finite(const E& e, std::string_view where, std::string_view what = "input") {
    std::size_t i = 0;
    for (auto v : e) {
        if (!std::isfinite(static_cast<double>(v))) fail(where, ": ", what, " has a non-finite value (", v, ") at flat index ", i);
        ++i;
    }
}

// Rows [begin, end) of a row-major matrix, copied (a contiguous block; cheaper to compile than an xt::view).
template <class T>
matrix<T> row_block(const matrix<T>& m, std::size_t begin, std::size_t end) {
    require(begin <= end && end <= m.shape()[0], "widenn::row_block: rows [", begin, ", ", end, ") of a matrix with ", m.shape()[0], " rows");
    const std::size_t cols = m.shape()[1];
    matrix<T> out = xt::empty<T>({end - begin, cols});
    std::copy(m.data() + begin * cols, m.data() + end * cols, out.data());
    return out;
}

// Column j of m, copied, and its inverse: m(:, j) = v.
template <class T>
vector<T> column(const matrix<T>& m, std::size_t j) {
    require(j < m.shape()[1], "widenn::column: column ", j, " of a matrix with ", m.shape()[1], " columns");
    vector<T> v = xt::empty<T>({m.shape()[0]});
    for (std::size_t i = 0; i < v.size(); ++i) v(i) = m(i, j);
    return v;
}
template <class T>
void set_column(matrix<T>& m, std::size_t j, const vector<T>& v) {
    require(j < m.shape()[1] && v.size() == m.shape()[0], "widenn::set_column: column ", j, " of ", m.shape()[0], " x ", m.shape()[1],
            " from a vector of ", v.size());
    for (std::size_t i = 0; i < v.size(); ++i) m(i, j) = v(i);
}

}  // namespace widenn
