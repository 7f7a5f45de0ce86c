#include "log.hpp"

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

std::string now_rfc3339() {
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    tm utc{};
    ::gmtime_r(&ts.tv_sec, &utc);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return buf;
}

// Go's strconv.Quote for the characters we can meet: printable ASCII as is, the usual escapes,
// other control bytes as \xNN; bytes >= 0x80 are passed through (UTF-8 text stays readable).
std::string go_quote(const std::string& s) {
    std::string out = "\"";
    for (unsigned char c : s) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (c < 0x20 || c == 0x7f) {
                char esc[5];
                std::snprintf(esc, sizeof esc, "\\x%02x", c);
                out += esc;
            } else {
                out += static_cast<char>(c);
            }
        }
    }
    out += '"';
    return out;
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
    std::string line = "time=" + quote_if_needed(time) + " level=" + level_name(level) + " msg=" + quote_if_needed(msg);
    for (const auto& [key, value] : fields) line += " " + key + "=" + quote_if_needed(value);
    return line;
}

void set_debug(bool enabled) { g_debug = enabled; }

void write(Level level, const std::string& msg, const Fields& fields) {
    if (level == Level::Debug && !g_debug) return;
    std::string line = format_line(level, msg, fields, now_rfc3339()) + "\n";
    std::lock_guard lock(g_write_mutex);
    const char* p = line.data();
    size_t left = line.size();
    while (left > 0) {
        ssize_t n = ::write(STDERR_FILENO, p, left);
        if (n < 0) {
            if (errno == EINTR) continue;
            return; // nowhere left to report a failing stderr
        }
        p += n;
        left -= static_cast<size_t>(n);
    }
}

} // namespace stress::log
