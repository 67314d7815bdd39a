#pragma once
// Lifting and group convolution layers on R² ⋊ H (Mironenco & Forré, ICLR 2024, §4; docs/theory/lie-groups.md §5).
//
// Features on R² ⋊ H are sampled on a group grid {g_j} (groups.hpp): a batch is a B × N × C × H × W tensor, the
// value of channel c at pixel x and group element g_j.
//
// Lifting (images -> R² ⋊ H), a cross-correlation with the kernel rotated/sheared by each output element h_i:
//     [f ⋆ k](x, h_i) = Σ_u k(h_i⁻¹u) f(x + u) |det h_i|⁻¹,
// the discretisation of ∫ k(h⁻¹(y − x)) f(y) |det h|⁻¹ dy.
// Group convolution (R² ⋊ H -> R² ⋊ H), the Monte Carlo form of
//     ∫_H ∫_R² k(h⁻¹(y − x), ξ⁻¹(h⁻¹g)) f(y, g) |det g|⁻¹ dy dμ_H(g)
// (left-equivariant: dμ = |det g|⁻¹ dy dμ_H(g) is the left Haar measure of R² ⋊ H):
//     Σ_u (1/N_in) Σ_j w_j k(h_i⁻¹u, ξ⁻¹(h_i⁻¹g_j)) f(x + u, g_j) |det g_j|⁻¹,
// where w_j are the Haar importance weights of the input grid. Unlike rgenn, the weights are applied, the layer
// integrates over the grid its input actually lives on (passed in, never resampled), and samples are values.
// The grid u of kernel offsets is the k×k set of pixel centres u = ((2a+1)/k − 1, (2b+1)/k − 1), x along columns.
// Masks: volume-preserving H: k = 0 where ‖h⁻¹u‖ > 1; GL⁺(2): k · σ(2(1 − ‖kernel input‖)).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include <xtensor/xtensor.hpp>

#include "conv.hpp"
#include "groups.hpp"
#include "siren.hpp"

namespace widenn::equivariant {

struct group_conv_config {
    std::size_t in_channels = 1, out_channels = 1, kernel = 5, padding = 0;
    std::size_t kernel_hidden = 60, kernel_layers = 3;  // the SIREN
    double omega0 = 10.0;
    double sine_lr_scale = 1.0, readout_lr_scale = 1.0;  // the SIREN's learning-rate factors (siren_config)
    std::uint64_t seed = 0;
};

namespace detail {

inline double kernel_offset(std::size_t index, std::size_t k) { return (2.0 * static_cast<double>(index) + 1.0) / static_cast<double>(k) - 1.0; }

inline double sigmoid(double z) { return 1.0 / (1.0 + std::exp(-z)); }

// The kernel mask of both layers, from the squared norms of the kernel's spatial input h⁻¹u and of its chart input
// (0 for lifting): volume-preserving H: 1 inside the unit disc, 0 outside (spatial part only); GL⁺(2):
// σ(2(1 − ‖kernel input‖)).
template <class H>
double kernel_mask(double spatial_sq, double chart_sq) {
    if constexpr (planar_group<H>::volume_preserving) return spatial_sq > 1.0 ? 0.0 : 1.0;
    else return sigmoid(2.0 * (1.0 - std::sqrt(spatial_sq + chart_sq)));
}

// Shared by the two layers: the SIREN kernel evaluated at given points, scaled per point, then laid out as the
// O × (C k²) kernel matrix of conv_forward. Point p = (row r of the matrix block, input block j, offset u).
template <class T>
class sampled_kernel {
public:
    sampled_kernel(std::size_t in_features, std::size_t c_in, std::size_t c_out, std::size_t k, const group_conv_config& c, double fan)
        : c_in_(c_in), c_out_(c_out), k2_(k * k),
          net_({.in = in_features, .out = c_in * c_out, .hidden = c.kernel_hidden, .layers = c.kernel_layers, .omega0 = c.omega0,
                .sine_lr_scale = c.sine_lr_scale, .readout_lr_scale = c.readout_lr_scale, .readout_fan = fan, .seed = c.seed}) {}

