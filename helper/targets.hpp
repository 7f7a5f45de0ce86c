// targets.hpp — TARGETS = "pod:namespace:containers;pod:namespace:containers…" (CONTRACT §2).
// containers is a comma list or "all" (any case). Pure parsing; errors are ConfigError naming TARGETS.
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

std::vector<TargetSpec> parse_targets(const std::string& targets);

} // namespace stress
