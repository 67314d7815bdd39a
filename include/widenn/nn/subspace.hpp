#pragma once
// Training in a random subspace (Li, Farkhoor, Liu & Yosinski 2018, "Measuring the Intrinsic Dimension of
// Objective Landscapes", §2): the D parameters θ of a network move only inside a random d-dimensional
// affine subspace,
//
//     θ = θ₀ + S P θ_d,        ∇_{θ_d} loss = Pᵀ S ∇_θ loss,
//
// with θ₀ the initial parameters, P a fixed random D × d projection and S a diagonal per-tensor scaling
// (below). The intrinsic dimension d_int90 is the smallest d whose subspace training reaches 90 % of the
// performance of ordinary training (Li et al. §2).
//
// Projections (generated from a seed; only what a product needs is stored):
//   identity  P = I (d = D): ordinary training, as a check of the machinery.
//   dense     i.i.d. N(0, 1) entries, every column normalised to unit length (Li et al. §2). Stored: D·d
//             numbers, so it is limited to D·d <= 2^25; use sparse or fastfood beyond.
//   sparse    very sparse random projection (Li, Hastie & Church 2006; Li et al. 2018 §S7): each entry is
//             nonzero with probability 1/√D with a random sign; each column is then normalised to unit
//             length (all its nonzeros are ±1/√k for a column with k nonzeros). Stored: about d·√D entries.
//   fastfood  P = first D rows and d columns of s·H G Π H B (Le, Sarlós & Smola 2013; Li et al. §S7), n = the
//             smallest power of two >= D, H the n × n Walsh–Hadamard matrix (entries ±1, never formed: a fast
//             Walsh–Hadamard transform costs n log₂ n additions), B random signs, Π a random permutation,
//             G i.i.d. N(0, 1) on the diagonal and s = 1/√(D ‖g‖²). Every column of the untruncated n × n
//             matrix has squared norm n ‖g‖² s² = n/D, so for D = n every column has norm exactly 1, and for
//             D < n the columns' squared norms average 1 (each of the n rows contributes ‖g‖² s² in
//             expectation). Stored: 2n + d numbers; a product costs one transform of length n and one of
//             length 2^⌈log₂ d⌉ (see fastfood_projection::apply).
//
// Per-tensor scaling S (the parametrization's per-layer learning rates, nn/optim.hpp): in θ_d the
// optimiser sees one tensor, so the per-layer rates are moved into the map. With P = I,
//   subspace_scaling::sgd   S = √(sgd_lr) per tensor: SGD with rate η on θ_d moves θ by −η S² ∇θ, i.e. by
//                           ordinary per-layer SGD;
//   subspace_scaling::adam  S = adam_lr per tensor: Adam's update is invariant under rescaling of its
//                           gradient (up to ε), so θ moves by S times a unit-rate Adam step, i.e. by
//                           ordinary per-layer Adam;
//   subspace_scaling::none  S = 1.
// For P ≠ I the same S sets the relative speed of the layers inside the subspace.
//
// The identity projection stores θ₀ in the subspace coordinate (θ = 0 + S·ψ with ψ₀ = S⁻¹θ₀, reported
// θ_d = ψ − ψ₀); with S = 1 (ñ = 1 or scaling none) every step then computes exactly what the optimiser
// computes on the network itself, so training with P = I equals ordinary training bit for bit.
//
// The class nn::subspace<Net> presents θ_d to the optimisers of nn/optim.hpp as a network with one
// 1 × d weight tensor and no bias, so nn::sgd, nn::adam and nn::adamw (with momentum, weight decay and
// clipping, all acting on θ_d) work unchanged:
//
//   nn::subspace sub(net, nn::make_projection(nn::projection_kind::fastfood, net.parameter_count(), 1000, 7),
//                    nn::subspace_scaling::adam);
//   nn::adam opt(sub, {.lr = 1e-2});
//   for (...) nn::subspace_train_step<nn::softmax_cross_entropy>(sub, opt, x, labels, dout);
//
// Net is any network with nn::mlp's parameter access: Net::layers, weight(l), bias(l) (l = 1..layers),
// weight_scaling(l), bias_scaling(l), forward(x) and backward(x, dout).
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <numeric>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "../core/errors.hpp"
#include "../core/rng.hpp"
#include "../core/tensor.hpp"
#include "mlp.hpp"

