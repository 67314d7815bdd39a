#pragma once
// A run-time description of an architecture: the layer vocabulary of `widenn kernel --arch SPEC`, its parser and its
// shape inference. The compile-time compositions (nn/serial.hpp) build finite networks; this is the string form the
// commands take, and what limit/conv_kernel.hpp computes the infinite-width kernels of.
//
// Grammar (comma-separated, whitespace around tokens ignored):
//   SPEC  := LAYER (',' LAYER)*
//   LAYER := 'conv:' K [':' PAD [':' STRIDE]]   K×K convolution; PAD same (default) | valid | circular; STRIDE 1 | 2
//          | 'avgpool:' K                       K×K average pooling, stride K, valid padding
//          | 'dense'                            hidden dense layer (2-D inputs N×d)
//          | 'layernorm'                        layer normalisation over the channels (of each pixel)
//          | ACTIVATION                         relu, abs, leaky_relu, erf, sigmoid_like, gelu, tanh, softplus, sin,
//                                               identity, opt_3d
//          | 'res(' SPEC ')'                    residual block x + block(x)
//          | 'flatten' | 'gap'                  image readouts (last layer; global average pooling for gap)
// A readout Dense(1) follows implicitly. Nesting of res( ) is limited to max_spec_nesting levels.
#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "../core/errors.hpp"

namespace widenn::nn {

enum class padding { same, valid, circular };
enum class layer_kind { dense, conv, activation, avgpool, gap, flatten, layernorm, residual };

// The activation names a SPEC accepts (the same names as `widenn kernel --act`).
inline constexpr std::array<std::string_view, 11> spec_activation_names = {
    "relu", "abs", "leaky_relu", "erf", "sigmoid_like", "gelu", "tanh", "softplus", "sin", "identity", "opt_3d"};

inline constexpr int max_spec_nesting = 16;   // res( ) inside res( ) ...
inline constexpr int max_spec_window = 1024;  // largest K of conv:K and avgpool:K

struct layer_spec {
    layer_kind kind = layer_kind::dense;
    int size = 1;                       // K of conv:K and avgpool:K
    int stride = 1;                     // conv: 1 or 2 (avgpool: its stride is K)
    padding pad = padding::same;        // conv
    std::string activation;             // activation: its name
    std::vector<layer_spec> inner;      // residual: the block
    std::string text;                   // the token as written (res: "res(...)")
    std::size_t column = 0;             // 1-based position of the token in the SPEC string
};

struct spec {
    std::vector<layer_spec> layers;
};

// The image (or feature vector) shape after a layer: h × w pixels; channels = 0 means the hidden width (infinite in
// the kernel limit). A 2-D input N×d is the 1×1 image with d channels.
struct spec_shape {
    std::size_t h = 1, w = 1, channels = 0;
};

namespace detail {

inline std::string layer_name(const layer_spec& l) { return "'" + l.text + "' (column " + std::to_string(l.column) + ")"; }

class spec_parser {
public:
    explicit spec_parser(std::string_view text) : s_(text) {}

    spec parse() {
        require(s_.size() <= 100000, "parse_spec: the SPEC is ", s_.size(), " characters long; at most 100000 are accepted");
        spec out;
        out.layers = list(0);
        skip_space();
        if (pos_ < s_.size())
            fail("parse_spec: unexpected '", s_[pos_], "' at column ", pos_ + 1, " of \"", excerpt(), "\": expected ',' between layers",
                 s_[pos_] == ')' ? " (this ')' closes no res( )" : "");
        return out;
    }

private:
    std::vector<layer_spec> list(int depth) {
        std::vector<layer_spec> layers;
        for (;;) {
            layers.push_back(item(depth));
            skip_space();
            if (pos_ < s_.size() && s_[pos_] == ',') {
                ++pos_;
                continue;
            }
            return layers;
        }
    }

