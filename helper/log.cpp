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

// Length of the valid UTF-8 sequence starting at s[i] (2..4), or 0 when it is not one.
size_t utf8_sequence(const std::string& s, size_t i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c <= 0xdf ? 2 : 0;
    if (len == 0 || i + len > s.size()) return 0;
    for (size_t k = 1; k < len; ++k)
        if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return 0;
    unsigned char c1 = static_cast<unsigned char>(s[i + 1]);
    if ((c == 0xe0 && c1 < 0xa0) || (c == 0xed && c1 > 0x9f) || (c == 0xf0 && c1 < 0x90) || (c == 0xf4 && c1 > 0x8f))
        return 0; // overlong, surrogate or beyond U+10FFFF
    return len;
}

// Go's strconv.Quote: printable ASCII as is, the C escapes, other control bytes and invalid UTF-8
// as \xNN; valid UTF-8 text stays readable.
std::string go_quote(const std::string& s) {
    std::string out = "\"";
    for (size_t i = 0; i < s.size(); ++i) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        switch (c) {
        case '"': out += "\\\""; continue;
        case '\\': out += "\\\\"; continue;
        case '\a': out += "\\a"; continue;
        case '\b': out += "\\b"; continue;
        case '\f': out += "\\f"; continue;
        case '\n': out += "\\n"; continue;
        case '\r': out += "\\r"; continue;
        case '\t': out += "\\t"; continue;
        case '\v': out += "\\v"; continue;
        default: break;
        }
        if (c >= 0x20 && c < 0x7f) {
            out += static_cast<char>(c);
        } else if (size_t len = c >= 0x80 ? utf8_sequence(s, i) : 0; len > 0) {
            out.append(s, i, len);
            i += len - 1;
        } else {
            char esc[5];
            std::snprintf(esc, sizeof esc, "\\x%02x", c);
            out += esc;
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
    std::string line = "time=" + quote_if_needed(time) + " level=" + level_name(level);
    if (!msg.empty()) line += " msg=" + quote_if_needed(msg); // logrus leaves an empty msg out
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
