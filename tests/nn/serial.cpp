// nn::network (nn/serial.hpp): exact identities (nn::mlp is a dense-only serial; a full-image valid conv is a dense
// layer; circular padding + gap is shift invariant), layer norm's statistics, the optimisers and train_step, the μP
// coordinate check of a CNN, and bad input refused before any parameter changes.
#include <doctest/doctest.h>

#include <cmath>
#include <cstddef>
#include <string>
#include <type_traits>
#include <vector>

#include <widenn/act/activations.hpp>
#include <widenn/limit/of.hpp>
#include <widenn/nn/coord_check.hpp>
#include <widenn/nn/mlp.hpp>
#include <widenn/nn/optim.hpp>
#include <widenn/nn/serial.hpp>
#include <widenn/nn/train.hpp>

namespace {

namespace wn = widenn;
namespace nn = widenn::nn;
namespace param = widenn::param;
using relu = wn::act::relu;
using tanh_ = wn::act::tanh;
using wn::nn::padding;

template <class T>
std::vector<std::vector<T>> values_of(nn::parameter_list<T>& list) {
    std::vector<std::vector<T>> v;
    for (auto* p : list.parameters()) v.push_back(p->value);
    return v;
}

std::string message_of(const auto& call) {
    try {
        call();
    } catch (const wn::shape_error& e) {
        return e.what();
    } catch (const wn::error& e) {
        return std::string("(not a shape_error) ") + e.what();
    }
    return "(no exception)";
}

}  // namespace

// nn::mlp is this composition (its own numbers are pinned in mlp_pinned.cpp); what can still differ is the configuration
// (mlp_config against network_config) and the optimiser's path (the network-held gradients against a parameter list).
TEST_CASE("nn::mlp is the dense-only serial: mlp_config and network_config build the same network, and both optimiser paths agree bit for bit") {
    static_assert(std::is_base_of_v<nn::network<param::mup, nn::serial<nn::dense, tanh_, nn::dense, tanh_>, double>,
                                    nn::mlp<param::mup, tanh_, 2, double>>);
    auto compare = [](auto tag, nn::constants_in constants, double bias_var) {
        using P = typename decltype(tag)::type;
        nn::mlp<P, tanh_, 2, double> m({.d_in = 5, .width = 12, .d_out = 3, .base_width = 4, .bias_var = bias_var, .constants = constants,
                                        .seed = 9});
        nn::network<P, nn::serial<nn::dense, tanh_, nn::dense, tanh_>, double> s(
            {.d_in = 5, .width = 12, .d_out = 3, .base_width = 4, .bias_var = bias_var, .constants = constants, .seed = 9});
        auto& params = s.parameters().parameters();
        REQUIRE(params.size() == 6);
        for (int l = 1; l <= 3; ++l) {
            const auto& w = *params[static_cast<std::size_t>(2 * (l - 1))];
            const auto& b = *params[static_cast<std::size_t>(2 * (l - 1) + 1)];
            CAPTURE(l);
            REQUIRE(w.size() == m.weight(l).size());
            CHECK(std::equal(w.value.begin(), w.value.end(), m.weight(l).begin()));
            CHECK(std::equal(b.value.begin(), b.value.end(), m.bias(l).begin()));
            CHECK(w.scaling.multiplier == m.weight_scaling(l).multiplier);
            CHECK(w.scaling.sgd_lr == m.weight_scaling(l).sgd_lr);
            CHECK(w.scaling.adam_lr == m.weight_scaling(l).adam_lr);
            CHECK(w.scaling.gradient_scale == m.weight_scaling(l).gradient_scale);
            CHECK(b.scaling.multiplier == m.bias_scaling(l).multiplier);
            CHECK(b.scaling.sgd_lr == m.bias_scaling(l).sgd_lr);
            CHECK(b.scaling.gradient_scale == m.bias_scaling(l).gradient_scale);
        }
        const auto x = wn::normal_matrix<double>(7, 5, 3);
        const wn::matrix<double> ym = m.forward(x);
        const wn::matrix<double> ys = s.forward(x);
        CHECK(ym == ys);
        xt::xtensor<int, 1> labels = {0, 1, 2, 0, 1, 2, 0};
        wn::matrix<double> dm, ds;
        nn::sgd<decltype(m)> om(m, {.lr = 0.3});
        nn::sgd os(s.parameters(), {.lr = 0.3});
        for (int t = 0; t < 2; ++t) {
            const double lm = nn::train_step<nn::softmax_cross_entropy>(m, om, x, labels, dm);
            const double ls = nn::train_step<nn::softmax_cross_entropy>(s, os, x, labels, ds);
            CHECK(lm == ls);
        }
        for (int l = 1; l <= 3; ++l) {
            const auto& w = *params[static_cast<std::size_t>(2 * (l - 1))];
            CHECK(std::equal(w.value.begin(), w.value.end(), m.weight(l).begin()));
        }
        CHECK(m.forward(x) == s.forward(x));
    };
    compare(std::type_identity<param::mup>{}, nn::constants_in::init, 0.0);
    compare(std::type_identity<param::mup_table3>{}, nn::constants_in::init, 0.5);
    compare(std::type_identity<param::ntk>{}, nn::constants_in::multiplier, 0.1);
}

