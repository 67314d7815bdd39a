#pragma once
// Output files that appear whole or not at all, and the checks a command makes on its paths before it works.
//
// output_file writes to a temporary name in the target's directory and renames it over the target only when every
// write, the flush and the close succeeded: a failed run leaves the previous file intact and no partial one. The
// temporary file is created when the output_file is constructed, so an unwritable directory is reported before any
// computation. Targets that are not regular files (a device such as /dev/null or /dev/stdout, a pipe) are written
// directly, and a failed write there (/dev/full) is an error too.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../core/checked.hpp"
#include "../core/errors.hpp"

namespace widenn::io {

class output_file {
public:
    output_file(std::string path, std::string_view where) : path_(std::move(path)), where_(where) {
        require(!path_.empty(), where_, ": the output path is empty");
        struct stat target {};
        const bool exists = ::stat(path_.c_str(), &target) == 0;
        if (exists && S_ISDIR(target.st_mode)) fail(where_, ": '", path_, "' is a directory, expected a file to write");
        if (exists && !S_ISREG(target.st_mode)) {  // a device or a pipe: no rename possible
            file_ = std::fopen(path_.c_str(), "wb");
            if (!file_) fail(where_, ": cannot open '", path_, "' for writing: ", std::strerror(errno));
            return;
        }
        const std::filesystem::path target_path(path_);
        const std::filesystem::path dir = target_path.has_parent_path() ? target_path.parent_path() : std::filesystem::path(".");
        std::string pattern = (dir / widenn::detail::concat(".", target_path.filename().string(), ".partial-XXXXXX")).string();
        const int fd = ::mkstemp(pattern.data());
        if (fd < 0) fail(where_, ": cannot write '", path_, "': cannot create a file in '", dir.string(), "': ", std::strerror(errno));
        temporary_ = pattern;
        // mkstemp creates the file 0600; give it the mode a plain open would have (0666 less the umask) or the old file's.
        const mode_t mask = ::umask(0);
        ::umask(mask);
        ::fchmod(fd, exists ? (target.st_mode & 07777) : (0666 & ~mask));
        file_ = ::fdopen(fd, "wb");
        if (!file_) {
            ::close(fd);
            discard();
            fail(where_, ": cannot open a temporary file for '", path_, "'");
        }
    }
    output_file(const output_file&) = delete;
    output_file& operator=(const output_file&) = delete;
    ~output_file() { discard(); }

    const std::string& path() const { return path_; }

    void write(const void* data, std::size_t bytes) {
        require(file_ != nullptr, where_, ": '", path_, "' was already closed");
        if (bytes > 0 && std::fwrite(data, 1, bytes, file_) != bytes) fail_write();
    }
    void write(std::string_view text) { write(text.data(), text.size()); }
    // Pushes buffered bytes to the file now, so that a full disk is noticed at this point.
    void flush() {
        if (file_ && std::fflush(file_) != 0) fail_write();
    }

    // Flushes, closes and renames the temporary file over the target. Throws (and leaves the target untouched) if any
    // step failed.
    void commit() {
        require(file_ != nullptr, where_, ": '", path_, "' was already closed");
        const bool flushed = std::fflush(file_) == 0 && !std::ferror(file_);
        const int saved = errno;
        const bool closed = std::fclose(file_) == 0;
        file_ = nullptr;
        if (!flushed || !closed) {
            discard();
            fail(where_, ": writing '", path_, "' failed: ", std::strerror(flushed ? errno : saved));
        }
        if (!temporary_.empty()) {
            if (std::rename(temporary_.c_str(), path_.c_str()) != 0) {
                const int e = errno;
                discard();
                fail(where_, ": cannot move the finished file to '", path_, "': ", std::strerror(e));
            }
            temporary_.clear();
        }
    }

private:
    [[noreturn]] void fail_write() {
        const int e = errno;
        std::fclose(file_);
        file_ = nullptr;
        discard();
        fail(where_, ": writing '", path_, "' failed: ", std::strerror(e));
    }
    void discard() noexcept {
        if (file_) std::fclose(file_);
        file_ = nullptr;
        if (!temporary_.empty()) std::remove(temporary_.c_str());
        temporary_.clear();
    }

    std::string path_;
    std::string where_;
    std::string temporary_;  // empty once renamed, or for direct (device) targets
    std::FILE* file_ = nullptr;
};

// Checks, before a long computation, that `path` can be written (its directory exists and takes a new file; it is not
// a directory), by creating and removing the temporary file an output_file would write. Empty paths are skipped.
inline void require_writable(const std::string& path, std::string_view option) {
    if (path.empty()) return;
    output_file probe(path, option);
}

// Checks, before a long computation, that the file system holding `path` has `bytes` free for it (the files a command
// streams to disk as it computes, which no memory check bounds). `what` names the output, `remedy` says what to do.
inline void require_disk_space(const std::string& path, std::uintmax_t bytes, std::string_view what, std::string_view remedy) {
    const std::filesystem::path target(path);
    const std::filesystem::path dir = target.has_parent_path() ? target.parent_path() : std::filesystem::path(".");
    std::error_code ec;
    const std::filesystem::space_info info = std::filesystem::space(dir, ec);
    if (ec) fail(what, ": cannot tell the free space of '", dir.string(), "': ", ec.message());
    if (bytes > info.available)
        fail(what, " needs ", format_bytes(static_cast<double>(bytes)), " of disk in '", dir.string(), "', but only ",
             format_bytes(static_cast<double>(info.available)), " is free; ", remedy);
}

// A named path of a command: the option that gave it and the path itself.
struct named_path {
    std::string option;  // e.g. "--x1"
    std::string path;
};

namespace detail {
inline bool same_file(const std::string& a, const std::string& b) {
    std::error_code ec;
    if (std::filesystem::equivalent(a, b, ec) && !ec) return true;
    // Not both existing: compare absolute, symlink-resolved, lexically normal paths.
    auto normal = [](const std::string& p) {
        std::error_code e;
        auto out = std::filesystem::weakly_canonical(std::filesystem::absolute(p, e), e);
        return e ? std::filesystem::path(p).lexically_normal() : out.lexically_normal();
    };
    return normal(a) == normal(b);
}
}  // namespace detail

// Refuses outputs that would overwrite an input or each other (same file by inode or by canonical path). Empty paths
// (options not given) are skipped. Devices such as /dev/null may be named more than once. `where` prefixes the
// message unless empty (a command's own prefix is added by the command).
inline void require_distinct_outputs(const std::vector<named_path>& inputs, const std::vector<named_path>& outputs,
                                     std::string_view where) {
    auto is_device = [](const std::string& p) {
        struct stat s {};
        return ::stat(p.c_str(), &s) == 0 && !S_ISREG(s.st_mode) && !S_ISDIR(s.st_mode);
    };
    for (std::size_t i = 0; i < outputs.size(); ++i) {
        const auto& out = outputs[i];
        if (out.path.empty() || is_device(out.path)) continue;
        for (const auto& in : inputs)
            if (!in.path.empty() && detail::same_file(out.path, in.path))
                fail(where, where.empty() ? "" : ": ", out.option, " '", out.path, "' is the input ", in.option,
                     "; writing it would destroy the input");
        for (std::size_t j = 0; j < i; ++j)
            if (!outputs[j].path.empty() && detail::same_file(out.path, outputs[j].path))
                fail(where, where.empty() ? "" : ": ", outputs[j].option, " and ", out.option, " name the same file '", out.path,
                     "'; one result would overwrite the other");
    }
}

}  // namespace widenn::io
