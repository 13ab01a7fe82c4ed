# FindOnnxRuntime.cmake -- locate the ONNX Runtime C/C++ API (headers + libonnxruntime.so).
#
#   find_package(OnnxRuntime [version] [REQUIRED|QUIET])
#
# Search order (the first place holding BOTH onnxruntime_cxx_api.h and libonnxruntime wins):
#   a) -DONNXRUNTIME_ROOT=DIR (or env ONNXRUNTIME_ROOT): an unpacked official release
#      tarball, DIR/include[/onnxruntime]/onnxruntime_cxx_api.h + DIR/lib/libonnxruntime.so.
#      If given, nothing else is searched.
#   b) a system install: find_package(onnxruntime CONFIG) (Debian 13 libonnxruntime-dev),
#      pkg-config libonnxruntime, then the standard include/lib paths.
#   c) the cache made by scripts/fetch_onnxruntime.sh: $ENV{NPUSPLIT_CACHE}/onnxruntime,
#      ${PROJECT_SOURCE_DIR}/.cache/onnxruntime, <this repo>/.cache/onnxruntime.
# Results are cached in OnnxRuntime_INCLUDE_DIR / OnnxRuntime_LIBRARY (set those to force a
# choice; clear them to search again).
#
# Defines:
#   onnxruntime::onnxruntime  SHARED IMPORTED target (a target of that name loaded from the
#                             system's CMake package is re-pointed at the chosen files)
#   OnnxRuntime_FOUND, OnnxRuntime_VERSION (library version, when known),
#   OnnxRuntime_INCLUDE_DIRS, OnnxRuntime_LIBRARIES,
#   OnnxRuntime_LIBRARY_DIR   (directory of the library: use it for BUILD_RPATH/INSTALL_RPATH)
# When nothing is found: FATAL_ERROR unless QUIET (plain find_package() counts as required).

include(FindPackageHandleStandardArgs)

set(ONNXRUNTIME_ROOT "${ONNXRUNTIME_ROOT}" CACHE PATH
    "Unpacked ONNX Runtime release (include/ + lib/); empty = search the system, then the fetched cache")
if(NOT ONNXRUNTIME_ROOT AND DEFINED ENV{ONNXRUNTIME_ROOT})
  set(ONNXRUNTIME_ROOT "$ENV{ONNXRUNTIME_ROOT}")
endif()

# A different ONNXRUNTIME_ROOT than last time invalidates the cached choice.
if(NOT "${ONNXRUNTIME_ROOT}" STREQUAL "${_OnnxRuntime_ROOT_USED}")
  unset(OnnxRuntime_INCLUDE_DIR CACHE)
  unset(OnnxRuntime_LIBRARY CACHE)
endif()
set(_OnnxRuntime_ROOT_USED "${ONNXRUNTIME_ROOT}" CACHE INTERNAL "")

set(_ort_hdr_suffixes include include/onnxruntime include/onnxruntime/core/session onnxruntime)
set(_ort_lib_names onnxruntime libonnxruntime.so.1)

# Search one place for the header + library pair; keep neither unless both are there
# (never mix headers of one install with the library of another).
# Args: PATHS dirs... [NO_DEFAULT_PATH]   (empty PATHS + no NO_DEFAULT_PATH = standard locations)
function(_ort_find_pair)
  if(OnnxRuntime_INCLUDE_DIR AND OnnxRuntime_LIBRARY)
    return()
  endif()
  cmake_parse_arguments(A "NO_DEFAULT_PATH" "" "PATHS" ${ARGN})
  set(_nd)
  if(A_NO_DEFAULT_PATH)
    set(_nd NO_DEFAULT_PATH)
  endif()
  find_path(OnnxRuntime_INCLUDE_DIR onnxruntime_cxx_api.h
            HINTS ${A_PATHS} PATH_SUFFIXES ${_ort_hdr_suffixes} ${_nd})
  find_library(OnnxRuntime_LIBRARY NAMES ${_ort_lib_names}
               HINTS ${A_PATHS} PATH_SUFFIXES lib lib64 ${_nd})
  if(NOT OnnxRuntime_INCLUDE_DIR OR NOT OnnxRuntime_LIBRARY)
    set(OnnxRuntime_INCLUDE_DIR OnnxRuntime_INCLUDE_DIR-NOTFOUND CACHE PATH "" FORCE)
    set(OnnxRuntime_LIBRARY OnnxRuntime_LIBRARY-NOTFOUND CACHE FILEPATH "" FORCE)
  endif()
endfunction()

