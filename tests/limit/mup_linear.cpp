// Tests of limit::mup_linear: the exact μP limit of one-hidden-layer linear networks (TP4 Cor 6.2, matrix form).
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include <widenn/core/rng.hpp>
#include <widenn/limit/mup_linear.hpp>

namespace {

using widenn::matrix;
using widenn::limit::loss_kind;
using widenn::limit::mup_linear;
using widenn::limit::mup_linear_options;

double max_abs_diff(const matrix<double>& a, const matrix<double>& b) {
    double out = 0;
    for (std::size_t i = 0; i < a.size(); ++i) out = std::max(out, std::abs(a.flat(i) - b.flat(i)));
    return out;
}

// A minimal finite μP network in TP4's form, written independently of the library: U ∈ R^{n×d} with N(0, σ_u²) entries,
// nV ∈ R^{d_o×n} with N(0, σ_v²) entries, f = α (nV/n) U ξ, μP SGD: U ← U − η α n ∇_U, nV ← nV − η α ... (per TP4 §6).
struct finite_mup_linear {
    matrix<double> U, nV;
    double lr, alpha;
    matrix<double> predict(const matrix<double>& X) const {
        const std::size_t n = U.shape()[0];
        matrix<double> F = xt::zeros<double>({X.shape()[0], nV.shape()[0]});
        for (std::size_t b = 0; b < X.shape()[0]; ++b)
            for (std::size_t i = 0; i < n; ++i) {
                double h = 0;
                for (std::size_t j = 0; j < X.shape()[1]; ++j) h += U(i, j) * X(b, j);
                for (std::size_t o = 0; o < nV.shape()[0]; ++o) F(b, o) += alpha * nV(o, i) * h / static_cast<double>(n);
            }
        return F;
    }
    void step(const matrix<double>& X, const matrix<double>& Y) {  // MSE, batch mean
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
                    dV(o, i) += alpha * chi * h;
                }
                for (std::size_t j = 0; j < X.shape()[1]; ++j) dU(i, j) += alpha * chi_v * X(b, j);
            }
        U -= lr * dU;
        nV -= lr * dV;
    }
};

}  // namespace

TEST_CASE("mup_linear: the limit outputs exactly 0 at step 0 (TP4 Cor 3.10)") {
    mup_linear<double> lim(4, 3, {.sigma_u = 1.3, .sigma_v = 0.7});
    const auto X = widenn::normal_matrix(5, 4, 1);
    const auto F = lim.predict(X);
    for (auto v : F) CHECK(v == 0.0);
    CHECK(lim.coefficient_dim() == 7);
}

TEST_CASE("mup_linear: scalar case equals the ABCD recursion of TP4 Cor 6.2") {
    const double eta = 0.5;
    widenn::rng gen(3);
    std::vector<double> xs, ys;
    for (int t = 0; t < 8; ++t) {
        xs.push_back(3.0 * gen.uniform() - 1.5);
        ys.push_back(2.0 * gen.uniform() - 1.0);
    }
    double a = 1, b = 0, c = 0, d = 1;  // Z^{nV} = A Z^{nV_0} + B Z^{U_0}, Z^U = C Z^{nV_0} + D Z^{U_0}
    mup_linear<double> lim(1, 1, {.lr = eta});
    const matrix<double> probe = {{0.8}};
    for (int t = 0; t < 8; ++t) {
        const double chi = (a * c + b * d) * xs[t] - ys[t];
        const double k = eta * chi * xs[t];
        const double a1 = a - k * c, b1 = b - k * d, c1 = c - k * a, d1 = d - k * b;
        a = a1, b = b1, c = c1, d = d1;
        lim.step(matrix<double>{{xs[t]}}, matrix<double>{{ys[t]}});
        CHECK(lim.predict(probe)(0, 0) == doctest::Approx((a * c + b * d) * 0.8).epsilon(1e-13));
    }
    // the stated relation between the two coefficient forms: A_matᵀ = (D, C), B_mat = (B, A)
    CHECK(std::abs(lim.coefficients_u()(0, 0) - d) < 1e-12);
    CHECK(std::abs(lim.coefficients_u()(1, 0) - c) < 1e-12);
    CHECK(std::abs(lim.coefficients_v()(0, 0) - b) < 1e-12);
    CHECK(std::abs(lim.coefficients_v()(0, 1) - a) < 1e-12);
}

