// limit::conv_kernels against averages of finite widenn networks nn::network<param::ntk, nn::serial<...>, double>:
// the empirical NTK (nn::empirical_ntk) and the readout covariance given the last features (the NNGP), width 512,
// 100 seeds per case, tolerance 5 standard errors computed from the seeds plus an O(1/width) finite-width bias
// allowance of 2/width relative; each check also rejects the kernel scaled by 1.1.
//
// The finite network whose kernels are the SPEC's (neural-tangents' NTK parametrization): param::ntk with
// constants_in::multiplier (w ~ N(0, 1), W = √(σw²/fan_in)·w, fan_in = C_in·K² for a conv and H·W·C for the readout
// after flatten), weight_var = σw² and bias_var = σb² for every layer, and biases only when σb² > 0 (bias = false
// for σb² = 0: a trainable zero-initialised bias has multiplier 1 and would add 1 per layer to the NTK).
// The standard parametrization (param::standard_lr_1_over_n at base width = width, all SGD factors 1) is the same
// network with constants_in::init (W ~ N(0, σw²/fan_in) trained as it is); its kernel needs the width and the bias flag.
#include <doctest/doctest.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <string>
#include <vector>

#include <xtensor/xarray.hpp>

#include <widenn/act/activations.hpp>
#include <widenn/core/rng.hpp>
#include <widenn/limit/conv_kernel.hpp>
#include <widenn/limit/of.hpp>
#include <widenn/nn/ntk.hpp>
#include <widenn/nn/serial.hpp>
#include <widenn/nn/spec.hpp>

namespace {

namespace wn = widenn;
namespace lim = widenn::limit;
namespace nn = widenn::nn;
namespace param = widenn::param;
using relu = wn::act::relu;
using erf_ = wn::act::erf<>;
using nn::padding;

struct moments {
    std::vector<double> sum, sum_sq;
    explicit moments(std::size_t n) : sum(n, 0.0), sum_sq(n, 0.0) {}
    void add(std::size_t k, double v) { sum[k] += v, sum_sq[k] += v * v; }
    double mean(std::size_t k, int seeds) const { return sum[k] / seeds; }
    double standard_error(std::size_t k, int seeds) const {
        const double m = mean(k, seeds);
        const double var = (sum_sq[k] / seeds - m * m) * seeds / (seeds - 1.0);
        return std::sqrt(std::max(var, 0.0) / seeds);
    }
};

// The mean of the samples agrees with the kernel entry; `reject`: the kernel scaled by 1.1 does not.
void check_entry(const std::string& what, double mean, double se, double expected, std::size_t width, bool reject) {
    CAPTURE(what);
    CAPTURE(mean);
    CAPTURE(se);
    CAPTURE(expected);
    const double tolerance = 5 * se + 2.0 / static_cast<double>(width) * std::abs(expected);
    CHECK(std::abs(mean - expected) <= tolerance);
    // the check can fail: a kernel 10 % off is far outside the tolerance (entries near 0 cannot tell, see the caller)
    if (reject) CHECK(std::abs(mean - 1.1 * expected) > tolerance);
}

// Net: nn::network<param::ntk, nn::serial<...>, double> whose layers are those of `text`.
template <class Net>
void check_ntk_monte_carlo(const char* text, std::size_t h, std::size_t w, std::size_t c, double wv, double bv, std::size_t count = 3,
                           bool verbose = false, std::size_t width = 512, int seeds = 100) {
    const std::string spec_text = text;
    CAPTURE(spec_text);
    const std::clock_t start = std::clock();
    const nn::spec spec = nn::parse_spec(text);
    CHECK(lim::of<Net>::text() == nn::format_spec(spec));  // the network's own SPEC (limit/composition.hpp)
    const std::size_t d = h * w * c;
    wn::rng data(23);
    xt::xarray<double> images = xt::xarray<double>::from_shape({count, h, w, c});
    for (auto& v : images) v = data.normal();
    wn::matrix<double> x = wn::matrix<double>::from_shape({count, d});
    std::copy(images.begin(), images.end(), x.begin());
    constexpr lim::parametrization_kind kind = lim::of<Net>::kind;
    constexpr bool ntk_kind = kind == lim::parametrization_kind::ntk;
    const auto kernel = lim::conv_kernels(spec, images, lim::kernel_config{.weight_var = wv, .bias_var = bv, .bias = bv > 0, .width = width},
                                          lim::spatial_path::automatic, kind);

    const bool gap = spec.layers.back().kind == nn::layer_kind::gap;
    moments ntk(count * count), nngp(count * count);
    for (int s = 0; s < seeds; ++s) {
        Net net({.image = {h, w, c},
                 .width = width,
                 .d_out = 1,
                 .bias = bv > 0,
                 .weight_var = wv,
                 .bias_var = bv,
                 .constants = ntk_kind ? nn::constants_in::multiplier : nn::constants_in::init,
                 .seed = 5000 + static_cast<std::uint64_t>(s)});
        const wn::matrix<double> theta = nn::empirical_ntk(net, x, x);
        // the NNGP given the last features φ (the readout's input): E[f(x_i) f(x_j) | φ] = σw² φ_i·φ_j / fan_in + σb²
        net.forward(x);
        const double* features = nullptr;
        std::size_t size = 0;
        const std::string last = std::string(gap ? "gap" : "flatten") + std::to_string(Net::size);
        net.for_each_output([&](const std::string& name, const double* data_, std::size_t n) {
            if (name == last) features = data_, size = n / count;
        });
        REQUIRE(features != nullptr);
        for (std::size_t i = 0; i < count; ++i)
            for (std::size_t j = i; j < count; ++j) {
                double dot = 0;
                for (std::size_t k = 0; k < size; ++k) dot += features[i * size + k] * features[j * size + k];
                nngp.add(i * count + j, wv * dot / static_cast<double>(size) + bv);
                ntk.add(i * count + j, theta(i, j));
            }
    }
    // the 10 %-off kernel is rejected at every entry at least half the mean diagonal (always the diagonal itself)
    double ntk_diagonal = 0, nngp_diagonal = 0;
    for (std::size_t i = 0; i < count; ++i) ntk_diagonal += kernel.ntk(i, i) / count, nngp_diagonal += kernel.nngp(i, i) / count;
    for (std::size_t i = 0; i < count; ++i)
        for (std::size_t j = i; j < count; ++j) {
            CAPTURE(i);
            CAPTURE(j);
            const std::size_t k = i * count + j;
            check_entry("NTK", ntk.mean(k, seeds), ntk.standard_error(k, seeds), kernel.ntk(i, j), width,
                        std::abs(kernel.ntk(i, j)) >= 0.5 * ntk_diagonal);
            check_entry("NNGP", nngp.mean(k, seeds), nngp.standard_error(k, seeds), kernel.nngp(i, j), width,
                        std::abs(kernel.nngp(i, j)) >= 0.5 * nngp_diagonal);
        }
    if (verbose) MESSAGE(spec_text, ": ", double(std::clock() - start) / CLOCKS_PER_SEC, " s CPU");
}

// a hidden-to-hidden K x K convolution (K > 1) at width 512 costs seconds per case (about 10 s CPU for 100 seeds of
// the 1M-parameter conv below, 40 % of it drawing the initial weights), so it is skipped by default:
// test_limit -tc="*hidden 2x2*" --no-skip
template <class... Layers>
using ntk_net = nn::network<param::ntk, nn::serial<Layers...>, double>;
template <class... Layers>
using sp_net = nn::network<param::standard_lr_1_over_n, nn::serial<Layers...>, double>;

}  // namespace

