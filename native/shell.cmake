# The gate's native shell parser: tree-sitter's C runtime and the bash grammar, both compiled from
# the sources their npm packages ship (tree-sitter, tree-sitter-bash), into forge_native.
# Included by CMakeLists.txt when present; src/shell/*.cc registers its exports via extensions.h.
enable_language(C)

set(FORGE_TS_DIR "${CMAKE_CURRENT_SOURCE_DIR}/../node_modules/tree-sitter/vendor/tree-sitter/lib")
set(FORGE_TS_BASH_DIR "${CMAKE_CURRENT_SOURCE_DIR}/../node_modules/tree-sitter-bash/src")

if(NOT EXISTS "${FORGE_TS_DIR}/src/lib.c" OR NOT EXISTS "${FORGE_TS_BASH_DIR}/parser.c")
  # The addon still builds; the gate falls back to web-tree-sitter (shellBackend() says why).
  message(WARNING "forge_native: tree-sitter sources not found under node_modules; native shell parsing disabled")
  return()
endif()

add_library(forge_tree_sitter STATIC
  "${FORGE_TS_DIR}/src/lib.c"
  "${FORGE_TS_BASH_DIR}/parser.c"
  "${FORGE_TS_BASH_DIR}/scanner.c"
  "${CMAKE_CURRENT_SOURCE_DIR}/src/shell/wctype.c")
set_target_properties(forge_tree_sitter PROPERTIES
  C_STANDARD 11
  POSITION_INDEPENDENT_CODE ON
  C_VISIBILITY_PRESET hidden)
target_include_directories(forge_tree_sitter
  PRIVATE "${FORGE_TS_DIR}/src" "${FORGE_TS_BASH_DIR}"
  PUBLIC "${FORGE_TS_DIR}/include")
# -O2 whatever the build type: the grammar's tables are large and the parse is the hot path.
# _DEFAULT_SOURCE: lib.c uses fdopen/le16toh, hidden by -std=c11 alone.
target_compile_definitions(forge_tree_sitter PRIVATE _DEFAULT_SOURCE _BSD_SOURCE _DARWIN_C_SOURCE)
if(NOT MSVC)
  target_compile_options(forge_tree_sitter PRIVATE -O2 -w)
endif()

# The scanner's character classes come from wctype.c (generated from web-tree-sitter's wasm libc),
# not the host libc: the same lexing as the reference parser, whatever the locale.
set_source_files_properties("${FORGE_TS_BASH_DIR}/scanner.c" PROPERTIES COMPILE_DEFINITIONS
  "iswalpha=forge_ts_iswalpha;iswalnum=forge_ts_iswalnum;iswdigit=forge_ts_iswdigit;iswspace=forge_ts_iswspace")

file(GLOB FORGE_SHELL_SOURCES CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/src/shell/*.cc")
target_sources(forge_native PRIVATE ${FORGE_SHELL_SOURCES})
target_link_libraries(forge_native forge_tree_sitter)
