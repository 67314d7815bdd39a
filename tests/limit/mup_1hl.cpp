// Tests of limit::mup_1hl (TP4 Thm 6.1 by Gauss–Hermite quadrature) and of the quadrature rules it uses.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include <xtensor/xview.hpp>

#include <widenn/core/rng.hpp>
#include <widenn/limit/mup_1hl.hpp>
#include <widenn/limit/mup_linear.hpp>

namespace {

using widenn::matrix;
namespace lim = widenn::limit;

struct tanh_activation {
    template <class T>
    static T value(T x) { return std::tanh(x); }
    template <class T>
    static T derivative(T x) { const T t = std::tanh(x); return T(1) - t * t; }
};
struct identity_activation {
    template <class T>
    static T value(T x) { return x; }
    template <class T>
    static T derivative(T) { return T(1); }
};

double max_abs_diff(const matrix<double>& a, const matrix<double>& b) {
    double out = 0;
    for (std::size_t i = 0; i < a.size(); ++i) out = std::max(out, std::abs(a.flat(i) - b.flat(i)));
    return out;
}

// An independent finite μP net in TP4's form with activation A: U (n×d) ~ N(0,1), nV (d_o×n) ~ N(0,1),
// f = (nV/n) φ(Uξ); μP SGD: U ← U − η (χ·nV) φ'(h) ξᵀ, nV ← nV − η χ φ(h)ᵀ (TP4 §6, MSE, batch mean).
template <class A>
struct finite_mup_1hl {
    matrix<double> U, nV;
    double lr;
    finite_mup_1hl(std::size_t width, std::size_t d, std::size_t d_out, std::uint64_t seed, double eta)
        : U(widenn::normal_matrix(width, d, seed)), nV(widenn::normal_matrix(d_out, width, seed + 7777)), lr(eta) {}
    matrix<double> predict(const matrix<double>& X) const {
        const std::size_t n = U.shape()[0];
        matrix<double> F = xt::zeros<double>({X.shape()[0], nV.shape()[0]});
        for (std::size_t b = 0; b < X.shape()[0]; ++b)
            for (std::size_t i = 0; i < n; ++i) {
                double h = 0;
                for (std::size_t j = 0; j < X.shape()[1]; ++j) h += U(i, j) * X(b, j);
                for (std::size_t o = 0; o < nV.shape()[0]; ++o) F(b, o) += nV(o, i) * A::value(h) / static_cast<double>(n);
            }
        return F;
    }
    void step(const matrix<double>& X, const matrix<double>& Y) {
        const std::size_t n = U.shape()[0], batch = X.shape()[0];
        const matrix<double> F = predict(X);
        matrix<double> dU = xt::zeros<double>(U.shape()), dV = xt::zeros<double>(nV.shape());
        for (std::size_t b = 0; b < batch; ++b)
            for (std::size_t i = 0; i < n; ++i) {
                double h = 0, chi_v = 0;
                for (std::size_t j = 0; j < X.shape()[1]; ++j) h += U(i, j) * X(b, j);
                for (std::size_t o = 0; o < nV.shape()[0]; ++o) {
                    const double chi = (F(b, o) - Y(b, o)) / static_cast<double>(batch);
                    chi_v += chi * nV(o, i);
                    dV(o, i) += chi * A::value(h);
                }
                for (std::size_t j = 0; j < X.shape()[1]; ++j) dU(i, j) += chi_v * A::derivative(h) * X(b, j);
            }
        U -= lr * dU;
        nV -= lr * dV;
    }
};

// Data (numpy default_rng(0)) and K = 160 quadrature values of an independent numpy implementation of the limit.
const double scalar_xs[6] = {0.4108850619643629, -0.6906398587083891, -1.3770794281914158, -1.4504170934144127, 0.9398107176008175, 1.238266731833165};
const double scalar_ys[6] = {0.21327155153435973, 0.4589931219679968, 0.08724998293084574, 0.8701448475755365, 0.6317071082430643, -0.9945229996597038};
const double scalar_k160[6] = {0.04360629545360975, -0.10631416377552563, -0.0850972765812628, -0.3946868795704394, -0.0717477893540085, -0.34737292266837616};
const double scalar_k320_last = -0.34733369915108014;

}  // namespace

