# The layers of src/npusplit, lowest first: a file may include its own folder and any lower
# layer, never a higher one (ctest runs this: `layers`). Folders on one line share a level.
# A folder not listed fails the check (add it where it belongs), and so do two folders of one
# level that include each other (a loop the levels cannot see).
#   cmake -DSRC=<repo>/src/npusplit -P cmake/CheckLayers.cmake
# Lowest first; "," joins folders of one level.
#   base     text, hashing, checked math, progress, JSON text (and error.h, version.h)
#   io       load/save, validation, atomic writes
#   ir       Graph index, TensorInfo, ModelBuilder
#   ort      ONNX Runtime plumbing: HostTensor, sessions, the fused host op
#   shapes   resolve(): input shapes, folding (one sweep per round), shape inference
#   model    CompiledModel: the model with its facts
#   calib    calibration sets (beside media: it reads the same sources)
#   results  typed results of the commands; platform: profiles, candidate cuts, frame-time model
#   report   every text/JSON output
#   quant    8-bit emulation and its report (reads the split results); bundle: the DFC bundle
#   app      the recipes
set(_table "base|io|ir|ort|shapes|model|rules,analysis|partition|passes|host|split,runtime|detect,verify|pipeline|media,calib|results|platform|report|quant|bundle|app")
string(REPLACE "|" ";" _levels "${_table}")
set(level 0)
foreach(group IN LISTS _levels)
  string(REPLACE "," ";" folders "${group}")
  foreach(f IN LISTS folders)
    set(LEVEL_${f} ${level})
  endforeach()
  math(EXPR level "${level} + 1")
endforeach()

get_filename_component(SRC "${SRC}" ABSOLUTE)
file(GLOB folders LIST_DIRECTORIES true RELATIVE ${SRC} ${SRC}/*)
set(errors "")
foreach(folder IN LISTS folders)
  if(NOT IS_DIRECTORY ${SRC}/${folder})
    continue()
  endif()
  if(NOT DEFINED LEVEL_${folder})
    list(APPEND errors "src/npusplit/${folder}/ is not in the layer table (cmake/CheckLayers.cmake): add it where it belongs")
    continue()
  endif()
  file(GLOB files ${SRC}/${folder}/*.h ${SRC}/${folder}/*.cpp)
  foreach(file IN LISTS files)
    file(STRINGS ${file} includes REGEX "^#include \"npusplit/[a-z_]+/")
    foreach(line IN LISTS includes)
      string(REGEX REPLACE "^#include \"npusplit/([a-z_]+)/.*" "\\1" dep "${line}")
      if(NOT DEFINED LEVEL_${dep})
        continue()
      endif()
      if(LEVEL_${dep} EQUAL LEVEL_${folder} AND NOT dep STREQUAL folder)
        set(SAME_${folder}_${dep} 1)
        if(DEFINED SAME_${dep}_${folder})
          list(APPEND errors "${folder}/ and ${dep}/ (one level) include each other")
        endif()
      endif()
      if(LEVEL_${dep} GREATER LEVEL_${folder})
        # A forwarding header left at an old path for other code may point down, never up.
        string(REGEX REPLACE "^#include \"(.*)\".*" "\\1" what "${line}")
        file(RELATIVE_PATH rel ${SRC} ${file})
        list(APPEND errors "${rel}: ${folder} includes ${what} (a higher layer: ${dep})")
      endif()
    endforeach()
  endforeach()
endforeach()
if(errors)
  list(JOIN errors "\n  " text)
  message(FATAL_ERROR "layer violations:\n  ${text}")
endif()
message(STATUS "layers: no folder includes a higher layer")
