#pragma once
// Infinite-width NNGP and NTK of an architecture given at run time (nn::spec: conv, pooling, layer norm, residual
// blocks, dense layers, activations, a flatten or gap readout), in neural-tangents' conventions (Novak et al. 2020,
// stax.Conv / AvgPool / GlobalAvgPool / Flatten / LayerNorm / FanInSum; the convolutional recursions of Novak et al.
// 2019, "Bayesian deep convolutional networks with many channels are Gaussian processes", §2-3, and Arora et al. 2019,
// "On exact computation with an infinitely wide neural net", §4):
//
//   NTK parametrization, inputs NHWC, weights N(0, σw²/fan_in) with fan_in = C·K², biases N(0, σb²).
//   input:        K⁰(p, p') = Σ_c x[p, c] x'[p', c] / C,  Θ⁰ = 0               (p, p' pixels of x and x')
//   conv K×K:     Σ(p, p') = σw²/K² Σ_δ K(s p + δ, s p' + δ) + σb²,  Θ = Σ + σw²/K² Σ_δ Θ(s p + δ, s p' + δ)
//                 (the same tap δ for both inputs; SAME zero padding drops out-of-image taps but still divides by
//                 K², like neural-tangents; CIRCULAR wraps; VALID keeps the outputs whose window fits)
//   activation φ: Σ(p, p') = T(K(p, p), K(p, p'), K'(p', p')),  Θ = Ṫ(...) Θ       (T, Ṫ from act/dual.hpp)
//   avgpool K:    Σ(o, o') = 1/K⁴ Σ_{a, b ∈ window} K(K o + a, K o' + b)  (independent offsets; likewise Θ)
//   layernorm:    Σ(p, p') = K(p, p') / √(K(p, p) K'(p', p')),  Θ likewise       (over the channels of each pixel)
//   residual:     Σ = K + Σ_block, Θ = Θ_in + Θ_block (the block ends with a fresh conv/dense, so x ⊥ block(x))
//   readout:      flatten: Σ = σw² mean_p K(p, p) + σb², Θ = Σ + σw² mean_p Θ(p, p);
//                 gap: the same with the mean over all pairs (p, p').
// A dense layer is the 1×1 convolution of a 1×1 image, so dense-only SPECs on N×d inputs run the same code and give
// limit::kernel's MLP kernels.
//
// Standard parametrization (neural-tangents' parameterization='standard', parametrization_kind::standard): the same
// weights N(0, σw²/fan_in) and biases N(0, σb²), but trained as they are, so a weight's NTK contribution is its
// NTK-parametrization one times fan_in/σw² and a bias's is 1 instead of σb² (Sohl-Dickstein et al. 2020, "On the
// infinite width limit of neural networks with a standard parameterization"; limit::kernel's MLP form). Σ is unchanged;
//   conv K×K:     Θ = C·Σ_δ K(s p + δ, s p' + δ) + b + σw²/K² Σ_δ Θ(s p + δ, s p' + δ)
//   readout:      Θ = C·(H·W mean_p K(p, p) | mean_{p,p'} K(p, p')) + b + σw² mean Θ     (flatten | gap)
// with C the layer's input channels (the image's for the first layer, kernel_config::width n after it: the NTK grows
// like n) and b = 1 when the layers have biases (kernel_config::bias). A dense-only SPEC gives limit::kernel's
// standard MLP kernel: Θ¹ = x·x' + b, Θ^{l+1} = n T(Σ^l) + σw² Ṫ(Σ^l) Θ^l + b.
//
// Two recursions: the full spatial covariance ((H·W)² entries per pair of inputs, needed when pooling or gap mixes
// pixels) and, when no layer does, the diagonal-only recursion (K(p, p) only: H·W entries per pair, cost linear in the
// pixels); spatial_path::automatic picks the diagonal one when it is exact. The full covariance is stored pixel-row
// major as [i][i'][j][j'], so a tap along the image rows adds whole W×W blocks and a tap along the columns adds shifted
// contiguous rows (both vector loops); the K×K tap sum is separable into these two passes.
// Work: every input's own recursion once (its per-pixel variances at each activation and layer norm), then each pair
// of the upper triangle (symmetric case) or the whole rectangle, rows of pairs in parallel (core/parallel.hpp).
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "../act/activations.hpp"
#include "../act/depth_optimal.hpp"
#include "../act/dual.hpp"
#include "../core/checked.hpp"
#include "../core/errors.hpp"
#include "../core/parallel.hpp"
#include "../core/tensor.hpp"
#include "../nn/spec.hpp"
#include "kernel.hpp"

