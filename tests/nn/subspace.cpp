// Random-subspace training (Li et al. 2018): the fast Walsh–Hadamard transform, the three projections
// (column norms, adjoints, moments against the dense one), P = I equal to ordinary training bit for bit,
// the gradient Pᵀ S ∇θ by finite differences, the §2 toy with intrinsic dimension exactly 10, the d_int90
// search, and bad input.
#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <vector>

#include <widenn/act/activations.hpp>
#include <widenn/nn/loss.hpp>
#include <widenn/nn/mlp.hpp>
#include <widenn/nn/optim.hpp>
#include <widenn/nn/subspace.hpp>

namespace nn = widenn::nn;
using widenn::matrix;

namespace {

double dot(const std::vector<double>& a, const std::vector<double>& b) {
    double s = 0;
    for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
    return s;
}

std::vector<double> column(const nn::projection& p, std::size_t j) {
    std::vector<double> e(p.dimension(), 0.0);
    e[j] = 1;
    return p(e);
}

const nn::projection_kind random_kinds[] = {nn::projection_kind::dense, nn::projection_kind::sparse, nn::projection_kind::fastfood};

}  // namespace

TEST_CASE("fwht equals the product with the explicit Hadamard matrix, and H² = n I") {
    for (std::size_t n = 1; n <= 128; n *= 2) {
        CAPTURE(n);
        widenn::rng g(n);
        std::vector<double> x(n), y(n, 0.0);
        for (auto& v : x) v = static_cast<double>(static_cast<int>(g.below(201)) - 100);  // integers: every sum is exact
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t j = 0; j < n; ++j) y[i] += (std::popcount(i & j) % 2 ? -1.0 : 1.0) * x[j];
        std::vector<double> z = x;
        nn::fwht(z.data(), n);
        CHECK(z == y);
        nn::fwht(z.data(), n);
        for (std::size_t i = 0; i < n; ++i) CHECK(z[i] == static_cast<double>(n) * x[i]);
    }
    std::vector<double> bad(12);
    CHECK_THROWS_AS(nn::fwht(bad.data(), 12), widenn::error);
}

TEST_CASE("projections: apply and apply_transpose are adjoint; columns have the stated norms") {
    for (auto kind : random_kinds) {
        for (std::size_t D : {64, 100}) {  // 64: no padding for fastfood; 100: padded to 128
            CAPTURE(nn::to_string(kind));
            CAPTURE(D);
            const std::size_t d = 20;
            const auto p = nn::make_projection(kind, D, d, 11);
            CHECK(p.kind() == kind);
            widenn::rng g(5);
            std::vector<double> x(d), y(D);
            for (auto& v : x) v = g.normal();
            for (auto& v : y) v = g.normal();
            CHECK(dot(p(x), y) == doctest::Approx(dot(x, p.transpose(y))).epsilon(1e-12));
            double mean_norm2 = 0;
            for (std::size_t j = 0; j < d; ++j) {
                const auto c = column(p, j);
                const double n2 = dot(c, c);
                mean_norm2 += n2 / static_cast<double>(d);
                // dense and sparse: unit columns; fastfood without padding: unit columns (n ‖g‖² s² = 1)
                if (kind != nn::projection_kind::fastfood || std::has_single_bit(D)) CHECK(n2 == doctest::Approx(1.0).epsilon(1e-12));
            }
            CHECK(mean_norm2 == doctest::Approx(1.0).epsilon(0.5));
        }
    }
    // The sparse projection has density about 1/√D: nonzeros ~ Binomial(D·d, 1/√D) (plus rare redraws).
    const nn::sparse_projection s(10000, 200, 3);
    const double expected = 200.0 * 100.0, sd = std::sqrt(expected);
    CHECK(std::abs(static_cast<double>(s.nonzeros()) - expected) < 5 * sd);
}

