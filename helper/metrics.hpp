// metrics.hpp — stress-ng's --metrics-brief output → numbers, and the one-line proof-of-effect summary.
// Pure text processing (tested on recorded output).
#pragma once

#include "cgroup.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace stress {

struct StressorMetric {
    std::string stressor;   // "cpu", "vm", "hdd", "io"
    double bogo_ops = 0;
    double real_s = 0, usr_s = 0, sys_s = 0;
};

struct StressMetrics {
    std::vector<StressorMetric> stressors;
    std::vector<std::string> misc; // e.g. "hdd 2451.86 MB/sec write rate"
};

// Reads the "metrc:" lines stress-ng 0.15 writes to stderr with --metrics-brief.
StressMetrics parse_stress_metrics(std::string_view output);

// "cpu 1.92 core-s; memory +64.2 MiB (peak +66.0 MiB); io write 10.0 MiB; stress-ng: cpu 1414 bogo ops in 5.00 s"
// `peak_memory_bytes` is the highest memory usage sampled during the run (0 when not sampled).
std::string effect_summary(const CgroupCounters& before, const CgroupCounters& after, uint64_t peak_memory_bytes,
                           const StressMetrics& metrics);

} // namespace stress