namespace widenn::limit {

enum class spatial_path { automatic, diagonal, full };

// The recursion spatial_path::automatic picks for a SPEC: the full spatial covariance when avgpool or gap mixes pixels,
// else the diagonal-only one (exact without them).
inline spatial_path automatic_path(const nn::spec& s) {
    const bool mixes = nn::spec_contains(s, nn::layer_kind::avgpool) || nn::spec_contains(s, nn::layer_kind::gap);
    return mixes ? spatial_path::full : spatial_path::diagonal;
}

namespace detail {

// An activation layer on n entries: t[j] = T(q11, q12, q22) and theta[j] *= Ṫ(q11, q12, q22) (theta may be null), with
// q11 = a[j·a_stride] (a_stride 0 or 1), q12 = q[j], q22 = b[j]; t may alias q. The vectorised closed forms of
// limit::kernel where they exist and every variance is in their range, the scalar dual otherwise.
template <class T>
using dual_rows_fn = void (*)(std::size_t n, const T* a, std::size_t a_stride, const T* q, const T* b, T* t, T* theta);

template <class A, class T>
void dual_rows(std::size_t n, const T* a, std::size_t a_stride, const T* q, const T* b, T* t, T* theta) {
    std::size_t j = 0;
#ifdef WIDENN_USE_XSIMD
    if constexpr (simd_dual<A>::available) {
        bool in_range = true;
        for (std::size_t k = 0; k < n; ++k)
            in_range = in_range && unscaled_range<T>::contains(a[k * a_stride]) && unscaled_range<T>::contains(b[k]);
        if (in_range) {
            using V = xsimd::batch<T>;
            for (; j + V::size <= n; j += V::size) {
                const V va = a_stride == 0 ? V(a[0]) : V::load_unaligned(a + j);
                const auto d = simd_dual<A>::eval(va, V::load_unaligned(q + j), V::load_unaligned(b + j));
                d.value.store_unaligned(t + j);
                if (theta) (V::load_unaligned(theta + j) * d.derivative).store_unaligned(theta + j);
            }
        }
    }
#endif
    for (; j < n; ++j) {
        const auto d = dual_of<A>(a[j * a_stride], q[j], b[j]);
        t[j] = d.value;
        if (theta) theta[j] *= d.derivative;
    }
}

// The activations of nn::spec_activation_names (the same policies as `widenn kernel --act`).
template <class T>
dual_rows_fn<T> dual_rows_for(std::string_view name) {
    if (name == "relu") return &dual_rows<act::relu, T>;
    if (name == "abs") return &dual_rows<act::abs, T>;
    if (name == "leaky_relu") return &dual_rows<act::leaky_relu<0.01>, T>;
    if (name == "erf") return &dual_rows<act::erf<>, T>;
    if (name == "sigmoid_like") return &dual_rows<act::sigmoid_like, T>;
    if (name == "gelu") return &dual_rows<act::gelu, T>;
    if (name == "tanh") return &dual_rows<act::tanh, T>;
    if (name == "softplus") return &dual_rows<act::softplus, T>;
    if (name == "sin") return &dual_rows<act::sin<>, T>;
    if (name == "identity") return &dual_rows<act::identity, T>;
    if (name == "opt_3d") return &dual_rows<act::opt_3d, T>;
    fail("limit::conv_kernel: unknown activation '", name, "'");
}

// For each output position o and tap d of one image axis: the input position, or -1 outside the (zero-padded) image.
struct axis_taps {
    std::size_t in = 1, out = 1, k = 1, stride = 1;
    std::ptrdiff_t shift = 0;  // stride 1, not circular: input = o + d - shift
    bool contiguous = false;   // the input positions are o + d - shift where valid
    std::vector<std::ptrdiff_t> index;  // out × k
    std::ptrdiff_t at(std::size_t o, std::size_t d) const { return index[o * k + d]; }