TEST_CASE("fastfood with padding: column squared norms average 1") {
    // D = 600 is padded to n = 1024. For each seed the mean of the d squared column norms is within
    // O(√(2/D)) of 1 (each column sums D rows of squared, nearly Gaussian entries); over 40 seeds the grand
    // mean is within 4·√(2/D)/√40 (columns of one seed may be correlated, so the per-seed bound is used).
    const std::size_t D = 600, d = 16, seeds = 40;
    double grand = 0;
    for (std::size_t seed = 0; seed < seeds; ++seed) {
        const auto p = nn::make_projection(nn::projection_kind::fastfood, D, d, 100 + seed);
        for (std::size_t j = 0; j < d; ++j) {
            const auto c = column(p, j);
            grand += dot(c, c) / static_cast<double>(d * seeds);
        }
    }
    CHECK(std::abs(grand - 1.0) < 4 * std::sqrt(2.0 / D) / std::sqrt(static_cast<double>(seeds)));
}

TEST_CASE("sparse and fastfood agree in distribution with the dense projection (first two moments)") {
    // For a fixed unit x, z = √D (Pᵀx)_j has mean 0 and variance 1 under all three projections (for the
    // dense one exactly: a unit column is uniform on the sphere). N samples, one column per seed (so they
    // are independent): |mean z| < 4/√N and |mean z² − 1| < 4·√(Var z²/N) with Var z² <= 3 (2 for a Gaussian,
    // up to 3 for the sparse projection's lighter-tailed sums).
    const std::size_t D = 300, d = 8, N = 3000;
    std::vector<double> x(D);
    double norm = 0;
    for (std::size_t i = 0; i < D; ++i) {
        x[i] = 1.0 + static_cast<double>(i % 7);  // not uniform
        norm += x[i] * x[i];
    }
    for (auto& v : x) v /= std::sqrt(norm);
    for (auto kind : random_kinds) {
        CAPTURE(nn::to_string(kind));
        double m1 = 0, m2 = 0;
        for (std::size_t s = 0; s < N; ++s) {
            const auto p = nn::make_projection(kind, D, d, 7000 + s);
            const double z = std::sqrt(static_cast<double>(D)) * p.transpose(x)[s % d];
            m1 += z / N;
            m2 += z * z / N;
        }
        CHECK(std::abs(m1) < 4 / std::sqrt(static_cast<double>(N)));
        CHECK(std::abs(m2 - 1) < 4 * std::sqrt(3.0 / N));
    }
}

namespace {

using net_t = nn::mlp<widenn::param::mup, widenn::act::tanh, 2, double>;

const matrix<double> xs = {{0.7, -0.4, 0.9}, {-0.5, 0.8, 0.3}, {0.2, 0.6, -1.1}, {1.0, 0.1, 0.4}};
const matrix<double> ys = {{0.5, -1.0}, {1.0, 0.2}, {-0.3, 0.8}, {0.1, 0.1}};

net_t make_net(std::size_t base_width = 0) {
    return net_t({.d_in = 3, .width = 16, .d_out = 2, .base_width = base_width, .bias_var = 0.1, .seed = 9});
}

void check_same_parameters(const net_t& a, const net_t& b) {
    for (int l = 1; l <= net_t::layers; ++l) {
        CHECK(a.weight(l) == b.weight(l));
        CHECK(a.bias(l) == b.bias(l));
    }
}

template <class Make>
void check_identity_bit_for_bit(Make make_optimizer, nn::subspace_scaling scaling) {
    net_t plain = make_net(), inside = make_net();
    auto opt_plain = make_optimizer(plain);
    nn::subspace sub(inside, nn::make_projection(nn::projection_kind::identity, inside.parameter_count(), inside.parameter_count(), 0),
                     scaling);
    auto opt_sub = make_optimizer(sub);
    check_same_parameters(plain, inside);
    matrix<double> dout;
    for (int step = 0; step < 6; ++step) {
        nn::mse::value_and_gradient(plain.forward(xs), ys, dout);
        opt_plain.step(plain.backward(xs, dout));
        nn::subspace_train_step<nn::mse>(sub, opt_sub, xs, ys, dout);
    }
    check_same_parameters(plain, inside);
    CHECK(dot(sub.theta_d(), sub.theta_d()) > 0);
}

}  // namespace