get_filename_component(_ort_repo "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
set(_ort_version "")
set(_ort_how "")
if(ONNXRUNTIME_ROOT)
  # a) explicit root only
  _ort_find_pair(PATHS "${ONNXRUNTIME_ROOT}" NO_DEFAULT_PATH)
  set(_ort_how "ONNXRUNTIME_ROOT=${ONNXRUNTIME_ROOT} has no include/onnxruntime_cxx_api.h + lib/libonnxruntime.so")
else()
  # b1) the system's CMake package (creates onnxruntime::onnxruntime; its files are
  #     taken only if its include dir really holds onnxruntime_cxx_api.h)
  if(NOT OnnxRuntime_LIBRARY)
    find_package(onnxruntime CONFIG QUIET)
    if(onnxruntime_FOUND AND TARGET onnxruntime::onnxruntime)
      get_target_property(_inc onnxruntime::onnxruntime INTERFACE_INCLUDE_DIRECTORIES)
      get_target_property(_loc onnxruntime::onnxruntime LOCATION)
      if(_inc AND _loc AND EXISTS "${_loc}")
        find_path(OnnxRuntime_INCLUDE_DIR onnxruntime_cxx_api.h PATHS ${_inc} NO_DEFAULT_PATH)
        if(OnnxRuntime_INCLUDE_DIR)
          set(OnnxRuntime_LIBRARY "${_loc}" CACHE FILEPATH "ONNX Runtime library" FORCE)
          set(_ort_version "${onnxruntime_VERSION}")
        endif()
      endif()
    endif()
  endif()
  # b2) pkg-config, then standard locations
  find_package(PkgConfig QUIET)
  if(PKG_CONFIG_FOUND AND NOT OnnxRuntime_LIBRARY)
    pkg_check_modules(PC_OnnxRuntime QUIET libonnxruntime)
    if(PC_OnnxRuntime_FOUND)
      _ort_find_pair(PATHS ${PC_OnnxRuntime_INCLUDE_DIRS} ${PC_OnnxRuntime_LIBRARY_DIRS})
      set(_ort_version "${PC_OnnxRuntime_VERSION}")
    endif()
  endif()
  _ort_find_pair()
  # c) the fetched cache
  set(_ort_cache_dirs)
  if(DEFINED ENV{NPUSPLIT_CACHE})
    list(APPEND _ort_cache_dirs "$ENV{NPUSPLIT_CACHE}/onnxruntime" "$ENV{NPUSPLIT_CACHE}")
  endif()
  if(PROJECT_SOURCE_DIR)
    list(APPEND _ort_cache_dirs "${PROJECT_SOURCE_DIR}/.cache/onnxruntime")
  endif()
  list(APPEND _ort_cache_dirs "${_ort_repo}/.cache/onnxruntime")
  _ort_find_pair(PATHS ${_ort_cache_dirs} NO_DEFAULT_PATH)
  set(_ort_how "none in the system or in ${_ort_repo}/.cache/onnxruntime")
endif()
mark_as_advanced(ONNXRUNTIME_ROOT OnnxRuntime_INCLUDE_DIR OnnxRuntime_LIBRARY)

if(OnnxRuntime_INCLUDE_DIR AND OnnxRuntime_LIBRARY)
  get_filename_component(OnnxRuntime_LIBRARY_DIR "${OnnxRuntime_LIBRARY}" DIRECTORY)
  # Library version: release/fetched layout writes VERSION_NUMBER next to lib/; else the
  # real file name (libonnxruntime.so.1.23.2); else what the package/pkg-config said.
  # (Not ORT_API_VERSION from the headers: they may be older than the library.)
  get_filename_component(_real "${OnnxRuntime_LIBRARY}" REALPATH)
  if(EXISTS "${OnnxRuntime_LIBRARY_DIR}/../VERSION_NUMBER")
    file(STRINGS "${OnnxRuntime_LIBRARY_DIR}/../VERSION_NUMBER" _ort_version LIMIT_COUNT 1)
  elseif(_real MATCHES "\\.so\\.([0-9]+\\.[0-9]+\\.[0-9]+)$")
    set(_ort_version "${CMAKE_MATCH_1}")
  endif()
  if(_ort_version)
    set(OnnxRuntime_VERSION "${_ort_version}")
  endif()
elseif(NOT OnnxRuntime_FIND_QUIETLY)
  message(FATAL_ERROR "ONNX Runtime not found (${_ort_how}): run ${_ort_repo}/scripts/fetch_onnxruntime.sh "
                      "or configure with -DONNXRUNTIME_ROOT=DIR (an unpacked onnxruntime-linux-x64-VERSION.tgz)")
endif()

find_package_handle_standard_args(OnnxRuntime
  REQUIRED_VARS OnnxRuntime_LIBRARY OnnxRuntime_INCLUDE_DIR
  VERSION_VAR OnnxRuntime_VERSION)

if(OnnxRuntime_FOUND)
  set(OnnxRuntime_INCLUDE_DIRS "${OnnxRuntime_INCLUDE_DIR}")
  set(OnnxRuntime_LIBRARIES onnxruntime::onnxruntime)
  if(NOT TARGET onnxruntime::onnxruntime)
    add_library(onnxruntime::onnxruntime SHARED IMPORTED)
  else()
    # Loaded from the system's CMake package (or an earlier call): point it at our choice,
    # dropping any per-configuration locations that would take precedence.
    get_target_property(_cfgs onnxruntime::onnxruntime IMPORTED_CONFIGURATIONS)
    foreach(_c IN LISTS _cfgs)
      foreach(_p IMPORTED_LOCATION IMPORTED_SONAME IMPORTED_LINK_DEPENDENT_LIBRARIES)
        set_property(TARGET onnxruntime::onnxruntime PROPERTY ${_p}_${_c})
      endforeach()
    endforeach()
    set_property(TARGET onnxruntime::onnxruntime PROPERTY IMPORTED_CONFIGURATIONS)
  endif()
  set_target_properties(onnxruntime::onnxruntime PROPERTIES
    IMPORTED_LOCATION "${OnnxRuntime_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${OnnxRuntime_INCLUDE_DIR}")
endif()
unset(_inc)
unset(_loc)
unset(_real)
unset(_cfgs)
unset(_ort_version)
unset(_ort_how)
unset(_ort_repo)
