#pragma once
// The kernel network of the continuous convolutions: a SIREN (sin(ω₀ z) layers; Sitzmann et al. 2020) followed
// by a linear layer to C_out·C_in values, as in Mironenco & Forré (ICLR 2024) §5 and their code (docs/equivariant.md):
// in → 60 → 60 → 60 (ω₀ = 10), first layer U(±1/in) with bias U(±1/√in), later layers U(±√(6/in)/ω₀) with zero
// bias, readout U(±√(6/hidden)/√(fan)) with zero bias, where fan = C_in·k² is the fan-in of the convolution.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "../core/errors.hpp"
#include "../core/rng.hpp"
#include "../nn/trainable.hpp"
#include "../core/blas.hpp"
#include "../core/parallel.hpp"

namespace widenn::equivariant {

struct siren_config {
    std::size_t in = 2, out = 1;
    std::size_t hidden = 60, layers = 3;
    double omega0 = 10.0;
    // Learning-rate factors (parameter::lr_scale) of the sine layers and of the readout. The kernel values are
    // readout · (sine features): one Adam step of size lr on every readout weight moves each kernel value by up to
    // lr·hidden, and a step on a sine-layer weight moves its phase by ω₀·lr per unit input, both far more than the
    // same step moves a plain convolution weight (docs/equivariant.md, "Why the equivariant models trained slowly").
    double sine_lr_scale = 1.0, readout_lr_scale = 1.0;
    double readout_fan = 1.0;  // the fan-in of the convolution this kernel feeds (C_in·k², or C_in·N·k²)
    std::uint64_t seed = 0;
};

template <class T>
class siren {
public:
    explicit siren(const siren_config& c) : config_(c) {
        require(c.in > 0 && c.out > 0 && c.hidden > 0 && c.layers > 0, "widenn::equivariant::siren: in, out, hidden and layers must be positive, got in = ",
                c.in, ", out = ", c.out, ", hidden = ", c.hidden, ", layers = ", c.layers);
        rng r = rng::stream(c.seed, 0x5173);
        for (std::size_t l = 0; l < c.layers; ++l) {
            const std::size_t fan = l == 0 ? c.in : c.hidden;
            weights_.emplace_back("siren.w" + std::to_string(l + 1), c.hidden * fan);
            biases_.emplace_back("siren.b" + std::to_string(l + 1), c.hidden);
            if (l == 0) {
                nn::fill_uniform(weights_.back().value, 1.0 / static_cast<double>(fan), r);
                nn::fill_uniform(biases_.back().value, 1.0 / std::sqrt(static_cast<double>(fan)), r);
            } else {
                nn::fill_uniform(weights_.back().value, std::sqrt(6.0 / static_cast<double>(fan)) / c.omega0, r);
            }
            weights_.back().lr_scale = biases_.back().lr_scale = c.sine_lr_scale;
        }
        readout_w_ = nn::parameter<T>("siren.readout_w", c.out * c.hidden);
        readout_b_ = nn::parameter<T>("siren.readout_b", c.out);
        nn::fill_uniform(readout_w_.value, std::sqrt(6.0 / static_cast<double>(c.hidden)) / std::sqrt(c.readout_fan), r);
        readout_w_.lr_scale = readout_b_.lr_scale = c.readout_lr_scale;
    }

    const siren_config& config() const { return config_; }

    // z: points × in (row major) -> points × out. Keeps what backward needs.
    const std::vector<T>& forward(const std::vector<T>& z, std::size_t points) {
        require(z.size() == points * config_.in, "widenn::equivariant::siren::forward: expected ", points, " x ", config_.in,
                " inputs, got ", z.size(), " values");
        points_ = points;
        input_ = z;
        const T omega = static_cast<T>(config_.omega0);
        phase_.resize(config_.layers);
        hidden_.resize(config_.layers);
        const T* x = input_.data();
        std::size_t fan = config_.in;
        for (std::size_t l = 0; l < config_.layers; ++l) {
            auto& s = phase_[l];
            s.resize(points * config_.hidden);
            for (std::size_t p = 0; p < points; ++p) std::copy(biases_[l].value.begin(), biases_[l].value.end(), s.begin() + static_cast<std::ptrdiff_t>(p * config_.hidden));
            blas::gemm<T>(false, true, points, config_.hidden, fan, T(1), x, weights_[l].value.data(), T(1), s.data());
            auto& a = hidden_[l];
            a.resize(s.size());
            for (std::size_t i = 0; i < s.size(); ++i) a[i] = std::sin(omega * s[i]);
            x = a.data();
            fan = config_.hidden;
        }
        output_.resize(points * config_.out);
        for (std::size_t p = 0; p < points; ++p) std::copy(readout_b_.value.begin(), readout_b_.value.end(), output_.begin() + static_cast<std::ptrdiff_t>(p * config_.out));
        blas::gemm<T>(false, true, points, config_.out, config_.hidden, T(1), x, readout_w_.value.data(), T(1), output_.data());
        return output_;
    }

    // Adds the gradients of the parameters for d loss / d output (points × out) of the last forward.
    void backward(const std::vector<T>& d_out) {
        require(d_out.size() == points_ * config_.out, "widenn::equivariant::siren::backward: expected ", points_, " x ", config_.out,
                " output gradients, got ", d_out.size());
        const std::size_t P = points_, H = config_.hidden;
        const T omega = static_cast<T>(config_.omega0);
        const T* last = hidden_.back().data();
        blas::gemm<T>(true, false, config_.out, H, P, T(1), d_out.data(), last, T(1), readout_w_.grad.data());
        for (std::size_t p = 0; p < P; ++p)
            for (std::size_t o = 0; o < config_.out; ++o) readout_b_.grad[o] += d_out[p * config_.out + o];
        std::vector<T> d_hidden(P * H);
        blas::gemm<T>(false, false, P, H, config_.out, T(1), d_out.data(), readout_w_.value.data(), T(0), d_hidden.data());
        for (std::size_t l = config_.layers; l-- > 0;) {
            // d phase = d hidden · ω₀ cos(ω₀ s)
            const auto& s = phase_[l];
            for (std::size_t i = 0; i < d_hidden.size(); ++i) d_hidden[i] *= omega * std::cos(omega * s[i]);
            const std::size_t fan = l == 0 ? config_.in : H;
            const T* x = l == 0 ? input_.data() : hidden_[l - 1].data();
            blas::gemm<T>(true, false, H, fan, P, T(1), d_hidden.data(), x, T(1), weights_[l].grad.data());
            for (std::size_t p = 0; p < P; ++p)
                for (std::size_t j = 0; j < H; ++j) biases_[l].grad[j] += d_hidden[p * H + j];
            if (l > 0) {
                std::vector<T> d_prev(P * H);
                blas::gemm<T>(false, false, P, H, H, T(1), d_hidden.data(), weights_[l].value.data(), T(0), d_prev.data());
                d_hidden.swap(d_prev);
            }
        }
    }

    std::vector<nn::parameter<T>*> parameters() {
        std::vector<nn::parameter<T>*> out;
        for (std::size_t l = 0; l < config_.layers; ++l) {
            out.push_back(&weights_[l]);
            out.push_back(&biases_[l]);
        }
        out.push_back(&readout_w_);
        out.push_back(&readout_b_);
        return out;
    }

private:
    siren_config config_;
    std::vector<nn::parameter<T>> weights_, biases_;
    nn::parameter<T> readout_w_, readout_b_;
    std::size_t points_ = 0;
    std::vector<T> input_, output_;
    std::vector<std::vector<T>> phase_, hidden_;
};

}  // namespace widenn::equivariant
