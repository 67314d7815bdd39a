#pragma once
// CSV output and gnuplot plots for examples and commands: results people would rather look at
// are written as a CSV (the data) and, when gnuplot is installed, a PNG (the picture).
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <utility>
#include <cstdlib>
#include <exception>
#include <sstream>
#include <initializer_list>
#include <string>
#include <vector>

#include "../core/errors.hpp"
#include "files.hpp"

namespace widenn::io {

// A CSV file with a fixed header; each row() call writes one line. The file is an output_file: it is written under a
// temporary name and appears, whole, at close(); each row is flushed and checked, so a full disk is an error at the row
// that hit it. The destructor closes a writer that was not closed unless an exception is unwinding (then the previous
// file stays and no partial one appears). Close the writer before plotting its data.
class csv_writer {
public:
    csv_writer(const std::string& path, std::initializer_list<std::string> columns) : csv_writer(path, std::vector<std::string>(columns)) {}
    // For a header known only at run time (one column per model, say).
    csv_writer(const std::string& path, const std::vector<std::string>& columns)
        : out_(path, "widenn::io::csv_writer"), columns_(columns.size()), exceptions_(std::uncaught_exceptions()) {
        write_line(columns);
    }
    csv_writer(const csv_writer&) = delete;
    csv_writer& operator=(const csv_writer&) = delete;
    ~csv_writer() {
        if (closed_ || std::uncaught_exceptions() != exceptions_) return;
        try {
            close();
        } catch (const std::exception& e) {  // cannot throw from here, and must not end the program as if it succeeded
            std::fprintf(stderr, "%s\n", e.what());
            std::abort();
        }
    }
    template <class... Values>
    void row(const Values&... values) {
        if (sizeof...(values) != columns_)
            fail<shape_error>("widenn::io::csv_writer::row: ", path(), " has ", columns_, " columns, got ", sizeof...(values), " values");
        auto format = [](const auto& value) {
            std::ostringstream text;
            text << value;
            return text.str();
        };
        write_line({format(values)...});
    }
    // One line of already formatted fields.
    void row_of(const std::vector<std::string>& fields) {
        if (fields.size() != columns_)
            fail<shape_error>("widenn::io::csv_writer::row_of: ", path(), " has ", columns_, " columns, got ", fields.size(), " fields");
        write_line(fields);
    }
    // Finishes the file: it appears under its name now (throws if writing it failed).
    void close() {
        if (closed_) return;
        closed_ = true;
        out_.commit();
    }
    const std::string& path() const { return out_.path(); }

private:
    // RFC 4180: a field holding a comma, a double quote or a line break is quoted, its double quotes doubled (a model
    // named by its SPEC, "conv:3,relu,flatten", stays one field).
    void write_line(const std::vector<std::string>& fields) {
        std::string line;
        for (std::size_t i = 0; i < fields.size(); ++i) {
            if (i) line += ',';
            const std::string& f = fields[i];
            if (f.find_first_of(",\"\r\n") == std::string::npos) {
                line += f;
                continue;
            }
            line += '"';
            for (char c : f) line += c == '"' ? std::string("\"\"") : std::string(1, c);
            line += '"';
        }
        write(line + "\n");
    }
    void write(const std::string& line) {
        require(!closed_, "widenn::io::csv_writer: ", path(), " is already closed");
        out_.write(line);
        out_.flush();
    }

    output_file out_;
    std::size_t columns_;
    int exceptions_;
    bool closed_ = false;
};

// Quotes a path for a gnuplot script.
inline std::string gnuplot_quote(const std::string& text) {
    std::string out = "'";
    for (char ch : text) out += ch == '\'' ? std::string("''") : std::string(1, ch);
    return out + "'";
}

// True when a gnuplot executable is on PATH.
inline bool gnuplot_available() { return std::system("command -v gnuplot > /dev/null 2>&1") == 0; }

// Runs a gnuplot script (which should `set output` itself, with a path quoted by gnuplot_quote). Returns false, and
// says why in `reason`, when gnuplot is missing or fails; plots are a convenience, so callers report and go on. Each
// `set output 'FILE'` is redirected to a temporary name beside FILE, renamed to FILE only when gnuplot succeeded, so a
// failed plot leaves the previous picture and no partial one.
inline bool run_gnuplot(const std::string& script, std::string* reason = nullptr) {
    if (!gnuplot_available()) {
        if (reason) *reason = "gnuplot is not installed (apt-get install gnuplot-nox); the CSV has the data";
        return false;
    }
    std::string redirected;
    std::vector<std::pair<std::string, std::string>> outputs;  // (temporary, final)
    const std::string marker = "set output '";
    for (std::size_t at = 0;;) {
        const std::size_t found = script.find(marker, at);
        if (found == std::string::npos) {
            redirected += script.substr(at);
            break;
        }
        std::size_t end = found + marker.size();
        std::string path;
        while (end < script.size() && !(script[end] == '\'' && (end + 1 >= script.size() || script[end + 1] != '\''))) {
            if (script[end] == '\'') ++end;  // '' is a quoted quote
            path += script[end++];
        }
        const std::filesystem::path final_path(path);
        const std::string temporary =
            (final_path.parent_path() / widenn::detail::concat(".", final_path.filename().string(), ".partial-", ::getpid(), "-",
                                                               outputs.size(), final_path.extension().string())).string();
        outputs.emplace_back(temporary, path);
        redirected += script.substr(at, found - at) + "set output " + gnuplot_quote(temporary);
        at = std::min(end + 1, script.size());
    }
    // `unset output` closes the last file before gnuplot exits, so the renames below see complete pictures.
    redirected += "\nunset output\n";
    FILE* pipe = popen("gnuplot 2>&1", "w");
    if (!pipe) {
        if (reason) *reason = "could not start gnuplot";
        return false;
    }
    std::fputs(redirected.c_str(), pipe);
    const int status = pclose(pipe);
    bool ok = status == 0;
    if (!ok && reason) *reason = "gnuplot exited with status " + std::to_string(status);
    for (const auto& [temporary, final_path] : outputs) {
        if (ok && std::rename(temporary.c_str(), final_path.c_str()) != 0) {
            ok = false;
            if (reason) *reason = "cannot move the plot to '" + final_path + "': " + std::strerror(errno);
        }
        std::remove(temporary.c_str());
    }
    return ok;
}

}  // namespace widenn::io
