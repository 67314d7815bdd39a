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
