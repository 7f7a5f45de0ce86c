// metrics.hpp — stress-ng's --metrics-brief output → numbers, and the one-line proof-of-effect summary.
// Pure text processing (tested on recorded output).
#pragma once

#include "cgroup.hpp"
#include "process.hpp"

#include <optional>
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

// The one-line proof of effect, e.g.
//   "cpu 1.92 core-s, memory peak +64.2 MiB, io write 10.0 MiB; stress-ng wrote 1620.0 MiB, read 1620.0 MiB;
//    stress-ng: hdd 25911 bogo ops in 5.00 s, io 2031 bogo ops in 5.00 s; hdd 1291.62 MB/sec write rate"
// The cgroup part says what the target's cgroup counted; the io part says what its counter can see
// (on cgroup v1 buffered writes are invisible, and the line says so instead of "io write 0.0 MiB").
// `stress_io` is the stress tree's own I/O accounting (what stress-ng wrote and read, whatever the
// cgroup could see); `peak_memory_bytes` is the highest memory usage sampled during the run (0 when
// not sampled).
std::string effect_summary(const CgroupCounters& before, const CgroupCounters& after, uint64_t peak_memory_bytes,
                           const StressMetrics& metrics, const std::optional<IoAccounting>& stress_io = std::nullopt);

} // namespace stress