    static axis_taps make(std::size_t n, std::size_t k, std::size_t stride, nn::padding pad) {
        axis_taps a;
        a.in = n, a.k = k, a.stride = stride;
        a.out = nn::detail::window_output(n, k, stride, pad);
        const std::ptrdiff_t before = static_cast<std::ptrdiff_t>(nn::detail::window_pad_before(n, k, stride, pad));
        const std::ptrdiff_t sn = static_cast<std::ptrdiff_t>(n);
        a.index.resize(a.out * k);
        for (std::size_t o = 0; o < a.out; ++o)
            for (std::size_t d = 0; d < k; ++d) {
                std::ptrdiff_t i = static_cast<std::ptrdiff_t>(o * stride + d) - before;
                if (pad == nn::padding::circular) i = ((i % sn) + sn) % sn;
                else if (i < 0 || i >= sn) i = -1;
                a.index[o * k + d] = i;
            }
        a.shift = before;
        a.contiguous = stride == 1 && pad != nn::padding::circular;
        return a;
    }
};

enum class op_kind { conv, pool, activation, layernorm, save, add };

template <class T>
struct kernel_op {
    op_kind kind = op_kind::conv;
    std::size_t h_in = 1, w_in = 1, h_out = 1, w_out = 1;
    axis_taps ty, tx;            // conv and pool
    dual_rows_fn<T> dual = nullptr;  // activation
    std::size_t slot = 0;        // activation, layernorm: offset of the per-pixel variances in an input's table
    std::size_t level = 0;       // save, add: nesting level of the residual block
    bool hidden_input = false;   // conv: its input channels are the hidden width (a conv or dense layer came before)
};

// The window sums of a conv (the same tap for both inputs) or a pool (independent offsets) of one covariance `in`,
// written to `out` as alpha·sum + beta (+ add[k] when add is non-null; add may be out-of-place only). local: scratch of
// window_scratch(op) values. Separable: along the image rows (i, i') and then the columns (j, j'); in the full layout
// [i][i'][j][j'] both passes run per output block (o, o'), so the row pass's W×W block stays in L1 and every
// covariance entry is read about once per tap row and written once.
template <class T>
std::size_t window_scratch(const kernel_op<T>& op) {
    return std::max(op.h_in, op.w_in) * (op.w_in + 2 * op.tx.k);
}

template <class T>
void window_sums(const kernel_op<T>& op, bool full, bool pool, const T* in, T* out, T* local, T alpha, T beta, const T* add) {
    const axis_taps& ty = op.ty;
    const axis_taps& tx = op.tx;
    const std::size_t hi = op.h_in, wi = op.w_in, ho = op.h_out, wo = op.w_out;
    // columns of one block: dst[ox][ox2] (rows of length row_out) = Σ src[tx(ox, a)][tx(ox2, b)] (rows of length wi)
    auto columns = [&](const T* src, T* dst, std::size_t rows_out, std::size_t row_out, const T* extra, bool diagonal) {
        for (std::size_t ox = 0; ox < rows_out; ++ox) {
            T* o = dst + ox * row_out;
            std::fill(o, o + row_out, T(0));
            if (diagonal) {  // the diagonal path: one row, taps along it
                for (std::size_t x = 0; x < row_out; ++x) {
                    T acc = 0;
                    for (std::size_t d = 0; d < tx.k; ++d) {
                        const std::ptrdiff_t c = tx.at(x, d);
                        if (c >= 0) acc += src[ox * wi + static_cast<std::size_t>(c)];
                    }
                    o[x] = acc;
                }
            } else {
                for (std::size_t da = 0; da < tx.k; ++da) {
                    const std::ptrdiff_t r = tx.at(ox, da);
                    if (r < 0) continue;
                    const T* row = src + static_cast<std::size_t>(r) * wi;
                    if (pool) {
                        for (std::size_t ox2 = 0; ox2 < row_out; ++ox2)
                            for (std::size_t db = 0; db < tx.k; ++db) o[ox2] += row[tx.at(ox2, db)];
                    } else if (tx.contiguous) {
                        // input column ox2 + da - shift, valid for ox2 in [lo, hi)
                        const std::ptrdiff_t off = static_cast<std::ptrdiff_t>(da) - tx.shift;
                        const std::ptrdiff_t lo = std::max<std::ptrdiff_t>(0, -off);
                        const std::ptrdiff_t hi2 = std::min<std::ptrdiff_t>(static_cast<std::ptrdiff_t>(row_out), static_cast<std::ptrdiff_t>(wi) - off);
                        for (std::ptrdiff_t ox2 = lo; ox2 < hi2; ++ox2) o[ox2] += row[ox2 + off];
                    } else {
                        for (std::size_t ox2 = 0; ox2 < row_out; ++ox2) {
                            const std::ptrdiff_t r2 = tx.at(ox2, da);
                            if (r2 >= 0) o[ox2] += row[r2];
                        }
                    }
                }
            }
            const T* e = extra ? extra + ox * row_out : nullptr;
            if (e)
                for (std::size_t x = 0; x < row_out; ++x) o[x] = alpha * o[x] + beta + e[x];
            else
                for (std::size_t x = 0; x < row_out; ++x) o[x] = alpha * o[x] + beta;
        }
    };
    if (!full) {
        // rows: local[o][x] = Σ_d in[ty(o, d)][x]; then the taps along each row. Stride 1 without wrap-around: the
        // rows of local have zero margins of K on both sides (the zero padding), so each tap is one shifted
        // contiguous add over the output row (vectorised; the index table per entry cost as much as the dual).
        const bool margins = !pool && tx.contiguous;
        const std::size_t margin = margins ? tx.k : 0, stride_l = wi + 2 * margin;
        std::fill(local, local + ho * stride_l, T(0));
        // K = 3 (the common filter) in one pass per row: three loads, one store
        for (std::size_t o = 0; o < ho; ++o) {
            T* dst = local + o * stride_l + margin;
            const std::ptrdiff_t r0 = ty.at(o, 0);
            if (ty.k == 3 && r0 >= 0 && ty.at(o, 2) >= 0) {  // all three rows inside the image
                const T* a = in + static_cast<std::size_t>(r0) * wi;
                const T* b = in + static_cast<std::size_t>(ty.at(o, 1)) * wi;
                const T* c = in + static_cast<std::size_t>(ty.at(o, 2)) * wi;
                for (std::size_t x = 0; x < wi; ++x) dst[x] = a[x] + b[x] + c[x];
                continue;
            }
            for (std::size_t d = 0; d < ty.k; ++d)
                if (const std::ptrdiff_t r = ty.at(o, d); r >= 0) {
                    const T* src = in + static_cast<std::size_t>(r) * wi;
                    for (std::size_t x = 0; x < wi; ++x) dst[x] += src[x];
                }
        }
        if (!margins) {
            columns(local, out, ho, wo, add, true);
            return;
        }
        for (std::size_t o = 0; o < ho; ++o) {
            T* o_row = out + o * wo;
            const T* l_row = local + o * stride_l + margin - tx.shift;  // tap d reads input column x + d - shift
            const T* a_row = add ? add + o * wo : nullptr;
            if (tx.k == 3) {
                const T *r0 = l_row, *r1 = l_row + 1, *r2 = l_row + 2;
                if (a_row)
                    for (std::size_t x = 0; x < wo; ++x) o_row[x] = alpha * (r0[x] + r1[x] + r2[x]) + beta + a_row[x];
                else
                    for (std::size_t x = 0; x < wo; ++x) o_row[x] = alpha * (r0[x] + r1[x] + r2[x]) + beta;
                continue;
            }
            std::fill(o_row, o_row + wo, T(0));
            for (std::size_t d = 0; d < tx.k; ++d)
                for (std::size_t x = 0; x < wo; ++x) o_row[x] += l_row[d + x];
            if (a_row)
                for (std::size_t x = 0; x < wo; ++x) o_row[x] = alpha * o_row[x] + beta + a_row[x];
            else
                for (std::size_t x = 0; x < wo; ++x) o_row[x] = alpha * o_row[x] + beta;
        }
        return;
    }
    const std::size_t block_in = wi * wi, block_out = wo * wo;
    if (!pool && tx.contiguous) {
        // The common case (stride 1, SAME or VALID), one pass per stage: the row pass writes the sum of the (at most
        // K) source blocks into `local` with zero margins of K on both sides of each row, so the column pass reads
        // K shifted rows without bounds checks (the margins are the zero padding) and writes alpha·sum + beta at once.
        const std::size_t margin = tx.k, stride_l = wi + 2 * margin;
        std::fill(local, local + wi * stride_l, T(0));
        std::vector<const T*> sources;
        sources.reserve(ty.k);
        std::vector<const T*> rows;
        rows.reserve(tx.k);
        for (std::size_t o = 0; o < ho; ++o)
            for (std::size_t o2 = 0; o2 < ho; ++o2) {
                sources.clear();
                for (std::size_t d = 0; d < ty.k; ++d) {
                    const std::ptrdiff_t r = ty.at(o, d), r2 = ty.at(o2, d);
                    if (r >= 0 && r2 >= 0)
                        sources.push_back(in + (static_cast<std::size_t>(r) * hi + static_cast<std::size_t>(r2)) * block_in);
                }
                const std::size_t b = (o * ho + o2) * block_out;
                T* dst_block = out + b;
                const T* add_block = add ? add + b : nullptr;
                if (sources.empty()) {  // every tap outside the image: the window sum is 0
                    for (std::size_t k = 0; k < block_out; ++k) dst_block[k] = beta + (add_block ? add_block[k] : T(0));
                    continue;
                }
                for (std::size_t r = 0; r < wi; ++r) {
                    T* dst = local + r * stride_l + margin;
                    const std::size_t off = r * wi;
                    const T* s0 = sources[0] + off;
                    if (sources.size() == 3) {
                        const T* s1 = sources[1] + off;
                        const T* s2 = sources[2] + off;
                        for (std::size_t x = 0; x < wi; ++x) dst[x] = s0[x] + s1[x] + s2[x];
                    } else {
                        for (std::size_t x = 0; x < wi; ++x) dst[x] = s0[x];
                        for (std::size_t k = 1; k < sources.size(); ++k) {
                            const T* sk = sources[k] + off;
                            for (std::size_t x = 0; x < wi; ++x) dst[x] += sk[x];
                        }
                    }
                }
                for (std::size_t ox = 0; ox < wo; ++ox) {
                    rows.clear();
                    for (std::size_t d = 0; d < tx.k; ++d) {
                        const std::ptrdiff_t r = tx.at(ox, d);  // the row ox + d - shift; its columns are shifted alike
                        if (r >= 0)
                            rows.push_back(local + static_cast<std::size_t>(r) * stride_l +
                                           static_cast<std::size_t>(static_cast<std::ptrdiff_t>(margin + d) - tx.shift));
                    }
                    T* o_row = dst_block + ox * wo;
                    const T* a_row = add_block ? add_block + ox * wo : nullptr;
                    if (rows.size() == 3) {
                        const T *r0 = rows[0], *r1 = rows[1], *r2 = rows[2];
                        if (a_row)
                            for (std::size_t x = 0; x < wo; ++x) o_row[x] = alpha * (r0[x] + r1[x] + r2[x]) + beta + a_row[x];
                        else
                            for (std::size_t x = 0; x < wo; ++x) o_row[x] = alpha * (r0[x] + r1[x] + r2[x]) + beta;
                    } else {
                        for (std::size_t x = 0; x < wo; ++x) o_row[x] = T(0);
                        for (const T* r : rows)
                            for (std::size_t x = 0; x < wo; ++x) o_row[x] += r[x];
                        for (std::size_t x = 0; x < wo; ++x) o_row[x] = alpha * o_row[x] + beta + (a_row ? a_row[x] : T(0));
                    }
                }
            }
        return;
    }
    for (std::size_t o = 0; o < ho; ++o)
        for (std::size_t o2 = 0; o2 < ho; ++o2) {
            std::fill(local, local + block_in, T(0));
            for (std::size_t da = 0; da < ty.k; ++da) {
                const std::ptrdiff_t r = ty.at(o, da);
                if (r < 0) continue;
                for (std::size_t db = pool ? 0 : da; db < (pool ? ty.k : da + 1); ++db) {
                    const std::ptrdiff_t r2 = ty.at(o2, db);
                    if (r2 < 0) continue;
                    const T* src = in + (static_cast<std::size_t>(r) * hi + static_cast<std::size_t>(r2)) * block_in;
                    for (std::size_t k = 0; k < block_in; ++k) local[k] += src[k];
                }
            }
            const std::size_t b = (o * ho + o2) * block_out;
            columns(local, out + b, wo, wo, add ? add + b : nullptr, false);
        }
}

}  // namespace detail

// A prepared kernel computation for one SPEC and inputs (N×H×W×C images, or N×d for dense-only SPECs).
template <class T = double>
class conv_kernel_plan {
    static_assert(std::is_floating_point_v<T>, "widenn: kernels are computed in float or double");

public:
    template <class E1, class E2>
    conv_kernel_plan(const nn::spec& s, const E1& x1, const E2& x2, kernel_config c, spatial_path path = spatial_path::automatic,
                     parametrization_kind kind = parametrization_kind::ntk)
        : spec_(s), config_(std::move(c)), kind_(kind), symmetric_(false) {
        const dims d1 = to_images(x1, "X1", x1_), d2 = to_images(x2, "X2", x2_);
        if (d1.rank != d2.rank || d1.h != d2.h || d1.w != d2.w || d1.c != d2.c)
            fail<shape_error>("limit::conv_kernel: X1 and X2 must have the same shape per input, got ", d1.text, " and ", d2.text);
        set_dims(d1);
        init(path);
    }
    template <class E>
    conv_kernel_plan(const nn::spec& s, const E& x, kernel_config c, spatial_path path = spatial_path::automatic,
                     parametrization_kind kind = parametrization_kind::ntk)
        : spec_(s), config_(std::move(c)), kind_(kind), symmetric_(true) {
        set_dims(to_images(x, "X", x1_));
        init(path);
    }

