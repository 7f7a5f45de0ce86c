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
    StressMetrics m;
    m.stressors.push_back({"cpu", 1414, 5.0, 4.9, 0.1});
    std::string s = effect_summary(before, after, 74 * 1024 * 1024, m);
    REQUIRE(s == "cpu 2.50 core-s, memory peak +64.0 MiB, io write 20.0 MiB; stress-ng: cpu 1414 bogo ops in 5.00 s");
}

TEST_CASE("metrics: missing counters are left out, not invented", "[metrics]") {
    REQUIRE(effect_summary({}, {}, 0, {}) == "no cgroup counters");
}
