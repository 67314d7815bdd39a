#pragma once
// .npy files, NumPy's array format (NumPy Enhancement Proposal 1, "A simple file format for NumPy arrays"):
//   6 bytes "\x93NUMPY", 1 byte major and 1 byte minor version;
//   the header length: 2 bytes little-endian in version 1.0, 4 bytes in versions 2.0 and 3.0;
//   the header: a Python dict literal {'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), } padded with
//   spaces and ended by a newline (latin-1 in 1.0 and 2.0, UTF-8 in 3.0);
//   the data: product(shape) items of the dtype, in C (row-major) or Fortran (column-major) order.
//
// The reader trusts nothing in a file: the magic, the version, a header length within the file, the header's
// syntax (exactly the three keys, each once), the dtype (float32/64, signed and unsigned integers of 1 to 8 bytes,
// bool; either byte order, converted explicitly), the shape entries and their product (overflow-checked), and that
// the file holds exactly the bytes the header promises, all before any allocation; then the read itself is checked.
// Every failure is a widenn::error naming the file and what is wrong. Reading and writing stream at memory speed:
// a file whose dtype is the requested one is read straight into the result, others in converted chunks.
#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <xtensor/xadapt.hpp>
#include <xtensor/xarray.hpp>
#include <xtensor/xtensor.hpp>

#include "../core/checked.hpp"
#include "../core/errors.hpp"
#include "files.hpp"

namespace widenn::io {

// What a .npy header says, after every check.
struct npy_header {
    char kind = 'f';                  // 'f' float, 'i' signed integer, 'u' unsigned integer, 'b' bool
    std::size_t item_size = 8;        // bytes per item
    bool big_endian = false;          // byte order of the items
    bool fortran_order = false;       // column-major data
    std::vector<std::size_t> shape;   // () for a scalar
    std::size_t count = 1;            // product of shape
    std::size_t data_offset = 0;      // where the data starts
    std::string descr;                // as written, e.g. "<f8"
};

namespace detail {

static_assert(std::endian::native == std::endian::little, "widenn's .npy reader assumes a little-endian machine");

constexpr std::string_view npy_magic{"\x93NUMPY", 6};

// A strict parser for the header's dict literal.
class npy_dict_parser {
public:
    npy_dict_parser(std::string_view text, std::string_view where) : text_(text), where_(where) {}

    void parse(npy_header& h) {
        bool have_descr = false, have_order = false, have_shape = false;
        skip_space();
        expect('{');
        for (;;) {
            skip_space();
            if (peek() == '}') break;
            const std::string key = string_literal();
            skip_space();
            expect(':');
            skip_space();
            if (key == "descr") {
                if (have_descr) bad("the key 'descr' appears twice");
                if (peek() != '\'' && peek() != '"')
                    bad("'descr' is not a simple dtype string (structured dtypes are not supported)");
                h.descr = string_literal();
                have_descr = true;
            } else if (key == "fortran_order") {
                if (have_order) bad("the key 'fortran_order' appears twice");
                h.fortran_order = boolean();
                have_order = true;
            } else if (key == "shape") {
                if (have_shape) bad("the key 'shape' appears twice");
                h.shape = tuple_of_sizes();
                have_shape = true;
            } else {
                bad("unexpected key '" + key + "' (a .npy header has exactly 'descr', 'fortran_order' and 'shape')");
            }
            skip_space();
            if (peek() == ',') {
                ++pos_;
                continue;
            }
            skip_space();
            if (peek() != '}') bad("expected ',' or '}' after the value of '" + key + "'");
        }
        expect('}');
        while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\n' || text_[pos_] == '\t' || text_[pos_] == '\r' || text_[pos_] == '\0'))
            ++pos_;
        if (pos_ != text_.size()) bad("unexpected text after the closing '}'");
        if (!have_descr) bad("the key 'descr' is missing");
        if (!have_order) bad("the key 'fortran_order' is missing");
        if (!have_shape) bad("the key 'shape' is missing");
    }

private:
    [[noreturn]] void bad(const std::string& what) const { fail(where_, ": malformed .npy header: ", what); }
    char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
    void skip_space() {
        while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' || text_[pos_] == '\r')) ++pos_;
    }
    void expect(char c) {
        if (peek() != c) bad(std::string("expected '") + c + "' at byte " + std::to_string(pos_) + " of the header");
        ++pos_;
    }
    std::string string_literal() {
        const char quote = peek();
        if (quote != '\'' && quote != '"') bad("expected a quoted string at byte " + std::to_string(pos_) + " of the header");
        ++pos_;
        std::string out;
        while (pos_ < text_.size() && text_[pos_] != quote) {
            if (text_[pos_] == '\\' || out.size() > 64) bad("unsupported string in the header");
            out += text_[pos_++];
        }
        expect(quote);
        return out;
    }
    bool boolean() {
        if (text_.substr(pos_, 4) == "True") {
            pos_ += 4;
            return true;
        }
        if (text_.substr(pos_, 5) == "False") {
            pos_ += 5;
            return false;
        }
        bad("'fortran_order' must be True or False");
    }
    std::vector<std::size_t> tuple_of_sizes() {
        expect('(');
        std::vector<std::size_t> out;
        for (;;) {
            skip_space();
            if (peek() == ')') break;
            if (peek() < '0' || peek() > '9') bad("a shape entry must be a non-negative integer");
            std::size_t value = 0;
            while (peek() >= '0' && peek() <= '9') {
                if (__builtin_mul_overflow(value, std::size_t{10}, &value) ||
                    __builtin_add_overflow(value, static_cast<std::size_t>(peek() - '0'), &value))
                    bad("a shape entry does not fit in 64 bits");
                ++pos_;
            }
            if (out.size() == 32) bad("more than 32 dimensions");
            out.push_back(value);
            skip_space();
            if (peek() == ',') {
                ++pos_;
                continue;
            }
            if (peek() != ')') bad("expected ',' or ')' in 'shape'");
        }
        expect(')');
        return out;
    }

