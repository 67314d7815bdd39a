#pragma once
// The layer vocabulary of nn::network (nn/serial.hpp): small compile-time policy types, composed with nn::serial.
//
//   nn::dense                      a hidden dense layer of the network's width; on an image it acts on the channels of
//                                  every pixel (a 1x1 convolution), as neural-tangents' Dense on the last axis
//   nn::conv<K, S, Pad>            K x K convolution, stride S (1 or 2), padding same (zeros), valid or circular;
//                                  out channels = the network's width; fan_in = C_in·K²
//   any act:: activation           φ applied entry-wise (act::relu, act::erf<>, ...)
//   nn::avgpool<K, S = K>          K x K average pooling, stride S, valid
//   nn::gap                        global average pooling over the pixels: H x W x C -> C
//   nn::flatten                    H x W x C -> H·W·C (NHWC order)
//   nn::layernorm<Over>            (x - mean) / sqrt(var + 1e-12) over the channels of each pixel (norm_over::channels)
//                                  or over channels and pixels of each example (norm_over::channels_and_space); no
//                                  learned gain or bias, as neural-tangents' LayerNorm
//   nn::residual<Layers...>        x + block(x), block = the layers in order
//
// Activations are NHWC, one example per row of a B x (H·W·C) matrix. Each layer type has a state (parameters and the
// buffers of its forward and backward pass) for float or double; the states of a composition are a std::tuple walked
// by fold expressions over an index_sequence (no recursive class templates). Buffers are sized on the first call for a
// batch size and reused afterwards.
//
// Shapes known at compile time are checked at compile time (a conv after flatten or gap, a residual block that changes
// the spatial size, an image network that does not end in flatten or gap); run-time sizes (image size, channels) are
// checked when the network is built, before any work.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "../core/blas.hpp"
#include "../core/concepts.hpp"
#include "../core/errors.hpp"
#include "finite.hpp"
#include "scaling.hpp"
#include "spec.hpp"
#include "trainable.hpp"

