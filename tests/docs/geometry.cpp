// The ```cpp block of docs/geometry.md, compiled and run (the convention of tests/docs: the block is pasted verbatim
// between "// BEGIN docs/geometry.md block <n>" and "// END docs/geometry.md block <n>" at column 0, preceded by the inputs the
// page's text describes and followed by checks of what the block's comments claim). Change the page and this file
// together.
#include <cmath>
#include <vector>

#include <xtensor/xview.hpp>

#include <widenn/act/activations.hpp>
#include <widenn/core/rng.hpp>
#include <widenn/geometry/cka.hpp>
#include <widenn/geometry/frechet.hpp>
#include <widenn/geometry/relative.hpp>
#include <widenn/geometry/rsa.hpp>
#include <widenn/nn/mlp.hpp>

#include <doctest/doctest.h>

namespace {

TEST_CASE("docs/geometry.md block 1: the quick start") {
    // 1000 latents of 10 classes in R^64 (model A), and model B's latents: A's rotated (a signed permutation) and scaled
    std::vector<int> labels;
    for (int i = 0; i < 1000; ++i) labels.push_back(i % 10);
    const widenn::matrix<double> latents_a = widenn::normal_matrix(1000, 64, 1);
    widenn::matrix<double> latents_b = xt::zeros<double>({1000, 64});
    for (std::size_t j = 0; j < 64; ++j) xt::view(latents_b, xt::all(), (j * 7) % 64) = (j % 2 ? -3.0 : 3.0) * xt::view(latents_a, xt::all(), j);
    const auto chosen = widenn::geometry::class_balanced_anchors(labels, 300, 7);
    widenn::matrix<double> anchor_latents_b = xt::zeros<double>({300, 64});
    for (std::size_t j = 0; j < 300; ++j) xt::view(anchor_latents_b, j, xt::all()) = xt::view(latents_b, chosen[j], xt::all());
    const widenn::matrix<double> inputs = widenn::normal_matrix(20, 5, 2), anchor_inputs = widenn::normal_matrix(4, 5, 3);
    const widenn::matrix<double> h_a = widenn::normal_matrix(200, 8, 4), h_b = xt::square(h_a) + 0.5 * widenn::normal_matrix(200, 8, 5);
    const widenn::matrix<double> probabilities{{0.5, 0.5}, {0.9, 0.1}};

// BEGIN docs/geometry.md block 1 (verbatim: change the page and this copy together)
#include <widenn/geometry/cka.hpp>
#include <widenn/geometry/frechet.hpp>
#include <widenn/geometry/relative.hpp>
namespace geo = widenn::geometry;

// relative representations: N x k cosines to k anchors, invariant to rotations and rescaling of the latent space
auto anchors = geo::class_balanced_anchors(labels, 300, /*seed=*/7);      // or random_anchors, farthest_point_anchors
auto r_a = geo::relative(latents_a, anchors);                              // anchors as row indices of the latents
auto r_b = geo::relative(latents_b, anchor_latents_b);                     // or as a k x d matrix

// the same in the infinite-width limit at initialisation (a kernel-regime network type)
using net = widenn::nn::mlp<widenn::param::ntk, widenn::act::relu, 2, float>;
auto r_inf = geo::infinite_width_relative<net>(inputs, anchor_inputs, {.weight_var = 2.0});

// similarity of two representations of the same N inputs
double c  = geo::linear_cka(h_a, h_b);                                          // biased HSIC (Kornblith et al.)
double cu = geo::linear_cka(h_a, h_b, geo::hsic_estimator::debiased);           // Song et al.'s unbiased HSIC
double ck = geo::kernel_cka(h_a, h_b, {.kind = geo::kernel_kind::rbf, .median_fraction = 0.5});
double s  = geo::rsa(h_a, h_b, {.metric = geo::rdm_metric::correlation, .comparison = geo::rdm_comparison::spearman});

// Loki: the Fréchet mean of the predicted distribution over a label metric; observed[k] = the label of column k
auto metric = geo::label_metric::from_graph(3, {{0, 1}, {1, 2}});                // path 0 - 1 - 2
auto y_hat  = geo::frechet_predict(probabilities, metric, /*observed=*/{0, 2}); // may predict the unseen label 1
// END docs/geometry.md block 1

    CHECK(anchors == chosen);
    CHECK(r_a.shape()[0] == 1000);
    CHECK(r_a.shape()[1] == 300);
    CHECK(xt::amax(xt::abs(r_a - r_b))() < 1e-12);  // "invariant to rotations and rescaling of the latent space"
    CHECK(r_inf.shape()[0] == 20);
    CHECK(r_inf.shape()[1] == 4);
    CHECK(xt::amax(xt::abs(r_inf))() <= 1.0);
    CHECK(xt::amin(r_inf)() >= 0.0);  // ReLU features are non-negative, so are their cosines
    for (double v : {c, ck, s}) CHECK((v > 0.0 && v < 1.0));
    CHECK(std::abs(cu) < 1.0);
    CHECK(metric(0, 2) == 2.0);
    CHECK(y_hat == std::vector<std::size_t>{1, 0});  // "may predict the unseen label 1"
}

}  // namespace