TEST_CASE("gauss_hermite: nodes, weights and exactness for polynomials of degree <= 2K - 1") {
    const auto three = lim::gauss_hermite(3);
    CHECK(three.nodes[0] == doctest::Approx(-std::sqrt(3.0)).epsilon(1e-14));
    CHECK(three.nodes[1] == 0.0);
    CHECK(three.weights[0] == doctest::Approx(1.0 / 6).epsilon(1e-14));
    CHECK(three.weights[1] == doctest::Approx(2.0 / 3).epsilon(1e-14));
    for (int points : {1, 2, 7, 20, 64}) {
        const auto rule = lim::gauss_hermite(points);
        double double_factorial = 1;  // E[Z^{2j}] = (2j − 1)!!
        for (int j = 0; 2 * j <= 2 * points - 1; ++j) {
            if (j > 0) double_factorial *= 2 * j - 1;
            double even = 0, odd = 0;
            for (int i = 0; i < points; ++i) {
                even += rule.weights[i] * std::pow(rule.nodes[i], 2 * j);
                odd += rule.weights[i] * std::pow(rule.nodes[i], 2 * j + 1);
            }
            if (2 * j <= std::min(2 * points - 1, 24)) CHECK(even == doctest::Approx(double_factorial).epsilon(1e-11));
            CHECK(std::abs(odd) < 1e-10 * double_factorial);
        }
    }
    const auto big = lim::gauss_hermite(640);  // numpy's hermegauss returns NaN here
    double total = 0, second = 0;
    for (int i = 0; i < 640; ++i) total += big.weights[i], second += big.weights[i] * big.nodes[i] * big.nodes[i];
    CHECK(total == doctest::Approx(1.0).epsilon(1e-13));
    CHECK(second == doctest::Approx(1.0).epsilon(1e-11));
    CHECK_THROWS_AS(lim::gauss_hermite(0), widenn::error);
}

TEST_CASE("sparse_gauss_hermite: exact for low-degree polynomials in several dimensions, far fewer nodes") {
    const auto grid = lim::sparse_gauss_hermite(4, 3, 1 << 20);
    const auto full = lim::tensor_gauss_hermite(4, 7, 1 << 20);
    CHECK(grid.size() < full.size() / 5);
    auto expect = [&](const lim::quadrature_grid& g, auto f) {
        double out = 0;
        for (std::size_t i = 0; i < g.size(); ++i) out += g.weights[i] * f(xt::view(g.nodes, i, xt::all()));
        return out;
    };
    // E[1] = 1, E[x0² x1²] = 1, E[x0⁴] = 3, E[x0² x1² x2²] = 1, E[x0 x1] = 0
    CHECK(expect(grid, [](auto) { return 1.0; }) == doctest::Approx(1.0).epsilon(1e-12));
    CHECK(expect(grid, [](auto x) { return x(0) * x(0) * x(1) * x(1); }) == doctest::Approx(1.0).epsilon(1e-12));
    CHECK(expect(grid, [](auto x) { return std::pow(x(2), 4); }) == doctest::Approx(3.0).epsilon(1e-12));
    CHECK(expect(grid, [](auto x) { return x(0) * x(0) * x(1) * x(1) * x(3) * x(3); }) == doctest::Approx(1.0).epsilon(1e-12));
    CHECK(std::abs(expect(grid, [](auto x) { return x(0) * x(1); })) < 1e-13);
    CHECK_THROWS_WITH_AS(lim::tensor_gauss_hermite(30, 10, 1 << 20), doctest::Contains("max_nodes"), widenn::error);
}

