import os

from conan import ConanFile
from conan.tools.cmake import CMake, CMakeToolchain, cmake_layout
from conan.tools.files import copy


class WidennConan(ConanFile):
    """widenn as a Conan 2 header-only package, built from this checkout (conan create packaging/conan)."""

    name = "widenn"
    version = "0.1.0"
    license = "MIT"
    description = "Header-only C++20 library for wide neural networks and their infinite-width limits"
    topics = ("neural-networks", "ntk", "mup", "lie-groups", "header-only")
    package_type = "header-library"
    settings = "os", "arch", "compiler", "build_type"
    no_copy_source = True

    def export_sources(self):
        root = os.path.join(self.recipe_folder, "..", "..")
        for pattern in ("CMakeLists.txt", "LICENSE", "README.md", "cmake/*", "include/*"):
            copy(self, pattern, src=root, dst=self.export_sources_folder)

    def requirements(self):
        self.requires("xtensor/0.24.7", transitive_headers=True)
        self.requires("xtl/0.7.5", transitive_headers=True)
        self.requires("xsimd/8.1.0", transitive_headers=True)
        self.requires("openblas/0.3.25", transitive_headers=True)
        self.requires("zlib/1.3.1", transitive_headers=True)  # widenn::io reads .gz IDX files

    def layout(self):
        cmake_layout(self)

    def generate(self):
        toolchain = CMakeToolchain(self)
        toolchain.cache_variables["WIDENN_BUILD_TESTS"] = False
        toolchain.cache_variables["WIDENN_BUILD_EXAMPLES"] = False
        toolchain.cache_variables["WIDENN_BUILD_BENCHMARKS"] = False
        toolchain.generate()

    def package(self):
        copy(self, "LICENSE", src=self.source_folder, dst=os.path.join(self.package_folder, "licenses"))
        copy(self, "*.hpp", src=os.path.join(self.source_folder, "include"), dst=os.path.join(self.package_folder, "include"))

    def package_id(self):
        self.info.clear()

    def package_info(self):
        self.cpp_info.set_property("cmake_file_name", "widenn")
        self.cpp_info.set_property("cmake_target_name", "widenn::widenn")
        self.cpp_info.bindirs = []
        self.cpp_info.libdirs = []
        self.cpp_info.defines = ["XTENSOR_USE_XSIMD", "WIDENN_USE_XSIMD"]
