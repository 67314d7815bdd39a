#pragma once
// The empirical neural tangent kernel of a finite network (Jacot, Gabriel & Hongler 2018), weighted
// by the per-tensor SGD learning-rate factors of the parametrization:
//
//   Θ(x, x')_{ab} = Σ_p λ_p · ∂f_a(x)/∂p · ∂f_b(x')/∂p,   λ_p = tensor_scaling::sgd_lr of tensor p,
//
// so that one SGD step with base rate η changes the outputs by −η Θ(x, X) ∇_f L to first order in η
// (X the training batch, ∇_f L the gradient of the loss with respect to its outputs). With
// constants_in::multiplier, param::ntk (all λ_p = 1) this is neural-tangents' empirical NTK.
//
// Per layer, ∂f_a/∂w^l_{ij} = m_l δ^l_{a,i} x^{l-1}_j with δ^l_a = ∂f_a/∂h^l, so the weight term is
// λ m_l² (δ^l_a(x)·δ^l_b(x')) (x^{l-1}(x)·x^{l-1}(x')) and the bias term λ_b m_b² δ^l_a(x)·δ^l_b(x').
// All of it is computed in double with GEMMs, from the network's parameters (the network is not modified).
//
// Layout: row i·k + a, column j·k + b for outputs a, b of samples i, j (k = d_out); for k = 1, N1 x N2.
#include <algorithm>
#include <cstddef>
#include <vector>

#include "../core/errors.hpp"
#include "../core/tensor.hpp"
#include "../core/blas.hpp"
#include "network.hpp"
#include "serial.hpp"

namespace widenn::nn {

namespace detail {

// Per-layer quantities of one batch, in double: inputs to each layer and stacked δ's.
struct ntk_side {
    std::vector<matrix<double>> inputs;  // x^{l-1}, l = 1..L+1 (x^0 = the batch), N x fan_in(l)
    std::vector<matrix<double>> deltas;  // δ^l stacked over outputs: row i·k + a, (N k) x fan_out(l)
};

// The checks of both forms below: two non-empty batches of finite d_in-dimensional rows.
template <class Net>
void check_ntk_batches(const Net& net, const matrix<typename Net::value_type>& x1, const matrix<typename Net::value_type>& x2) {
    const std::size_t d = net.config().d_in;
    require_shape(x1, any_size, d, "nn::empirical_ntk", "first batch");
    require_shape(x2, any_size, d, "nn::empirical_ntk", "second batch");
    require(x1.shape(0) > 0 && x2.shape(0) > 0, "nn::empirical_ntk: a batch is empty (", x1.shape(0), " and ", x2.shape(0), " rows)");
    require_finite(x1, "nn::empirical_ntk", "first batch");
    require_finite(x2, "nn::empirical_ntk", "second batch");
}

// λ_p of a tensor: its SGD factor times its lr_scale.
template <class T>
double sgd_factor(const parameter<T>& p) {
    return p.scaling.sgd_lr * p.lr_scale;
}

template <class Net>
ntk_side ntk_side_of(const Net& net, const std::vector<matrix<double>>& effective_w, const std::vector<vector<double>>& effective_b,
                     const matrix<typename Net::value_type>& x) {
    using A = typename Net::activation;
    constexpr int layers = Net::layers;
    const std::size_t n = x.shape(0), k = net.config().d_out;
    ntk_side side;
    std::vector<matrix<double>> pre(layers);
    side.inputs.push_back(xt::cast<double>(x));
    for (int l = 1; l <= layers; ++l) {
        const std::size_t o = net.fan_out(l), in = net.fan_in(l);
        matrix<double> h = matrix<double>::from_shape({n, o});
        const vector<double>& b = effective_b[l - 1];
        for (std::size_t r = 0; r < n; ++r)
            for (std::size_t j = 0; j < o; ++j) h(r, j) = b.size() ? b(j) : 0.0;
        blas::gemm<double>(false, true, n, o, in, 1.0, side.inputs.back().data(), effective_w[l - 1].data(), 1.0, h.data());
        if (l < layers) {
            matrix<double> post = matrix<double>::from_shape({n, o});
            for (std::size_t i = 0; i < h.size(); ++i) post.data()[i] = A::value(h.data()[i]);
            side.inputs.push_back(std::move(post));
        }
        pre[l - 1] = std::move(h);
    }
    side.deltas.resize(layers);
    matrix<double> top = xt::zeros<double>({n * k, k});
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t a = 0; a < k; ++a) top(i * k + a, a) = 1.0;
    side.deltas[layers - 1] = std::move(top);
    for (int l = layers; l >= 2; --l) {
        const std::size_t o = net.fan_out(l), in = net.fan_in(l);
        matrix<double> below = matrix<double>::from_shape({n * k, in});
        blas::gemm<double>(false, false, n * k, in, o, 1.0, side.deltas[l - 1].data(), effective_w[l - 1].data(), 0.0, below.data());
        const matrix<double>& h = pre[l - 2];
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t a = 0; a < k; ++a)
                for (std::size_t j = 0; j < in; ++j) below(i * k + a, j) *= A::derivative(h(i, j));
        side.deltas[l - 2] = std::move(below);
    }
    return side;
}

}  // namespace detail

// The MLP form (a composition (dense, A) x L: nn::mlp, or an nn::network of that shape), from the closed form above
// with one GEMM pair per layer; the network is not modified.
template <class Net>
    requires(is_network<Net> && HasDepth<Net>)
