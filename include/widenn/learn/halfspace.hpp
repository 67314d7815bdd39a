#pragma once
// A tester-learner for origin-centred halfspaces under the standard Gaussian (Gollakota, Klivans,
// Stavropoulos & Vasilyan 2023, "An Efficient Tester-Learner for Halfspaces"): a learner whose guarantee
// holds when the marginal of x is N(0, I_d) comes with testers that look at the samples and either accept
// (then the guarantee is certified, with high probability, by what was tested) or reject (the marginal is
// visibly not Gaussian where it matters). widenn implements:
//
//   moment_test      every moment E[x^α], 1 <= |α| <= k, against the Gaussian's Π_i (α_i − 1)!! (0 for an odd
//                    α_i). Threshold from the sample size: each empirical moment is compared with a z-score
//                    z_α = (m̂_α − m_α)/√(Var_G(x^α)/n), Var_G(x^α) = m_{2α} − m_α², and the test passes if
//                    max |z_α| <= z* with 2(1 − Φ(z*)) = δ/M (M monomials, union bound): standard Gaussian
//                    samples pass with probability >= 1 − δ up to the normal approximation of each mean.
//   band_test        P̂(|⟨w, x⟩| <= σ) (w normalised) against the Gaussian's erf(σ/√2), with Hoeffding's
//                    threshold √(ln(2/δ)/(2n)): Gaussian samples pass with probability >= 1 − δ.
//   band_moment_test the samples inside the band, rotated so that w becomes e₁, have coordinates 2..d that
//                    under the Gaussian are again N(0, I_{d−1}) (independent of ⟨w, x⟩): moment_test of
//                    degree 2 on them (GKSV test the band's conditional low-degree moments).
//   learn_halfspace  projected SGD on the unit sphere on the non-convex surrogate
//                    L_σ(w) = E[ℓ_σ(−y ⟨w, x⟩/‖w‖)] (GKSV, after Diakonikolas, Kontonis, Tzamos & Zarifis
//                    2020), ℓ_σ a smooth ramp from 0 (t <= −σ) to 1 (t >= σ): widenn uses the C¹ ramp
//                    ℓ_σ(t) = 3s² − 2s³, s = (t + σ)/(2σ) on [−σ, σ]. Only samples in the band |⟨w, x⟩| <= σ
//                    move w, which is why the band is what the testers check. Warm start: the normalised
//                    Chow vector E[y x]. Step size lr/(1 + e) in epoch e = 0, 1, ... (Robbins–Monro).
//   tester_learner   moment test (all samples), learner (first half), band test and band moment test (second
//                    half, independent of the learned w), each test at δ/3; accepts iff all pass.
//
// Guarantee stated by the paper (Massart noise, which includes random classification noise at rate η < 1/2):
// when the tester accepts, the returned halfspace has error opt + ε with probability 1 − δ (and O(opt) + ε
// under adversarial label noise), with poly(d, 1/ε) samples.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <xtensor/xtensor.hpp>

#include <type_traits>

#include "../core/errors.hpp"
#include "../core/rng.hpp"
#include "../core/tensor.hpp"

