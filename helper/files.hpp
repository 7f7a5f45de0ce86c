// files.hpp — reading small files whole (/proc, /sys, service-account files).
//
// Owns nothing but the read loop; depends on nothing else in the project but error.hpp and fd.hpp.
#pragma once

#include "error.hpp"

#include <optional>
#include <string>

namespace stress {

// The whole file, or nullopt with errno set and *failed_call naming the call that failed ("open"/"read").
std::optional<std::string> read_text(const std::string& path, const char** failed_call = nullptr);

// The whole file, or Error(code) "open PATH: <errno text>" / "read PATH: …".
std::string read_text_or_throw(const std::string& path, ErrorCode code = ErrorCode::HelperError);

// A regular file we may execute / read.
bool is_executable_file(const std::string& path);
bool is_readable_file(const std::string& path);

// "" when PATH is a unix socket; else why not: "stat PATH: <errno text>" or "PATH is not a unix socket".
std::string unix_socket_problem(const std::string& path);

} // namespace stress
