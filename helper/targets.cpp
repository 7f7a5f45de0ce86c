#include "targets.hpp"

#include "error.hpp"
#include "text.hpp"

#include <algorithm>
#include <cctype>

namespace stress {
namespace {

bool is_all(std::string_view s) {
    if (s.size() != 3) return false;
    return std::tolower(static_cast<unsigned char>(s[0])) == 'a' && std::tolower(static_cast<unsigned char>(s[1])) == 'l' &&
           std::tolower(static_cast<unsigned char>(s[2])) == 'l';
}

} // namespace

std::vector<TargetSpec> parse_targets(const std::string& targets, const std::string& source) {
    const std::string head = source + "=" + quote_value(targets) + ": ";
    std::vector<TargetSpec> out;
    for (const std::string_view entry : split(targets, ';')) {
        if (entry.empty()) continue;
        const std::string where = head + "entry " + quote_value(entry) + ": ";
        const std::vector<std::string_view> parts = split(entry, ':');
        if (parts.size() != 3) throw ConfigError(where + "expected pod:namespace:containers (3 parts separated by ':')");

        TargetSpec spec;
        spec.pod = parts[0];
        spec.ns = parts[1];
        if (spec.pod.empty()) throw ConfigError(where + "empty pod name");
        if (spec.ns.empty()) throw ConfigError(where + "empty namespace");
        if (parts[2].empty()) throw ConfigError(where + "empty container name (expected name,name... or all)");
        if (!is_rfc1123_subdomain(spec.pod))
            throw ConfigError(where + "pod name " + quote_value(spec.pod) +
                              " is not a Kubernetes name (lowercase letters, digits, '-' and '.')");
        if (!is_rfc1123_label(spec.ns))
            throw ConfigError(where + "namespace " + quote_value(spec.ns) +
                              " is not a Kubernetes namespace (lowercase letters, digits and '-')");

        if (is_all(parts[2])) {
            spec.all_containers = true;
        } else {
            for (const std::string_view name : split(parts[2], ',')) {
                const std::string c(name);
                if (c.empty()) throw ConfigError(where + "empty container name (expected name,name... or all)");
                if (is_all(c)) throw ConfigError(where + "\"all\" cannot be combined with container names");
                if (!is_rfc1123_label(c))
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
