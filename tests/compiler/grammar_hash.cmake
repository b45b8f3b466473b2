# ctest grammar_hash: fails when grammar/Mhr.g4 changed without regenerating grammar/generated (whose
# grammar.sha256 records the hash of the grammar it was generated from). Needs no Java.
# Usage: cmake -DSOURCE_DIR=... -P grammar_hash.cmake
file(SHA256 "${SOURCE_DIR}/grammar/Mhr.g4" actual)
file(READ "${SOURCE_DIR}/grammar/generated/grammar.sha256" recorded)
string(STRIP "${recorded}" recorded)
if(NOT actual STREQUAL recorded)
  message(FATAL_ERROR "grammar/Mhr.g4 (sha256 ${actual}) is not the grammar grammar/generated was generated "
                      "from (${recorded}): run scripts/gen-grammar.sh and commit grammar/generated")
endif()
message(STATUS "grammar/generated matches grammar/Mhr.g4 (${actual})")
