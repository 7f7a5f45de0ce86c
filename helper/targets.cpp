#include "targets.hpp"

#include "config.hpp"

#include <algorithm>
#include <cctype>

namespace stress {
namespace {

bool lower_alnum(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// RFC 1123 label: [a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 63.
bool is_dns_label(const std::string& s) {
    if (s.empty() || s.size() > 63 || !lower_alnum(s.front()) || !lower_alnum(s.back())) return false;
    return std::all_of(s.begin(), s.end(), [](unsigned char c) { return lower_alnum(c) || c == '-'; });
}

// RFC 1123 subdomain: labels joined by '.', at most 253.
bool is_dns_subdomain(const std::string& s) {
    if (s.empty() || s.size() > 253) return false;
    size_t start = 0;
    while (true) {
        size_t dot = s.find('.', start);
        if (!is_dns_label(s.substr(start, dot == std::string::npos ? std::string::npos : dot - start))) return false;
        if (dot == std::string::npos) return true;
        start = dot + 1;
    }
}

std::vector<std::string> split(const std::string& s, char sep) {
    std::vector<std::string> parts;
    size_t start = 0;
    while (true) {
        size_t pos = s.find(sep, start);
        parts.push_back(s.substr(start, pos == std::string::npos ? std::string::npos : pos - start));
        if (pos == std::string::npos) return parts;
        start = pos + 1;
    }
}

bool is_all(const std::string& s) {
    if (s.size() != 3) return false;
    return std::tolower(static_cast<unsigned char>(s[0])) == 'a' && std::tolower(static_cast<unsigned char>(s[1])) == 'l' &&
           std::tolower(static_cast<unsigned char>(s[2])) == 'l';
}

} // namespace

std::vector<TargetSpec> parse_targets(const std::string& targets, const std::string& source) {
    const std::string head = source + "=" + quote_value(targets) + ": ";
    std::vector<TargetSpec> out;
    for (const std::string& entry : split(targets, ';')) {
        if (entry.empty()) continue;
        const std::string where = head + "entry " + quote_value(entry) + ": ";
        const std::vector<std::string> parts = split(entry, ':');
        if (parts.size() != 3) throw ConfigError(where + "expected pod:namespace:containers (3 parts separated by ':')");

        TargetSpec spec;
        spec.pod = parts[0];
        spec.ns = parts[1];
        if (spec.pod.empty()) throw ConfigError(where + "empty pod name");
        if (spec.ns.empty()) throw ConfigError(where + "empty namespace");
        if (parts[2].empty()) throw ConfigError(where + "empty container name (expected name,name... or all)");
        if (!is_dns_subdomain(spec.pod))
            throw ConfigError(where + "pod name " + quote_value(spec.pod) +
                              " is not a Kubernetes name (lowercase letters, digits, '-' and '.')");
        if (!is_dns_label(spec.ns))
            throw ConfigError(where + "namespace " + quote_value(spec.ns) +
                              " is not a Kubernetes namespace (lowercase letters, digits and '-')");

        if (is_all(parts[2])) {
            spec.all_containers = true;
        } else {
            for (const std::string& c : split(parts[2], ',')) {
                if (c.empty()) throw ConfigError(where + "empty container name (expected name,name... or all)");
                if (is_all(c)) throw ConfigError(where + "\"all\" cannot be combined with container names");
                if (!is_dns_label(c))
                    throw ConfigError(where + "container name " + quote_value(c) +
                                      " is not a Kubernetes container name (lowercase letters, digits and '-')");
                if (std::find(spec.containers.begin(), spec.containers.end(), c) != spec.containers.end())
                    throw ConfigError(where + "container " + quote_value(c) + " is listed twice");
                spec.containers.push_back(c);
            }
        }
        for (const TargetSpec& seen : out)
            if (seen.pod == spec.pod && seen.ns == spec.ns)
                throw ConfigError(where + "pod " + spec.ns + "/" + spec.pod + " is listed twice");
        out.push_back(std::move(spec));
    }
    if (out.empty()) throw ConfigError(head + "expected at least one pod:namespace:containers entry");
    return out;
}

} // namespace stress
