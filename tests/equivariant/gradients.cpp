// Gradients of every equivariant layer against central differences, in double.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <vector>

#include <widenn/equivariant/group_conv.hpp>

#include "helpers.hpp"

namespace eq = widenn::equivariant;
using so2 = widenn::lie::so<2>;
using sl2 = widenn::lie::sl<2>;
using gl_plus2 = widenn::lie::gl_plus<2>;
using test_helpers::check_gradient;
using test_helpers::random_tensor;

namespace {

eq::group_conv_config small_config(std::size_t cin, std::size_t cout, std::size_t k, std::size_t pad, std::uint64_t seed) {
    return {.in_channels = cin, .out_channels = cout, .kernel = k, .padding = pad, .kernel_hidden = 8, .kernel_layers = 2, .omega0 = 3.0, .seed = seed};
}

template <class H>
void lifting_gradients() {
    widenn::rng r(11);
    auto grid = eq::sample_grid<H>(3, r, eq::sampling::haar, eq::log_normal_proposal(0.4));
    eq::lifting<H, double> layer(small_config(2, 3, 3, 1, 5));
    auto x = random_tensor<double, 4>({2, 2, 6, 5}, 1);
    auto y0 = layer.forward(x, grid);
    auto probe = random_tensor<double, 5>(std::array<std::size_t, 5>(y0.shape()), 2);
    auto loss = [&] { return xt::sum(layer.forward(x, grid) * probe)(); };
    layer.forward(x, grid);
    for (auto* p : layer.parameters()) p->zero_grad();
    auto dx = layer.backward(probe);
    check_gradient(loss, x.data(), dx.data(), x.size(), "input");
    for (auto* p : layer.parameters()) check_gradient(loss, p->value.data(), p->grad.data(), p->size(), p->name);
}

template <class H>
void group_conv_gradients() {
    widenn::rng r(12);
    auto in_grid = eq::sample_grid<H>(3, r, eq::sampling::haar, eq::log_normal_proposal(0.4));
    auto out_grid = eq::sample_grid<H>(2, r, eq::sampling::haar, eq::log_normal_proposal(0.4));
    eq::group_conv<H, double> layer(small_config(2, 2, 3, 1, 6));
    auto x = random_tensor<double, 5>({2, 3, 2, 5, 5}, 3);
    auto y0 = layer.forward(x, in_grid, out_grid);
    auto probe = random_tensor<double, 5>(std::array<std::size_t, 5>(y0.shape()), 4);
    auto loss = [&] { return xt::sum(layer.forward(x, in_grid, out_grid) * probe)(); };
    layer.forward(x, in_grid, out_grid);
    for (auto* p : layer.parameters()) p->zero_grad();
    auto dx = layer.backward(probe);
    check_gradient(loss, x.data(), dx.data(), x.size(), "input");
    for (auto* p : layer.parameters()) check_gradient(loss, p->value.data(), p->grad.data(), p->size(), p->name);
}

}  // namespace

TEST_CASE_TEMPLATE("lifting: gradients match central differences", H, so2, sl2, gl_plus2) { lifting_gradients<H>(); }

TEST_CASE_TEMPLATE("group_conv: gradients match central differences", H, so2, sl2, gl_plus2) { group_conv_gradients<H>(); }

TEST_CASE("conv2d: gradients match central differences") {
    eq::conv2d<double> layer({.in_channels = 2, .out_channels = 3, .kernel = 3, .padding = 1, .bias = true, .seed = 3});
    auto x = random_tensor<double, 4>({2, 2, 5, 4}, 7);
    auto probe = random_tensor<double, 4>(std::array<std::size_t, 4>(layer.forward(x).shape()), 8);
    auto loss = [&] { return xt::sum(layer.forward(x) * probe)(); };
    layer.forward(x);
    for (auto* p : layer.parameters()) p->zero_grad();
    auto dx = layer.backward(probe);
    check_gradient(loss, x.data(), dx.data(), x.size(), "input");
    for (auto* p : layer.parameters()) check_gradient(loss, p->value.data(), p->grad.data(), p->size(), p->name);
}

TEST_CASE("group_conv: a batch (images in parallel, per-thread kernel gradients) equals its images one at a time") {
    widenn::rng r(13);
    const auto grid = eq::sample_grid<sl2>(3, r, eq::sampling::stratified);
    eq::group_conv<sl2, double> layer(small_config(2, 3, 3, 1, 8));
    const std::size_t batch = 5;  // an odd count: the threads get unequal shares
    const auto x = random_tensor<double, 5>({batch, 3, 2, 6, 6}, 9);
    const auto y = layer.forward(x, grid, grid);
    const auto probe = random_tensor<double, 5>(std::array<std::size_t, 5>(y.shape()), 10);
    for (auto* p : layer.parameters()) p->zero_grad();
    const auto dx = layer.backward(probe);
    std::vector<std::vector<double>> batched;
    for (auto* p : layer.parameters()) {
        batched.push_back(p->grad);
        p->zero_grad();
    }

    const std::size_t in_size = x.size() / batch, out_size = y.size() / batch;
    for (std::size_t b = 0; b < batch; ++b) {
        xt::xtensor<double, 5> xb = xt::empty<double>({std::size_t{1}, x.shape()[1], x.shape()[2], x.shape()[3], x.shape()[4]});
        std::copy(x.data() + b * in_size, x.data() + (b + 1) * in_size, xb.data());
        xt::xtensor<double, 5> pb = xt::empty<double>({std::size_t{1}, y.shape()[1], y.shape()[2], y.shape()[3], y.shape()[4]});
        std::copy(probe.data() + b * out_size, probe.data() + (b + 1) * out_size, pb.data());
        const auto yb = layer.forward(xb, grid, grid);
        const auto dxb = layer.backward(pb);  // adds this image's parameter gradients
        for (std::size_t i = 0; i < out_size; ++i) REQUIRE(yb.data()[i] == doctest::Approx(y.data()[b * out_size + i]).epsilon(1e-12));
        for (std::size_t i = 0; i < in_size; ++i) REQUIRE(dxb.data()[i] == doctest::Approx(dx.data()[b * in_size + i]).epsilon(1e-12));
    }
    const auto params = layer.parameters();
    for (std::size_t k = 0; k < params.size(); ++k)
        for (std::size_t i = 0; i < params[k]->size(); ++i) REQUIRE(params[k]->grad[i] == doctest::Approx(batched[k][i]).epsilon(1e-10));
}
