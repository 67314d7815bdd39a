# Overlay port for a local checkout: vcpkg install widenn --overlay-ports=<widenn>/packaging/vcpkg
# widenn needs xtensor 0.24.x or 0.25.x; its CMake configuration stops with a message on 0.26+.
set(VCPKG_BUILD_TYPE release)  # header-only: one configuration is enough
get_filename_component(SOURCE_PATH "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)

vcpkg_cmake_configure(
  SOURCE_PATH "${SOURCE_PATH}"
  OPTIONS -DWIDENN_BUILD_TESTS=OFF -DWIDENN_BUILD_EXAMPLES=OFF -DWIDENN_BUILD_BENCHMARKS=OFF -DWIDENN_USE_OPENMP=OFF
)
vcpkg_cmake_install()
# The package config is installed to share/cmake/widenn (widennConfig.cmake, widennConfigVersion.cmake,
# widennTargets.cmake, widenn_dependencies.cmake); vcpkg moves it to share/widenn.
vcpkg_cmake_config_fixup(PACKAGE_NAME widenn CONFIG_PATH share/cmake/widenn)
file(REMOVE_RECURSE "${CURRENT_PACKAGES_DIR}/lib" "${CURRENT_PACKAGES_DIR}/share/doc")
vcpkg_install_copyright(FILE_LIST "${SOURCE_PATH}/LICENSE")
