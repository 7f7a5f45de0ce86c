// config.hpp — the environment (docs/litmus-contract.md §2) and the command line, parsed once into a validated Config.
//
// Owns: reading env/argv, validating every value. Touches nothing else (no files, no processes, no logs).
// Rules: empty means unset; integers are decimal digits only (no sign, no whitespace, no trailing
// garbage, no overflow); every error is a ConfigError whose message names the variable (or flag),
// the value, quoted so that it is shown verbatim, and what was expected, e.g.
//   CPU_LOAD="150": expected an integer from 0 to 100
//   --pid="0": expected a process ID from 1 to 4194304
// A flag wins over its environment variable.
//
// Which stress values are read depends on STRESS_TYPE (see kStressValuesUsed in config.cpp): Litmus
// hands every helper pod the variables of all three experiments (older releases as "0"), so a variable
// the chosen stress does not use is ignored rather than rejected. Flags are always validated; a flag
// the chosen stress does not use adds a Config::warnings entry.
#pragma once

#include "env.hpp"
#include "error.hpp"
#include "targets.hpp"

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace stress {

enum class StressType { Cpu, Memory, Io };

// "pod-cpu-stress", "pod-memory-stress", "pod-io-stress"
const char* stress_type_name(StressType type) noexcept;

// The only -name this image implements (Litmus's go-runner has many helpers; we replace one).
inline constexpr const char* kSupportedHelper = "stress-chaos";

// Values used when a stress value the argv needs is unset: the defaults of Litmus's experiment
// definitions (chaos-charts pod-cpu-hog, pod-memory-hog, pod-io-stress), so that a helper started
// with a partial environment behaves like the experiment a user would have run.
namespace stress_defaults {
inline constexpr int cpu_cores = 1;     // pod-cpu-hog CPU_CORES
inline constexpr int cpu_load = 100;    // pod-cpu-hog CPU_LOAD
inline constexpr int memory_mib = 500;  // pod-memory-hog MEMORY_CONSUMPTION
inline constexpr int workers = 4;       // pod-memory-hog / pod-io-stress NUMBER_OF_WORKERS
inline constexpr int fs_percent = 10;   // pod-io-stress FILESYSTEM_UTILIZATION_PERCENTAGE (neither value set)
} // namespace stress_defaults

// Accepted ranges. Upper bounds exist so that a typo cannot ask for a year of stress or for
// millions of workers; each is documented in --help.
namespace config_limits {
inline constexpr int max_duration_s = 31536000;      // one year
inline constexpr int max_workers = 4096;             // stress-ng's historical per-stressor instance limit
inline constexpr int max_memory_mib = 268435456;     // stress-ng's --vm-bytes limit, 256 TiB
inline constexpr int max_status_check_s = 86400;     // one day
inline constexpr int max_pid = 4194304;              // PID_MAX_LIMIT on 64-bit Linux
} // namespace config_limits

struct Config {
    // --- stress (docs/litmus-contract.md §2, §3). Only the values the stress type uses are filled in; unset
    // optionals mean "not given" (build_stress_command applies stress_defaults).
    StressType stress_type = StressType::Cpu;                 // STRESS_TYPE, required
    int duration_s = 30;                                      // TOTAL_CHAOS_DURATION, 1..31536000
    std::optional<int> cpu_cores;                             // CPU_CORES, 0..4096 (cpu, io)
    std::optional<int> cpu_load;                              // CPU_LOAD, 0..100 (cpu)
    std::optional<int> memory_mib;                            // MEMORY_CONSUMPTION, >= 1 (memory)
    std::optional<int> workers;                               // NUMBER_OF_WORKERS, 1..4096 (memory, io)
    std::optional<int> fs_utilization_percent;                // FILESYSTEM_UTILIZATION_PERCENTAGE, 1..100 (io)
    std::optional<int> fs_utilization_gib;                    // FILESYSTEM_UTILIZATION_BYTES (GiB), >= 1 (io)
    std::string volume_mount_path;                            // VOLUME_MOUNT_PATH (io; absolute when set)

    // --- runtime
    std::string container_runtime = "containerd";             // CONTAINER_RUNTIME: containerd | crio | docker
    std::string socket_path;                                  // SOCKET_PATH ("" = the runtime's default socket)
    std::string containerd_namespace = "k8s.io";              // --containerd-namespace / CONTAINERD_NAMESPACE

    // --- Kubernetes / Litmus
    std::vector<TargetSpec> target_specs;                     // TARGETS parsed (empty in standalone mode)
    std::string chaos_namespace = "litmus";                   // CHAOS_NAMESPACE
    std::string chaosengine;                                  // CHAOSENGINE
    std::string experiment_name;                              // EXPERIMENT_NAME
    std::string instance_id;                                  // INSTANCE_ID
    std::string chaos_uid;                                    // CHAOS_UID
    std::string pod_name;                                     // POD_NAME
    int status_check_timeout_s = 180;                         // STATUS_CHECK_TIMEOUT, 1..86400
    int status_check_delay_s = 2;                             // STATUS_CHECK_DELAY, 1..86400

    // --- standalone mode (no Kubernetes): targets given directly; TARGETS is then ignored
    std::vector<std::string> container_ids;                   // --container-id (repeatable)
    std::vector<pid_t> pids;                                  // --pid (repeatable), > 0
    bool dry_run = false;                                     // --dry-run: print the plan, change nothing
    bool debug = false;                                       // --debug or HELPER_LOG_LEVEL=debug

    // --- our parts (docs/architecture.md "It finds its own parts"); "" = look next to the executable, then installed places
    std::string nsexec_path;                                  // --nsexec / NSEXEC_PATH
    std::string libnsenter_path;                              // --libnsenter / LIBNSENTER_PATH

    // Things worth a warning line that are not errors (e.g. a flag the chosen stress does not use).
    // main logs them; config itself never logs.
    std::vector<std::string> warnings;

    bool standalone() const { return !container_ids.empty() || !pids.empty(); }
};

// What the command line asked for besides a run.
enum class CliAction { Run, Help, Version };

struct ParsedCli {
    CliAction action = CliAction::Run;
    Config config;   // valid when action == Run
    std::string text; // help or version text when action != Run (print it on stdout, exit 0)
};

// Parses argv (Go flag forms: -name X, -name=X, --name X, --name=X; bool flags only as -f or
// -f=BOOL; parsing stops at "--" or the first non-flag, and a leftover argument is an error) and
// then the environment. --help / --version return as soon as they are met, as Go's flag package does.
// Throws ConfigError on any bad value; an unknown -name names the supported one.
ParsedCli parse_cli(int argc, const char* const* argv, const EnvLookup& env);

// The text of --help and of --version.
std::string help_text();
std::string version_text();

} // namespace stress
