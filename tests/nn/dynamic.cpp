// nn::dynamic_network (nn/dynamic.hpp): the finite network of a run-time SPEC equals the compile-time nn::network of
// the same layers bit for bit (parameters and their scaling from the same seed, forward, two SGD steps), for a
// conv/pool/gap SPEC, a layer norm + residual SPEC and a dense SPEC; the coordinate check takes it (the same records as
// the compile-time network; μP flat, SP's readout growing); SPECs outside the instantiated set are refused.
#include <doctest/doctest.h>

#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include <widenn/act/activations.hpp>
#include <widenn/core/rng.hpp>
#include <widenn/nn/coord_check.hpp>
#include <widenn/nn/dynamic.hpp>
#include <widenn/nn/loss.hpp>
#include <widenn/nn/optim.hpp>
#include <widenn/nn/serial.hpp>

#include "../error_messages.hpp"

namespace {

namespace wn = widenn;
namespace nn = widenn::nn;
namespace param = widenn::param;
using relu = wn::act::relu;
using wn::nn::padding;
using widenn_test::contains;
using widenn_test::message_of;

// Parameters (values and scaling) of both networks are identical; so are the outputs of forward.
template <class A, class B>
void require_same_parameters(A& a, B& b) {
    auto& pa = a.parameters().parameters();
    auto& pb = b.parameters().parameters();
    REQUIRE(pa.size() == pb.size());
    for (std::size_t i = 0; i < pa.size(); ++i) {
        CAPTURE(pa[i]->name);
        REQUIRE(pa[i]->name == pb[i]->name);
        REQUIRE(pa[i]->value == pb[i]->value);
        REQUIRE(pa[i]->scaling.multiplier == pb[i]->scaling.multiplier);
        REQUIRE(pa[i]->scaling.init_std == pb[i]->scaling.init_std);
        REQUIRE(pa[i]->scaling.sgd_lr == pb[i]->scaling.sgd_lr);
        REQUIRE(pa[i]->scaling.adam_lr == pb[i]->scaling.adam_lr);
    }
}

// The compile-time network Net and the SPEC: equal parameters, outputs, per-layer outputs and two SGD steps.
template <class Net>
void compare(const std::string& text, const nn::network_config& config, std::size_t d_in) {
    using T = typename Net::value_type;
    using P = typename Net::parametrization;
    CAPTURE(text);
    Net fixed(config);
    nn::dynamic_network<P, T> dyn(text, config);
    REQUIRE(dyn.size() == Net::size);
    REQUIRE(dyn.hidden_weight_layers() == Net::hidden_weight_layers);
    REQUIRE(nn::dynamic_network<P, T>::output_names(dyn.architecture()) == Net::output_names());
    for (std::size_t i = 0; i <= Net::size; ++i) {
        REQUIRE(dyn.shape(i).height == fixed.shape(i).height);
        REQUIRE(dyn.shape(i).channels == fixed.shape(i).channels);
    }
    require_same_parameters(fixed, dyn);
    wn::rng g(77);
    const std::size_t batch = 5;
    wn::matrix<T> x = xt::empty<T>({batch, d_in});
    for (auto& v : x) v = static_cast<T>(g.normal());
    xt::xtensor<int, 1> labels = xt::empty<int>({batch});
    for (auto& y : labels) y = static_cast<int>(g.below(config.d_out));
    nn::sgd opt_fixed(fixed.parameters(), nn::sgd_config{.lr = 0.3});
    nn::sgd opt_dyn(dyn.parameters(), nn::sgd_config{.lr = 0.3});
    wn::matrix<T> d_fixed, d_dyn;
    for (int step = 0; step <= 2; ++step) {
        CAPTURE(step);
        const wn::matrix<T>& out_fixed = fixed.forward(x);
        const wn::matrix<T>& out_dyn = dyn.forward(x);
        REQUIRE(out_fixed == out_dyn);
        std::vector<std::vector<T>> layers_fixed, layers_dyn;
        fixed.for_each_output([&](const std::string&, const T* p, std::size_t n) { layers_fixed.emplace_back(p, p + n); });
        dyn.for_each_output([&](const std::string&, const T* p, std::size_t n) { layers_dyn.emplace_back(p, p + n); });
        REQUIRE(layers_fixed == layers_dyn);
        if (step == 2) break;
        nn::softmax_cross_entropy::value_and_gradient(out_fixed, labels, d_fixed);
        nn::softmax_cross_entropy::value_and_gradient(out_dyn, labels, d_dyn);
        fixed.backward(x, d_fixed);
        dyn.backward(x, d_dyn);
        opt_fixed.step();
        opt_dyn.step();
        require_same_parameters(fixed, dyn);
    }
    // the step moved the parameters (the comparison above is not between two frozen networks)
    CHECK(fixed.parameters().parameters().front()->value != Net(config).parameters().parameters().front()->value);
}

}  // namespace