    // The recursion in use: spatial_path::diagonal or spatial_path::full.
    spatial_path path() const { return path_; }
    // The parametrization whose NTK is computed (the NNGP is the same for both).
    parametrization_kind kind() const { return kind_; }
    std::size_t rows() const { return x1_.shape()[0]; }
    std::size_t cols() const { return symmetric_ ? x1_.shape()[0] : x2_.shape()[0]; }

    kernel_pair<T> compute() const {
        const std::size_t n1 = rows(), n2 = cols();
        require_memory(checked_product({n1, n2, sizeof(T), std::size_t{config_.compute_ntk ? 2u : 1u}}, "limit::conv_kernel") +
                           workspace_bytes() * static_cast<std::size_t>(threads()),
                       widenn::detail::concat("limit::conv_kernel: the ", n1, " x ", n2, " kernels and per-thread workspaces"),
                       "compute fewer rows at a time, or use fewer threads");
        kernel_pair<T> out;
        out.nngp = matrix<T>::from_shape({n1, n2});
        matrix<T> ntk = config_.compute_ntk ? matrix<T>::from_shape({n1, n2}) : matrix<T>();
        const int used = threads();
        std::vector<workspace> ws;
        for (int t = 0; t < used; ++t) ws.emplace_back(*this);
        // every input's own recursion: its per-pixel variances at each activation and layer norm
        var1_.assign(n1 * table_size_, T(0));
        parallel_for_dynamic(n1, used, [&](int thread, std::size_t i) {
            T nngp_ii, ntk_ii;
            T* table = var1_.data() + i * table_size_;
            run(ws[static_cast<std::size_t>(thread)], x1_, i, x1_, i, table, table, table, nngp_ii, ntk_ii);
        });
        const matrix<T>& x2 = symmetric_ ? x1_ : x2_;
        if (!symmetric_) {
            var2_.assign(n2 * table_size_, T(0));
            parallel_for_dynamic(n2, used, [&](int thread, std::size_t i) {
                T nngp_ii, ntk_ii;
                T* table = var2_.data() + i * table_size_;
                run(ws[static_cast<std::size_t>(thread)], x2_, i, x2_, i, table, table, table, nngp_ii, ntk_ii);
            });
        }
        const std::vector<T>& var2 = symmetric_ ? var1_ : var2_;
        std::atomic<std::size_t> done{0};
        parallel_for_dynamic(n1, used, [&](int thread, std::size_t i) {
            for (std::size_t j = symmetric_ ? i : 0; j < n2; ++j) {
                T sigma, theta;
                run(ws[static_cast<std::size_t>(thread)], x1_, i, x2, j, var1_.data() + i * table_size_, var2.data() + j * table_size_,
                    nullptr, sigma, theta);
                out.nngp(i, j) = sigma;
                if (symmetric_) out.nngp(j, i) = sigma;
                if (config_.compute_ntk) {
                    ntk(i, j) = theta;
                    if (symmetric_) ntk(j, i) = theta;
                }
            }
            const std::size_t finished = ++done;
            if (config_.progress && thread == 0) config_.progress(static_cast<double>(finished) / static_cast<double>(n1));
        });
        if (config_.progress) config_.progress(1.0);
        for (std::size_t k = 0; k < n1 * n2; ++k)
            if (!std::isfinite(out.nngp.data()[k]) || (config_.compute_ntk && !std::isfinite(ntk.data()[k])))
                fail<numerical_error>("limit::conv_kernel: entry (", k / n2, ", ", k % n2, ") of the kernels is not finite (NNGP ",
                                      out.nngp.data()[k], config_.compute_ntk ? ", NTK " : "", config_.compute_ntk ? ntk.data()[k] : T(0),
                                      "); rescale the inputs or lower weight_var, or compute in double");
        if (config_.compute_ntk) out.ntk = std::move(ntk);
        return out;
    }

