// limit::conv_kernel_plan: exact identities (dense-only SPECs = limit::kernel's MLP, a full-image valid conv = a dense
// layer on the flattened image, the diagonal recursion = the full one with flatten, circular + gap shift invariance,
// layer norm = the normalised kernel), symmetry, the path choice, and errors.
#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include <xtensor/xarray.hpp>
#include <xtensor/xview.hpp>

#include <widenn/act/activations.hpp>
#include <widenn/core/rng.hpp>
#include <widenn/limit/conv_kernel.hpp>
#include <widenn/limit/kernel.hpp>
#include <widenn/nn/spec.hpp>

#include "../error_messages.hpp"

namespace wn = widenn;
namespace lim = widenn::limit;
namespace nn = widenn::nn;
using wn::matrix;

namespace {
xt::xarray<double> random_array(std::vector<std::size_t> shape, std::uint64_t seed) {
    wn::rng gen(seed);
    xt::xarray<double> x = xt::xarray<double>::from_shape(shape);
    for (auto& v : x) v = gen.normal();
    return x;
}
double max_relative(const matrix<double>& a, const matrix<double>& b) {
    REQUIRE(a.shape() == b.shape());
    double worst = 0;
    for (std::size_t k = 0; k < a.size(); ++k) worst = std::max(worst, std::abs(a.data()[k] - b.data()[k]) / std::max(1e-300, std::abs(b.data()[k])));
    return worst;
}
using widenn_test::contains;
using widenn_test::message_of;
}  // namespace

TEST_CASE("conv_kernel: the standard parametrization of a dense-only SPEC equals limit::kernel's standard MLP to 1e-12") {
    const auto x = random_array({6, 4}, 5), y = random_array({3, 4}, 6);
    for (bool bias : {true, false}) {
        CAPTURE(bias);
        const lim::kernel_config c{.weight_var = 1.7, .bias_var = bias ? 0.2 : 0.0, .bias = bias, .width = 300};
        using sp = wn::param::standard_lr_1_over_n;
        const auto mlp = lim::kernel<sp, wn::act::relu, 3>::kernels(xt::eval(x), xt::eval(y), c);
        const auto ours = lim::conv_kernels(nn::parse_spec("dense,relu,dense,relu,dense,relu"), x, y, c, lim::spatial_path::automatic,
                                            lim::parametrization_kind::standard);
        CHECK(max_relative(ours.nngp, mlp.nngp) < 1e-12);
        CHECK(max_relative(ours.ntk, mlp.ntk) < 1e-12);
        const auto mlp_erf = lim::kernel<sp, wn::act::erf<>, 1>::kernels(xt::eval(x), c);
        const auto ours_erf = lim::conv_kernels(nn::parse_spec("dense,erf"), x, c, lim::spatial_path::automatic,
                                                lim::parametrization_kind::standard);
        CHECK(max_relative(ours_erf.nngp, mlp_erf.nngp) < 1e-12);
        CHECK(max_relative(ours_erf.ntk, mlp_erf.ntk) < 1e-12);
        // the NTK differs from the NTK parametrization's (it grows with the width), the NNGP does not
        const auto ntk_param = lim::conv_kernels(nn::parse_spec("dense,erf"), x, c);
        CHECK(max_relative(ours_erf.nngp, ntk_param.nngp) < 1e-15);
        CHECK(max_relative(ours_erf.ntk, ntk_param.ntk) > 1.0);
    }
    // images: the standard NTK of a full-image valid conv equals a dense layer's on the flattened image, and needs a width
    const auto img = random_array({3, 3, 3, 2}, 7);
    const lim::kernel_config c{.weight_var = 2.0, .bias_var = 0.1, .width = 50};
    const auto conv = lim::conv_kernels(nn::parse_spec("conv:3:valid,relu,flatten"), img, c, lim::spatial_path::automatic,
                                        lim::parametrization_kind::standard);
    xt::xarray<double> flat = xt::xarray<double>::from_shape({3, 18});
    std::copy(img.begin(), img.end(), flat.begin());
    const auto dense = lim::conv_kernels(nn::parse_spec("dense,relu"), flat, c, lim::spatial_path::automatic, lim::parametrization_kind::standard);
    CHECK(max_relative(conv.ntk, dense.ntk) < 1e-12);
    CHECK(contains(message_of([&] {
                       (void)lim::conv_kernels(nn::parse_spec("conv:3,relu,flatten"), img, lim::kernel_config{}, lim::spatial_path::automatic,
                                               lim::parametrization_kind::standard);
                   }),
                   "set kernel_config::width (got 0)"));
}

