// stressors.hpp — Config → the stress-ng argv (docs/litmus-contract.md §3). A pure function; never a shell string.
//
//   stress-ng --timeout <D>s --metrics-brief <stressor options>
//
// --metrics-brief comes right after the timeout pair: the helper parses its summary to report what
// the stress did. Values the Config leaves unset take stress_defaults (config.hpp), the defaults of
// Litmus's experiments. Litmus bugs not copied: its io-stress CPU option was the literal "--cpu %v",
// and it took an empty filesystem value for a set one.
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
