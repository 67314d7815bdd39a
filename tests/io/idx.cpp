#include <doctest/doctest.h>

#include <zlib.h>

#include "helpers.hpp"

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <widenn/io/idx.hpp>

namespace {

namespace fs = std::filesystem;
using bytes = std::vector<std::uint8_t>;

// A fresh directory per test case, removed at the end.
struct scratch_dir {
    fs::path path;
    scratch_dir() {
        static int counter = 0;
        path = fs::temp_directory_path() / ("widenn_idx_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
        fs::create_directories(path);
    }
    ~scratch_dir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    std::string file(const std::string& name) const { return (path / name).string(); }
};

// An IDX header written by hand (independent of the reader): 0 0 type rank, then big-endian dimensions.
bytes idx_header(std::uint8_t type, const std::vector<std::uint32_t>& dims) {
    bytes out = {0, 0, type, static_cast<std::uint8_t>(dims.size())};
    for (auto d : dims)
        for (int shift : {24, 16, 8, 0}) out.push_back(static_cast<std::uint8_t>(d >> shift));
    return out;
}

bytes idx_file_bytes(const std::vector<std::uint32_t>& dims, const bytes& payload) {
    bytes out = idx_header(0x08, dims);
    out.insert(out.end(), payload.begin(), payload.end());
    return out;
}

void write_bytes(const std::string& path, const bytes& content) {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(content.data()), static_cast<std::streamsize>(content.size()));
    REQUIRE(out.good());
}

void gzip_file(const std::string& plain, const std::string& gz) {
    std::ifstream in(plain, std::ios::binary);
    const bytes content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    gzFile out = gzopen(gz.c_str(), "wb");
    REQUIRE(out != nullptr);
    REQUIRE(gzwrite(out, content.data(), static_cast<unsigned>(content.size())) == static_cast<int>(content.size()));
    REQUIRE(gzclose(out) == Z_OK);
}

using widenn_io_test::contains;
using widenn_io_test::error_message;

// Three 2 x 3 images whose bytes cover 0, 255 and values in between.
const bytes image_payload = {0, 1, 2, 3, 4, 5, 255, 254, 128, 127, 64, 32, 10, 20, 30, 40, 50, 60};
const bytes label_payload = {9, 0, 3};

void check_images(const xt::xtensor<float, 2>& images, std::size_t count) {
    REQUIRE(images.shape(0) == count);
    REQUIRE(images.shape(1) == 6);
    for (std::size_t i = 0; i < count * 6; ++i) CHECK(images.data()[i] == static_cast<float>(image_payload[i]) / 255.0f);
}

}  // namespace

TEST_CASE("read_idx_images and read_idx_labels return what was written") {
    scratch_dir dir;
    write_bytes(dir.file("images"), idx_file_bytes({3, 2, 3}, image_payload));
    write_bytes(dir.file("labels"), idx_file_bytes({3}, label_payload));
    check_images(widenn::io::read_idx_images(dir.file("images")), 3);
    const auto labels = widenn::io::read_idx_labels(dir.file("labels"));
    REQUIRE(labels.shape(0) == 3);
    CHECK(labels(0) == 9);
    CHECK(labels(1) == 0);
    CHECK(labels(2) == 3);

    SUBCASE("a limit keeps the first images and labels") {
        check_images(widenn::io::read_idx_images(dir.file("images"), 2), 2);
        const auto first = widenn::io::read_idx_labels(dir.file("labels"), 1);
        REQUIRE(first.shape(0) == 1);
        CHECK(first(0) == 9);
        CHECK(widenn::io::read_idx_images(dir.file("images"), 0).shape(0) == 0);
    }
    SUBCASE("an empty file set (count 0) is valid") {
        write_bytes(dir.file("empty"), idx_file_bytes({0, 28, 28}, {}));
        const auto empty = widenn::io::read_idx_images(dir.file("empty"));
        CHECK(empty.shape(0) == 0);
        CHECK(empty.shape(1) == 784);
    }
}

