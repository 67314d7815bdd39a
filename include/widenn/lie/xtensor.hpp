#pragma once
// Conversions between lie::mat and xtensor matrices, so that the matrix functions apply to xt::xtensor<T, 2> data:
// lie::to_xtensor(lie::expm(lie::from_xtensor(a))) (size chosen at run time), or from_xtensor<3>(a) for a fixed size.
#include <algorithm>

#include <xtensor/xtensor.hpp>

#include "../core/tensor.hpp"
#include "matrix.hpp"

namespace widenn::lie {

// A square xtensor matrix as lie::mat<T, N>; N = dynamic (default) takes the size from a, a fixed N must match it.
template <std::size_t N = dynamic, class T>
mat<T, N> from_xtensor(const xt::xtensor<T, 2>& a) {
    require_shape(a, N == dynamic ? a.shape()[0] : N, N == dynamic ? a.shape()[0] : N, "lie::from_xtensor", "matrix (square)");
    mat<T, N> out(a.shape()[0]);
    std::copy(a.begin(), a.end(), out.begin());
    return out;
}

template <class T, std::size_t N>
xt::xtensor<T, 2> to_xtensor(const mat<T, N>& m) {
    xt::xtensor<T, 2> out = xt::xtensor<T, 2>::from_shape({m.size(), m.size()});
    std::copy(m.begin(), m.end(), out.begin());
    return out;
}

}  // namespace widenn::lie
