// CBOW with negative sampling as a linear μP net (TP4 §10): the sparse one-hot trainer against the dense limit, finite
// widths against the limit, and learning on a small generated corpus.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include <xtensor/xview.hpp>

#include <widenn/core/rng.hpp>
#include <widenn/limit/mup_linear.hpp>

namespace {

using widenn::matrix;
namespace lim = widenn::limit;

// A generated corpus: `topics` groups of `per_topic` words; each sentence draws one topic and emits 8 of its words.
struct corpus {
    std::size_t vocabulary;
    std::size_t per_topic;
    std::vector<std::vector<std::size_t>> sentences;
};

corpus generate(std::size_t topics, std::size_t per_topic, std::size_t sentences, std::uint64_t seed) {
    widenn::rng gen(seed);
    corpus c{topics * per_topic, per_topic, {}};
    for (std::size_t s = 0; s < sentences; ++s) {
        const std::size_t topic = gen.below(topics);
        std::vector<std::size_t> words;
        for (int k = 0; k < 8; ++k) words.push_back(topic * per_topic + gen.below(per_topic));
        c.sentences.push_back(words);
    }
    return c;
}

// One epoch of CBOW (window 2, 3 uniform negatives); returns the mean loss.
double train_epoch(lim::onehot_linear_net<double>& net, const corpus& c, double lr, std::uint64_t seed) {
    widenn::rng gen(seed);
    double total = 0;
    std::size_t count = 0;
    for (const auto& sentence : c.sentences)
        for (std::size_t p = 0; p < sentence.size(); ++p) {
            std::vector<std::size_t> context;
            for (std::size_t q = p >= 2 ? p - 2 : 0; q <= std::min(p + 2, sentence.size() - 1); ++q)
                if (q != p) context.push_back(sentence[q]);
            std::vector<std::size_t> outputs = {sentence[p]};
            std::vector<double> labels = {1.0};
            for (int k = 0; k < 3; ++k) outputs.push_back(gen.below(c.vocabulary)), labels.push_back(0.0);
            total += net.step_logistic(context, outputs, labels, lr);
            ++count;
        }
    return total / static_cast<double>(count);
}

// Fraction of words whose nearest neighbour (cosine of input embeddings) belongs to the same topic.
double topic_accuracy(const lim::onehot_linear_net<double>& net, const corpus& c) {
    const auto& e = net.input_embeddings();
    std::vector<double> norm(c.vocabulary);
    for (std::size_t w = 0; w < c.vocabulary; ++w) norm[w] = std::sqrt(xt::sum(xt::square(xt::view(e, w, xt::all())))()) + 1e-300;
    std::size_t hits = 0;
    for (std::size_t w = 0; w < c.vocabulary; ++w) {
        double best = -2;
        std::size_t arg = 0;
        for (std::size_t v = 0; v < c.vocabulary; ++v) {
            if (v == w) continue;
            const double cosine = xt::sum(xt::view(e, w, xt::all()) * xt::view(e, v, xt::all()))() / (norm[w] * norm[v]);
            if (cosine > best) best = cosine, arg = v;
        }
        hits += arg / c.per_topic == w / c.per_topic;
    }
    return static_cast<double>(hits) / static_cast<double>(c.vocabulary);
}

}  // namespace

TEST_CASE("onehot_linear_net: the sparse logistic step equals the dense limit step (compacted and full width)") {
    const std::size_t v = 6;
    for (double sigma_v : {0.0, 0.7}) {
        CAPTURE(sigma_v);
        const lim::mup_linear_options options{.lr = 0.4, .sigma_u = 1.0, .sigma_v = sigma_v, .output_multiplier = 1.3};
        lim::mup_linear<double> dense(v, v, options);
        auto sparse = lim::onehot_linear_net<double>::from_limit(dense);
        CHECK(sparse.width() == (sigma_v == 0.0 ? v : 2 * v));
        widenn::rng gen(5);
        for (int t = 0; t < 8; ++t) {
            const std::vector<std::size_t> inputs = {gen.below(v), gen.below(v)};
            const std::vector<std::size_t> outputs = {t % v, (t + 2) % v, (t + 3) % v};
            const std::vector<double> labels = {1.0, 0.0, 0.0};
            matrix<double> x = xt::zeros<double>({std::size_t{1}, v});
            for (auto i : inputs) x(0, i) += 0.5;
            const auto f = dense.predict(x);
            const auto s = sparse.logits(inputs, outputs);
            matrix<double> g = xt::zeros<double>({std::size_t{1}, v});
            for (std::size_t q = 0; q < outputs.size(); ++q) {
                CHECK(std::abs(s[q] - f(0, outputs[q])) < 1e-12);
                g(0, outputs[q]) = 1.0 / (1.0 + std::exp(-f(0, outputs[q]))) - labels[q];
            }
            sparse.step_logistic(inputs, outputs, labels, options.lr);
            dense.step_with_output_gradient(x, g);
        }
    }
}

TEST_CASE("CBOW on a generated corpus: the μP limit learns the topics; finite widths approach the limit") {
    const corpus c = generate(4, 6, 150, 3);
    const lim::mup_linear_options options{.lr = 0.1, .sigma_u = 1.0, .sigma_v = 0.0};  // word2vec: syn1neg = 0
    lim::mup_linear<double> limit(c.vocabulary, c.vocabulary, options);
    auto limit_net = lim::onehot_linear_net<double>::from_limit(limit);
    CHECK(limit_net.width() == c.vocabulary);
    std::vector<lim::onehot_linear_net<double>> finite;
    const std::vector<std::size_t> widths = {64, 1024};
    for (std::size_t w : widths) finite.push_back(lim::onehot_linear_net<double>::from_finite(limit.sample(w, 11), options));
    double first_loss = 0, last_loss = 0;
    for (int epoch = 0; epoch < 4; ++epoch) {
        last_loss = train_epoch(limit_net, c, 0.1, 100 + epoch);
        if (epoch == 0) first_loss = last_loss;
        for (auto& net : finite) train_epoch(net, c, 0.1, 100 + epoch);
    }
    CHECK(last_loss < 0.8 * first_loss);
    const double accuracy = topic_accuracy(limit_net, c);
    MESSAGE("limit: loss " << first_loss << " -> " << last_loss << ", nearest-neighbour topic accuracy " << accuracy);
    CHECK(accuracy >= 0.9);  // chance is 5/23
    // logits of every (word, word) pair against the limit's
    std::vector<double> distance;
    for (auto& net : finite) {
        double sum2 = 0;
        for (std::size_t w = 0; w < c.vocabulary; ++w) {
            std::vector<std::size_t> all(c.vocabulary);
            for (std::size_t k = 0; k < all.size(); ++k) all[k] = k;
            const std::size_t in[1] = {w};
            const auto a = net.logits(in, all), b = limit_net.logits(in, all);
            for (std::size_t k = 0; k < all.size(); ++k) sum2 += (a[k] - b[k]) * (a[k] - b[k]);
        }
        distance.push_back(std::sqrt(sum2 / double(c.vocabulary * c.vocabulary)));
    }
    MESSAGE("rms logit distance to the limit: width 64: " << distance[0] << ", width 1024: " << distance[1]);
    CHECK(distance[1] < distance[0] / 2.0);  // 1/sqrt(n) predicts a factor 4
    CHECK_THROWS_AS(limit_net.logits(std::vector<std::size_t>{c.vocabulary}, std::vector<std::size_t>{0}), widenn::shape_error);
}
