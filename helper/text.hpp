// text.hpp — text rules every module shares: Go's quoting, UTF-8, Kubernetes name rules, time
// stamps, splitting. Part of the utility floor (with files.hpp, fd.hpp, error.hpp, process.hpp):
// depends on nothing else in the project. Pure functions; tested in tests/unit/test_text.cpp.
#pragma once

#include <cstddef>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

namespace stress {

// Length of the valid UTF-8 sequence of 2 to 4 bytes starting at s[i], or 0 when there is none
// (ASCII, a stray continuation byte, overlong forms, surrogates, beyond U+10FFFF, cut short).
size_t utf8_sequence_length(std::string_view s, size_t i);

// Go's strconv.Quote: printable ASCII as is, the C escapes (\a \b \f \n \r \t \v \" \\), other
// control bytes and invalid UTF-8 as \xNN; valid UTF-8 text stays readable.
std::string go_quote(std::string_view s);

// A value as error messages show it: go_quote of its first 256 bytes, then "... (N bytes)" when it
// was longer, so a huge variable cannot flood the log.
std::string quote_value(std::string_view value);

// Appends `text` as Go's encoding/json writes a string (json.Marshal, HTML escaping on: < > & as
// \u003c…, invalid UTF-8 as \ufffd, U+2028/U+2029 escaped), quotes included.
void append_go_json_string(std::string& out, std::string_view text);

// RFC 1123 label ([a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 63: a namespace or container name) and
// subdomain (labels joined by '.', at most 253: a pod name).
bool is_rfc1123_label(std::string_view s);
bool is_rfc1123_subdomain(std::string_view s);

// Why ID cannot be a container ID or name, "" when it can: 1 to 128 characters, a letter or digit
// first, then letters, digits, '_', '.', '-' (what docker and containerd accept, and safe in a URL
// path or an argv). Kubernetes gives 64 hex digits.
std::string container_id_problem(std::string_view id);

// "2026-01-02T03:04:05Z" (UTC, whole seconds), as Kubernetes and logrus write time stamps.
std::string rfc3339(std::time_t t);
std::string rfc3339_now();

// Every piece between separators, empty ones included: split("a,,b", ',') = {"a", "", "b"}.
std::vector<std::string_view> split(std::string_view text, char sep);

} // namespace stress
