# cmake -DIN=<proto> -DOUT=<proto> -P strip_gogoproto.cmake
# Copies one .proto (containerd's, or one of the well-known types it imports), ready for protoc 3.21
# and the lite runtime:
# - removes the gogoproto import and options: they only steer Go code generation, and protoc 3.21
#   aborts on them without gogo.proto;
# - adds `option optimize_for = LITE_RUNTIME;` after the package line: the messages then derive from
#   MessageLite and need only libprotobuf-lite (no descriptors, no reflection, a fraction of the
#   start-up work of libprotobuf). protoc requires that a lite file imports only lite files, hence the
#   well-known types go through here too.
file(READ "${IN}" text)
string(REGEX REPLACE "import weak \"gogoproto/gogo.proto\";" "" text "${text}")
string(REGEX REPLACE "[ \t]*option \\(gogoproto\\.[^;]*;" "" text "${text}")
string(REGEX REPLACE "[ \t]*\\[\\(gogoproto\\.[^]]*\\]" "" text "${text}")
string(REGEX REPLACE "[ \t]*option optimize_for[ \t]*=[^;]*;" "" text "${text}")
string(REGEX MATCH "\npackage [A-Za-z0-9_.]+;" package_line "${text}")
if(NOT package_line)
  message(FATAL_ERROR "${IN}: no package line to put `option optimize_for = LITE_RUNTIME;` after")
endif()
string(REPLACE "${package_line}" "${package_line}\noption optimize_for = LITE_RUNTIME;" text "${text}")
file(WRITE "${OUT}" "${text}")
