// limit::conv_kernel_plan against Monte Carlo averages of finite convolutional networks written here with plain loops
// (independent of the kernel code): width 256, 100 seeds per case. Each seed's estimate is the readout's covariance
// given the last features (the expectation over the readout Dense(1) in closed form), so the estimate has variance
// O(1/width) per seed; the tolerance is 5 standard errors computed from the seeds, plus the O(1/width) finite-width bias
// allowance of 2/width relative. NNGP only; the NTK (and the NNGP again, at width 512) against widenn's own finite networks
// nn::network is in conv_kernel_ntk_monte_carlo.cpp. Width 256 here: the hidden 3 x 3 conv in plain loops costs 4x at 512.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include <xtensor/xarray.hpp>

#include <widenn/core/rng.hpp>
#include <widenn/limit/conv_kernel.hpp>
#include <widenn/nn/spec.hpp>

namespace wn = widenn;
namespace lim = widenn::limit;
namespace nn = widenn::nn;

namespace {

// Features of one image: h × w pixels × c channels, pixel-major (channel fastest).
struct image {
    std::size_t h, w, c;
    std::vector<double> v;
    double& at(std::size_t y, std::size_t x, std::size_t k) { return v[(y * w + x) * c + k]; }
    double at(std::size_t y, std::size_t x, std::size_t k) const { return v[(y * w + x) * c + k]; }
};

// Input index of output o, tap d on an axis of n positions (TensorFlow's SAME / VALID rules, circular wrapping), or -1.
long tap(std::size_t n, std::size_t k, std::size_t stride, nn::padding pad, std::size_t o, std::size_t d) {
    const long sn = static_cast<long>(n);
    long before = 0;
    if (pad != nn::padding::valid) {
        const long out = (sn + static_cast<long>(stride) - 1) / static_cast<long>(stride);
        const long total = std::max<long>((out - 1) * static_cast<long>(stride) + static_cast<long>(k) - sn, 0);
        before = total / 2;
    }
    long i = static_cast<long>(o * stride + d) - before;
    if (pad == nn::padding::circular) return ((i % sn) + sn) % sn;
    return i >= 0 && i < sn ? i : -1;
}

struct finite_net {
    std::size_t width;
    double wv, bv;
    wn::rng& gen;

