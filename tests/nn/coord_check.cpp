#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <numbers>
#include <string>

#include <widenn/act/activations.hpp>
#include <widenn/io/coord_check.hpp>
#include <widenn/nn/coord_check.hpp>

namespace {

namespace wn = widenn;
using relu = wn::act::relu;
using mup_net = wn::nn::mlp<wn::param::mup, relu, 2, float>;
using sp_net = wn::nn::mlp<wn::param::allow_unstable<wn::param::standard>, relu, 2, float>;

// Small but faithful to mup's protocol (docs/theory/abc-parametrization.md §6): widths 1024 and 4096, base width 256,
// zero readout, softmax cross-entropy on one fixed batch, records at t = 1, 2, 3; d = 16 and batch 16 keep it cheap.
// SGD lr 1 rather than mup's 0.1: at lr 0.1 and this small batch SP's readout blows up (x4.4 at t = 3) but its
// last hidden layer does not grow yet by t = 3 (see docs/coord-check.md); at lr 1 both do, while muP stays flat.
wn::nn::coord_check_config criterion_config() {
    wn::nn::coord_check_config c;
    c.widths = {1024, 4096};
    c.steps = 3;
    c.seeds = 3;
    c.lr = 1.0;
    c.d_in = 16;
    c.d_out = 10;
    c.batch = 16;
    c.base_width = 256;
    return c;
}

}  // namespace

TEST_CASE("coord check under muP: every layer's l1 ratio between widths 4096 and 1024 is within (1/1.2, 1.2) at t = 1..3") {
    const auto r = wn::nn::coord_check<mup_net>(criterion_config());
    REQUIRE(r.layers == std::vector<std::string>{"h1", "x1", "h2", "x2", "out"});
    REQUIRE(r.rows.size() == 2 * 3 * 3 * 5);
    for (std::size_t t = 1; t <= 3; ++t)
        for (const auto& layer : r.layers) {
            const double small = r.mean_l1(1024, t, layer), large = r.mean_l1(4096, t, layer);
            CAPTURE(t);
            CAPTURE(layer);
            CAPTURE(small);
            CAPTURE(large);
            if (t == 1 && layer == "out") {
                // mup's exception: the zero-initialised readout is exactly 0 at both widths.
                CHECK(small == 0.0);
                CHECK(large == 0.0);
                continue;
            }
            REQUIRE(small > 0);
            CHECK(large / small > 1 / 1.2);
            CHECK(large / small < 1.2);
        }
}

TEST_CASE("coord check under SP with the same learning rate: the readout and last hidden layer grow > 1.5x from 1024 to 4096 by t = 3") {
    const auto r = wn::nn::coord_check<sp_net>(criterion_config());
    for (const std::string layer : {"h2", "x2", "out"}) {
        const double small = r.mean_l1(1024, 3, layer), large = r.mean_l1(4096, 3, layer);
        CAPTURE(layer);
        CAPTURE(small);
        CAPTURE(large);
        CHECK(large / small > 1.5);
    }
    // At initialisation SP and muP have the same hidden layers (base-width form), so the blow-up comes from training.
    CHECK(r.mean_l1(4096, 1, "x2") / r.mean_l1(1024, 1, "x2") == doctest::Approx(1.0).epsilon(0.05));
}

TEST_CASE("coord check under muP with Adam (mup's MuAdam protocol): every layer within (1/1.2, 1.2) from width 1024 to 4096") {
    // Adam's per-layer rates (hidden and readout eta/n~) and per-tensor epsilon are the error-prone part of muP.
    auto c = criterion_config();
    c.optimizer = wn::nn::coord_check_optimizer::adam;
    c.lr = 1e-2;  // ten times mup's 1e-3, so that three steps move every layer visibly
    c.seeds = 2;
    const auto r = wn::nn::coord_check<mup_net>(c);
    for (std::size_t t = 2; t <= 3; ++t)
        for (const auto& layer : r.layers) {
            const double small = r.mean_l1(1024, t, layer), large = r.mean_l1(4096, t, layer);
            CAPTURE(t);
            CAPTURE(layer);
            CHECK(large / small > 1 / 1.2);
            CHECK(large / small < 1.2);
        }
    // The readout moved: from exactly 0 to Theta(1).
    CHECK(r.mean_l1(4096, 3, "out") > 0.1);
}

