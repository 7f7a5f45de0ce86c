#include "text.hpp"

#include <algorithm>
#include <cstdio>

namespace stress {
namespace {

constexpr char kHex[] = "0123456789abcdef";

void append_hex_byte(std::string& out, const char* prefix, unsigned char c) {
    out += prefix;
    out += kHex[c >> 4];
    out += kHex[c & 0xf];
}

bool lower_alnum(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

} // namespace

size_t utf8_sequence_length(std::string_view s, size_t i) {
    if (i >= s.size()) return 0;
    const auto c = static_cast<unsigned char>(s[i]);
    const size_t len = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xc2 && c <= 0xdf ? 2 : 0;
    if (len == 0 || i + len > s.size()) return 0;
    for (size_t k = 1; k < len; ++k)
        if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return 0;
    const auto c1 = static_cast<unsigned char>(s[i + 1]);
    if ((c == 0xe0 && c1 < 0xa0) || (c == 0xed && c1 > 0x9f) || (c == 0xf0 && c1 < 0x90) || (c == 0xf4 && c1 > 0x8f))
        return 0; // overlong, surrogate or beyond U+10FFFF
    return len;
}

std::string go_quote(std::string_view s) {
    std::string out = "\"";
    for (size_t i = 0; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
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
        } else if (size_t len = utf8_sequence_length(s, i); len > 0) {
            out.append(s.substr(i, len));
            i += len - 1;
        } else {
            append_hex_byte(out, "\\x", c);
        }
    }
    out += '"';
    return out;
}

std::string quote_value(std::string_view value) {
    constexpr size_t kShown = 256;
    std::string out = go_quote(value.substr(0, kShown));
    if (value.size() > kShown) out += "... (" + std::to_string(value.size()) + " bytes)";
    return out;
}

void append_go_json_string(std::string& out, std::string_view text) {
    out += '"';
    size_t i = 0;
    while (i < text.size()) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c < 0x80) {
            switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            case '<': case '>': case '&': append_hex_byte(out, "\\u00", c); break;
            default:
                if (c < 0x20) append_hex_byte(out, "\\u00", c);
                else out += static_cast<char>(c);
            }
            ++i;
            continue;
        }
        const size_t len = utf8_sequence_length(text, i);
        if (len == 0) { // invalid UTF-8: U+FFFD, as Go writes it
            out += "\\ufffd";
            ++i;
            continue;
        }
        // U+2028 and U+2029 (E2 80 A8/A9) are escaped: JavaScript would end a line there.
        if (len == 3 && c == 0xe2 && static_cast<unsigned char>(text[i + 1]) == 0x80 &&
            (static_cast<unsigned char>(text[i + 2]) & 0xfe) == 0xa8)
            out += static_cast<unsigned char>(text[i + 2]) == 0xa8 ? "\\u2028" : "\\u2029";
        else
            out.append(text.substr(i, len));
        i += len;
    }
    out += '"';
}

bool is_rfc1123_label(std::string_view s) {
    if (s.empty() || s.size() > 63 || !lower_alnum(s.front()) || !lower_alnum(s.back())) return false;
    return std::all_of(s.begin(), s.end(), [](unsigned char c) { return lower_alnum(c) || c == '-'; });
}

bool is_rfc1123_subdomain(std::string_view s) {
    if (s.empty() || s.size() > 253) return false;
    const auto labels = split(s, '.');
    return std::all_of(labels.begin(), labels.end(), is_rfc1123_label);
}

std::string container_id_problem(std::string_view id) {
    auto alnum = [](unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); };
    if (id.empty()) return "empty";
    if (id.size() > 128) return "longer than 128 characters";
    if (!alnum(id.front())) return "must start with a letter or digit";
    for (unsigned char c : id)
        if (!alnum(c) && c != '_' && c != '.' && c != '-') return "only letters, digits, '_', '.' and '-' expected";
    return {};
}

std::string rfc3339(std::time_t t) {
    std::tm utc{};
    ::gmtime_r(&t, &utc);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return buf;
}

std::string rfc3339_now() { return rfc3339(std::time(nullptr)); }

std::vector<std::string_view> split(std::string_view text, char sep) {
    std::vector<std::string_view> parts;
    while (true) {
        const size_t pos = text.find(sep);
        parts.push_back(text.substr(0, pos));
        if (pos == std::string_view::npos) return parts;
        text.remove_prefix(pos + 1);
    }
}

} // namespace stress