namespace widenn::nn {

// ---- fast Walsh–Hadamard transform ----

// x ← H x in place, H the n × n Sylvester Hadamard matrix H_ij = (−1)^{popcount(i & j)} (unnormalised,
// H² = n I). n must be a power of two. n log₂ n additions and subtractions.
template <class T>
void fwht(T* x, std::size_t n) {
    require(n >= 1 && std::has_single_bit(n), "nn::fwht: the length must be a power of two, got ", n);
    // Two butterfly levels (h and 2h) per pass over the data: the same additions as one level at a time,
    // in the same order for every element, with half the memory traffic.
    std::size_t h = 1;
    for (; 4 * h <= n; h *= 4)
        for (std::size_t i = 0; i < n; i += 4 * h)
            for (std::size_t j = i; j < i + h; ++j) {
                const T a = x[j], b = x[j + h], c = x[j + 2 * h], d = x[j + 3 * h];
                const T ab = a + b, amb = a - b, cd = c + d, cmd = c - d;
                x[j] = ab + cd;
                x[j + h] = amb + cmd;
                x[j + 2 * h] = ab - cd;
                x[j + 3 * h] = amb - cmd;
            }
    if (2 * h <= n)
        for (std::size_t j = 0; j < h; ++j) {
            const T a = x[j], b = x[j + h];
            x[j] = a + b;
            x[j + h] = a - b;
        }
}

inline std::size_t next_power_of_two(std::size_t n) { return std::bit_ceil(std::max<std::size_t>(n, 1)); }

// ---- projections ----

enum class projection_kind { identity, dense, sparse, fastfood };

inline std::string_view to_string(projection_kind k) {
    switch (k) {
        case projection_kind::identity: return "identity";
        case projection_kind::dense: return "dense";
        case projection_kind::sparse: return "sparse";
        case projection_kind::fastfood: return "fastfood";
    }
    return "?";
}

inline constexpr std::size_t max_dense_projection_entries = std::size_t{1} << 25;

namespace detail {

inline void check_projection_dims(std::size_t D, std::size_t d, const char* where) {
    require(D >= 1, where, ": the full dimension D must be >= 1, got ", D);
    require(d >= 1, where, ": the subspace dimension d must be >= 1, got ", d);
    require(d <= D, where, ": the subspace dimension d must be <= the full dimension D = ", D, ", got d = ", d);
}

}  // namespace detail

// Every projection: full_dimension() = D, dimension() = d, apply(x, y): y = P x (x has d entries, y D),
// apply_transpose(g, z): z = Pᵀ g (g has D entries, z d). Buffers are caller-owned doubles.

class identity_projection {
public:
    explicit identity_projection(std::size_t D) : D_(D) { detail::check_projection_dims(D, D, "nn::identity_projection"); }
    std::size_t full_dimension() const { return D_; }
    std::size_t dimension() const { return D_; }
    void apply(const double* x, double* y) const { std::copy(x, x + D_, y); }
    void apply_transpose(const double* g, double* z) const { std::copy(g, g + D_, z); }

private:
    std::size_t D_;
};

class dense_projection {
public:
    dense_projection(std::size_t D, std::size_t d, std::uint64_t seed) : D_(D), d_(d) {
        detail::check_projection_dims(D, d, "nn::dense_projection");
        require(D <= max_dense_projection_entries / d, "nn::dense_projection: D·d = ", D, "·", d, " exceeds ", max_dense_projection_entries,
                " stored entries; use a sparse or fastfood projection");
        columns_.resize(D * d);
        for (std::size_t j = 0; j < d; ++j) {
            rng gen = rng::stream(seed, j);
            double* c = columns_.data() + j * D;
            double norm2 = 0;
            do {
                norm2 = 0;
                for (std::size_t i = 0; i < D; ++i) {
                    c[i] = gen.normal();
                    norm2 += c[i] * c[i];
                }
            } while (norm2 == 0);
            const double inv = 1.0 / std::sqrt(norm2);
            for (std::size_t i = 0; i < D; ++i) c[i] *= inv;
        }
    }
    std::size_t full_dimension() const { return D_; }
    std::size_t dimension() const { return d_; }
    const double* column(std::size_t j) const { return columns_.data() + j * D_; }
    void apply(const double* x, double* y) const {
        std::fill(y, y + D_, 0.0);
        for (std::size_t j = 0; j < d_; ++j) {
            const double* c = column(j);
            const double xj = x[j];
            for (std::size_t i = 0; i < D_; ++i) y[i] += xj * c[i];
        }
    }
    void apply_transpose(const double* g, double* z) const {
        for (std::size_t j = 0; j < d_; ++j) {
            const double* c = column(j);
            double s = 0;
            for (std::size_t i = 0; i < D_; ++i) s += c[i] * g[i];
            z[j] = s;
        }
    }

private:
    std::size_t D_, d_;
    std::vector<double> columns_;  // column-major, D × d
};

class sparse_projection {
public:
    sparse_projection(std::size_t D, std::size_t d, std::uint64_t seed) : D_(D), d_(d) {
        detail::check_projection_dims(D, d, "nn::sparse_projection");
        const double p = 1.0 / std::sqrt(static_cast<double>(D));
        start_.reserve(d + 1);
        start_.push_back(0);
        for (std::size_t j = 0; j < d; ++j) {
            rng gen = rng::stream(seed, j);
            const std::size_t first = rows_.size();
            while (rows_.size() == first) {  // redraw a column that came out empty
                if (p >= 1) {
                    for (std::size_t i = 0; i < D; ++i) push(i, gen);
                    continue;
                }
                // Gaps between nonzeros are geometric: O(nonzeros) draws instead of D.
                const double log_q = std::log1p(-p);
                double position = -1;
                while (true) {
                    position += 1 + std::floor(std::log(gen.uniform_open0()) / log_q);
                    if (position >= static_cast<double>(D)) break;
                    push(static_cast<std::size_t>(position), gen);
                }
            }
            const std::size_t k = rows_.size() - first;
            const double scale = 1.0 / std::sqrt(static_cast<double>(k));
            for (std::size_t t = first; t < rows_.size(); ++t) values_[t] *= scale;
            start_.push_back(rows_.size());
        }
    }
    std::size_t full_dimension() const { return D_; }
    std::size_t dimension() const { return d_; }
    std::size_t nonzeros() const { return rows_.size(); }
    void apply(const double* x, double* y) const {
        std::fill(y, y + D_, 0.0);
        for (std::size_t j = 0; j < d_; ++j)
            for (std::size_t t = start_[j]; t < start_[j + 1]; ++t) y[rows_[t]] += values_[t] * x[j];
    }
    void apply_transpose(const double* g, double* z) const {
        for (std::size_t j = 0; j < d_; ++j) {
            double s = 0;
            for (std::size_t t = start_[j]; t < start_[j + 1]; ++t) s += values_[t] * g[rows_[t]];
            z[j] = s;
        }
    }

private:
    void push(std::size_t row, rng& gen) {
        rows_.push_back(row);
        values_.push_back(gen.next_u64() >> 63 ? 1.0 : -1.0);
    }
    std::size_t D_, d_;
    std::vector<std::size_t> start_, rows_;  // compressed columns
    std::vector<double> values_;
};

class fastfood_projection {
public:
    fastfood_projection(std::size_t D, std::size_t d, std::uint64_t seed)
        : D_(D), d_(d), n_(next_power_of_two(D)), m_(next_power_of_two(d)) {
        detail::check_projection_dims(D, d, "nn::fastfood_projection");
        rng gen = rng::stream(seed, 0);
        signs_.resize(d_);
        gauss_.resize(n_);
        perm_.resize(n_);
        for (auto& b : signs_) b = gen.next_u64() >> 63 ? 1.0 : -1.0;
        std::iota(perm_.begin(), perm_.end(), std::size_t{0});
        for (std::size_t i = n_; i > 1; --i) std::swap(perm_[i - 1], perm_[gen.below(i)]);
        double norm2 = 0;
        do {
            norm2 = 0;
            for (auto& g : gauss_) {
                g = gen.normal();
                norm2 += g * g;
            }
        } while (norm2 == 0);
        scale_ = 1.0 / std::sqrt(static_cast<double>(D) * norm2);
        work_.resize(n_);
        small_.resize(m_);
    }
    std::size_t full_dimension() const { return D_; }
    std::size_t dimension() const { return d_; }
    std::size_t padded_dimension() const { return n_; }
    // y = s·(H G Π H B [x; 0])[0..D). B x is supported on the first m = 2^⌈log₂ d⌉ entries, and there
    // H_n restricted to those columns is H_m tiled n/m times (i & j = (i mod m) & j for j < m), so the
    // first transform costs m log m; the second is the full n log n.
    void apply(const double* x, double* y) const {
        double* w = small_.data();
        for (std::size_t i = 0; i < d_; ++i) w[i] = signs_[i] * x[i];
        std::fill(w + d_, w + m_, 0.0);
        fwht(w, m_);
        double* v = work_.data();
        const std::size_t mask = m_ - 1;
        for (std::size_t i = 0; i < n_; ++i) v[i] = gauss_[i] * w[perm_[i] & mask];
        fwht(v, n_);
        for (std::size_t i = 0; i < D_; ++i) y[i] = scale_ * v[i];
    }
    // z = s·(B H Πᵀ G H [g; 0])[0..d). Only the first m outputs of the last H are needed: they are H_m applied
    // to the sum of the n/m blocks of length m (the transpose of the tiling above).
    void apply_transpose(const double* g, double* z) const {
        double* w = work_.data();
        std::copy(g, g + D_, w);
        std::fill(w + D_, w + n_, 0.0);
        fwht(w, n_);
        double* v = small_.data();
        std::fill(v, v + m_, 0.0);
        const std::size_t mask = m_ - 1;
        for (std::size_t i = 0; i < n_; ++i) v[perm_[i] & mask] += gauss_[i] * w[i];
        fwht(v, m_);
        for (std::size_t i = 0; i < d_; ++i) z[i] = scale_ * signs_[i] * v[i];
    }

private:
    std::size_t D_, d_, n_, m_;
    std::vector<double> signs_, gauss_;
    std::vector<std::size_t> perm_;
    double scale_ = 1;
    mutable std::vector<double> work_, small_;  // scratch: a projection is not shared between threads
};

// Any of the four, chosen at run time.
class projection {
public:
    template <class P>
        requires(!std::is_same_v<std::remove_cvref_t<P>, projection>)
    projection(P p) : p_(std::move(p)) {}

