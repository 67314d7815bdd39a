// Small layers, the models, the optimizer, and bad-input errors.
#include <doctest/doctest.h>

#include <widenn/equivariant/model.hpp>
#include <widenn/nn/optim.hpp>

#include "helpers.hpp"

namespace eq = widenn::equivariant;
using so2 = widenn::lie::so<2>;
using sl2 = widenn::lie::sl<2>;
using gl_plus2 = widenn::lie::gl_plus<2>;
using test_helpers::check_gradient;
using test_helpers::random_tensor;

TEST_CASE("layer_norm, gelu, max_pool2, group_pool and linear: gradients match central differences") {
    auto x = random_tensor<double, 5>({2, 3, 2, 4, 4}, 21);
    auto probe5 = random_tensor<double, 5>({2, 3, 2, 4, 4}, 22);
    SUBCASE("layer_norm without affine") {
        eq::layer_norm<double> ln;
        auto loss = [&] { return xt::sum(ln.forward(x) * probe5)(); };
        ln.forward(x);
        auto dx = ln.backward(probe5);
        check_gradient(loss, x.data(), dx.data(), x.size(), "layer_norm input");
    }
    SUBCASE("layer_norm with affine (head)") {
        eq::layer_norm<double> ln(6);
        auto h = random_tensor<double, 2>({3, 6}, 23);
        auto probe = random_tensor<double, 2>({3, 6}, 24);
        widenn::rng init(3);
        for (auto* p : ln.parameters()) widenn::nn::fill_uniform(p->value, 1.0, init);
        auto loss = [&] { return xt::sum(ln.forward(h) * probe)(); };
        ln.forward(h);
        auto dh = ln.backward(probe);
        check_gradient(loss, h.data(), dh.data(), h.size(), "head layer_norm input");
        for (auto* p : ln.parameters()) check_gradient(loss, p->value.data(), p->grad.data(), p->size(), p->name);
    }
    SUBCASE("gelu") {
        eq::pointwise<widenn::act::gelu, double> g;
        auto loss = [&] { return xt::sum(g.forward(x) * probe5)(); };
        g.forward(x);
        auto dx = g.backward(probe5);
        check_gradient(loss, x.data(), dx.data(), x.size(), "gelu input");
    }
    SUBCASE("max_pool2") {
        eq::max_pool2<double> pool;
        auto probe = random_tensor<double, 5>({2, 3, 2, 2, 2}, 25);
        auto loss = [&] { return xt::sum(pool.forward(x) * probe)(); };
        pool.forward(x);
        auto dx = pool.backward(probe);
        check_gradient(loss, x.data(), dx.data(), x.size(), "max_pool2 input");
    }
    SUBCASE("group_pool over the group (max and mean) and over group and space") {
        for (auto kind : {eq::pool_kind::max, eq::pool_kind::mean})
            for (auto axes : {eq::group_pool<double>::over::group, eq::group_pool<double>::over::group_and_space}) {
                eq::group_pool<double> pool(kind, axes);
                auto out = pool.forward(x);
                auto probe = random_tensor<double, 4>(std::array<std::size_t, 4>(out.shape()), 26);
                auto loss = [&] { return xt::sum(pool.forward(x) * probe)(); };
                pool.forward(x);
                auto dx = pool.backward(probe);
                check_gradient(loss, x.data(), dx.data(), x.size(), "group_pool input");
            }
    }
    SUBCASE("linear") {
        widenn::nn::linear<double> fc(5, 4, true, 9);
        auto h = random_tensor<double, 2>({3, 5}, 27);
        auto probe = random_tensor<double, 2>({3, 4}, 28);
        auto loss = [&] { return xt::sum(fc.forward(h) * probe)(); };
        fc.forward(h);
        auto dh = fc.backward(probe);
        check_gradient(loss, h.data(), dh.data(), h.size(), "linear input");
        for (auto* p : fc.parameters()) check_gradient(loss, p->value.data(), p->grad.data(), p->size(), p->name);
    }
}