    // Bytes of one thread's workspace.
    std::size_t workspace_bytes() const { return checked_product({buffer_size_, 3 + 2 * levels_, sizeof(T)}, "limit::conv_kernel") + local_size_ * sizeof(T); }

private:
    struct workspace {
        std::vector<T> s, q, tmp, local;
        std::vector<std::vector<T>> saved_s, saved_q;
        explicit workspace(const conv_kernel_plan& p)
            : s(p.buffer_size_), q(p.buffer_size_), tmp(p.buffer_size_),
              local(p.local_size_), saved_s(p.levels_), saved_q(p.levels_) {
            for (auto& v : saved_s) v.resize(p.buffer_size_);
            for (auto& v : saved_q) v.resize(p.buffer_size_);
        }
    };

    int threads() const {
        const int t = config_.threads > 0 ? config_.threads : max_threads();
        return std::max(1, std::min<int>(t, static_cast<int>(std::max(rows(), std::size_t{1}))));
    }

    struct dims {
        std::size_t rank, h, w, c;
        std::string text;
    };
    void set_dims(const dims& d) { rank_ = d.rank, h_ = d.h, w_ = d.w, c_ = d.c; }

    template <class E>
    static dims to_images(const E& x, const char* which, matrix<T>& out) {
        const auto& shape = x.shape();
        const std::size_t rank = shape.size();
        std::string text;
        for (std::size_t k = 0; k < rank; ++k) text += (k ? " x " : "") + std::to_string(shape[k]);
        if (rank != 2 && rank != 4)
            fail<shape_error>("limit::conv_kernel: ", which, " must be N x H x W x C images or N x d vectors, got ", text);
        const dims d{rank, rank == 4 ? shape[1] : 1, rank == 4 ? shape[2] : 1, rank == 4 ? shape[3] : shape[1], text};
        const std::size_t n = shape[0];
        require<shape_error>(n > 0 && d.h > 0 && d.w > 0 && d.c > 0, "limit::conv_kernel: ", which, " is empty (", text, ")");
        const std::size_t per = checked_product({d.h, d.w, d.c}, "limit::conv_kernel");
        out = matrix<T>::from_shape({n, per});
        std::size_t k = 0;
        for (auto it = x.begin(); it != x.end(); ++it, ++k) {
            const T v = static_cast<T>(*it);
            if (!std::isfinite(v)) fail("limit::conv_kernel: ", which, " has a non-finite entry (", *it, ") at flat index ", k);
            out.data()[k] = v;
        }
        return d;
    }

