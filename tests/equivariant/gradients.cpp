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
    auto grid = eq::sample_grid<H>(3, r, eq::sampling::haar, 0.4);
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
    auto in_grid = eq::sample_grid<H>(3, r, eq::sampling::haar, 0.4);
    auto out_grid = eq::sample_grid<H>(2, r, eq::sampling::haar, 0.4);
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
