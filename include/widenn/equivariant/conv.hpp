#pragma once
// Batched 2-D cross-correlation with a given kernel matrix, by im2col and one GEMM per image (BLAS-bound), and
// its backward pass. The lifting and group-convolution layers compute their kernel matrix from the kernel MLP
// and call these; conv2d (a plain CNN layer, the baseline of the affine-invariance benchmark) learns it directly.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <xtensor/xtensor.hpp>

#include "../core/errors.hpp"
#include "../core/rng.hpp"
#include "../core/blas.hpp"
#include "../core/parallel.hpp"
#include "siren.hpp"

namespace widenn::equivariant {

namespace detail {

// Geometry of a k×k cross-correlation with zero padding p and stride 1 over a C×H×W input.
struct conv_geometry {
    std::size_t channels = 0, height = 0, width = 0, kernel = 1, padding = 0;
    std::size_t out_height() const { return height + 2 * padding - kernel + 1; }
    std::size_t out_width() const { return width + 2 * padding - kernel + 1; }
    std::size_t rows() const { return channels * kernel * kernel; }          // rows of the column matrix
    std::size_t columns() const { return out_height() * out_width(); }       // output positions
};

inline void require_fits(const conv_geometry& g, std::string_view where) {
    if (g.height + 2 * g.padding < g.kernel || g.width + 2 * g.padding < g.kernel)
        fail<shape_error>(where, ": images must be at least ", g.kernel, " x ", g.kernel, " after padding ", g.padding, ", got ", g.height, " x ",
                          g.width);
}

// Visits the im2col matrix row by row: for tap (c, di, dj) and output row y, copy(col_offset, input_offset, length)
// names the run of col that equals input [input_offset, input_offset + length), and zero(col_offset, length) each run
// that is zero padding (on the left and right of the copied run, or a whole row above or below the image). im2col and
// its adjoint col2im_add are the two directions of this one correspondence.
template <class Copy, class Zero>
void for_each_im2col_run(const conv_geometry& g, Copy&& copy, Zero&& zero) {
    const std::size_t oh = g.out_height(), ow = g.out_width(), k = g.kernel, p = g.padding, H = g.height, W = g.width;
    for (std::size_t c = 0; c < g.channels; ++c)
        for (std::size_t di = 0; di < k; ++di)
            for (std::size_t dj = 0; dj < k; ++dj) {
                const std::size_t row = ((c * k + di) * k + dj) * oh * ow;
                // valid output columns: 0 <= xx + dj − p < W
                const std::size_t x_begin = std::min(ow, p > dj ? p - dj : 0), x_end = std::max(x_begin, std::min(ow, W + p - dj));
                for (std::size_t y = 0; y < oh; ++y) {
                    const std::size_t out = row + y * ow;
                    if (y + di < p || y + di - p >= H) {
                        zero(out, ow);
                        continue;
                    }
                    zero(out, x_begin);
                    copy(out + x_begin, c * H * W + (y + di - p) * W + (x_begin + dj - p), x_end - x_begin);
                    zero(out + x_end, ow - x_end);
                }
            }
}

// col[(c·k + di)·k + dj][y·ow + x] = input[c][y + di − p][x + dj − p] (0 outside): each row a shifted copy of the input plane.
template <class T>
void im2col(const T* x, const conv_geometry& g, T* col) {
    for_each_im2col_run(
        g, [&](std::size_t to, std::size_t from, std::size_t n) { std::copy(x + from, x + from + n, col + to); },
        [&](std::size_t to, std::size_t n) { std::fill(col + to, col + to + n, T(0)); });
}

// The adjoint of im2col: adds col back into dx (the padding runs have no input to go to).
template <class T>
void col2im_add(const T* col, const conv_geometry& g, T* dx) {
    for_each_im2col_run(
        g,
        [&](std::size_t from, std::size_t to, std::size_t n) {
            for (std::size_t i = 0; i < n; ++i) dx[to + i] += col[from + i];
        },
        [](std::size_t, std::size_t) {});
}

// y[b] = K · im2col(x[b]) for every image b: K is O × (C k²), x is B × (C H W), y is B × (O oh ow). Images in parallel.
template <class T>
void conv_forward(const T* kernel, std::size_t out_channels, const T* x, std::size_t batch, const conv_geometry& g, T* y) {
    std::vector<std::vector<T>> col(static_cast<std::size_t>(threads_for(batch)), std::vector<T>(g.rows() * g.columns()));
    parallel_for(batch, [&](int thread, std::size_t b) {
        T* c = col[static_cast<std::size_t>(thread)].data();
        im2col(x + b * g.channels * g.height * g.width, g, c);
        blas::gemm<T>(false, false, out_channels, g.columns(), g.rows(), T(1), kernel, c, T(0), y + b * out_channels * g.columns());
    });
}

// Backward of conv_forward: d_kernel += Σ_b dy[b] · col(x[b])ᵀ and, if dx is not null, dx[b] = col2im(Kᵀ dy[b]).
// Images in parallel; each thread sums its images' kernel gradients, and the sums are added in thread order.
template <class T>
void conv_backward(const T* kernel, std::size_t out_channels, const T* x, const T* dy, std::size_t batch, const conv_geometry& g, T* d_kernel,
                   T* dx) {
    const auto threads = static_cast<std::size_t>(threads_for(batch));
    const std::size_t in_size = g.channels * g.height * g.width, out_size = out_channels * g.columns(), kernel_size = out_channels * g.rows();
    std::vector<std::vector<T>> col(threads, std::vector<T>(g.rows() * g.columns())), d_col(threads, std::vector<T>(dx ? g.rows() * g.columns() : 0));
    std::vector<std::vector<T>> partial(threads - 1, std::vector<T>(kernel_size, T(0)));  // thread 0 adds into d_kernel
    parallel_for(batch, [&](int thread, std::size_t b) {
        const auto t = static_cast<std::size_t>(thread);
        T* c = col[t].data();
        im2col(x + b * in_size, g, c);
        blas::gemm<T>(false, true, out_channels, g.rows(), g.columns(), T(1), dy + b * out_size, c, T(1), t == 0 ? d_kernel : partial[t - 1].data());
        if (dx) {
            blas::gemm<T>(true, false, g.rows(), g.columns(), out_channels, T(1), kernel, dy + b * out_size, T(0), d_col[t].data());
            std::fill(dx + b * in_size, dx + (b + 1) * in_size, T(0));
            col2im_add(d_col[t].data(), g, dx + b * in_size);
        }
    });
    for (const auto& p : partial)
        for (std::size_t i = 0; i < kernel_size; ++i) d_kernel[i] += p[i];
}

}  // namespace detail

struct conv2d_config {
    std::size_t in_channels = 1, out_channels = 1, kernel = 3, padding = 0;
    bool bias = true;
    std::uint64_t seed = 0;
};

// A plain 2-D convolution (cross-correlation) with a learned k×k kernel: B×C×H×W -> B×O×H'×W'.
// PyTorch's default init: U(±1/√(C k²)) for weights and bias.
template <class T>
class conv2d {
public:
    explicit conv2d(const conv2d_config& c)
        : config_(c), weight_("conv2d.weight", c.out_channels * c.in_channels * c.kernel * c.kernel), bias_("conv2d.bias", c.bias ? c.out_channels : 0) {
        require(c.in_channels > 0 && c.out_channels > 0 && c.kernel > 0, "widenn::equivariant::conv2d: channels and kernel size must be positive");
        rng r = rng::stream(c.seed, 0xC0);
        const double bound = 1.0 / std::sqrt(static_cast<double>(c.in_channels * c.kernel * c.kernel));
        nn::fill_uniform(weight_.value, bound, r);
        nn::fill_uniform(bias_.value, bound, r);
    }