TEST_CASE("conv_kernel: a dense-only SPEC equals limit::kernel's MLP to 1e-12") {
    const auto x = random_array({7, 5}, 1), y = random_array({4, 5}, 2);
    const lim::kernel_config c{.weight_var = 1.7, .bias_var = 0.2};
    const auto relu = lim::kernel<wn::param::ntk, wn::act::relu, 3>::kernels(xt::eval(x), xt::eval(y), c);
    const auto spec = nn::parse_spec("dense,relu,dense,relu,dense,relu");
    const auto ours = lim::conv_kernels(spec, x, y, c);
    CHECK(max_relative(ours.nngp, relu.nngp) < 1e-12);
    CHECK(max_relative(ours.ntk, relu.ntk) < 1e-12);
    const auto erf = lim::kernel<wn::param::ntk, wn::act::erf<>, 2>::kernels(xt::eval(x), c);
    const auto ours_erf = lim::conv_kernels(nn::parse_spec("dense,erf,dense,erf"), x, c);
    CHECK(max_relative(ours_erf.nngp, erf.nngp) < 1e-12);
    CHECK(max_relative(ours_erf.ntk, erf.ntk) < 1e-12);
    // the symmetric case is symmetric, and agrees with the rectangular one
    const auto rect = lim::conv_kernels(nn::parse_spec("dense,erf,dense,erf"), x, x, c);
    CHECK(max_relative(ours_erf.nngp, rect.nngp) < 1e-14);
    CHECK(max_relative(ours_erf.ntk, xt::eval(xt::transpose(rect.ntk))) < 1e-14);
}

TEST_CASE("conv_kernel: a valid conv over the whole image is a dense layer on the flattened image") {
    const lim::kernel_config c{.weight_var = 2.0, .bias_var = 0.1};
    const auto sq = random_array({5, 3, 3, 2}, 5), sq2 = random_array({3, 3, 3, 2}, 6);
    const auto conv = lim::conv_kernels(nn::parse_spec("conv:3:valid,relu,conv:1,erf,flatten"), sq, sq2, c);
    const auto dense = lim::conv_kernels(nn::parse_spec("dense,relu,dense,erf"), xt::eval(xt::reshape_view(sq, {5, 18})),
                                         xt::eval(xt::reshape_view(sq2, {3, 18})), c);
    const auto mlp = lim::kernel<wn::param::ntk, wn::act::relu, 1>::kernels(xt::eval(xt::reshape_view(sq, {5, 18})),
                                                                             xt::eval(xt::reshape_view(sq2, {3, 18})), c);
    CHECK(max_relative(conv.nngp, dense.nngp) < 1e-12);
    CHECK(max_relative(conv.ntk, dense.ntk) < 1e-12);
    const auto conv1 = lim::conv_kernels(nn::parse_spec("conv:3:valid,relu,flatten"), sq, sq2, c);
    CHECK(max_relative(conv1.nngp, mlp.nngp) < 1e-12);
    CHECK(max_relative(conv1.ntk, mlp.ntk) < 1e-12);
}

TEST_CASE("conv_kernel: with flatten and no pooling the diagonal recursion equals the full spatial one") {
    const auto x = random_array({4, 6, 5, 2}, 7), y = random_array({3, 6, 5, 2}, 8);
    const lim::kernel_config c{.weight_var = 1.5, .bias_var = 0.05};
    for (const char* text : {"conv:3,relu,conv:3:valid,erf,conv:3:circular,relu,conv:3:same:2,gelu,flatten",
                             "conv:3,relu,res(conv:3,relu,conv:3),layernorm,res(relu,conv:1),conv:3:circular:2,relu,flatten",
                             "conv:5,relu,res(erf,conv:4),conv:2:valid,relu,conv:3:same:2,flatten"}) {
        CAPTURE(text);
        const auto spec = nn::parse_spec(text);
        const lim::conv_kernel_plan<double> automatic(spec, x, y, c);
        CHECK(automatic.path() == lim::spatial_path::diagonal);
        CHECK(lim::automatic_path(spec) == lim::spatial_path::diagonal);
        const auto diag = automatic.compute();
        const auto full = lim::conv_kernel_plan<double>(spec, x, y, c, lim::spatial_path::full).compute();
        CHECK(max_relative(diag.nngp, full.nngp) < 1e-12);
        CHECK(max_relative(diag.ntk, full.ntk) < 1e-12);
    }
    CHECK(lim::conv_kernel_plan<double>(nn::parse_spec("conv:3,relu,avgpool:2,flatten"), x, c).path() == lim::spatial_path::full);
    CHECK(lim::conv_kernel_plan<double>(nn::parse_spec("conv:3,relu,gap"), x, c).path() == lim::spatial_path::full);
    CHECK(lim::automatic_path(nn::parse_spec("conv:3,res(relu,avgpool:1,conv:3),flatten")) == lim::spatial_path::full);  // inside a block too
    CHECK(contains(message_of([&] { lim::conv_kernel_plan<double>(nn::parse_spec("conv:3,relu,gap"), x, c, lim::spatial_path::diagonal); }),
                   "exact only without avgpool and gap"));
}

