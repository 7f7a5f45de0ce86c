// targets.hpp — TARGETS = "pod:namespace:containers;pod:namespace:containers…" (docs/litmus-contract.md §2).
// containers is a comma list or "all" (any case). Pure parsing; errors are ConfigError naming
// TARGETS (or the flag that gave the value), the whole value and the bad entry, e.g.
//   TARGETS="web:default:": entry "web:default:": empty container name
//
// What is accepted, and why:
// - entries are split on ';' and empty entries are skipped (a trailing ';' is harmless); at least
//   one entry is required. Litmus itself never sends an empty entry or an empty container part
//   (its FilterPodsForNodes fills in the pod's first container), so an empty part is an error.
// - pod names must be RFC 1123 subdomains, namespaces and container names RFC 1123 labels, as
//   Kubernetes enforces: anything else cannot exist and would only end up in an API URL.
// - "all" may not be mixed with names; a pod or a container listed twice is an error (stressing it
//   twice is never what was meant).
#pragma once

#include <string>
#include <vector>

namespace stress {

struct TargetSpec {
    std::string pod;
    std::string ns;
    bool all_containers = false;
    std::vector<std::string> containers; // empty when all_containers
};

// `source` is the name errors show: "TARGETS", or "--targets" when the value came from the flag.
std::vector<TargetSpec> parse_targets(const std::string& targets, const std::string& source = "TARGETS");

} // namespace stress
