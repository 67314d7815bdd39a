// Fuzz target: any bytes given to nn::parse_spec give a SPEC or a widenn::error, never a crash, a stack overflow (deep
// res( nesting), a hang or undefined behaviour. A SPEC that parses round-trips through its canonical text, and
// nn::infer_shapes on it (images of a few sizes, 2-D inputs) gives a shape or a widenn::error.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <widenn/nn/spec.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    widenn::nn::spec spec;
    try {
        spec = widenn::nn::parse_spec(text);
    } catch (const widenn::error&) {
        return 0;
    }
    if (spec.layers.empty()) __builtin_trap();
    const std::string canonical = widenn::nn::format_spec(spec);
    try {
        if (widenn::nn::format_spec(widenn::nn::parse_spec(canonical)) != canonical) __builtin_trap();
    } catch (const widenn::error&) {
        __builtin_trap();  // the canonical text of a parsed SPEC must parse
    }
    const std::size_t sizes[][3] = {{28, 28, 1}, {5, 3, 2}, {1, 1, 1}, {64, 64, 3}};
    for (const auto& s : sizes) {
        try {
            const auto out = widenn::nn::infer_shapes(spec, s[0], s[1], s[2]);
            if (out.h != 1 || out.w != 1) __builtin_trap();  // flatten and gap end every image SPEC
        } catch (const widenn::error&) {
        }
    }
    try {
        const auto out = widenn::nn::infer_shapes(spec, 7);
        if (out.h != 1 || out.w != 1) __builtin_trap();
    } catch (const widenn::error&) {
    }
    return 0;
}
