#pragma once
// Losses on a batch of network outputs f (B x k): value and gradient with respect to f.
// Both are means over the batch, so the gradient carries a factor 1/B.
//   mse:                    (1 / 2B) Σ_i ‖f_i − y_i‖²,            ∂/∂f_i = (f_i − y_i) / B
//   softmax_cross_entropy:  (1 / B) Σ_i [logsumexp(f_i) − f_i,y_i], ∂/∂f_i = (softmax(f_i) − e_{y_i}) / B
//   softmax_cross_entropy with a target matrix (rows: one-hot or probabilities, each summing to 1):
//                           (1 / B) Σ_i −Σ_j y_ij log softmax(f_i)_j,   ∂/∂f_i = (softmax(f_i) − y_i) / B
// The gradient is written into a caller-owned matrix that is reallocated only when its shape differs.
// loss_kind names these losses for run-time options (the feature-learning limits, the widenn command), and
// loss_value_and_gradient(kind, ...) evaluates the one named: one vocabulary for finite networks and limits.
#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <limits>
#include <string_view>

#include "../core/errors.hpp"
#include "../core/tensor.hpp"
#include "finite.hpp"

namespace widenn::nn {

enum class loss_kind { mse, cross_entropy };

inline std::string_view to_string(loss_kind k) { return k == loss_kind::mse ? "mse" : "xent"; }

struct mse {
    static constexpr const char* name = "mse";
    static constexpr loss_kind kind = loss_kind::mse;

    template <class T>
    static T value(const matrix<T>& output, const matrix<T>& target) {
        check(output, target, "nn::mse::value");
        return accumulate<T>(output, target, nullptr);
    }

    template <class T>
    static T value_and_gradient(const matrix<T>& output, const matrix<T>& target, matrix<T>& gradient) {
        check(output, target, "nn::mse::value_and_gradient");
        detail::ensure_shape(gradient, output.shape(0), output.shape(1));
        return accumulate(output, target, &gradient);
    }

private:
    template <class T>
    static void check(const matrix<T>& output, const matrix<T>& target, const char* where) {
        require_shape(output, any_size, any_size, where, "output");
        require(output.shape(0) > 0, where, ": the batch is empty");
        require_shape(target, output.shape(0), output.shape(1), where, "target");
        detail::require_finite_squared_norm(output, where, "output");
        detail::require_finite_squared_norm(target, where, "target");
    }
    template <class T>
    static T accumulate(const matrix<T>& output, const matrix<T>& target, matrix<T>* gradient) {
        const std::size_t n = output.size();
        const double inv_batch = 1.0 / static_cast<double>(output.shape(0));
        double sum = 0;
        const T* f = output.data();
        const T* y = target.data();
        for (std::size_t i = 0; i < n; ++i) {
            const double r = static_cast<double>(f[i]) - static_cast<double>(y[i]);
            sum += r * r;
        }
        if (gradient) {
            T* g = gradient->data();
            const T scale = static_cast<T>(inv_batch);
            for (std::size_t i = 0; i < n; ++i) g[i] = (f[i] - y[i]) * scale;
        }
        return static_cast<T>(0.5 * sum * inv_batch);
    }
};

// Labels are integer classes in [0, k); any other value is an error naming the index and value.
struct softmax_cross_entropy {
    static constexpr const char* name = "softmax_cross_entropy";
    static constexpr loss_kind kind = loss_kind::cross_entropy;

    template <class T, std::integral I>
    static T value(const matrix<T>& output, const xt::xtensor<I, 1>& labels) {
        check(output, labels, "nn::softmax_cross_entropy::value");
        return accumulate<T, I>(output, labels, nullptr);
    }

    template <class T, std::integral I>
    static T value_and_gradient(const matrix<T>& output, const xt::xtensor<I, 1>& labels, matrix<T>& gradient) {
        check(output, labels, "nn::softmax_cross_entropy::value_and_gradient");
        detail::ensure_shape(gradient, output.shape(0), output.shape(1));
        return accumulate(output, labels, &gradient);
    }

