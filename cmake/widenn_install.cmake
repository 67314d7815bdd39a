include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS widenn widenn_io EXPORT widennTargets)
if(TARGET widenn_distributed)  # widenn::distributed (MPI + ScaLAPACK), when it was built
  install(TARGETS widenn_distributed EXPORT widennTargets)
endif()
install(DIRECTORY include/widenn DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT widennTargets NAMESPACE widenn:: DESTINATION ${CMAKE_INSTALL_DATADIR}/cmake/widenn)

configure_package_config_file(cmake/widennConfig.cmake.in ${CMAKE_CURRENT_BINARY_DIR}/widennConfig.cmake
                              INSTALL_DESTINATION ${CMAKE_INSTALL_DATADIR}/cmake/widenn)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/widennConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion ARCH_INDEPENDENT)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/widennConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/widennConfigVersion.cmake
              cmake/widenn_dependencies.cmake
        DESTINATION ${CMAKE_INSTALL_DATADIR}/cmake/widenn)
install(FILES LICENSE README.md DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/widenn)
