// Tests for helper/stressors: Config → the exact stress-ng argv (docs/litmus-contract.md §3).
#include "config.hpp"
#include "stressors.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace {

using Argv = std::vector<std::string>;
using Env = std::map<std::string, std::string>;

// The argv for an environment, through the real parser: what a Litmus helper pod would run.
stress::StressCommand command_for(Env env) {
    env.emplace("TARGETS", "web:default:app");
    const char* argv[] = {"./helpers", "-name", "stress-chaos"};
    stress::ParsedCli cli = stress::parse_cli(3, argv, [env](const std::string& n) -> std::optional<std::string> {
        auto it = env.find(n);
        if (it == env.end()) return std::nullopt;
        return it->second;
    });
    REQUIRE(cli.action == stress::CliAction::Run);
    return stress::build_stress_command(cli.config);
}

} // namespace

TEST_CASE("stressors: pod-cpu-stress", "[stressors]") {
    SECTION("Litmus's experiment defaults when unset") {
        auto cmd = command_for({{"STRESS_TYPE", "pod-cpu-stress"}});
        CHECK(cmd.argv == Argv{"stress-ng", "--timeout", "30s", "--metrics-brief", "--cpu", "1", "--cpu-load", "100"});
        CHECK(cmd.warnings.empty());
    }
    SECTION("given values") {
        auto cmd = command_for({{"STRESS_TYPE", "pod-cpu-stress"}, {"TOTAL_CHAOS_DURATION", "60"}, {"CPU_CORES", "2"},
                                {"CPU_LOAD", "50"}});
        CHECK(cmd.argv == Argv{"stress-ng", "--timeout", "60s", "--metrics-brief", "--cpu", "2", "--cpu-load", "50"});
    }
    SECTION("CPU_CORES=0 is passed on: one worker per online CPU") {
        auto cmd = command_for({{"STRESS_TYPE", "pod-cpu-stress"}, {"CPU_CORES", "0"}, {"CPU_LOAD", "0"}});
        CHECK(cmd.argv == Argv{"stress-ng", "--timeout", "30s", "--metrics-brief", "--cpu", "0", "--cpu-load", "0"});
    }
    SECTION("values of other stress types do not leak in") {
        auto cmd = command_for({{"STRESS_TYPE", "pod-cpu-stress"}, {"NUMBER_OF_WORKERS", "9"},
                                {"MEMORY_CONSUMPTION", "9"}, {"VOLUME_MOUNT_PATH", "/data"}});
        CHECK(cmd.argv == Argv{"stress-ng", "--timeout", "30s", "--metrics-brief", "--cpu", "1", "--cpu-load", "100"});
    }
}

TEST_CASE("stressors: pod-memory-stress", "[stressors]") {
    SECTION("Litmus's experiment defaults when unset") {
        auto cmd = command_for({{"STRESS_TYPE", "pod-memory-stress"}});
        CHECK(cmd.argv == Argv{"stress-ng", "--timeout", "30s", "--metrics-brief", "--vm", "4", "--vm-bytes", "500M"});
    }
    SECTION("given values") {
        auto cmd = command_for({{"STRESS_TYPE", "pod-memory-stress"}, {"TOTAL_CHAOS_DURATION", "120"},
                                {"NUMBER_OF_WORKERS", "2"}, {"MEMORY_CONSUMPTION", "256"}, {"CPU_CORES", "3"}});
        CHECK(cmd.argv == Argv{"stress-ng", "--timeout", "120s", "--metrics-brief", "--vm", "2", "--vm-bytes", "256M"});
        CHECK(cmd.warnings.empty());
    }
}

