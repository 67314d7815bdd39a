// `widenn classify`: the TP4 classification of a preset or of given abc exponents; a tour section for the presets.
#include <iomanip>
#include <iostream>
#include <sstream>
#include <utility>

#include <widenn/param/classify.hpp>

#include "cli.hpp"
#include "param_presets.hpp"

namespace {

using widenn::layer_exponents;
using widenn::rational;
using widenn::param::classification;

using widenn::cli::presets::preset;

std::string failed_conditions_json(const classification& k) {
    std::ostringstream out;
    const char* separator = "";
    out << '[';
    for (std::size_t i = 0; i < k.condition_holds.size(); ++i)
        if (!k.condition_holds[i]) out << std::exchange(separator, ", ") << (i + 1);
    out << ']';
    return out.str();
}

void print_json(std::ostream& out, const std::string& name, const classification& k) {
    out << "{\"preset\": \"" << name << "\", \"depth\": " << k.depth << ", \"stable\": " << (k.stable ? "true" : "false")
        << ", \"nontrivial\": " << (k.nontrivial ? "true" : "false") << ", \"r\": \"" << k.r << "\", \"r_l\": [";
    for (int l = 0; l < k.depth; ++l) out << (l ? ", " : "") << '"' << k.r_l[l] << '"';
    out << "], \"regime\": \"" << widenn::to_string(k.regime) << "\", \"failed_conditions\": " << failed_conditions_json(k)
        << ", \"updated_maximally\": [";
    for (int l = 0; l <= k.depth; ++l) out << (l ? ", " : "") << (k.updated_maximally[l] ? "true" : "false");
    out << "]}\n";
}

void print_table_header(std::ostream& out) {
    out << std::left << std::setw(12) << "preset" << std::setw(4) << "L" << std::setw(8) << "stable" << std::setw(11) << "nontrivial"
        << std::setw(6) << "r" << std::setw(18) << "regime" << "r_l (l = 1..L)   failed conditions\n";
}

void print_table_row(std::ostream& out, const std::string& name, const classification& k) {
    std::ostringstream rl;
    for (int l = 0; l < k.depth; ++l) rl << (l ? "," : "") << k.r_l[l];
    out << std::left << std::setw(12) << name << std::setw(4) << k.depth << std::setw(8) << (k.stable ? "yes" : "no")
        << std::setw(11) << (k.nontrivial ? "yes" : "no") << std::setw(6) << widenn::to_string(k.r) << std::setw(18)
        << widenn::to_string(k.regime) << std::setw(17) << rl.str();
    for (std::size_t i = 0; i < k.condition_holds.size(); ++i)
        if (!k.condition_holds[i]) out << "\n      fails " << (i + 1) << ": " << widenn::param::stability_conditions[i];
    out << '\n';
}

int run_classify(widenn::cli::args& a) {
    using widenn::cli::usage_error;
    const int depth = a.integer<int>("depth", 2, 1, widenn::param::max_classified_depth);
    const bool json = a.has("json");
    preset chosen{"custom", {}, {}, {}, 0};
    if (a.has("preset")) {
        const std::string name = a.required_text("preset");
        const preset* found = widenn::cli::presets::find(name);
        if (!found) throw usage_error("unknown preset '" + name + "' (choose " + widenn::cli::presets::preset_names + ")");
        chosen = *found;
        if (chosen.max_depth > 0 && depth > chosen.max_depth)
            throw usage_error("preset " + name + " is defined for " + std::to_string(chosen.max_depth) + " hidden layer(s); got --depth " + std::to_string(depth));
    }
    // Explicit exponents override the preset's (and a single --c sets every layer's SGD exponent).
    chosen.input.a = a.fraction("a-in", chosen.input.a);
    chosen.input.b = a.fraction("b-in", chosen.input.b);
    chosen.hidden.a = a.fraction("a-hidden", chosen.hidden.a);
    chosen.hidden.b = a.fraction("b-hidden", chosen.hidden.b);
    chosen.output.a = a.fraction("a-out", chosen.output.a);
    chosen.output.b = a.fraction("b-out", chosen.output.b);
    if (a.has("c")) chosen.input.c = chosen.hidden.c = chosen.output.c = a.fraction("c", 0);
    a.reject_unknown();
    const auto k = widenn::param::classify(chosen.input, chosen.hidden, chosen.output, static_cast<int>(depth));
    if (json) {
        print_json(std::cout, chosen.name, k);
    } else {
        print_table_header(std::cout);
        print_table_row(std::cout, chosen.name, k);
    }
    return 0;
}

const bool registered_command = widenn::cli::add_command({
    "classify",
    "TP4 classification of an abc-parametrization (stable, r, regime)",
    "usage: widenn classify [--preset sp|sp-lr|ntk|mf|mup|mup-table3] [--depth L]\n"
    "                       [--a-in Q --b-in Q --a-hidden Q --b-hidden Q --a-out Q --b-out Q --c Q] [--json]\n\n"
    "Classifies the parametrization W_l = n^{-a_l} w_l, w_l ~ N(0, n^{-2 b_l}), SGD learning rate eta n^{-c}\n"
    "(Yang & Hu 2020, Tensor Programs IV, Thm 3.3 and Cor 3.9) for L hidden layers (default 2).\n"
    "Exponents are rationals such as 0, 1/2 or -1/2; given exponents override the preset's.\n"
    "Prints stable, nontrivial, r, r_l per layer, the regime (unstable, trivial, kernel, feature_learning)\n"
    "and the stability conditions that fail; --json prints one JSON object with the keys\n"
    "stable, nontrivial, r, r_l, regime, failed_conditions, updated_maximally.\n",
    run_classify,
});

const bool registered_section = widenn::cli::add_tour_section({
    10,
    "Parametrizations, classified at compile time (TP4 Thm 3.3, Cor 3.9)",
    [](std::ostream& out) {
        out << "W_l = n^{-a_l} w_l, w_l ~ N(0, n^{-2b_l}), SGD learning rate eta n^{-c}; r = 0 means features move.\n";
        print_table_header(out);
        for (const auto& p : widenn::cli::presets::all())
            for (int depth : {1, 3})
                if (p.max_depth == 0 || depth <= p.max_depth)
                    print_table_row(out, p.name, widenn::param::classify(p.input, p.hidden, p.output, depth));
    },
});

}  // namespace