namespace widenn::learn {

// The functions over samples are templates (T = double, not deduced) only so that a translation unit compiles their
// bodies where it calls them, not wherever this header is included (docs/performance.md).

namespace detail {

// (k − 1)!! for even k (the k-th moment of N(0, 1)), 0 for odd k.
inline double gaussian_moment_1d(int k) {
    if (k % 2) return 0;
    double m = 1;
    for (int j = k - 1; j > 1; j -= 2) m *= j;
    return m;
}

// z with P(|Z| > z) = tail for a standard normal Z (bisection on erfc).
inline double two_sided_quantile(double tail) {
    double lo = 0, hi = 40;
    for (int i = 0; i < 200; ++i) {
        const double mid = 0.5 * (lo + hi);
        (std::erfc(mid / std::sqrt(2.0)) > tail ? lo : hi) = mid;
    }
    return hi;
}

template <class T = double>
inline void check_samples(const matrix<std::type_identity_t<T>>& x, const char* where) {
    require_shape(x, any_size, any_size, where, "samples");
    require(x.shape(0) >= 2 && x.shape(1) >= 1, where, ": need at least 2 samples of dimension >= 1, got ", x.shape(0), " x ", x.shape(1));
    require_finite(x, where, "samples");
}

inline void check_delta(double delta, const char* where) {
    require(delta > 0 && delta < 1, where, ": delta must be in (0, 1), got ", delta);
}

inline std::vector<double> unit(const std::vector<double>& w, std::size_t d, const char* where) {
    require<shape_error>(w.size() == d, where, ": the direction must have the samples' dimension ", d, ", got ", w.size());
    double n2 = 0;
    for (double v : w) n2 += v * v;
    require(std::isfinite(n2) && n2 > 0, where, ": the direction must be nonzero and finite");
    std::vector<double> u(w);
    for (auto& v : u) v /= std::sqrt(n2);
    return u;
}

}  // namespace detail

// ---- moment test ----

struct moment_test_config {
    int degree = 4;       // k: every monomial of total degree 1..k
    double delta = 0.01;  // Gaussian samples fail with probability <= δ (normal approximation, union bound)
};

struct moment_test_result {
    bool pass = false;
    std::size_t monomials = 0;    // M
    double threshold = 0;         // z*
    double worst_z = 0;           // max |z_α|
    std::vector<int> worst;       // the exponents α of the worst monomial
    double worst_empirical = 0, worst_expected = 0;
};

template <class T = double>
inline moment_test_result moment_test(const matrix<std::type_identity_t<T>>& x, const moment_test_config& c = {}) {
    detail::check_samples(x, "learn::moment_test");
    detail::check_delta(c.delta, "learn::moment_test");
    require(c.degree >= 1 && c.degree <= 8, "learn::moment_test: degree must be in 1..8, got ", c.degree);
    const std::size_t n = x.shape(0), d = x.shape(1);
    moment_test_result r;
    // Count monomials of degree 1..k in d variables: C(d + k, k) − 1, guarded against absurd sizes.
    double count = 1;
    for (int j = 1; j <= c.degree; ++j) count = count * static_cast<double>(d + static_cast<std::size_t>(j)) / j;
    require(count - 1 <= 2e6, "learn::moment_test: ", count - 1, " monomials of degree <= ", c.degree, " in dimension ", d,
            " are too many; lower the degree");
    r.monomials = static_cast<std::size_t>(std::llround(count - 1));
    r.threshold = detail::two_sided_quantile(c.delta / static_cast<double>(r.monomials));
    // Depth-first over non-decreasing index tuples i1 <= i2 <= ... (each monomial once), with the product of
    // the chosen coordinates for every sample at each depth.
    std::vector<std::vector<double>> product(static_cast<std::size_t>(c.degree) + 1, std::vector<double>(n, 1.0));
    std::vector<int> alpha(d, 0);
    auto visit = [&](auto&& self, int depth, std::size_t first) -> void {
        for (std::size_t i = first; i < d; ++i) {
            const auto& above = product[static_cast<std::size_t>(depth)];
            auto& here = product[static_cast<std::size_t>(depth) + 1];
            double sum = 0;
            for (std::size_t s = 0; s < n; ++s) {
                here[s] = above[s] * x(s, i);
                sum += here[s];
            }
            ++alpha[i];
            double expected = 1, expected_sq = 1;
            for (std::size_t t = 0; t < d; ++t) {
                expected *= detail::gaussian_moment_1d(alpha[t]);
                expected_sq *= detail::gaussian_moment_1d(2 * alpha[t]);
            }
            const double empirical = sum / static_cast<double>(n);
            const double z = (empirical - expected) / std::sqrt((expected_sq - expected * expected) / static_cast<double>(n));
            if (!(std::abs(z) <= r.worst_z)) {  // also catches a NaN z
                r.worst_z = std::isfinite(z) ? std::abs(z) : std::numeric_limits<double>::infinity();
                r.worst = alpha;
                r.worst_empirical = empirical;
                r.worst_expected = expected;
            }
            if (depth + 1 < c.degree) self(self, depth + 1, i);
            --alpha[i];
        }
    };
    visit(visit, 0, 0);
    r.pass = r.worst_z <= r.threshold;
    return r;
}

// ---- band tests ----

struct band_test_result {
    bool pass = false;
    double empirical = 0;   // P̂(|⟨w, x⟩| <= σ)
    double expected = 0;    // erf(σ/√2)
    double threshold = 0;   // √(ln(2/δ)/(2n))
    std::size_t inside = 0; // samples in the band
};

// The fraction of samples with |⟨w, x⟩| <= σ‖w‖.
template <class T = double>
inline double band_probability(const matrix<std::type_identity_t<T>>& x, const std::vector<double>& w, double sigma) {
    detail::check_samples(x, "learn::band_probability");
    require(std::isfinite(sigma) && sigma > 0, "learn::band_probability: sigma must be positive and finite, got ", sigma);
    const auto u = detail::unit(w, x.shape(1), "learn::band_probability");
    std::size_t inside = 0;
    for (std::size_t s = 0; s < x.shape(0); ++s) {
        double p = 0;
        for (std::size_t i = 0; i < u.size(); ++i) p += u[i] * x(s, i);
        inside += std::abs(p) <= sigma;
    }
    return static_cast<double>(inside) / static_cast<double>(x.shape(0));
}

template <class T = double>
inline band_test_result band_test(const matrix<std::type_identity_t<T>>& x, const std::vector<double>& w, double sigma,
                                   double delta = 0.01) {
    detail::check_delta(delta, "learn::band_test");
    band_test_result r;
    r.empirical = band_probability(x, w, sigma);
    r.inside = static_cast<std::size_t>(std::llround(r.empirical * static_cast<double>(x.shape(0))));
    r.expected = std::erf(sigma / std::sqrt(2.0));
    r.threshold = std::sqrt(std::log(2 / delta) / (2 * static_cast<double>(x.shape(0))));
    r.pass = std::abs(r.empirical - r.expected) <= r.threshold;
    return r;
}

// The samples with |⟨w, x⟩| <= σ, in coordinates where w is e₁ (a Householder reflection), without the
// first coordinate: under N(0, I_d) they are N(0, I_{d−1}) samples.
template <class T = double>
inline matrix<double> band_orthogonal_samples(const matrix<std::type_identity_t<T>>& x, const std::vector<double>& w, double sigma) {
    detail::check_samples(x, "learn::band_orthogonal_samples");
    require(x.shape(1) >= 2, "learn::band_orthogonal_samples: need dimension >= 2, got ", x.shape(1));
    const std::size_t d = x.shape(1);
    const auto u = detail::unit(w, d, "learn::band_orthogonal_samples");
    // H = I − 2 v vᵀ/‖v‖² with v = u − e₁ maps u to e₁ (v = 0 when u = e₁: H = I).
    std::vector<double> v(u);
    v[0] -= 1;
    double vv = 0;
    for (double t : v) vv += t * t;
    std::vector<std::size_t> rows;
    for (std::size_t s = 0; s < x.shape(0); ++s) {
        double p = 0;
        for (std::size_t i = 0; i < d; ++i) p += u[i] * x(s, i);
        if (std::abs(p) <= sigma) rows.push_back(s);
    }
    matrix<double> out = xt::empty<double>({rows.size(), d - 1});
    for (std::size_t r = 0; r < rows.size(); ++r) {
        double vx = 0;
        for (std::size_t i = 0; i < d; ++i) vx += v[i] * x(rows[r], i);
        const double f = vv > 0 ? 2 * vx / vv : 0;
        for (std::size_t i = 1; i < d; ++i) out(r, i - 1) = x(rows[r], i) - f * v[i];
    }
    return out;
}

template <class T = double>
inline moment_test_result band_moment_test(const matrix<std::type_identity_t<T>>& x, const std::vector<double>& w, double sigma,
                                             double delta = 0.01) {
    const matrix<double> inside = band_orthogonal_samples(x, w, sigma);
    require(inside.shape(0) >= 2, "learn::band_moment_test: fewer than 2 samples in the band |<w, x>| <= ", sigma);
    return moment_test(inside, {.degree = 2, .delta = delta});
}

// ---- learner ----

struct halfspace {
    std::vector<double> w;  // unit normal; the prediction is sign⟨w, x⟩ (+1 on the boundary)

