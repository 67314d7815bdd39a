#pragma once
// IDX files, the format of MNIST and Fashion-MNIST (LeCun et al., "THE MNIST DATABASE of handwritten
// digits", file format section): a 4-byte magic number 0x00 0x00 <type> <rank>, then <rank> big-endian
// uint32 dimensions, then the data in row-major order. The MNIST family uses type 0x08 (unsigned byte):
// images have rank 3 (count, rows, cols), labels rank 1 (count).
//
// Plain files are read directly; files ending in .gz are decompressed by the `gzip -dc` command through
// popen, so widenn needs no zlib. Every failure is a widenn::error naming the file and what is wrong.
#include <sys/wait.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include <xtensor/xtensor.hpp>

#include "../core/errors.hpp"

namespace widenn::io {

// The decoded header and the raw unsigned-byte payload of an IDX file.
struct idx_file {
    std::vector<std::uint32_t> dims;     // from the header, outermost first
    std::vector<std::uint8_t> data;      // product(dims) bytes, row-major
};

namespace detail {

inline bool ends_with(std::string_view text, std::string_view suffix) {
    return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

// Quotes a path for /bin/sh: 'it'\''s'.
inline std::string shell_quote(const std::string& text) {
    std::string out = "'";
    for (char ch : text) out += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
    return out + "'";
}

inline void require_regular_file(const std::string& path, std::string_view where) {
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (!std::filesystem::exists(status)) fail(where, ": file '", path, "' does not exist");
    if (std::filesystem::is_directory(status)) fail(where, ": '", path, "' is a directory, expected an IDX file");
}

// The whole (decompressed) content of a file.
inline std::vector<std::uint8_t> read_all_bytes(const std::string& path, std::string_view where) {
    require_regular_file(path, where);
    std::vector<std::uint8_t> bytes;
    if (!ends_with(path, ".gz")) {
        std::ifstream in(path, std::ios::binary);
        if (!in) fail(where, ": cannot open '", path, "' for reading");
        in.seekg(0, std::ios::end);
        const auto size = static_cast<std::size_t>(in.tellg());
        in.seekg(0, std::ios::beg);
        bytes.resize(size);
        if (size > 0 && !in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size)))
            fail(where, ": reading '", path, "' failed after ", in.gcount(), " of ", size, " bytes");
        return bytes;
    }
    const std::string command = "gzip -dc -- " + shell_quote(path) + " 2>/dev/null";
    FILE* pipe = popen(command.c_str(), "r");
    if (!pipe) fail(where, ": could not start `gzip -dc` to decompress '", path, "'");
    std::uint8_t chunk[1 << 16];
    std::size_t got = 0;
    while ((got = std::fread(chunk, 1, sizeof chunk, pipe)) > 0) bytes.insert(bytes.end(), chunk, chunk + got);
    const int status = pclose(pipe);
    if (status == -1) fail(where, ": waiting for `gzip -dc` on '", path, "' failed");
    // pclose returns a wait status; 127 from the shell means gzip itself is missing.
    const int exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (exit_code == 127) fail(where, ": the gzip command is not installed; cannot decompress '", path, "'");
    if (exit_code != 0)
        fail(where, ": '", path, "' is not a valid gzip file or is truncated (gzip -dc exited with status ", exit_code,
             " after ", bytes.size(), " decompressed bytes)");
    return bytes;
}

inline std::uint32_t big_endian_u32(const std::uint8_t* p) {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]};
}

}  // namespace detail

// Reads an unsigned-byte IDX file of the given rank (plain or .gz) and checks it completely:
// the magic number, the rank, and that the payload has exactly product(dims) bytes.
inline idx_file read_idx(const std::string& path, std::size_t expected_rank, std::string_view where = "widenn::io::read_idx") {
    std::vector<std::uint8_t> bytes = detail::read_all_bytes(path, where);
    if (bytes.size() < 4)
        fail(where, ": '", path, "' is truncated: ", bytes.size(), " bytes, too short for the 4-byte IDX magic number");
    if (bytes[0] != 0 || bytes[1] != 0)
        fail(where, ": '", path, "' is not an IDX file: magic number starts with bytes ", int{bytes[0]}, " ", int{bytes[1]},
             ", expected 0 0");
    if (bytes[2] != 0x08)
        fail(where, ": '", path, "' has IDX data type 0x", std::hex, int{bytes[2]}, std::dec,
             ", expected 0x08 (unsigned byte, the MNIST family's type)");
    const std::size_t rank = bytes[3];
    if (rank != expected_rank)
        fail(where, ": '", path, "' has ", rank, " dimension(s) (magic 0x0000080", rank, "), expected ", expected_rank,
             expected_rank == 3 ? " (images: count, rows, cols)" : expected_rank == 1 ? " (labels: count)" : "");
    const std::size_t header = 4 + 4 * rank;
    if (bytes.size() < header)
        fail(where, ": '", path, "' is truncated: ", bytes.size(), " bytes, the header of a rank-", rank, " IDX file needs ", header);
    idx_file out;
    std::size_t payload = 1;
    for (std::size_t i = 0; i < rank; ++i) {
        const std::uint32_t d = detail::big_endian_u32(bytes.data() + 4 + 4 * i);
        out.dims.push_back(d);
        // The payload cannot exceed the file; stop multiplying before it could overflow.
        if (d != 0 && payload > std::numeric_limits<std::size_t>::max() / d)
            fail(where, ": '", path, "' is corrupt: its dimensions multiply to more than 2^64 bytes");
        payload *= d;
    }
    const std::size_t found = bytes.size() - header;
    auto dims_text = [&] {
        std::string t;
        for (std::size_t i = 0; i < out.dims.size(); ++i) t += (i ? " x " : "") + std::to_string(out.dims[i]);
        return t;
    };
    if (found < payload)
        fail(where, ": '", path, "' is truncated: the header promises ", dims_text(), " = ", payload, " data bytes, found ", found);
    if (found > payload)
        fail(where, ": '", path, "' is corrupt: the header promises ", dims_text(), " = ", payload, " data bytes, found ", found,
             " (", found - payload, " unexpected trailing bytes)");
    out.data.assign(bytes.begin() + static_cast<std::ptrdiff_t>(header), bytes.end());
    return out;
}