TEST_CASE("d = D with P = I trains exactly like the network itself (bit for bit)") {
    SUBCASE("sgd with momentum") {
        check_identity_bit_for_bit([](auto& n) { return nn::sgd(n, {.lr = 0.05, .momentum = 0.9}); }, nn::subspace_scaling::sgd);
    }
    SUBCASE("sgd") { check_identity_bit_for_bit([](auto& n) { return nn::sgd(n, {.lr = 0.05}); }, nn::subspace_scaling::none); }
    SUBCASE("adam") { check_identity_bit_for_bit([](auto& n) { return nn::adam(n, {.lr = 1e-2}); }, nn::subspace_scaling::adam); }
}

TEST_CASE("the subspace gradient is Pᵀ S ∇θ: central differences of the loss in θ_d") {
    for (auto scaling : {nn::subspace_scaling::none, nn::subspace_scaling::sgd, nn::subspace_scaling::adam}) {
        for (auto kind : random_kinds) {
            CAPTURE(nn::to_string(kind));
            net_t net = make_net(4);  // ñ = 4: the per-tensor factors S differ from 1
            nn::subspace sub(net, nn::make_projection(kind, net.parameter_count(), 12, 21), scaling);
            matrix<double> dout;
            nn::mse::value_and_gradient(net.forward(xs), ys, dout);
            const auto g = sub.gradient(net.backward(xs, dout)).weights[0];
            const double h = 1e-5;
            for (std::size_t j : {0u, 5u, 11u}) {
                auto theta = sub.theta_d();
                theta[j] += h;
                sub.set_theta_d(theta);
                const double up = nn::mse::value(net.forward(xs), ys);
                theta[j] -= 2 * h;
                sub.set_theta_d(theta);
                const double down = nn::mse::value(net.forward(xs), ys);
                theta[j] += h;
                sub.set_theta_d(theta);
                CHECK((up - down) / (2 * h) == doctest::Approx(g(0, j)).epsilon(1e-6).scale(1e-9));
            }
        }
    }
}

TEST_CASE("SGD and Adam train inside a fastfood subspace") {
    net_t net = make_net();
    matrix<double> dout;
    const double before = nn::mse::value(net.forward(xs), ys);
    nn::subspace sub(net, nn::make_projection(nn::projection_kind::fastfood, net.parameter_count(), 40, 2), nn::subspace_scaling::adam);
    nn::adam opt(sub, {.lr = 0.05});
    for (int step = 0; step < 200; ++step) nn::subspace_train_step<nn::mse>(sub, opt, xs, ys, dout);
    CHECK(nn::mse::value(net.forward(xs), ys) < 0.1 * before);
}

namespace {

// Li et al. §2 toy: D = 1000 parameters in 10 groups of 100; the loss depends only on the 10 group sums,
// L(θ) = ½ Σ_k (Σ_{i∈G_k} θ_i − t_k)². Inside θ = θ₀ + P θ_d it is ½‖M θ_d − r‖² with M = A P (10 × d) and
// r = t − Aθ₀: reachable optimum 0 iff M has rank 10, i.e. d >= 10 for a projection in general position.
struct toy {
    static constexpr std::size_t D = 1000, groups = 10, size = 100;
    std::vector<double> theta0 = std::vector<double>(D), target = std::vector<double>(groups);
    toy() {
        widenn::rng g(77);
        for (auto& v : theta0) v = g.normal();
        for (auto& v : target) v = 3 * g.normal();
    }
    std::vector<double> residual(const std::vector<double>& theta) const {
        std::vector<double> r(groups);
        for (std::size_t k = 0; k < groups; ++k) {
            double s = 0;
            for (std::size_t i = 0; i < size; ++i) s += theta[k * size + i];
            r[k] = s - target[k];
        }
        return r;
    }
    double loss(const std::vector<double>& theta) const {
        const auto r = residual(theta);
        return 0.5 * dot(r, r);
    }
    std::vector<double> gradient(const std::vector<double>& theta) const {
        const auto r = residual(theta);
        std::vector<double> g(D);
        for (std::size_t i = 0; i < D; ++i) g[i] = r[i / size];
        return g;
    }
};

// The least value of ½‖M x − r‖² over x (normal equations, Gaussian elimination with partial pivoting).
double least_squares_minimum(const std::vector<std::vector<double>>& M, const std::vector<double>& r) {
    const std::size_t m = M.size(), n = M[0].size();
    std::vector<std::vector<double>> a(n, std::vector<double>(n + 1, 0.0));
    for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t j = 0; j < n; ++j)
            for (std::size_t k = 0; k < m; ++k) a[i][j] += M[k][i] * M[k][j];
        for (std::size_t k = 0; k < m; ++k) a[i][n] += M[k][i] * r[k];
    }
    for (std::size_t c = 0; c < n; ++c) {
        std::size_t best = c;
        for (std::size_t i = c + 1; i < n; ++i)
            if (std::abs(a[i][c]) > std::abs(a[best][c])) best = i;
        std::swap(a[c], a[best]);
        for (std::size_t i = 0; i < n; ++i) {
            if (i == c) continue;
            const double f = a[i][c] / a[c][c];
            for (std::size_t j = c; j <= n; ++j) a[i][j] -= f * a[c][j];
        }
    }
    std::vector<double> x(n);
    for (std::size_t i = 0; i < n; ++i) x[i] = a[i][n] / a[i][i];
    double loss = 0;
    for (std::size_t k = 0; k < m; ++k) {
        double s = -r[k];
        for (std::size_t j = 0; j < n; ++j) s += M[k][j] * x[j];
        loss += 0.5 * s * s;
    }
    return loss;
}

