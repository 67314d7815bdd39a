#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>

#include <xtensor/xview.hpp>

#include <widenn/io/files.hpp>
#include <widenn/io/npy.hpp>
#include <widenn/io/plot.hpp>

#include "helpers.hpp"

namespace {

namespace io = widenn::io;
namespace fs = std::filesystem;

// A fresh directory per test case, removed afterwards.
struct scratch_dir {
    fs::path path;
    scratch_dir() {
        static int counter = 0;
        path = fs::temp_directory_path() / ("widenn_npy_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
        fs::create_directories(path);
    }
    ~scratch_dir() { fs::remove_all(path); }
    std::string file(const std::string& name) const { return (path / name).string(); }
    std::size_t entries() const { return static_cast<std::size_t>(std::distance(fs::directory_iterator(path), fs::directory_iterator())); }
};

// The bytes NumPy writes: magic, version, little-endian header length, the dict padded to 64 bytes, then data.
std::string npy_bytes(const std::string& dict, const std::string& data, int major = 1) {
    const std::size_t fixed = major == 1 ? 10 : 12;
    std::string header = dict;
    const std::size_t total = (fixed + header.size() + 1 + 63) / 64 * 64;
    header.append(total - fixed - header.size() - 1, ' ');
    header += '\n';
    std::string out("\x93NUMPY", 6);
    out += static_cast<char>(major);
    out += '\0';
    for (std::size_t i = 0; i < fixed - 8; ++i) out += static_cast<char>((header.size() >> (8 * i)) & 0xff);
    return out + header + data;
}

template <class T>
std::string raw(std::initializer_list<T> values, bool big_endian = false) {
    std::string out;
    for (T v : values) {
        char b[sizeof(T)];
        std::memcpy(b, &v, sizeof(T));
        if (big_endian) std::reverse(b, b + sizeof(T));
        out.append(b, sizeof(T));
    }
    return out;
}

void write_file(const std::string& path, const std::string& content) {
    std::ofstream out(path, std::ios::binary);
    out << content;
    REQUIRE(out.good());
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

using widenn_io_test::contains;
const auto& error_of = widenn_io_test::error_message;

}  // namespace

TEST_CASE("npy: files in NumPy's layout read exactly, in every supported dtype, byte order and memory order") {
    // float64 (2, 3), C order, as np.save writes it.
    const std::string f8 = npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", raw<double>({0.5, 1, 2, 3, 4, -5.25}));
    auto a = io::parse_npy<double>(f8, "f8");
    REQUIRE(a.dimension() == 2);
    CHECK(a.shape(0) == 2);
    CHECK(a.shape(1) == 3);
    CHECK(a(0, 0) == 0.5);
    CHECK(a(1, 2) == -5.25);
    // The same values stored in Fortran order: the column-major bytes 0.5, 3, 1, 4, 2, -5.25.
    const std::string fortran = npy_bytes("{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }", raw<double>({0.5, 3, 1, 4, 2, -5.25}));
    CHECK(io::parse_npy<double>(fortran, "fortran") == a);
    // Big-endian int32, converted explicitly; bool; uint16; int8 with negative values; float32 as double.
    const auto be = io::parse_npy<double>(npy_bytes("{'descr': '>i4', 'fortran_order': False, 'shape': (3,), }", raw<std::int32_t>({-7, 65536, 2}, true)), "be");
    CHECK(be(0) == -7);
    CHECK(be(1) == 65536);
    const auto b = io::parse_npy<double>(npy_bytes("{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", raw<std::uint8_t>({1, 0, 1})), "b");
    CHECK(b(0) == 1);
    CHECK(b(1) == 0);
    const auto u2 = io::parse_npy<double>(npy_bytes("{\"descr\": \"<u2\", \"fortran_order\": False, \"shape\": (2,)}", raw<std::uint16_t>({65535, 3})), "u2");
    CHECK(u2(0) == 65535);
    const auto i1 = io::parse_npy<int>(npy_bytes("{'descr': '|i1', 'fortran_order': False, 'shape': (2,), }", raw<std::int8_t>({-128, 127})), "i1");
    CHECK(i1(0) == -128);
    const auto f4 = io::parse_npy<double>(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", raw<float>({0.1f})), "f4");
    CHECK(f4(0) == static_cast<double>(0.1f));
    // A scalar (shape ()) and an empty array (shape (0, 4)); versions 2.0 and 3.0.
    const auto scalar = io::parse_npy<double>(npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (), }", raw<double>({42})), "s");
    CHECK(scalar.dimension() == 0);
    CHECK(scalar() == 42);
    const auto empty = io::parse_npy<double>(npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (0, 4), }", ""), "e");
    CHECK(empty.size() == 0);
    CHECK(io::parse_npy<double>(npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", raw<double>({0.5, 1, 2, 3, 4, -5.25}), 2), "v2") == a);
    CHECK(io::parse_npy<double>(npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", raw<double>({0.5, 1, 2, 3, 4, -5.25}), 3), "v3") == a);
}

TEST_CASE("npy: write then read is exact for every written dtype and rank, and the file is NumPy's layout") {
    scratch_dir dir;
    const xt::xtensor<double, 2> m = {{1.0, -2.5, 3.0}, {1e-300, 1e300, -0.0}};
    io::write_npy(dir.file("m.npy"), m);
    CHECK(io::read_npy_matrix<double>(dir.file("m.npy")) == m);
    // The header is 64-byte aligned, version 1.0, and parses back to the same shape and dtype.
    const std::string bytes = read_file(dir.file("m.npy"));
    const io::npy_header h = io::parse_npy_header(bytes, bytes.size(), "m.npy");
    CHECK(h.data_offset % 64 == 0);
    CHECK(h.descr == "<f8");
    CHECK(h.shape == std::vector<std::size_t>{2, 3});
    CHECK(bytes.substr(h.data_offset - 1, 1) == "\n");

    const xt::xtensor<float, 1> v = {0.25f, -1.5f};
    io::write_npy(dir.file("v.npy"), v);
    CHECK(io::read_npy_header(dir.file("v.npy")).descr == "<f4");
    CHECK(io::read_npy<float>(dir.file("v.npy")) == xt::xarray<float>(v));
    const xt::xtensor<double, 2> column = {{1.0}, {2.0}};
    CHECK(io::read_npy_matrix<double>(dir.file("v.npy")).shape(1) == 1);  // rank 1 read as a column
    (void)column;

    const xt::xtensor<std::int64_t, 3> cube = xt::reshape_view(xt::arange<std::int64_t>(-12, 12), {2, 3, 4});
    io::write_npy(dir.file("cube.npy"), cube);
    CHECK(io::read_npy<std::int64_t>(dir.file("cube.npy")) == xt::xarray<std::int64_t>(cube));
    CHECK(contains(error_of([&] { io::read_npy_matrix<double>(dir.file("cube.npy")); }), "must hold a 1-D or 2-D array, got rank 3"));

    // An expression (not a container) and a strided view are evaluated once and written in C order.
    io::write_npy(dir.file("t.npy"), xt::transpose(m));
    CHECK(io::read_npy_matrix<double>(dir.file("t.npy")) == xt::xtensor<double, 2>(xt::transpose(m)));
    // a view of whole rows is contiguous but starts inside its container: written from its own first row
    io::write_npy(dir.file("rows.npy"), xt::view(m, xt::range(1, 2), xt::all()));
    CHECK(io::read_npy_matrix<double>(dir.file("rows.npy")) == xt::xtensor<double, 2>(xt::view(m, xt::range(1, 2), xt::all())));
    const xt::xtensor<std::uint8_t, 1> bytes_array = {0, 255, 7};
    io::write_npy(dir.file("u1.npy"), bytes_array);
    CHECK(io::read_npy<int>(dir.file("u1.npy"))(1) == 255);
}

TEST_CASE("npy_row_writer: blocks of rows make the file write_npy makes; a short, long or misshapen stream leaves no file") {
    scratch_dir dir;
    const xt::xtensor<double, 3> a = xt::reshape_view(xt::arange<double>(0.0, 5.0 * 3 * 2) * 0.5 - 3.0, {5, 3, 2});
    io::write_npy(dir.file("whole.npy"), a);
    {
        io::output_file out(dir.file("rows.npy"), "test");
        io::npy_row_writer<double> w(out, {5, 3, 2});
        w.append(xt::view(a, xt::range(0, 2)));
        w.append(xt::view(a, xt::range(2, 2)));  // an empty block
        w.append(xt::view(a, xt::range(2, 5)));
        CHECK(w.rows_written() == 5);
        w.commit();
    }
    CHECK(read_file(dir.file("rows.npy")) == read_file(dir.file("whole.npy")));
    // a strided block (a transposed matrix's rows) is written in C order
    const xt::xtensor<float, 2> m = {{1.0f, 2.0f}, {3.0f, 4.0f}, {5.0f, 6.0f}};
    {
        io::output_file out(dir.file("t.npy"), "test");
        io::npy_row_writer<float> w(out, {2, 3});
        w.append(xt::view(xt::transpose(m), xt::range(0, 1), xt::all()));
        w.append(xt::view(xt::transpose(m), xt::range(1, 2), xt::all()));
        w.commit();
    }
    CHECK(io::read_npy<float>(dir.file("t.npy")) == xt::xarray<float>(xt::transpose(m)));

    const std::size_t before = dir.entries();
    {
        io::output_file out(dir.file("short.npy"), "test");
        io::npy_row_writer<double> w(out, {5, 3, 2});
        w.append(xt::view(a, xt::range(0, 4)));
        CHECK(contains(error_of([&] { w.commit(); }), "received 4 of its 5 rows; not written"));
        CHECK(contains(error_of([&] { w.append(xt::view(a, xt::range(0, 2))); }), "2 more rows after 4 exceed the 5 of the file"));
        CHECK(contains(error_of([&] { w.append(xt::xtensor<double, 3>::from_shape({1, 2, 3})); }), "extents after the first must be the file's"));
        CHECK(contains(error_of([&] { w.append(xt::xtensor<double, 2>::from_shape({1, 6})); }), "extents after the first must be the file's"));
    }
    CHECK(!std::filesystem::exists(dir.file("short.npy")));
    CHECK(dir.entries() == before);  // no temporary left behind
}

TEST_CASE("npy: every malformed file is refused with a sentence naming the file and the fault, before allocating") {
    const std::string data12 = raw<double>({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
    const std::string good = npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }", data12);
    auto error_for = [](const std::string& bytes) { return error_of([&] { io::parse_npy<double>(bytes, "bad.npy"); }); };

    // A shape whose byte count wraps: (2^62 + 1) x 4 x 8 bytes = 32 modulo 2^64 (crashed the old reader).
    CHECK(contains(error_for(npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387905, 4), }", std::string(32, '\0'))),
                   "multiply to more than 2^64"));
    // An empty array whose other extents overflow signed strides (found by fuzz_npy): no data, yet refused.
    CHECK(contains(error_for(npy_bytes("{'descr': '<f8', 'fortran_order': True, 'shape': (0, 6666999999999099, 6666999999999099, 62), }", "")),
                   "non-zero entries multiply to more than 2^63"));
    // Truncated data, a header-only file, trailing bytes: the header's promise against the file size.
    CHECK(contains(error_for(good.substr(0, good.size() - 8)), "is truncated: its header promises shape (3, 4) of <f8 = 96 data bytes, the file has 88"));
    CHECK(contains(error_for(good.substr(0, 128)), "the file has 0"));
    CHECK(contains(error_for(good + "x"), "1 unexpected trailing bytes"));
    // An empty header; a header length beyond the file (13-byte version-2 file claiming 1.3 GB).
    CHECK(contains(error_for(std::string("\x93NUMPY\x01\x00\x00\x00", 10)), "empty .npy header"));
    CHECK(contains(error_for(std::string("\x93NUMPY\x02\x00\x00\x0d\x7d\x4dx", 13)), "claims 1300040960 bytes but the file has 13 bytes"));
    // Not .npy at all, truncated preambles, unknown versions.
    CHECK(contains(error_for("PK\x03\x04 a zip file"), "is not a .npy file"));
    CHECK(contains(error_for(""), "is not a .npy file"));
    CHECK(contains(error_for(std::string("\x93NUMPY\x01", 7)), "truncated"));
    CHECK(contains(error_for(std::string("\x93NUMPY\x04\x00\x10\x00", 10) + std::string(16, ' ')), "version 4.0"));
    // Header syntax.
    auto with_dict = [&](const std::string& dict) { return error_for(npy_bytes(dict, data12)); };
    CHECK(contains(with_dict("{'descr': '<f8', 'fortran_order': False}"), "'shape' is missing"));
    CHECK(contains(with_dict("{'descr': '<f8', 'shape': (3, 4)}"), "'fortran_order' is missing"));
    CHECK(contains(with_dict("{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': (3, 4)}"), "appears twice"));
    CHECK(contains(with_dict("{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), 'extra': 1}"), "unexpected key 'extra'"));
    CHECK(contains(with_dict("{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (3, 4)}"), "structured dtypes"));
    CHECK(contains(with_dict("{'descr': '<f8', 'fortran_order': Maybe, 'shape': (3, 4)}"), "True or False"));
    CHECK(contains(with_dict("{'descr': '<f8', 'fortran_order': False, 'shape': (3, -4)}"), "non-negative integer"));
    CHECK(contains(with_dict("{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4)} trailing"), "after the closing"));
    CHECK(contains(with_dict("{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4)"), "expected ',' or '}'"));
    CHECK(contains(with_dict("{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999, 4)}"), "does not fit in 64 bits"));
    // Dtypes widenn does not read, each with its reason.
    CHECK(contains(with_dict("{'descr': '<f2', 'fortran_order': False, 'shape': (3, 4)}"), "float16 is not supported"));
    CHECK(contains(with_dict("{'descr': '<c16', 'fortran_order': False, 'shape': (3, 4)}"), "complex"));
    CHECK(contains(with_dict("{'descr': '|O', 'fortran_order': False, 'shape': (3, 4)}"), "unsupported dtype"));
    CHECK(contains(with_dict("{'descr': '<U8', 'fortran_order': False, 'shape': (3, 4)}"), "unsupported dtype"));
    CHECK(contains(with_dict("{'descr': '|f8', 'fortran_order': False, 'shape': (3, 4)}"), "only valid for 1-byte items"));
    CHECK(contains(with_dict("{'descr': '#f8', 'fortran_order': False, 'shape': (3, 4)}"), "unknown byte order"));
}

TEST_CASE("npy: the file reader checks the header before reading, and reads what it checked") {
    scratch_dir dir;
    const std::string data = raw<double>({1, 2, 3, 4, 5, 6});
    write_file(dir.file("ok.npy"), npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), }", data));
    CHECK(io::read_npy_matrix<double>(dir.file("ok.npy"))(2, 1) == 6);
    // float32 requested from a float64 file: converted in chunks.
    CHECK(io::read_npy_matrix<float>(dir.file("ok.npy"))(1, 0) == 3.0f);
    write_file(dir.file("short.npy"), npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), }", data.substr(0, 40)));
    const std::string m = error_of([&] { io::read_npy<double>(dir.file("short.npy")); });
    CHECK(contains(m, dir.file("short.npy")));
    CHECK(contains(m, "truncated"));
    CHECK(contains(error_of([&] { io::read_npy<double>(dir.file("missing.npy")); }), "cannot open"));
    CHECK(contains(error_of([&] { io::read_npy<double>(dir.path.string()); }), "not a regular file"));
    CHECK(contains(error_of([&] { io::read_npy<double>("/dev/null"); }), "not a regular file"));
}

TEST_CASE("output files appear whole or not at all, and write errors are errors") {
    scratch_dir dir;
    const std::string target = dir.file("result.npy");
    write_file(target, "previous result");
    SUBCASE("a run that fails before commit leaves the previous file and no temporary one") {
        {
            io::output_file out(target, "test");
            out.write("partial");
            CHECK(dir.entries() == 2);  // the target and the temporary file beside it
        }
        CHECK(read_file(target) == "previous result");
        CHECK(dir.entries() == 1);
    }
    SUBCASE("commit replaces the file, keeping its permissions") {
        fs::permissions(target, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
        io::output_file out(target, "test");
        out.write("new result");
        out.commit();
        CHECK(read_file(target) == "new result");
        CHECK(dir.entries() == 1);
        CHECK((fs::status(target).permissions() & fs::perms::all) == (fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read));
    }
    SUBCASE("a full device: the error comes at the write, flush or commit, never as success") {
        std::string m = error_of([&] {
            io::output_file out("/dev/full", "test");
            out.write(std::string(1 << 16, 'x'));
            out.commit();
        });
        CHECK(contains(m, "No space left on device"));
        m = error_of([&] { io::write_npy("/dev/full", xt::xtensor<double, 1>({1.0, 2.0})); });
        CHECK(contains(m, "/dev/full"));
    }
    SUBCASE("unwritable places are reported when the output is opened, before any work") {
        CHECK(contains(error_of([&] { io::output_file out(dir.file("no/such/dir/x.npy"), "--out"); }), "cannot create a file in"));
        CHECK(contains(error_of([&] { io::output_file out(dir.path.string(), "--out"); }), "is a directory"));
        CHECK(contains(error_of([&] { io::output_file out("", "--out"); }), "empty"));
        CHECK(contains(error_of([&] { io::require_writable(dir.file("none/x.csv"), "--csv"); }), "--csv"));
        io::require_writable(dir.file("fine.csv"), "--csv");
        CHECK(!fs::exists(dir.file("fine.csv")));  // the check leaves nothing behind
    }
    SUBCASE("outputs that alias an input or each other are refused") {
        const std::string input = dir.file("x.npy");
        write_file(input, "x");
        CHECK(contains(error_of([&] { io::require_distinct_outputs({{"--x1", input}}, {{"--nngp", input}}, "cmd"); }), "would destroy the input"));
        // The same file under another spelling of its path.
        const std::string other_spelling = (dir.path / "." / "x.npy").string();
        CHECK(contains(error_of([&] { io::require_distinct_outputs({{"--x1", input}}, {{"--nngp", other_spelling}}, ""); }), "--nngp"));
        CHECK(contains(error_of([&] { io::require_distinct_outputs({}, {{"--nngp", dir.file("k.npy")}, {"--ntk", dir.file("k.npy")}}, ""); }),
                       "name the same file"));
        io::require_distinct_outputs({{"--x1", input}, {"--x2", ""}}, {{"--nngp", dir.file("k.npy")}, {"--ntk", dir.file("t.npy")}}, "");
        io::require_distinct_outputs({}, {{"--nngp", "/dev/null"}, {"--ntk", "/dev/null"}}, "");
    }
}

TEST_CASE("csv_writer: the CSV appears at close, and an exception leaves the previous file") {
    scratch_dir dir;
    const std::string path = dir.file("curve.csv");
    {
        io::csv_writer csv(path, {"step", "loss"});
        csv.row(1, 0.5);
        csv.row(2, 0.25);
        CHECK(!fs::exists(path));
        csv.close();
        CHECK(read_file(path) == "step,loss\n1,0.5\n2,0.25\n");
    }
    try {
        io::csv_writer csv(path, {"step", "loss"});
        csv.row(1, 9.0);
        throw std::runtime_error("the run failed");
    } catch (const std::runtime_error&) {
    }
    CHECK(read_file(path) == "step,loss\n1,0.5\n2,0.25\n");
    CHECK(dir.entries() == 1);
    {
        io::csv_writer csv(path, {"a"});
        csv.row(3);
    }  // closed by the destructor when no exception is in flight
    CHECK(read_file(path) == "a\n3\n");
    CHECK(contains(error_of([&] {
                       io::csv_writer csv("/dev/full", {"a"});
                       for (int i = 0; i < 10; ++i) csv.row(i);
                   }),
                   "No space left on device"));
}
