#pragma once
// Fréchet-mean prediction over a metric space of labels (Loki: Roberts, Li, Adila, Cromp, Huang, Zhao & Sala 2023,
// "Geometry-aware adaptation for pretrained models", NeurIPS, §3): a classifier over K observed labels λ_1..λ_K gives
// probabilities p; instead of argmax, predict the label of a metric space (C >= K labels, possibly never observed in
// training) that minimises the expected squared distance,
//
//   ŷ = argmin_{y ∈ 0..C-1}  Σ_k p_k d(y, λ_k)².
//
// With the complete-graph metric (d = 1 between distinct labels) and K = C this is argmax p. The metric comes from a
// distance matrix (checked: square, finite, zero diagonal, positive off the diagonal, symmetric, triangle
// inequality) or from a weighted undirected graph (shortest-path distances, Floyd–Warshall; checked connected).
// Ties: candidates within a relative 1e-12 of the minimum are tied, and the smallest label index wins.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <numeric>
#include <string_view>
#include <type_traits>
#include <vector>

#include "../core/errors.hpp"
#include "../core/tensor.hpp"
#include "common.hpp"

namespace widenn::geometry {

// An undirected edge of a label graph.
struct label_edge {
    std::size_t from = 0, to = 0;
    double weight = 1.0;
};

// A finite metric on labels 0..C-1, validated on construction.
class label_metric {
public:
    // From a C x C distance matrix; a violation of the metric axioms is an error naming the entries.
    template <class E>
    static label_metric from_matrix(const E& distances) {
        constexpr std::string_view where = "geometry::label_metric::from_matrix";
        label_metric m;
        m.d_ = detail::to_matrix(distances, where, "distance matrix");
        const std::size_t c = m.d_.shape()[0];
        require<shape_error>(m.d_.shape()[1] == c, where, ": the distance matrix must be square, got ", detail::shape_text(m.d_));
        const double tol = 1e-12 * std::max(1.0, xt::amax(m.d_)());
        for (std::size_t i = 0; i < c; ++i) {
            require(m.d_(i, i) == 0.0, where, ": d(y, y) must be 0, got ", m.d_(i, i), " at (", i, ", ", i, ")");
            for (std::size_t j = 0; j < c; ++j) {
                if (i == j) continue;
                require(m.d_(i, j) > 0, where, ": distances between distinct labels must be positive, got ", m.d_(i, j), " at (", i,
                        ", ", j, ")");
                require(std::abs(m.d_(i, j) - m.d_(j, i)) <= tol, where, ": the distance matrix must be symmetric, got ", m.d_(i, j),
                        " at (", i, ", ", j, ") and ", m.d_(j, i), " at (", j, ", ", i, ")");
            }
        }
        for (std::size_t k = 0; k < c; ++k)
            for (std::size_t i = 0; i < c; ++i)
                for (std::size_t j = 0; j < c; ++j)
                    require(m.d_(i, j) <= m.d_(i, k) + m.d_(k, j) + tol, where, ": the triangle inequality fails: d(", i, ", ", j,
                            ") = ", m.d_(i, j), " > d(", i, ", ", k, ") + d(", k, ", ", j, ") = ", m.d_(i, k) + m.d_(k, j));
        return m;
    }

    // Shortest-path distances of a connected undirected graph on `labels` vertices with positive edge weights.
    static label_metric from_graph(std::size_t labels, const std::vector<label_edge>& edges) {
        constexpr std::string_view where = "geometry::label_metric::from_graph";
        require(labels >= 1, where, ": need at least one label");
        const double inf = std::numeric_limits<double>::infinity();
        label_metric m;
        m.d_ = xt::empty<double>({labels, labels});
        m.d_.fill(inf);
        for (std::size_t i = 0; i < labels; ++i) m.d_(i, i) = 0;
        for (std::size_t e = 0; e < edges.size(); ++e) {
            const auto& [u, v, w] = edges[e];
            require(u < labels && v < labels, where, ": edge ", e, " (", u, ", ", v, ") has a vertex outside 0..", labels - 1);
            require(w > 0 && std::isfinite(w), where, ": edge ", e, " (", u, ", ", v, ") must have a positive finite weight, got ", w);
            if (u == v) continue;
            m.d_(u, v) = std::min(m.d_(u, v), w);
            m.d_(v, u) = m.d_(u, v);
        }
        for (std::size_t k = 0; k < labels; ++k)
            for (std::size_t i = 0; i < labels; ++i)
                for (std::size_t j = 0; j < labels; ++j) m.d_(i, j) = std::min(m.d_(i, j), m.d_(i, k) + m.d_(k, j));
        for (std::size_t i = 0; i < labels; ++i)
            for (std::size_t j = 0; j < labels; ++j)
                require(std::isfinite(m.d_(i, j)), where, ": the graph is not connected: no path from label ", i, " to label ", j);
        return m;
    }