TEST_CASE("mup_linear: equals the finite net of width d + d_o (and any width with Ω'Ω = nI) to 1e-12") {
    const std::size_t d = 3, d_out = 2, batch = 4;
    for (auto loss : {loss_kind::mse, loss_kind::cross_entropy}) {
        CAPTURE(to_string(loss));
        const mup_linear_options options{.lr = 0.3, .loss = loss, .weight_decay = 0.01, .sigma_u = 1.1, .sigma_v = 0.6,
                                         .output_multiplier = 1.5, .lr_input_factor = 0.8};
        mup_linear<double> lim(d, d_out, options);
        // width d + d_o with Ω = √m·I: W_1 = A, W_2 = B (the "diagonal" initialisation)
        const std::size_t m = d + d_out;
        matrix<double> scaled_identity = xt::zeros<double>({m, m});
        for (std::size_t j = 0; j < m; ++j) scaled_identity(j, j) = std::sqrt(double(m));
        auto diagonal = lim.sample_with(scaled_identity);
        // width 3m with orthogonal columns scaled to Ω'Ω = nI
        matrix<double> omega = xt::zeros<double>({3 * m, m});
        for (std::size_t j = 0; j < m; ++j) {  // a permutation-and-sign pattern spread over 3 rows per column
            for (std::size_t r = 0; r < 3; ++r) omega(3 * j + r, j) = (r == 1 ? -1.0 : 1.0) * std::sqrt(double(m));
        }
        auto wide = lim.sample_with(omega);
        const auto probe = widenn::normal_matrix(3, d, 9);
        for (int t = 0; t < 6; ++t) {
            const auto X = widenn::normal_matrix(batch, d, 100 + t);
            matrix<double> Y = widenn::normal_matrix(batch, d_out, 200 + t);
            if (loss == loss_kind::cross_entropy)
                for (std::size_t b = 0; b < batch; ++b) Y(b, 0) = (b % 2), Y(b, 1) = 1.0 - (b % 2);
            const double l0 = lim.step(X, Y);
            const double l1 = diagonal.step(X, Y);
            const double l2 = wide.step(X, Y);
            CHECK(std::abs(l0 - l1) < 1e-12);
            CHECK(std::abs(l0 - l2) < 1e-12);
            CHECK(max_abs_diff(lim.predict(probe), diagonal.predict(probe)) < 1e-12);
            CHECK(max_abs_diff(lim.predict(probe), wide.predict(probe)) < 1e-12);
        }
        CHECK(lim.steps() == 6);
    }
}

