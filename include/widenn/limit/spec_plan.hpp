#pragma once
// limit::spec_kernel_plan: the NNGP and NTK of a run-time SPEC (limit/conv_kernel.hpp) in the form the kernel
// regression solvers take (limit::kernel_ridge, limit::store_kernel: rows(), symmetric(), config(), block_into()), so
// `widenn regress --arch SPEC` runs the same Cholesky and PCG paths as the MLP kernels of limit::kernel_plan.
//
//   const limit::spec_kernel_plan<double> plan(nn::parse_spec("conv:3,relu,flatten"), x_train, {28, 28, 1}, config);
//   matrix<double> alpha = limit::kernel_ridge(plan, true, y, ridge);              // Θ(X, X) + λI solved for Y
//
// The inputs are rows of a matrix, one image per row in NHWC order (N × H·W·C), or feature vectors (N × d, image
// {0, 0, 0}) for dense-only SPECs. The plan keeps a reference to them: they must outlive it. A block [r0, r1) ×
// [c0, c1) is one conv_kernel_plan on those rows and columns (one thread: the solvers run blocks in parallel), so
// every entry is the one conv_kernel_plan computes for the whole matrices; each block recomputes the per-input
// variance tables of its rows and columns, (r1 - r0 + c1 - c0) extra diagonal recursions against (r1 - r0)(c1 - c0)
// pairs (under 2 % for the 64 × 1024 tiles of store_kernel).
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include <xtensor/xadapt.hpp>

#include "../core/errors.hpp"
#include "../core/tensor.hpp"
#include "../nn/spec.hpp"
#include "conv_kernel.hpp"
#include "kernel.hpp"

namespace widenn::limit {

// The shape of one input image (channels = 0: the inputs are feature vectors).
struct spec_input {
    std::size_t height = 0, width = 0, channels = 0;
};

template <class T = double>
class spec_kernel_plan {
    static_assert(std::is_floating_point_v<T>, "widenn: kernels are computed in float or double");

public:
    using value_type = T;

    // The symmetric kernel of x with itself (kind: neural-tangents' NTK or standard parametrization, as conv_kernel_plan).
    spec_kernel_plan(nn::spec s, const matrix<T>& x, spec_input in, kernel_config c, parametrization_kind kind = parametrization_kind::ntk)
        : spec_(std::move(s)), config_(std::move(c)), kind_(kind), in_(in), x1_(&x), x2_(&x), symmetric_(true) {
        init();
    }
    // The kernel between the rows of x1 and the rows of x2.
    spec_kernel_plan(nn::spec s, const matrix<T>& x1, const matrix<T>& x2, spec_input in, kernel_config c,
                     parametrization_kind kind = parametrization_kind::ntk)
        : spec_(std::move(s)), config_(std::move(c)), kind_(kind), in_(in), x1_(&x1), x2_(&x2), symmetric_(false) {
        init();
    }

    std::size_t rows() const { return x1_->shape()[0]; }
    std::size_t cols() const { return x2_->shape()[0]; }
    bool symmetric() const { return symmetric_; }
    const kernel_config& config() const { return config_; }
    const nn::spec& architecture() const { return spec_; }
    parametrization_kind kind() const { return kind_; }

    // All of it (conv_kernel_plan over the whole inputs, in parallel with config().threads).
    kernel_pair<T> compute() const {
        const auto a = images(*x1_, 0, rows());
        constexpr auto path = spatial_path::automatic;
        if (symmetric_) return conv_kernel_plan<T>(spec_, a, config_, path, kind_).compute();
        return conv_kernel_plan<T>(spec_, a, images(*x2_, 0, cols()), config_, path, kind_).compute();
    }

    // The block rows [r0, r1) × columns [c0, c1) into caller memory (row-major, leading dimensions ld); ntk may be null.
    // Single-threaded; safe to call from several threads at once on disjoint outputs.
    void block_into(std::size_t r0, std::size_t r1, std::size_t c0, std::size_t c1, T* nngp, std::size_t ld_nngp, T* ntk,
                    std::size_t ld_ntk) const {
        require(r0 <= r1 && r1 <= rows() && c0 <= c1 && c1 <= cols(), "limit::spec_kernel_plan::block_into: block [", r0, ", ", r1, ") x [",
                c0, ", ", c1, ") is outside the ", rows(), " x ", cols(), " kernel");
        if (r0 == r1 || c0 == c1) return;
        kernel_config c = config_;
        c.threads = 1;
        c.progress = {};
        c.compute_ntk = ntk != nullptr;
        const kernel_pair<T> k =
            conv_kernel_plan<T>(spec_, images(*x1_, r0, r1), images(*x2_, c0, c1), c, spatial_path::automatic, kind_).compute();
        const std::size_t n = c1 - c0;
        for (std::size_t i = 0; i < r1 - r0; ++i)
            for (std::size_t j = 0; j < n; ++j) {
                nngp[i * ld_nngp + j] = k.nngp(i, j);
                if (ntk) ntk[i * ld_ntk + j] = k.ntk(i, j);
            }
    }

private:
    // Rows [r0, r1) of x as N × H × W × C images (or N × d vectors), without a copy.
    auto images(const matrix<T>& x, std::size_t r0, std::size_t r1) const {
        const std::size_t d = x.shape()[1];
        const bool image = in_.channels > 0;
        std::vector<std::size_t> shape = image ? std::vector<std::size_t>{r1 - r0, in_.height, in_.width, in_.channels}
                                               : std::vector<std::size_t>{r1 - r0, d};
        return xt::adapt(x.data() + r0 * d, (r1 - r0) * d, xt::no_ownership(), shape);
    }

    void init() {
        constexpr const char* where = "limit::spec_kernel_plan";
        const std::size_t d = x1_->shape()[1];
        require<shape_error>(x2_->shape()[1] == d, where, ": X1 and X2 must have the same number of values per input, got ", d, " and ",
                             x2_->shape()[1]);
        require<shape_error>(rows() > 0 && cols() > 0, where, ": the inputs are empty");
        if (in_.channels > 0) {
            require<shape_error>(in_.height > 0 && in_.width > 0 && in_.height * in_.width * in_.channels == d, where, ": images of ",
                                 in_.height, " x ", in_.width, " x ", in_.channels, " need ", in_.height * in_.width * in_.channels,
                                 " values per row, the inputs have ", d);
            nn::infer_shapes(spec_, in_.height, in_.width, in_.channels);
        } else {
            nn::infer_shapes(spec_, d);
        }
        // everything else conv_kernel_plan checks (the variances, the standard parametrization's width), on one input
        conv_kernel_plan<T>(spec_, images(*x1_, 0, 1), images(*x2_, 0, 1), config_, spatial_path::automatic, kind_);
    }

    nn::spec spec_;
    kernel_config config_;
    parametrization_kind kind_;
    spec_input in_;
    const matrix<T>* x1_;
    const matrix<T>* x2_;
    bool symmetric_;
};

}  // namespace widenn::limit