    layer_spec item(int depth) {
        skip_space();
        const std::size_t start = pos_;
        // a token runs up to ',', '(', ')' or the end (whitespace trimmed)
        while (pos_ < s_.size() && s_[pos_] != ',' && s_[pos_] != '(' && s_[pos_] != ')') ++pos_;
        std::size_t end = pos_;
        while (end > start && is_space(s_[end - 1])) --end;
        const std::string_view token = s_.substr(start, end - start);
        layer_spec l;
        l.column = start + 1;
        l.text = std::string(token);
        if (pos_ < s_.size() && s_[pos_] == '(') {
            if (token != "res")
                fail("parse_spec: token '", token, "(' at column ", start + 1, ": only res( ) takes a block in parentheses; expected ",
                     expected());
            if (depth + 1 > max_spec_nesting)
                fail("parse_spec: res( ) at column ", start + 1, " is nested ", depth + 1, " deep; at most ", max_spec_nesting,
                     " levels are allowed");
            ++pos_;
            l.kind = layer_kind::residual;
            l.inner = list(depth + 1);
            skip_space();
            if (pos_ >= s_.size() || s_[pos_] != ')')
                fail("parse_spec: res( opened at column ", start + 1, " is not closed: expected ')' at column ", pos_ + 1,
                     pos_ < s_.size() ? std::string(", got '") + s_[pos_] + "'" : std::string(", got the end of the SPEC"));
            ++pos_;
            l.text = std::string(s_.substr(start, pos_ - start));
            return l;
        }
        if (token.empty())
            fail("parse_spec: empty layer at column ", start + 1, " of \"", excerpt(), "\": expected ", expected());
        if (token == "res")
            fail("parse_spec: token 'res' at column ", start + 1, ": a residual block is written res(SPEC), e.g. res(conv:3,relu,conv:3)");
        const std::vector<std::string_view> parts = split(token);
        const std::string_view head = parts[0];
        auto no_arguments = [&](layer_kind k) {
            if (parts.size() != 1)
                fail("parse_spec: token '", token, "' at column ", start + 1, ": '", head, "' takes no ':' arguments");
            l.kind = k;
            return l;
        };
        if (head == "dense") return no_arguments(layer_kind::dense);
        if (head == "layernorm") return no_arguments(layer_kind::layernorm);
        if (head == "flatten") return no_arguments(layer_kind::flatten);
        if (head == "gap") return no_arguments(layer_kind::gap);
        for (std::string_view name : spec_activation_names)
            if (head == name) {
                no_arguments(layer_kind::activation);
                l.activation = std::string(name);
                return l;
            }
        if (head == "conv") {
            if (parts.size() < 2 || parts.size() > 4)
                fail("parse_spec: token '", token, "' at column ", start + 1,
                     ": expected conv:K, conv:K:valid, conv:K:circular, conv:K:same:2 (conv:K[:same|valid|circular[:1|2]])");
            l.kind = layer_kind::conv;
            l.size = window(parts[1], token, start);
            if (parts.size() >= 3) {
                if (parts[2] == "same") l.pad = padding::same;
                else if (parts[2] == "valid") l.pad = padding::valid;
                else if (parts[2] == "circular") l.pad = padding::circular;
                else
                    fail("parse_spec: token '", token, "' at column ", start + 1, ": padding '", parts[2],
                         "' is not one of same, valid, circular");
            }
            if (parts.size() == 4) {
                if (parts[3] == "1") l.stride = 1;
                else if (parts[3] == "2") l.stride = 2;
                else fail("parse_spec: token '", token, "' at column ", start + 1, ": stride '", parts[3], "' must be 1 or 2");
            }
            return l;
        }
        if (head == "avgpool") {
            if (parts.size() != 2)
                fail("parse_spec: token '", token, "' at column ", start + 1, ": expected avgpool:K (K x K window, stride K)");
            l.kind = layer_kind::avgpool;
            l.size = window(parts[1], token, start);
            l.stride = l.size;
            return l;
        }
        fail("parse_spec: token '", token, "' at column ", start + 1, " is not a layer: expected ", expected());
    }

    static int window(std::string_view digits, std::string_view token, std::size_t start) {
        int k = 0;
        bool ok = !digits.empty() && digits.size() <= 4;  // at most 4 digits: k cannot overflow
        for (std::size_t i = 0; ok && i < digits.size(); ++i) {
            if (digits[i] < '0' || digits[i] > '9') ok = false;
            else k = k * 10 + (digits[i] - '0');
        }
        if (!ok || k < 1 || k > max_spec_window)
            fail("parse_spec: token '", token, "' at column ", start + 1, ": the window size K must be an integer in 1..", max_spec_window,
                 ", got '", digits, "'");
        return k;
    }

    static std::vector<std::string_view> split(std::string_view token) {
        std::vector<std::string_view> parts;
        std::size_t from = 0;
        for (;;) {
            const std::size_t colon = token.find(':', from);
            parts.push_back(token.substr(from, colon == std::string_view::npos ? std::string_view::npos : colon - from));
            if (colon == std::string_view::npos || parts.size() > 8) return parts;
            from = colon + 1;
        }
    }

