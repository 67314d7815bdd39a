// Word embeddings from CBOW with negative sampling, at finite μP widths and in the exact infinite-width μP limit
// (TP4 §10: the limit of this linear net is a coefficient network of width V; the TP4 code runs word2vec with the
// input embeddings initialised to the identity and the output embeddings to zero).
//
//   word_embeddings [--text FILE] [--widths 16,64,256,1024] [--epochs E] [--lr ETA] [--window W] [--negative K]
//                   [--max-vocab V] [--min-count C] [--out-dir DIR] [--seed S]
//
// Without --text a corpus is generated: 10 topics of 20 words plus 20 function words; each sentence picks a topic.
// Scores (defined here):
//   topic accuracy      generated corpus only: fraction of topic words whose nearest neighbour (cosine of input
//                       embeddings) is a word of the same topic (chance: 19/219);
//   neighbour overlap   any corpus: mean over the 50 most frequent words of |top-5 neighbours ∩ the limit's top-5| / 5.
// Writes DIR/word_embeddings.csv and DIR/word_embeddings.png.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include <widenn/core/rng.hpp>
#include <widenn/io/plot.hpp>
#include <widenn/limit/mup_linear.hpp>

#include "cli/cli.hpp"

namespace {

namespace lim = widenn::limit;
using net_t = lim::onehot_linear_net<double>;

struct corpus {
    std::vector<std::string> words;               // vocabulary, most frequent first
    std::vector<std::size_t> counts;
    std::vector<std::vector<std::size_t>> sentences;
    std::vector<int> topic;                       // generated corpus: topic of each word (−1: function word)
};

corpus generated(std::uint64_t seed) {
    const std::size_t topics = 10, per_topic = 20, function_words = 20, sentences = 1200;
    corpus c;
    for (std::size_t t = 0; t < topics; ++t)
        for (std::size_t k = 0; k < per_topic; ++k) c.words.push_back(widenn::detail::concat("t", t, "w", k)), c.topic.push_back(int(t));
    for (std::size_t k = 0; k < function_words; ++k) c.words.push_back(widenn::detail::concat("f", k)), c.topic.push_back(-1);
    c.counts.assign(c.words.size(), 0);
    widenn::rng gen(seed);
    for (std::size_t s = 0; s < sentences; ++s) {
        const std::size_t t = gen.below(topics);
        std::vector<std::size_t> sentence;
        for (int k = 0; k < 12; ++k) {
            const std::size_t w = gen.uniform() < 0.5 ? t * per_topic + gen.below(per_topic) : topics * per_topic + gen.below(function_words);
            sentence.push_back(w);
            ++c.counts[w];
        }
        c.sentences.push_back(std::move(sentence));
    }
    return c;
}

// Lower-case words of letters; a line is a sentence (long lines are cut into pieces of 40 words).
corpus from_text(const std::string& path, std::size_t max_vocab, std::size_t min_count) {
    std::ifstream in(path);
    widenn::require(static_cast<bool>(in), "word_embeddings: cannot open '", path, "'");
    std::vector<std::vector<std::string>> raw;
    std::unordered_map<std::string, std::size_t> count;
    std::string line;
    while (std::getline(in, line)) {
        std::vector<std::string> sentence;
        std::string word;
        for (char ch : line + ' ') {
            if (std::isalpha(static_cast<unsigned char>(ch))) {
                word += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
            } else if (!word.empty()) {
                ++count[word];
                sentence.push_back(std::move(word));
                word.clear();
                if (sentence.size() == 40) raw.push_back(std::move(sentence)), sentence.clear();
            }
        }
        if (!sentence.empty()) raw.push_back(std::move(sentence));
    }
    std::vector<std::pair<std::size_t, std::string>> ranked;
    for (auto& [w, n] : count)
        if (n >= min_count) ranked.emplace_back(n, w);
    std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) { return a.first != b.first ? a.first > b.first : a.second < b.second; });
    if (ranked.size() > max_vocab) ranked.resize(max_vocab);
    widenn::require(ranked.size() >= 10, "word_embeddings: '", path, "' has only ", ranked.size(), " words occurring at least ", min_count,
                    " times; need 10 (lower --min-count or give more text)");
    corpus c;
    std::unordered_map<std::string, std::size_t> index;
    for (auto& [n, w] : ranked) index[w] = c.words.size(), c.words.push_back(w), c.counts.push_back(n);
    for (const auto& s : raw) {
        std::vector<std::size_t> ids;
        for (const auto& w : s)
            if (auto it = index.find(w); it != index.end()) ids.push_back(it->second);
        if (ids.size() >= 2) c.sentences.push_back(std::move(ids));
    }
    return c;
}