TEST_CASE("a dense-only serial with one activation is an nn::FiniteNetwork with the MLP's kernel limit; a CNN is not") {
    using mlp_like = nn::network<param::ntk, nn::serial<nn::dense, relu, nn::dense, relu, nn::dense, relu>, float>;
    static_assert(nn::FiniteNetwork<mlp_like>);
    static_assert(mlp_like::depth == 3);
    static_assert(std::is_same_v<wn::limit::of<mlp_like>, wn::limit::of<nn::mlp<param::ntk, relu, 3, float>>>);
    static_assert(!nn::FiniteNetwork<nn::network<param::ntk, nn::serial<nn::dense, relu, nn::dense, tanh_>, float>>);
    static_assert(!nn::FiniteNetwork<nn::network<param::ntk, nn::serial<nn::conv<3>, relu, nn::gap>, float>>);
    static_assert(!nn::FiniteNetwork<nn::network<param::ntk, nn::serial<nn::dense, relu, nn::layernorm<>>, float>>);
    mlp_like net({.d_in = 4, .width = 8, .d_out = 1, .bias_var = 0.1, .constants = nn::constants_in::multiplier});
    const auto k = wn::limit::kernel_config_for(net);
    CHECK(k.width == 8);
    CHECK(k.bias_var == 0.1);
}

TEST_CASE("a conv whose filter covers the image with valid padding is a dense layer on the flattened input (same seed: equal outputs and gradients)") {
    using conv_net = nn::network<param::mup, nn::serial<nn::conv<4, 1, padding::valid>, tanh_, nn::flatten, nn::dense, relu>, double>;
    using dense_net = nn::network<param::mup, nn::serial<nn::dense, tanh_, nn::dense, relu>, double>;
    conv_net c({.image = {4, 4, 3}, .width = 6, .d_out = 2, .base_width = 3, .bias_var = 0.3, .seed = 4});
    dense_net d({.d_in = 48, .width = 6, .d_out = 2, .base_width = 3, .bias_var = 0.3, .seed = 4});
    CHECK(c.shape(1).height == 1);
    CHECK(c.shape(1).width == 1);
    const auto x = wn::normal_matrix<double>(5, 48, 8);
    const wn::matrix<double> yc = c.forward(x);
    const wn::matrix<double> yd = d.forward(x);
    CHECK(yc == yd);
    const auto r = wn::normal_matrix<double>(5, 2, 9);
    c.backward(x, r);
    d.backward(x, r);
    auto& pc = c.parameters().parameters();
    auto& pd = d.parameters().parameters();
    REQUIRE(pc.size() == pd.size());
    for (std::size_t i = 0; i < pc.size(); ++i) {
        CAPTURE(pc[i]->name);
        CHECK(pc[i]->value == pd[i]->value);
        CHECK(pc[i]->grad == pd[i]->grad);
        CHECK(pc[i]->scaling.multiplier == pd[i]->scaling.multiplier);
    }
}

