#pragma once
// The action of a group acting on the plane (affine<H>, so<2>, gl_plus<2>, sl<2>) on images, (g·f)(u) = f(g⁻¹u),
// by bilinear resampling of the transformed grid with zero padding, and its exact adjoint (for backpropagation).
// Pixel (i, j) of an H x W image sits at u = ((2j + 1)/W - 1, (2i + 1)/H - 1): x along columns, y along rows (down),
// both in (-1, 1), the convention of rgenn's kernel grid and of torch's affine_grid with align_corners = False.
// On this grid the rotation by 90° and the reflection-free symmetries of the square map pixel centres to pixel centres,
// so they act exactly.
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include <xtensor/xtensor.hpp>

#include "group.hpp"

namespace widenn::lie {

// The linear map f -> g·f on H x W images, precomputed once (four taps per output pixel) and applied to any number of
// images: apply on (..., H, W) tensors, apply_adjoint is its transpose.
template <class T>
class image_warp {
public:
    template <class G>
    image_warp(const G& g, std::size_t height, std::size_t width) : height_(height), width_(width), taps_(height * width) {
        static_assert(G::dim == 2, "widenn::lie::image_warp: the group must act on the plane (G::dim == 2)");
        static_assert(std::is_same_v<typename G::scalar, T>, "widenn::lie::image_warp: the group's scalar type must match the image's");
        require(height > 0 && width > 0, "lie::image_warp: image size must be positive, got ", height, " x ", width);
        const auto inv = g.inverse();
        const T h = static_cast<T>(height), w = static_cast<T>(width);
        for (std::size_t i = 0; i < height; ++i)
            for (std::size_t j = 0; j < width; ++j) {
                const typename G::point u{(2 * static_cast<T>(j) + 1) / w - 1, (2 * static_cast<T>(i) + 1) / h - 1};
                const auto p = inv.act(u);
                // continuous pixel indices of p
                T cj = ((p[0] + 1) * w - 1) / 2, ci = ((p[1] + 1) * h - 1) / 2;
                // Snap round-off next to a pixel centre, so that maps between pixel centres act exactly.
                const T snap = 64 * std::numeric_limits<T>::epsilon() * (1 + std::max(h, w));
                if (std::abs(cj - std::round(cj)) < snap) cj = std::round(cj);
                if (std::abs(ci - std::round(ci)) < snap) ci = std::round(ci);
                tap& t = taps_[i * width + j];
                if (!(std::isfinite(ci) && std::isfinite(cj)) || ci <= T(-1) || cj <= T(-1) || ci >= h || cj >= w) continue;
                const T fi = std::floor(ci), fj = std::floor(cj);
                const T di = ci - fi, dj = cj - fj;
                const long i0 = static_cast<long>(fi), j0 = static_cast<long>(fj);
                const std::array<long, 2> is{i0, i0 + 1}, js{j0, j0 + 1};
                const std::array<T, 2> wi{1 - di, di}, wj{1 - dj, dj};
                int k = 0;
                for (int a = 0; a < 2; ++a)
                    for (int b = 0; b < 2; ++b, ++k) {
                        const bool inside = is[a] >= 0 && is[a] < static_cast<long>(height) && js[b] >= 0 && js[b] < static_cast<long>(width);
                        t.index[k] = inside ? static_cast<std::uint32_t>(is[a] * static_cast<long>(width) + js[b]) : 0;
                        t.weight[k] = inside ? wi[a] * wj[b] : T(0);
                    }
            }
    }

    std::size_t height() const { return height_; }
    std::size_t width() const { return width_; }