    xt::xtensor<T, 4> forward(const xt::xtensor<T, 4>& x) {
        geometry_ = geometry_of(x, "widenn::equivariant::conv2d::forward");
        input_ = x;
        const std::size_t B = x.shape()[0], O = config_.out_channels;
        xt::xtensor<T, 4> y = xt::empty<T>({B, O, geometry_.out_height(), geometry_.out_width()});
        detail::conv_forward(weight_.value.data(), O, x.data(), B, geometry_, y.data());
        if (config_.bias)
            for (std::size_t b = 0; b < B; ++b)
                for (std::size_t o = 0; o < O; ++o) {
                    T* plane = y.data() + (b * O + o) * geometry_.columns();
                    for (std::size_t i = 0; i < geometry_.columns(); ++i) plane[i] += bias_.value[o];
                }
        return y;
    }

    xt::xtensor<T, 4> backward(const xt::xtensor<T, 4>& dy) {
        const std::size_t B = input_.shape()[0], O = config_.out_channels;
        if (dy.shape() != std::array<std::size_t, 4>{B, O, geometry_.out_height(), geometry_.out_width()})
            fail<shape_error>("widenn::equivariant::conv2d::backward: the output gradient must have the shape of the last output");
        xt::xtensor<T, 4> dx = xt::zeros<T>(input_.shape());
        detail::conv_backward(weight_.value.data(), O, input_.data(), dy.data(), B, geometry_, weight_.grad.data(), dx.data());
        if (config_.bias)
            for (std::size_t b = 0; b < B; ++b)
                for (std::size_t o = 0; o < O; ++o) {
                    const T* plane = dy.data() + (b * O + o) * geometry_.columns();
                    for (std::size_t i = 0; i < geometry_.columns(); ++i) bias_.grad[o] += plane[i];
                }
        return dx;
    }

    std::vector<nn::parameter<T>*> parameters() {
        if (config_.bias) return {&weight_, &bias_};
        return {&weight_};
    }
    const conv2d_config& config() const { return config_; }

private:
    detail::conv_geometry geometry_of(const xt::xtensor<T, 4>& x, std::string_view where) const {
        if (x.shape()[1] != config_.in_channels)
            fail<shape_error>(where, ": expected ", config_.in_channels, " input channels, got ", x.shape()[1]);
        detail::conv_geometry g{config_.in_channels, x.shape()[2], x.shape()[3], config_.kernel, config_.padding};
        detail::require_fits(g, where);
        return g;
    }

    conv2d_config config_;
    nn::parameter<T> weight_, bias_;
    detail::conv_geometry geometry_;
    xt::xtensor<T, 4> input_;
};

}  // namespace widenn::equivariant
