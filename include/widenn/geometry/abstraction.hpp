#pragma once
// Abstraction scores of a representation (Bernardi, Benna, Rigotti, Munuera, Fusi & Salzman 2020, "The geometry of
// abstraction in the hippocampus and prefrontal cortex", Cell, STAR Methods), as used by Alleman, Lindsey & Fusi
// 2024 ("Task structure and nonlinearity jointly determine learned representational geometry", ICLR, §2):
//
// Rows of X (N x d) belong to C conditions (labels 0..C-1); a dichotomy assigns each condition a side, 0 or 1,
// with C/2 conditions per side.
//   parallelism score: condition means m_c; for each pairing π of the side-0 conditions with the side-1 conditions,
//     the coding vectors v_i = m_{π(i)} - m_i and the mean cosine between every two of them; the score is the
//     maximum over pairings ((C/2)! of them, so C <= 16).
//   cross-condition generalisation performance (CCGP): hold out one condition of each side, train a linear
//     classifier of the side on the rows of the other conditions, test it on the held-out rows; the mean accuracy
//     over all (C/2)² held-out pairs. The classifier is ridge regression on ±1 targets with an intercept
//     (λ = ridge × the mean squared row norm of the centred training rows), solved by Cholesky.
//     With C = 4 (a 2 x 2 design) only two conditions remain for training, which fix the readout along their
//     difference alone: a held-out pair on the diagonal then transfers only by the geometry's accident. CCGP is
//     informative from C = 8 on (Bernardi et al.'s design); for 2 x 2 tasks read the parallelism score.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numeric>
#include <string_view>
#include <vector>

#include "../core/blas.hpp"
#include "../core/errors.hpp"
#include "../core/tensor.hpp"
#include "../limit/solvers.hpp"
#include "common.hpp"

