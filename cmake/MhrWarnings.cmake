# mhr_warnings(target): warnings on for our own code, errors when MHR_WERROR (default ON). Third-party
# headers (LibTorch, OpenCV, DCMTK, the generated parser) come in as SYSTEM includes and stay quiet.
function(mhr_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wno-unused-parameter)
  # GCC 12 reports false -Wrestrict, -Warray-bounds and -Wstringop-overflow inside libstdc++'s std::string
  # (inlined copies in operator+ and insert) when compiling C++20 at -O3 (GCC bugs 105329, 105545, 106199; fixed
  # in 13). LibTorch 2.x requires C++20, so its build would fail on correct code; the default (C++17) build and
  # every other compiler keep the three warnings.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13 AND Torch_VERSION
     AND Torch_VERSION VERSION_GREATER_EQUAL 2)
    target_compile_options(${target} PRIVATE -Wno-restrict -Wno-array-bounds -Wno-stringop-overflow)
  endif()
  if(MHR_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
