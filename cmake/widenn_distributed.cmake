# widenn::distributed: kernel regression across MPI processes on ScaLAPACK (include/widenn/distributed/). Built when
# MPI and ScaLAPACK are found (Debian: openmpi-bin, libscalapack-openmpi-dev; scripts/deps.sh installs them).
set(MPI_CXX_SKIP_MPICXX ON CACHE BOOL "Use MPI's C interface only (the deprecated C++ bindings are not needed)")
find_package(MPI COMPONENTS CXX QUIET)
find_library(WIDENN_SCALAPACK_LIBRARY NAMES scalapack-openmpi scalapack DOC "ScaLAPACK (with BLACS) for widenn::distributed")
if(MPI_CXX_FOUND AND WIDENN_SCALAPACK_LIBRARY)
  set(widenn_distributed_found ON)
else()
  set(widenn_distributed_found OFF)
endif()
option(WIDENN_BUILD_DISTRIBUTED "Build widenn::distributed and widenn-mpi (MPI + ScaLAPACK; ON when both are found)"
       ${widenn_distributed_found})
if(WIDENN_BUILD_DISTRIBUTED)
  if(NOT widenn_distributed_found)
    message(FATAL_ERROR "WIDENN_BUILD_DISTRIBUTED is ON, but MPI (found: ${MPI_CXX_FOUND}) or ScaLAPACK "
                        "(${WIDENN_SCALAPACK_LIBRARY}) is missing; on Debian install openmpi-bin and libscalapack-openmpi-dev, "
                        "or configure with -DWIDENN_BUILD_DISTRIBUTED=OFF")
  endif()
  add_library(widenn_distributed INTERFACE)
  add_library(widenn::distributed ALIAS widenn_distributed)
  set_target_properties(widenn_distributed PROPERTIES EXPORT_NAME distributed)
  target_link_libraries(widenn_distributed INTERFACE widenn MPI::MPI_CXX ${WIDENN_SCALAPACK_LIBRARY})
  message(STATUS "widenn: building widenn::distributed (MPI ${MPI_CXX_VERSION}, ${WIDENN_SCALAPACK_LIBRARY})")
else()
  message(STATUS "widenn: widenn::distributed not built (needs MPI and ScaLAPACK)")
endif()
