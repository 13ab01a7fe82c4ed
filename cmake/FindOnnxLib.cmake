# FindOnnxLib.cmake -- the onnx C++ library (>= 1.22) as ONNX::onnx / ONNX::onnx_proto.
#
# Search order: -DONNX_ROOT=DIR (or env ONNX_ROOT; nothing else is searched then), the build
# scripts/fetch_onnx.sh leaves in $ENV{NPUSPLIT_CACHE}/onnx or <repo>/.cache/onnx, then the
# system. Older onnx versions (Debian 12's 1.12 has schemas up to opset 17 only) are refused.
set(NPUSPLIT_MIN_ONNX_VERSION 1.22)
set(ONNX_ROOT "${ONNX_ROOT}" CACHE PATH "Installed onnx >= ${NPUSPLIT_MIN_ONNX_VERSION} (lib/cmake/ONNX); empty = the fetched cache, then the system")
if(NOT ONNX_ROOT AND DEFINED ENV{ONNX_ROOT})
  set(ONNX_ROOT "$ENV{ONNX_ROOT}")
endif()
if(NOT "${ONNX_ROOT}" STREQUAL "${_OnnxLib_ROOT_USED}")
  unset(ONNX_DIR CACHE)   # a different root invalidates the cached choice
endif()
set(_OnnxLib_ROOT_USED "${ONNX_ROOT}" CACHE INTERNAL "")

get_filename_component(_onnx_repo "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
if(ONNX_ROOT)
  find_package(ONNX ${NPUSPLIT_MIN_ONNX_VERSION} CONFIG QUIET PATHS "${ONNX_ROOT}" NO_DEFAULT_PATH)
  set(_onnx_how "ONNX_ROOT=${ONNX_ROOT} holds no onnx >= ${NPUSPLIT_MIN_ONNX_VERSION} (lib/cmake/ONNX/ONNXConfig.cmake)")
else()
  set(_onnx_dirs)
  if(DEFINED ENV{NPUSPLIT_CACHE})
    list(APPEND _onnx_dirs "$ENV{NPUSPLIT_CACHE}/onnx")
  endif()
  list(APPEND _onnx_dirs "${PROJECT_SOURCE_DIR}/.cache/onnx" "${_onnx_repo}/.cache/onnx")
  find_package(ONNX ${NPUSPLIT_MIN_ONNX_VERSION} CONFIG QUIET PATHS ${_onnx_dirs} NO_DEFAULT_PATH)
  if(NOT ONNX_FOUND)
    find_package(ONNX ${NPUSPLIT_MIN_ONNX_VERSION} CONFIG QUIET)
  endif()
  set(_onnx_how "none >= ${NPUSPLIT_MIN_ONNX_VERSION} in ${_onnx_repo}/.cache/onnx or the system")
endif()
if(NOT ONNX_FOUND OR NOT TARGET ONNX::onnx OR NOT TARGET ONNX::onnx_proto)
  message(FATAL_ERROR "onnx C++ library not found (${_onnx_how}): run ${_onnx_repo}/scripts/fetch_onnx.sh "
                      "or configure with -DONNX_ROOT=DIR (an onnx >= ${NPUSPLIT_MIN_ONNX_VERSION} install prefix)")
endif()
message(STATUS "onnx ${ONNX_VERSION}: ${ONNX_DIR}")
unset(_onnx_how)
unset(_onnx_dirs)
unset(_onnx_repo)