    // The same random layer applied to every image of the batch.
    std::vector<image> layers(const std::vector<nn::layer_spec>& ls, std::vector<image> xs) {
        for (const auto& l : ls) xs = layer(l, std::move(xs));
        return xs;
    }
    std::vector<image> layer(const nn::layer_spec& l, std::vector<image> xs) {
        const std::size_t h = xs[0].h, w = xs[0].w, c = xs[0].c;
        switch (l.kind) {
            case nn::layer_kind::conv: {
                const std::size_t k = static_cast<std::size_t>(l.size), s = static_cast<std::size_t>(l.stride);
                const std::size_t ho = l.pad == nn::padding::valid ? (h - k) / s + 1 : (h + s - 1) / s;
                const std::size_t wo = l.pad == nn::padding::valid ? (w - k) / s + 1 : (w + s - 1) / s;
                const double sd = std::sqrt(wv / static_cast<double>(c * k * k));
                std::vector<double> weights(k * k * c * width), bias(width);
                for (auto& v : weights) v = sd * gen.normal();
                for (auto& v : bias) v = std::sqrt(bv) * gen.normal();
                for (auto& x : xs) {
                    image out{ho, wo, width, std::vector<double>(ho * wo * width)};
                    for (std::size_t oy = 0; oy < ho; ++oy)
                        for (std::size_t ox = 0; ox < wo; ++ox) {
                            double* o = &out.at(oy, ox, 0);
                            for (std::size_t m = 0; m < width; ++m) o[m] = bias[m];
                            for (std::size_t dy = 0; dy < k; ++dy)
                                for (std::size_t dx = 0; dx < k; ++dx) {
                                    const long iy = tap(h, k, s, l.pad, oy, dy), ix = tap(w, k, s, l.pad, ox, dx);
                                    if (iy < 0 || ix < 0) continue;
                                    for (std::size_t ch = 0; ch < c; ++ch) {
                                        const double in = x.at(static_cast<std::size_t>(iy), static_cast<std::size_t>(ix), ch);
                                        const double* wr = &weights[((dy * k + dx) * c + ch) * width];
                                        for (std::size_t m = 0; m < width; ++m) o[m] += wr[m] * in;
                                    }
                                }
                        }
                    x = std::move(out);
                }
                return xs;
            }
            case nn::layer_kind::activation:
                for (auto& x : xs)
                    for (auto& v : x.v) v = l.activation == "relu" ? std::max(v, 0.0) : l.activation == "erf" ? std::erf(v) : v;
                return xs;
            case nn::layer_kind::avgpool: {
                const std::size_t k = static_cast<std::size_t>(l.size);
                for (auto& x : xs) {
                    image out{h / k, w / k, c, std::vector<double>((h / k) * (w / k) * c, 0.0)};
                    for (std::size_t oy = 0; oy < h / k; ++oy)
                        for (std::size_t ox = 0; ox < w / k; ++ox)
                            for (std::size_t a = 0; a < k; ++a)
                                for (std::size_t b = 0; b < k; ++b)
                                    for (std::size_t ch = 0; ch < c; ++ch)
                                        out.at(oy, ox, ch) += x.at(oy * k + a, ox * k + b, ch) / double(k * k);
                    x = std::move(out);
                }
                return xs;
            }
            case nn::layer_kind::layernorm:
                for (auto& x : xs)
                    for (std::size_t p = 0; p < h * w; ++p) {
                        double mean = 0, var = 0;
                        for (std::size_t ch = 0; ch < c; ++ch) mean += x.v[p * c + ch] / double(c);
                        for (std::size_t ch = 0; ch < c; ++ch) var += (x.v[p * c + ch] - mean) * (x.v[p * c + ch] - mean) / double(c);
                        for (std::size_t ch = 0; ch < c; ++ch) x.v[p * c + ch] = (x.v[p * c + ch] - mean) / std::sqrt(var);
                    }
                return xs;
            case nn::layer_kind::residual: {
                std::vector<image> block = layers(l.inner, xs);
                for (std::size_t i = 0; i < xs.size(); ++i)
                    for (std::size_t k = 0; k < xs[i].v.size(); ++k) xs[i].v[k] += block[i].v[k];
                return xs;
            }
            default:
                FAIL("finite_net: layer not used in these tests");
                return xs;
        }
    }
};

// E[f(x_a) f(x_b)] over the readout Dense(1) (weights N(0, wv/fan_in), bias N(0, bv)) given the last features.
double readout_covariance(const image& a, const image& b, bool gap, double wv, double bv) {
    const std::size_t pixels = a.h * a.w;
    double sum = 0;
    if (!gap) {
        for (std::size_t k = 0; k < a.v.size(); ++k) sum += a.v[k] * b.v[k];
        return wv * sum / static_cast<double>(a.v.size()) + bv;
    }
    for (std::size_t ch = 0; ch < a.c; ++ch) {
        double ma = 0, mb = 0;
        for (std::size_t p = 0; p < pixels; ++p) ma += a.v[p * a.c + ch], mb += b.v[p * a.c + ch];
        sum += (ma / double(pixels)) * (mb / double(pixels));
    }
    return wv * sum / static_cast<double>(a.c) + bv;
}

void check_monte_carlo(const char* text, std::size_t h, std::size_t w, double wv, double bv, std::size_t width = 256, int seeds = 100) {
    CAPTURE(text);
    const nn::spec spec = nn::parse_spec(text);
    const std::size_t c = 2, count = 3;
    wn::rng data(17);
    xt::xarray<double> x = xt::xarray<double>::from_shape({count, h, w, c});
    for (auto& v : x) v = data.normal();
    std::vector<image> inputs;
    for (std::size_t n = 0; n < count; ++n) {
        image im{h, w, c, std::vector<double>(h * w * c)};
        for (std::size_t k = 0; k < h * w * c; ++k) im.v[k] = x.data()[n * h * w * c + k];
        inputs.push_back(std::move(im));
    }
    const auto kernel = lim::conv_kernels(spec, x, lim::kernel_config{.weight_var = wv, .bias_var = bv});
    const bool gap = spec.layers.back().kind == nn::layer_kind::gap;
    std::vector<nn::layer_spec> body(spec.layers.begin(), spec.layers.end() - 1);
    std::vector<double> sum(count * count, 0.0), sum_sq(count * count, 0.0);
    for (int s = 0; s < seeds; ++s) {
        wn::rng gen(1000 + static_cast<std::uint64_t>(s));
        finite_net net{width, wv, bv, gen};
        const std::vector<image> features = net.layers(body, inputs);
        for (std::size_t i = 0; i < count; ++i)
            for (std::size_t j = i; j < count; ++j) {
                const double e = readout_covariance(features[i], features[j], gap, wv, bv);
                sum[i * count + j] += e;
                sum_sq[i * count + j] += e * e;
            }
    }
    for (std::size_t i = 0; i < count; ++i)
        for (std::size_t j = i; j < count; ++j) {
            const double mean = sum[i * count + j] / seeds;
            const double var = (sum_sq[i * count + j] / seeds - mean * mean) * seeds / (seeds - 1.0);
            const double se = std::sqrt(std::max(var, 0.0) / seeds);
            const double expected = kernel.nngp(i, j);
            CAPTURE(i);
            CAPTURE(j);
            CAPTURE(mean);
            CAPTURE(se);
            CHECK(std::abs(mean - expected) <= 5 * se + 2.0 / static_cast<double>(width) * std::abs(expected));
            // the check can fail: a 10 % error in the kernel would be far outside the tolerance
            CHECK(std::abs(mean - 1.1 * expected) > 5 * se + 2.0 / static_cast<double>(width) * std::abs(expected));
        }
}

}  // namespace

TEST_CASE("conv_kernel Monte Carlo: same, valid and circular convolutions, relu and erf, flatten") {
    check_monte_carlo("conv:3,relu,conv:3,erf,flatten", 3, 3, 2.0, 0.1);  // a hidden 3 x 3 conv: the costly case
    check_monte_carlo("conv:3:valid,relu,flatten", 5, 5, 2.0, 0.1);
    check_monte_carlo("conv:3:circular,erf,flatten", 4, 3, 1.5, 0.2);
    check_monte_carlo("conv:3:same:2,relu,flatten", 5, 5, 2.0, 0.0);
}

TEST_CASE("conv_kernel Monte Carlo: avgpool and gap (the full spatial covariance)") {
    check_monte_carlo("conv:3,relu,avgpool:2,flatten", 4, 4, 2.0, 0.1);
    check_monte_carlo("conv:3:circular,erf,gap", 4, 4, 1.5, 0.1);
    check_monte_carlo("conv:3,relu,conv:1,relu,gap", 4, 4, 2.0, 0.1);
}

TEST_CASE("conv_kernel Monte Carlo: layer norm and residual blocks") {
    check_monte_carlo("conv:3,layernorm,relu,flatten", 4, 4, 2.0, 0.1);
    check_monte_carlo("conv:3,res(relu,conv:1),relu,flatten", 4, 4, 1.0, 0.1);
    check_monte_carlo("conv:3,res(relu,conv:1),erf,avgpool:2,gap", 4, 4, 1.0, 0.1);
}