// Negative samples from the unigram distribution to the power 3/4 (word2vec).
class negative_sampler {
public:
    explicit negative_sampler(const std::vector<std::size_t>& counts) {
        double total = 0;
        for (auto n : counts) cumulative_.push_back(total += std::pow(static_cast<double>(n), 0.75));
        for (auto& v : cumulative_) v /= total;
    }
    std::size_t draw(widenn::rng& gen) const {
        const auto it = std::upper_bound(cumulative_.begin(), cumulative_.end(), gen.uniform());
        return std::min<std::size_t>(static_cast<std::size_t>(it - cumulative_.begin()), cumulative_.size() - 1);
    }

private:
    std::vector<double> cumulative_;
};

struct settings {
    int epochs, window, negative;
    double lr;
    std::uint64_t seed;
};

// One epoch of CBOW: for each position, the mean of the context words predicts the word against `negative` samples.
// The learning rate decays linearly over all epochs to 1e-4 of its start (word2vec). Returns the mean loss.
double train_epoch(net_t& net, const corpus& c, const negative_sampler& sampler, const settings& s, int epoch, std::size_t total_tokens,
                   std::size_t& seen) {
    widenn::rng gen = widenn::rng::stream(s.seed, static_cast<std::uint64_t>(epoch));
    double total = 0;
    std::size_t count = 0;
    std::vector<std::size_t> context, outputs;
    std::vector<double> labels;
    for (const auto& sentence : c.sentences)
        for (std::size_t p = 0; p < sentence.size(); ++p, ++seen) {
            const double progress = static_cast<double>(seen) / static_cast<double>(total_tokens);
            const double lr = s.lr * std::max(1e-4, 1.0 - progress);
            context.clear();
            const std::size_t w = static_cast<std::size_t>(s.window);
            for (std::size_t q = p >= w ? p - w : 0; q <= std::min(p + w, sentence.size() - 1); ++q)
                if (q != p) context.push_back(sentence[q]);
            if (context.empty()) continue;
            outputs.assign(1, sentence[p]);
            labels.assign(1, 1.0);
            for (int k = 0; k < s.negative; ++k) {
                const std::size_t o = sampler.draw(gen);
                if (o != sentence[p]) outputs.push_back(o), labels.push_back(0.0);
            }
            total += net.step_logistic(context, outputs, labels, lr);
            ++count;
        }
    return total / static_cast<double>(std::max<std::size_t>(count, 1));
}

std::vector<double> norms(const net_t& net) {
    const auto& e = net.input_embeddings();
    std::vector<double> out(e.shape()[0]);
    for (std::size_t w = 0; w < out.size(); ++w) {
        double s = 0;
        for (std::size_t c = 0; c < e.shape()[1]; ++c) s += e(w, c) * e(w, c);
        out[w] = std::sqrt(s) + 1e-300;
    }
    return out;
}

// The k nearest neighbours of word w by cosine similarity of the input embeddings.
std::vector<std::size_t> neighbours(const net_t& net, const std::vector<double>& norm, std::size_t w, std::size_t k) {
    const auto& e = net.input_embeddings();
    std::vector<std::pair<double, std::size_t>> scored;
    for (std::size_t v = 0; v < e.shape()[0]; ++v) {
        if (v == w) continue;
        double s = 0;
        for (std::size_t c = 0; c < e.shape()[1]; ++c) s += e(w, c) * e(v, c);
        scored.emplace_back(-s / (norm[w] * norm[v]), v);
    }
    std::partial_sort(scored.begin(), scored.begin() + static_cast<long>(std::min(k, scored.size())), scored.end());
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < std::min(k, scored.size()); ++i) out.push_back(scored[i].second);
    return out;
}

