#pragma once
// rgenn's affine-equivariant classifier (Mironenco & Forré, ICLR 2024; described in docs/equivariant.md), a
// plain CNN of the same shape as its baseline; nn's optimisers train their parameters() (nn::adam opt(model.parameters(), ...)).
//
//   lifting (1 → C, k, no padding) · LN · GELU
//   residual block: [group_conv (C → C, k, padding k/2) · LN · GELU] × 2, identity shortcut, GELU after the sum
//   LN · 2×2 spatial max pool (per group sample) · GELU
//   group_conv (C → C, k) · LN · GELU
//   max over (group, space)
//   head: linear (C → 256, no bias) · LayerNorm · GELU · dropout · linear (256 → classes)
//
// Every layer of one forward pass uses the same group grid (passed in), so each group convolution integrates over
// the grid its input lives on, and the residual block's input and output share a grid. With C = 40, k = 5 the
// parameter counts are rgenn's: 339,102 for SL(2), 339,282 for GL⁺(2).
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numbers>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <xtensor/xstrided_view.hpp>
#include <xtensor/xtensor.hpp>

#include "../core/tensor.hpp"
#include "conv.hpp"
#include "group_conv.hpp"
#include "ops.hpp"

namespace widenn::equivariant {

// rgenn's number of group samples per layer (`gsamples`), the compile-time default of model_config::samples.
inline constexpr std::size_t default_group_samples = 10;

struct model_config {
    std::size_t image_size = 40, in_channels = 1, channels = 40, kernel = 5, classes = 10;
    std::size_t samples = default_group_samples;  // group samples per forward pass (affine_model::draw_grid)
    spd_proposal proposal = {};  // of the SPD factor (groups.hpp): ball, ‖log P‖ ≤ 0.4 covers scales 0.67..1.49
    std::size_t head_width = 256;
    double dropout = 0.3;
    std::size_t kernel_hidden = 60, kernel_layers = 3;
    double omega0 = 10.0;
    // Learning-rate factors of the kernel SIRENs relative to the rest of the model (siren_config): measured on one
    // fixed batch (docs/equivariant.md), the SO(2) model with factors 1 reaches loss 1.77 after 25 Adam steps at
    // lr 5e-3, with these 1.26 (the CNN: 0.49 to 0.66).
    double sine_lr_scale = 0.01, readout_lr_scale = 0.3;
    std::uint64_t seed = 0;
};

template <class T>
std::size_t count_parameters(const std::vector<nn::parameter<T>*>& params) {
    std::size_t n = 0;
    for (auto* p : params) n += p->size();
    return n;
}

namespace detail {
inline void require_images(const std::array<std::size_t, 4>& shape, const model_config& c, std::string_view where) {
    if (shape[1] != c.in_channels || shape[2] != c.image_size || shape[3] != c.image_size)
        fail<shape_error>(where, ": expected images of ", c.in_channels, " x ", c.image_size, " x ", c.image_size, ", got ", shape[1], " x ", shape[2],
                          " x ", shape[3]);
    require(shape[0] > 0, where, ": the batch is empty");
}

// The shared head: linear (no bias) · LayerNorm (affine) · GELU · dropout · linear.
template <class T>
struct head {
    nn::linear<T> fc1, fc2;
    layer_norm<T> norm;
    pointwise<act::gelu, T> act;
    dropout<T> drop;
    head(const model_config& c)
        : fc1(c.channels, c.head_width, false, rng::stream(c.seed, 901).next_u64()),
          fc2(c.head_width, c.classes, true, rng::stream(c.seed, 902).next_u64()), norm(c.head_width), drop(c.dropout, rng::stream(c.seed, 903).next_u64()) {}
    xt::xtensor<T, 2> forward(const xt::xtensor<T, 2>& x, bool training) { return fc2.forward(drop.forward(act.forward(norm.forward(fc1.forward(x))), training)); }
    xt::xtensor<T, 2> backward(const xt::xtensor<T, 2>& dy) { return fc1.backward(norm.backward(act.backward(drop.backward(fc2.backward(dy))))); }
    void collect(std::vector<nn::parameter<T>*>& out) {
        for (auto* p : fc1.parameters()) out.push_back(p);
        for (auto* p : norm.parameters()) out.push_back(p);
        for (auto* p : fc2.parameters()) out.push_back(p);
    }
};

template <class T, std::size_t N>
xt::xtensor<T, 2> flatten_pooled(const xt::xtensor<T, N>& x) {
    return xt::xtensor<T, 2>(xt::reshape_view(x, std::array<std::size_t, 2>{x.shape()[0], x.size() / x.shape()[0]}));
}
}  // namespace detail

// The affine-equivariant classifier on R² ⋊ H.
template <class H, class T = float>
class affine_model {
    static_assert(check_planar_group<H>());

public:
    using group = H;
    explicit affine_model(const model_config& c)
        : config_(c),
          lift_(layer_config(c.in_channels, 0, 1)),
          conv1_(layer_config(c.channels, c.kernel / 2, 2)),
          conv2_(layer_config(c.channels, c.kernel / 2, 3)),
          conv3_(layer_config(c.channels, 0, 4)),
          pool_(pool_kind::max, group_pool<T>::over::group_and_space),
          head_(c) {
        require(c.image_size + 2 * (c.kernel / 2) >= 3 * c.kernel, "widenn::equivariant::affine_model: images of ", c.image_size,
                " pixels are too small for kernel size ", c.kernel);
    }

