#pragma once
// A dense layer over nn::parameter storage, with forward and backward on a batch: the building block of heads and
// other layers outside nn::mlp (the equivariant models' classifier head), trained by nn's optimisers.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <xtensor/xtensor.hpp>

#include "../core/blas.hpp"
#include "../core/errors.hpp"
#include "../core/rng.hpp"
#include "trainable.hpp"

namespace widenn::nn {

// y = x Wᵀ (+ b): B × in -> B × out; PyTorch's default init U(±1/√in).
template <class T>
class linear {
public:
    linear(std::size_t in, std::size_t out, bool bias, std::uint64_t seed)
        : in_(in), out_(out), weight_("linear.weight", in * out), bias_("linear.bias", bias ? out : 0) {
        require(in > 0 && out > 0, "widenn::nn::linear: sizes must be positive, got ", in, " -> ", out);
        rng r = rng::stream(seed, 0x11);
        fill_uniform(weight_.value, 1.0 / std::sqrt(static_cast<double>(in)), r);
        fill_uniform(bias_.value, 1.0 / std::sqrt(static_cast<double>(in)), r);
    }
    xt::xtensor<T, 2> forward(const xt::xtensor<T, 2>& x) {
        if (x.shape()[1] != in_) fail<shape_error>("widenn::nn::linear::forward: expected ", in_, " input features, got ", x.shape()[1]);
        input_ = x;
        const std::size_t B = x.shape()[0];
        xt::xtensor<T, 2> y = xt::zeros<T>(std::array<std::size_t, 2>{B, out_});
        for (std::size_t b = 0; b < B && bias_.size(); ++b) std::copy(bias_.value.begin(), bias_.value.end(), y.data() + b * out_);
        blas::gemm<T>(false, true, B, out_, in_, T(1), x.data(), weight_.value.data(), T(1), y.data());
        return y;
    }
    xt::xtensor<T, 2> backward(const xt::xtensor<T, 2>& dy) {
        const std::size_t B = input_.shape()[0];
        if (dy.shape()[0] != B || dy.shape()[1] != out_) fail<shape_error>("widenn::nn::linear::backward: gradient must be ", B, " x ", out_);
        blas::gemm<T>(true, false, out_, in_, B, T(1), dy.data(), input_.data(), T(1), weight_.grad.data());
        for (std::size_t b = 0; b < B && bias_.size(); ++b)
            for (std::size_t o = 0; o < out_; ++o) bias_.grad[o] += dy.data()[b * out_ + o];
        xt::xtensor<T, 2> dx = xt::zeros<T>(std::array<std::size_t, 2>{B, in_});
        blas::gemm<T>(false, false, B, in_, out_, T(1), dy.data(), weight_.value.data(), T(0), dx.data());
        return dx;
    }
    std::vector<nn::parameter<T>*> parameters() {
        if (bias_.size()) return {&weight_, &bias_};
        return {&weight_};
    }

private:
    std::size_t in_, out_;
    nn::parameter<T> weight_, bias_;
    xt::xtensor<T, 2> input_;
};

}  // namespace widenn::nn