TEST_CASE("mup_1hl with identity activation equals mup_linear (Cor 6.2 is Thm 6.1 for linear phi)") {
    const std::size_t d = 2, d_out = 2;
    for (auto grid : {lim::grid_kind::tensor, lim::grid_kind::sparse})
    for (auto loss : {lim::loss_kind::mse, lim::loss_kind::cross_entropy}) {
        CAPTURE(grid == lim::grid_kind::tensor);
        CAPTURE(to_string(loss));
        const lim::mup_1hl_options options{.lr = 0.3, .loss = loss, .weight_decay = 0.02, .sigma_u = 1.2, .sigma_v = 0.7,
                                           .output_multiplier = 1.1, .lr_input_factor = 0.9, .lr_output_factor = 1.2,
                                           .grid = grid, .degree = grid == lim::grid_kind::tensor ? 3 : 2};
        lim::mup_1hl<identity_activation> quad(d, d_out, options);
        lim::mup_linear<double> exact(d, d_out, {.lr = 0.3, .loss = loss, .weight_decay = 0.02, .sigma_u = 1.2, .sigma_v = 0.7,
                                                 .output_multiplier = 1.1, .lr_input_factor = 0.9, .lr_output_factor = 1.2});
        const auto probe = widenn::normal_matrix(3, d, 4);
        CHECK(max_abs_diff(quad.predict(probe), exact.predict(probe)) < 1e-15);
        for (int t = 0; t < 6; ++t) {
            const auto X = widenn::normal_matrix(3, d, 10 + t);
            matrix<double> Y = widenn::normal_matrix(3, d_out, 20 + t);
            if (loss == lim::loss_kind::cross_entropy)
                for (std::size_t b = 0; b < 3; ++b) Y(b, 0) = double((b + t) % 2), Y(b, 1) = 1.0 - Y(b, 0);
            CHECK(std::abs(quad.step(X, Y) - exact.step(X, Y)) < 1e-12);
            CHECK(max_abs_diff(quad.predict(probe), exact.predict(probe)) < 1e-12);
        }
        CHECK(xt::amax(quad.error_estimate(probe))() < 1e-12);
    }
}

TEST_CASE("mup_1hl scalar tanh: matches the numpy quadrature of fl_limit.py; the error estimate bounds the error") {
    lim::mup_1hl<tanh_activation> k160(1, 1, {.lr = 0.5, .degree = 160});
    lim::mup_1hl<tanh_activation> k40(1, 1, {.lr = 0.5, .degree = 40});
    const matrix<double> probe = {{0.8}};
    for (int t = 0; t < 6; ++t) {
        k160.step(matrix<double>{{scalar_xs[t]}}, matrix<double>{{scalar_ys[t]}});
        k40.step(matrix<double>{{scalar_xs[t]}}, matrix<double>{{scalar_ys[t]}});
        CHECK(k160.predict(probe)(0, 0) == doctest::Approx(scalar_k160[t]).epsilon(1e-9));
    }
    // the K = 40 estimate (distance to K = 20) must cover its true error against the K = 320 value
    const double true_error_40 = std::abs(k40.predict(probe)(0, 0) - scalar_k320_last);
    MESSAGE("K = 40: true error " << true_error_40 << ", estimate " << k40.error_estimate(probe)(0, 0)
                                  << "; K = 160: true error " << std::abs(k160.predict(probe)(0, 0) - scalar_k320_last)
                                  << ", estimate " << k160.error_estimate(probe)(0, 0));
    CHECK(k40.error_estimate(probe)(0, 0) >= true_error_40);
    CHECK(k160.error_estimate(probe)(0, 0) < k40.error_estimate(probe)(0, 0));
}

TEST_CASE("mup_1hl scalar tanh: a 2^16-wide finite μP net agrees within its 1/sqrt(n) fluctuation") {
    const std::size_t width = std::size_t{1} << 16;
    lim::mup_1hl<tanh_activation> limit(1, 1, {.lr = 0.5, .degree = 160});
    const matrix<double> probe = {{0.8}};
    for (int t = 0; t < 6; ++t) limit.step(matrix<double>{{scalar_xs[t]}}, matrix<double>{{scalar_ys[t]}});
    const double target = limit.predict(probe)(0, 0);
    const int seeds = 6;
    std::vector<double> deviations;
    for (int s = 0; s < seeds; ++s) {
        finite_mup_1hl<tanh_activation> net(width, 1, 1, 50 + s, 0.5);
        for (int t = 0; t < 6; ++t) net.step(matrix<double>{{scalar_xs[t]}}, matrix<double>{{scalar_ys[t]}});
        deviations.push_back(net.predict(probe)(0, 0) - target);
    }
    double mean = 0, sum2 = 0;
    for (double e : deviations) mean += e / seeds, sum2 += e * e;
    const double rms = std::sqrt(sum2 / seeds);
    MESSAGE("n = 2^16: rms deviation " << rms << " (x sqrt(n) = " << rms * std::sqrt(double(width)) << "), mean " << mean);
    // The deviation is O(n^{-1/2}) with mean O(1/n): an independent numpy run measured ~0.4/sqrt(n) for this problem.
    CHECK(rms * std::sqrt(double(width)) < 2.0);
    CHECK(std::abs(mean) < 5.0 * rms / std::sqrt(double(seeds)) + 5.0 / double(width));
}

