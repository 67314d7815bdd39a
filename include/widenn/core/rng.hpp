#pragma once
// Deterministic random numbers: results depend only on the seed (not on the platform's
// std::normal_distribution, which differs between standard libraries).
#include <cmath>
#include <cstdint>
#include <numbers>

namespace widenn {

// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast, passes BigCrush; used to seed and to draw.
class rng {
public:
    explicit constexpr rng(std::uint64_t seed = 0) : state_(seed) {}

    constexpr std::uint64_t next_u64() {
        std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31);
    }
    // Uniform in [0, 1) with 53 random bits.
    double uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }
    // Uniform in (0, 1]: safe to take the logarithm of.
    double uniform_open0() { return 1.0 - uniform(); }
    // Standard normal by Box-Muller; the second value is cached.
    double normal() {
        if (has_spare_) {
            has_spare_ = false;
            return spare_;
        }
        const double radius = std::sqrt(-2.0 * std::log(uniform_open0()));
        const double angle = 2.0 * std::numbers::pi * uniform();
        spare_ = radius * std::sin(angle);
        has_spare_ = true;
        return radius * std::cos(angle);
    }
    // Uniform integer in [0, n) (n > 0), by rejection to avoid modulo bias.
    std::uint64_t below(std::uint64_t n) {
        const std::uint64_t limit = UINT64_MAX - UINT64_MAX % n;
        std::uint64_t x;
        do x = next_u64(); while (x >= limit);
        return x % n;
    }
    // An independent stream derived from this seed and a stream index (layers, seeds, threads).
    static constexpr rng stream(std::uint64_t seed, std::uint64_t index) {
        rng mix(seed ^ (0xD1B54A32D192ED03ULL * (index + 1)));
        return rng(mix.next_u64());
    }

private:
    std::uint64_t state_;
    double spare_ = 0.0;
    bool has_spare_ = false;
};

}  // namespace widenn
