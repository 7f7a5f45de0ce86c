#include "metrics.hpp"

#include <cstdio>
#include <sstream>

namespace stress {
namespace {

std::vector<std::string> words(std::string_view line) {
    std::vector<std::string> out;
    std::istringstream in{std::string(line)};
    for (std::string w; in >> w;) out.push_back(w);
    return out;
}

bool to_double(const std::string& s, double& out) {
    char* end = nullptr;
    out = std::strtod(s.c_str(), &end);
    return end && *end == '\0' && end != s.c_str();
}

std::string fixed(double v, int digits) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", digits, v);
    return buf;
}

double mib(uint64_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0); }

} // namespace

StressMetrics parse_stress_metrics(std::string_view output) {
    StressMetrics metrics;
    bool misc = false;
    size_t pos = 0;
    while (pos < output.size()) {
        size_t end = output.find('\n', pos);
        std::string_view line = output.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
        pos = end == std::string_view::npos ? output.size() : end + 1;

        size_t tag = line.find("metrc:");
        if (tag == std::string_view::npos) continue;
        // After "metrc: [PID] " comes the table text.
        size_t bracket = line.find(']', tag);
        if (bracket == std::string_view::npos) continue;
        std::string_view rest = line.substr(bracket + 1);
        auto w = words(rest);
        if (w.empty()) continue;
        if (w[0] == "miscellaneous") {
            misc = true;
            continue;
        }
        if (misc) {
            // "hdd 2451.86 MB/sec write rate (geometic mean of 1 instances)"
            std::string text = std::string(rest.substr(rest.find_first_not_of(' ')));
            if (size_t paren = text.find(" ("); paren != std::string::npos) text.resize(paren);
            std::string squeezed;
            for (const auto& word : words(text)) squeezed += (squeezed.empty() ? "" : " ") + word;
            metrics.misc.push_back(squeezed);
            continue;
        }
        StressorMetric m;
        if (w.size() >= 5 && to_double(w[1], m.bogo_ops) && to_double(w[2], m.real_s) && to_double(w[3], m.usr_s) &&
            to_double(w[4], m.sys_s)) {
            m.stressor = w[0];
            metrics.stressors.push_back(m);
        }
    }
    return metrics;
}

std::string effect_summary(const CgroupCounters& before, const CgroupCounters& after, uint64_t peak_memory_bytes,
                           const StressMetrics& metrics, const std::optional<IoAccounting>& stress_io) {
    // Below this the stress did no io worth a word (stress-ng's own log lines, /proc reads).
    constexpr uint64_t kIoWorthReporting = 1024 * 1024;
    const bool stress_wrote = stress_io && stress_io->wchar >= kIoWorthReporting;

    std::vector<std::string> parts;
    if (before.cpu_usage_ns && after.cpu_usage_ns && *after.cpu_usage_ns >= *before.cpu_usage_ns)
        parts.push_back("cpu " + fixed(static_cast<double>(*after.cpu_usage_ns - *before.cpu_usage_ns) / 1e9, 2) +
                        " core-s");
    if (before.memory_bytes) {
        uint64_t peak = peak_memory_bytes;
        if (after.memory_bytes && *after.memory_bytes > peak) peak = *after.memory_bytes;
        double grew = peak > *before.memory_bytes ? mib(peak - *before.memory_bytes) : 0.0;
        parts.push_back("memory peak +" + fixed(grew, 1) + " MiB");
    }
    auto grown = [](const std::optional<uint64_t>& b, const std::optional<uint64_t>& a) -> uint64_t {
        return b && a && *a > *b ? *a - *b : 0;
    };
    if (before.io_write_bytes && after.io_write_bytes && after.io_source == before.io_source) {
        uint64_t wrote = grown(before.io_write_bytes, after.io_write_bytes);
        if (after.io_source == IoCounterSource::V1Blkio && wrote == 0 && stress_wrote)
            parts.push_back("io write not seen by cgroup v1 blkio (it charges buffered writes to the root cgroup "
                            "and counts only where a throttle rule is set)");
        else if (after.io_source == IoCounterSource::V1Blkio && wrote > 0)
            parts.push_back("io write " + fixed(mib(wrote), 1) + " MiB (cgroup v1 blkio: direct and synced IO only)");
        else if (wrote > 0 || stress_wrote)
            parts.push_back("io write " + fixed(mib(wrote), 1) + " MiB");
    }
    if (uint64_t read = grown(before.io_read_bytes, after.io_read_bytes); read > 0)
        parts.push_back("io read " + fixed(mib(read), 1) + " MiB");
    std::string line = parts.empty() ? "no cgroup counters" : "";
    for (size_t i = 0; i < parts.size(); ++i) line += (i ? ", " : "") + parts[i];
    if (stress_wrote)
        line += "; stress-ng wrote " + fixed(mib(stress_io->wchar), 1) + " MiB, read " + fixed(mib(stress_io->rchar), 1) +
                " MiB";
    if (!metrics.stressors.empty()) {
        line += "; stress-ng:";
        for (const auto& m : metrics.stressors)
            line += " " + m.stressor + " " + fixed(m.bogo_ops, 0) + " bogo ops in " + fixed(m.real_s, 2) + " s;";
        line.pop_back();
    }
    std::string rates;
    for (const auto& m : metrics.misc)
        if (m.find("write rate") != std::string::npos || m.find(" read rate") != std::string::npos)
            rates += (rates.empty() ? "; " : ", ") + m;
    return line + rates;
}

} // namespace stress
