#pragma once
// IDX files, the format of MNIST and Fashion-MNIST (LeCun et al., "THE MNIST DATABASE of handwritten
// digits", file format section): a 4-byte magic number 0x00 0x00 <type> <rank>, then <rank> big-endian
// uint32 dimensions, then the data in row-major order. The MNIST family uses type 0x08 (unsigned byte):
// images have rank 3 (count, rows, cols), labels rank 1 (count).
//
// Plain files are read directly; files ending in .gz are decompressed with zlib as they are read (target
// widenn::io links it). Every failure is a widenn::error naming the file and what is wrong.
#include <zlib.h>

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

inline void require_regular_file(const std::string& path, std::string_view where) {
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (!std::filesystem::exists(status)) fail(where, ": file '", path, "' does not exist");
    if (std::filesystem::is_directory(status)) fail(where, ": '", path, "' is a directory, expected an IDX file");
}

// The bytes of a plain or gzip-compressed file, read in order. For a .gz file `size_bound()` is the most the
// compressed size can decompress to (deflate expands at most 1032:1), so a header promising more is refused before
// any allocation.
class byte_source {
public:
    byte_source(const std::string& path, std::string_view where) : path_(path), where_(where) {
        require_regular_file(path, where);
        std::error_code ec;
        file_size_ = std::filesystem::file_size(path, ec);
        if (ec) fail(where, ": cannot read the size of '", path, "': ", ec.message());
        if (ends_with(path, ".gz")) {
            std::FILE* probe = std::fopen(path.c_str(), "rb");
            if (!probe) fail(where, ": cannot open '", path, "' for reading");
            unsigned char magic[2] = {0, 0};
            const std::size_t got = std::fread(magic, 1, 2, probe);
            std::fclose(probe);
            if (got != 2 || magic[0] != 0x1f || magic[1] != 0x8b) fail(where, ": '", path, "' is not a valid gzip file or is truncated (it ends in .gz but lacks gzip's magic 1f 8b)");
            gz_ = gzopen(path.c_str(), "rb");
            if (!gz_) fail(where, ": cannot open '", path, "' for reading");
        } else {
            plain_ = std::fopen(path.c_str(), "rb");
            if (!plain_) fail(where, ": cannot open '", path, "' for reading");
        }
    }
    byte_source(const byte_source&) = delete;
    byte_source& operator=(const byte_source&) = delete;
    ~byte_source() {
        if (gz_) gzclose(gz_);
        if (plain_) std::fclose(plain_);
    }

    std::uint64_t size_bound() const { return gz_ ? file_size_ * 1032 + 64 : file_size_; }
    std::uint64_t file_size() const { return file_size_; }
    bool compressed() const { return gz_ != nullptr; }

    // Reads up to n bytes; returns how many were read (fewer only at the end of the data).
    std::size_t read(void* into, std::size_t n) {
        if (plain_) {
            const std::size_t got = std::fread(into, 1, n, plain_);
            if (got < n && std::ferror(plain_)) fail(where_, ": reading '", path_, "' failed");
            return got;
        }
        std::size_t total = 0;
        auto* out = static_cast<unsigned char*>(into);
        while (total < n) {
            const unsigned chunk = static_cast<unsigned>(std::min<std::size_t>(n - total, 1u << 30));
            const int got = gzread(gz_, out + total, chunk);
            if (got < 0) {
                int code = 0;
                const char* message = gzerror(gz_, &code);
                fail(where_, ": '", path_, "' is not a valid gzip file or is truncated (", message ? message : "zlib error", ")");
            }
            if (got == 0) break;
            total += static_cast<std::size_t>(got);
        }
        if (total < n) check_gzip_end();
        return total;
    }
    // How many bytes are left (0 at a proper end; a gzip stream cut off is an error).
    std::uint64_t count_rest() {
        std::uint64_t rest = 0;
        unsigned char chunk[1 << 14];
        for (std::size_t got; (got = read(chunk, sizeof chunk)) > 0;) rest += got;
        return rest;
    }

private:
    void check_gzip_end() {
        int code = 0;
        const char* message = gzerror(gz_, &code);
        if (code == Z_BUF_ERROR || code == Z_DATA_ERROR || code < 0)
            fail(where_, ": '", path_, "' is not a valid gzip file or is truncated (", message ? message : "zlib error", ")");
        // gzread reports a stream cut off mid-member only at gzclose; check it by the direct means zlib offers.
        if (gzdirect(gz_)) fail(where_, ": '", path_, "' is not gzip-compressed data");
    }

