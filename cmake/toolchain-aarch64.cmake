# Cross build for arm64 (Raspberry Pi 5, Debian 12 / Raspberry Pi OS bookworm) from x86_64:
# Debian's aarch64-linux-gnu cross compiler (crossbuild-essential-arm64) and the private sysroot
# scripts/make_sysroot_arm64.sh assembles from Debian's arm64 .debs (never Debian multiarch on
# the build host: it would remove amd64 packages). scripts/build.sh --arch arm64 uses this.
#   -DNPUSPLIT_SYSROOT=DIR (or env NPUSPLIT_SYSROOT)
#   -DNPUSPLIT_CROSS_DEPS=DIR  a folder holding the other arm64 builds (onnx, ONNX Runtime), searched
#                              like the sysroot: -DONNX_ROOT / -DONNXRUNTIME_ROOT may point inside it
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
if(NOT NPUSPLIT_SYSROOT AND DEFINED ENV{NPUSPLIT_SYSROOT})
  set(NPUSPLIT_SYSROOT "$ENV{NPUSPLIT_SYSROOT}")
endif()
if(NOT NPUSPLIT_SYSROOT OR NOT EXISTS "${NPUSPLIT_SYSROOT}/usr/include")
  message(FATAL_ERROR "toolchain-aarch64: NPUSPLIT_SYSROOT='${NPUSPLIT_SYSROOT}' is no arm64 sysroot (scripts/make_sysroot_arm64.sh makes one)")
endif()
if(NOT NPUSPLIT_CROSS_DEPS AND DEFINED ENV{NPUSPLIT_CROSS_DEPS})
  set(NPUSPLIT_CROSS_DEPS "$ENV{NPUSPLIT_CROSS_DEPS}")
endif()
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES NPUSPLIT_SYSROOT NPUSPLIT_CROSS_DEPS)

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_SYSROOT "${NPUSPLIT_SYSROOT}")
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
# (a search path already inside one of these roots is used as it is, not re-rooted)
set(CMAKE_FIND_ROOT_PATH "${NPUSPLIT_SYSROOT}" ${NPUSPLIT_CROSS_DEPS})
# Programs (protoc) from the build host; libraries, headers and CMake packages only from the sysroot.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# The extracted .debs are not usr-merged and the BLAS/LAPACK libraries sit in subfolders: the
# linker needs to be told where the libraries' own dependencies are.
set(_rl "")
foreach(d lib/aarch64-linux-gnu usr/lib/aarch64-linux-gnu usr/lib/aarch64-linux-gnu/blas usr/lib/aarch64-linux-gnu/lapack)
  string(APPEND _rl " -Wl,-rpath-link,${NPUSPLIT_SYSROOT}/${d}")
endforeach()
set(CMAKE_EXE_LINKER_FLAGS_INIT "${_rl}")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "${_rl}")
set(CMAKE_MODULE_LINKER_FLAGS_INIT "${_rl}")
unset(_rl)
# Tests and tools built here run under QEMU user mode with the sysroot's loader and libraries.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64 -L "${NPUSPLIT_SYSROOT}")