    // points: (n_out · n_in · k²) × features, scale: one factor per point. Returns K of shape (n_out·c_out) × (n_in·c_in·k²).
    const std::vector<T>& build(const std::vector<T>& points, const std::vector<T>& scale, std::size_t n_out, std::size_t n_in) {
        n_out_ = n_out;
        n_in_ = n_in;
        scale_ = scale;
        const std::size_t P = n_out * n_in * k2_, CC = c_in_ * c_out_;
        const auto& m = net_.forward(points, P);
        matrix_.assign(n_out * c_out_ * n_in * c_in_ * k2_, T(0));
        const std::size_t row_len = n_in * c_in_ * k2_;
        for (std::size_t i = 0; i < n_out; ++i)
            for (std::size_t j = 0; j < n_in; ++j)
                for (std::size_t u = 0; u < k2_; ++u) {
                    const std::size_t p = (i * n_in + j) * k2_ + u;
                    const T s = scale[p];
                    if (s == T(0)) continue;
                    for (std::size_t o = 0; o < c_out_; ++o)
                        for (std::size_t c = 0; c < c_in_; ++c)
                            matrix_[(i * c_out_ + o) * row_len + (j * c_in_ + c) * k2_ + u] = s * m[p * CC + o * c_in_ + c];
                }
        return matrix_;
    }

    // d loss / d K (same layout as build's result) -> gradients of the SIREN parameters.
    void backward(const std::vector<T>& d_matrix) {
        const std::size_t P = n_out_ * n_in_ * k2_, CC = c_in_ * c_out_, row_len = n_in_ * c_in_ * k2_;
        std::vector<T> d_m(P * CC, T(0));
        for (std::size_t i = 0; i < n_out_; ++i)
            for (std::size_t j = 0; j < n_in_; ++j)
                for (std::size_t u = 0; u < k2_; ++u) {
                    const std::size_t p = (i * n_in_ + j) * k2_ + u;
                    const T s = scale_[p];
                    if (s == T(0)) continue;
                    for (std::size_t o = 0; o < c_out_; ++o)
                        for (std::size_t c = 0; c < c_in_; ++c)
                            d_m[p * CC + o * c_in_ + c] = s * d_matrix[(i * c_out_ + o) * row_len + (j * c_in_ + c) * k2_ + u];
                }
        net_.backward(d_m);
    }

    const std::vector<T>& matrix() const { return matrix_; }
    siren<T>& net() { return net_; }

private:
    std::size_t c_in_, c_out_, k2_, n_out_ = 0, n_in_ = 0;
    siren<T> net_;
    std::vector<T> scale_, matrix_;
};

// Lifting and group convolution share everything but how they place the kernel's sample points: the SIREN kernel,
// the checked configuration, the im2col convolution of the input by the kernel matrix K, and backpropagation through
// it into the kernel network. Input is the layer's input tensor (B × C × H × W or B × N × C × H × W).
template <class T, class Input>
class sampled_layer {
public:
    std::vector<nn::parameter<T>*> parameters() { return kernel_.net().parameters(); }
    const group_conv_config& config() const { return config_; }

protected:
    sampled_layer(const group_conv_config& c, std::size_t kernel_inputs, std::string_view where)
        : config_(checked(c, where)),
          kernel_(kernel_inputs, c.in_channels, c.out_channels, c.kernel, c, static_cast<double>(c.in_channels * c.kernel * c.kernel)) {}