    std::string_view text_;
    std::string_view where_;
    std::size_t pos_ = 0;
};

// Decodes a dtype string such as "<f8" into the header's kind, item size and byte order.
inline void decode_descr(npy_header& h, std::string_view where) {
    const std::string& d = h.descr;
    auto refuse = [&](const std::string& why) { fail(where, ": unsupported dtype '", d, "': ", why); };
    if (d.size() < 3) refuse("expected a byte order, a kind and a size such as '<f8'");
    const char order = d[0], kind = d[1];
    std::size_t size = 0;
    for (std::size_t i = 2; i < d.size(); ++i) {
        if (d[i] < '0' || d[i] > '9' || size > 100) refuse("expected a byte order, a kind and a size such as '<f8'");
        size = size * 10 + static_cast<std::size_t>(d[i] - '0');
    }
    if (order != '<' && order != '>' && order != '|' && order != '=') refuse("unknown byte order '" + std::string(1, order) + "'");
    const bool size_ok = (kind == 'f' && (size == 4 || size == 8)) || ((kind == 'i' || kind == 'u') && (size == 1 || size == 2 || size == 4 || size == 8)) ||
                         (kind == 'b' && size == 1);
    if (kind == 'f' && size == 2) refuse("float16 is not supported; save the array as float32 (a.astype(np.float32))");
    if (kind == 'c') refuse("complex arrays are not supported");
    if (!size_ok) refuse("widenn reads float32, float64, signed and unsigned integers and bool");
    if (order == '|' && size != 1) refuse("byte order '|' is only valid for 1-byte items");
    h.kind = kind;
    h.item_size = size;
    h.big_endian = order == '>';
}

template <class T>
constexpr bool npy_native_match(const npy_header& h) {
    if (h.big_endian || h.item_size != sizeof(T)) return false;
    if constexpr (std::is_floating_point_v<T>) return h.kind == 'f';
    else if constexpr (std::is_same_v<T, bool>) return h.kind == 'b';
    else if constexpr (std::is_signed_v<T>) return h.kind == 'i';
    else return h.kind == 'u';
}

// Converts `n` items in the file's encoding at `src` into T at `out`.
template <class T>
void npy_convert(const npy_header& h, const unsigned char* src, std::size_t n, T* out) {
    auto load = [&]<class S>(S) {
        for (std::size_t i = 0; i < n; ++i) {
            std::array<unsigned char, sizeof(S)> b;
            std::memcpy(b.data(), src + i * sizeof(S), sizeof(S));
            if (h.big_endian) std::reverse(b.begin(), b.end());
            S value;
            std::memcpy(&value, b.data(), sizeof(S));
            out[i] = static_cast<T>(value);
        }
    };
    switch (h.kind) {
        case 'f': h.item_size == 4 ? load(float{}) : load(double{}); break;
        case 'b': load(std::uint8_t{}); for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<T>(out[i] != T(0)); break;
        case 'i':
            switch (h.item_size) {
                case 1: load(std::int8_t{}); break;
                case 2: load(std::int16_t{}); break;
                case 4: load(std::int32_t{}); break;
                default: load(std::int64_t{}); break;
            }
            break;
        default:
            switch (h.item_size) {
                case 1: load(std::uint8_t{}); break;
                case 2: load(std::uint16_t{}); break;
                case 4: load(std::uint32_t{}); break;
                default: load(std::uint64_t{}); break;
            }
    }
}

// Rank-independent Fortran-to-C reorder of `in` (column-major, shape) into a row-major array.
template <class T>
xt::xarray<T> from_fortran_order(const std::vector<T>& in, const std::vector<std::size_t>& shape) {
    auto column_major = xt::adapt<xt::layout_type::dynamic>(in.data(), in.size(), xt::no_ownership(), shape, xt::layout_type::column_major);
    return xt::xarray<T>(column_major);
}

}  // namespace detail

namespace detail {
// A file opened for reading, closed on every path out.
class input_file {
public:
    explicit input_file(const std::string& path) : f_(std::fopen(path.c_str(), "rb")) {
        if (!f_) fail("cannot open '", path, "': ", std::strerror(errno));
    }
    input_file(const input_file&) = delete;
    input_file& operator=(const input_file&) = delete;
    ~input_file() { std::fclose(f_); }
    std::FILE* get() const { return f_; }

private:
    std::FILE* f_;
};
}  // namespace detail

// Parses and checks the header of a .npy file of `file_size` bytes whose first bytes are `prefix` (at least the
// whole header, or the whole file if it is shorter). `name` names the file in messages.
inline npy_header parse_npy_header(std::string_view prefix, std::uint64_t file_size, std::string_view name) {
    const std::string where = widenn::detail::concat("'", name, "'");
    if (prefix.size() < 10 || prefix.substr(0, 6) != detail::npy_magic) {
        if (prefix.size() >= 6 && prefix.substr(0, 6) == detail::npy_magic) fail(where, " is truncated: ", prefix.size(), " bytes, shorter than a .npy preamble");
        fail(where, " is not a .npy file (it does not start with \\x93NUMPY)");
    }
    const auto major = static_cast<unsigned char>(prefix[6]), minor = static_cast<unsigned char>(prefix[7]);
    if (!((major == 1 || major == 2 || major == 3) && minor == 0))
        fail(where, " has .npy format version ", int{major}, ".", int{minor}, "; widenn reads versions 1.0, 2.0 and 3.0");
    const std::size_t length_bytes = major == 1 ? 2 : 4;
    if (prefix.size() < 8 + length_bytes) fail(where, " is truncated inside its .npy preamble");
    std::uint64_t header_length = 0;
    for (std::size_t i = 0; i < length_bytes; ++i) header_length |= std::uint64_t{static_cast<unsigned char>(prefix[8 + i])} << (8 * i);
    const std::uint64_t data_offset = 8 + length_bytes + header_length;
    if (data_offset > file_size)
        fail(where, " is truncated: its .npy header claims ", header_length, " bytes but the file has ", file_size, " bytes in all");
    if (header_length == 0) fail(where, " has an empty .npy header");
    if (prefix.size() < data_offset) fail(where, ": internal error: the header was not read whole");
    npy_header h;
    h.data_offset = static_cast<std::size_t>(data_offset);
    detail::npy_dict_parser(prefix.substr(8 + length_bytes, static_cast<std::size_t>(header_length)), where).parse(h);
    detail::decode_descr(h, where);
    h.count = checked_product(h.shape, widenn::detail::concat(where, ": the .npy shape"));
    // Strides are products of the trailing extents in signed arithmetic (xtensor), so even an empty array's non-zero
    // extents must multiply to less than 2^63: (0, 2^62, 2^62) holds no data but has no representable strides.
    std::size_t extents = 1;
    for (const std::size_t e : h.shape)
        if (__builtin_mul_overflow(extents, std::max<std::size_t>(e, 1), &extents) ||
            extents > static_cast<std::size_t>(std::numeric_limits<std::ptrdiff_t>::max()))
            fail(where, ": the .npy shape's non-zero entries multiply to more than 2^63");
    const std::size_t data_bytes = checked_product({h.count, h.item_size}, widenn::detail::concat(where, ": the .npy data size"));
    const std::uint64_t found = file_size - data_offset;
    auto shape_text = [&] {
        std::string t = "(";
        for (std::size_t i = 0; i < h.shape.size(); ++i) t += (i ? ", " : "") + std::to_string(h.shape[i]);
        return t + (h.shape.size() == 1 ? ",)" : ")");
    };
    if (found < data_bytes)
        fail(where, " is truncated: its header promises shape ", shape_text(), " of ", h.descr, " = ", data_bytes, " data bytes, the file has ", found);
    if (found > data_bytes)
        fail(where, " is corrupt: its header promises shape ", shape_text(), " of ", h.descr, " = ", data_bytes, " data bytes, the file has ",
             found, " (", found - data_bytes, " unexpected trailing bytes)");
    return h;
}

// Reads only the header of a .npy file (cheap): to size a computation before loading the data.
inline npy_header read_npy_header(const std::string& path) {
    const detail::input_file file(path);
    std::FILE* f = file.get();
    struct stat s {};
    if (::fstat(::fileno(f), &s) != 0 || !S_ISREG(s.st_mode)) fail("'", path, "' is not a regular file");
    const auto size = static_cast<std::uint64_t>(s.st_size);
    // The preamble first, then exactly the header it announces (bounded by the file size before allocating).
    std::string prefix(static_cast<std::size_t>(std::min<std::uint64_t>(size, 12)), '\0');
    if (std::fread(prefix.data(), 1, prefix.size(), f) != prefix.size()) fail("reading '", path, "' failed");
    if (prefix.size() >= 10 && prefix.substr(0, 6) == detail::npy_magic) {
        const auto major = static_cast<unsigned char>(prefix[6]);
        std::uint64_t header_length = static_cast<unsigned char>(prefix[8]) | (std::uint64_t{static_cast<unsigned char>(prefix[9])} << 8);
        if (major >= 2 && prefix.size() >= 12)
            header_length |= (std::uint64_t{static_cast<unsigned char>(prefix[10])} << 16) | (std::uint64_t{static_cast<unsigned char>(prefix[11])} << 24);
        const std::uint64_t end = (major >= 2 ? 12 : 10) + header_length;
        if (end <= size && end > prefix.size()) {
            const std::size_t have = prefix.size();
            prefix.resize(static_cast<std::size_t>(end));
            if (std::fread(prefix.data() + have, 1, prefix.size() - have, f) != prefix.size() - have) fail("reading '", path, "' failed");
        }
    }
    return parse_npy_header(prefix, size, path);
}

namespace detail {

// The checked data of `h` into `out` (h.count values of T, row-major), from `read(into, bytes)` that reads the next
// bytes of the data. Fortran-order data is reordered to row-major.
template <class T, class Read>
void load_npy_values(const npy_header& h, T* out, Read&& read) {
    if (h.count == 0) return;  // an empty array: nothing to read (and `out` may be null)
    if (h.fortran_order && h.shape.size() > 1) {
        npy_header c_order = h;
        c_order.fortran_order = false;
        std::vector<T> column_major(h.count);
        load_npy_values(c_order, column_major.data(), read);
        auto source = xt::adapt<xt::layout_type::dynamic>(column_major.data(), column_major.size(), xt::no_ownership(), h.shape,
                                                          xt::layout_type::column_major);
        auto target = xt::adapt(out, h.count, xt::no_ownership(), h.shape);
        target = source;
        return;
    }
    if (npy_native_match<T>(h)) {
        read(out, h.count * sizeof(T));
        return;
    }
    constexpr std::size_t chunk_items = 1 << 16;
    std::vector<unsigned char> chunk(std::min(chunk_items, h.count) * h.item_size);
    for (std::size_t start = 0; start < h.count; start += chunk_items) {
        const std::size_t n = std::min(chunk_items, h.count - start);
        read(chunk.data(), n * h.item_size);
        npy_convert(h, chunk.data(), n, out + start);
    }
}

// An array of type Array (xt::xarray<T> or xt::xtensor<T, N>) with the header's shape, or `shape` when given.
template <class Array, class Read>
Array load_npy_array(const npy_header& h, const std::vector<std::size_t>& shape, std::string_view name, Read&& read) {
    using T = typename Array::value_type;
    require_memory(checked_product({h.count, sizeof(T)}, name), widenn::detail::concat("reading '", name, "'"),
                   "the array does not fit in memory");
    Array out = Array::from_shape(shape);
    load_npy_values(h, out.data(), read);
    return out;
}

}  // namespace detail

// A whole .npy file held in memory (for the fuzzer and for data that is not in a file).
template <class T>
xt::xarray<T> parse_npy(std::string_view bytes, std::string_view name) {
    const npy_header h = parse_npy_header(bytes, bytes.size(), name);
    std::size_t at = h.data_offset;
    return detail::load_npy_array<xt::xarray<T>>(h, h.shape, name, [&](void* into, std::size_t n) {
        std::memcpy(into, bytes.data() + at, n);
        at += n;
    });
}

namespace detail {
// Opens `path`, checks its header and hands the data reader to `make`.
template <class Make>
auto with_npy_file(const std::string& path, Make&& make) {
    const npy_header h = read_npy_header(path);
    const input_file file(path);
    std::FILE* f = file.get();
    if (std::fseek(f, static_cast<long>(h.data_offset), SEEK_SET) != 0) fail("reading '", path, "' failed");
    std::size_t done = 0;
    return make(h, [&](void* into, std::size_t bytes) {
        if (std::fread(into, 1, bytes, f) != bytes)
            fail("'", path, "' is truncated: reading stopped after about ", done, " of ", h.count * h.item_size,
                 " data bytes (did the file change while it was read?)");
        done += bytes;
    });
}
}  // namespace detail

// Reads a .npy file of any supported dtype as an array of T (converted explicitly; integers and bools as values).
template <class T = double>
xt::xarray<T> read_npy(const std::string& path) {
    return detail::with_npy_file(path, [&](const npy_header& h, auto&& read) {
        return detail::load_npy_array<xt::xarray<T>>(h, h.shape, path, read);
    });
}

// A .npy file as a matrix: rank 2 as it is, rank 1 as a column (N x 1). Any other rank is an error, before the data
// is read.
template <class T = double>
xt::xtensor<T, 2> read_npy_matrix(const std::string& path) {
    return detail::with_npy_file(path, [&](const npy_header& h, auto&& read) {
        if (h.shape.size() != 1 && h.shape.size() != 2)
            fail<shape_error>("'", path, "' must hold a 1-D or 2-D array, got rank ", h.shape.size());
        const std::vector<std::size_t> shape{h.shape[0], h.shape.size() == 2 ? h.shape[1] : 1};
        return detail::load_npy_array<xt::xtensor<T, 2>>(h, shape, path, read);
    });
}

namespace detail {
template <class T>
constexpr const char* npy_descr() {
    if constexpr (std::is_same_v<T, double>) return "<f8";
    else if constexpr (std::is_same_v<T, float>) return "<f4";
    else if constexpr (std::is_same_v<T, bool>) return "|b1";
    else if constexpr (std::is_integral_v<T> && std::is_signed_v<T> && sizeof(T) == 8) return "<i8";
    else if constexpr (std::is_integral_v<T> && std::is_signed_v<T> && sizeof(T) == 4) return "<i4";
    else if constexpr (std::is_integral_v<T> && std::is_unsigned_v<T> && sizeof(T) == 1) return "|u1";
    else static_assert(sizeof(T) == 0, "write_npy writes float64, float32, int64, int32, uint8 and bool arrays");
}

// The first element of an expression held contiguously in row-major order (a container, or a view of whole rows of
// one: its data() is the underlying container's, so the view's offset is added), or null: then it is evaluated first.
template <class E>
const typename E::value_type* row_major_data(const E& e) {
    if constexpr (requires { e.data(); e.data_offset(); }) {
        if (e.layout() == xt::layout_type::row_major && e.is_contiguous()) return e.data() + e.data_offset();
    }
    return nullptr;
}

// The version 1.0 (or 2.0 for a huge shape) preamble and header for `shape`, padded to a multiple of 64 bytes.
inline std::string npy_preamble(const char* descr, const std::vector<std::size_t>& shape) {
    std::string dict = std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': (";
    for (std::size_t i = 0; i < shape.size(); ++i) dict += (i ? ", " : "") + std::to_string(shape[i]);
    dict += shape.size() == 1 ? ",), }" : "), }";
    const bool v2 = dict.size() + 1 + 10 > 65535;
    const std::size_t fixed = v2 ? 12 : 10;
    const std::size_t total = (fixed + dict.size() + 1 + 63) / 64 * 64;
    dict.append(total - fixed - dict.size() - 1, ' ');
    dict += '\n';
    std::string out(npy_magic);
    out += static_cast<char>(v2 ? 2 : 1);
    out += '\0';
    for (std::size_t i = 0; i < (v2 ? 4u : 2u); ++i) out += static_cast<char>((dict.size() >> (8 * i)) & 0xff);
    return out + dict;
}
}  // namespace detail

// Writes `array` (any xtensor expression of float64, float32, int64, int32, uint8 or bool) as a C-order .npy file,
// atomically: the file appears whole or the previous one stays (output_file). The contiguous data is written in one
// call. To have an unwritable path reported before a long computation, construct the output_file first and pass it.
template <class E>
void write_npy(output_file& out, const xt::xexpression<E>& array) {
    using T = typename E::value_type;
    const auto& e = array.derived_cast();
    auto write_contiguous = [&](const auto& c, const T* data) {
        const std::vector<std::size_t> shape(c.shape().begin(), c.shape().end());
        out.write(detail::npy_preamble(detail::npy_descr<T>(), shape));
        out.write(data, c.size() * sizeof(T));
    };
    if (const T* data = detail::row_major_data(e)) {
        write_contiguous(e, data);
    } else {
        const xt::xarray<T> c(e);  // an expression or a strided view: evaluated once, row-major
        write_contiguous(c, c.data());
    }
    out.commit();
}

// A C-order .npy file of a known shape written in consecutive blocks of its first axis (a kernel larger than memory,
// row block by row block): the header at construction, then append() in order; commit() checks that every row arrived
// and only then does the file appear (output_file: a failure on the way leaves the previous file, never a partial one).
template <class T>
class npy_row_writer {
public:
    npy_row_writer(output_file& out, std::vector<std::size_t> shape) : out_(out), shape_(std::move(shape)) {
        require<shape_error>(!shape_.empty(), "widenn::io::npy_row_writer: '", out_.path(), "' needs an array of rank >= 1");
        row_values_ = 1;
        for (std::size_t k = 1; k < shape_.size(); ++k) row_values_ = checked_product({row_values_, shape_[k]}, "widenn::io::npy_row_writer");
        checked_product({shape_[0], row_values_, sizeof(T)}, "widenn::io::npy_row_writer");
        out_.write(detail::npy_preamble(detail::npy_descr<T>(), shape_));
    }
    // The next rows: an expression whose first extent is the number of rows and whose other extents are the file's.
    template <class E>
    void append(const xt::xexpression<E>& rows) {
        const auto& e = rows.derived_cast();
        const auto& s = e.shape();
        const std::size_t n = s.empty() ? 0 : s[0];
        bool same = s.size() == shape_.size();
        for (std::size_t k = 1; same && k < s.size(); ++k) same = s[k] == shape_[k];
        require<shape_error>(same, "widenn::io::npy_row_writer: '", out_.path(), "': a block's extents after the first must be the file's");
        require<shape_error>(n <= shape_[0] - written_, "widenn::io::npy_row_writer: '", out_.path(), "': ", n, " more rows after ", written_,
                             " exceed the ", shape_[0], " of the file");
        if (const T* data = detail::row_major_data(e)) {
            out_.write(data, n * row_values_ * sizeof(T));
        } else {
            const xt::xarray<T> c(e);  // a strided view: evaluated once, row-major
            out_.write(c.data(), n * row_values_ * sizeof(T));
        }
        written_ += n;
    }
    std::size_t rows_written() const { return written_; }
    void commit() {
        require(written_ == shape_[0], "widenn::io::npy_row_writer: '", out_.path(), "' received ", written_, " of its ", shape_[0],
                " rows; not written");
        out_.commit();
    }

private:
    output_file& out_;
    std::vector<std::size_t> shape_;
    std::size_t row_values_ = 1, written_ = 0;
};

template <class E>
void write_npy(const std::string& path, const xt::xexpression<E>& array) {
    output_file out(path, "widenn::io::write_npy");
    write_npy(out, array);
}

}  // namespace widenn::io