TEST_CASE("nn::dynamic_network equals the compile-time network of its SPEC bit for bit: conv (same, valid, circular stride 2), avgpool, gap") {
    using arch = nn::serial<nn::conv<3>, relu, nn::avgpool<2>, nn::conv<3, 1, padding::valid>, wn::act::tanh, nn::conv<2, 2, padding::circular>,
                            nn::gap>;
    nn::network_config c{.image = {9, 9, 2}, .width = 12, .d_out = 4, .base_width = 4, .bias_var = 0.1, .seed = 3};
    compare<nn::network<param::mup, arch, double>>("conv:3,relu,avgpool:2,conv:3:valid,tanh,conv:2:circular:2,gap", c, 9 * 9 * 2);
    compare<nn::network<param::mup, arch, float>>("conv:3, relu, avgpool:2, conv:3:valid:1, tanh, conv:2:circular:2, gap", c, 9 * 9 * 2);
}

TEST_CASE("nn::dynamic_network equals the compile-time network bit for bit: layernorm and a residual block, flatten readout, SP (lr 1/n)") {
    using arch = nn::serial<nn::conv<3>, wn::act::gelu, nn::residual<nn::conv<3, 1, padding::circular>, relu, nn::conv<1>>, nn::layernorm<>,
                            nn::flatten>;
    nn::network_config c{.image = {5, 4, 3}, .width = 8, .d_out = 3, .seed = 11};
    compare<nn::network<param::standard_lr_1_over_n, arch, double>>("conv:3,gelu,res(conv:3:circular,relu,conv:1),layernorm,flatten", c, 5 * 4 * 3);
}

TEST_CASE("nn::dynamic_network equals the compile-time network bit for bit: a dense SPEC on vectors with several activations") {
    using arch = nn::serial<nn::dense, wn::act::erf<>, nn::dense, wn::act::leaky_relu<0.01>, nn::dense, wn::act::sin<>>;
    nn::network_config c{.d_in = 6, .width = 10, .d_out = 2, .base_width = 5, .bias_var = 0.05, .seed = 5};
    compare<nn::network<param::mup, arch, double>>("dense,erf,dense,leaky_relu,dense,sin", c, 6);
    compare<nn::network<param::ntk, arch, double>>("dense,erf,dense,leaky_relu,dense,sin", c, 6);
}

TEST_CASE("coord check of a SPEC: the compile-time network's records exactly; muP flat within (1/1.25, 1.25), SP's readout grows > 2x") {
    using arch = nn::serial<nn::conv<3>, relu, nn::avgpool<2>, nn::conv<3>, relu, nn::gap>;
    nn::coord_check_config c;
    c.widths = {64, 256};
    c.steps = 3;
    c.seeds = 2;
    c.lr = 0.1;
    c.d_out = 10;
    c.batch = 8;
    c.base_width = 16;
    c.image = {6, 6, 3};
    c.arch = nn::parse_spec("conv:3,relu,avgpool:2,conv:3,relu,gap");
    const auto mu = nn::coord_check<nn::dynamic_network<param::mup, float>>(c);
    const auto mu_fixed = nn::coord_check<nn::network<param::mup, arch, float>>(c);
    REQUIRE(mu.layers == mu_fixed.layers);
    REQUIRE(mu.rows.size() == mu_fixed.rows.size());
    for (std::size_t i = 0; i < mu.rows.size(); ++i) CHECK(mu.rows[i].l1 == mu_fixed.rows[i].l1);
    const auto sp = nn::coord_check<nn::dynamic_network<param::allow_unstable<param::standard>, float>>(c);
    for (std::size_t t = 1; t <= 3; ++t)
        for (const auto& layer : mu.layers) {
            if (t == 1 && layer == "out") continue;  // zero readout
            CAPTURE(t);
            CAPTURE(layer);
            const double ratio = mu.mean_l1(256, t, layer) / mu.mean_l1(64, t, layer);
            CHECK(ratio > 1 / 1.25);
            CHECK(ratio < 1.25);
        }
    for (std::size_t t = 2; t <= 3; ++t) {
        CAPTURE(t);
        CHECK(sp.mean_l1(256, t, "out") / sp.mean_l1(64, t, "out") > 2.0);
    }
}

