# mhr_warnings(target): warnings on for our own code, errors when MHR_WERROR (default ON). Third-party
# headers (LibTorch, OpenCV, DCMTK, the generated parser) come in as SYSTEM includes and stay quiet.
function(mhr_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wno-unused-parameter)
  if(MHR_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