    void init(spatial_path path) {
        const bool image = rank_ == 4;
        if (image) {
            nn::infer_shapes(spec_, h_, w_, c_);
        } else {
            nn::infer_shapes(spec_, c_);
        }
        require(std::isfinite(config_.weight_var) && config_.weight_var >= 0 && std::isfinite(config_.bias_var) && config_.bias_var >= 0,
                "limit::conv_kernel: weight_var and bias_var must be finite and >= 0, got ", config_.weight_var, " and ",
                config_.bias_var);
        if (path == spatial_path::diagonal && automatic_path(spec_) == spatial_path::full)
            fail("limit::conv_kernel: the diagonal-only recursion is exact only without avgpool and gap; this SPEC pools");
        path_ = path == spatial_path::automatic ? automatic_path(spec_) : path;
        gap_ = spec_.layers.back().kind == nn::layer_kind::gap;
        std::size_t h = h_, w = w_;
        compile(spec_.layers, h, w, 0);
        if (kind_ == parametrization_kind::standard && config_.compute_ntk && readout_hidden_)
            require(config_.width > 0, "limit::conv_kernel: the standard parametrization's NTK grows with the hidden width; set "
                                       "kernel_config::width (got 0)");
        h_out_ = h, w_out_ = w;
        const std::size_t pixels = checked_product({h_, w_}, "limit::conv_kernel");
        buffer_size_ = path_ == spatial_path::full ? checked_product({pixels, pixels}, "limit::conv_kernel") : pixels;
        require_memory(workspace_bytes(), "limit::conv_kernel: the per-thread workspace of the full spatial covariance",
                       "downsample the images, or use a SPEC without pooling (flatten readout: the diagonal recursion)");
    }

    void compile(const std::vector<nn::layer_spec>& layers, std::size_t& h, std::size_t& w, std::size_t level) {
        for (const nn::layer_spec& l : layers) {
            detail::kernel_op<T> op;
            op.h_in = h, op.w_in = w;
            switch (l.kind) {
                case nn::layer_kind::dense:
                case nn::layer_kind::conv: {
                    const std::size_t k = l.kind == nn::layer_kind::dense ? 1 : static_cast<std::size_t>(l.size);
                    const std::size_t st = static_cast<std::size_t>(l.stride);
                    op.kind = detail::op_kind::conv;
                    op.hidden_input = readout_hidden_;
                    readout_hidden_ = true;
                    op.ty = detail::axis_taps::make(h, k, st, l.pad);
                    op.tx = detail::axis_taps::make(w, k, st, l.pad);
                    break;
                }
                case nn::layer_kind::avgpool: {
                    const std::size_t k = static_cast<std::size_t>(l.size);
                    op.kind = detail::op_kind::pool;
                    op.ty = detail::axis_taps::make(h, k, k, nn::padding::valid);
                    op.tx = detail::axis_taps::make(w, k, k, nn::padding::valid);
                    break;
                }
                case nn::layer_kind::activation:
                case nn::layer_kind::layernorm:
                    op.kind = l.kind == nn::layer_kind::activation ? detail::op_kind::activation : detail::op_kind::layernorm;
                    if (op.kind == detail::op_kind::activation) op.dual = detail::dual_rows_for<T>(l.activation);
                    op.slot = table_size_;
                    table_size_ += h * w;
                    break;
                case nn::layer_kind::residual: {
                    op.kind = detail::op_kind::save;
                    op.level = level;
                    levels_ = std::max(levels_, level + 1);
                    ops_.push_back(op);
                    compile(l.inner, h, w, level + 1);
                    op.kind = detail::op_kind::add;
                    op.h_in = h, op.w_in = w;
                    break;
                }
                case nn::layer_kind::flatten:
                case nn::layer_kind::gap:
                    continue;  // the readout
            }
            if (op.kind == detail::op_kind::conv || op.kind == detail::op_kind::pool) {
                local_size_ = std::max(local_size_, detail::window_scratch(op));
                h = op.ty.out, w = op.tx.out;
            }
            op.h_out = h, op.w_out = w;
            ops_.push_back(std::move(op));
        }
    }