    projection_kind kind() const { return static_cast<projection_kind>(p_.index()); }
    std::size_t full_dimension() const { return std::visit([](const auto& p) { return p.full_dimension(); }, p_); }
    std::size_t dimension() const { return std::visit([](const auto& p) { return p.dimension(); }, p_); }
    void apply(const double* x, double* y) const { std::visit([&](const auto& p) { p.apply(x, y); }, p_); }
    void apply_transpose(const double* g, double* z) const { std::visit([&](const auto& p) { p.apply_transpose(g, z); }, p_); }
    // P x and Pᵀ g as new vectors, with their lengths checked.
    std::vector<double> operator()(const std::vector<double>& x) const {
        require<shape_error>(x.size() == dimension(), "nn::projection: expected a vector of length d = ", dimension(), ", got ", x.size());
        std::vector<double> y(full_dimension());
        apply(x.data(), y.data());
        return y;
    }
    std::vector<double> transpose(const std::vector<double>& g) const {
        require<shape_error>(g.size() == full_dimension(), "nn::projection::transpose: expected a vector of length D = ", full_dimension(),
                             ", got ", g.size());
        std::vector<double> z(dimension());
        apply_transpose(g.data(), z.data());
        return z;
    }

private:
    std::variant<identity_projection, dense_projection, sparse_projection, fastfood_projection> p_;  // order = projection_kind
};

inline projection make_projection(projection_kind kind, std::size_t D, std::size_t d, std::uint64_t seed) {
    switch (kind) {
        case projection_kind::identity:
            require(d == D, "nn::make_projection: the identity projection needs d = D = ", D, ", got d = ", d);
            return identity_projection(D);
        case projection_kind::dense: return dense_projection(D, d, seed);
        case projection_kind::sparse: return sparse_projection(D, d, seed);
        case projection_kind::fastfood: return fastfood_projection(D, d, seed);
    }
    fail("nn::make_projection: unknown projection kind");
}

// ---- subspace training of a network ----

enum class subspace_scaling { none, sgd, adam };

template <class Net>
class subspace {
public:
    using network_type = Net;
    using value_type = typename Net::value_type;
    using T = value_type;
    using gradients_type = gradients<T>;
    static constexpr int layers = 1;  // the optimiser's view: one 1 × d tensor θ_d

