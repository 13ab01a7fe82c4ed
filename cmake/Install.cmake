# Install.cmake -- `cmake --install BUILD --prefix DIR` lays out a relocatable npusplit:
#   bin/npusplit                          RPATH $ORIGIN/../lib: finds ONNX Runtime beside it
#   lib/libonnxruntime.so*                the library the build used (unless it is a system one)
#   lib/libnpusplit_core.a, include/npusplit/...   the core library and its headers
#   include/onnxruntime/...               ONNX Runtime's headers (with a bundled library)
#   lib/npusplit/onnx/                    the static onnx build from .cache (its own prefix, so
#                                         it never shadows a system onnx in include/)
#   lib/cmake/npusplit/                   find_package(npusplit) -> npusplit::npusplit
#   lib/npusplit/libnpusplit_media_codecs.so  OpenCV codecs + video, loaded on first use
#   share/npusplit/rules/*.yaml           the rule files (the binary also embeds them)
# Nothing installed points into the source or build tree, so the prefix can be moved or copied.
# Components: cli, dev, runtime (ONNX Runtime), python (the module, see python/CMakeLists.txt).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(NPUSPLIT_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/npusplit)
set(NPUSPLIT_INSTALL_ONNXDIR ${CMAKE_INSTALL_LIBDIR}/npusplit/onnx)

# --- ONNX Runtime: bundled unless it is the system's (then the system's loader finds it) ---
get_filename_component(_ort_real "${OnnxRuntime_LIBRARY}" REALPATH)
get_filename_component(_ort_real_dir "${_ort_real}" DIRECTORY)
set(_ort_system OFF)
if(_ort_real_dir MATCHES "^/usr/" OR _ort_real_dir IN_LIST CMAKE_CXX_IMPLICIT_LINK_DIRECTORIES)
  set(_ort_system ON)
endif()
if(_ort_system)
  set(_ort_default OFF)
else()
  set(_ort_default ON)
endif()
option(NPUSPLIT_INSTALL_ONNXRUNTIME "Install libonnxruntime (and its headers) into the prefix" ${_ort_default})
if(NPUSPLIT_INSTALL_ONNXRUNTIME)
  # The loader asks for the SONAME (libonnxruntime.so.1); the links are made here once and
  # installed as links.
  get_filename_component(_ort_real_name "${_ort_real}" NAME)
  set(_ort_links ${CMAKE_BINARY_DIR}/install-links)
  file(MAKE_DIRECTORY ${_ort_links})
  file(CREATE_LINK ${_ort_real_name} ${_ort_links}/libonnxruntime.so.1 SYMBOLIC)
  file(CREATE_LINK libonnxruntime.so.1 ${_ort_links}/libonnxruntime.so SYMBOLIC)
  set(NPUSPLIT_ORT_FILES ${_ort_real} ${_ort_links}/libonnxruntime.so.1 ${_ort_links}/libonnxruntime.so)
  if(EXISTS ${_ort_real_dir}/libonnxruntime_providers_shared.so)
    list(APPEND NPUSPLIT_ORT_FILES ${_ort_real_dir}/libonnxruntime_providers_shared.so)
  endif()
  install(FILES ${NPUSPLIT_ORT_FILES} DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime)
  install(DIRECTORY ${OnnxRuntime_INCLUDE_DIR}/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/onnxruntime
          COMPONENT dev FILES_MATCHING PATTERN "*.h")
endif()

# --- the CLI ---
file(RELATIVE_PATH _bin_to_lib ${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR} ${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR})
set_target_properties(npusplit PROPERTIES INSTALL_RPATH "$ORIGIN/${_bin_to_lib}")
install(TARGETS npusplit RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT cli)
# The image/video plugin (io/media_codecs.h): found as bin/../lib/npusplit, or by its install path.
install(TARGETS npusplit_media_codecs LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}/npusplit COMPONENT cli)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/rules/ DESTINATION ${CMAKE_INSTALL_DATADIR}/npusplit/rules
        COMPONENT cli FILES_MATCHING PATTERN "*.yaml")
