# Finds every third-party dependency once, for all targets.
# Torch: Debian's libtorch-dev (1.13, CPU) is found without hints; a CUDA LibTorch 2.x is picked
# up through CMAKE_PREFIX_PATH / Torch_DIR (see docs/BUILDING.md).
find_package(Torch REQUIRED)
message(STATUS "LibTorch ${Torch_VERSION} (CUDA: ${CUDA_FOUND}${CUDAToolkit_FOUND})")

find_package(nlohmann_json 3 REQUIRED)
find_package(Threads REQUIRED)

# OpenCV: the full config package refuses to load unless all 55 module libraries exist, which is
# not the case in the slim dependency bundle of the GPU machine (toolchain.md §6); fall back to
# finding the three modules we use by hand.
find_package(OpenCV QUIET COMPONENTS core imgproc imgcodecs photo)
if(NOT OpenCV_FOUND)
  find_path(OpenCV_INCLUDE_DIR opencv2/core.hpp PATH_SUFFIXES opencv4 REQUIRED)
  set(OpenCV_LIBS "")
  foreach(m core imgproc imgcodecs photo)
    find_library(OpenCV_${m}_LIBRARY NAMES opencv_${m} REQUIRED)
    add_library(vitscope_opencv_${m} SHARED IMPORTED)
    set_target_properties(vitscope_opencv_${m} PROPERTIES IMPORTED_LOCATION "${OpenCV_${m}_LIBRARY}"
                          INTERFACE_INCLUDE_DIRECTORIES "${OpenCV_INCLUDE_DIR}")
    list(APPEND OpenCV_LIBS vitscope_opencv_${m})
  endforeach()
  message(STATUS "OpenCV found module by module: ${OpenCV_INCLUDE_DIR}")
endif()

if(VITSCOPE_BUILD_GUI)
  find_package(Qt6 REQUIRED COMPONENTS Core Gui Widgets PrintSupport Svg Test)
  find_package(QCustomPlotQt6 REQUIRED)   # needs Qt6 Widgets + PrintSupport found first
endif()
if(VITSCOPE_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