// Minimises the toy inside θ = θ₀ + P θ_d using only the subspace gradient Pᵀ∇θ: the loss is quadratic in
// θ_d, so conjugate gradients (Hessian-vector products Hv = ∇(v) − ∇(0), both subspace gradients) reach its
// minimum in at most d steps in exact arithmetic; 3d steps leave room for rounding. Returns the final loss.
double train_toy(const toy& t, const nn::projection& p, std::vector<std::vector<double>>* M_out = nullptr) {
    const std::size_t d = p.dimension();
    if (M_out) {
        M_out->assign(toy::groups, std::vector<double>(d));
        for (std::size_t j = 0; j < d; ++j) {
            const auto c = column(p, j);
            for (std::size_t k = 0; k < toy::groups; ++k)
                for (std::size_t i = 0; i < toy::size; ++i) (*M_out)[k][j] += c[k * toy::size + i];
        }
    }
    auto theta_of = [&](const std::vector<double>& theta_d) {
        auto theta = p(theta_d);
        for (std::size_t i = 0; i < toy::D; ++i) theta[i] += t.theta0[i];
        return theta;
    };
    auto gradient = [&](const std::vector<double>& theta_d) { return p.transpose(t.gradient(theta_of(theta_d))); };
    const std::vector<double> zero(d, 0.0);
    const auto g0 = gradient(zero);
    std::vector<double> x(d, 0.0), r(d), dir(d);
    for (std::size_t j = 0; j < d; ++j) dir[j] = r[j] = -g0[j];
    for (std::size_t it = 0; it < 3 * d && dot(r, r) > 1e-300; ++it) {
        auto hd = gradient(dir);
        for (std::size_t j = 0; j < d; ++j) hd[j] -= g0[j];
        const double curvature = dot(dir, hd);
        if (!(curvature > 0)) break;
        const double step = dot(r, r) / curvature;
        for (std::size_t j = 0; j < d; ++j) x[j] += step * dir[j];
        const auto g = gradient(x);  // recompute the residual from the gradient (no drift)
        std::vector<double> r_new(d);
        for (std::size_t j = 0; j < d; ++j) r_new[j] = -g[j];
        const double beta = dot(r_new, r_new) / dot(r, r);
        for (std::size_t j = 0; j < d; ++j) dir[j] = r_new[j] + beta * dir[j];
        r = r_new;
    }
    return t.loss(theta_of(x));
}

}  // namespace

