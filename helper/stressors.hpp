// stressors.hpp — Config → the stress-ng argv (CONTRACT §3). A pure function; never a shell string.
#pragma once

#include "config.hpp"

#include <string>
#include <vector>

namespace stress {

struct StressCommand {
    std::vector<std::string> argv;      // argv[0] == "stress-ng"
    std::vector<std::string> warnings;  // e.g. both filesystem values set → the percentage wins
};

StressCommand build_stress_command(const Config& config);

} // namespace stress
