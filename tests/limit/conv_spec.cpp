// nn::parse_spec and nn::infer_shapes: every grammar form, nesting, and each error message.
#include <doctest/doctest.h>

#include <string>

#include <widenn/nn/spec.hpp>

#include "../error_messages.hpp"

namespace nn = widenn::nn;

namespace {
using widenn_test::contains;
using widenn_test::message_of;
}  // namespace

TEST_CASE("parse_spec: every layer form") {
    const nn::spec s = nn::parse_spec("conv:3, conv:5:valid,conv:3:circular,conv:3:same:2,conv:1:valid:1,avgpool:2,layernorm,relu,erf,"
                                      "dense,res(conv:3,relu,conv:3),gap");
    REQUIRE(s.layers.size() == 12);
    CHECK(s.layers[0].kind == nn::layer_kind::conv);
    CHECK(s.layers[0].size == 3);
    CHECK(s.layers[0].stride == 1);
    CHECK(s.layers[0].pad == nn::padding::same);
    CHECK(s.layers[1].size == 5);
    CHECK(s.layers[1].pad == nn::padding::valid);
    CHECK(s.layers[1].column == 9);  // after ", "
    CHECK(s.layers[2].pad == nn::padding::circular);
    CHECK(s.layers[3].stride == 2);
    CHECK(s.layers[3].pad == nn::padding::same);
    CHECK(s.layers[4].stride == 1);
    CHECK(s.layers[5].kind == nn::layer_kind::avgpool);
    CHECK(s.layers[5].size == 2);
    CHECK(s.layers[5].stride == 2);
    CHECK(s.layers[6].kind == nn::layer_kind::layernorm);
    CHECK(s.layers[7].kind == nn::layer_kind::activation);
    CHECK(s.layers[7].activation == "relu");
    CHECK(s.layers[8].activation == "erf");
    CHECK(s.layers[9].kind == nn::layer_kind::dense);
    CHECK(s.layers[10].kind == nn::layer_kind::residual);
    CHECK(s.layers[10].inner.size() == 3);
    CHECK(s.layers[10].text == "res(conv:3,relu,conv:3)");
    CHECK(s.layers[11].kind == nn::layer_kind::gap);
    CHECK(nn::parse_spec("flatten").layers[0].kind == nn::layer_kind::flatten);
    for (auto name : nn::spec_activation_names) CHECK(nn::parse_spec(std::string(name)).layers[0].activation == name);
}

TEST_CASE("parse_spec: nested residual blocks") {
    const nn::spec s = nn::parse_spec("conv:3,res(relu,conv:3,res(relu,conv:3)),flatten");
    REQUIRE(s.layers.size() == 3);
    REQUIRE(s.layers[1].inner.size() == 3);
    CHECK(s.layers[1].inner[2].kind == nn::layer_kind::residual);
    CHECK(s.layers[1].inner[2].inner.size() == 2);
    CHECK(s.layers[1].inner[2].inner[0].column == 28);
    // the depth limit: 16 levels parse, 17 are refused (and 20000 do not overflow the stack)
    std::string ok = "dense", deep;
    for (int i = 0; i < nn::max_spec_nesting; ++i) ok = "res(relu," + ok + ")";
    CHECK(nn::parse_spec("dense," + ok).layers.size() == 2);
    CHECK(contains(message_of([&] { nn::parse_spec("dense,res(" + ok + ")"); }), "nested 17 deep; at most 16"));
    for (int i = 0; i < 20000; ++i) deep += "res(";  // 80,000 characters
    CHECK(contains(message_of([&] { nn::parse_spec(deep); }), "at most 16 levels"));
}