    // out = g·in for every image in a (..., H, W) tensor.
    template <std::size_t R>
    void apply(const xt::xtensor<T, R>& in, xt::xtensor<T, R>& out) const {
        const std::size_t count = check(in, "lie::image_warp::apply");
        if (out.shape() != in.shape()) out = xt::xtensor<T, R>::from_shape(in.shape());
        const std::size_t px = height_ * width_;
        for (std::size_t b = 0; b < count; ++b) {
            const T* src = in.data() + b * px;
            T* dst = out.data() + b * px;
            for (std::size_t q = 0; q < px; ++q) {
                const tap& t = taps_[q];
                dst[q] = t.weight[0] * src[t.index[0]] + t.weight[1] * src[t.index[1]] + t.weight[2] * src[t.index[2]] +
                         t.weight[3] * src[t.index[3]];
            }
        }
    }
    template <std::size_t R>
    xt::xtensor<T, R> apply(const xt::xtensor<T, R>& in) const {
        xt::xtensor<T, R> out = xt::xtensor<T, R>::from_shape(in.shape());
        apply(in, out);
        return out;
    }
    // grad_in = (g·)ᵀ grad_out: the exact transpose of apply, so <g·f, u> = <f, apply_adjoint(u)>.
    template <std::size_t R>
    xt::xtensor<T, R> apply_adjoint(const xt::xtensor<T, R>& grad_out) const {
        const std::size_t count = check(grad_out, "lie::image_warp::apply_adjoint");
        xt::xtensor<T, R> grad_in = xt::zeros<T>(grad_out.shape());
        const std::size_t px = height_ * width_;
        for (std::size_t b = 0; b < count; ++b) {
            const T* src = grad_out.data() + b * px;
            T* dst = grad_in.data() + b * px;
            for (std::size_t q = 0; q < px; ++q) {
                const tap& t = taps_[q];
                for (int k = 0; k < 4; ++k) dst[t.index[k]] += t.weight[k] * src[q];
            }
        }
        return grad_in;
    }

private:
    struct tap {
        std::array<std::uint32_t, 4> index{};
        std::array<T, 4> weight{};
    };
    template <std::size_t R>
    std::size_t check(const xt::xtensor<T, R>& x, const char* where) const {
        static_assert(R >= 2, "widenn::lie::image_warp: images are tensors of rank >= 2 (..., height, width)");
        if (x.shape()[R - 2] != height_ || x.shape()[R - 1] != width_)
            fail<shape_error>(where, ": images must be ... x ", height_, " x ", width_, " (the size the warp was built for), got ... x ",
                              x.shape()[R - 2], " x ", x.shape()[R - 1]);
        return x.size() / (height_ * width_);
    }
    std::size_t height_, width_;
    std::vector<tap> taps_;
};

// g·f for a batch of images (..., H, W): (g·f)(u) = f(g⁻¹u), bilinear, zero outside.
template <class G, std::size_t R>
xt::xtensor<typename G::scalar, R> act_on_images(const G& g, const xt::xtensor<typename G::scalar, R>& images) {
    return image_warp<typename G::scalar>(g, images.shape()[R - 2], images.shape()[R - 1]).apply(images);
}
// The adjoint (transpose) of act_on_images(g, ·), for backpropagation.
template <class G, std::size_t R>
xt::xtensor<typename G::scalar, R> act_on_images_adjoint(const G& g, const xt::xtensor<typename G::scalar, R>& grad_out) {
    return image_warp<typename G::scalar>(g, grad_out.shape()[R - 2], grad_out.shape()[R - 1]).apply_adjoint(grad_out);
}
// One element per image: images is B x H x W and gs has B elements; image b is transformed by gs[b].
template <class G>
xt::xtensor<typename G::scalar, 3> act_on_images(std::span<const G> gs, const xt::xtensor<typename G::scalar, 3>& images) {
    using T = typename G::scalar;
    const std::size_t batch = images.shape()[0], h = images.shape()[1], w = images.shape()[2];
    require<shape_error>(gs.size() == batch, "lie::act_on_images: need one group element per image: ", batch, " images, got ",
                         gs.size(), " elements");
    xt::xtensor<T, 3> out = xt::xtensor<T, 3>::from_shape(images.shape());
    for (std::size_t b = 0; b < batch; ++b) {
        const image_warp<T> warp(gs[b], h, w);
        xt::xtensor<T, 2> one = xt::xtensor<T, 2>::from_shape({h, w});
        std::copy(images.data() + b * h * w, images.data() + (b + 1) * h * w, one.data());
        const auto moved = warp.apply(one);
        std::copy(moved.data(), moved.data() + h * w, out.data() + b * h * w);
    }
    return out;
}

template <class G>
xt::xtensor<typename G::scalar, 3> act_on_images(const std::vector<G>& gs, const xt::xtensor<typename G::scalar, 3>& images) {
    return act_on_images(std::span<const G>(gs), images);
}

}  // namespace widenn::lie