    subspace(Net& net, projection p, subspace_scaling scaling = subspace_scaling::none)
        : net_(&net), p_(std::move(p)), scaling_(scaling) {
        D_ = count_parameters();
        require<shape_error>(p_.full_dimension() == D_, "nn::subspace: the projection's full dimension must be the network's parameter count ",
                             D_, ", got ", p_.full_dimension());
        d_ = p_.dimension();
        config_.d_in = d_;
        config_.width = 1;
        config_.d_out = 1;
        config_.bias = false;
        scale_.resize(D_);
        base_.resize(D_);
        full_.resize(D_);
        reduced_.resize(d_);
        std::size_t k = 0;
        for_each_tensor([&](T* w, std::size_t n, const tensor_scaling& s) {
            const double f = factor(s);
            require(std::isfinite(f) && f > 0, "nn::subspace: a per-tensor scaling factor is not positive and finite (", f, ")");
            for (std::size_t i = 0; i < n; ++i, ++k) {
                scale_[k] = f;
                base_[k] = static_cast<double>(w[i]);
            }
        });
        psi_ = xt::zeros<T>({std::size_t{1}, d_});
        bias_ = xt::zeros<T>({std::size_t{0}});
        grads_.weights.push_back(xt::zeros<T>({std::size_t{1}, d_}));
        grads_.biases.push_back(xt::zeros<T>({std::size_t{0}}));
        if (p_.kind() == projection_kind::identity) {
            // θ = 0 + S ψ with ψ₀ = S⁻¹ θ₀ (see the header comment): exact when S = 1.
            for (std::size_t i = 0; i < D_; ++i) {
                psi_.data()[i] = static_cast<T>(base_[i] / scale_[i]);
                base_[i] = 0;
            }
        }
        psi0_.assign(psi_.begin(), psi_.end());
        sync();
    }

