#pragma once
// Learning-rate schedules: small value types mapping an epoch e = 1..E to a rate, usable with every
// optimiser through its set_lr (nn::sgd, nn::adam, nn::adamw, or anything else with set_lr(double)).
//
// Every schedule is built from a schedule_config {epochs E, max_lr, min_lr, warmup W} with
// 0 <= min_lr <= max_lr, max_lr > 0, E >= 1 and 0 <= W < E. During the warm-up, epochs e = 1..W, every
// schedule rises linearly: lr = min_lr + (max_lr − min_lr)·e/W (so epoch W runs at max_lr). After it, the
// schedule runs over the remaining E' = E − W epochs with the shifted epoch e' = e − W = 1..E':
//
//   constant       lr = max_lr
//   step           lr = max(max_lr·γ^⌊(e'−1)/s⌋, min_lr)             (step every s epochs by the factor γ)
//   cosine         lr = min_lr + (max_lr − min_lr)·(1 + cos(π (e'−1)/(E'−1)))/2   (max_lr at e' = 1,
//                  min_lr at e' = E'; Loshchilov & Hutter 2017, without restarts; E' = 1 gives max_lr)
//   cosine_power   sharpDARTS' cosine power annealing (Hundt, Jain & Hager 2019, section "Cosine Power
//                  Annealing"), below.
//
// Cosine power annealing with exponent p >= 1. With c(e') = (1 + cos(π e'/E'))/2 (the first half of a
// cosine, from 1 at e' = 0 to 0 at e' = E') and
//     f(c) = p^{c+1}   (p > 1),        f(c) = c   (p = 1, plain cosine annealing),
// the curve is min/max normalised over all epochs of the schedule, e' = 1−W..E' (the warm-up epochs
// included, as sharpDARTS normalises the whole array before it overwrites the warm-up entries):
//     s(e') = (f(c(e')) − min f) / (max f − min f),        lr = min_lr + (max_lr − min_lr)·s(e').
// Without warm-up the maximum is at e' = 1 and the minimum at e' = E', so lr(1) = max_lr, lr(E) = min_lr
// and s = (p^{c(e)+1} − p)/(p^{c(1)+1} − p). With a warm-up (W >= 1) the maximum is f(c(0)) = f(1) = p²
// (at the last warm-up epoch, whose rate is then replaced by the warm-up's), so the first annealing epoch
// starts slightly below max_lr: s = (p^{c(e')+1} − p)/(p² − p) when W − 1 <= E'. A larger p decays faster at
// the start (towards exponential decay); p = 1 is cosine annealing sampled at e'/E'. One epoch without
// warm-up (E = 1) has no range to normalise; it runs at max_lr.
#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <limits>
#include <numbers>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../core/errors.hpp"