namespace widenn::geometry {

namespace detail {

struct condition_design {
    std::size_t conditions = 0;
    std::vector<std::size_t> condition_of_row;
    std::vector<std::size_t> side0, side1;
};

template <class Conditions, class Dichotomy>
condition_design make_design(std::size_t rows, const Conditions& conditions, const Dichotomy& dichotomy, std::string_view where) {
    condition_design d;
    for (auto entry : dichotomy) {
        const long long s = static_cast<long long>(entry);
        require(s == 0 || s == 1, where, ": dichotomy entries must be 0 or 1, got ", s, " for condition ", d.conditions);
        (s == 0 ? d.side0 : d.side1).push_back(d.conditions++);
    }
    require(d.conditions >= 4 && d.conditions <= 16 && d.side0.size() == d.side1.size(), where,
            ": the dichotomy must split 4..16 conditions into two equal halves, got ", d.side0.size(), " on side 0 and ",
            d.side1.size(), " on side 1");
    std::vector<std::size_t> count(d.conditions, 0);
    for (auto entry : conditions) {
        const long long c = static_cast<long long>(entry);
        require(c >= 0 && static_cast<std::size_t>(c) < d.conditions, where, ": condition label ", c, " of row ",
                d.condition_of_row.size(), " is outside 0..", d.conditions - 1);
        d.condition_of_row.push_back(static_cast<std::size_t>(c));
        ++count[static_cast<std::size_t>(c)];
    }
    require<shape_error>(d.condition_of_row.size() == rows, where, ": need one condition label per row: ", rows, " rows, got ",
                         d.condition_of_row.size(), " labels");
    for (std::size_t c = 0; c < d.conditions; ++c) require(count[c] > 0, where, ": condition ", c, " has no rows");
    return d;
}

}  // namespace detail

// The parallelism score of the dichotomy (see above): in [-1, 1], 1 when the coding vectors are parallel.
template <class E, class Conditions, class Dichotomy>
double parallelism_score(const E& x, const Conditions& conditions, const Dichotomy& dichotomy) {
    constexpr std::string_view where = "geometry::parallelism_score";
    const matrix<double> r = detail::to_matrix(x, where, "X");
    const auto design = detail::make_design(r.shape()[0], conditions, dichotomy, where);
    const std::size_t d = r.shape()[1], c = design.conditions, half = design.side0.size();
    matrix<double> means = xt::zeros<double>({c, d});
    std::vector<double> count(c, 0.0);
    for (std::size_t i = 0; i < r.shape()[0]; ++i) {
        const std::size_t k = design.condition_of_row[i];
        count[k] += 1;
        for (std::size_t j = 0; j < d; ++j) means(k, j) += r(i, j);
    }
    for (std::size_t k = 0; k < c; ++k)
        for (std::size_t j = 0; j < d; ++j) means(k, j) /= count[k];
    std::vector<std::size_t> perm = design.side1;  // ascending: next_permutation visits every pairing once
    double best = -2;
    std::vector<std::vector<double>> v(half, std::vector<double>(d));
    do {
        for (std::size_t p = 0; p < half; ++p) {
            double ss = 0;
            for (std::size_t j = 0; j < d; ++j) {
                v[p][j] = means(perm[p], j) - means(design.side0[p], j);
                ss += v[p][j] * v[p][j];
            }
            require<numerical_error>(ss > 0, where, ": conditions ", design.side0[p], " and ", perm[p],
                                     " have the same mean representation, so their coding vector has no direction");
            for (double& e : v[p]) e /= std::sqrt(ss);
        }
        double total = 0;
        for (std::size_t p = 0; p < half; ++p)
            for (std::size_t q = p + 1; q < half; ++q) {
                double dot = 0;
                for (std::size_t j = 0; j < d; ++j) dot += v[p][j] * v[q][j];
                total += dot;
            }
        best = std::max(best, total / static_cast<double>(half * (half - 1) / 2));
    } while (std::next_permutation(perm.begin(), perm.end()));
    return best;
}

// Cross-condition generalisation performance of the dichotomy (see above): a mean accuracy in [0, 1].
template <class E, class Conditions, class Dichotomy>
double ccgp(const E& x, const Conditions& conditions, const Dichotomy& dichotomy, double ridge = 1e-3) {
    constexpr std::string_view where = "geometry::ccgp";
    const matrix<double> r = detail::to_matrix(x, where, "X");
    const auto design = detail::make_design(r.shape()[0], conditions, dichotomy, where);
    require(ridge > 0 && std::isfinite(ridge), where, ": ridge must be positive and finite, got ", ridge);
    const std::size_t n = r.shape()[0], d = r.shape()[1];
    std::vector<int> side(design.conditions);
    for (auto c : design.side1) side[c] = 1;
    double accuracy_sum = 0;
    for (auto h0 : design.side0)
        for (auto h1 : design.side1) {
            std::vector<std::size_t> train, test;
            for (std::size_t i = 0; i < n; ++i) {
                const std::size_t c = design.condition_of_row[i];
                (c == h0 || c == h1 ? test : train).push_back(i);
            }
            const std::size_t m = train.size();
            matrix<double> a = matrix<double>::from_shape({m, d});
            vector<double> t = xt::empty<double>({m});
            std::vector<double> mean(d, 0.0);
            double tmean = 0;
            for (std::size_t k = 0; k < m; ++k) {
                std::copy_n(r.data() + train[k] * d, d, a.data() + k * d);
                t(k) = side[design.condition_of_row[train[k]]] ? 1.0 : -1.0;
                tmean += t(k);
                for (std::size_t j = 0; j < d; ++j) mean[j] += a(k, j);
            }
            for (double& v : mean) v /= static_cast<double>(m);
            tmean /= static_cast<double>(m);
            double norm2 = 0;
            for (std::size_t k = 0; k < m; ++k) {
                t(k) -= tmean;
                for (std::size_t j = 0; j < d; ++j) {
                    a(k, j) -= mean[j];
                    norm2 += a(k, j) * a(k, j);
                }
            }
            const double lambda = ridge * std::max(norm2 / static_cast<double>(m), 1e-300);
            const limit::regularization reg{.diag_reg = lambda, .absolute = true};
            vector<double> w = xt::zeros<double>({d});
            if (d <= m) {  // primal: (AᵀA + λI) w = Aᵀt
                matrix<double> g = matrix<double>::from_shape({d, d});
                blas::gemm(true, false, d, d, m, 1.0, a.data(), d, a.data(), d, 0.0, g.data(), d);
                vector<double> rhs = xt::zeros<double>({d});
                for (std::size_t k = 0; k < m; ++k)
                    for (std::size_t j = 0; j < d; ++j) rhs(j) += a(k, j) * t(k);
                w = limit::cholesky_factor(std::move(g), reg).solve(rhs);
            } else {  // dual: w = Aᵀ (AAᵀ + λI)⁻¹ t
                matrix<double> g = matrix<double>::from_shape({m, m});
                blas::gemm(false, true, m, m, d, 1.0, a.data(), d, a.data(), d, 0.0, g.data(), m);
                const vector<double> alpha = limit::cholesky_factor(std::move(g), reg).solve(t);
                for (std::size_t k = 0; k < m; ++k)
                    for (std::size_t j = 0; j < d; ++j) w(j) += a(k, j) * alpha(k);
            }
            std::size_t correct = 0;
            for (auto i : test) {
                double score = tmean;
                for (std::size_t j = 0; j < d; ++j) score += w(j) * (r(i, j) - mean[j]);
                correct += (score > 0) == (side[design.condition_of_row[i]] == 1) ? 1 : 0;
            }
            accuracy_sum += static_cast<double>(correct) / static_cast<double>(test.size());
        }
    return accuracy_sum / static_cast<double>(design.side0.size() * design.side1.size());
}

}  // namespace widenn::geometry