    // -- what the optimisers of nn/optim.hpp see --
    matrix<T>& weight(int l) { return check(l, "weight"), psi_; }
    const matrix<T>& weight(int l) const { return check(l, "weight"), psi_; }
    vector<T>& bias(int l) { return check(l, "bias"), bias_; }
    const vector<T>& bias(int l) const { return check(l, "bias"), bias_; }
    const tensor_scaling& weight_scaling(int l) const { return check(l, "weight_scaling"), unit_; }
    const tensor_scaling& bias_scaling(int l) const { return check(l, "bias_scaling"), unit_; }
    std::size_t fan_in(int l) const { return check(l, "fan_in"), d_; }
    std::size_t fan_out(int l) const { return check(l, "fan_out"), std::size_t{1}; }
    const mlp_config& config() const { return config_; }
    bool certifies_finite(const gradients_type&) const { return false; }

    // -- subspace training --
    Net& network() { return *net_; }
    const Net& network() const { return *net_; }
    const nn::projection& projection() const { return p_; }
    subspace_scaling scaling() const { return scaling_; }
    std::size_t dimension() const { return d_; }
    std::size_t full_dimension() const { return D_; }

    // The gradient with respect to θ_d, Pᵀ S ∇θ, from the network's gradients: a copy shaped like its parameters
    // (nn::gradients), or the gradients the network holds (net.backward(x, dout) of an nn::network or nn::mlp).
    // Returns internal storage, valid until the next call.
    const gradients_type& gradient(const gradients<T>& full) {
        require<shape_error>(full.weights.size() == static_cast<std::size_t>(Net::layers) &&
                                 full.biases.size() == static_cast<std::size_t>(Net::layers),
                             "nn::subspace::gradient: expected gradients of ", Net::layers, " weight and bias tensors, got ",
                             full.weights.size(), " and ", full.biases.size());
        return project([&](int l) -> decltype(auto) { return full.weight(l); }, [&](int l) -> decltype(auto) { return full.bias(l); });
    }
    const gradients_type& gradient(const parameter_list<T>& own)
        requires is_network<Net>
    {
        require(&own == &net_->parameters(), "nn::subspace::gradient: the parameter list is not the network's (pass net.backward(x, dout))");
        return project([&](int l) { return net_->weight_gradient(l); }, [&](int l) { return net_->bias_gradient(l); });
    }

