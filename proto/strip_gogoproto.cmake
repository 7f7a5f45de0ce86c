# cmake -DIN=<proto> -DOUT=<proto> -P strip_gogoproto.cmake
# Copies one containerd .proto, removing the gogoproto import and options: they only steer Go code
# generation, and protoc 3.21 aborts on them without gogo.proto.
file(READ "${IN}" text)
string(REGEX REPLACE "import weak \"gogoproto/gogo.proto\";" "" text "${text}")
string(REGEX REPLACE "[ \t]*option \\(gogoproto\\.[^;]*;" "" text "${text}")
string(REGEX REPLACE "[ \t]*\\[\\(gogoproto\\.[^]]*\\]" "" text "${text}")
file(WRITE "${OUT}" "${text}")