    const model_config& config() const { return config_; }

    // config().samples elements of H for one forward pass: fresh draws from a training rng, or fixed ones from rng(seed).
    // Stratified by default: Haar-weighted like sampling::haar, with far less rotational noise (docs/equivariant.md).
    group_grid draw_grid(rng& r, sampling mode = sampling::stratified) const {
        return sample_grid<H>(config_.samples, r, mode, config_.proposal);
    }

    // x: B × C_in × S × S images; grid: the group samples of this pass. Returns B × classes logits.
    xt::xtensor<T, 2> forward(const xt::xtensor<T, 4>& x, const group_grid& grid, bool training) {
        detail::require_images(x.shape(), config_, "widenn::equivariant::affine_model::forward");
        grid_ = grid;
        auto y = act_[0].forward(norm_[0].forward(lift_.forward(x, grid)));
        auto z = act_[1].forward(norm_[1].forward(conv1_.forward(y, grid, grid)));
        z = act_[2].forward(norm_[2].forward(conv2_.forward(z, grid, grid)));
        y = act_[3].forward(xt::xtensor<T, 5>(z + y));
        y = act_[4].forward(pool2_.forward(norm_[3].forward(y)));
        y = act_[5].forward(norm_[4].forward(conv3_.forward(y, grid, grid)));
        return head_.forward(detail::flatten_pooled(pool_.forward(y)), training);
    }

    // Adds every parameter gradient for d loss / d logits of the last forward.
    void backward(const xt::xtensor<T, 2>& d_logits) {
        auto d = head_.backward(d_logits);
        const std::array<std::size_t, 4> pooled{d.shape()[0], d.shape()[1], 1, 1};
        auto dy = pool_.backward(xt::xtensor<T, 4>(xt::reshape_view(d, pooled)));
        dy = conv3_.backward(norm_[4].backward(act_[5].backward(dy)));
        dy = norm_[3].backward(pool2_.backward(act_[4].backward(dy)));
        dy = act_[3].backward(dy);  // gradient of the sum: flows to the shortcut and to the block
        auto dz = conv1_.backward(norm_[1].backward(act_[1].backward(conv2_.backward(norm_[2].backward(act_[2].backward(dy))))));
        dy += dz;
        lift_.backward(norm_[0].backward(act_[0].backward(dy)));
    }

    std::vector<nn::parameter<T>*> parameters() {
        std::vector<nn::parameter<T>*> out;
        for (auto* p : lift_.parameters()) out.push_back(p);
        for (auto* p : conv1_.parameters()) out.push_back(p);
        for (auto* p : conv2_.parameters()) out.push_back(p);
        for (auto* p : conv3_.parameters()) out.push_back(p);
        head_.collect(out);
        return out;
    }

private:
    group_conv_config layer_config(std::size_t in, std::size_t padding, std::uint64_t index) const {
        return {.in_channels = in, .out_channels = config_.channels, .kernel = config_.kernel, .padding = padding,
                .kernel_hidden = config_.kernel_hidden, .kernel_layers = config_.kernel_layers, .omega0 = config_.omega0, .sine_lr_scale = config_.sine_lr_scale,
                .readout_lr_scale = config_.readout_lr_scale,
                .seed = rng::stream(config_.seed, index).next_u64()};
    }