    // Writes θ = θ₀ + S P θ_d into the network (call after every optimiser step).
    void sync() {
        for (std::size_t j = 0; j < d_; ++j) reduced_[j] = static_cast<double>(psi_.data()[j]);
        p_.apply(reduced_.data(), full_.data());
        std::size_t k = 0;
        for_each_tensor([&](T* w, std::size_t n, const tensor_scaling&) {
            for (std::size_t i = 0; i < n; ++i, ++k) w[i] = static_cast<T>(base_[k] + scale_[k] * full_[k]);
        });
    }

    // θ_d (zero at the start).
    std::vector<double> theta_d() const {
        std::vector<double> out(d_);
        for (std::size_t j = 0; j < d_; ++j) out[j] = static_cast<double>(psi_.data()[j]) - static_cast<double>(psi0_[j]);
        return out;
    }
    void set_theta_d(const std::vector<double>& theta) {
        require<shape_error>(theta.size() == d_, "nn::subspace::set_theta_d: expected ", d_, " values, got ", theta.size());
        for (std::size_t j = 0; j < d_; ++j) psi_.data()[j] = static_cast<T>(static_cast<double>(psi0_[j]) + theta[j]);
        sync();
    }

private:
    void check(int l, const char* what) const {
        if (l != 1) fail<shape_error>("nn::subspace::", what, ": the subspace has one tensor (layer 1), got layer ", l);
    }
    double factor(const tensor_scaling& s) const {
        switch (scaling_) {
            case subspace_scaling::none: return 1.0;
            case subspace_scaling::sgd: return std::sqrt(s.sgd_lr);
            case subspace_scaling::adam: return s.adam_lr;
        }
        return 1.0;
    }
    template <class WeightGrad, class BiasGrad>
    const gradients_type& project(WeightGrad&& weight_grad, BiasGrad&& bias_grad) {
        std::size_t k = 0;
        for (int l = 1; l <= Net::layers; ++l) {
            const auto& gw = weight_grad(l);
            const auto& gb = bias_grad(l);
            require<shape_error>(gw.size() == net_->weight(l).size() && gb.size() == net_->bias(l).size(),
                                 "nn::subspace::gradient: the gradient of layer ", l, " does not match the network's parameters");
            for (const T v : gw) full_[k] = scale_[k] * static_cast<double>(v), ++k;
            for (const T v : gb) full_[k] = scale_[k] * static_cast<double>(v), ++k;
        }
        p_.apply_transpose(full_.data(), reduced_.data());
        T* out = grads_.weights[0].data();
        for (std::size_t j = 0; j < d_; ++j) out[j] = static_cast<T>(reduced_[j]);
        return grads_;
    }
    std::size_t count_parameters() const {
        std::size_t n = 0;
        for (int l = 1; l <= Net::layers; ++l) n += net_->weight(l).size() + net_->bias(l).size();
        return n;
    }
    template <class F>
    void for_each_tensor(F&& f) {
        for (int l = 1; l <= Net::layers; ++l) {
            f(net_->weight(l).data(), net_->weight(l).size(), net_->weight_scaling(l));
            f(net_->bias(l).data(), net_->bias(l).size(), net_->bias_scaling(l));
        }
    }