TEST_CASE("mup_1hl input-span reduction: d = 5 inputs in a 2-D span, quadrature over 3 dimensions (fl_span.py)") {
    const matrix<double> X = {{0.02066495766104256, 0.20838162419571754, -0.05773882150936586, 0.09889613630429965, 0.11048066728726633},
                              {-0.3023401950251588, -0.33846032913902474, 0.2212329729430359, -0.19610039318459427, 0.12104313852137187},
                              {0.39424700585146866, 0.6726619985037933, -0.34170000657832916, 0.362464726070206, -0.00955296121711469},
                              {0.00886174688043601, -0.26071731112348223, 0.0557776263575704, -0.11915266997116271, -0.17704138491088936},
                              {0.05071229553774929, -0.4748979135796044, 0.085206077458414, -0.21247495421874898, -0.36113150028020047}};
    const double ys[5] = {0.9618272785946109, -0.5909810773399102, 0.10746072573045562, -0.03275060615322456, -0.2934502898791038};
    const matrix<double> probe = {{-0.2758597524933385, -0.5428083663177693, 0.25568778370427103, -0.28691328345636324, -0.03956007394374614}};
    lim::mup_1hl<tanh_activation> limit(X, 1, {.lr = 0.5, .degree = 24});
    CHECK(limit.span_dim() == 2);
    CHECK(limit.gaussian_dim() == 3);
    for (int t = 0; t < 5; ++t) limit.step(xt::eval(xt::view(X, xt::range(t, t + 1), xt::all())), matrix<double>{{ys[t]}});
    // reference: quadrature over 3 dimensions −0.2026428 (stable from K = 20 to 60), finite n = 10^6: −0.20263 ± 0.00015
    CHECK(limit.predict(probe)(0, 0) == doctest::Approx(-0.2026428).epsilon(1e-6 / 0.2));
    CHECK(limit.error_estimate(probe)(0, 0) < 1e-5);
    // an input outside the span is refused
    matrix<double> outside = probe;
    outside(0, 0) += 0.5;
    CHECK_THROWS_WITH_AS(limit.predict(outside), doctest::Contains("outside the 2-dimensional span"), widenn::shape_error);
}

TEST_CASE("mup_1hl: bad input and intractable requests give clear errors") {
    CHECK_THROWS_WITH_AS(lim::mup_1hl<tanh_activation>(20, 1, {.degree = 16}), doctest::Contains("intractable quadrature"), widenn::error);
    CHECK_THROWS_WITH_AS(lim::mup_1hl<tanh_activation>(20, 10, {.grid = lim::grid_kind::sparse, .degree = 12}),
                         doctest::Contains("intractable quadrature"), widenn::error);
    lim::mup_1hl<tanh_activation> limit(2, 1, {.degree = 8});
    CHECK_THROWS_AS(limit.predict(widenn::normal_matrix(3, 3, 1)), widenn::shape_error);
    matrix<double> X = widenn::normal_matrix(3, 2, 1);
    X(1, 1) = INFINITY;
    CHECK_THROWS_WITH_AS(limit.step(X, widenn::normal_matrix(3, 1, 2)), doctest::Contains("non-finite"), widenn::error);
    CHECK_THROWS_AS(limit.step(widenn::normal_matrix(3, 2, 1), widenn::normal_matrix(2, 1, 2)), widenn::shape_error);
    CHECK_THROWS_AS(lim::mup_1hl<tanh_activation>(matrix<double>(xt::zeros<double>({3, 2})), 1), widenn::error);
    CHECK_THROWS_AS(lim::mup_1hl<tanh_activation>(2, 1, {.estimate_error = false}).error_estimate(widenn::normal_matrix(1, 2, 3)), widenn::error);
}