namespace widenn::nn {

// nn::padding (same, valid, circular) is the one of the run-time SPEC (spec.hpp), with its window arithmetic.
enum class norm_over { channels, channels_and_space };

// ---- the policies ----
struct dense {};
template <std::size_t K, std::size_t Stride = 1, padding Pad = padding::same>
struct conv {};
template <std::size_t K, std::size_t Stride = K>
struct avgpool {};
struct gap {};
struct flatten {};
template <norm_over Over = norm_over::channels>
struct layernorm {};
template <class... Layers>
struct residual {};
template <class... Layers>
struct serial {};

// The shape of the signal between two layers of one example, with the base shape of its channels (the same network at
// its base width, as mup's set_base_shapes) and whether the channels grow with width.
struct signal_shape {
    std::size_t height = 1, width = 1, channels = 0, base_channels = 0;
    bool image = false;
    bool wide = false;
    std::size_t pixels() const { return height * width; }
    std::size_t size() const { return height * width * channels; }
    bool operator==(const signal_shape&) const = default;
    std::string str() const {
        return image ? widenn::detail::concat(height, " x ", width, " x ", channels) : widenn::detail::concat("a vector of ", channels);
    }
};

// One trainable tensor as a layer registers it while the network is built: the network computes its scaling from
// P and initialises it once every layer is known (the readout's width ratio enters the other tensors' scaling).
template <class T>
struct tensor_record {
    parameter<T>* param = nullptr;
    int layer = 0;  // 1-based index among the weight layers, in network order (the readout last)
    bool bias = false;
    bool wide_in = false, wide_out = false;
    double base_fan_in = 1, in_ratio = 1, out_ratio = 1;
};

// One weight layer (dense, conv or the readout) as the network indexes it: its weight (out x in, row major), its bias
// (empty without biases) and the flag its last backward set when it proved the gradients finite (see affine_backward).
template <class T>
struct affine_record {
    parameter<T>* weight = nullptr;
    parameter<T>* bias = nullptr;
    std::size_t in = 0, out = 0;
    const bool* certified = nullptr;
};

// What the layers read and write while the network is built.
template <class T>
struct build_context {
    std::vector<std::size_t> widths, base_widths;  // one per weight layer (network order; the readout's is d_out)
    bool bias = true;
    int next_layer = 0;
    std::vector<tensor_record<T>> tensors;
    std::vector<affine_record<T>> affine;  // one per weight layer, in network order
};

namespace detail {

template <class T>
void ensure_size(std::vector<T>& v, std::size_t n) {
    if (v.size() != n) v.assign(n, T(0));
}

inline std::size_t checked_size(std::size_t a, std::size_t b) {
    require<shape_error>(a == 0 || b <= static_cast<std::size_t>(-1) / a, "nn::network: a tensor of ", a, " x ", b, " entries overflows size_t");
    return a * b;
}

// y (rows x out) = m · a (rows x in) · wᵀ + m_b · b, the work of dense and conv layers.
template <class T>
void affine_forward(std::size_t rows, std::size_t in, std::size_t out, const T* a, const parameter<T>& w, const parameter<T>& b, T* y) {
    T beta = T(0);
    if (b.size() > 0) {
        const T mb = static_cast<T>(b.scaling.multiplier);
        for (std::size_t r = 0; r < rows; ++r)
            for (std::size_t j = 0; j < out; ++j) y[r * out + j] = mb * b.value[j];
        beta = T(1);
    }
    blas::gemm<T>(false, true, rows, out, in, static_cast<T>(w.scaling.multiplier), a, w.value.data(), beta, y);
}

// Gradients of the affine map: ∂w = m · dyᵀ a, ∂b = m_b · Σ_rows dy, and (if da) da = m · dy · w.
// Returns true if the gradients are proved finite: by Cauchy–Schwarz over the rows, |∂w_ij| ≤ |m|·‖dy‖_F·‖a‖_F and
// |∂b_i| ≤ |m_b|·√rows·‖dy‖_F, and both bounds are below the largest finite T with a factor 4 to spare (the norms cost
// one pass over dy and a, against the GEMM's pass per output column), so an optimiser need not scan them again.
template <class T>
bool affine_backward(std::size_t rows, std::size_t in, std::size_t out, const T* a, const T* dy, parameter<T>& w, parameter<T>& b, T* da) {
    const double limit = static_cast<double>(std::numeric_limits<T>::max()) / 4;
    const double dy_norm = std::sqrt(sum_of_squares_fast(dy, rows * out)), a_norm = std::sqrt(sum_of_squares_fast(a, rows * in));
    const bool certified = dy_norm * a_norm * std::abs(w.scaling.multiplier) < limit &&
                           std::sqrt(static_cast<double>(rows)) * dy_norm * std::abs(b.scaling.multiplier) < limit;
    const T m = static_cast<T>(w.scaling.multiplier);
    blas::gemm<T>(true, false, out, in, rows, m, dy, a, T(0), w.grad.data());
    if (b.size() > 0) {
        std::fill(b.grad.begin(), b.grad.end(), T(0));
        for (std::size_t r = 0; r < rows; ++r)
            for (std::size_t j = 0; j < out; ++j) b.grad[j] += dy[r * out + j];
        const T mb = static_cast<T>(b.scaling.multiplier);
        for (auto& g : b.grad) g *= mb;
    }
    if (da) blas::gemm<T>(false, false, rows, in, out, m, dy, w.value.data(), T(0), da);
    return certified;
}

// Registers the weight (out x in, row major) and the bias (empty without biases) of weight layer ctx.next_layer;
// `certified` is the layer's flag for affine_backward's proof.
template <class T>
void register_affine(build_context<T>& ctx, const std::string& kind, parameter<T>& w, parameter<T>& b, std::size_t in, std::size_t out,
                     const signal_shape& input, double base_fan_in, bool wide_out, double out_ratio, const bool* certified) {
    const int layer = ++ctx.next_layer;
    const std::string name = kind + std::to_string(layer);
    w = parameter<T>(name + ".weight", checked_size(in, out));
    b = parameter<T>(name + ".bias", ctx.bias ? out : 0);
    const double in_ratio = static_cast<double>(input.channels) / static_cast<double>(input.base_channels);
    ctx.tensors.push_back({&w, layer, false, input.wide, wide_out, base_fan_in, in_ratio, out_ratio});
    ctx.tensors.push_back({&b, layer, true, input.wide, wide_out, 1.0, in_ratio, out_ratio});  // empty without biases: scaled, not drawn
    ctx.affine.push_back({&w, &b, in, out, certified});
}

// The width of the next weight layer and its base width.
template <class T>
std::pair<std::size_t, std::size_t> next_width(const build_context<T>& ctx) {
    const auto i = static_cast<std::size_t>(ctx.next_layer);
    return {ctx.widths.at(i), ctx.base_widths.at(i)};
}

}  // namespace detail

// ---- the states: setup (shapes, parameters), forward, backward ----
// forward(in, batch) returns the layer's output; backward(in, dy, batch, need_dx) writes the parameters' gradients and
// returns ∂loss/∂in (nullptr when !need_dx and the layer can skip it). `in` is the input of the last forward.

template <class T>
struct dense_state {
    static constexpr std::string_view kind = "dense";
    parameter<T> weight, bias;
    std::vector<T> out_, dx_;
    std::size_t rows_per_example = 1, in = 0, out = 0;
    bool certified_ = false;  // the last backward proved the gradients finite