    // K from the kernel's sample points, then y = K ⋆ x; x is kept for backward.
    xt::xtensor<T, 5> convolve(const std::vector<T>& points, const std::vector<T>& scale, const Input& x, std::size_t n_out, std::size_t n_in) {
        const auto& K = kernel_.build(points, scale, n_out, n_in);
        input_ = x;
        n_out_ = n_out;
        const std::size_t B = x.shape()[0];
        // conv_forward writes every entry (GEMM with β = 0): no zero fill, which costs lifting about 10 %
        xt::xtensor<T, 5> y = xt::empty<T>({B, n_out, config_.out_channels, geometry_.out_height(), geometry_.out_width()});
        conv_forward(K.data(), n_out * config_.out_channels, x.data(), B, geometry_, y.data());
        return y;
    }

    // Adds the parameter gradients of the kernel for the output gradient dy and returns d loss / d input.
    Input backpropagate(const xt::xtensor<T, 5>& dy, std::string_view where) {
        const std::size_t B = input_.shape()[0];
        if (dy.shape() != std::array<std::size_t, 5>{B, n_out_, config_.out_channels, geometry_.out_height(), geometry_.out_width()})
            fail<shape_error>(where, ": the output gradient must have the shape of the last output");
        std::vector<T> d_kernel(kernel_.matrix().size(), T(0));
        Input dx = xt::zeros<T>(input_.shape());
        conv_backward(kernel_.matrix().data(), n_out_ * config_.out_channels, input_.data(), dy.data(), B, geometry_, d_kernel.data(), dx.data());
        kernel_.backward(d_kernel);
        return dx;
    }

    group_conv_config config_;
    sampled_kernel<T> kernel_;
    conv_geometry geometry_;

private:
    static const group_conv_config& checked(const group_conv_config& c, std::string_view where) {
        require(c.in_channels > 0 && c.out_channels > 0 && c.kernel > 0, where, ": channels and kernel size must be positive, got ",
                c.in_channels, " -> ", c.out_channels, ", kernel ", c.kernel);
        return c;
    }

    Input input_;
    std::size_t n_out_ = 0;
};

inline void require_grid(const group_grid& grid, std::string_view where, std::string_view which) {
    if (grid.size() == 0) fail(where, ": the ", which, " group grid has zero samples; draw at least one with sample_grid");
}

}  // namespace detail

// Images B × C_in × H × W -> features B × N × C_out × H' × W' on the output grid {h_i}.
template <class H, class T = float>
class lifting : public detail::sampled_layer<T, xt::xtensor<T, 4>> {
    static_assert(check_planar_group<H>());
    using base = detail::sampled_layer<T, xt::xtensor<T, 4>>;

public:
    using group = H;
    using value_type = T;

    explicit lifting(const group_conv_config& c) : base(c, 2, "widenn::equivariant::lifting") {}

    xt::xtensor<T, 5> forward(const xt::xtensor<T, 4>& x, const group_grid& out_grid) {
        constexpr std::string_view where = "widenn::equivariant::lifting::forward";
        const group_conv_config& config = this->config_;
        detail::require_grid(out_grid, where, "output");
        if (x.shape()[1] != config.in_channels) fail<shape_error>(where, ": expected ", config.in_channels, " input channels, got ", x.shape()[1]);
        this->geometry_ = {config.in_channels, x.shape()[2], x.shape()[3], config.kernel, config.padding};
        detail::require_fits(this->geometry_, where);
        const std::size_t N = out_grid.size(), k = config.kernel, k2 = k * k;
        std::vector<T> points(N * k2 * 2), scale(N * k2);
        for (std::size_t i = 0; i < N; ++i) {
            const mat2 inv = lie::inverse(out_grid.elements[i].h);
            const double det_factor = planar_group<H>::volume_preserving ? 1.0 : 1.0 / std::abs(lie::det(out_grid.elements[i].h));
            for (std::size_t a = 0; a < k; ++a)
                for (std::size_t b = 0; b < k; ++b) {
                    const std::size_t p = i * k2 + a * k + b;
                    const auto z = apply(inv, detail::kernel_offset(b, k), detail::kernel_offset(a, k));  // (x, y) = (column, row)
                    points[2 * p] = static_cast<T>(z[0]);
                    points[2 * p + 1] = static_cast<T>(z[1]);
                    scale[p] = static_cast<T>(detail::kernel_mask<H>(z[0] * z[0] + z[1] * z[1], 0.0) * det_factor);
                }
        }
        return this->convolve(points, scale, x, N, 1);
    }