namespace widenn::nn {

struct schedule_config {
    std::size_t epochs = 1;   // E
    double max_lr = 0.1;
    double min_lr = 0.0;
    std::size_t warmup = 0;   // W: epochs of linear warm-up from min_lr to max_lr, W < E
};

// The largest E a schedule accepts (cosine_power scans all epochs once at construction).
inline constexpr std::size_t max_schedule_epochs = 100'000'000;

namespace detail {

inline void check_schedule(const schedule_config& c, const char* where) {
    require(c.epochs >= 1 && c.epochs <= max_schedule_epochs, where, ": epochs must be in 1..", max_schedule_epochs, ", got ", c.epochs);
    require(std::isfinite(c.max_lr) && c.max_lr > 0, where, ": max_lr must be positive and finite, got ", c.max_lr);
    require(std::isfinite(c.min_lr) && c.min_lr >= 0, where, ": min_lr must be >= 0 and finite, got ", c.min_lr);
    require(c.min_lr <= c.max_lr, where, ": min_lr must be <= max_lr, got min_lr = ", c.min_lr, " > max_lr = ", c.max_lr);
    require(c.warmup < c.epochs, where, ": warmup must be smaller than epochs (", c.epochs, "), got ", c.warmup);
}

inline std::size_t check_epoch(std::size_t e, const schedule_config& c, const char* where) {
    if (e < 1 || e > c.epochs) fail<shape_error>(where, ": epoch must be in 1..", c.epochs, ", got ", e);
    return e;
}

// Warm-up rate for e <= W (W >= 1).
inline double warmup_lr(std::size_t e, const schedule_config& c) {
    return c.min_lr + (c.max_lr - c.min_lr) * static_cast<double>(e) / static_cast<double>(c.warmup);
}

}  // namespace detail

// A schedule S: S(e) for e = 1..S::config().epochs, S::name.
template <class S>
concept LearningRateSchedule = requires(const S s, std::size_t e) {
    { s(e) } -> std::convertible_to<double>;
    { s.config() } -> std::convertible_to<schedule_config>;
    { S::name } -> std::convertible_to<std::string_view>;
};

struct constant_schedule {
    static constexpr std::string_view name = "constant";
    explicit constant_schedule(const schedule_config& c) : c_(c) { detail::check_schedule(c_, "nn::constant_schedule"); }
    const schedule_config& config() const { return c_; }
    double operator()(std::size_t e) const {
        detail::check_epoch(e, c_, "nn::constant_schedule");
        return e <= c_.warmup ? detail::warmup_lr(e, c_) : c_.max_lr;
    }

private:
    schedule_config c_;
};

struct step_schedule {
    static constexpr std::string_view name = "step";
    // Multiplies the rate by gamma in (0, 1] every step_epochs epochs after the warm-up, never below min_lr.
    step_schedule(const schedule_config& c, std::size_t step_epochs, double gamma) : c_(c), step_(step_epochs), gamma_(gamma) {
        detail::check_schedule(c_, "nn::step_schedule");
        require(step_epochs >= 1, "nn::step_schedule: step_epochs must be >= 1, got ", step_epochs);
        require(std::isfinite(gamma) && gamma > 0 && gamma <= 1, "nn::step_schedule: gamma must be in (0, 1], got ", gamma);
    }
    const schedule_config& config() const { return c_; }
    std::size_t step_epochs() const { return step_; }
    double gamma() const { return gamma_; }
    double operator()(std::size_t e) const {
        detail::check_epoch(e, c_, "nn::step_schedule");
        if (e <= c_.warmup) return detail::warmup_lr(e, c_);
        const std::size_t steps = (e - c_.warmup - 1) / step_;
        return std::max(c_.max_lr * std::pow(gamma_, static_cast<double>(steps)), c_.min_lr);
    }

private:
    schedule_config c_;
    std::size_t step_;
    double gamma_;
};

struct cosine_schedule {
    static constexpr std::string_view name = "cosine";
    explicit cosine_schedule(const schedule_config& c) : c_(c) { detail::check_schedule(c_, "nn::cosine_schedule"); }
    const schedule_config& config() const { return c_; }
    double operator()(std::size_t e) const {
        detail::check_epoch(e, c_, "nn::cosine_schedule");
        if (e <= c_.warmup) return detail::warmup_lr(e, c_);
        const std::size_t span = c_.epochs - c_.warmup;  // E' >= 1
        if (span == 1) return c_.max_lr;
        const double t = static_cast<double>(e - c_.warmup - 1) / static_cast<double>(span - 1);
        return c_.min_lr + (c_.max_lr - c_.min_lr) * 0.5 * (1.0 + std::cos(std::numbers::pi * t));
    }

private:
    schedule_config c_;
};

struct cosine_power_schedule {
    static constexpr std::string_view name = "cosine-power";
    // sharpDARTS' default exponent is 10.
    explicit cosine_power_schedule(const schedule_config& c, double exponent = 10.0) : c_(c), p_(exponent) {
        detail::check_schedule(c_, "nn::cosine_power_schedule");
        require(std::isfinite(exponent) && exponent >= 1, "nn::cosine_power_schedule: exponent must be >= 1 and finite, got ", exponent);
        // min/max of f over every epoch of the schedule, e' = 1-W..E'.
        lo_ = std::numeric_limits<double>::infinity();
        hi_ = -lo_;
        for (std::size_t e = 1; e <= c_.epochs; ++e) {
            const double v = curve(e);
            lo_ = std::min(lo_, v);
            hi_ = std::max(hi_, v);
        }
    }
    const schedule_config& config() const { return c_; }
    double exponent() const { return p_; }
    double operator()(std::size_t e) const {
        detail::check_epoch(e, c_, "nn::cosine_power_schedule");
        if (e <= c_.warmup) return detail::warmup_lr(e, c_);
        if (!(hi_ > lo_)) return c_.max_lr;  // a single epoch: nothing to normalise
        const double s = (curve(e) - lo_) / (hi_ - lo_);
        return c_.min_lr + (c_.max_lr - c_.min_lr) * s;
    }
    // The un-normalised curve f(c(e')) at epoch e (e' = e − W).
    double curve(std::size_t e) const {
        const double shifted = static_cast<double>(e) - static_cast<double>(c_.warmup);
        const double span = static_cast<double>(c_.epochs - c_.warmup);
        const double c = 0.5 * (1.0 + std::cos(std::numbers::pi * shifted / span));
        return p_ == 1.0 ? c : std::pow(p_, c + 1.0);
    }

private:
    schedule_config c_;
    double p_;
    double lo_ = 0, hi_ = 0;
};

// Every rate of a schedule, epochs 1..E.
template <LearningRateSchedule S>
std::vector<double> rates(const S& s) {
    std::vector<double> out;
    out.reserve(s.config().epochs);
    for (std::size_t e = 1; e <= s.config().epochs; ++e) out.push_back(s(e));
    return out;
}

// Drives any optimiser with set_lr(double) and step(g) from outside: call at(e) at the start of epoch e
// (or of step e, if the schedule counts steps), then step(g) as often as the epoch has batches. The
// schedule's rate becomes the optimiser's base rate η; the parametrization's per-layer factors still
// multiply it. Optimisers refuse a zero rate, which a schedule with min_lr = 0 reaches at its last
// epoch: then step(g) leaves the parameters and the optimiser's state untouched (a step with rate 0).
template <class Optimizer, LearningRateSchedule S>
class scheduled {
public:
    scheduled(Optimizer& opt, S schedule) : opt_(&opt), schedule_(std::move(schedule)) {}
    double at(std::size_t epoch) {
        lr_ = schedule_(epoch);
        if (lr_ > 0) opt_->set_lr(lr_);
        return lr_;
    }
    template <class Gradients>
    void step(const Gradients& g) {
        require(lr_ >= 0, "nn::scheduled::step: call at(epoch) before the first step");
        if (lr_ > 0) opt_->step(g);
    }
    double lr() const { return lr_; }
    const S& schedule() const { return schedule_; }
    Optimizer& optimizer() { return *opt_; }

private:
    Optimizer* opt_;
    S schedule_;
    double lr_ = -1;
};

}  // namespace widenn::nn
