#pragma once
// CSV output and gnuplot plots for examples and commands: results people would rather look at
// are written as a CSV (the data) and, when gnuplot is installed, a PNG (the picture).
#include <cstdio>
#include <fstream>
#include <initializer_list>
#include <string>
#include <vector>

#include "../core/errors.hpp"

namespace widenn::io {

// A CSV file with a fixed header; each row() call writes one line.
class csv_writer {
public:
    csv_writer(const std::string& path, std::initializer_list<std::string> columns) : csv_writer(path, std::vector<std::string>(columns)) {}
    // For a header known only at run time (one column per model, say).
    csv_writer(const std::string& path, const std::vector<std::string>& columns) : path_(path), out_(path), columns_(columns.size()) {
        require(static_cast<bool>(out_), "widenn::io::csv_writer: cannot open '", path, "' for writing");
        write_line(columns);
    }
    template <class... Values>
    void row(const Values&... values) {
        if (sizeof...(values) != columns_)
            fail<shape_error>("widenn::io::csv_writer::row: ", path_, " has ", columns_, " columns, got ", sizeof...(values), " values");
        const char* separator = "";
        ((out_ << separator << values, separator = ","), ...);
        out_ << '\n';
        out_.flush();
    }
    // One line of already formatted fields.
    void row_of(const std::vector<std::string>& fields) {
        if (fields.size() != columns_)
            fail<shape_error>("widenn::io::csv_writer::row_of: ", path_, " has ", columns_, " columns, got ", fields.size(), " fields");
        write_line(fields);
    }
    const std::string& path() const { return path_; }

private:
    void write_line(const std::vector<std::string>& fields) {
        const char* separator = "";
        for (const auto& f : fields) {
            out_ << separator << f;
            separator = ",";
        }
        out_ << '\n';
        out_.flush();
    }

    std::string path_;
    std::ofstream out_;
    std::size_t columns_;
};

// True when a gnuplot executable is on PATH.
inline bool gnuplot_available() { return std::system("command -v gnuplot > /dev/null 2>&1") == 0; }

// Runs a gnuplot script (which should `set output` itself). Returns false, and says why in
// `reason`, when gnuplot is missing or fails; plots are a convenience, so callers report and go on.
inline bool run_gnuplot(const std::string& script, std::string* reason = nullptr) {
    if (!gnuplot_available()) {
        if (reason) *reason = "gnuplot is not installed (apt-get install gnuplot-nox); the CSV has the data";
        return false;
    }
    FILE* pipe = popen("gnuplot 2>&1", "w");
    if (!pipe) {
        if (reason) *reason = "could not start gnuplot";
        return false;
    }
    std::fputs(script.c_str(), pipe);
    const int status = pclose(pipe);
    if (status != 0 && reason) *reason = "gnuplot exited with status " + std::to_string(status);
    return status == 0;
}

// Quotes a path for a gnuplot script.
inline std::string gnuplot_quote(const std::string& text) {
    std::string out = "'";
    for (char ch : text) out += ch == '\'' ? std::string("''") : std::string(1, ch);
    return out + "'";
}

}  // namespace widenn::io