TEST_CASE("conv semantics by hand: same padding splits as TensorFlow (the extra row and column at the end), circular wraps") {
    // A 4 x 4 x 1 image of ones, a 3 x 3 filter of ones, one channel, no bias: each output counts the taps inside.
    auto outputs = [](auto tag) {
        using net_t = typename decltype(tag)::type;
        net_t net({.image = {4, 4, 1}, .width = 1, .d_out = 1, .bias = false});
        auto& w = *net.parameters().parameters()[0];
        std::fill(w.value.begin(), w.value.end(), 1.0);
        const double m = w.scaling.multiplier;
        net.forward(xt::ones<double>({std::size_t{1}, std::size_t{16}}));
        std::vector<double> out;
        net.for_each_output([&](const std::string& name, const double* p, std::size_t n) {
            if (name == "conv1")
                for (std::size_t i = 0; i < n; ++i) out.push_back(p[i] / m);
        });
        return out;
    };
    using P = param::ntk;
    // stride 1, same: corners 4, edges 6, inside 9
    CHECK(outputs(std::type_identity<nn::network<P, nn::serial<nn::conv<3>, nn::flatten>, double>>{}) ==
          std::vector<double>{4, 6, 6, 4, 6, 9, 9, 6, 6, 9, 9, 6, 4, 6, 6, 4});
    // stride 2, same: 2 x 2 outputs, total padding 1 per axis, all of it after the image: windows rows 0-2 and 2-4
    CHECK(outputs(std::type_identity<nn::network<P, nn::serial<nn::conv<3, 2>, nn::flatten>, double>>{}) == std::vector<double>{9, 6, 6, 4});
    // valid: 2 x 2 outputs of 9; circular: every output sees 9 taps
    CHECK(outputs(std::type_identity<nn::network<P, nn::serial<nn::conv<3, 1, padding::valid>, nn::flatten>, double>>{}) ==
          std::vector<double>{9, 9, 9, 9});
    CHECK(outputs(std::type_identity<nn::network<P, nn::serial<nn::conv<3, 2, padding::circular>, nn::flatten>, double>>{}) ==
          std::vector<double>{9, 9, 9, 9});
}

TEST_CASE("circular padding and gap: the network is invariant to circular shifts of the input image") {
    using net_t = nn::network<param::mup,
                              nn::serial<nn::conv<3, 1, padding::circular>, relu, nn::conv<3, 1, padding::circular>, tanh_,
                                         nn::residual<nn::conv<5, 1, padding::circular>, relu>, nn::layernorm<>, nn::gap, nn::dense, relu>,
                              double>;
    const std::size_t H = 5, W = 6, C = 2;
    net_t net({.image = {H, W, C}, .width = 8, .d_out = 3, .bias_var = 0.2, .seed = 2});
    const auto x = wn::normal_matrix<double>(3, H * W * C, 5);
    const wn::matrix<double> y = net.forward(x);
    for (auto [dy, dx] : {std::pair<std::size_t, std::size_t>{1, 0}, {0, 2}, {3, 5}}) {
        wn::matrix<double> shifted = x;
        for (std::size_t b = 0; b < 3; ++b)
            for (std::size_t i = 0; i < H; ++i)
                for (std::size_t j = 0; j < W; ++j)
                    for (std::size_t c = 0; c < C; ++c) shifted(b, (((i + dy) % H) * W + (j + dx) % W) * C + c) = x(b, (i * W + j) * C + c);
        const wn::matrix<double> ys = net.forward(shifted);
        CAPTURE(dy);
        CAPTURE(dx);
        CHECK(xt::amax(xt::abs(ys - y))() < 1e-13);  // the same sums in another order
        CHECK(xt::amax(xt::abs(shifted - x))() > 0.1);
    }
    // Same padding is not shift invariant (the borders see zeros): the check above can fail.
    nn::network<param::mup, nn::serial<nn::conv<3>, relu, nn::gap>, double> same({.image = {H, W, C}, .width = 8, .d_out = 3, .seed = 2});
    wn::matrix<double> shifted = x;
    for (std::size_t b = 0; b < 3; ++b)
        for (std::size_t i = 0; i < H; ++i)
            for (std::size_t j = 0; j < W; ++j)
                for (std::size_t c = 0; c < C; ++c) shifted(b, (((i + 1) % H) * W + j) * C + c) = x(b, (i * W + j) * C + c);
    const wn::matrix<double> y0 = same.forward(x);
    const wn::matrix<double> y1 = same.forward(shifted);
    CHECK(xt::amax(xt::abs(y1 - y0))() > 1e-3);
}

