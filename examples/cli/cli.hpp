#pragma once
// The `widenn` command's small framework. Each subcommand and each tour section lives in its
// own .cpp file and registers itself, so capabilities add commands without touching main.cpp.
#include <algorithm>
#include <charconv>
#include <functional>
#include <map>
#include <ostream>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
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
    args(std::string command, std::vector<std::string> tokens) : command_(std::move(command)) {
        for (std::size_t i = 0; i < tokens.size(); ++i) {
            const std::string& t = tokens[i];
            if (t.rfind("--", 0) != 0) throw usage_error("unexpected argument '" + t + "' (see widenn " + command_ + " --help)");
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
    double real(const std::string& key, double fallback) {
        if (!has(key)) return fallback;
        return parse_real(key, values_.at(key));
    }
    long integer(const std::string& key, long fallback) {
        if (!has(key)) return fallback;
        return parse_integer(key, values_.at(key));
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
    std::vector<long> integers(const std::string& key, std::vector<long> fallback) {
        if (!has(key)) return fallback;
        std::vector<long> out;
        std::string item;
        const std::string& v = values_.at(key);
        for (std::size_t start = 0; start <= v.size();) {
            const auto comma = std::min(v.find(',', start), v.size());
            out.push_back(parse_integer(key, v.substr(start, comma - start)));
            start = comma + 1;
        }
        return out;
    }
    // Call after reading every option: an option the command did not read is a typo.
    void reject_unknown() const {
        for (const auto& [key, value] : values_)
            if (!used_.count(key)) throw usage_error("unknown option --" + key + " (see widenn " + command_ + " --help)");
    }

private:
    static bool is_number(const std::string& s) {
        return s.size() > 1 && s[0] == '-' && (std::isdigit(static_cast<unsigned char>(s[1])) || s[1] == '.');
    }
    double parse_real(const std::string& key, const std::string& v) const {
        double out = 0;
        const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
        if (ec != std::errc() || end != v.data() + v.size())
            throw usage_error("--" + key + " expects a number, got '" + v + "'");
        return out;
    }
    long parse_integer(const std::string& key, const std::string& v) const {
        long out = 0;
        const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
        if (ec != std::errc() || end != v.data() + v.size())
            throw usage_error("--" + key + " expects an integer, got '" + v + "'");
        return out;
    }

    std::string command_;
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

}  // namespace widenn::cli