TEST_CASE("parse_spec: each error names the token, its column and what was expected") {
    const std::string bad_token = message_of([] { nn::parse_spec("conv:3,rleu,flatten"); });
    CHECK(contains(bad_token, "token 'rleu' at column 8 is not a layer: expected conv:K"));
    CHECK(contains(bad_token, "relu"));
    CHECK(contains(message_of([] { nn::parse_spec("conv:x"); }), "token 'conv:x' at column 1: the window size K must be an integer in 1..1024, got 'x'"));
    CHECK(contains(message_of([] { nn::parse_spec("conv:0"); }), "got '0'"));
    CHECK(contains(message_of([] { nn::parse_spec("conv:2000"); }), "got '2000'"));
    CHECK(contains(message_of([] { nn::parse_spec("conv:99999999999999999999"); }), "window size K"));
    CHECK(contains(message_of([] { nn::parse_spec("conv"); }), "token 'conv' at column 1: expected conv:K, conv:K:valid"));
    CHECK(contains(message_of([] { nn::parse_spec("conv:3:full"); }), "padding 'full' is not one of same, valid, circular"));
    CHECK(contains(message_of([] { nn::parse_spec("conv:3:same:3"); }), "stride '3' must be 1 or 2"));
    CHECK(contains(message_of([] { nn::parse_spec("conv:3:same:2:1"); }), "expected conv:K"));
    CHECK(contains(message_of([] { nn::parse_spec("avgpool"); }), "expected avgpool:K"));
    CHECK(contains(message_of([] { nn::parse_spec("avgpool:2:2"); }), "expected avgpool:K"));
    CHECK(contains(message_of([] { nn::parse_spec("relu:2"); }), "'relu' takes no ':' arguments"));
    CHECK(contains(message_of([] { nn::parse_spec("dense,,relu"); }), "empty layer at column 7"));
    CHECK(contains(message_of([] { nn::parse_spec(""); }), "empty layer at column 1"));
    CHECK(contains(message_of([] { nn::parse_spec("dense,"); }), "empty layer at column 7"));
    CHECK(contains(message_of([] { nn::parse_spec("res"); }), "written res(SPEC)"));
    CHECK(contains(message_of([] { nn::parse_spec("relu(dense)"); }), "token 'relu(' at column 1: only res( ) takes a block"));
    CHECK(contains(message_of([] { nn::parse_spec("dense,res(relu,dense"); }), "res( opened at column 7 is not closed"));
    CHECK(contains(message_of([] { nn::parse_spec("dense)"); }), "unexpected ')' at column 6"));
    CHECK(contains(message_of([] { nn::parse_spec("res()"); }), "empty layer at column 5"));
}

TEST_CASE("infer_shapes: output shapes") {
    const auto s = nn::infer_shapes(nn::parse_spec("conv:3:valid,relu,conv:3:same:2,avgpool:2,flatten"), 28, 28, 1);
    CHECK(s.h == 1);
    const auto pooled = nn::infer_shapes(nn::parse_spec("conv:3:valid,relu,conv:3:same:2,avgpool:2,gap"), 28, 28, 3);
    CHECK(pooled.h == 1);
    // 28 -> 26 (valid) -> 13 (same, stride 2) -> 6 (pool 2): checked through a residual that must keep the shape
    CHECK(contains(message_of([] { nn::infer_shapes(nn::parse_spec("conv:3:valid,relu,conv:3:same:2,avgpool:2,conv:7:valid,flatten"), 28, 28, 1); }),
                   "'conv:7:valid' (column 43) needs an image of at least 7 x 7 pixels (valid padding), but its input is 6 x 6"));
    CHECK(nn::infer_shapes(nn::parse_spec("dense,relu,dense"), 10).channels == 0);
}

TEST_CASE("infer_shapes: each error is a sentence naming the layer") {
    auto image_error = [](const char* spec, std::size_t h = 8, std::size_t w = 8, std::size_t c = 1) {
        return message_of([&] { nn::infer_shapes(nn::parse_spec(spec), h, w, c); });
    };
    auto vector_error = [](const char* spec) { return message_of([&] { nn::infer_shapes(nn::parse_spec(spec), 10); }); };
    CHECK(contains(image_error("conv:3,avgpool:16,flatten"), "'avgpool:16' (column 8) pools 16 x 16 windows, but its input is only 8 x 8"));
    CHECK(contains(image_error("conv:9:valid,flatten"), "needs an image of at least 9 x 9"));
    CHECK(contains(vector_error("conv:3,relu,flatten"), "'conv:3' (column 1) works on images, but the input is 2-D (N x d)"));
    CHECK(contains(image_error("dense,relu,flatten"), "'dense' (column 1) is a dense layer for 2-D inputs"));
    CHECK(contains(image_error("conv:3,flatten,relu"), "'flatten' (column 8) must be the last layer"));
    CHECK(contains(image_error("conv:3,gap,relu"), "'gap' (column 8) must be the last layer"));
    CHECK(contains(image_error("conv:3,res(relu,conv:3,flatten),flatten"), "not inside a res( ) block"));
    CHECK(contains(image_error("conv:3,relu"), "a SPEC for images must end with flatten or gap"));
    CHECK(contains(image_error("relu,conv:3,flatten"), "'relu' (column 1) acts on the raw input; put a conv layer first"));
    CHECK(contains(vector_error("layernorm,dense"), "'layernorm' (column 1) acts on the raw input; put a dense layer first"));
    CHECK(contains(image_error("conv:3,res(conv:3:same:2),flatten"), "changes the image from 8 x 8 to 4 x 4"));
    CHECK(contains(image_error("conv:3,res(conv:3,relu),flatten"), "must end with a conv or dense layer"));
    CHECK(contains(image_error("avgpool:2,res(conv:3),flatten"), "acts on the raw input"));
    CHECK(contains(image_error("conv:3,flatten", 0, 8, 1), "at least 1 x 1 pixels and 1 channel, got 0 x 8 x 1"));
}