TEST_CASE("layernorm: zero mean and unit variance over the channels of every pixel, or over channels and pixels of every example") {
    const std::size_t B = 3, H = 4, W = 3, C = 2, width = 7;
    const auto x = wn::normal_matrix<double>(B, H * W * C, 6);
    auto stats = [](const double* p, std::size_t n) {
        double mean = 0, var = 0;
        for (std::size_t i = 0; i < n; ++i) mean += p[i];
        mean /= static_cast<double>(n);
        for (std::size_t i = 0; i < n; ++i) var += (p[i] - mean) * (p[i] - mean);
        return std::pair{mean, var / static_cast<double>(n)};
    };
    {
        nn::network<param::mup, nn::serial<nn::conv<3>, relu, nn::layernorm<>, nn::gap>, double> net(
            {.image = {H, W, C}, .width = width, .d_out = 2, .bias_var = 0.5, .seed = 1});
        net.forward(x);
        int groups = 0;
        net.for_each_output([&](const std::string& name, const double* p, std::size_t n) {
            if (name != "layernorm3") return;
            REQUIRE(n == B * H * W * width);
            for (std::size_t g = 0; g < B * H * W; ++g) {
                const auto [mean, var] = stats(p + g * width, width);
                CHECK(std::abs(mean) < 1e-12);
                CHECK(std::abs(var - 1) < 1e-9);
                ++groups;
            }
        });
        CHECK(groups == static_cast<int>(B * H * W));
    }
    {
        nn::network<param::mup, nn::serial<nn::conv<3>, relu, nn::layernorm<nn::norm_over::channels_and_space>, nn::flatten>, double> net(
            {.image = {H, W, C}, .width = width, .d_out = 2, .bias_var = 0.5, .seed = 1});
        net.forward(x);
        int groups = 0;
        net.for_each_output([&](const std::string& name, const double* p, std::size_t n) {
            if (name != "layernorm3") return;
            const std::size_t per = H * W * width;
            REQUIRE(n == B * per);
            for (std::size_t b = 0; b < B; ++b) {
                const auto [mean, var] = stats(p + b * per, per);
                CHECK(std::abs(mean) < 1e-12);
                CHECK(std::abs(var - 1) < 1e-9);
                // and not per pixel: some pixel's channels have a mean far from 0
                double largest = 0;
                for (std::size_t g = 0; g < H * W; ++g) largest = std::max(largest, std::abs(stats(p + b * per + g * width, width).first));
                CHECK(largest > 0.1);
                ++groups;
            }
        });
        CHECK(groups == static_cast<int>(B));
    }
}

