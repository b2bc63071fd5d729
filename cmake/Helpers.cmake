# vitscope_torch_target(<target>): settings for a target whose sources include LibTorch.
# Torch headers are heavy (~25 s and 1.3 GB per translation unit), so such targets share one
# precompiled header and, with VITSCOPE_UNITY, are compiled in unity batches.
function(vitscope_torch_target target)
  target_link_libraries(${target} PRIVATE torch)
  target_precompile_headers(${target} REUSE_FROM vitscope_torch_pch)
  # The shared PCH is compiled with -fPIC; executables would otherwise get -fPIE and gcc would
  # silently refuse the PCH (-Winvalid-pch), costing ~10 s per translation unit.
  get_target_property(type ${target} TYPE)
  if(type STREQUAL "EXECUTABLE")
    set_target_properties(${target} PROPERTIES POSITION_INDEPENDENT_CODE OFF)
    target_compile_options(${target} PRIVATE -fPIC)
  endif()
  if(VITSCOPE_UNITY)
    set_target_properties(${target} PROPERTIES UNITY_BUILD ON UNITY_BUILD_BATCH_SIZE 8)
  endif()
endfunction()

function(vitscope_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wno-unused-parameter)
endfunction()