TEST_CASE("at the base width muP and SP are the same network, so their records agree exactly (TP5 base-width form)") {
    auto c = criterion_config();
    c.widths = {64};
    c.base_width = 64;
    c.seeds = 2;
    const auto mup = wn::nn::coord_check<mup_net>(c);
    const auto sp = wn::nn::coord_check<sp_net>(c);
    REQUIRE(mup.rows.size() == sp.rows.size());
    for (std::size_t i = 0; i < mup.rows.size(); ++i) {
        CAPTURE(mup.rows[i].layer);
        CAPTURE(mup.rows[i].step);
        CHECK(mup.rows[i].l1 == sp.rows[i].l1);
    }
}

TEST_CASE("l1 of the first layer at initialisation matches E|h| = sqrt(2/pi) * |x| / sqrt(d) within 5 standard errors") {
    // h1 = W1 x with W1 ~ N(0, 1/d) and zero bias: given x, the n entries of row b are i.i.d. N(0, q_b), q_b = |x_b|^2 / d.
    // E|h| = sqrt(2 q / pi), Var|h| = q (1 - 2/pi); relu: E relu(h) = sqrt(q / (2 pi)), Var = q/2 - q/(2 pi).
    auto c = criterion_config();
    c.widths = {2048};
    c.seeds = 1;
    c.steps = 1;
    const auto r = wn::nn::coord_check<mup_net>(c);
    // The same fixed batch the coord check draws.
    wn::rng data(c.data_seed);
    double expected_abs = 0, var_abs = 0, expected_relu = 0, var_relu = 0;
    for (std::size_t b = 0; b < c.batch; ++b) {
        double q = 0;
        for (std::size_t i = 0; i < c.d_in; ++i) {
            const double v = static_cast<float>(data.normal());
            q += v * v;
        }
        q /= static_cast<double>(c.d_in);
        expected_abs += std::sqrt(2 * q / std::numbers::pi);
        var_abs += q * (1 - 2 / std::numbers::pi);
        expected_relu += std::sqrt(q / (2 * std::numbers::pi));
        var_relu += q / 2 - q / (2 * std::numbers::pi);
    }
    const double count = static_cast<double>(c.batch * c.widths[0]), batch = static_cast<double>(c.batch);
    // mean over batch x width entries: variance of the mean = (Σ_b Var_b) / (B n) / B.
    const double se_abs = std::sqrt(var_abs / batch / count), se_relu = std::sqrt(var_relu / batch / count);
    CHECK(std::abs(r.mean_l1(2048, 1, "h1") - expected_abs / batch) < 5 * se_abs);
    CHECK(std::abs(r.mean_l1(2048, 1, "x1") - expected_relu / batch) < 5 * se_relu);
}

TEST_CASE("coord check writes its CSV and rejects bad configurations with clear errors") {
    auto c = criterion_config();
    c.widths = {32, 64};
    c.seeds = 2;
    c.steps = 2;
    const auto r = wn::nn::coord_check<mup_net>(c);
    const std::string path = "widenn_test_coord_check.csv";
    widenn::io::write_coord_check_csv(r, path);
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    CHECK(line == "width,seed,step,layer,l1");
    std::size_t lines = 0;
    while (std::getline(in, line)) ++lines;
    CHECK(lines == 2 * 2 * 2 * 5);
    std::remove(path.c_str());
    CHECK(r.table().find("t = 2") != std::string::npos);
    CHECK_THROWS_AS(r.mean_l1(32, 3, "h1"), wn::error);

    auto bad = c;
    bad.widths = {};
    CHECK_THROWS_AS(wn::nn::coord_check<mup_net>(bad), wn::error);
    bad = c;
    bad.steps = 0;
    CHECK_THROWS_AS(wn::nn::coord_check<mup_net>(bad), wn::error);
    bad = c;
    bad.lr = std::nan("");
    CHECK_THROWS_AS(wn::nn::coord_check<mup_net>(bad), wn::error);
}
