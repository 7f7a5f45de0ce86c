// log.hpp — logrus-compatible text lines on stderr (docs/litmus-contract.md §8).
//
//   time="2026-01-02T03:04:05Z" level=info msg="[Info]: ..." key=value ...
//
// Fields are printed sorted by key, as logrus does; values are quoted only when logrus would
// quote them. Thread-safe: a line is written whole under a mutex (one write(2), repeated on a short write).
// Never pass the service-account token (or any credential) to these functions.
#pragma once

#include <map>
#include <string>

namespace stress::log {

using Fields = std::map<std::string, std::string>;

enum class Level { Debug, Info, Warning, Error, Fatal };

// The line without its trailing newline; `time` is the RFC 3339 timestamp text to print.
std::string format_line(Level level, const std::string& msg, const Fields& fields, const std::string& time);

// logrus quoting: a value with characters other than [A-Za-z0-9-._/@^+] is printed as a Go %q string.
std::string quote_if_needed(const std::string& value);

void write(Level level, const std::string& msg, const Fields& fields = {});
inline void debug(const std::string& msg, const Fields& f = {}) { write(Level::Debug, msg, f); }
inline void info(const std::string& msg, const Fields& f = {}) { write(Level::Info, msg, f); }
inline void warn(const std::string& msg, const Fields& f = {}) { write(Level::Warning, msg, f); }
inline void error(const std::string& msg, const Fields& f = {}) { write(Level::Error, msg, f); }
inline void fatal(const std::string& msg, const Fields& f = {}) { write(Level::Fatal, msg, f); }

// Debug lines are dropped unless enabled (HELPER_LOG_LEVEL=debug or --debug).
void set_debug(bool enabled);

} // namespace stress::log