    // fixed_out > 0: the readout (d_out outputs that do not grow with width).
    signal_shape setup(const signal_shape& s, build_context<T>& ctx, std::size_t fixed_out = 0) {
        const auto [width, base] = detail::next_width(ctx);
        rows_per_example = s.image ? s.pixels() : 1;
        in = s.channels;
        out = fixed_out > 0 ? fixed_out : width;
        const std::size_t base_out = fixed_out > 0 ? fixed_out : base;
        detail::register_affine(ctx, fixed_out > 0 ? "readout" : "dense", weight, bias, in, out, s, static_cast<double>(s.base_channels),
                                fixed_out == 0, static_cast<double>(out) / static_cast<double>(base_out), &certified_);
        signal_shape o = s;
        o.channels = out;
        o.base_channels = base_out;
        o.wide = fixed_out == 0;
        return o;
    }
    const T* forward(const T* x, std::size_t batch) {
        detail::ensure_size(out_, batch * rows_per_example * out);
        detail::affine_forward(batch * rows_per_example, in, out, x, weight, bias, out_.data());
        return out_.data();
    }
    const T* backward(const T* x, const T* dy, std::size_t batch, bool need_dx) {
        if (need_dx) detail::ensure_size(dx_, batch * rows_per_example * in);
        certified_ = detail::affine_backward(batch * rows_per_example, in, out, x, dy, weight, bias, need_dx ? dx_.data() : nullptr);
        return need_dx ? dx_.data() : nullptr;
    }
    const T* output() const { return out_.data(); }
    template <class F>
    void for_each_parameter(F&& f) {
        f(weight);
        if (bias.size() > 0) f(bias);
    }
};

template <class T, std::size_t K, std::size_t S, padding Pad>
struct conv_state {
    static_assert(K >= 1, "widenn::nn::conv<K, S, Pad>: the filter size K must be at least 1");
    static_assert(S == 1 || S == 2, "widenn::nn::conv<K, S, Pad>: the stride S must be 1 or 2");
    static constexpr std::string_view kind = "conv";
    static constexpr bool direct = K == 1 && S == 1;  // a 1x1 convolution needs no im2col
    parameter<T> weight, bias;
    std::vector<T> cols_, dcols_, out_, dx_;
    std::size_t h = 0, w = 0, c = 0, ho = 0, wo = 0, co = 0;
    std::ptrdiff_t pad_top = 0, pad_left = 0;
    bool certified_ = false;  // the last backward proved the gradients finite

    signal_shape setup(const signal_shape& s, build_context<T>& ctx) {
        require<shape_error>(s.image, "nn::conv<", K, ">: needs an image input (H x W x C), got ", s.str(),
                             " (set config.image for image inputs; a conv cannot follow flatten or gap)");
        h = s.height;
        w = s.width;
        c = s.channels;
        if constexpr (Pad == padding::valid)
            require<shape_error>(h >= K && w >= K, "nn::conv<", K, ", valid>: the image (", h, " x ", w, ") is smaller than the ", K, " x ", K,
                                 " filter");
        // same and circular: ceil(H / S) outputs, TensorFlow's split of the padding (the extra row at the end)
        ho = detail::window_output(h, K, S, Pad);
        wo = detail::window_output(w, K, S, Pad);
        pad_top = static_cast<std::ptrdiff_t>(detail::window_pad_before(h, K, S, Pad));
        pad_left = static_cast<std::ptrdiff_t>(detail::window_pad_before(w, K, S, Pad));
        const auto [width, base] = detail::next_width(ctx);
        co = width;
        detail::register_affine(ctx, "conv", weight, bias, K * K * c, co, s, static_cast<double>(K * K * s.base_channels), true,
                                static_cast<double>(co) / static_cast<double>(base), &certified_);
        return {ho, wo, co, base, true, true};
    }

    std::size_t patch() const { return K * K * c; }
    std::size_t rows(std::size_t batch) const { return batch * ho * wo; }

    // The input row iy of output row oy at tap kh, or -1 for a zero (same padding).
    static std::ptrdiff_t source(std::size_t o, std::size_t k, std::ptrdiff_t pad, std::size_t n) {
        std::ptrdiff_t i = static_cast<std::ptrdiff_t>(o * S + k) - pad;
        const auto sn = static_cast<std::ptrdiff_t>(n);
        if constexpr (Pad == padding::circular) {
            i %= sn;
            return i < 0 ? i + sn : i;
        } else {
            return i >= 0 && i < sn ? i : -1;
        }
    }