    // Target probabilities instead of labels: rows of `target` are one-hot or probability vectors (entries in [0, 1],
    // summing to 1 within √ε per entry); anything else is an error naming the row.
    template <class T>
    static T value_and_gradient(const matrix<T>& output, const matrix<T>& target, matrix<T>& gradient) {
        const char* where = "nn::softmax_cross_entropy::value_and_gradient";
        require_shape(output, any_size, any_size, where, "output");
        const std::size_t batch = output.shape(0), k = output.shape(1);
        require(batch > 0 && k > 0, where, ": the output is empty (", batch, " x ", k, ")");
        require_shape(target, batch, k, where, "target probabilities");
        detail::require_finite_squared_norm(output, where, "output");
        const double slack = std::sqrt(std::numeric_limits<T>::epsilon()) * static_cast<double>(k);
        for (std::size_t i = 0; i < batch; ++i) {
            double sum = 0;
            bool in_range = true;
            for (std::size_t j = 0; j < k; ++j) {
                const double y = static_cast<double>(target(i, j));
                in_range = in_range && y >= 0 && y <= 1;
                sum += y;
            }
            if (!in_range || !(std::abs(sum - 1) <= slack))
                fail(where, ": row ", i, " of the target is not a probability vector (entries in [0, 1] summing to 1); its sum is ", sum);
        }
        detail::ensure_shape(gradient, batch, k);
        const double inv_batch = 1.0 / static_cast<double>(batch);
        double total = 0;
        for (std::size_t i = 0; i < batch; ++i) {
            const T* f = output.data() + i * k;
            const T* y = target.data() + i * k;
            T* g = gradient.data() + i * k;
            const double lse = log_sum_exp(f, k);
            for (std::size_t j = 0; j < k; ++j) {
                const double log_p = static_cast<double>(f[j]) - lse;
                total -= static_cast<double>(y[j]) * log_p;
                g[j] = static_cast<T>((std::exp(log_p) - static_cast<double>(y[j])) * inv_batch);
            }
        }
        return static_cast<T>(total * inv_batch);
    }

    // Softmax probabilities, row-wise, stable (max subtracted before exponentiating).
    template <class T>
    static matrix<T> softmax(const matrix<T>& output) {
        require_shape(output, any_size, any_size, "nn::softmax_cross_entropy::softmax", "output");
        require_finite(output, "nn::softmax_cross_entropy::softmax", "output");
        matrix<T> p = matrix<T>::from_shape(output.shape());
        const std::size_t k = output.shape(1);
        for (std::size_t i = 0; i < output.shape(0); ++i) {
            const T* f = output.data() + i * k;
            const double lse = log_sum_exp(f, k);
            for (std::size_t j = 0; j < k; ++j) p.data()[i * k + j] = static_cast<T>(std::exp(static_cast<double>(f[j]) - lse));
        }
        return p;
    }

private:
    template <class T>
    static double log_sum_exp(const T* f, std::size_t k) {
        const double top = static_cast<double>(*std::max_element(f, f + k));
        double sum = 0;
        for (std::size_t j = 0; j < k; ++j) sum += std::exp(static_cast<double>(f[j]) - top);
        return top + std::log(sum);
    }
    template <class T, class I>
    static void check(const matrix<T>& output, const xt::xtensor<I, 1>& labels, const char* where) {
        require_shape(output, any_size, any_size, where, "output");
        const std::size_t batch = output.shape(0), k = output.shape(1);
        require(batch > 0 && k > 0, where, ": the output is empty (", batch, " x ", k, ")");
        require<shape_error>(labels.size() == batch, where, ": expected ", batch, " labels (one per output row), got ", labels.size());
        detail::require_finite_squared_norm(output, where, "output");
        for (std::size_t i = 0; i < batch; ++i) {
            const auto y = labels(i);
            if (y < 0 || static_cast<std::size_t>(y) >= k)
                fail(where, ": label ", static_cast<long long>(y), " at index ", i, " is out of range [0, ", k, ")");
        }
    }
    template <class T, class I>
    static T accumulate(const matrix<T>& output, const xt::xtensor<I, 1>& labels, matrix<T>* gradient) {
        const std::size_t batch = output.shape(0), k = output.shape(1);
        const double inv_batch = 1.0 / static_cast<double>(batch);
        double total = 0;
        for (std::size_t i = 0; i < batch; ++i) {
            const T* f = output.data() + i * k;
            const std::size_t y = static_cast<std::size_t>(labels(i));
            const double lse = log_sum_exp(f, k);
            total += lse - static_cast<double>(f[y]);
            if (gradient) {
                T* g = gradient->data() + i * k;
                for (std::size_t j = 0; j < k; ++j)
                    g[j] = static_cast<T>((std::exp(static_cast<double>(f[j]) - lse) - (j == y ? 1.0 : 0.0)) * inv_batch);
            }
        }
        return static_cast<T>(total * inv_batch);
    }
};

// The loss named by `kind` on a target matrix (for cross-entropy: rows of probabilities): mse::value_and_gradient or
// softmax_cross_entropy::value_and_gradient.
template <class T>
T loss_value_and_gradient(loss_kind kind, const matrix<T>& output, const matrix<T>& target, matrix<T>& gradient) {
    return kind == loss_kind::mse ? mse::value_and_gradient(output, target, gradient)
                                  : softmax_cross_entropy::value_and_gradient(output, target, gradient);
}

}  // namespace widenn::nn