TEST_CASE("Li et al. §2 toy: D = 1000 depending on 10 group sums has intrinsic dimension exactly 10") {
    const toy t;
    const double initial = t.loss(t.theta0);
    for (auto kind : random_kinds) {
        CAPTURE(nn::to_string(kind));
        // d = 10 reaches the optimum (loss 0) ...
        const double at10 = train_toy(t, nn::make_projection(kind, toy::D, 10, 4));
        CHECK(at10 < 1e-12 * initial);
        // ... d = 9 does not: training stops at the least-squares minimum of the 10 × 9 system, > 0.
        std::vector<std::vector<double>> M;
        const double at9 = train_toy(t, nn::make_projection(kind, toy::D, 9, 4), &M);
        const double floor9 = least_squares_minimum(M, [&] {
            auto r = t.residual(t.theta0);
            for (auto& v : r) v = -v;
            return r;
        }());
        CHECK(floor9 > 1e-3 * initial);
        CHECK(at9 == doctest::Approx(floor9).epsilon(1e-6));
    }
}

TEST_CASE("intrinsic_dimension_search brackets the smallest d reaching 90 % of the baseline") {
    // A performance curve with a known threshold: 0.9 is first reached at d = 137.
    auto perf = [](std::size_t d) { return d >= 137 ? 0.95 : 0.5; };
    const auto r = nn::intrinsic_dimension_search(perf, 1.0, {.d_min = 1, .d_max = 5000, .tolerance = 0.0001});
    CHECK(r.found);
    CHECK(r.d_int == 137);
    CHECK(r.lower == 136);
    const auto coarse = nn::intrinsic_dimension_search(perf, 1.0, {.d_min = 1, .d_max = 5000, .tolerance = 0.1});
    CHECK(coarse.d_int >= 137);
    CHECK(static_cast<double>(coarse.d_int) <= 1.1 * static_cast<double>(coarse.lower) + 1);
    CHECK(coarse.evaluated.size() < r.evaluated.size());
    CHECK_FALSE(nn::intrinsic_dimension_search(perf, 1.0, {.d_min = 1, .d_max = 100}).found);
    CHECK(nn::intrinsic_dimension_search(perf, 1.0, {.d_min = 200, .d_max = 300}).d_int == 200);
    CHECK_THROWS_AS(nn::intrinsic_dimension_search(perf, 1.0, {.d_min = 0, .d_max = 10}), widenn::error);
    CHECK_THROWS_AS(nn::intrinsic_dimension_search(perf, 0.0, {.d_min = 1, .d_max = 10}), widenn::error);
}

TEST_CASE("subspace and projections reject bad dimensions") {
    for (auto kind : random_kinds) {
        CHECK_THROWS_AS(nn::make_projection(kind, 10, 11, 0), widenn::error);  // d > D
        CHECK_THROWS_AS(nn::make_projection(kind, 10, 0, 0), widenn::error);   // d = 0
    }
    CHECK_THROWS_AS(nn::make_projection(nn::projection_kind::identity, 10, 9, 0), widenn::error);
    CHECK_THROWS_AS(nn::dense_projection(std::size_t{1} << 20, 100, 0), widenn::error);  // too large to store
    net_t net = make_net();
    CHECK_THROWS_AS(nn::subspace(net, nn::make_projection(nn::projection_kind::dense, net.parameter_count() + 1, 5, 0)), widenn::shape_error);
    nn::subspace sub(net, nn::make_projection(nn::projection_kind::sparse, net.parameter_count(), 5, 0));
    CHECK_THROWS_AS(sub.weight(2), widenn::shape_error);
    CHECK_THROWS_AS(sub.set_theta_d(std::vector<double>(4)), widenn::shape_error);
    const auto p = nn::make_projection(nn::projection_kind::fastfood, 50, 5, 0);
    CHECK_THROWS_AS(p(std::vector<double>(6)), widenn::shape_error);
    CHECK_THROWS_AS(p.transpose(std::vector<double>(49)), widenn::shape_error);
    try {
        nn::make_projection(nn::projection_kind::fastfood, 10, 11, 0);
    } catch (const widenn::error& e) {
        CHECK(std::string(e.what()).find("d must be <= the full dimension D = 10, got d = 11") != std::string::npos);
    }
}
