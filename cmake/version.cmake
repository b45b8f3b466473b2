# cmake/version.cmake — run by the `mhr_version` target at every build, so `mhr --version` and the tracker's
# source version name the commit the binary was built from (a configure-time stamp went stale as soon as the
# next commit was built incrementally). In: SOURCE_DIR, OUTPUT, PROJECT_VERSION, MHR_BUILD_FACTS (what the runtime
# was compiled against; "unknown" when not given). Out: OUTPUT from
# cli/version.h.in with the 12-digit commit, "-dirty" when tracked files differ from it, "unknown" outside a
# git checkout. configure_file rewrites OUTPUT only when its text changes, so an unchanged stamp rebuilds nothing.
execute_process(COMMAND git rev-parse --short=12 HEAD WORKING_DIRECTORY "${SOURCE_DIR}"
                OUTPUT_VARIABLE MHR_GIT_COMMIT OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT MHR_GIT_COMMIT)
  set(MHR_GIT_COMMIT "unknown")
else()
  execute_process(COMMAND git diff --quiet HEAD -- WORKING_DIRECTORY "${SOURCE_DIR}" RESULT_VARIABLE _dirty
                  OUTPUT_QUIET ERROR_QUIET)
  if(_dirty EQUAL 1)
    string(APPEND MHR_GIT_COMMIT "-dirty")
  endif()
endif()
if(NOT MHR_BUILD_FACTS)
  set(MHR_BUILD_FACTS "unknown")
endif()
configure_file("${SOURCE_DIR}/cli/version.h.in" "${OUTPUT}" @ONLY)