    std::string path_;
    std::string where_;
    std::uint64_t file_size_ = 0;
    gzFile gz_ = nullptr;
    std::FILE* plain_ = nullptr;
};

inline std::uint32_t big_endian_u32(const std::uint8_t* p) {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]};
}

}  // namespace detail

// Reads an unsigned-byte IDX file of the given rank (plain or .gz) and checks it completely:
// the magic number, the rank, and that the payload has exactly product(dims) bytes.
inline idx_file read_idx(const std::string& path, std::size_t expected_rank, std::string_view where = "widenn::io::read_idx") {
    detail::byte_source in(path, where);
    std::uint8_t magic[4] = {0, 0, 0, 0};
    const std::size_t got = in.read(magic, 4);
    if (got < 4) fail(where, ": '", path, "' is truncated: ", got, " bytes, too short for the 4-byte IDX magic number");
    if (magic[0] != 0 || magic[1] != 0)
        fail(where, ": '", path, "' is not an IDX file: magic number starts with bytes ", int{magic[0]}, " ", int{magic[1]},
             ", expected 0 0");
    if (magic[2] != 0x08)
        fail(where, ": '", path, "' has IDX data type 0x", std::hex, int{magic[2]}, std::dec,
             ", expected 0x08 (unsigned byte, the MNIST family's type)");
    const std::size_t rank = magic[3];
    if (rank != expected_rank)
        fail(where, ": '", path, "' has ", rank, " dimension(s) (magic 0x0000080", rank, "), expected ", expected_rank,
             expected_rank == 3 ? " (images: count, rows, cols)" : expected_rank == 1 ? " (labels: count)" : "");
    const std::size_t header = 4 + 4 * rank;
    std::vector<std::uint8_t> dims_bytes(4 * rank);
    if (in.read(dims_bytes.data(), dims_bytes.size()) != dims_bytes.size())
        fail(where, ": '", path, "' is truncated: the header of a rank-", rank, " IDX file needs ", header, " bytes");
    idx_file out;
    std::size_t payload = 1;
    for (std::size_t i = 0; i < rank; ++i) {
        const std::uint32_t d = detail::big_endian_u32(dims_bytes.data() + 4 * i);
        out.dims.push_back(d);
        if (__builtin_mul_overflow(payload, std::size_t{d}, &payload))
            fail(where, ": '", path, "' is corrupt: its dimensions multiply to more than 2^64 bytes");
    }
    auto dims_text = [&] {
        std::string t;
        for (std::size_t i = 0; i < out.dims.size(); ++i) t += (i ? " x " : "") + std::to_string(out.dims[i]);
        return t;
    };
    // The payload cannot exceed what the file can hold: refuse a lying header before allocating for it.
    const std::uint64_t room = in.size_bound() - std::min<std::uint64_t>(in.size_bound(), header);
    if (payload > room) {
        if (in.compressed())
            fail(where, ": '", path, "' is truncated or corrupt: the header promises ", dims_text(), " = ", payload,
                 " data bytes, more than the ", in.file_size(), "-byte gzip file can hold");
        fail(where, ": '", path, "' is truncated: the header promises ", dims_text(), " = ", payload, " data bytes, found ", room);
    }
    out.data.resize(payload);
    const std::size_t found = in.read(out.data.data(), payload);
    if (found < payload)
        fail(where, ": '", path, "' is truncated: the header promises ", dims_text(), " = ", payload, " data bytes, found ", found);
    if (const std::uint64_t trailing = in.count_rest(); trailing > 0)
        fail(where, ": '", path, "' is corrupt: the header promises ", dims_text(), " = ", payload, " data bytes, found ",
             payload + trailing, " (", trailing, " unexpected trailing bytes)");
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

inline constexpr int fashion_mnist_classes = 10;

// Fashion-MNIST's training split (train = true, 60000 images) or test split (10000), the first `limit` of them (fewer
// if the files hold fewer: callers use the returned sizes). Labels are checked to be 0..9.
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
    for (std::size_t i = 0; i < out.labels.size(); ++i)
        if (out.labels(i) >= fashion_mnist_classes)
            fail("widenn::io::read_fashion_mnist: ", labels, " has label ", out.labels(i), " at position ", i,
                 "; Fashion-MNIST's labels are 0..", fashion_mnist_classes - 1);
    return out;
}

}  // namespace widenn::io