TEST_CASE("nn::network trains with nn::sgd, nn::adam and nn::adamw through train_step; lr_scale = 0 freezes a tensor") {
    using net_t = nn::network<param::mup, nn::serial<nn::conv<3>, relu, nn::avgpool<2>, nn::conv<3>, relu, nn::gap>, float>;
    const nn::network_config config{.image = {6, 6, 2}, .width = 16, .d_out = 3, .base_width = 8, .seed = 3};
    const auto x = wn::normal_matrix<float>(6, 72, 1);
    xt::xtensor<int, 1> labels = {0, 1, 2, 0, 1, 2};
    wn::matrix<float> dout;
    auto train = [&](auto make_optimiser, bool decays) {
        net_t net(config);
        net.parameters().parameters()[0]->lr_scale = 0.0;  // conv1.weight
        const auto frozen = net.parameters().parameters()[0]->value;
        auto opt = make_optimiser(net.parameters());
        const float first = nn::train_step<nn::softmax_cross_entropy>(net, opt, x, labels, dout);
        float last = first;
        for (int t = 0; t < 30; ++t) last = nn::train_step<nn::softmax_cross_entropy>(net, opt, x, labels, dout);
        CHECK(last < 0.8f * first);
        if (!decays) CHECK(net.parameters().parameters()[0]->value == frozen);  // AdamW's decay η·wd ignores lr factors (mup)
    };
    train([](nn::parameter_list<float>& p) { return nn::sgd(p, {.lr = 0.5}); }, false);
    train([](nn::parameter_list<float>& p) { return nn::adam(p, {.lr = 1e-2}); }, false);
    train([](nn::parameter_list<float>& p) { return nn::adamw(p, {.lr = 1e-2, .weight_decay = 1e-2}); }, true);
}

TEST_CASE("nn::network reuses its buffers: a second step at the same batch size moves no output and no gradient") {
    nn::network<param::mup, nn::serial<nn::conv<3>, relu, nn::residual<nn::conv<3>, relu>, nn::flatten>, double> net(
        {.image = {5, 5, 1}, .width = 4, .d_out = 2, .seed = 1});
    const auto x = wn::normal_matrix<double>(3, 25, 1);
    const auto r = wn::normal_matrix<double>(3, 2, 2);
    auto pointers = [&] {
        std::vector<const void*> p;
        net.forward(x);
        net.backward(x, r);
        net.for_each_output([&](const std::string&, const double* data, std::size_t) { p.push_back(data); });
        for (auto* q : net.parameters().parameters()) p.push_back(q->grad.data());
        return p;
    };
    const auto first = pointers();
    CHECK(pointers() == first);
}

TEST_CASE("nn::network: the parametrization's roles (input-like first conv, hidden-like, output-like readout) and per-layer widths") {
    // μP (TP4 form) with ñ = 4: input weights a = -1/2, hidden a = 0 and b = 1/2, output a = 1/2.
    nn::network<param::mup, nn::serial<nn::conv<3>, relu, nn::conv<3>, relu, nn::gap>, double> net(
        {.image = {4, 4, 3}, .width = 32, .d_out = 2, .base_width = 8, .weight_var = 2.0});
    auto& p = net.parameters().parameters();
    REQUIRE(p.size() == 6);
    CHECK(p[0]->scaling.multiplier == doctest::Approx(2.0));                           // ñ^{1/2}
    CHECK(p[0]->scaling.init_std == doctest::Approx(std::sqrt(2.0 / 27) / 2));          // σ/√(C·K²) · ñ^{-1/2}
    CHECK(p[2]->scaling.multiplier == doctest::Approx(1.0));
    CHECK(p[2]->scaling.init_std == doctest::Approx(std::sqrt(2.0 / (8 * 9)) / 2));     // base fan_in = 8·K²
    CHECK(p[4]->scaling.multiplier == doctest::Approx(0.5));                           // readout ñ^{-1/2}
    CHECK(p[5]->scaling.multiplier == 1.0);                                            // readout bias: no width
    // Per-layer widths: a 16 -> 64 network against base 8 -> 16 (ñ = 2 for the first layer, 4 for the second).
    nn::network<param::mup_table3, nn::serial<nn::dense, relu, nn::dense, relu>, double> wide(
        {.d_in = 3, .d_out = 2, .widths = {16, 64}, .base_widths = {8, 16}});
    auto& q = wide.parameters().parameters();
    CHECK(q[0]->scaling.sgd_lr == doctest::Approx(2.0));  // input: c = -1 with fan_out ratio 2
    CHECK(q[2]->scaling.init_std == doctest::Approx(std::sqrt(1.0 / 8) / std::sqrt(2.0)));  // hidden: fan_in ratio 2, b = 1/2, base fan_in 8
    CHECK(q[2]->scaling.sgd_lr == doctest::Approx(1.0));
    CHECK(q[4]->scaling.init_std == doctest::Approx(std::sqrt(1.0 / 16) / 4));  // output: fan_in ratio 4, b = 1
    CHECK(q[4]->scaling.sgd_lr == doctest::Approx(0.25));
}

