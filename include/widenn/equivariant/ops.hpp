#pragma once
// The parameter-free and small layers of the equivariant models, each with forward and backward on batched
// tensors (first axis = batch): layer norm, GELU, dropout, 2×2 spatial max pooling, pooling over the group and
// over (group, space), and a linear layer. Features on R² ⋊ H are B × N × C × H × W (group_conv.hpp).
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>
#include <vector>

#include <xtensor/xtensor.hpp>

#include "../act/activations.hpp"
#include "../core/errors.hpp"
#include "../core/rng.hpp"
#include "../core/blas.hpp"
#include "../core/parallel.hpp"
#include "../nn/linear.hpp"
#include "siren.hpp"

namespace widenn::equivariant {

// Layer normalisation over every axis but the batch axis (LayerNorm3d of rgenn normalises over (C, G, H, W)),
// ε = 1e-5; with affine = true, a gain and shift per entry of the last axis (rank 2 inputs: the head's LayerNorm).
template <class T>
class layer_norm {
public:
    explicit layer_norm(std::size_t affine_features = 0) : gain_("layer_norm.gain", affine_features), shift_("layer_norm.shift", affine_features) {
        std::fill(gain_.value.begin(), gain_.value.end(), T(1));
    }

    template <std::size_t N>
    xt::xtensor<T, N> forward(const xt::xtensor<T, N>& x) {
        const std::size_t B = x.shape()[0], S = B ? x.size() / B : 0, F = gain_.size();
        if (F && x.shape()[N - 1] != F)
            fail<shape_error>("widenn::equivariant::layer_norm::forward: expected ", F, " features on the last axis, got ", x.shape()[N - 1]);
        require(S > 1, "widenn::equivariant::layer_norm::forward: needs at least 2 values per sample, got ", S);
        normalised_.resize(x.size());
        rstd_.resize(B);
        xt::xtensor<T, N> y = xt::empty<T>(x.shape());
        parallel_for(B, [&](int, std::size_t b) {
            const T* in = x.data() + b * S;
            double mean = 0, var = 0;
            for (std::size_t i = 0; i < S; ++i) mean += in[i];
            mean /= static_cast<double>(S);
            for (std::size_t i = 0; i < S; ++i) var += (in[i] - mean) * (in[i] - mean);
            var /= static_cast<double>(S);
            const double rstd = 1.0 / std::sqrt(var + 1e-5);
            rstd_[b] = rstd;
            for (std::size_t i = 0; i < S; ++i) {
                const T n = static_cast<T>((in[i] - mean) * rstd);
                normalised_[b * S + i] = n;
                y.data()[b * S + i] = F ? n * gain_.value[i % F] + shift_.value[i % F] : n;
            }
        });
        return y;
    }

    // dx = rstd (d n − mean(d n) − n mean(d n · n)) with d n = dy · gain.
    template <std::size_t N>
    xt::xtensor<T, N> backward(const xt::xtensor<T, N>& dy) {
        const std::size_t B = rstd_.size(), S = B ? dy.size() / B : 0, F = gain_.size();
        require(dy.size() == normalised_.size(), "widenn::equivariant::layer_norm::backward: the output gradient has ", dy.size(),
                " values, the last output had ", normalised_.size());
        xt::xtensor<T, N> dx = xt::empty<T>(dy.shape());
        // samples in parallel unless they add into the shared gain and shift gradients
        std::vector<std::vector<double>> scratch(F ? 1 : static_cast<std::size_t>(threads_for(B)), std::vector<double>(S));
        const auto sample = [&](int thread, std::size_t b) {
            std::vector<double>& dn = scratch[static_cast<std::size_t>(thread)];
            const T* g = dy.data() + b * S;
            const T* n = normalised_.data() + b * S;
            double mean_dn = 0, mean_dn_n = 0;
            for (std::size_t i = 0; i < S; ++i) {
                if (F) {
                    gain_.grad[i % F] += g[i] * n[i];
                    shift_.grad[i % F] += g[i];
                }
                dn[i] = F ? g[i] * gain_.value[i % F] : g[i];
                mean_dn += dn[i];
                mean_dn_n += dn[i] * n[i];
            }
            mean_dn /= static_cast<double>(S);
            mean_dn_n /= static_cast<double>(S);
            for (std::size_t i = 0; i < S; ++i) dx.data()[b * S + i] = static_cast<T>(rstd_[b] * (dn[i] - mean_dn - n[i] * mean_dn_n));
        };
        if (F)
            for (std::size_t b = 0; b < B; ++b) sample(0, b);
        else
            parallel_for(B, sample);
        return dx;
    }

