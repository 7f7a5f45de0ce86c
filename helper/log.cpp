#include "log.hpp"

#include "fd.hpp"
#include "text.hpp"

#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <mutex>

namespace stress::log {
namespace {

bool g_debug = false;
std::mutex g_write_mutex;

const char* level_name(Level level) {
    switch (level) {
    case Level::Debug: return "debug";
    case Level::Info: return "info";
    case Level::Warning: return "warning";
    case Level::Error: return "error";
    case Level::Fatal: return "fatal";
    }
    return "info";
}

} // namespace

std::string quote_if_needed(const std::string& value) {
    // logrus TextFormatter.needsQuoting (with QuoteEmptyFields off: "" is printed bare).
    for (unsigned char c : value) {
        bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     c == '-' || c == '.' || c == '_' || c == '/' || c == '@' || c == '^' || c == '+';
        if (!plain) return go_quote(value);
    }
    return value;
}

std::string format_line(Level level, const std::string& msg, const Fields& fields, const std::string& time) {
    std::string line = "time=" + quote_if_needed(time) + " level=" + level_name(level);
    if (!msg.empty()) line += " msg=" + quote_if_needed(msg); // logrus leaves an empty msg out
    for (const auto& [key, value] : fields) line += " " + key + "=" + quote_if_needed(value);
    return line;
}

void set_debug(bool enabled) { g_debug = enabled; }

void write(Level level, const std::string& msg, const Fields& fields) {
    if (level == Level::Debug && !g_debug) return;
    std::string line = format_line(level, msg, fields, rfc3339_now()) + "\n";
    std::lock_guard lock(g_write_mutex);
    const char* p = line.data();
    size_t left = line.size();
    while (left > 0) {
        const ssize_t n = retry_on_eintr([&] { return ::write(STDERR_FILENO, p, left); });
        if (n < 0) return; // nowhere left to report a failing stderr
        p += n;
        left -= static_cast<size_t>(n);
    }
}

} // namespace stress::log