TEST_CASE("coord check of a CNN: under muP every layer stays within (1/1.25, 1.25) from width 64 to 256; under SP the readout grows with width") {
    using arch = nn::serial<nn::conv<3>, relu, nn::avgpool<2>, nn::conv<3>, relu, nn::gap>;
    nn::coord_check_config c;
    c.widths = {64, 256};
    c.steps = 3;
    c.seeds = 2;
    c.lr = 1.0;
    c.d_out = 10;
    c.batch = 8;
    c.base_width = 16;
    c.image = {6, 6, 3};
    const auto mu = nn::coord_check<nn::network<param::mup, arch, float>>(c);
    REQUIRE(mu.layers == std::vector<std::string>{"conv1", "relu2", "avgpool3", "conv4", "relu5", "gap6", "out"});
    for (std::size_t t = 1; t <= 3; ++t)
        for (const auto& layer : mu.layers) {
            const double small = mu.mean_l1(64, t, layer), large = mu.mean_l1(256, t, layer);
            CAPTURE(t);
            CAPTURE(layer);
            CAPTURE(small);
            CAPTURE(large);
            if (t == 1 && layer == "out") {
                CHECK(small == 0.0);  // zero readout
                CHECK(large == 0.0);
                continue;
            }
            REQUIRE(small > 0);
            CHECK(large / small > 1 / 1.25);
            CHECK(large / small < 1.25);
        }
    // SP at mup's lr 0.1 (at lr 1 its wide network already kills ReLUs by t = 3): the readout grows like the width
    // after one step (x2.8 from 64 to 256 measured), while muP's stays within 5 % at both learning rates.
    c.lr = 0.1;
    const auto sp = nn::coord_check<nn::network<param::allow_unstable<param::standard>, arch, float>>(c);
    const auto mu_small_lr = nn::coord_check<nn::network<param::mup, arch, float>>(c);
    for (std::size_t t = 2; t <= 3; ++t) {
        CAPTURE(t);
        CHECK(sp.mean_l1(256, t, "out") / sp.mean_l1(64, t, "out") > 2.0);
        CHECK(mu_small_lr.mean_l1(256, t, "out") / mu_small_lr.mean_l1(64, t, "out") == doctest::Approx(1.0).epsilon(0.1));
    }
}

TEST_CASE("coord check of a residual CNN with layer norm under Adam: muP flat within (1/1.25, 1.25), SP's residual stream and readout grow") {
    using arch = nn::serial<nn::conv<3>, relu, nn::avgpool<2>, nn::residual<nn::conv<3>, relu>, nn::layernorm<>, nn::gap>;
    nn::coord_check_config c;
    c.widths = {64, 256};
    c.steps = 3;
    c.seeds = 2;
    c.lr = 1e-2;
    c.optimizer = nn::coord_check_optimizer::adam;
    c.d_out = 10;
    c.batch = 8;
    c.base_width = 16;
    c.image = {6, 6, 3};
    const auto mu = nn::coord_check<nn::network<param::mup, arch, float>>(c);
    for (std::size_t t = 2; t <= 3; ++t)
        for (const auto& layer : mu.layers) {
            const double ratio = mu.mean_l1(256, t, layer) / mu.mean_l1(64, t, layer);
            CAPTURE(t);
            CAPTURE(layer);
            CHECK(ratio > 1 / 1.25);
            CHECK(ratio < 1.25);
        }
    // measured at t = 3: residual4 x2.2, out x3.7
    const auto sp = nn::coord_check<nn::network<param::allow_unstable<param::standard>, arch, float>>(c);
    CHECK(sp.mean_l1(256, 3, "residual4") / sp.mean_l1(64, 3, "residual4") > 1.5);
    CHECK(sp.mean_l1(256, 3, "out") / sp.mean_l1(64, 3, "out") > 2.0);
}