    // The recursion for the pair (X[i], Y[j]). va, vb: the two inputs' variance tables; fill: non-null for an input's
    // own recursion (i = j, va = vb = fill), whose variances are written there as they are reached.
    void run(workspace& ws, const matrix<T>& xa, std::size_t i, const matrix<T>& xb, std::size_t j, const T* va, const T* vb, T* fill,
             T& sigma, T& theta) const {
        const bool full = path_ == spatial_path::full;
        const std::size_t c = c_, hw = h_ * w_;
        const T* a = xa.data() + i * hw * c;
        const T* b = xb.data() + j * hw * c;
        T* s = ws.s.data();
        T* q = ws.q.data();
        const T inv_c = T(1) / static_cast<T>(c);
        if (full) {
            for (std::size_t yi = 0; yi < h_; ++yi)
                for (std::size_t yj = 0; yj < h_; ++yj)
                    for (std::size_t xi = 0; xi < w_; ++xi) {
                        const T* pa = a + (yi * w_ + xi) * c;
                        T* row = s + ((yi * h_ + yj) * w_ + xi) * w_;
                        for (std::size_t xj = 0; xj < w_; ++xj) {
                            const T* pb = b + (yj * w_ + xj) * c;
                            T acc = 0;
                            for (std::size_t k = 0; k < c; ++k) acc += pa[k] * pb[k];
                            row[xj] = acc * inv_c;
                        }
                    }
        } else {
            for (std::size_t p = 0; p < hw; ++p) {
                T acc = 0;
                for (std::size_t k = 0; k < c; ++k) acc += a[p * c + k] * b[p * c + k];
                s[p] = acc * inv_c;
            }
        }
        const T wv = static_cast<T>(config_.weight_var), bv = static_cast<T>(config_.bias_var);
        const bool ntk = config_.compute_ntk;
        const bool standard = kind_ == parametrization_kind::standard;
        const T width = static_cast<T>(config_.width), b_standard = config_.bias ? T(1) : T(0);
        bool theta_live = false;  // false while Θ = 0 (the input has no parameters): q is not read or written
        std::size_t h = h_, w = w_;
        for (const detail::kernel_op<T>& op : ops_) {
            const std::size_t n = full ? h * h * w * w : h * w;
            switch (op.kind) {
                case detail::op_kind::conv:
                case detail::op_kind::pool: {
                    const bool pool = op.kind == detail::op_kind::pool;
                    const T k2 = static_cast<T>(op.ty.k * op.tx.k);
                    const T scale = pool ? T(1) / (k2 * k2) : wv / k2, bias = pool ? T(0) : bv;
                    if (ntk && standard && !pool) {
                        // Θ' = C·window(Σ) + b + scale·window(Θ), then Σ' = scale·window(Σ) + σb² (three passes)
                        const T channels = op.hidden_input ? width : static_cast<T>(c_);
                        const T* extra = nullptr;
                        if (theta_live) {
                            detail::window_sums(op, full, false, q, ws.tmp.data(), ws.local.data(), scale, T(0), static_cast<const T*>(nullptr));
                            std::swap(ws.q, ws.tmp);
                            q = ws.q.data();
                            extra = q;
                        }
                        detail::window_sums(op, full, false, s, ws.tmp.data(), ws.local.data(), channels, b_standard, extra);
                        std::swap(ws.q, ws.tmp);
                        q = ws.q.data();
                        theta_live = true;
                        detail::window_sums(op, full, false, s, ws.tmp.data(), ws.local.data(), scale, bias, static_cast<const T*>(nullptr));
                        std::swap(ws.s, ws.tmp);
                        s = ws.s.data();
                        h = op.h_out, w = op.w_out;
                        break;
                    }
                    // Σ' = scale·window(Σ) + σb², Θ' = Σ' + scale·window(Θ) (a pool: Θ' = scale·window(Θ))
                    detail::window_sums(op, full, pool, s, ws.tmp.data(), ws.local.data(), scale, bias, static_cast<const T*>(nullptr));
                    std::swap(ws.s, ws.tmp);
                    s = ws.s.data();
                    h = op.h_out, w = op.w_out;
                    if (ntk && theta_live) {
                        detail::window_sums(op, full, pool, q, ws.tmp.data(), ws.local.data(), scale, T(0), pool ? nullptr : s);
                        std::swap(ws.q, ws.tmp);
                        q = ws.q.data();
                    } else if (ntk && !pool) {  // Θ = 0 so far (before the first conv or dense): Θ' = Σ'
                        const std::size_t m = full ? h * h * w * w : h * w;
                        std::copy(s, s + m, q);
                        theta_live = true;
                    }
                    break;
                }
                case detail::op_kind::activation:
                case detail::op_kind::layernorm: {
                    if (fill) {  // this input's per-pixel variances, read by every pair later
                        for (std::size_t y = 0; y < h; ++y)
                            for (std::size_t x = 0; x < w; ++x)
                                fill[op.slot + y * w + x] = full ? s[((y * h + y) * w + x) * w + x] : s[y * w + x];
                    }
                    const T* pa = va + op.slot;
                    const T* pb = vb + op.slot;
                    if (op.kind == detail::op_kind::activation) {
                        if (full) {
                            for (std::size_t yi = 0; yi < h; ++yi)
                                for (std::size_t yj = 0; yj < h; ++yj)
                                    for (std::size_t xi = 0; xi < w; ++xi) {
                                        const std::size_t off = ((yi * h + yj) * w + xi) * w;
                                        op.dual(w, pa + yi * w + xi, 0, s + off, pb + yj * w, s + off, theta_live ? q + off : nullptr);
                                    }
                        } else {
                            op.dual(n, pa, 1, s, pb, s, theta_live ? q : nullptr);
                        }
                    } else {
                        auto normalise = [&](std::size_t off, T va_p, const T* vb_row, std::size_t count) {
                            for (std::size_t k = 0; k < count; ++k) {
                                const T prod = va_p * vb_row[k];
                                const T f = prod > T(0) ? T(1) / std::sqrt(prod) : T(0);
                                s[off + k] *= f;
                                if (theta_live) q[off + k] *= f;
                            }
                        };
                        if (full) {
                            for (std::size_t yi = 0; yi < h; ++yi)
                                for (std::size_t yj = 0; yj < h; ++yj)
                                    for (std::size_t xi = 0; xi < w; ++xi)
                                        normalise(((yi * h + yj) * w + xi) * w, pa[yi * w + xi], pb + yj * w, w);
                        } else {
                            for (std::size_t k = 0; k < n; ++k) normalise(k, pa[k], pb + k, 1);
                        }
                    }
                    break;
                }
                case detail::op_kind::save:
                    std::copy(s, s + n, ws.saved_s[op.level].data());
                    if (theta_live) std::copy(q, q + n, ws.saved_q[op.level].data());
                    break;
                case detail::op_kind::add: {
                    const T* ss = ws.saved_s[op.level].data();
                    const T* sq = ws.saved_q[op.level].data();
                    for (std::size_t k = 0; k < n; ++k) s[k] += ss[k];
                    if (theta_live)
                        for (std::size_t k = 0; k < n; ++k) q[k] += sq[k];
                    break;
                }
            }
        }
        if (!theta_live) std::fill(q, q + (full ? h * h * w * w : h * w), T(0));  // no parameter so far
        // readout Dense(1) after flatten (mean of the pixel diagonal) or gap (mean of all pixel pairs)
        T ms = 0, mq = 0;
        if (!full) {
            for (std::size_t k = 0; k < h * w; ++k) ms += s[k], mq += q[k];
            ms /= static_cast<T>(h * w), mq /= static_cast<T>(h * w);
        } else if (gap_) {
            const std::size_t m = h * h * w * w;
            for (std::size_t k = 0; k < m; ++k) ms += s[k], mq += q[k];
            ms /= static_cast<T>(m), mq /= static_cast<T>(m);
        } else {
            for (std::size_t y = 0; y < h; ++y)
                for (std::size_t x = 0; x < w; ++x) {
                    const std::size_t k = ((y * h + y) * w + x) * w + x;
                    ms += s[k], mq += q[k];
                }
            ms /= static_cast<T>(h * w), mq /= static_cast<T>(h * w);
        }
        sigma = wv * ms + bv;
        if (!ntk) {
            theta = T(0);
        } else if (standard) {  // the readout's fan_in: C·H·W after flatten, C after gap
            const T channels = readout_hidden_ ? width : static_cast<T>(c_);
            theta = channels * (gap_ ? T(1) : static_cast<T>(h * w)) * ms + b_standard + wv * mq;
        } else {
            theta = sigma + wv * mq;
        }
    }

