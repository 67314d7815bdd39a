#pragma once
// The `widenn` command's small framework. Each subcommand and each tour section lives in its
// own .cpp file and registers itself, so capabilities add commands without touching main.cpp.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <concepts>
#include <functional>
#include <iostream>
#include <limits>
#include <map>
#include <ostream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <widenn/core/errors.hpp>
#include <widenn/core/rational.hpp>

namespace widenn::cli {

// Bad command-line input: printed as one line, exit code 2.
struct usage_error : widenn::error {
    using widenn::error::error;
};

// `--key value` options and `--flag` switches; every option must be declared by the command.
class args {
public:
    // `invocation` is how the user calls the program, for the hint in error messages ("widenn kernel").
    args(std::string command, std::vector<std::string> tokens, std::string invocation = "")
        : command_(std::move(command)), invocation_(invocation.empty() ? "widenn " + command_ : std::move(invocation)) {
        for (std::size_t i = 0; i < tokens.size(); ++i) {
            const std::string& t = tokens[i];
            if (t.rfind("--", 0) != 0) throw usage_error("unexpected argument '" + t + "' (see " + invocation_ + " --help)");
            const std::string key = t.substr(2);
            const auto eq = key.find('=');
            if (eq != std::string::npos) {
                values_[key.substr(0, eq)] = key.substr(eq + 1);
            } else if (i + 1 < tokens.size() && !(tokens[i + 1].rfind("--", 0) == 0 && !is_number(tokens[i + 1]))) {
                values_[key] = tokens[++i];
            } else {
                values_[key] = "";  // a switch
            }
        }
    }

    const std::string& command() const { return command_; }
    bool has(const std::string& key) { used_.insert(key); return values_.count(key) != 0; }

    std::string text(const std::string& key, const std::string& fallback) {
        return has(key) ? values_.at(key) : fallback;
    }
    std::string required_text(const std::string& key) {
        if (!has(key) || values_.at(key).empty()) throw usage_error("--" + key + " is required");
        return values_.at(key);
    }
    // A finite number in [min, max] (NaN and infinities are refused).
    double real(const std::string& key, double fallback, double min = -std::numeric_limits<double>::max(),
                double max = std::numeric_limits<double>::max()) {
        if (!has(key)) return fallback;
        const double v = parse_real(key, values_.at(key));
        if (!(v >= min && v <= max)) throw usage_error("--" + key + " must be in [" + format(min) + ", " + format(max) + "], got " + values_.at(key));
        return v;
    }
    // An integer in [min, max] of type I, with no narrowing: 4294967299 for an int is an error, not 3.
    template <std::integral I = long>
    I integer(const std::string& key, I fallback, I min = std::numeric_limits<I>::min(), I max = std::numeric_limits<I>::max()) {
        if (!has(key)) return fallback;
        return parse_integer<I>(key, values_.at(key), min, max);
    }
    // A count or size: an integer in [min, max], as std::size_t.
    std::size_t count(const std::string& key, std::size_t fallback, std::size_t min = 1,
                      std::size_t max = std::numeric_limits<std::size_t>::max()) {
        return integer<std::size_t>(key, fallback, min, max);
    }
    rational fraction(const std::string& key, rational fallback) {
        if (!has(key)) return fallback;
        try {
            return parse_rational(values_.at(key));
        } catch (const widenn::error& e) {
            throw usage_error("--" + key + ": " + e.what());
        }
    }
    // A comma-separated list of integers, e.g. --widths 128,256,512.
    template <std::integral I = long>
    std::vector<I> integers(const std::string& key, std::vector<I> fallback, I min = std::numeric_limits<I>::min(),
                            I max = std::numeric_limits<I>::max()) {
        if (!has(key)) return fallback;
        std::vector<I> out;
        const std::string& v = values_.at(key);
        for (std::size_t start = 0; start <= v.size();) {
            const auto comma = std::min(v.find(',', start), v.size());
            out.push_back(parse_integer<I>(key, v.substr(start, comma - start), min, max));
            start = comma + 1;
        }
        return out;
    }
    // Call after reading every option: an option the command did not read is a typo.
    void reject_unknown() const {
        for (const auto& [key, value] : values_)
            if (!used_.count(key)) throw usage_error("unknown option --" + key + " (see " + invocation_ + " --help)");
    }

private:
    static bool is_number(const std::string& s) {
        return s.size() > 1 && s[0] == '-' && (std::isdigit(static_cast<unsigned char>(s[1])) || s[1] == '.');
    }
    static std::string format(double v) {
        std::ostringstream out;
        out << v;
        return out.str();
    }
    double parse_real(const std::string& key, const std::string& v) const {
        double out = 0;
        const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
        if (ec != std::errc() || end != v.data() + v.size() || !std::isfinite(out))
            throw usage_error("--" + key + " expects a finite number, got '" + v + "'");
        return out;
    }
    template <std::integral I>
    I parse_integer(const std::string& key, const std::string& v, I min, I max) const {
        // Parsed as the widest signed type, then range-checked: no wrap-around, no narrowing.
        long long wide = 0;
        const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), wide);
        const std::string range = std::string("[") + std::to_string(min) + ", " + std::to_string(max) + "]";  // not "[" + string: GCC 12 -Wrestrict false positive
        if (ec == std::errc::result_out_of_range) throw usage_error("--" + key + " must be an integer in " + range + ", got " + v);
        if (ec != std::errc() || end != v.data() + v.size() || v.empty())
            throw usage_error("--" + key + " expects an integer, got '" + v + "'");
        if (std::cmp_less(wide, min) || std::cmp_greater(wide, max))
            throw usage_error("--" + key + " must be an integer in " + range + ", got " + v);
        return static_cast<I>(wide);
    }

    std::string command_, invocation_;
    std::map<std::string, std::string> values_;
    std::set<std::string> used_;
};

struct command {
    std::string name;
    std::string summary;  // one line for `widenn --help`
    std::string help;     // the whole text for `widenn NAME --help`
    std::function<int(args&)> run;
};

struct tour_section {
    int order;  // sections run in increasing order
    std::string title;
    std::function<void(std::ostream&)> run;
};

inline std::vector<command>& commands() {
    static std::vector<command> all;
    return all;
}
inline std::vector<tour_section>& tour_sections() {
    static std::vector<tour_section> all;
    return all;
}

// Use at namespace scope: `static const bool registered = widenn::cli::add_command({...});`
inline bool add_command(command c) {
    commands().push_back(std::move(c));
    return true;
}
inline bool add_tour_section(tour_section s) {
    tour_sections().push_back(std::move(s));
    return true;
}

// The main() of a stand-alone example: `--help` prints the usage and exits 0; bad options (usage_error or any
// widenn::error) print one line and exit 2; a numerical failure exits 1. `body(args&)` reads its options, calls
// args.reject_unknown() and runs.
template <class Body>
int run_program(const std::string& name, const std::string& usage, int argc, char** argv, Body&& body) {
    std::vector<std::string> tokens(argv + 1, argv + argc);
    for (const auto& t : tokens)
        if (t == "--help" || t == "-h") {
            std::cout << usage;
            return 0;
        }
    try {
        args a(name, std::move(tokens), name);
        return body(a);
    } catch (const widenn::numerical_error& e) {
        std::cerr << name << ": " << e.what() << '\n';
        return 1;
    } catch (const widenn::error& e) {
        std::cerr << name << ": " << e.what() << '\n';
        return 2;
    } catch (const std::exception& e) {
        std::cerr << name << ": " << e.what() << '\n';
        return 1;
    }
}

}  // namespace widenn::cli