TEST_CASE("nn::network refuses bad sizes with a shape_error naming the layer, before any parameter changes") {
    using cnn = nn::network<param::mup, nn::serial<nn::conv<3, 1, padding::valid>, relu, nn::avgpool<2>, nn::flatten>, double>;
    CHECK(message_of([] { cnn({.image = {2, 5, 1}, .width = 4, .d_out = 1}); }).find("nn::conv<3, valid>: the image (2 x 5) is smaller") !=
          std::string::npos);
    CHECK_NOTHROW(cnn({.image = {4, 4, 1}, .width = 4, .d_out = 1}));
    CHECK(message_of([] { cnn({.image = {3, 4, 1}, .width = 4, .d_out = 1}); }).find("nn::avgpool<2>: the image (1 x 2) is smaller") !=
          std::string::npos);
    CHECK(message_of([] { cnn({.d_in = 16, .width = 4, .d_out = 1}); }).find("nn::conv<3>: needs an image input") != std::string::npos);
    CHECK(message_of([] {
              nn::network<param::mup, nn::serial<nn::conv<3>, nn::residual<nn::dense, relu, nn::dense>, nn::gap>, double> n(
                  {.image = {4, 4, 1}, .width = 4, .d_out = 1, .widths = {4, 4, 5}});
          }).find("nn::residual: the block maps 4 x 4 x 4 to 4 x 4 x 5") != std::string::npos);
    CHECK(message_of([] {
              nn::network<param::mup, nn::serial<nn::dense, relu>, double> n({.image = {4, 4, 1}, .width = 4, .d_out = 1});
          }).find("the readout needs a vector") != std::string::npos);
    CHECK(message_of([] { nn::network<param::mup, nn::serial<nn::dense, relu>, double> n({.d_in = 3, .width = 4, .d_out = 1, .widths = {4, 4}}); })
              .find("widths must list one width per dense/conv layer (1), got 2") != std::string::npos);
    CHECK(message_of([] { nn::network<param::mup, nn::serial<nn::gap>, double> n({.d_in = 5, .image = {2, 2, 1}, .d_out = 1}); })
              .find("d_in = 5 disagrees with the image") != std::string::npos);

    cnn net({.image = {6, 6, 2}, .width = 4, .d_out = 2, .seed = 1});
    const auto before = values_of(net.parameters());
    nn::sgd opt(net.parameters(), {.lr = 0.1});
    wn::matrix<double> dout;
    xt::xtensor<int, 1> labels = {0, 1};
    CHECK_THROWS_AS(nn::train_step<nn::softmax_cross_entropy>(net, opt, wn::normal_matrix<double>(2, 71, 1), labels, dout), wn::shape_error);
    CHECK(message_of([&] { net.forward(wn::normal_matrix<double>(2, 71, 1)); }).find("nn::network::forward: input batch must be * x 72, got 2 x 71") !=
          std::string::npos);
    const auto x = wn::normal_matrix<double>(2, 72, 1);
    net.forward(x);
    CHECK_THROWS_AS(net.backward(x, wn::normal_matrix<double>(2, 3, 1)), wn::shape_error);
    CHECK_THROWS_AS(net.backward(wn::normal_matrix<double>(3, 72, 1), wn::normal_matrix<double>(3, 2, 1)), wn::shape_error);
    wn::matrix<double> bad = x;
    bad(1, 3) = std::nan("");
    CHECK_THROWS_AS(net.forward(bad), wn::error);
    CHECK(values_of(net.parameters()) == before);
    for (auto* p : net.parameters().parameters())
        for (auto g : p->grad) CHECK(g == 0.0);  // no backward has run
}