    static std::string expected() {
        std::string names;
        for (std::string_view n : spec_activation_names) names += std::string(names.empty() ? "" : ", ") + std::string(n);
        return "conv:K, conv:K:valid, conv:K:circular, conv:K:same:2, avgpool:K, dense, layernorm, res(SPEC), flatten, gap, "
               "or an activation (" + names + ")";
    }
    static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
    void skip_space() {
        while (pos_ < s_.size() && is_space(s_[pos_])) ++pos_;
    }
    std::string excerpt() const { return s_.size() <= 80 ? std::string(s_) : std::string(s_.substr(0, 77)) + "..."; }

    std::string_view s_;
    std::size_t pos_ = 0;
};

// The output extent of a window of size k with the given stride and padding over n input positions (neural-tangents /
// TensorFlow: same and circular give ceil(n / stride), valid floor((n - k) / stride) + 1), and the positions padded
// before the first (same/circular: half of the total padding, rounded down).
inline std::size_t window_output(std::size_t n, std::size_t k, std::size_t stride, padding pad) {
    if (pad == padding::valid) return n >= k ? (n - k) / stride + 1 : 0;
    return (n + stride - 1) / stride;
}
inline std::size_t window_pad_before(std::size_t n, std::size_t k, std::size_t stride, padding pad) {
    if (pad == padding::valid) return 0;
    const std::size_t out = window_output(n, k, stride, pad);
    const std::size_t span = (out - 1) * stride + k;
    return span > n ? (span - n) / 2 : 0;
}

struct shape_walk {
    bool image;
    bool affine_seen = false;

    spec_shape layers(const std::vector<layer_spec>& ls, spec_shape s, bool top, int depth) {
        if (depth > max_spec_nesting) fail("infer_shapes: res( ) blocks are nested more than ", max_spec_nesting, " deep");
        require(!ls.empty(), "infer_shapes: the SPEC ", top ? "" : "of a res( ) block ", "has no layers");
        for (std::size_t i = 0; i < ls.size(); ++i) {
            const layer_spec& l = ls[i];
            const bool last = i + 1 == ls.size();
            s = layer(l, s, top && last, depth);
        }
        if (top && image && ls.back().kind != layer_kind::flatten && ls.back().kind != layer_kind::gap)
            fail("infer_shapes: a SPEC for images must end with flatten or gap (the readout Dense(1) follows them); it ends with ",
                 layer_name(ls.back()));
        return s;
    }