    // Adds the parameter gradients and returns d loss / d input.
    xt::xtensor<T, 4> backward(const xt::xtensor<T, 5>& dy) { return this->backpropagate(dy, "widenn::equivariant::lifting::backward"); }
};

// Features B × N_in × C_in × H × W on the input grid {g_j} -> B × N_out × C_out × H' × W' on the output grid {h_i}.
template <class H, class T = float>
class group_conv : public detail::sampled_layer<T, xt::xtensor<T, 5>> {
    static_assert(check_planar_group<H>());
    using base = detail::sampled_layer<T, xt::xtensor<T, 5>>;

public:
    using group = H;
    using value_type = T;
    static constexpr std::size_t kernel_inputs = 2 + planar_group<H>::chart_dim;

    explicit group_conv(const group_conv_config& c) : base(c, kernel_inputs, "widenn::equivariant::group_conv") {}

    xt::xtensor<T, 5> forward(const xt::xtensor<T, 5>& x, const group_grid& in_grid, const group_grid& out_grid) {
        constexpr std::string_view where = "widenn::equivariant::group_conv::forward";
        const group_conv_config& config = this->config_;
        detail::require_grid(in_grid, where, "input");
        detail::require_grid(out_grid, where, "output");
        if (x.shape()[1] != in_grid.size())
            fail<shape_error>(where, ": the input lives on ", x.shape()[1], " group samples but the input grid has ", in_grid.size());
        if (x.shape()[2] != config.in_channels) fail<shape_error>(where, ": expected ", config.in_channels, " input channels, got ", x.shape()[2]);
        const std::size_t Nin = in_grid.size(), Nout = out_grid.size(), k = config.kernel, k2 = k * k, D = kernel_inputs;
        this->geometry_ = {Nin * config.in_channels, x.shape()[3], x.shape()[4], k, config.padding};
        detail::require_fits(this->geometry_, where);
        std::vector<T> points(Nout * Nin * k2 * D), scale(Nout * Nin * k2);
        double chart[planar_group<H>::chart_dim];
        for (std::size_t i = 0; i < Nout; ++i) {
            const mat2 inv = lie::inverse(out_grid.elements[i].h);
            for (std::size_t j = 0; j < Nin; ++j) {
                const auto& g = in_grid.elements[j];
                planar_group<H>::chart(inv * g.h, chart);
                double chart_sq = 0;
                for (double v : chart) chart_sq += v * v;
                const double det_factor = planar_group<H>::volume_preserving ? 1.0 : 1.0 / std::abs(lie::det(g.h));
                const double weight = g.weight * det_factor / static_cast<double>(Nin);
                for (std::size_t a = 0; a < k; ++a)
                    for (std::size_t b = 0; b < k; ++b) {
                        const std::size_t p = (i * Nin + j) * k2 + a * k + b;
                        const auto z = apply(inv, detail::kernel_offset(b, k), detail::kernel_offset(a, k));
                        T* pt = points.data() + p * D;
                        pt[0] = static_cast<T>(z[0]);
                        pt[1] = static_cast<T>(z[1]);
                        for (std::size_t d = 0; d < planar_group<H>::chart_dim; ++d) pt[2 + d] = static_cast<T>(chart[d]);
                        scale[p] = static_cast<T>(detail::kernel_mask<H>(z[0] * z[0] + z[1] * z[1], chart_sq) * weight);
                    }
            }
        }
        return this->convolve(points, scale, x, Nout, Nin);
    }

    xt::xtensor<T, 5> backward(const xt::xtensor<T, 5>& dy) { return this->backpropagate(dy, "widenn::equivariant::group_conv::backward"); }
};

}  // namespace widenn::equivariant