    std::vector<nn::parameter<T>*> parameters() {
        if (gain_.size() == 0) return {};
        return {&gain_, &shift_};
    }

private:
    nn::parameter<T> gain_, shift_;
    std::vector<T> normalised_;
    std::vector<double> rstd_;
};

// An activation policy A of act/ applied entrywise as a layer (forward and backward); the models use
// pointwise<act::gelu, T>: GELU(x) = x Φ(x), exact erf form, as torch.nn.GELU().
template <class A, class T>
class pointwise {
public:
    static T value(T x) { return A::value(x); }
    static T derivative(T x) { return A::derivative(x); }
    template <std::size_t N>
    xt::xtensor<T, N> forward(const xt::xtensor<T, N>& x) {
        input_.assign(x.begin(), x.end());
        xt::xtensor<T, N> y = xt::empty<T>(x.shape());
        for_each_chunk(x.size(), [&](std::size_t i) { y.data()[i] = value(x.data()[i]); });
        return y;
    }
    template <std::size_t N>
    xt::xtensor<T, N> backward(const xt::xtensor<T, N>& dy) {
        require(dy.size() == input_.size(), "widenn::equivariant::pointwise::backward: the output gradient has ", dy.size(), " values, the last input had ",
                input_.size());
        xt::xtensor<T, N> dx = xt::empty<T>(dy.shape());
        for_each_chunk(dy.size(), [&](std::size_t i) { dx.data()[i] = dy.data()[i] * derivative(input_[i]); });
        return dx;
    }

private:
    // f(i) for i in [0, size), in parallel chunks of 16384 entries
    template <class F>
    static void for_each_chunk(std::size_t size, F&& f) {
        constexpr std::size_t chunk = 16384;
        parallel_for((size + chunk - 1) / chunk, [&](int, std::size_t c) {
            for (std::size_t i = c * chunk, end = std::min(size, i + chunk); i < end; ++i) f(i);
        });
    }
    std::vector<T> input_;
};

// Inverted dropout: in training, zero each entry with probability p and scale the rest by 1/(1 − p); identity otherwise.
template <class T>
class dropout {
public:
    explicit dropout(double p, std::uint64_t seed = 0) : p_(p), rng_(seed) {
        require(p >= 0 && p < 1, "widenn::equivariant::dropout: the drop probability must be in [0, 1), got ", p);
    }
    template <std::size_t N>
    xt::xtensor<T, N> forward(const xt::xtensor<T, N>& x, bool training) {
        mask_.assign(x.size(), T(1));
        if (training && p_ > 0)
            for (auto& m : mask_) m = rng_.uniform() < p_ ? T(0) : static_cast<T>(1.0 / (1.0 - p_));
        xt::xtensor<T, N> y = xt::empty<T>(x.shape());
        for (std::size_t i = 0; i < x.size(); ++i) y.data()[i] = x.data()[i] * mask_[i];
        return y;
    }
    template <std::size_t N>
    xt::xtensor<T, N> backward(const xt::xtensor<T, N>& dy) {
        require(dy.size() == mask_.size(), "widenn::equivariant::dropout::backward: gradient size ", dy.size(), " differs from the last input's ", mask_.size());
        xt::xtensor<T, N> dx = xt::empty<T>(dy.shape());
        for (std::size_t i = 0; i < dy.size(); ++i) dx.data()[i] = dy.data()[i] * mask_[i];
        return dx;
    }

private:
    double p_;
    rng rng_;
    std::vector<T> mask_;
};

// 2×2 max pooling with stride 2 over the last two axes (per group sample and channel); odd sizes drop the last row/column.
template <class T>
class max_pool2 {
public:
    template <std::size_t N>
    xt::xtensor<T, N> forward(const xt::xtensor<T, N>& x) {
        static_assert(N >= 3, "widenn::equivariant::max_pool2 pools the last two (spatial) axes of a batched tensor");
        const std::size_t H = x.shape()[N - 2], W = x.shape()[N - 1];
        require(H >= 2 && W >= 2, "widenn::equivariant::max_pool2::forward: needs images of at least 2 x 2, got ", H, " x ", W);
        auto shape = x.shape();
        shape[N - 2] = H / 2;
        shape[N - 1] = W / 2;
        xt::xtensor<T, N> y = xt::empty<T>(shape);
        input_shape_.assign(x.shape().begin(), x.shape().end());
        argmax_.resize(y.size());
        const std::size_t planes = x.size() / (H * W), oh = H / 2, ow = W / 2;
        for (std::size_t p = 0; p < planes; ++p)
            for (std::size_t i = 0; i < oh; ++i)
                for (std::size_t j = 0; j < ow; ++j) {
                    std::size_t best = p * H * W + 2 * i * W + 2 * j;
                    for (std::size_t a = 0; a < 2; ++a)
                        for (std::size_t b = 0; b < 2; ++b) {
                            const std::size_t idx = p * H * W + (2 * i + a) * W + 2 * j + b;
                            if (x.data()[idx] > x.data()[best]) best = idx;
                        }
                    const std::size_t o = (p * oh + i) * ow + j;
                    argmax_[o] = best;
                    y.data()[o] = x.data()[best];
                }
        return y;
    }
    template <std::size_t N>
    xt::xtensor<T, N> backward(const xt::xtensor<T, N>& dy) {
        require(dy.size() == argmax_.size(), "widenn::equivariant::max_pool2::backward: gradient size ", dy.size(), " differs from the last output's ",
                argmax_.size());
        std::array<std::size_t, N> shape;
        std::copy(input_shape_.begin(), input_shape_.end(), shape.begin());
        xt::xtensor<T, N> dx = xt::zeros<T>(shape);
        for (std::size_t o = 0; o < dy.size(); ++o) dx.data()[argmax_[o]] += dy.data()[o];
        return dx;
    }

private:
    std::vector<std::size_t> input_shape_, argmax_;
};

enum class pool_kind { max, mean };

// Pooling of B × N × C × H × W features: over the group (-> B × C × H × W, invariant to the action on H for a full
// orbit), or over the group and space (-> B × C, the invariant read-out of rgenn's model).
template <class T>
class group_pool {
public:
    enum class over { group, group_and_space };
    explicit group_pool(pool_kind kind = pool_kind::max, over axes = over::group_and_space) : kind_(kind), axes_(axes) {}