    Net* net_;
    nn::projection p_;
    subspace_scaling scaling_;
    std::size_t D_ = 0, d_ = 0;
    mlp_config config_;
    tensor_scaling unit_;
    std::vector<double> scale_, base_, full_, reduced_;
    matrix<T> psi_;
    vector<T> bias_;
    std::vector<T> psi0_;
    gradients_type grads_;
};

// One step of subspace training: forward, loss gradient, backward, Pᵀ S ∇θ, optimiser step on θ_d, and
// θ written back into the network. Returns the loss before the update.
template <class Loss, class Net, class Optimizer, class Target>
typename Net::value_type subspace_train_step(subspace<Net>& sub, Optimizer& opt, const matrix<typename Net::value_type>& x,
                                             const Target& target, matrix<typename Net::value_type>& dout) {
    Net& net = sub.network();
    const auto loss = Loss::value_and_gradient(net.forward(x), target, dout);
    opt.step(sub.gradient(net.backward(x, dout)));
    sub.sync();
    return loss;
}

// ---- the intrinsic dimension d_int90 by search over d ----

struct intrinsic_search_config {
    std::size_t d_min = 1;
    std::size_t d_max = 0;      // required, <= D
    double threshold = 0.9;     // fraction of the baseline performance to reach (Li et al.: 90 %)
    double tolerance = 0.1;     // stop when the bracket satisfies hi <= (1 + tolerance)·lo (or hi = lo + 1)
};

struct intrinsic_point {
    std::size_t d;
    double performance;
};

struct intrinsic_search_result {
    bool found = false;        // some d <= d_max reached the target
    std::size_t d_int = 0;     // the smallest evaluated d reaching the target (the estimate of d_int90)
    std::size_t lower = 0;     // the largest evaluated d below the target (0 if d_min reached it)
    double target = 0;         // threshold · baseline
    std::vector<intrinsic_point> evaluated;  // in evaluation order
};

// Finds the smallest d in [d_min, d_max] with performance(d) >= threshold·baseline by bisection on log d,
// assuming performance grows with d (noise can break this: the bracket then reflects the evaluations made).
// performance(d) trains in a d-dimensional subspace and returns e.g. a test accuracy. It is called at d_max,
// at d_min, then once per bisection step: about log₂(ln(d_max/d_min) / ln(1 + tolerance)) times.
template <class Performance>
intrinsic_search_result intrinsic_dimension_search(Performance&& performance, double baseline, const intrinsic_search_config& c) {
    require(std::isfinite(baseline) && baseline > 0, "nn::intrinsic_dimension_search: baseline must be positive and finite, got ", baseline);
    require(c.d_min >= 1 && c.d_max >= c.d_min, "nn::intrinsic_dimension_search: need 1 <= d_min <= d_max, got d_min = ", c.d_min,
            ", d_max = ", c.d_max);
    require(c.threshold > 0 && c.threshold <= 1, "nn::intrinsic_dimension_search: threshold must be in (0, 1], got ", c.threshold);
    require(c.tolerance > 0 && std::isfinite(c.tolerance), "nn::intrinsic_dimension_search: tolerance must be positive, got ", c.tolerance);
    intrinsic_search_result r;
    r.target = c.threshold * baseline;
    auto eval = [&](std::size_t d) {
        const double v = performance(d);
        require<numerical_error>(std::isfinite(v), "nn::intrinsic_dimension_search: performance(", d, ") is not finite (", v, ")");
        r.evaluated.push_back({d, v});
        return v >= r.target;
    };
    if (!eval(c.d_max)) return r;
    r.found = true;
    if (c.d_min == c.d_max || eval(c.d_min)) {
        r.d_int = c.d_min == c.d_max ? c.d_max : c.d_min;
        return r;
    }
    std::size_t lo = c.d_min, hi = c.d_max;
    while (hi > lo + 1 && static_cast<double>(hi) > (1 + c.tolerance) * static_cast<double>(lo)) {
        auto mid = static_cast<std::size_t>(std::llround(std::sqrt(static_cast<double>(lo) * static_cast<double>(hi))));
        mid = std::clamp(mid, lo + 1, hi - 1);
        (eval(mid) ? hi : lo) = mid;
    }
    r.d_int = hi;
    r.lower = lo;
    return r;
}

}  // namespace widenn::nn