TEST_CASE("stressors: pod-io-stress", "[stressors]") {
    const Argv head{"stress-ng", "--timeout", "30s", "--metrics-brief"};
    auto with_head = [&](Argv tail) {
        Argv a = head;
        a.insert(a.end(), tail.begin(), tail.end());
        return a;
    };
    SECTION("neither filesystem value: 10%") {
        auto cmd = command_for({{"STRESS_TYPE", "pod-io-stress"}});
        CHECK(cmd.argv == with_head({"--io", "4", "--hdd", "4", "--hdd-bytes", "10%"}));
        CHECK(cmd.warnings.empty());
    }
    SECTION("the charts' defaults: percentage 10 and an empty bytes value (not \"both set\")") {
        auto cmd = command_for({{"STRESS_TYPE", "pod-io-stress"}, {"FILESYSTEM_UTILIZATION_PERCENTAGE", "10"},
                                {"FILESYSTEM_UTILIZATION_BYTES", ""}, {"NUMBER_OF_WORKERS", "4"}});
        CHECK(cmd.argv == with_head({"--io", "4", "--hdd", "4", "--hdd-bytes", "10%"}));
        CHECK(cmd.warnings.empty());
    }
    SECTION("percentage only") {
        auto cmd = command_for({{"STRESS_TYPE", "pod-io-stress"}, {"FILESYSTEM_UTILIZATION_PERCENTAGE", "35"},
                                {"NUMBER_OF_WORKERS", "1"}});
        CHECK(cmd.argv == with_head({"--io", "1", "--hdd", "1", "--hdd-bytes", "35%"}));
    }
    SECTION("bytes only: GiB") {
        auto cmd = command_for({{"STRESS_TYPE", "pod-io-stress"}, {"FILESYSTEM_UTILIZATION_BYTES", "5"},
                                {"FILESYSTEM_UTILIZATION_PERCENTAGE", "0"}});
        CHECK(cmd.argv == with_head({"--io", "4", "--hdd", "4", "--hdd-bytes", "5G"}));
        CHECK(cmd.warnings.empty());
    }
    SECTION("both: the percentage wins, with a warning") {
        auto cmd = command_for({{"STRESS_TYPE", "pod-io-stress"}, {"FILESYSTEM_UTILIZATION_PERCENTAGE", "20"},
                                {"FILESYSTEM_UTILIZATION_BYTES", "5"}});
        CHECK(cmd.argv == with_head({"--io", "4", "--hdd", "4", "--hdd-bytes", "20%"}));
        REQUIRE(cmd.warnings.size() == 1);
        CHECK(cmd.warnings[0].find("FILESYSTEM_UTILIZATION_PERCENTAGE") != std::string::npos);
        CHECK(cmd.warnings[0].find("FILESYSTEM_UTILIZATION_BYTES") != std::string::npos);
    }
    SECTION("volume and CPU: --temp-path, then --cpu N as two words") {
        auto cmd = command_for({{"STRESS_TYPE", "pod-io-stress"}, {"VOLUME_MOUNT_PATH", "/var/lib/my data"},
                                {"CPU_CORES", "2"}, {"NUMBER_OF_WORKERS", "3"}, {"TOTAL_CHAOS_DURATION", "45"}});
        CHECK(cmd.argv == Argv{"stress-ng", "--timeout", "45s", "--metrics-brief", "--io", "3", "--hdd", "3",
                               "--hdd-bytes", "10%", "--temp-path", "/var/lib/my data", "--cpu", "2"});
    }
    SECTION("CPU_CORES=0 adds no --cpu") {
        auto cmd = command_for({{"STRESS_TYPE", "pod-io-stress"}, {"CPU_CORES", "0"}});
        CHECK(cmd.argv == with_head({"--io", "4", "--hdd", "4", "--hdd-bytes", "10%"}));
    }
    SECTION("CPU_LOAD is not an io option") {
        auto cmd = command_for({{"STRESS_TYPE", "pod-io-stress"}, {"CPU_LOAD", "80"}});
        CHECK(cmd.argv == with_head({"--io", "4", "--hdd", "4", "--hdd-bytes", "10%"}));
    }
}

TEST_CASE("stressors: built from a Config directly", "[stressors]") {
    stress::Config c;
    c.stress_type = stress::StressType::Io;
    c.duration_s = 7;
    c.workers = 2;
    c.fs_utilization_gib = 1;
    c.cpu_cores = 1;
    auto cmd = stress::build_stress_command(c);
    CHECK(cmd.argv == Argv{"stress-ng", "--timeout", "7s", "--metrics-brief", "--io", "2", "--hdd", "2", "--hdd-bytes",
                           "1G", "--cpu", "1"});
    // argv[0] is a program name, never a shell; no word carries two options
    for (const auto& word : cmd.argv) CHECK(word.find(' ') == std::string::npos);
}
