// Fuzz target: any file content given to the IDX reader, plain or as a .gz file, gives images and labels or a
// widenn::error, never a crash, a leak, an oversized allocation or undefined behaviour.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include <widenn/io/idx.hpp>

namespace {
std::string scratch(const char* suffix) {
    const char* dir = ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    return std::string(dir) + "/widenn_fuzz_idx_" + std::to_string(::getpid()) + suffix;
}
void write(const std::string& path, const std::uint8_t* data, std::size_t size) {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) __builtin_trap();
    if (size && std::fwrite(data, 1, size, f) != size) __builtin_trap();
    std::fclose(f);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // The first byte picks the variant: plain images, plain labels, or the same as a .gz name (read through zlib).
    if (size == 0) return 0;
    const int variant = data[0] % 4;
    const std::string path = scratch(variant >= 2 ? ".gz" : "");
    write(path, data + 1, size - 1);
    try {
        if (variant % 2 == 0) {
            const auto images = widenn::io::read_idx_images(path, 1000);
            if (images.shape(0) > 1000) __builtin_trap();
        } else {
            const auto labels = widenn::io::read_idx_labels(path);
            for (int v : labels)
                if (v < 0 || v > 255) __builtin_trap();
        }
    } catch (const widenn::error&) {
    }
    std::remove(path.c_str());
    return 0;
}