    // F(row, tap offset, input offset or -1) for every (output pixel, tap); the layout of a patch is (kh, kw, c).
    template <class F>
    void for_each_tap(std::size_t batch, F&& f) const {
        for (std::size_t b = 0; b < batch; ++b)
            for (std::size_t oy = 0; oy < ho; ++oy)
                for (std::size_t ox = 0; ox < wo; ++ox) {
                    const std::size_t row = (b * ho + oy) * wo + ox;
                    for (std::size_t kh = 0; kh < K; ++kh) {
                        const std::ptrdiff_t iy = source(oy, kh, pad_top, h);
                        for (std::size_t kw = 0; kw < K; ++kw) {
                            const std::ptrdiff_t ix = iy < 0 ? -1 : source(ox, kw, pad_left, w);
                            const std::ptrdiff_t at = ix < 0 ? -1 : static_cast<std::ptrdiff_t>(((b * h + static_cast<std::size_t>(iy)) * w +
                                                                                                 static_cast<std::size_t>(ix)) * c);
                            f(row * patch() + (kh * K + kw) * c, at);
                        }
                    }
                }
    }

    const T* forward(const T* x, std::size_t batch) {
        detail::ensure_size(out_, rows(batch) * co);
        const T* a = x;
        if constexpr (!direct) {
            detail::ensure_size(cols_, rows(batch) * patch());
            T* cols = cols_.data();
            for_each_tap(batch, [&](std::size_t to, std::ptrdiff_t from) {
                if (from < 0)
                    std::fill(cols + to, cols + to + c, T(0));
                else
                    std::copy(x + from, x + from + static_cast<std::ptrdiff_t>(c), cols + to);
            });
            a = cols_.data();
        }
        detail::affine_forward(rows(batch), patch(), co, a, weight, bias, out_.data());
        return out_.data();
    }
    const T* backward(const T* x, const T* dy, std::size_t batch, bool need_dx) {
        if constexpr (direct) {
            if (need_dx) detail::ensure_size(dx_, batch * h * w * c);
            certified_ = detail::affine_backward(rows(batch), patch(), co, x, dy, weight, bias, need_dx ? dx_.data() : nullptr);
        } else {
            if (need_dx) detail::ensure_size(dcols_, rows(batch) * patch());
            certified_ = detail::affine_backward(rows(batch), patch(), co, cols_.data(), dy, weight, bias, need_dx ? dcols_.data() : nullptr);
            if (need_dx) {  // col2im: every tap adds its gradient to the pixel it read
                detail::ensure_size(dx_, batch * h * w * c);
                std::fill(dx_.begin(), dx_.end(), T(0));
                T* dx = dx_.data();
                const T* dcols = dcols_.data();
                for_each_tap(batch, [&](std::size_t to, std::ptrdiff_t from) {
                    if (from >= 0)
                        for (std::size_t k = 0; k < c; ++k) dx[static_cast<std::size_t>(from) + k] += dcols[to + k];
                });
            }
        }
        return need_dx ? dx_.data() : nullptr;
    }
    const T* output() const { return out_.data(); }
    template <class F>
    void for_each_parameter(F&& f) {
        f(weight);
        if (bias.size() > 0) f(bias);
    }
};

template <class T, class A>
struct activation_state {
    static constexpr std::string_view kind = A::name;
    std::vector<T> out_, dx_;
    std::size_t n = 0;
    signal_shape setup(const signal_shape& s, build_context<T>&) {
        n = s.size();
        return s;
    }
    const T* forward(const T* x, std::size_t batch) {
        detail::ensure_size(out_, batch * n);
        T* y = out_.data();
        for (std::size_t i = 0; i < batch * n; ++i) y[i] = A::value(x[i]);
        return y;
    }
    const T* backward(const T* x, const T* dy, std::size_t batch, bool need_dx) {
        if (!need_dx) return nullptr;
        detail::ensure_size(dx_, batch * n);
        // Copy, then scale in place: GCC vectorises the two-pointer loop (three pointers left it scalar, about 8 % of a
        // width-128 MLP step in benchmarks/mlp_step.cpp).
        T* dx = dx_.data();
        const std::size_t count = batch * n;
        std::copy(dy, dy + count, dx);
        for (std::size_t i = 0; i < count; ++i) dx[i] *= A::derivative(x[i]);
        return dx;
    }
    const T* output() const { return out_.data(); }
    template <class F>
    void for_each_parameter(F&&) {}
};

template <class T, std::size_t K, std::size_t S>
struct avgpool_state {
    static_assert(K >= 1 && S >= 1, "widenn::nn::avgpool<K, S>: the window K and the stride S must be at least 1");
    static constexpr std::string_view kind = "avgpool";
    std::vector<T> out_, dx_;
    std::size_t h = 0, w = 0, c = 0, ho = 0, wo = 0;
    signal_shape setup(const signal_shape& s, build_context<T>&) {
        require<shape_error>(s.image, "nn::avgpool<", K, ">: needs an image input (H x W x C), got ", s.str());
        require<shape_error>(s.height >= K && s.width >= K, "nn::avgpool<", K, ">: the image (", s.height, " x ", s.width,
                             ") is smaller than the ", K, " x ", K, " window");
        h = s.height;
        w = s.width;
        c = s.channels;
        ho = detail::window_output(h, K, S, padding::valid);
        wo = detail::window_output(w, K, S, padding::valid);
        signal_shape o = s;
        o.height = ho;
        o.width = wo;
        return o;
    }
    const T* forward(const T* x, std::size_t batch) {
        detail::ensure_size(out_, batch * ho * wo * c);
        const T scale = T(1) / static_cast<T>(K * K);
        T* y = out_.data();
        std::fill(out_.begin(), out_.end(), T(0));
        for (std::size_t b = 0; b < batch; ++b)
            for (std::size_t oy = 0; oy < ho; ++oy)
                for (std::size_t ox = 0; ox < wo; ++ox) {
                    T* o = y + ((b * ho + oy) * wo + ox) * c;
                    for (std::size_t kh = 0; kh < K; ++kh)
                        for (std::size_t kw = 0; kw < K; ++kw) {
                            const T* i = x + ((b * h + oy * S + kh) * w + ox * S + kw) * c;
                            for (std::size_t k = 0; k < c; ++k) o[k] += i[k];
                        }
                    for (std::size_t k = 0; k < c; ++k) o[k] *= scale;
                }
        return y;
    }
    const T* backward(const T*, const T* dy, std::size_t batch, bool need_dx) {
        if (!need_dx) return nullptr;
        detail::ensure_size(dx_, batch * h * w * c);
        std::fill(dx_.begin(), dx_.end(), T(0));
        const T scale = T(1) / static_cast<T>(K * K);
        T* dx = dx_.data();
        for (std::size_t b = 0; b < batch; ++b)
            for (std::size_t oy = 0; oy < ho; ++oy)
                for (std::size_t ox = 0; ox < wo; ++ox) {
                    const T* g = dy + ((b * ho + oy) * wo + ox) * c;
                    for (std::size_t kh = 0; kh < K; ++kh)
                        for (std::size_t kw = 0; kw < K; ++kw) {
                            T* d = dx + ((b * h + oy * S + kh) * w + ox * S + kw) * c;
                            for (std::size_t k = 0; k < c; ++k) d[k] += scale * g[k];
                        }
                }
        return dx;
    }
    const T* output() const { return out_.data(); }
    template <class F>
    void for_each_parameter(F&&) {}
};

template <class T>
struct gap_state {
    static constexpr std::string_view kind = "gap";
    std::vector<T> out_, dx_;
    std::size_t pixels = 0, c = 0;
    signal_shape setup(const signal_shape& s, build_context<T>&) {
        require<shape_error>(s.image, "nn::gap: needs an image input (H x W x C), got ", s.str());
        pixels = s.pixels();
        c = s.channels;
        signal_shape o = s;
        o.height = o.width = 1;
        o.image = false;
        return o;
    }
    const T* forward(const T* x, std::size_t batch) {
        detail::ensure_size(out_, batch * c);
        std::fill(out_.begin(), out_.end(), T(0));
        const T scale = T(1) / static_cast<T>(pixels);
        for (std::size_t b = 0; b < batch; ++b) {
            T* o = out_.data() + b * c;
            for (std::size_t p = 0; p < pixels; ++p)
                for (std::size_t k = 0; k < c; ++k) o[k] += x[(b * pixels + p) * c + k];
            for (std::size_t k = 0; k < c; ++k) o[k] *= scale;
        }
        return out_.data();
    }
    const T* backward(const T*, const T* dy, std::size_t batch, bool need_dx) {
        if (!need_dx) return nullptr;
        detail::ensure_size(dx_, batch * pixels * c);
        const T scale = T(1) / static_cast<T>(pixels);
        for (std::size_t b = 0; b < batch; ++b)
            for (std::size_t p = 0; p < pixels; ++p)
                for (std::size_t k = 0; k < c; ++k) dx_[(b * pixels + p) * c + k] = scale * dy[b * c + k];
        return dx_.data();
    }
    const T* output() const { return out_.data(); }
    template <class F>
    void for_each_parameter(F&&) {}
};

template <class T>
struct flatten_state {
    static constexpr std::string_view kind = "flatten";
    const T* out_ = nullptr;  // the input of the last forward: NHWC rows are already flat
    signal_shape setup(const signal_shape& s, build_context<T>&) {
        require<shape_error>(s.image, "nn::flatten: needs an image input (H x W x C), got ", s.str());
        signal_shape o;
        o.channels = s.size();
        o.base_channels = s.pixels() * s.base_channels;
        o.wide = s.wide;
        return o;
    }
    const T* forward(const T* x, std::size_t) { return out_ = x; }
    const T* backward(const T*, const T* dy, std::size_t, bool) { return dy; }
    const T* output() const { return out_; }
    template <class F>
    void for_each_parameter(F&&) {}
};

template <class T, norm_over Over>
struct layernorm_state {
    static constexpr std::string_view kind = "layernorm";
    static constexpr double eps = 1e-12;
    std::vector<T> out_, dx_;
    std::vector<double> inv_std_;
    std::size_t group = 0, groups = 0;  // per example: `groups` groups of `group` entries
    signal_shape setup(const signal_shape& s, build_context<T>&) {
        group = Over == norm_over::channels ? s.channels : s.size();
        groups = s.size() / group;
        return s;
    }
    const T* forward(const T* x, std::size_t batch) {
        detail::ensure_size(out_, batch * groups * group);
        inv_std_.resize(batch * groups);
        for (std::size_t g = 0; g < batch * groups; ++g) {
            const T* in = x + g * group;
            double mean = 0, var = 0;
            for (std::size_t i = 0; i < group; ++i) mean += static_cast<double>(in[i]);
            mean /= static_cast<double>(group);
            for (std::size_t i = 0; i < group; ++i) var += (static_cast<double>(in[i]) - mean) * (static_cast<double>(in[i]) - mean);
            var /= static_cast<double>(group);
            const double inv = 1.0 / std::sqrt(var + eps);
            inv_std_[g] = inv;
            T* y = out_.data() + g * group;
            for (std::size_t i = 0; i < group; ++i) y[i] = static_cast<T>((static_cast<double>(in[i]) - mean) * inv);
        }
        return out_.data();
    }
    // dx = inv·(dy − mean(dy) − y·mean(dy·y)), y the normalised output.
    const T* backward(const T*, const T* dy, std::size_t batch, bool need_dx) {
        if (!need_dx) return nullptr;
        detail::ensure_size(dx_, batch * groups * group);
        for (std::size_t g = 0; g < batch * groups; ++g) {
            const T* d = dy + g * group;
            const T* y = out_.data() + g * group;
            double sum = 0, dot = 0;
            for (std::size_t i = 0; i < group; ++i) {
                sum += static_cast<double>(d[i]);
                dot += static_cast<double>(d[i]) * static_cast<double>(y[i]);
            }
            const double n = static_cast<double>(group), inv = inv_std_[g];
            T* dx = dx_.data() + g * group;
            for (std::size_t i = 0; i < group; ++i)
                dx[i] = static_cast<T>(inv * (static_cast<double>(d[i]) - sum / n - static_cast<double>(y[i]) * dot / n));
        }
        return dx_.data();
    }
    const T* output() const { return out_.data(); }
    template <class F>
    void for_each_parameter(F&&) {}
};

// ---- compile-time shape rules ----
// The form of the signal as far as the types know: unknown (the network's input; image or vector at run time), an
// image (after conv or avgpool), or a vector (after flatten or gap).
enum class signal_form { unknown, image, vector };

template <class L>
struct is_layer_policy : std::false_type {};
template <>
struct is_layer_policy<dense> : std::true_type {};
template <std::size_t K, std::size_t S, padding Pad>
struct is_layer_policy<conv<K, S, Pad>> : std::true_type {};
template <std::size_t K, std::size_t S>
struct is_layer_policy<avgpool<K, S>> : std::true_type {};
template <>
struct is_layer_policy<gap> : std::true_type {};
template <>
struct is_layer_policy<flatten> : std::true_type {};
template <norm_over O>
struct is_layer_policy<layernorm<O>> : std::true_type {};
template <class... Ls>
struct is_layer_policy<residual<Ls...>> : std::true_type {};

// A layer: one of the policies above or an activation (act::relu, ...).
template <class L>
concept Layer = is_layer_policy<L>::value || Activation<L>;

// The rules of one layer: next(form) (no diagnostics) and check<form>() (static_asserts with a sentence).
template <class L>
struct layer_rules {  // activations, dense, layernorm: the form passes through, any input is fine
    static constexpr signal_form next(signal_form f) { return f; }
    static constexpr bool uses_images = false;
    static constexpr bool keeps_space = true;
    template <signal_form In>
    static consteval bool check() {
        static_assert(Layer<L>, "widenn::nn::serial: a layer must be nn::dense, nn::conv, nn::avgpool, nn::gap, nn::flatten, "
                                "nn::layernorm, nn::residual or an activation policy (act::relu, ...)");
        return true;
    }
};
// The shared rules of the layers that give an image (conv, avgpool) and of those that give a vector (gap, flatten);
// each layer adds its own check (a static_assert's sentence must be a literal).
struct image_rules {
    static constexpr signal_form next(signal_form f) { return f == signal_form::vector ? f : signal_form::image; }
    static constexpr bool uses_images = true;
};
struct to_vector_rules {
    static constexpr signal_form next(signal_form) { return signal_form::vector; }
    static constexpr bool uses_images = true;
    static constexpr bool keeps_space = false;
};
template <std::size_t K, std::size_t S, padding Pad>
struct layer_rules<conv<K, S, Pad>> : image_rules {
    static constexpr bool keeps_space = S == 1 && (Pad != padding::valid || K == 1);
    template <signal_form In>
    static consteval bool check() {
        static_assert(In != signal_form::vector, "widenn::nn::conv: this conv layer comes after flatten or gap, where the signal is a "
                                                 "vector; a conv needs an image (move flatten or gap after it)");
        static_assert(K >= 1, "widenn::nn::conv<K, S, Pad>: the filter size K must be at least 1");
        static_assert(S == 1 || S == 2, "widenn::nn::conv<K, S, Pad>: the stride S must be 1 or 2");
        return true;
    }
};
template <std::size_t K, std::size_t S>
struct layer_rules<avgpool<K, S>> : image_rules {
    static constexpr bool keeps_space = K == 1 && S == 1;
    template <signal_form In>
    static consteval bool check() {
        static_assert(In != signal_form::vector, "widenn::nn::avgpool: this avgpool layer comes after flatten or gap, where the signal "
                                                 "is a vector; pooling needs an image");
        static_assert(K >= 1 && S >= 1, "widenn::nn::avgpool<K, S>: the window K and the stride S must be at least 1");
        return true;
    }
};
template <>
struct layer_rules<gap> : to_vector_rules {
    template <signal_form In>
    static consteval bool check() {
        static_assert(In != signal_form::vector, "widenn::nn::gap: this gap layer comes after flatten or gap, where the signal is "
                                                 "already a vector");
        return true;
    }
};
template <>
struct layer_rules<flatten> : to_vector_rules {
    template <signal_form In>
    static consteval bool check() {
        static_assert(In != signal_form::vector, "widenn::nn::flatten: this flatten layer comes after flatten or gap, where the signal "
                                                 "is already a vector");
        return true;
    }
};

// The forms before and after every layer of Ls..., starting from `in`.
template <class... Ls>
constexpr std::array<signal_form, sizeof...(Ls) + 1> forms_of(signal_form in) {
    std::array<signal_form, sizeof...(Ls) + 1> f{};
    f[0] = in;
    std::size_t i = 0;
    ((f[i + 1] = layer_rules<Ls>::next(f[i]), ++i), ...);
    return f;
}

// Every layer's check at its input form (each a static_assert with a sentence).
template <signal_form In, class... Ls, std::size_t... I>
consteval bool check_layers(std::index_sequence<I...>) {
    [[maybe_unused]] constexpr auto forms = forms_of<Ls...>(In);
    return (layer_rules<Ls>::template check<forms[I]>() && ... && true);
}

template <class... Ls>
struct layer_rules<residual<Ls...>> {
    static constexpr signal_form next(signal_form f) { return f; }
    static constexpr bool uses_images = (layer_rules<Ls>::uses_images || ... || false);
    static constexpr bool keeps_space = (layer_rules<Ls>::keeps_space && ... && true);
    template <signal_form In>
    static consteval bool check() {
        static_assert(sizeof...(Ls) > 0, "widenn::nn::residual: the block is empty (x + block(x) needs at least one layer)");
        static_assert(keeps_space, "widenn::nn::residual: the block changes the spatial shape (flatten, gap, avgpool, a stride-2 conv or "
                                   "a valid conv with K > 1), so x + block(x) is not defined");
        return check_layers<In, Ls...>(std::index_sequence_for<Ls...>{});
    }
};

// The number of weight layers (dense and conv, inside residual blocks too) of Ls..., without the readout.
template <class L>
struct weight_layers_of : std::integral_constant<std::size_t, 0> {};
template <>
struct weight_layers_of<dense> : std::integral_constant<std::size_t, 1> {};
template <std::size_t K, std::size_t S, padding Pad>
struct weight_layers_of<conv<K, S, Pad>> : std::integral_constant<std::size_t, 1> {};
template <class... Ls>
struct weight_layers_of<residual<Ls...>> : std::integral_constant<std::size_t, (weight_layers_of<Ls>::value + ... + 0)> {};

// ---- a chain of layers (the body of serial and residual) ----
template <class T, class L>
struct state_of {
    using type = activation_state<T, L>;
};
template <class T>
struct state_of<T, dense> {
    using type = dense_state<T>;
};
template <class T, std::size_t K, std::size_t S, padding Pad>
struct state_of<T, conv<K, S, Pad>> {
    using type = conv_state<T, K, S, Pad>;
};
template <class T, std::size_t K, std::size_t S>
struct state_of<T, avgpool<K, S>> {
    using type = avgpool_state<T, K, S>;
};
template <class T>
struct state_of<T, gap> {
    using type = gap_state<T>;
};
template <class T>
struct state_of<T, flatten> {
    using type = flatten_state<T>;
};
template <class T, norm_over O>
struct state_of<T, layernorm<O>> {
    using type = layernorm_state<T, O>;
};
template <class T, class... Ls>
struct residual_state;
template <class T, class... Ls>
struct state_of<T, residual<Ls...>> {
    using type = residual_state<T, Ls...>;
};

template <class T, class L>
inline constexpr bool passes_through = false;  // flatten: its output is its input
template <class T>
inline constexpr bool passes_through<T, flatten_state<T>> = true;

template <class T, class... Ls>
struct chain {
    static constexpr std::size_t size = sizeof...(Ls);
    using states_type = std::tuple<typename state_of<T, Ls>::type...>;
    states_type states;
    std::array<signal_shape, size + 1> shapes{};
    const T* input_ = nullptr;  // the input of the last forward (or backward)