TEST_CASE("nn::dynamic_network refuses SPECs outside its instantiated set, bad shapes and unstable parametrizations, naming the cause") {
    const nn::network_config img{.image = {8, 8, 1}, .width = 4, .d_out = 2};
    const nn::network_config vec{.d_in = 3, .width = 4, .d_out = 2};
    using net = nn::dynamic_network<param::mup, double>;
    CHECK(message_of([&] { net("conv:9,relu,gap", img); }).find("conv:K with K in 1..7, got K = 9") != std::string::npos);
    CHECK(message_of([&] { net("conv:3,avgpool:5,gap", img); }).find("avgpool:K with K in 1..4") != std::string::npos);
    CHECK(message_of([&] { net("conv:3,relu", img); }).find("end the SPEC with flatten or gap") != std::string::npos);
    CHECK(message_of([&] { net("conv:3,relu,gap", vec); }).find("needs an image input") != std::string::npos);
    CHECK(message_of([&] { net("conv:5:valid,gap", img); }) == "(no error)");
    CHECK(message_of([&] { net("conv:3:valid,conv:7:valid,gap", img); }).find("smaller than the 7 x 7 filter") != std::string::npos);
    CHECK(message_of([&] { net("dense,relu,dense", {.d_in = 3, .width = 4, .d_out = 2, .widths = {4}}); }).find("one width per dense/conv layer (2)") !=
          std::string::npos);
    CHECK(message_of([&] { net("dense,bogus", vec); }).find("'bogus'") != std::string::npos);
    CHECK(message_of([&] { nn::dynamic_network<param::standard_lr_1_over_n, double>("dense,relu", vec); }) == "(no error)");
    // SP with a width-independent SGD rate fails TP4's condition 5 (nn::network refuses it at compile time)
    CHECK(message_of([&] { nn::dynamic_network<param::standard, double>("dense,relu", vec); }).find("stability condition 5") != std::string::npos);
    CHECK(message_of([&] { nn::dynamic_network<param::allow_unstable<param::standard>, double>("dense,relu", vec); }) == "(no error)");
}

TEST_CASE("nn::dynamic_network's forward and backward refuse an empty or non-finite batch, as nn::network's do") {
    nn::dynamic_network<param::mup, double> net("dense,relu", {.d_in = 3, .width = 4, .d_out = 2});
    const wn::matrix<double> x = {{1.0, 2.0, 3.0}, {0.5, -1.0, 2.0}};
    const wn::matrix<double> dout = {{1.0, -1.0}, {0.5, 0.25}};
    CHECK(contains(message_of([&] { net.backward(x, dout); }), "nn::dynamic_network::backward: call forward first"));
    CHECK(contains(message_of([&] { net.forward(wn::matrix<double>::from_shape({0, 3})); }),
                   "nn::dynamic_network::forward: the input batch is empty (0 x 3)"));
    wn::matrix<double> nan_x = x;
    nan_x(1, 2) = std::numeric_limits<double>::quiet_NaN();
    CHECK(contains(message_of([&] { net.forward(nan_x); }), "nn::dynamic_network::forward: input batch has a non-finite value"));
    net.forward(x);
    // a batch other than the forward's is scanned: its NaN would make every gradient NaN
    CHECK(contains(message_of([&] { net.backward(nan_x, dout); }), "nn::dynamic_network::backward: input batch has a non-finite value"));
    CHECK(message_of([&] { net.backward(x, dout); }) == "(no error)");
}