// Images of an IDX3 file as an N x (rows*cols) matrix of floats in [0, 1] (byte / 255), one image per row.
// `limit` keeps only the first `limit` images (the whole file is still checked).
inline xt::xtensor<float, 2> read_idx_images(const std::string& path,
                                             std::size_t limit = std::numeric_limits<std::size_t>::max()) {
    const idx_file f = read_idx(path, 3, "widenn::io::read_idx_images");
    const std::size_t count = std::min<std::size_t>(f.dims[0], limit);
    const std::size_t pixels = std::size_t{f.dims[1]} * f.dims[2];
    require(pixels > 0, "widenn::io::read_idx_images: '", path, "' has images of ", f.dims[1], " x ", f.dims[2], " pixels");
    xt::xtensor<float, 2> images = xt::empty<float>({count, pixels});
    for (std::size_t i = 0; i < count * pixels; ++i) images.data()[i] = static_cast<float>(f.data[i]) / 255.0f;
    return images;
}

// Labels of an IDX1 file as integers (0..255; 0..9 for the MNIST family). `limit` as for images.
inline xt::xtensor<int, 1> read_idx_labels(const std::string& path,
                                           std::size_t limit = std::numeric_limits<std::size_t>::max()) {
    const idx_file f = read_idx(path, 1, "widenn::io::read_idx_labels");
    const std::size_t count = std::min<std::size_t>(f.dims[0], limit);
    xt::xtensor<int, 1> labels = xt::empty<int>({count});
    for (std::size_t i = 0; i < count; ++i) labels(i) = f.data[i];
    return labels;
}

// Where Debian's dataset-fashion-mnist package installs the files; the environment variable
// WIDENN_FASHION_MNIST_DIR overrides it (for a copy elsewhere).
inline std::string fashion_mnist_dir() {
    if (const char* dir = std::getenv("WIDENN_FASHION_MNIST_DIR"); dir && *dir) return dir;
    return "/usr/share/datasets/fashion-mnist";
}

// The path of one Fashion-MNIST file by its stem (e.g. "train-images-idx3-ubyte"): the .gz file if it
// exists, else the plain file if it exists, else "" (no exception: callers fall back to synthetic data).
inline std::string fashion_mnist_path(std::string_view stem) {
    const std::string base = fashion_mnist_dir() + "/" + std::string(stem);
    std::error_code ec;
    if (std::filesystem::is_regular_file(base + ".gz", ec)) return base + ".gz";
    if (std::filesystem::is_regular_file(base, ec)) return base;
    return "";
}

// True when all four Fashion-MNIST files (train and t10k, images and labels) are present.
inline bool fashion_mnist_available() {
    for (std::string_view stem :
         {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"})
        if (fashion_mnist_path(stem).empty()) return false;
    return true;
}

// A labelled image set: images N x pixels in [0, 1], labels of length N.
struct labelled_images {
    xt::xtensor<float, 2> images;
    xt::xtensor<int, 1> labels;
};

// Fashion-MNIST's training split (train = true, 60000 images) or test split (10000), the first `limit` of them.
inline labelled_images read_fashion_mnist(bool train, std::size_t limit = std::numeric_limits<std::size_t>::max()) {
    const std::string prefix = train ? "train" : "t10k";
    const std::string images = fashion_mnist_path(prefix + "-images-idx3-ubyte");
    const std::string labels = fashion_mnist_path(prefix + "-labels-idx1-ubyte");
    if (images.empty() || labels.empty())
        fail("widenn::io::read_fashion_mnist: the ", prefix, " files are missing from ", fashion_mnist_dir(),
             " (install the Debian package dataset-fashion-mnist or set WIDENN_FASHION_MNIST_DIR)");
    labelled_images out{read_idx_images(images, limit), read_idx_labels(labels, limit)};
    if (out.images.shape(0) != out.labels.shape(0))
        fail<shape_error>("widenn::io::read_fashion_mnist: ", images, " has ", out.images.shape(0), " images but ", labels, " has ",
                          out.labels.shape(0), " labels");
    return out;
}

}  // namespace widenn::io