    template <class T = double>
    xt::xtensor<int, 1> predict(const matrix<std::type_identity_t<T>>& x) const {
        require_shape(x, any_size, w.size(), "learn::halfspace::predict", "samples");
        xt::xtensor<int, 1> out = xt::empty<int>({x.shape(0)});
        for (std::size_t s = 0; s < x.shape(0); ++s) {
            double p = 0;
            for (std::size_t i = 0; i < w.size(); ++i) p += w[i] * x(s, i);
            out(s) = p >= 0 ? 1 : -1;
        }
        return out;
    }
    // The fraction of samples whose label differs from the prediction.
    template <class T = double>
    double error(const matrix<std::type_identity_t<T>>& x, const xt::xtensor<int, 1>& y) const {
        require<shape_error>(y.size() == x.shape(0), "learn::halfspace::error: expected ", x.shape(0), " labels, got ", y.size());
        const auto p = predict(x);
        std::size_t wrong = 0;
        for (std::size_t s = 0; s < y.size(); ++s) wrong += p(s) != y(s);
        return static_cast<double>(wrong) / static_cast<double>(y.size());
    }
};

struct learner_config {
    double sigma = 0.1;        // band width of the surrogate ℓ_σ
    double lr = 0.05;          // step size of projected SGD in the first epoch; epoch e (from 0) uses lr/(1 + e)
    std::size_t epochs = 20;   // passes over the samples
    std::size_t batch = 64;
    std::uint64_t seed = 0;    // sample order
};

namespace detail {

template <class T = double>
inline void check_labels(const matrix<std::type_identity_t<T>>& x, const xt::xtensor<int, 1>& y, const char* where) {
    require<shape_error>(y.size() == x.shape(0), where, ": expected ", x.shape(0), " labels (one per sample), got ", y.size());
    for (std::size_t s = 0; s < y.size(); ++s)
        require(y(s) == 1 || y(s) == -1, where, ": labels must be +1 or -1, got ", y(s), " at index ", s);
}

// ℓ_σ'(t): derivative of the C¹ ramp 3s² − 2s³, s = (t + σ)/(2σ).
inline double ramp_derivative(double t, double sigma) {
    if (t <= -sigma || t >= sigma) return 0;
    const double s = (t + sigma) / (2 * sigma);
    return 6 * s * (1 - s) / (2 * sigma);
}

}  // namespace detail

// The surrogate L_σ(w) = mean ℓ_σ(−y ⟨w, x⟩/‖w‖).
template <class T = double>
inline double surrogate_loss(const matrix<std::type_identity_t<T>>& x, const xt::xtensor<int, 1>& y, const std::vector<double>& w,
                             double sigma) {
    detail::check_samples(x, "learn::surrogate_loss");
    detail::check_labels(x, y, "learn::surrogate_loss");
    const auto u = detail::unit(w, x.shape(1), "learn::surrogate_loss");
    double total = 0;
    for (std::size_t s = 0; s < x.shape(0); ++s) {
        double p = 0;
        for (std::size_t i = 0; i < u.size(); ++i) p += u[i] * x(s, i);
        const double t = -y(s) * p;
        if (t >= sigma) total += 1;
        else if (t > -sigma) {
            const double q = (t + sigma) / (2 * sigma);
            total += q * q * (3 - 2 * q);
        }
    }
    return total / static_cast<double>(x.shape(0));
}

template <class T = double>
inline halfspace learn_halfspace(const matrix<std::type_identity_t<T>>& x, const xt::xtensor<int, 1>& y,
                                 const learner_config& c = {}) {
    detail::check_samples(x, "learn::learn_halfspace");
    detail::check_labels(x, y, "learn::learn_halfspace");
    require(std::isfinite(c.sigma) && c.sigma > 0, "learn::learn_halfspace: sigma must be positive and finite, got ", c.sigma);
    require(std::isfinite(c.lr) && c.lr > 0, "learn::learn_halfspace: lr must be positive and finite, got ", c.lr);
    require(c.batch >= 1 && c.epochs >= 1, "learn::learn_halfspace: batch and epochs must be >= 1");
    const std::size_t n = x.shape(0), d = x.shape(1);
    // Warm start: the Chow vector E[y x] (for a halfspace under the Gaussian it points along w* up to noise).
    std::vector<double> w(d, 0.0);
    for (std::size_t s = 0; s < n; ++s)
        for (std::size_t i = 0; i < d; ++i) w[i] += y(s) * x(s, i);
    double n2 = 0;
    for (double v : w) n2 += v * v;
    if (n2 == 0) w[0] = 1, n2 = 1;
    for (auto& v : w) v /= std::sqrt(n2);
    rng order(c.seed);
    std::vector<std::size_t> perm(n);
    for (std::size_t i = 0; i < n; ++i) perm[i] = i;
    std::vector<double> g(d);
    for (std::size_t epoch = 0; epoch < c.epochs; ++epoch) {
        for (std::size_t i = n; i > 1; --i) std::swap(perm[i - 1], perm[order.below(i)]);
        for (std::size_t start = 0; start < n; start += c.batch) {
            const std::size_t end = std::min(n, start + c.batch);
            std::fill(g.begin(), g.end(), 0.0);
            for (std::size_t b = start; b < end; ++b) {
                const std::size_t s = perm[b];
                double p = 0;
                for (std::size_t i = 0; i < d; ++i) p += w[i] * x(s, i);
                const double slope = detail::ramp_derivative(-y(s) * p, c.sigma);
                if (slope == 0) continue;
                // ∇_w ℓ_σ(−y⟨w, x⟩/‖w‖) at ‖w‖ = 1: −ℓ' y (x − ⟨w, x⟩ w), already tangent to the sphere.
                for (std::size_t i = 0; i < d; ++i) g[i] -= slope * y(s) * (x(s, i) - p * w[i]);
            }
            const double scale = c.lr / (1.0 + static_cast<double>(epoch)) / static_cast<double>(end - start);
            double norm2 = 0;
            for (std::size_t i = 0; i < d; ++i) {
                w[i] -= scale * g[i];
                norm2 += w[i] * w[i];
            }
            for (auto& v : w) v /= std::sqrt(norm2);  // projection back onto the sphere
        }
    }
    return {w};
}

// ---- the tester-learner ----

struct tester_learner_config {
    int degree = 4;        // moment test degree
    double delta = 0.03;   // split evenly over the three tests
    learner_config learner{};
};

struct tester_learner_result {
    bool accepted = false;
    std::string reason;        // which test rejected, or "accepted"
    halfspace h;               // the learned halfspace (also returned when a later test rejects)
    moment_test_result moments;
    band_test_result band;
    moment_test_result band_moments;
    double training_error = 0;
};

template <class T = double>
inline tester_learner_result tester_learner(const matrix<std::type_identity_t<T>>& x, const xt::xtensor<int, 1>& y,
                                            const tester_learner_config& c = {}) {
    detail::check_samples(x, "learn::tester_learner");
    detail::check_labels(x, y, "learn::tester_learner");
    detail::check_delta(c.delta, "learn::tester_learner");
    tester_learner_result r;
    r.moments = moment_test(x, {.degree = c.degree, .delta = c.delta / 3});
    if (!r.moments.pass) {
        r.reason = "moment test: a moment of degree <= " + std::to_string(c.degree) + " is " + std::to_string(r.moments.worst_z) +
                   " standard errors from the Gaussian's (threshold " + std::to_string(r.moments.threshold) + ")";
        return r;
    }
    // The learner sees the first half of the samples, the band testers the second: their thresholds assume
    // samples independent of the direction w they are centred on.
    const std::size_t n = x.shape(0), half = n / 2, d = x.shape(1);
    require(half >= 2, "learn::tester_learner: need at least 4 samples, got ", n);
    const matrix<double> learn_x = row_block(x, 0, half), test_x = row_block(x, half, n);
    xt::xtensor<int, 1> learn_y = xt::empty<int>({half});
    std::copy(y.data(), y.data() + half, learn_y.data());
    r.h = learn_halfspace(learn_x, learn_y, c.learner);
    r.training_error = r.h.error(learn_x, learn_y);
    r.band = band_test(test_x, r.h.w, c.learner.sigma, c.delta / 3);
    if (!r.band.pass) {
        r.reason = "band test: P(|<w, x>| <= sigma) = " + std::to_string(r.band.empirical) + ", Gaussian " + std::to_string(r.band.expected);
        return r;
    }
    if (d >= 2) {
        r.band_moments = band_moment_test(test_x, r.h.w, c.learner.sigma, c.delta / 3);
        if (!r.band_moments.pass) {
            r.reason = "band moment test: second moments orthogonal to w inside the band differ from the Gaussian's";
            return r;
        }
    } else {
        r.band_moments.pass = true;
    }
    r.accepted = true;
    r.reason = "accepted";
    return r;
}

}  // namespace widenn::learn