if(EXISTS ${PROJECT_SOURCE_DIR}/platforms)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/platforms/ DESTINATION ${CMAKE_INSTALL_DATADIR}/npusplit/platforms
          COMPONENT cli)
endif()

# --- the library, its headers and the CMake package ---
# The core's include directories are source-tree paths: valid for the build only; installed
# users get <prefix>/include. (Rewritten here, whatever folders the core lists.)
get_target_property(_inc npusplit_core INTERFACE_INCLUDE_DIRECTORIES)
set(_inc_wrapped)
foreach(_d IN LISTS _inc)
  if(_d MATCHES "^\\$<")
    list(APPEND _inc_wrapped "${_d}")
  else()
    list(APPEND _inc_wrapped "$<BUILD_INTERFACE:${_d}>")
  endif()
endforeach()
list(APPEND _inc_wrapped "$<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>")
set_property(TARGET npusplit_core PROPERTY INTERFACE_INCLUDE_DIRECTORIES "${_inc_wrapped}")
set_target_properties(npusplit_core PROPERTIES EXPORT_NAME npusplit)
install(TARGETS npusplit_core EXPORT npusplitTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/src/npusplit DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        COMPONENT dev FILES_MATCHING PATTERN "*.h")
install(EXPORT npusplitTargets NAMESPACE npusplit:: DESTINATION ${NPUSPLIT_INSTALL_CMAKEDIR} COMPONENT dev)

# onnx: the static build from .cache (or -DONNX_ROOT) is copied into its own sub-prefix, since
# consumers link its static libraries; a system onnx (under /usr) is looked up again instead.
get_filename_component(_onnx_root "${ONNX_DIR}/../../.." ABSOLUTE)
set(NPUSPLIT_BUNDLED_ONNX OFF)
if(NOT _onnx_root MATCHES "^/usr(/|$)" AND EXISTS ${_onnx_root}/lib/cmake/ONNX/ONNXConfig.cmake)
  set(NPUSPLIT_BUNDLED_ONNX ON)
  install(DIRECTORY ${_onnx_root}/include ${_onnx_root}/lib DESTINATION ${NPUSPLIT_INSTALL_ONNXDIR} COMPONENT dev)
  if(EXISTS ${_onnx_root}/LICENSE)
    install(FILES ${_onnx_root}/LICENSE DESTINATION ${NPUSPLIT_INSTALL_ONNXDIR} COMPONENT dev)
  endif()
endif()

set(NPUSPLIT_CONFIG_BUNDLED_ORT ${NPUSPLIT_INSTALL_ONNXRUNTIME})
set(NPUSPLIT_CONFIG_HAILORT OFF)
if(HailoRT_FOUND)
  set(NPUSPLIT_CONFIG_HAILORT ON)
endif()
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/npusplitConfig.cmake.in
  ${CMAKE_BINARY_DIR}/npusplitConfig.cmake
  INSTALL_DESTINATION ${NPUSPLIT_INSTALL_CMAKEDIR}
  PATH_VARS CMAKE_INSTALL_LIBDIR CMAKE_INSTALL_INCLUDEDIR CMAKE_INSTALL_DATADIR NPUSPLIT_INSTALL_ONNXDIR)
write_basic_package_version_file(${CMAKE_BINARY_DIR}/npusplitConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/npusplitConfig.cmake ${CMAKE_BINARY_DIR}/npusplitConfigVersion.cmake
              ${PROJECT_SOURCE_DIR}/cmake/FindOnnxRuntime.cmake
        DESTINATION ${NPUSPLIT_INSTALL_CMAKEDIR} COMPONENT dev)

unset(_ort_real)
unset(_ort_real_dir)
unset(_ort_links)
unset(_inc)
unset(_inc_wrapped)
unset(_onnx_root)
unset(_bin_to_lib)