matrix<double> empirical_ntk(const Net& net, const matrix<typename Net::value_type>& x1, const matrix<typename Net::value_type>& x2) {
    const std::size_t k = net.config().d_out;
    detail::check_ntk_batches(net, x1, x2);

    std::vector<matrix<double>> w;
    std::vector<vector<double>> b;
    for (int l = 1; l <= Net::layers; ++l) {
        w.push_back(xt::cast<double>(net.weight(l)) * net.weight_scaling(l).multiplier);
        b.push_back(xt::cast<double>(net.bias(l)) * net.bias_scaling(l).multiplier);
    }
    const detail::ntk_side s1 = detail::ntk_side_of(net, w, b, x1);
    const detail::ntk_side s2 = detail::ntk_side_of(net, w, b, x2);
    const std::size_t n1 = x1.shape(0), n2 = x2.shape(0);
    matrix<double> theta = xt::zeros<double>({n1 * k, n2 * k});
    matrix<double> deltas = matrix<double>::from_shape({n1 * k, n2 * k});
    matrix<double> inputs = matrix<double>::from_shape({n1, n2});
    for (int l = 1; l <= Net::layers; ++l) {
        const std::size_t o = net.fan_out(l), in = net.fan_in(l);
        blas::gemm<double>(false, true, n1 * k, n2 * k, o, 1.0, s1.deltas[l - 1].data(), s2.deltas[l - 1].data(), 0.0, deltas.data());
        blas::gemm<double>(false, true, n1, n2, in, 1.0, s1.inputs[l - 1].data(), s2.inputs[l - 1].data(), 0.0, inputs.data());
        const double mw = net.weight_scaling(l).multiplier, mb = net.bias_scaling(l).multiplier;
        const double weight_factor = detail::sgd_factor(net.weight_parameter(l)) * mw * mw;
        const double bias_factor = net.config().bias ? detail::sgd_factor(net.bias_parameter(l)) * mb * mb : 0.0;
        for (std::size_t r = 0; r < n1 * k; ++r)
            for (std::size_t c = 0; c < n2 * k; ++c)
                theta(r, c) += deltas(r, c) * (weight_factor * inputs(r / k, c / k) + bias_factor);
    }
    return theta;
}

namespace detail {

// The Jacobian of the outputs with respect to every trainable tensor, row i·k + a = ∂f_a(x_i)/∂(all parameters in
// network order), in double: one forward per example and one backward per output (any composition).
template <class Net>
matrix<double> network_jacobian(Net& net, const matrix<typename Net::value_type>& x) {
    using T = typename Net::value_type;
    const std::size_t n = x.shape(0), d = x.shape(1), k = net.config().d_out, count = net.parameters().count();
    matrix<double> jacobian = matrix<double>::from_shape({n * k, count});
    matrix<T> row = matrix<T>::from_shape({1, d});
    matrix<T> unit = xt::zeros<T>({std::size_t{1}, k});
    for (std::size_t i = 0; i < n; ++i) {
        std::copy(x.data() + i * d, x.data() + (i + 1) * d, row.data());
        net.forward(row);
        for (std::size_t a = 0; a < k; ++a) {
            unit(0, a) = T(1);
            net.backward(row, unit);
            unit(0, a) = T(0);
            double* out = jacobian.data() + (i * k + a) * count;
            for (const auto* p : net.parameters().parameters())
                for (auto g : p->grad) *out++ = static_cast<double>(g);
        }
    }
    return jacobian;
}

}  // namespace detail

// The empirical NTK of any composition (nn::network), weighted like the MLP's by the per-tensor SGD factors λ_p
// (times lr_scale): Θ = J(x1) Λ J(x2)ᵀ from the Jacobians of the outputs. Same layout as above. Uses the network's
// buffers and gradients (restored afterwards; the parameters are not modified); cost N·d_out backward passes.
// nn::empirical_ntk takes this form for every composition that is not an MLP.
template <class Net>
    requires is_network<Net>
matrix<double> empirical_ntk_by_jacobian(Net& net, const matrix<typename Net::value_type>& x1, const matrix<typename Net::value_type>& x2) {
    const std::size_t k = net.config().d_out;
    detail::check_ntk_batches(net, x1, x2);
    using T = typename Net::value_type;
    std::vector<std::vector<T>> saved;
    for (const auto* p : net.parameters().parameters()) saved.push_back(p->grad);
    matrix<double> j1 = detail::network_jacobian(net, x1);
    const matrix<double> j2 = detail::network_jacobian(net, x2);
    std::size_t i = 0;
    for (auto* p : net.parameters().parameters()) p->grad = saved[i++];
    // Λ on the columns of J(x1).
    std::vector<double> lambda;
    for (auto* p : net.parameters().parameters()) lambda.insert(lambda.end(), p->size(), detail::sgd_factor(*p));
    const std::size_t count = lambda.size();
    for (std::size_t r = 0; r < j1.shape(0); ++r)
        for (std::size_t c = 0; c < count; ++c) j1(r, c) *= lambda[c];
    matrix<double> theta = matrix<double>::from_shape({x1.shape(0) * k, x2.shape(0) * k});
    blas::gemm<double>(false, true, theta.shape(0), theta.shape(1), count, 1.0, j1.data(), j2.data(), 0.0, theta.data());
    return theta;
}

template <class Net>
    requires(is_network<Net> && !HasDepth<Net>)
matrix<double> empirical_ntk(Net& net, const matrix<typename Net::value_type>& x1, const matrix<typename Net::value_type>& x2) {
    return empirical_ntk_by_jacobian(net, x1, x2);
}

}  // namespace widenn::nn