TEST_CASE("mup_linear: finite μP nets converge to the limit at rate 1/sqrt(n), over seeds") {
    const std::size_t d = 3, d_out = 2, batch = 4;
    const int steps = 5;
    const mup_linear_options options{.lr = 0.5, .sigma_u = 1.0, .sigma_v = 0.5};
    std::vector<matrix<double>> xs, ys;
    for (int t = 0; t < steps; ++t) xs.push_back(widenn::normal_matrix(batch, d, 300 + t)), ys.push_back(widenn::normal_matrix(batch, d_out, 400 + t));
    const auto probe = widenn::normal_matrix(2, d, 7);
    mup_linear<double> lim(d, d_out, options);
    std::vector<matrix<double>> limit_outputs;
    for (int t = 0; t < steps; ++t) {
        lim.step(xs[t], ys[t]);
        limit_outputs.push_back(lim.predict(probe));
    }
    // rms over seeds of the max error over steps, at two widths
    const int seeds = 8;
    auto rms_error = [&](std::size_t width) {
        double sum2 = 0;
        for (int s = 0; s < seeds; ++s) {
            mup_linear<double> fresh(d, d_out, options);
            auto net = fresh.sample(width, 1000 + s);
            double worst = 0;
            for (int t = 0; t < steps; ++t) {
                net.step(xs[t], ys[t]);
                worst = std::max(worst, max_abs_diff(net.predict(probe), limit_outputs[t]));
            }
            sum2 += worst * worst;
        }
        return std::sqrt(sum2 / seeds);
    };
    const double e10 = rms_error(1 << 10), e14 = rms_error(1 << 14);
    MESSAGE("rms max error: n = 2^10: " << e10 << ", n = 2^14: " << e14);
    CHECK(e14 < e10);
    // 1/sqrt(n) predicts a ratio of 4; with 8 seeds the rms of a ~chi-type variable fluctuates by ~25%
    CHECK(e10 / e14 > 2.0);
    CHECK(e10 / e14 < 8.0);
    CHECK(e14 < 3.0 * e10 / 4.0);
}

TEST_CASE("mup_linear: the sampled finite net is exactly μP SGD in TP4's form (U = ΩA, nV = BΩᵀ)") {
    const std::size_t d = 3, d_out = 2, width = 257;
    const mup_linear_options options{.lr = 0.1, .sigma_u = 1.0, .sigma_v = 0.8, .output_multiplier = 1.2};
    mup_linear<double> lim(d, d_out, options);
    const auto omega = lim.gaussian_omega(width, 5);
    auto net = lim.sample(width, 5);
    matrix<double> U = xt::zeros<double>({width, d}), nV = xt::zeros<double>({d_out, width});
    for (std::size_t i = 0; i < width; ++i) {
        for (std::size_t j = 0; j < d; ++j) U(i, j) = omega(i, j) * options.sigma_u;
        for (std::size_t o = 0; o < d_out; ++o) nV(o, i) = omega(i, d + o) * options.sigma_v;
    }
    finite_mup_linear reference{U, nV, options.lr, options.output_multiplier};
    const auto probe = widenn::normal_matrix(3, d, 11);
    for (int t = 0; t < 5; ++t) {
        const auto X = widenn::normal_matrix(4, d, 500 + t), Y = widenn::normal_matrix(4, d_out, 600 + t);
        net.step(X, Y);
        reference.step(X, Y);
        const auto f = reference.predict(probe);
        // same arithmetic in a different order: agreement to rounding, relative to the output scale
        CHECK(max_abs_diff(net.predict(probe), f) < 1e-12 * (1.0 + xt::amax(xt::abs(f))()));
    }
}

TEST_CASE("mup_linear: bad input is refused with a clear error") {
    mup_linear<double> lim(3, 2);
    CHECK_THROWS_AS(lim.predict(widenn::normal_matrix(4, 2, 1)), widenn::shape_error);
    CHECK_THROWS_WITH_AS(lim.step(widenn::normal_matrix(4, 3, 1), widenn::normal_matrix(5, 2, 1)), doctest::Contains("targets Y"), widenn::shape_error);
    matrix<double> X = widenn::normal_matrix(4, 3, 1);
    X(2, 1) = std::nan("");
    CHECK_THROWS_WITH_AS(lim.step(X, widenn::normal_matrix(4, 2, 1)), doctest::Contains("non-finite"), widenn::error);
    CHECK_THROWS_AS(mup_linear<double>(0, 2), widenn::error);
    CHECK_THROWS_AS(mup_linear<double>(3, 1, {.loss = loss_kind::cross_entropy}), widenn::error);
    CHECK_THROWS_AS(lim.sample(0, 1), widenn::shape_error);
    CHECK_THROWS_AS(lim.sample_with(widenn::normal_matrix(10, 4, 1)), widenn::shape_error);
}