    // The complete graph: distance 1 between any two distinct labels (Loki's rule is then argmax).
    static label_metric complete(std::size_t labels) {
        std::vector<label_edge> edges;
        for (std::size_t i = 0; i < labels; ++i)
            for (std::size_t j = i + 1; j < labels; ++j) edges.push_back({i, j, 1.0});
        return from_graph(labels, edges);
    }

    std::size_t size() const { return d_.shape()[0]; }
    double operator()(std::size_t i, std::size_t j) const { return d_(i, j); }
    const matrix<double>& distances() const { return d_; }

private:
    label_metric() = default;
    matrix<double> d_;
};

// Fréchet-mean predictions for the rows of `probabilities` (N x K, each row non-negative, summing to 1 within 1e-6)
// over the observed labels `observed` (K distinct labels of the metric; default 0..K-1): N labels in 0..C-1.
template <class E>
std::vector<std::size_t> frechet_predict(const E& probabilities, const label_metric& metric, std::vector<std::size_t> observed = {}) {
    constexpr std::string_view where = "geometry::frechet_predict";
    const matrix<double> p = detail::to_matrix(probabilities, where, "probabilities");
    const std::size_t n = p.shape()[0], k = p.shape()[1], c = metric.size();
    if (observed.empty()) {
        require<shape_error>(k <= c, where, ": ", k, " probability columns but the metric has only ", c, " labels");
        observed.resize(k);
        std::iota(observed.begin(), observed.end(), std::size_t{0});
    }
    require<shape_error>(observed.size() == k, where, ": one observed label per probability column: ", k, " columns, got ",
                         observed.size(), " labels");
    std::vector<bool> seen(c, false);
    for (std::size_t j = 0; j < k; ++j) {
        require(observed[j] < c, where, ": observed label ", observed[j], " (column ", j, ") is outside the metric's labels 0..", c - 1);
        require(!seen[observed[j]], where, ": observed label ", observed[j], " appears twice");
        seen[observed[j]] = true;
    }
    // Squared distances from every candidate to every observed label, C x K.
    matrix<double> d2 = matrix<double>::from_shape({c, k});
    for (std::size_t y = 0; y < c; ++y)
        for (std::size_t j = 0; j < k; ++j) d2(y, j) = metric(y, observed[j]) * metric(y, observed[j]);
    std::vector<std::size_t> out(n);
    std::vector<double> cost(c);
    for (std::size_t i = 0; i < n; ++i) {
        double sum = 0;
        for (std::size_t j = 0; j < k; ++j) {
            require(p(i, j) >= 0, where, ": probabilities must be >= 0, got ", p(i, j), " at (", i, ", ", j, ")");
            sum += p(i, j);
        }
        require(std::abs(sum - 1.0) <= 1e-6, where, ": each row of probabilities must sum to 1 (within 1e-6), row ", i, " sums to ", sum);
        double lowest = std::numeric_limits<double>::infinity(), highest = 0;
        for (std::size_t y = 0; y < c; ++y) {
            double s = 0;
            for (std::size_t j = 0; j < k; ++j) s += p(i, j) * d2(y, j);
            cost[y] = s;
            lowest = std::min(lowest, s);
            highest = std::max(highest, s);
        }
        const double tol = 1e-12 * highest;
        std::size_t best = 0;
        while (cost[best] > lowest + tol) ++best;
        out[i] = best;
    }
    return out;
}

// The same with the metric given as a distance matrix (validated as in label_metric::from_matrix).
template <class E, class D>
    requires(!std::is_same_v<std::remove_cvref_t<D>, label_metric>)
std::vector<std::size_t> frechet_predict(const E& probabilities, const D& distances, std::vector<std::size_t> observed = {}) {
    return frechet_predict(probabilities, label_metric::from_matrix(distances), std::move(observed));
}

// Mean of d(predicted_i, truth_i)² over the rows (Loki's expected squared distance of a set of predictions).
template <class Predicted, class Truth>
double mean_squared_distance(const Predicted& predicted, const Truth& truth, const label_metric& metric) {
    constexpr std::string_view where = "geometry::mean_squared_distance";
    std::vector<long long> a, b;
    for (auto v : predicted) a.push_back(static_cast<long long>(v));
    for (auto v : truth) b.push_back(static_cast<long long>(v));
    require<shape_error>(a.size() == b.size() && !a.empty(), where, ": need as many predictions as true labels (at least one), got ",
                         a.size(), " and ", b.size());
    const auto c = static_cast<long long>(metric.size());
    double s = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        require(a[i] >= 0 && a[i] < c && b[i] >= 0 && b[i] < c, where, ": label pair (", a[i], ", ", b[i], ") at ", i,
                " is outside the metric's labels 0..", c - 1);
        const double d = metric(static_cast<std::size_t>(a[i]), static_cast<std::size_t>(b[i]));
        s += d * d;
    }
    return s / static_cast<double>(a.size());
}

}  // namespace widenn::geometry