double topic_accuracy(const net_t& net, const corpus& c) {
    const auto norm = norms(net);
    std::size_t hits = 0, total = 0;
    for (std::size_t w = 0; w < c.words.size(); ++w) {
        if (c.topic[w] < 0) continue;
        ++total;
        hits += c.topic[neighbours(net, norm, w, 1)[0]] == c.topic[w];
    }
    return static_cast<double>(hits) / static_cast<double>(total);
}

double neighbour_overlap(const net_t& net, const net_t& limit, const corpus& c) {
    const auto a = norms(net), b = norms(limit);
    const std::size_t words = std::min<std::size_t>(50, c.words.size());
    double sum = 0;
    for (std::size_t w = 0; w < words; ++w) {  // the vocabulary is sorted by frequency (generated: all similar)
        auto x = neighbours(net, a, w, 5), y = neighbours(limit, b, w, 5);
        std::sort(x.begin(), x.end());
        std::sort(y.begin(), y.end());
        std::vector<std::size_t> common;
        std::set_intersection(x.begin(), x.end(), y.begin(), y.end(), std::back_inserter(common));
        sum += static_cast<double>(common.size()) / 5.0;
    }
    return sum / static_cast<double>(words);
}

int run(const std::string& text, const std::string& dir, const std::vector<std::size_t>& widths, const settings& s,
        std::size_t max_vocab, std::size_t min_count) {
    widenn::io::require_writable(dir + "/word_embeddings.csv", "--out-dir");
    const corpus c = text.empty() ? generated(s.seed) : from_text(text, max_vocab, min_count);
    std::size_t tokens = 0;
    for (const auto& sentence : c.sentences) tokens += sentence.size();
    const std::size_t v = c.words.size();
    std::cerr << "corpus: " << (text.empty() ? std::string("generated (10 topics)") : text) << ", " << tokens << " tokens, vocabulary " << v << '\n';

    // The limit: the coefficient net of width 2V with σ_u = 1, σ_v = 0, compacted to width V (identity / zero, as in TP4).
    const lim::mup_linear_options options{.lr = s.lr, .sigma_u = 1.0, .sigma_v = 0.0};
    const lim::mup_linear<double> limit_coefficients(v, v, options);
    std::vector<net_t> nets;
    nets.push_back(net_t::from_limit(limit_coefficients));
    for (std::size_t w : widths) nets.push_back(net_t::from_finite(limit_coefficients.sample(w, s.seed + 1), options));
    const negative_sampler sampler(c.counts);

    std::vector<double> losses(nets.size());
    for (std::size_t k = 0; k < nets.size(); ++k) {
        std::size_t seen = 0;
        for (int epoch = 0; epoch < s.epochs; ++epoch) {
            losses[k] = train_epoch(nets[k], c, sampler, s, epoch, tokens * static_cast<std::size_t>(s.epochs), seen);
            std::cerr << "  " << (k == 0 ? std::string("limit     ") : widenn::detail::concat("width ", nets[k].width())) << "  epoch " << epoch + 1
                      << "/" << s.epochs << "  loss " << losses[k] << '\n';
        }
    }

    widenn::io::csv_writer csv(dir + "/word_embeddings.csv", {"width", "loss", "topic_accuracy", "neighbour_overlap"});
    std::cout << "  model        loss     " << (text.empty() ? "topic accuracy  " : "") << "neighbour overlap with the limit\n";
    for (std::size_t k = 0; k < nets.size(); ++k) {
        const double accuracy = text.empty() ? topic_accuracy(nets[k], c) : std::nan("");
        const double overlap = neighbour_overlap(nets[k], nets[0], c);
        csv.row(k == 0 ? 0 : nets[k].width(), losses[k], accuracy, overlap);
        std::cout << "  " << std::left << std::setw(11) << (k == 0 ? std::string("limit") : widenn::detail::concat("width ", nets[k].width()))
                  << std::right << std::setw(8) << std::setprecision(4) << losses[k];
        if (text.empty()) std::cout << std::setw(12) << accuracy << "    ";
        std::cout << std::setw(12) << overlap << '\n';
    }
    // A few neighbours in the limit.
    const auto norm = norms(nets[0]);
    std::cout << "nearest neighbours in the limit:\n";
    for (std::size_t w = 0; w < std::min<std::size_t>(5, v); ++w) {
        const std::size_t word = text.empty() ? w * 20 : w;
        if (word >= v) break;
        std::cout << "  " << c.words[word] << ":";
        for (auto n : neighbours(nets[0], norm, word, 5)) std::cout << ' ' << c.words[n];
        std::cout << '\n';
    }
    csv.close();  // the CSV appears whole here, before gnuplot reads it
    std::string reason;
    const std::string data = widenn::io::gnuplot_quote(csv.path());
    const std::string script = "set terminal pngcairo size 700,450\nset output " + widenn::io::gnuplot_quote(dir + "/word_embeddings.png") +
                               "\nset datafile separator ','\nset logscale x 2\nset xlabel 'width (finite muP nets)'\nset ylabel 'score'\n"
                               "set yrange [0:1.05]\nset key bottom right\nset title 'CBOW word embeddings: finite muP widths vs the infinite-width limit'\n"
                               "plot " + data + " every ::2 using 1:4 with linespoints title 'neighbour overlap with the limit'" +
                               (text.empty() ? ", " + data + " every ::2 using 1:3 with linespoints title 'topic accuracy', " + data +
                                                   " every ::1::1 using (" + std::to_string(widths.front()) + "):3:(" +
                                                   std::to_string(widths.back() - widths.front()) + "):(0) with vectors nohead dt 2 title 'limit: topic accuracy'"
                                             : std::string()) +
                               "\n";
    if (widenn::io::run_gnuplot(script, &reason))
        std::cout << "wrote " << dir << "/word_embeddings.png\n";
    else
        std::cout << "no plot: " << reason << '\n';
    std::cout << "wrote " << csv.path() << '\n';
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string usage =
        "usage: word_embeddings [--text FILE] [--widths 16,64,256,1024] [--epochs 3] [--lr 0.1] [--window 4]\n"
        "                       [--negative 5] [--max-vocab 2000] [--min-count 3] [--out-dir .] [--seed 0]\n"
        "CBOW word embeddings with negative sampling at finite muP widths and in the exact infinite-width muP limit, on\n"
        "FILE or (without --text) a generated 10-topic corpus. Writes DIR/word_embeddings.csv and, with gnuplot,\n"
        "DIR/word_embeddings.png.\n";
    return widenn::cli::run_program("word_embeddings", usage, argc, argv, [](widenn::cli::args& a) {
        const std::string text = a.text("text", "");
        const std::string dir = a.text("out-dir", ".");
        const auto widths = a.integers<std::size_t>("widths", {16, 64, 256, 1024}, 1, std::size_t{1} << 24);
        const settings s{a.integer<int>("epochs", 3, 1, 1000000), a.integer<int>("window", 4, 1, 1000000),
                         a.integer<int>("negative", 5, 0, 1000000), a.real("lr", 0.1, 0.0, 1e6),
                         a.integer<std::uint64_t>("seed", 0)};
        const std::size_t max_vocab = a.count("max-vocab", 2000), min_count = a.count("min-count", 3, 0);
        a.reject_unknown();
        if (!(s.lr > 0)) throw widenn::cli::usage_error("--lr must be positive, got " + std::to_string(s.lr));
        if (dir.empty()) throw widenn::cli::usage_error("--out-dir needs a directory");
        return run(text, dir, widths, s, max_vocab, min_count);
    });
}