TEST_CASE("gzipped IDX files read the same as plain ones, including paths with quotes and spaces") {
    scratch_dir dir;
    const std::string plain = dir.file("it's images");
    write_bytes(plain, idx_file_bytes({3, 2, 3}, image_payload));
    gzip_file(plain, plain + ".gz");
    check_images(widenn::io::read_idx_images(plain + ".gz"), 3);
    write_bytes(dir.file("labels"), idx_file_bytes({3}, label_payload));
    gzip_file(dir.file("labels"), dir.file("labels.gz"));
    const auto labels = widenn::io::read_idx_labels(dir.file("labels.gz"));
    REQUIRE(labels.shape(0) == 3);
    CHECK(labels(0) == 9);
    CHECK(labels(2) == 3);
}

TEST_CASE("missing, truncated, corrupt and wrong-rank files give errors naming the file and the fault") {
    scratch_dir dir;
    using widenn::io::read_idx_images;
    using widenn::io::read_idx_labels;

    SUBCASE("missing file and directory") {
        const std::string missing = dir.file("nope-idx3-ubyte");
        std::string m = error_message([&] { read_idx_images(missing); });
        CHECK(contains(m, "read_idx_images"));
        CHECK(contains(m, missing));
        CHECK(contains(m, "does not exist"));
        m = error_message([&] { read_idx_labels(missing + ".gz"); });
        CHECK(contains(m, "does not exist"));
        m = error_message([&] { read_idx_labels(dir.path.string()); });
        CHECK(contains(m, "is a directory"));
    }
    SUBCASE("truncated payload, header and magic") {
        bytes content = idx_file_bytes({3, 2, 3}, image_payload);
        content.resize(content.size() - 5);
        write_bytes(dir.file("short"), content);
        std::string m = error_message([&] { read_idx_images(dir.file("short")); });
        CHECK(contains(m, dir.file("short")));
        CHECK(contains(m, "truncated"));
        CHECK(contains(m, "3 x 2 x 3 = 18 data bytes, found 13"));

        write_bytes(dir.file("short-header"), bytes{0, 0, 8, 3, 0, 0, 0, 3, 0, 0});
        m = error_message([&] { read_idx_images(dir.file("short-header")); });
        CHECK(contains(m, "truncated"));
        CHECK(contains(m, "needs 16"));

        write_bytes(dir.file("two-bytes"), bytes{0, 0});
        m = error_message([&] { read_idx_labels(dir.file("two-bytes")); });
        CHECK(contains(m, "truncated"));
        CHECK(contains(m, "magic"));

        write_bytes(dir.file("zero"), bytes{});
        CHECK(contains(error_message([&] { read_idx_labels(dir.file("zero")); }), "truncated"));
    }
    SUBCASE("trailing bytes") {
        bytes content = idx_file_bytes({3}, label_payload);
        content.push_back(7);
        write_bytes(dir.file("long"), content);
        const std::string m = error_message([&] { read_idx_labels(dir.file("long")); });
        CHECK(contains(m, "corrupt"));
        CHECK(contains(m, "1 unexpected trailing bytes"));
    }
    SUBCASE("wrong magic and wrong data type") {
        // A gzip stream under a name without .gz: its magic 0x1f 0x8b is not IDX's 0 0.
        write_bytes(dir.file("labels"), idx_file_bytes({3}, label_payload));
        gzip_file(dir.file("labels"), dir.file("labels-but-gzipped"));
        std::string m = error_message([&] { read_idx_labels(dir.file("labels-but-gzipped")); });
        CHECK(contains(m, "not an IDX file"));
        CHECK(contains(m, "31 139"));

        bytes floats = idx_header(0x0D, {2});
        floats.resize(floats.size() + 8, 0);
        write_bytes(dir.file("floats"), floats);
        m = error_message([&] { read_idx_labels(dir.file("floats")); });
        CHECK(contains(m, "data type 0xd"));
        CHECK(contains(m, "expected 0x08"));
    }
    SUBCASE("wrong rank: labels read as images and images read as labels") {
        write_bytes(dir.file("labels"), idx_file_bytes({3}, label_payload));
        write_bytes(dir.file("images"), idx_file_bytes({3, 2, 3}, image_payload));
        std::string m = error_message([&] { read_idx_images(dir.file("labels")); });
        CHECK(contains(m, "has 1 dimension(s)"));
        CHECK(contains(m, "expected 3"));
        m = error_message([&] { read_idx_labels(dir.file("images")); });
        CHECK(contains(m, "has 3 dimension(s)"));
        CHECK(contains(m, "expected 1"));
        write_bytes(dir.file("flat-images"), idx_file_bytes({3, 0, 3}, {}));
        CHECK(contains(error_message([&] { read_idx_images(dir.file("flat-images")); }), "0 x 3 pixels"));
    }
    SUBCASE("corrupt and truncated gzip streams") {
        write_bytes(dir.file("garbage.gz"), bytes{1, 2, 3, 4, 5, 6, 7, 8});
        std::string m = error_message([&] { read_idx_labels(dir.file("garbage.gz")); });
        CHECK(contains(m, dir.file("garbage.gz")));
        CHECK(contains(m, "not a valid gzip file or is truncated"));

        write_bytes(dir.file("images"), idx_file_bytes({3, 2, 3}, image_payload));
        gzip_file(dir.file("images"), dir.file("images.gz"));
        std::ifstream in(dir.file("images.gz"), std::ios::binary);
        bytes gz((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        gz.resize(gz.size() / 2);
        write_bytes(dir.file("half.gz"), gz);
        m = error_message([&] { read_idx_images(dir.file("half.gz")); });
        CHECK(contains(m, "not a valid gzip file or is truncated"));

        // A gzip stream whose IDX header promises more than deflate could expand its few bytes to (a decompression
        // bomb's header, or a corrupt one): refused from the header, before allocating for the payload.
        write_bytes(dir.file("huge"), idx_header(0x08, {60000, 60000, 100}));
        gzip_file(dir.file("huge"), dir.file("huge.gz"));
        m = error_message([&] { read_idx_images(dir.file("huge.gz")); });
        CHECK(contains(m, "more than the"));
        // A trailing byte after the payload inside the gzip stream.
        bytes long_labels = idx_file_bytes({3}, label_payload);
        long_labels.push_back(9);
        write_bytes(dir.file("long-labels"), long_labels);
        gzip_file(dir.file("long-labels"), dir.file("long-labels.gz"));
        CHECK(contains(error_message([&] { read_idx_labels(dir.file("long-labels.gz")); }), "1 unexpected trailing bytes"));
    }
}

TEST_CASE("Fashion-MNIST helpers find the files in WIDENN_FASHION_MNIST_DIR and check that counts agree") {
    scratch_dir dir;
    const char* previous = std::getenv("WIDENN_FASHION_MNIST_DIR");
    const std::string saved = previous ? previous : "";
    ::setenv("WIDENN_FASHION_MNIST_DIR", dir.path.c_str(), 1);
    CHECK(widenn::io::fashion_mnist_dir() == dir.path.string());
    CHECK_FALSE(widenn::io::fashion_mnist_available());
    CHECK(contains(error_message([] { widenn::io::read_fashion_mnist(true); }), "dataset-fashion-mnist"));

    // train split gzipped, test split plain: both forms are found.
    write_bytes(dir.file("train-images-idx3-ubyte"), idx_file_bytes({3, 2, 3}, image_payload));
    gzip_file(dir.file("train-images-idx3-ubyte"), dir.file("train-images-idx3-ubyte.gz"));
    fs::remove(dir.file("train-images-idx3-ubyte"));
    write_bytes(dir.file("train-labels-idx1-ubyte"), idx_file_bytes({3}, label_payload));
    write_bytes(dir.file("t10k-images-idx3-ubyte"), idx_file_bytes({3, 2, 3}, image_payload));
    write_bytes(dir.file("t10k-labels-idx1-ubyte"), idx_file_bytes({2}, {1, 2}));
    CHECK(widenn::io::fashion_mnist_path("train-images-idx3-ubyte") == dir.file("train-images-idx3-ubyte.gz"));
    CHECK(widenn::io::fashion_mnist_path("t10k-images-idx3-ubyte") == dir.file("t10k-images-idx3-ubyte"));
    CHECK(widenn::io::fashion_mnist_available());

    const auto train = widenn::io::read_fashion_mnist(true, 2);
    check_images(train.images, 2);
    CHECK(train.labels(1) == 0);
    const std::string m = error_message([] { widenn::io::read_fashion_mnist(false); });
    CHECK(contains(m, "3 images but"));
    CHECK(contains(m, "2 labels"));

    if (previous) ::setenv("WIDENN_FASHION_MNIST_DIR", saved.c_str(), 1);
    else ::unsetenv("WIDENN_FASHION_MNIST_DIR");
}