    spec_shape layer(const layer_spec& l, spec_shape s, bool last_top, int depth) {
        const std::string name = layer_name(l);
        const bool spatial = l.kind == layer_kind::conv || l.kind == layer_kind::avgpool || l.kind == layer_kind::gap ||
                             l.kind == layer_kind::flatten;
        if (spatial && !image)
            fail("infer_shapes: layer ", name, " works on images, but the input is 2-D (N x d); give images N x H x W x C, or use a "
                 "dense-only SPEC");
        if (l.kind == layer_kind::dense && image)
            fail("infer_shapes: layer ", name, " is a dense layer for 2-D inputs (N x d), but the input is an image; use conv:1 "
                 "(a dense layer on each pixel), or flatten the images to N x (H*W*C)");
        if ((l.kind == layer_kind::activation || l.kind == layer_kind::layernorm || l.kind == layer_kind::residual) && !affine_seen)
            fail("infer_shapes: layer ", name, " acts on the raw input; put a ", image ? "conv" : "dense",
                 " layer first (the kernel recursion needs Gaussian pre-activations)");
        switch (l.kind) {
            case layer_kind::dense:
                affine_seen = true;
                return {1, 1, 0};
            case layer_kind::conv: {
                require(l.size >= 1 && (l.stride == 1 || l.stride == 2), "infer_shapes: layer ", name,
                        " must have K >= 1 and stride 1 or 2, got K = ", l.size, ", stride ", l.stride);
                const std::size_t k = static_cast<std::size_t>(l.size), st = static_cast<std::size_t>(l.stride);
                if (l.pad == padding::valid && (s.h < k || s.w < k))
                    fail("infer_shapes: layer ", name, " needs an image of at least ", k, " x ", k, " pixels (valid padding), but its input is ",
                         s.h, " x ", s.w);
                affine_seen = true;
                return {window_output(s.h, k, st, l.pad), window_output(s.w, k, st, l.pad), 0};
            }
            case layer_kind::avgpool: {
                require(l.size >= 1, "infer_shapes: layer ", name, " must have K >= 1, got ", l.size);
                const std::size_t k = static_cast<std::size_t>(l.size);
                if (s.h < k || s.w < k)
                    fail("infer_shapes: layer ", name, " pools ", k, " x ", k, " windows, but its input is only ", s.h, " x ", s.w, " pixels");
                return {s.h / k, s.w / k, s.channels};
            }
            case layer_kind::activation:
            case layer_kind::layernorm:
                return s;
            case layer_kind::gap:
            case layer_kind::flatten:
                if (!last_top)
                    fail("infer_shapes: layer ", name, " must be the last layer of the SPEC (the readout Dense(1) follows it)",
                         depth > 0 ? ", not inside a res( ) block" : "");
                return l.kind == layer_kind::gap ? spec_shape{1, 1, s.channels} : spec_shape{1, 1, 0};
            case layer_kind::residual: {
                const spec_shape out = layers(l.inner, s, false, depth + 1);
                if (out.h != s.h || out.w != s.w)
                    fail("infer_shapes: residual block ", name, " changes the image from ", s.h, " x ", s.w, " to ", out.h, " x ", out.w,
                         "; x + block(x) needs the same shape (same or circular padding, stride 1, no pooling)");
                const layer_kind back = l.inner.back().kind;
                if (back != layer_kind::conv && back != layer_kind::dense)
                    fail("infer_shapes: residual block ", name, " must end with a conv or dense layer (then block(x) is independent of x "
                         "and the kernels add), it ends with ", layer_name(l.inner.back()));
                if (s.channels != 0)
                    fail("infer_shapes: residual block ", name, " adds its hidden-width output to the input's ", s.channels,
                         " channels; put a conv or dense layer before it");
                return s;
            }
        }
        return s;
    }
};

}  // namespace detail

// Parses a SPEC (grammar above). Throws widenn::error naming the token, its column and what was expected.
inline spec parse_spec(std::string_view text) { return detail::spec_parser(text).parse(); }

// Checks a SPEC against images H × W × C and returns the shape its last layer produces; throws widenn::shape_error
// (or widenn::error) with a sentence naming the layer: an image smaller than a valid filter or a pooling window, image
// layers on 2-D input, a dense layer on images, flatten or gap not last, a residual block that changes the shape, ...
inline spec_shape infer_shapes(const spec& s, std::size_t h, std::size_t w, std::size_t c) {
    require<shape_error>(h >= 1 && w >= 1 && c >= 1, "infer_shapes: the images must have at least 1 x 1 pixels and 1 channel, got ", h,
                         " x ", w, " x ", c);
    detail::shape_walk walk{true};
    return walk.layers(s.layers, {h, w, c}, true, 0);
}
// The same for 2-D inputs N × d (dense-only SPECs).
inline spec_shape infer_shapes(const spec& s, std::size_t d) {
    require<shape_error>(d >= 1, "infer_shapes: the inputs must have at least 1 feature, got ", d);
    detail::shape_walk walk{false};
    return walk.layers(s.layers, {1, 1, d}, true, 0);
}

// The canonical text of a SPEC (parse_spec(format_spec(s)) describes the same layers): conv:K:PAD:STRIDE always in full.
inline std::string format_spec(const std::vector<layer_spec>& layers) {
    std::string out;
    for (const layer_spec& l : layers) {
        if (!out.empty()) out += ',';
        switch (l.kind) {
            case layer_kind::dense: out += "dense"; break;
            case layer_kind::conv:
                out += "conv:" + std::to_string(l.size) + (l.pad == padding::same ? ":same:" : l.pad == padding::valid ? ":valid:" : ":circular:") +
                       std::to_string(l.stride);
                break;
            case layer_kind::activation: out += l.activation; break;
            case layer_kind::avgpool: out += "avgpool:" + std::to_string(l.size); break;
            case layer_kind::gap: out += "gap"; break;
            case layer_kind::flatten: out += "flatten"; break;
            case layer_kind::layernorm: out += "layernorm"; break;
            case layer_kind::residual: out += "res(" + format_spec(l.inner) + ")"; break;
        }
    }
    return out;
}
inline std::string format_spec(const spec& s) { return format_spec(s.layers); }

// Whether any layer of the SPEC (at any depth) is of the given kind.
inline bool spec_contains(const std::vector<layer_spec>& layers, layer_kind kind) {
    for (const layer_spec& l : layers)
        if (l.kind == kind || (l.kind == layer_kind::residual && spec_contains(l.inner, kind))) return true;
    return false;
}
inline bool spec_contains(const spec& s, layer_kind kind) { return spec_contains(s.layers, kind); }

// Whether the SPEC is for images (has a conv, pooling, flatten or gap layer) rather than for 2-D inputs.
inline bool spec_is_image(const spec& s) {
    return spec_contains(s, layer_kind::conv) || spec_contains(s, layer_kind::avgpool) || spec_contains(s, layer_kind::gap) ||
           spec_contains(s, layer_kind::flatten);
}

}  // namespace widenn::nn