TEST_CASE("conv NTK Monte Carlo (nn::network, width 512): same, valid and circular padding, stride 2, flatten") {
    check_ntk_monte_carlo<ntk_net<nn::conv<3>, relu, nn::flatten>>("conv:3,relu,flatten", 4, 4, 2, 2.0, 0.1);
    check_ntk_monte_carlo<ntk_net<nn::conv<3, 1, padding::valid>, relu, nn::flatten>>("conv:3:valid,relu,flatten", 5, 5, 2, 2.0, 0.0);
    check_ntk_monte_carlo<ntk_net<nn::conv<3, 1, padding::circular>, erf_, nn::flatten>>("conv:3:circular,erf,flatten", 4, 3, 1, 1.5, 0.2);
    check_ntk_monte_carlo<ntk_net<nn::conv<3, 2>, relu, nn::flatten>>("conv:3:same:2,relu,flatten", 5, 5, 2, 2.0, 0.1);
}

TEST_CASE("conv NTK Monte Carlo (nn::network, width 512): avgpool and gap") {
    check_ntk_monte_carlo<ntk_net<nn::conv<3>, relu, nn::avgpool<2>, nn::flatten>>("conv:3,relu,avgpool:2,flatten", 4, 4, 1, 2.0, 0.1);
    check_ntk_monte_carlo<ntk_net<nn::conv<3, 1, padding::circular>, erf_, nn::gap>>("conv:3:circular,erf,gap", 4, 4, 1, 1.5, 0.1);
    check_ntk_monte_carlo<ntk_net<nn::conv<3>, relu, nn::conv<1>, relu, nn::gap>>("conv:3,relu,conv:1,relu,gap", 3, 3, 1, 2.0, 0.1, 2);
}

TEST_CASE("conv NTK Monte Carlo (nn::network, width 512): layer norm and residual blocks") {
    check_ntk_monte_carlo<ntk_net<nn::conv<3>, nn::layernorm<>, relu, nn::flatten>>("conv:3,layernorm,relu,flatten", 4, 4, 1, 2.0, 0.1);
    check_ntk_monte_carlo<ntk_net<nn::conv<3>, nn::residual<relu, nn::conv<1>>, relu, nn::flatten>>("conv:3,res(relu,conv:1),relu,flatten", 3,
                                                                                                     3, 1, 1.0, 0.1, 2);
}

TEST_CASE("conv NTK Monte Carlo (nn::network, width 512): the standard parametrization") {
    check_ntk_monte_carlo<sp_net<nn::conv<3>, relu, nn::avgpool<2>, nn::flatten>>("conv:3,relu,avgpool:2,flatten", 4, 4, 1, 2.0, 0.1);
    check_ntk_monte_carlo<sp_net<nn::conv<3, 2, padding::circular>, erf_, nn::gap>>("conv:3:circular:2,erf,gap", 5, 5, 2, 1.5, 0.0);
    check_ntk_monte_carlo<sp_net<nn::conv<3>, relu, nn::conv<1>, relu, nn::flatten>>("conv:3,relu,conv:1,relu,flatten", 2, 2, 1, 2.0, 0.1, 2);
}

TEST_CASE("conv NTK Monte Carlo (nn::network, width 512): a hidden 2x2 convolution (slow: run with --no-skip)" * doctest::skip()) {
    check_ntk_monte_carlo<ntk_net<nn::conv<3>, relu, nn::conv<2>, erf_, nn::flatten>>("conv:3,relu,conv:2,erf,flatten", 2, 2, 1, 2.0, 0.1, 2, true);
}