TEST_CASE("group_pool: max over the group is exact, mean is the average") {
    xt::xtensor<double, 5> x = xt::zeros<double>({1, 3, 1, 1, 2});
    x(0, 0, 0, 0, 0) = 1; x(0, 1, 0, 0, 0) = 4; x(0, 2, 0, 0, 0) = -2;
    x(0, 0, 0, 0, 1) = 5;
    eq::group_pool<double> mx(eq::pool_kind::max, eq::group_pool<double>::over::group), mean(eq::pool_kind::mean, eq::group_pool<double>::over::group);
    auto a = mx.forward(x), b = mean.forward(x);
    CHECK(a(0, 0, 0, 0) == 4);
    CHECK(a(0, 0, 0, 1) == 5);
    CHECK(b(0, 0, 0, 0) == doctest::Approx(1.0));
    CHECK(b(0, 0, 0, 1) == doctest::Approx(5.0 / 3));
}

TEST_CASE("dropout: identity at evaluation, inverted scaling and a stored mask in training") {
    eq::dropout<double> drop(0.5, 1);
    xt::xtensor<double, 2> x = xt::ones<double>({4, 50});
    CHECK(xt::all(xt::equal(drop.forward(x, false), x)));
    auto y = drop.forward(x, true);
    std::size_t zeros = 0;
    for (double v : y) {
        CHECK((v == 0.0 || v == 2.0));
        zeros += v == 0.0;
    }
    // 200 Bernoulli(1/2) draws: 5 standard errors are ±35.4
    CHECK(std::abs(static_cast<double>(zeros) - 100.0) < 5 * std::sqrt(50.0));
    auto dx = drop.backward(x);
    CHECK(xt::all(xt::equal(dx, y)));
    CHECK_THROWS_AS(eq::dropout<double>(1.0), widenn::error);
}

namespace {
eq::model_config tiny_model() {
    return {.image_size = 11, .in_channels = 1, .channels = 2, .kernel = 3, .classes = 3, .head_width = 5, .dropout = 0.0,
            .kernel_hidden = 6, .kernel_layers = 2, .omega0 = 3.0, .seed = 4};
}
}  // namespace

TEST_CASE_TEMPLATE("affine_model: gradients of the whole network match central differences", H, sl2, gl_plus2) {
    eq::affine_model<H, double> net(tiny_model());
    widenn::rng r(5);
    auto grid = eq::sample_grid<H>(2, r, eq::sampling::haar, eq::log_normal_proposal(0.3));
    auto x = random_tensor<double, 4>({2, 1, 11, 11}, 31);
    auto probe = random_tensor<double, 2>({2, 3}, 32);
    auto loss = [&] { return xt::sum(net.forward(x, grid, false) * probe)(); };
    net.forward(x, grid, false);
    for (auto* p : net.parameters()) p->zero_grad();
    net.backward(probe);
    for (auto* p : net.parameters()) check_gradient(loss, p->value.data(), p->grad.data(), p->size(), p->name);
}

TEST_CASE("cnn_model: gradients of the whole network match central differences") {
    eq::cnn_model<double> net(tiny_model());
    auto x = random_tensor<double, 4>({2, 1, 11, 11}, 33);
    auto probe = random_tensor<double, 2>({2, 3}, 34);
    auto loss = [&] { return xt::sum(net.forward(x, false) * probe)(); };
    net.forward(x, false);
    for (auto* p : net.parameters()) p->zero_grad();
    net.backward(probe);
    for (auto* p : net.parameters()) check_gradient(loss, p->value.data(), p->grad.data(), p->size(), p->name);
}

