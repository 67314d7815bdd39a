# Settings for widenn's own targets (tests, examples, benchmarks); not exported.
add_library(widenn_project_options INTERFACE)
target_compile_options(widenn_project_options INTERFACE -Wall -Wextra -Wpedantic -Werror)
target_link_libraries(widenn_project_options INTERFACE widenn::widenn widenn::io)
if(WIDENN_SANITIZE)
  target_compile_options(widenn_project_options INTERFACE -fsanitize=address,undefined -fno-sanitize-recover=all
                                                          -fno-omit-frame-pointer)
  target_link_options(widenn_project_options INTERFACE -fsanitize=address,undefined)
endif()

# One executable per source folder: every .cpp in DIR is a translation unit of TARGET.
function(widenn_add_program target dir)
  file(GLOB sources CONFIGURE_DEPENDS ${dir}/*.cpp)
  add_executable(${target} ${sources} ${ARGN})
  target_link_libraries(${target} PRIVATE widenn_project_options)
endfunction()

# widenn's programs (the commands, examples and benchmarks) are compiled for the machine they are built on: AVX2 and
# FMA run the kernels' vectorised activation duals on 4 doubles instead of SSE2's 2 (the CNN kernel's flatten path
# 1.8x faster). Without AVX-512: GCC 12 warns about its own AVX-512 intrinsic headers (GCC bug 105593) under -Werror.
# The tests keep the generic target, so the numbers they pin do not depend on the machine; the library sets no -march.
option(WIDENN_NATIVE "Compile widenn's commands, examples and benchmarks with -march=native" ON)
function(widenn_native target)
  if(WIDENN_NATIVE)
    target_compile_options(${target} PRIVATE -march=native -mno-avx512f)
  endif()
endfunction()