    model_config config_;
    lifting<H, T> lift_;
    group_conv<H, T> conv1_, conv2_, conv3_;
    layer_norm<T> norm_[5];
    pointwise<act::gelu, T> act_[6];
    max_pool2<T> pool2_;
    group_pool<T> pool_;
    detail::head<T> head_;
    group_grid grid_;
};

// The plain CNN of the same shape (conv2d instead of lifting / group convolutions, no group axis): the baseline.
template <class T = float>
class cnn_model {
public:
    explicit cnn_model(const model_config& c)
        : config_(c),
          conv0_({.in_channels = c.in_channels, .out_channels = c.channels, .kernel = c.kernel, .padding = 0, .bias = true, .seed = rng::stream(c.seed, 11).next_u64()}),
          conv1_({.in_channels = c.channels, .out_channels = c.channels, .kernel = c.kernel, .padding = c.kernel / 2, .bias = true, .seed = rng::stream(c.seed, 12).next_u64()}),
          conv2_({.in_channels = c.channels, .out_channels = c.channels, .kernel = c.kernel, .padding = c.kernel / 2, .bias = true, .seed = rng::stream(c.seed, 13).next_u64()}),
          conv3_({.in_channels = c.channels, .out_channels = c.channels, .kernel = c.kernel, .padding = 0, .bias = true, .seed = rng::stream(c.seed, 14).next_u64()}),
          head_(c) {}

    const model_config& config() const { return config_; }

    xt::xtensor<T, 2> forward(const xt::xtensor<T, 4>& x, bool training) {
        detail::require_images(x.shape(), config_, "widenn::equivariant::cnn_model::forward");
        auto y = act_[0].forward(norm_[0].forward(conv0_.forward(x)));
        auto z = act_[1].forward(norm_[1].forward(conv1_.forward(y)));
        z = act_[2].forward(norm_[2].forward(conv2_.forward(z)));
        y = act_[3].forward(xt::xtensor<T, 4>(z + y));
        y = act_[4].forward(pool2_.forward(norm_[3].forward(y)));
        y = act_[5].forward(norm_[4].forward(conv3_.forward(y)));
        // global max over space: view B × C × H × W as B × 1 × C × H × W features on a one-element group
        const std::array<std::size_t, 5> as_group{y.shape()[0], 1, y.shape()[1], y.shape()[2], y.shape()[3]};
        return head_.forward(detail::flatten_pooled(pool_.forward(xt::xtensor<T, 5>(xt::reshape_view(y, as_group)))), training);
    }

    void backward(const xt::xtensor<T, 2>& d_logits) {
        auto d = head_.backward(d_logits);
        auto d5 = pool_.backward(xt::xtensor<T, 4>(xt::reshape_view(d, std::array<std::size_t, 4>{d.shape()[0], d.shape()[1], 1, 1})));
        xt::xtensor<T, 4> dy = xt::reshape_view(d5, std::array<std::size_t, 4>{d5.shape()[0], d5.shape()[2], d5.shape()[3], d5.shape()[4]});
        dy = conv3_.backward(norm_[4].backward(act_[5].backward(dy)));
        dy = norm_[3].backward(pool2_.backward(act_[4].backward(dy)));
        dy = act_[3].backward(dy);
        auto dz = conv1_.backward(norm_[1].backward(act_[1].backward(conv2_.backward(norm_[2].backward(act_[2].backward(dy))))));
        dy += dz;
        conv0_.backward(norm_[0].backward(act_[0].backward(dy)));
    }

    std::vector<nn::parameter<T>*> parameters() {
        std::vector<nn::parameter<T>*> out;
        for (auto* layer : {&conv0_, &conv1_, &conv2_, &conv3_})
            for (auto* p : layer->parameters()) out.push_back(p);
        head_.collect(out);
        return out;
    }

private:
    model_config config_;
    conv2d<T> conv0_, conv1_, conv2_, conv3_;
    layer_norm<T> norm_[5];
    pointwise<act::gelu, T> act_[6];
    max_pool2<T> pool2_;
    group_pool<T> pool_{pool_kind::max, group_pool<T>::over::group_and_space};
    detail::head<T> head_;
};

// The channel count that gives the CNN about `target` parameters (the baseline "of similar parameter count").
inline std::size_t cnn_channels_for(std::size_t target, model_config c) {
    std::size_t best = 1;
    for (std::size_t ch = 1; ch <= 1024; ++ch) {
        c.channels = ch;
        cnn_model<float> net(c);
        if (count_parameters(net.parameters()) > target) break;
        best = ch;
    }
    return best;
}

// Cosine learning-rate schedule from lr0 to lr_min over total steps (rgenn: 50 epochs down to 1e-7).
inline double cosine_lr(double lr0, double lr_min, std::size_t step, std::size_t total) {
    const double t = total ? static_cast<double>(std::min(step, total)) / static_cast<double>(total) : 1.0;
    return lr_min + 0.5 * (lr0 - lr_min) * (1 + std::cos(std::numbers::pi * t));
}

}  // namespace widenn::equivariant