TEST_CASE("affine_model: rgenn's parameter counts at its default size (C = 40, k = 5)") {
    eq::model_config c;  // defaults: 40 channels, kernel 5, head 256, 10 classes
    eq::affine_model<sl2, float> sl(c);
    eq::affine_model<gl_plus2, float> gl(c);
    CHECK(eq::count_parameters(sl.parameters()) == 339102);
    CHECK(eq::count_parameters(gl.parameters()) == 339282);
    const auto channels = eq::cnn_channels_for(339282, c);
    c.channels = channels;
    eq::cnn_model<float> cnn(c);
    const auto n = eq::count_parameters(cnn.parameters());
    CHECK(n <= 339282);
    c.channels = channels + 1;
    CHECK(eq::count_parameters(eq::cnn_model<float>(c).parameters()) > 339282);
}

TEST_CASE("affine_model::draw_grid: config().samples elements, default 10; fixed seeds give fixed grids") {
    eq::affine_model<gl_plus2, float> net(eq::model_config{});
    widenn::rng a(7), b(7);
    const auto g1 = net.draw_grid(a), g2 = net.draw_grid(b);
    CHECK(g1.size() == eq::default_group_samples);
    CHECK(eq::default_group_samples == 10);
    for (std::size_t j = 0; j < g1.size(); ++j) {
        CHECK(g1.elements[j].h(0, 0) == g2.elements[j].h(0, 0));
        CHECK(g1.elements[j].weight == g2.elements[j].weight);
    }
    const auto g3 = net.draw_grid(a);  // the next draw from the same rng differs
    CHECK(g3.elements[0].h(0, 0) != g1.elements[0].h(0, 0));
}

TEST_CASE("bad input: wrong image size, channel mismatch, zero samples, grid mismatch") {
    widenn::rng r(1);
    auto grid = eq::sample_grid<sl2>(2, r);
    eq::affine_model<sl2, double> net(tiny_model());
    CHECK_THROWS_AS(net.forward(xt::zeros<double>({1, 1, 12, 11}), grid, false), widenn::shape_error);
    CHECK_THROWS_AS(net.forward(xt::zeros<double>({1, 2, 11, 11}), grid, false), widenn::shape_error);
    CHECK_THROWS_WITH_AS(eq::sample_grid<sl2>(0, r), doctest::Contains("must be positive, got 0"), widenn::error);
    CHECK_THROWS_AS(net.forward(xt::zeros<double>({1, 1, 11, 11}), eq::group_grid{}, false), widenn::error);

    eq::lifting<gl_plus2, double> lift({.in_channels = 2, .out_channels = 3, .kernel = 5});
    CHECK_THROWS_WITH_AS(lift.forward(xt::zeros<double>({1, 1, 8, 8}), grid), doctest::Contains("expected 2 input channels, got 1"), widenn::shape_error);
    CHECK_THROWS_WITH_AS(lift.forward(xt::zeros<double>({1, 2, 4, 8}), grid), doctest::Contains("at least 5 x 5"), widenn::shape_error);
    CHECK_THROWS_AS(lift.forward(xt::zeros<double>({1, 2, 8, 8}), eq::group_grid{}), widenn::error);

    eq::group_conv<gl_plus2, double> conv({.in_channels = 3, .out_channels = 3, .kernel = 3});
    auto three = eq::sample_grid<gl_plus2>(3, r);
    CHECK_THROWS_WITH_AS(conv.forward(xt::zeros<double>({1, 2, 3, 5, 5}), three, three), doctest::Contains("input grid has 3"), widenn::shape_error);
    CHECK_THROWS_WITH_AS(conv.forward(xt::zeros<double>({1, 3, 4, 5, 5}), three, three), doctest::Contains("expected 3 input channels, got 4"),
                         widenn::shape_error);
    CHECK_THROWS_AS(conv.forward(xt::zeros<double>({1, 3, 3, 5, 5}), three, eq::group_grid{}), widenn::error);
    CHECK_THROWS_AS(eq::sample_grid<gl_plus2>(4, r, eq::sampling::equidistant), widenn::error);
}