TEST_CASE("conv_kernel: circular padding and gap make the kernel invariant to circular shifts of either input") {
    const auto x = random_array({3, 5, 6, 2}, 9), y = random_array({2, 5, 6, 2}, 10);
    const lim::kernel_config c{.weight_var = 2.0, .bias_var = 0.1};
    xt::xarray<double> shifted = x;
    for (std::size_t n = 0; n < 3; ++n)
        for (std::size_t i = 0; i < 5; ++i)
            for (std::size_t j = 0; j < 6; ++j)
                for (std::size_t k = 0; k < 2; ++k) shifted(n, (i + 2) % 5, (j + 1) % 6, k) = x(n, i, j, k);
    const auto circular = nn::parse_spec("conv:3:circular,relu,conv:3:circular,erf,layernorm,res(relu,conv:3:circular),gap");
    const auto k0 = lim::conv_kernels(circular, x, y, c), k1 = lim::conv_kernels(circular, shifted, y, c),
               k2 = lim::conv_kernels(circular, y, shifted, c);
    CHECK(max_relative(k1.nngp, k0.nngp) < 1e-12);
    CHECK(max_relative(k1.ntk, k0.ntk) < 1e-12);
    CHECK(max_relative(xt::eval(xt::transpose(k2.nngp)), k0.nngp) < 1e-12);
    CHECK(max_relative(xt::eval(xt::transpose(k2.ntk)), k0.ntk) < 1e-12);
    // with zero padding (or a flatten readout) the shift changes the kernel: the check above can fail
    const auto same = nn::parse_spec("conv:3,relu,conv:3,erf,gap");
    CHECK(max_relative(lim::conv_kernels(same, shifted, y, c).nngp, lim::conv_kernels(same, x, y, c).nngp) > 1e-4);
    const auto flat = nn::parse_spec("conv:3:circular,relu,conv:3:circular,erf,flatten");
    CHECK(max_relative(lim::conv_kernels(flat, shifted, y, c).nngp, lim::conv_kernels(flat, x, y, c).nngp) > 1e-4);
}

TEST_CASE("conv_kernel: layer norm gives the normalised kernel") {
    const auto x = random_array({5, 4}, 11), y = random_array({3, 4}, 12);
    const lim::kernel_config c{.weight_var = 1.0, .bias_var = 0.0};  // the readout then passes the last kernel through
    const auto plain = lim::conv_kernels(nn::parse_spec("dense,relu,dense,identity"), x, y, c);
    const auto normed = lim::conv_kernels(nn::parse_spec("dense,relu,dense,identity,layernorm"), x, y, c);
    const auto px = lim::conv_kernels(nn::parse_spec("dense,relu,dense,identity"), x, c);
    const auto py = lim::conv_kernels(nn::parse_spec("dense,relu,dense,identity"), y, c);
    for (std::size_t i = 0; i < 5; ++i)
        for (std::size_t j = 0; j < 3; ++j) {
            const double norm = std::sqrt(px.nngp(i, i) * py.nngp(j, j));
            CHECK(normed.nngp(i, j) == doctest::Approx(plain.nngp(i, j) / norm).epsilon(1e-13));
            // readout NTK = Σ + Θ_in: Θ_in of the normalised layer is Θ / norm
            CHECK(normed.ntk(i, j) - normed.nngp(i, j) == doctest::Approx((plain.ntk(i, j) - plain.nngp(i, j)) / norm).epsilon(1e-12));
        }
    // per pixel on images: the diagonal of the normalised self-kernel is 1 at every pixel, so with identity readout ...
    const auto img = random_array({3, 4, 4, 2}, 13);
    const auto self = lim::conv_kernels(nn::parse_spec("conv:3,relu,conv:3,layernorm,flatten"), img, c);
    for (std::size_t i = 0; i < 3; ++i) CHECK(self.nngp(i, i) == doctest::Approx(1.0).epsilon(1e-14));
}

TEST_CASE("conv_kernel: residual blocks add the kernels") {
    const auto x = random_array({4, 3}, 14);
    const lim::kernel_config c{.weight_var = 1.0, .bias_var = 0.0};
    // res(relu, dense) after dense: K_out = K + T(K) (weight_var 1, no bias); with the readout the kernels of
    // "dense" and "dense,relu,dense" add, NNGP and NTK alike
    const auto res = lim::conv_kernels(nn::parse_spec("dense,res(relu,dense)"), x, c);
    const auto skip = lim::conv_kernels(nn::parse_spec("dense"), x, c);
    const auto block = lim::conv_kernels(nn::parse_spec("dense,relu,dense"), x, c);
    for (std::size_t i = 0; i < 4; ++i)
        for (std::size_t j = 0; j < 4; ++j) {
            CHECK(res.nngp(i, j) == doctest::Approx(skip.nngp(i, j) + block.nngp(i, j)).epsilon(1e-13));
            CHECK(res.ntk(i, j) == doctest::Approx(skip.ntk(i, j) + block.ntk(i, j)).epsilon(1e-13));
        }
}

