// config.hpp — the environment (CONTRACT §2) and the command line, parsed once into a validated Config.
//
// Owns: reading env/argv, validating every value. Touches nothing else (no files, no processes).
// Rules: empty means unset; integers reject trailing garbage, signs where not allowed, overflow;
// every error is a ConfigError whose message names the variable, the value and what was expected,
// e.g.  CPU_LOAD="150": expected an integer from 0 to 100.
#pragma once

#include "error.hpp"

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace stress {

enum class StressType { Cpu, Memory, Io };

// "pod-cpu-stress", "pod-memory-stress", "pod-io-stress"
const char* stress_type_name(StressType type) noexcept;

struct Config {
    // -name (only "stress-chaos" is supported)
    std::string helper_name;

    // --- stress (CONTRACT §2, §3)
    StressType stress_type = StressType::Cpu;                 // STRESS_TYPE, required
    int duration_s = 30;                                      // TOTAL_CHAOS_DURATION, >= 1
    std::optional<int> cpu_cores;                             // CPU_CORES, >= 0
    std::optional<int> cpu_load;                              // CPU_LOAD, 0..100
    std::optional<int> memory_mib;                            // MEMORY_CONSUMPTION, >= 1
    std::optional<int> workers;                               // NUMBER_OF_WORKERS, >= 1
    std::optional<int> fs_utilization_percent;                // FILESYSTEM_UTILIZATION_PERCENTAGE, 1..100
    std::optional<int> fs_utilization_gib;                    // FILESYSTEM_UTILIZATION_BYTES (GiB), >= 1
    std::string volume_mount_path;                            // VOLUME_MOUNT_PATH (absolute when set)

    // --- runtime
    std::string container_runtime = "containerd";             // CONTAINER_RUNTIME: containerd | crio | docker
    std::string socket_path;                                  // SOCKET_PATH ("" = the runtime's default socket)
    std::string containerd_namespace = "k8s.io";              // --containerd-namespace

    // --- Kubernetes / Litmus
    std::string targets;                                      // TARGETS (raw; see targets.hpp)
    std::string chaos_namespace = "litmus";                   // CHAOS_NAMESPACE
    std::string chaosengine;                                  // CHAOSENGINE
    std::string experiment_name;                              // EXPERIMENT_NAME
    std::string instance_id;                                  // INSTANCE_ID
    std::string chaos_uid;                                    // CHAOS_UID
    std::string pod_name;                                     // POD_NAME
    int status_check_timeout_s = 180;                         // STATUS_CHECK_TIMEOUT, >= 1
    int status_check_delay_s = 2;                             // STATUS_CHECK_DELAY, >= 1

    // --- standalone mode (no Kubernetes): targets given directly
    std::vector<std::string> container_ids;                   // --container-id (repeatable)
    std::vector<pid_t> pids;                                  // --pid (repeatable), > 0
    bool dry_run = false;                                     // --dry-run: print the plan, change nothing
    bool debug = false;                                       // --debug

    // --- our parts (DESIGN "It finds its own parts"); "" = look next to the executable, then installed places
    std::string nsexec_path;                                  // --nsexec / NSEXEC_PATH
    std::string libnsenter_path;                              // --libnsenter / LIBNSENTER_PATH

    bool standalone() const { return !container_ids.empty() || !pids.empty(); }
};

class ConfigError : public Error {
public:
    explicit ConfigError(const std::string& message) : Error(ErrorCode::HelperError, message) {}
};

// Looks up an environment variable; returns nullopt when unset. Tests pass a map-backed lookup.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
EnvLookup process_env();

// What the command line asked for besides a run.
enum class CliAction { Run, Help, Version };

struct ParsedCli {
    CliAction action = CliAction::Run;
    Config config;   // valid when action == Run
    std::string text; // help or version text when action != Run
};

// Parses argv (Go flag forms: -name X, -name=X, --name X, --name=X) and the environment.
// Throws ConfigError on any bad value; an unknown -name names the supported one.
ParsedCli parse_cli(int argc, const char* const* argv, const EnvLookup& env);

} // namespace stress