    nn::spec spec_;
    kernel_config config_;
    parametrization_kind kind_ = parametrization_kind::ntk;
    bool readout_hidden_ = false;  // a conv or dense layer precedes the readout (its fan_in is the hidden width)
    bool symmetric_;
    matrix<T> x1_, x2_;
    std::size_t rank_ = 0, h_ = 1, w_ = 1, c_ = 1, h_out_ = 1, w_out_ = 1;
    spatial_path path_ = spatial_path::diagonal;
    bool gap_ = false;
    std::vector<detail::kernel_op<T>> ops_;
    std::size_t table_size_ = 0, levels_ = 0, buffer_size_ = 0, local_size_ = 1;
    mutable std::vector<T> var1_, var2_;
};

// The NNGP and NTK of SPEC on X1 against X2 (N×H×W×C images or N×d vectors), neural-tangents' NTK parametrization
// (or its standard one: kind = parametrization_kind::standard, with kernel_config::width and ::bias).
template <class T = double, class E1, class E2>
kernel_pair<T> conv_kernels(const nn::spec& s, const E1& x1, const E2& x2, const kernel_config& c = {},
                            spatial_path path = spatial_path::automatic, parametrization_kind kind = parametrization_kind::ntk) {
    return conv_kernel_plan<T>(s, x1, x2, c, path, kind).compute();
}
// The same of X against itself (one triangle computed).
template <class T = double, class E>
kernel_pair<T> conv_kernels(const nn::spec& s, const E& x, const kernel_config& c = {}, spatial_path path = spatial_path::automatic,
                            parametrization_kind kind = parametrization_kind::ntk) {
    return conv_kernel_plan<T>(s, x, c, path, kind).compute();
}

}  // namespace widenn::limit