    signal_shape setup(const signal_shape& in, build_context<T>& ctx) {
        shapes[0] = in;
        setup_each(ctx, std::index_sequence_for<Ls...>{});
        return shapes[size];
    }
    const T* forward(const T* x, std::size_t batch) {
        input_ = x;
        const T* p = x;
        std::apply([&](auto&... s) { ((p = s.forward(p, batch)), ...); }, states);
        return p;
    }
    // ∂loss/∂x from ∂loss/∂(output), given x = the input of the last forward (nullptr if !need_dx).
    const T* backward(const T* x, const T* dy, std::size_t batch, bool need_dx) {
        input_ = x;
        return backward_each(dy, batch, need_dx, std::index_sequence_for<Ls...>{});
    }
    // The input of the last forward is x (the caller's array may have moved since); outputs that are inputs follow it.
    void rebind(const T* x) { input_ = x; }
    const T* output() const { return input_of<size>(); }
    // The input of layer J (0-based), i.e. the output of layer J - 1.
    template <std::size_t J>
    const T* input_of() const {
        if constexpr (J == 0)
            return input_;
        else if constexpr (passes_through<T, std::tuple_element_t<J - 1, states_type>>)
            return input_of<J - 1>();
        else
            return std::get<J - 1>(states).output();
    }
    template <class F>
    void for_each_parameter(F&& f) {
        std::apply([&](auto&... s) { (s.for_each_parameter(f), ...); }, states);
    }

private:
    template <std::size_t... I>
    void setup_each(build_context<T>& ctx, std::index_sequence<I...>) {
        ((shapes[I + 1] = std::get<I>(states).setup(shapes[I], ctx)), ...);
    }
    template <std::size_t... I>
    const T* backward_each(const T* dy, std::size_t batch, bool need_dx, std::index_sequence<I...>) {
        const T* d = dy;
        ((d = std::get<size - 1 - I>(states).backward(input_of<size - 1 - I>(), d, batch, need_dx || size - 1 - I > 0)), ...);
        return d;
    }
};

// x + block(x) for a block with chain's interface (setup, forward, backward, for_each_parameter): chain<T, Ls...> here,
// the run-time chain of nn::dynamic_network (nn/dynamic.hpp) there.
template <class T, class Body>
struct residual_of {
    static constexpr std::string_view kind = "residual";
    Body body;
    std::vector<T> out_, dx_;
    std::size_t n = 0;
    signal_shape setup(const signal_shape& s, build_context<T>& ctx) {
        const signal_shape o = body.setup(s, ctx);
        require<shape_error>(o.image == s.image && o.height == s.height && o.width == s.width && o.channels == s.channels,
                             "nn::residual: the block maps ", s.str(), " to ", o.str(),
                             "; x + block(x) needs equal shapes (give the block's last conv or dense layer ", s.channels,
                             " channels, or put a conv of that width before the block)");
        n = s.size();
        signal_shape r = s;
        r.wide = s.wide || o.wide;
        if (o.wide) r.base_channels = o.base_channels;  // the block's width decides the base shape of the sum
        return r;
    }
    const T* forward(const T* x, std::size_t batch) {
        detail::ensure_size(out_, batch * n);
        const T* f = body.forward(x, batch);
        for (std::size_t i = 0; i < batch * n; ++i) out_[i] = x[i] + f[i];
        return out_.data();
    }
    const T* backward(const T* x, const T* dy, std::size_t batch, bool need_dx) {
        const T* d = body.backward(x, dy, batch, true);
        if (!need_dx) return nullptr;
        detail::ensure_size(dx_, batch * n);
        for (std::size_t i = 0; i < batch * n; ++i) dx_[i] = dy[i] + d[i];
        return dx_.data();
    }
    const T* output() const { return out_.data(); }
    template <class F>
    void for_each_parameter(F&& f) {
        body.for_each_parameter(f);
    }
};

template <class T, class... Ls>
struct residual_state : residual_of<T, chain<T, Ls...>> {};

}  // namespace widenn::nn