TEST_CASE("adam: minimises a quadratic; coupled weight decay shifts the minimum to w/(1+wd)") {
    widenn::nn::parameter<double> p("w", 3);
    p.value = {1.0, -2.0, 3.0};
    widenn::nn::adam<widenn::nn::parameter_list<double>> opt({&p}, {.lr = 0.05, .weight_decay = 0.5});
    for (int step = 0; step < 4000; ++step) {
        opt.zero_grad();
        for (std::size_t i = 0; i < 3; ++i) p.grad[i] = p.value[i] - 2.0;  // d/dw ½(w − 2)²
        opt.step();
    }
    // stationary point of ½(w−2)² + ¼ w²: w = 2 / 1.5
    for (double v : p.value) CHECK(v == doctest::Approx(2.0 / 1.5).epsilon(1e-3));
    p.grad[0] = std::nan("");
    CHECK_THROWS_AS(opt.step(), widenn::error);
}

TEST_CASE("adam: a parameter's lr_scale multiplies its step; the models give their SIRENs the configured factors") {
    // Adam's first step is lr·g/(|g| + ε) per coordinate: exactly lr·lr_scale for |g| ≫ ε.
    widenn::nn::parameter<double> a("a", 2), b("b", 2);
    b.lr_scale = 0.25;
    a.grad = {3.0, -5.0};
    b.grad = {3.0, -5.0};
    widenn::nn::adam<widenn::nn::parameter_list<double>> opt({&a, &b}, {.lr = 0.1});
    opt.step();
    CHECK(a.value[0] == doctest::Approx(-0.1).epsilon(1e-9));
    CHECK(a.value[1] == doctest::Approx(0.1).epsilon(1e-9));
    CHECK(b.value[0] == doctest::Approx(-0.025).epsilon(1e-9));
    CHECK(b.value[1] == doctest::Approx(0.025).epsilon(1e-9));

    eq::model_config c{.image_size = 16, .channels = 2, .kernel = 3, .samples = 2, .head_width = 4, .kernel_hidden = 4};
    eq::affine_model<so2, double> net(c);
    std::size_t sine = 0, readout = 0, other = 0;
    for (auto* p : net.parameters()) {
        if (p->name.rfind("siren.readout", 0) == 0) {
            CHECK(p->lr_scale == c.readout_lr_scale);
            ++readout;
        } else if (p->name.rfind("siren.", 0) == 0) {
            CHECK(p->lr_scale == c.sine_lr_scale);
            ++sine;
        } else {
            CHECK(p->lr_scale == 1.0);
            ++other;
        }
    }
    CHECK(sine == 4 * 2 * c.kernel_layers);  // lifting + 3 group convolutions, weights and biases per sine layer
    CHECK(readout == 4 * 2);
    CHECK(other > 0);
    CHECK(c.sine_lr_scale < 1.0);
    CHECK(c.readout_lr_scale < 1.0);
}

TEST_CASE("sample_grid, stratified: rotation factors θ₀ + 2πk/N, SPD factors and weights those of the Haar draws") {
    const std::size_t n = 5;
    const auto polar_angle = [](const eq::mat2& g) { return std::atan2(g(1, 0) - g(0, 1), g(0, 0) + g(1, 1)); };
    const auto spd_part = [&](const eq::mat2& g) { return g * widenn::lie::inverse(eq::rotation(polar_angle(g))); };
    const auto check_steps = [&](const eq::group_grid& grid) {
        for (std::size_t k = 1; k < n; ++k) {
            const double step = std::remainder(polar_angle(grid.elements[k].h) - polar_angle(grid.elements[k - 1].h), 2 * std::numbers::pi);
            CHECK(step == doctest::Approx(2 * std::numbers::pi / n).epsilon(1e-12));
        }
    };
    widenn::rng r_so(5);
    check_steps(eq::sample_grid<so2>(n, r_so, eq::sampling::stratified));

    widenn::rng r1(7), r2(7);
    const auto stratified = eq::sample_grid<gl_plus2>(n, r1, eq::sampling::stratified, eq::log_normal_proposal(0.4));
    r2.uniform();  // the common angle offset
    const auto haar = eq::sample_grid<gl_plus2>(n, r2, eq::sampling::haar, eq::log_normal_proposal(0.4));
    check_steps(stratified);
    for (std::size_t k = 0; k < n; ++k) {
        const auto p = spd_part(stratified.elements[k].h), q = spd_part(haar.elements[k].h);
        CHECK(p(0, 0) == doctest::Approx(q(0, 0)).epsilon(1e-12));
        CHECK(p(0, 1) == doctest::Approx(q(0, 1)).epsilon(1e-12));
        CHECK(p(0, 1) == doctest::Approx(p(1, 0)).epsilon(1e-12));  // symmetric
        CHECK(p(1, 1) == doctest::Approx(q(1, 1)).epsilon(1e-12));
        CHECK(stratified.elements[k].weight == haar.elements[k].weight);
    }
}

