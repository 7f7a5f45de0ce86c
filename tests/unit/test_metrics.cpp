// stress-ng --metrics-brief parsing and the proof-of-effect summary (helper/metrics.cpp).
#include "metrics.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

using namespace stress;

namespace {
std::string fixture(const std::string& name) {
    std::ifstream in(std::string(FIXTURES_DIR) + "/" + name);
    REQUIRE(in.good());
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}
} // namespace

TEST_CASE("metrics: every stressor row and the miscellaneous rates of stress-ng 0.15", "[metrics]") {
    StressMetrics m = parse_stress_metrics(fixture("stress-ng-metrics-brief.txt"));
    REQUIRE(m.stressors.size() == 4);
    REQUIRE(m.stressors[0].stressor == "hdd");
    REQUIRE(m.stressors[0].bogo_ops == Approx(48990));
    REQUIRE(m.stressors[0].real_s == Approx(2.00));
    REQUIRE(m.stressors[2].stressor == "cpu");
    REQUIRE(m.stressors[2].usr_s == Approx(0.64));
    REQUIRE(m.stressors[3].stressor == "vm");
    REQUIRE(m.misc.size() == 3);
    REQUIRE(m.misc[1] == "hdd 2451.86 MB/sec write rate");
}

TEST_CASE("metrics: output without metrics gives nothing", "[metrics]") {
    StressMetrics m = parse_stress_metrics("stress-ng: info:  [1] dispatching hogs: 1 cpu\nstress-ng: error: [1] boom\n");
    REQUIRE(m.stressors.empty());
    REQUIRE(m.misc.empty());
}

TEST_CASE("metrics: the summary says what the stress did to the cgroup", "[metrics]") {
    CgroupCounters before, after;
    before.cpu_usage_ns = 1'000'000'000;
    after.cpu_usage_ns = 3'500'000'000;
    before.memory_bytes = 10 * 1024 * 1024;
    after.memory_bytes = 12 * 1024 * 1024;
    before.io_write_bytes = 0;
    after.io_write_bytes = 20 * 1024 * 1024;
    before.io_source = after.io_source = IoCounterSource::V2IoStat;
    StressMetrics m;
    m.stressors.push_back({"cpu", 1414, 5.0, 4.9, 0.1});
    std::string s = effect_summary(before, after, 74 * 1024 * 1024, m);
    REQUIRE(s == "cpu 2.50 core-s, memory peak +64.0 MiB, io write 20.0 MiB; stress-ng: cpu 1414 bogo ops in 5.00 s");
}

TEST_CASE("metrics: missing counters are left out, not invented", "[metrics]") {
    REQUIRE(effect_summary({}, {}, 0, {}) == "no cgroup counters");
}

namespace {
constexpr uint64_t MiB = 1024 * 1024;

// Counters as an io stress leaves them: the cgroup saw `cgroup_wrote` bytes, stress-ng itself wrote
// 1620 MiB (its /proc/PID/io wchar).
std::string io_summary(IoCounterSource source, uint64_t cgroup_wrote) {
    CgroupCounters before, after;
    before.io_write_bytes = 5 * MiB;
    after.io_write_bytes = 5 * MiB + cgroup_wrote;
    before.io_read_bytes = after.io_read_bytes = 0;
    before.io_source = after.io_source = source;
    IoAccounting io;
    io.wchar = 1620 * MiB;
    io.rchar = 1600 * MiB;
    StressMetrics m = parse_stress_metrics(fixture("stress-ng-metrics-brief.txt"));
    return effect_summary(before, after, 0, m, io);
}
} // namespace

TEST_CASE("metrics: on cgroup v1 buffered writes are said to be invisible, not reported as 0.0 MiB", "[metrics]") {
    std::string s = io_summary(IoCounterSource::V1Blkio, 0);
    REQUIRE(s.rfind("io write not seen by cgroup v1 blkio (it charges buffered writes to the root cgroup and counts only "
                    "where a throttle rule is set); "
                    "stress-ng wrote 1620.0 MiB, read 1600.0 MiB; stress-ng: hdd 48990 bogo ops in 2.00 s;",
                    0) == 0);
    REQUIRE(s.find("io write 0.0") == std::string::npos);
    REQUIRE(s.find("; hdd 10434.83 MB/sec read rate, hdd 2451.86 MB/sec write rate") != std::string::npos);
}

TEST_CASE("metrics: what cgroup v1 blkio did count is qualified", "[metrics]") {
    REQUIRE(io_summary(IoCounterSource::V1Blkio, 3 * MiB).rfind(
                "io write 3.0 MiB (cgroup v1 blkio: direct and synced IO only); stress-ng wrote 1620.0 MiB", 0) == 0);
}

TEST_CASE("metrics: cgroup v2 io.stat is reported as is, also when nothing reached the disk", "[metrics]") {
    REQUIRE(io_summary(IoCounterSource::V2IoStat, 800 * MiB).rfind("io write 800.0 MiB; stress-ng wrote 1620.0 MiB", 0) == 0);
    REQUIRE(io_summary(IoCounterSource::V2IoStat, 0).rfind("io write 0.0 MiB; stress-ng wrote 1620.0 MiB", 0) == 0);
}

TEST_CASE("metrics: a stress that did no io says nothing about io", "[metrics]") {
    CgroupCounters before, after;
    before.io_write_bytes = after.io_write_bytes = 7 * MiB;
    before.io_source = after.io_source = IoCounterSource::V1Blkio;
    before.cpu_usage_ns = 0;
    after.cpu_usage_ns = 1'000'000'000;
    IoAccounting io;
    io.wchar = 4096;
    REQUIRE(effect_summary(before, after, 0, {}, io) == "cpu 1.00 core-s");
}