    // Returns a rank 4 tensor (B × C × H × W) for over::group, and a rank 4 tensor B × C × 1 × 1 for group_and_space.
    xt::xtensor<T, 4> forward(const xt::xtensor<T, 5>& x) {
        std::copy(x.shape().begin(), x.shape().end(), shape_.begin());
        const std::size_t B = shape_[0], N = shape_[1], C = shape_[2], HW = shape_[3] * shape_[4];
        require(N > 0 && HW > 0, "widenn::equivariant::group_pool::forward: empty group or spatial axes");
        const bool space = axes_ == over::group_and_space;
        xt::xtensor<T, 4> y = xt::empty<T>(std::array<std::size_t, 4>{B, C, space ? 1 : shape_[3], space ? 1 : shape_[4]});
        const std::size_t outs_per_c = space ? 1 : HW;
        argmax_.assign(y.size(), 0);
        for (std::size_t b = 0; b < B; ++b)
            for (std::size_t c = 0; c < C; ++c)
                for (std::size_t q = 0; q < outs_per_c; ++q) {
                    const std::size_t o = (b * C + c) * outs_per_c + q;
                    double acc = kind_ == pool_kind::max ? -std::numeric_limits<double>::infinity() : 0.0;
                    std::size_t count = 0;
                    for (std::size_t n = 0; n < N; ++n)
                        for (std::size_t s = space ? 0 : q; s < (space ? HW : q + 1); ++s) {
                            const std::size_t idx = ((b * N + n) * C + c) * HW + s;
                            const double v = x.data()[idx];
                            ++count;
                            if (kind_ == pool_kind::mean) acc += v;
                            else if (v > acc) {
                                acc = v;
                                argmax_[o] = idx;
                            }
                        }
                    y.data()[o] = static_cast<T>(kind_ == pool_kind::mean ? acc / static_cast<double>(count) : acc);
                }
        return y;
    }

    xt::xtensor<T, 5> backward(const xt::xtensor<T, 4>& dy) {
        const std::size_t B = shape_[0], N = shape_[1], C = shape_[2], HW = shape_[3] * shape_[4];
        const bool space = axes_ == over::group_and_space;
        const std::size_t outs_per_c = space ? 1 : HW;
        require(dy.size() == B * C * outs_per_c, "widenn::equivariant::group_pool::backward: gradient size ", dy.size(), ", expected ", B * C * outs_per_c);
        xt::xtensor<T, 5> dx = xt::zeros<T>(shape_);
        const double inv_count = 1.0 / static_cast<double>(N * (space ? HW : 1));
        for (std::size_t b = 0; b < B; ++b)
            for (std::size_t c = 0; c < C; ++c)
                for (std::size_t q = 0; q < outs_per_c; ++q) {
                    const std::size_t o = (b * C + c) * outs_per_c + q;
                    if (kind_ == pool_kind::max) {
                        dx.data()[argmax_[o]] += dy.data()[o];
                        continue;
                    }
                    for (std::size_t n = 0; n < N; ++n)
                        for (std::size_t s = space ? 0 : q; s < (space ? HW : q + 1); ++s)
                            dx.data()[((b * N + n) * C + c) * HW + s] += static_cast<T>(dy.data()[o] * inv_count);
                }
        return dx;
    }

private:
    pool_kind kind_;
    over axes_;
    std::array<std::size_t, 5> shape_{};
    std::vector<std::size_t> argmax_;
};

}  // namespace widenn::equivariant