TEST_CASE("sample_grid, ball proposal: ‖log P‖ ≤ r, weights J(X), and the Haar volume of exp(B_r)·SO(2) in SL(2)") {
    // SL(2): X traceless with |v| = ‖X‖_F, eigenvalue gap √2|v|, J = sinh(√2|v|)/(√2|v|); v uniform in the disc of
    // radius r, so E[J] = (1/πr²) ∫_{|v|≤r} J dv = (cosh(√2 r) − 1)/r².
    const double r = 0.8;
    const std::size_t n = 40000;
    widenn::rng gen(11);
    const auto grid = eq::sample_grid<sl2>(n, gen, eq::sampling::haar, eq::ball_proposal(r));
    double sum = 0, sum_sq = 0;
    for (const auto& e : grid.elements) {
        const eq::mat2 p = e.h * eq::mat2{e.h(0, 0), e.h(1, 0), e.h(0, 1), e.h(1, 1)};  // h hᵀ = P²
        CHECK(widenn::lie::det(p) == doctest::Approx(1.0).epsilon(1e-9));
        // the eigenvalues of P² are e^{±2λ} with λ = |v|/√2: trace = 2 cosh(√2 |v|)
        const double v = std::acosh(std::max(1.0, 0.5 * (p(0, 0) + p(1, 1)))) / std::numbers::sqrt2;
        REQUIRE(v <= r + 1e-9);
        const double j = v > 0 ? std::sinh(std::numbers::sqrt2 * v) / (std::numbers::sqrt2 * v) : 1.0;
        CHECK(e.weight == doctest::Approx(j).epsilon(1e-9));
        sum += e.weight;
        sum_sq += e.weight * e.weight;
    }
    const double mean = sum / n, se = std::sqrt((sum_sq / n - mean * mean) / n);
    const double exact = (std::cosh(std::numbers::sqrt2 * r) - 1) / (r * r);
    CHECK(std::abs(mean - exact) < 5 * se);
    CHECK(se < 0.01 * exact);  // a wrong radius law (r·U instead of r·U^{1/2}) moves the mean by > 100 SE

    // GL⁺(2): every weight is at most J at the rim, so the effective sample size of 10 draws is ≈ 10 (log-normal: ≈ 4)
    widenn::rng gen2(12);
    const auto gl = eq::sample_grid<gl_plus2>(10, gen2, eq::sampling::haar, eq::ball_proposal(0.4));
    double w = 0, w2 = 0;
    for (const auto& e : gl.elements) {
        CHECK(widenn::lie::det(e.h) > 0);
        CHECK(e.weight >= 1.0);
        CHECK(e.weight <= std::sinh(std::numbers::sqrt2 * 0.4) / (std::numbers::sqrt2 * 0.4) + 1e-12);
        w += e.weight, w2 += e.weight * e.weight;
    }
    CHECK(w * w / w2 > 9.99);  // weights within [1, 1.05] bound it below by 10 · 4·1.05/2.05² = 9.994
    for (double bad : {0.0, -1.0, 11.0, std::nan("")})
        CHECK_THROWS_WITH_AS(eq::sample_grid<gl_plus2>(3, gen2, eq::sampling::haar, eq::ball_proposal(bad)), doctest::Contains("must be in (0, 10]"),
                             widenn::error);
}
