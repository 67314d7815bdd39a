#pragma once
// Haar-measure Monte Carlo (docs/theory/lie-groups.md §3-4): importance-weighted integrals over a whole group, and invariant
// integrals over a compact region given as a box in chart coordinates, each with its standard error.
#include <cmath>
#include <cstdint>
#include <vector>

#include "group.hpp"

namespace widenn::lie {

// A Monte Carlo estimate: value ± standard_error (one standard deviation of the estimator).
struct mc_estimate {
    double value = 0;
    double standard_error = 0;
    std::size_t samples = 0;
};

namespace detail {
struct running_mean {
    double mean = 0, m2 = 0;
    std::size_t count = 0;
    void add(double x) {  // Welford
        ++count;
        const double d = x - mean;
        mean += d / static_cast<double>(count);
        m2 += d * (x - mean);
    }
    mc_estimate estimate() const {
        const double var = count > 1 ? m2 / static_cast<double>(count - 1) : 0.0;
        return {mean, std::sqrt(var / static_cast<double>(count)), count};
    }
};
}  // namespace detail

// Draws `count` weighted samples from G::sample (deterministic for a seed).
template <LieGroup G>
std::vector<weighted<G>> sample_weighted(std::size_t count, std::uint64_t seed, typename G::scalar sigma = typename G::scalar(0.5)) {
    require(count > 0, "lie::sample_weighted: count must be positive, got 0");
    rng gen(seed);
    std::vector<weighted<G>> out;
    out.reserve(count);
    for (std::size_t i = 0; i < count; ++i) out.push_back(G::sample(gen, sigma));
    return out;
}

// ∫_G f dμ by importance sampling with G::sample: the mean of weight·f(g). The Haar measure of GL+ and SL is infinite,
// so f must decay in the SPD directions faster than the weights grow (see docs/lie.md).
template <LieGroup G, class F>
mc_estimate integrate(F&& f, std::size_t samples, std::uint64_t seed, typename G::scalar sigma = typename G::scalar(0.5)) {
    require(samples > 1, "lie::integrate: need at least 2 samples for an error estimate, got ", samples);
    rng gen(seed);
    detail::running_mean acc;
    for (std::size_t i = 0; i < samples; ++i) {
        const auto s = G::sample(gen, sigma);
        acc.add(static_cast<double>(s.weight) * static_cast<double>(f(s.element)));
    }
    return acc.estimate();
}

// ∫ over the region {g : chart(g) in [-a, a]^dof} of f dμ: z uniform in the box, estimator (2a)^dof e^{ρ(z)} f(g(z))
// with ρ = G::haar_log_density; points outside the chart's domain (rotation angle > π) contribute 0, so the region is
// counted once.
template <LieGroup G, class F>
mc_estimate integrate_region(F&& f, typename G::scalar half_width, std::size_t samples, std::uint64_t seed) {
    using T = typename G::scalar;
    require(samples > 1, "lie::integrate_region: need at least 2 samples for an error estimate, got ", samples);
    require(half_width > 0 && std::isfinite(half_width), "lie::integrate_region: half_width must be positive and finite, got ", half_width);
    rng gen(seed);
    const double box = std::pow(2.0 * static_cast<double>(half_width), static_cast<double>(G::dof));
    detail::running_mean acc;
    for (std::size_t i = 0; i < samples; ++i) {
        typename G::tangent z{};
        for (auto& c : z) c = static_cast<T>(half_width * (2 * gen.uniform() - 1));
        if (!G::in_chart_domain(z)) {
            acc.add(0.0);
            continue;
        }
        acc.add(box * std::exp(static_cast<double>(G::haar_log_density(z))) * static_cast<double>(f(G::from_chart(z))));
    }
    return acc.estimate();
}

}  // namespace widenn::lie