TEST_CASE("conv_kernel: errors before any work") {
    const auto img = random_array({2, 4, 4, 1}, 15);
    const auto vec = random_array({2, 16}, 16);
    CHECK(contains(message_of([&] { lim::conv_kernels(nn::parse_spec("conv:3,relu,flatten"), vec); }), "works on images, but the input is 2-D"));
    CHECK(contains(message_of([&] { lim::conv_kernels(nn::parse_spec("conv:5:valid,relu,flatten"), img); }), "at least 5 x 5"));
    CHECK(contains(message_of([&] { lim::conv_kernels(nn::parse_spec("conv:3,relu,flatten"), img, random_array({2, 4, 4, 2}, 1)); }),
                   "same shape per input, got 2 x 4 x 4 x 1 and 2 x 4 x 4 x 2"));
    CHECK(contains(message_of([&] { lim::conv_kernels(nn::parse_spec("conv:3,relu,flatten"), random_array({2, 4, 4}, 1)); }),
                   "must be N x H x W x C images or N x d vectors, got 2 x 4 x 4"));
    xt::xarray<double> bad = img;
    bad(1, 2, 3, 0) = std::nan("");
    CHECK(contains(message_of([&] { lim::conv_kernels(nn::parse_spec("conv:3,relu,flatten"), bad); }), "non-finite entry"));
    CHECK(contains(message_of([&] { lim::conv_kernels(nn::parse_spec("conv:3,relu,flatten"), img, lim::kernel_config{.weight_var = -1}); }),
                   "weight_var and bias_var must be finite and >= 0"));
}

TEST_CASE("conv_kernel: SPECs without a conv layer are linear models of the (pooled) pixels") {
    const auto x = random_array({3, 4, 4, 2}, 17);
    const lim::kernel_config c{.weight_var = 1.5, .bias_var = 0.1};
    // flatten alone: Σ = σw² x·x'/(H W C) + σb², Θ = Σ + 0 (the readout is the only layer)
    const auto k = lim::conv_kernels(nn::parse_spec("flatten"), x, c);
    const auto pooled = lim::conv_kernels(nn::parse_spec("avgpool:4,flatten"), x, c);
    for (std::size_t i = 0; i < 3; ++i)
        for (std::size_t j = 0; j < 3; ++j) {
            double dot = 0, mean_i = 0, mean_j = 0;
            for (std::size_t p = 0; p < 32; ++p) dot += x.data()[i * 32 + p] * x.data()[j * 32 + p];
            CHECK(k.nngp(i, j) == doctest::Approx(1.5 * dot / 32 + 0.1).epsilon(1e-14));
            CHECK(k.ntk(i, j) == doctest::Approx(k.nngp(i, j)).epsilon(1e-14));
            // avgpool over the whole image: the channel means, then the readout over 2 channels
            double pooled_dot = 0;
            for (std::size_t ch = 0; ch < 2; ++ch) {
                mean_i = mean_j = 0;
                for (std::size_t p = 0; p < 16; ++p) mean_i += x.data()[i * 32 + p * 2 + ch] / 16, mean_j += x.data()[j * 32 + p * 2 + ch] / 16;
                pooled_dot += mean_i * mean_j;
            }
            CHECK(pooled.nngp(i, j) == doctest::Approx(1.5 * pooled_dot / 2 + 0.1).epsilon(1e-13));
        }
}

TEST_CASE("conv_kernel: the NNGP alone equals the NNGP of the pair, and float agrees with double") {
    const auto x = random_array({4, 5, 5, 2}, 18);
    const auto spec = nn::parse_spec("conv:3,relu,conv:3:same:2,erf,gap");
    const auto both = lim::conv_kernels(spec, x, lim::kernel_config{.weight_var = 2.0, .bias_var = 0.1});
    const auto nngp = lim::conv_kernels(spec, x, lim::kernel_config{.weight_var = 2.0, .bias_var = 0.1, .compute_ntk = false});
    CHECK(nngp.ntk.size() == 0);
    CHECK(max_relative(nngp.nngp, both.nngp) == 0.0);
    const auto single = lim::conv_kernels<float>(spec, x, lim::kernel_config{.weight_var = 2.0, .bias_var = 0.1});
    CHECK(max_relative(matrix<double>(xt::cast<double>(single.nngp)), both.nngp) < 1e-5);
    CHECK(max_relative(matrix<double>(xt::cast<double>(single.ntk)), both.ntk) < 1e-5);
}
