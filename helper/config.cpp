#include "config.hpp"

#include "text.hpp"

#include <algorithm>
#include <charconv>
#include <climits>
#include <cstdlib>
#include <map>
#include <string_view>

namespace stress {
namespace {

// ---------------------------------------------------------------------------------------------
// The flags. Parsed by hand rather than with Boost.program_options: Go's flag package accepts
// exactly -f, --f, -f=v, --f=v, -f v, --f v (bool flags never take the next argument), stops at
// "--" or at the first non-flag, and lets a later occurrence win; program_options differs on
// most of these (single-dash long options, implicit values, its own error texts).

enum class FlagKind { String, Bool, Help };

struct FlagSpec {
    const char* name;
    FlagKind kind;
    bool repeatable;
    const char* value_name; // shown in --help and in "needs an argument" errors
    const char* env;        // the environment variable it overrides, or nullptr
    const char* help;
};

const FlagSpec kFlags[] = {
    {"name", FlagKind::String, false, "NAME", nullptr,
     "the helper to run; this image supports only \"stress-chaos\" (required)"},
    {"help", FlagKind::Help, false, "", nullptr, "print this help and exit"},
    {"h", FlagKind::Help, false, "", nullptr, "same as --help"},
    {"version", FlagKind::Bool, false, "", nullptr, "print the version and exit"},

    {"stress-type", FlagKind::String, false, "TYPE", "STRESS_TYPE",
     "pod-cpu-stress, pod-memory-stress or pod-io-stress"},
    {"duration", FlagKind::String, false, "SECONDS", "TOTAL_CHAOS_DURATION", "seconds of stress"},
    {"cpu-cores", FlagKind::String, false, "N", "CPU_CORES", "stress-ng --cpu workers (0 = one per online CPU)"},
    {"cpu-load", FlagKind::String, false, "PERCENT", "CPU_LOAD", "stress-ng --cpu-load"},
    {"memory-mib", FlagKind::String, false, "MIB", "MEMORY_CONSUMPTION", "MiB per --vm worker"},
    {"workers", FlagKind::String, false, "N", "NUMBER_OF_WORKERS", "--vm workers (memory), --io and --hdd workers (io)"},
    {"fs-percent", FlagKind::String, false, "PERCENT", "FILESYSTEM_UTILIZATION_PERCENTAGE",
     "--hdd-bytes as a percentage of the free space"},
    {"fs-gib", FlagKind::String, false, "GIB", "FILESYSTEM_UTILIZATION_BYTES", "--hdd-bytes in GiB"},
    {"volume-mount-path", FlagKind::String, false, "PATH", "VOLUME_MOUNT_PATH",
     "--temp-path inside the target container (io)"},

    {"targets", FlagKind::String, false, "LIST", "TARGETS", "pod:namespace:containers;... (Kubernetes mode)"},
    {"container-id", FlagKind::String, true, "ID", nullptr,
     "standalone mode: stress this container (repeatable; a containerd://, cri-o:// or docker:// prefix is accepted)"},
    {"pid", FlagKind::String, true, "PID", nullptr,
     "standalone mode: stress the container whose init process is PID (repeatable)"},
    {"dry-run", FlagKind::Bool, false, "", nullptr, "find the targets and print the plan; start nothing, change nothing"},
    {"debug", FlagKind::Bool, false, "", nullptr, "log debug lines (same as HELPER_LOG_LEVEL=debug)"},

    {"runtime", FlagKind::String, false, "RUNTIME", "CONTAINER_RUNTIME", "containerd, crio or docker"},
    {"socket", FlagKind::String, false, "PATH", "SOCKET_PATH", "the runtime's unix socket"},
    {"containerd-namespace", FlagKind::String, false, "NS", "CONTAINERD_NAMESPACE", "containerd namespace of the containers"},
    {"nsexec", FlagKind::String, false, "PATH", "NSEXEC_PATH", "the nsexec program"},
    {"libnsenter", FlagKind::String, false, "PATH", "LIBNSENTER_PATH", "the libnsenter.so preload library"},
};

const FlagSpec* find_flag(std::string_view name) {
    for (const auto& f : kFlags)
        if (name == f.name) return &f;
    return nullptr;
}

// One occurrence of a flag: how it was spelled ("-pid", "--pid") and its value.
struct FlagValue {
    std::string spelling;
    std::string value;
};

struct ParsedFlags {
    std::map<std::string, std::vector<FlagValue>> by_name;

    const FlagValue* last(const std::string& name) const {
        auto it = by_name.find(name);
        return it == by_name.end() || it->second.empty() ? nullptr : &it->second.back();
    }
    const std::vector<FlagValue>& all(const std::string& name) const {
        static const std::vector<FlagValue> none;
        auto it = by_name.find(name);
        return it == by_name.end() ? none : it->second;
    }
};

// strconv.ParseBool
std::optional<bool> parse_go_bool(const std::string& s) {
    if (s == "1" || s == "t" || s == "T" || s == "TRUE" || s == "true" || s == "True") return true;
    if (s == "0" || s == "f" || s == "F" || s == "FALSE" || s == "false" || s == "False") return false;
    return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// Settings: one value, from a flag or from the environment, with the name to show in errors.

struct Setting {
    std::string label; // "CPU_LOAD" or "--cpu-load" (as typed)
    std::string value;
    bool from_flag = false;
};

std::string at(const Setting& s) { return s.label + "=" + quote_value(s.value); }

[[noreturn]] void fail(const Setting& s, const std::string& expected) {
    throw ConfigError(at(s) + ": expected " + expected);
}

std::optional<Setting> env_setting(const EnvLookup& env, const char* name) {
    auto v = env(name);
    if (!v || v->empty()) return std::nullopt; // empty == unset (Litmus Getenv)
    return Setting{name, *v, false};
}

// The flag when given (the last one wins, as in Go), else the environment variable.
std::optional<Setting> setting(const ParsedFlags& flags, const char* flag, const EnvLookup& env, const char* var) {
    if (const FlagValue* f = flags.last(flag)) return Setting{f->spelling, f->value, true};
    if (var == nullptr) return std::nullopt;
    return env_setting(env, var);
}

bool all_digits(const std::string& s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return c >= '0' && c <= '9'; });
}

// Decimal digits only: "+5", "-1", " 30", "30s", "0x10", "1e3" are all rejected, as is overflow.
int parse_int(const Setting& s, int min, int max, const char* hint = nullptr) {
    std::string expected = max == INT_MAX ? "an integer >= " + std::to_string(min)
                                          : "an integer from " + std::to_string(min) + " to " + std::to_string(max);
    if (hint) expected += std::string(" (") + hint + ")";
    if (!all_digits(s.value)) fail(s, expected);
    long long n = 0;
    auto [end, ec] = std::from_chars(s.value.data(), s.value.data() + s.value.size(), n);
    if (ec != std::errc() || end != s.value.data() + s.value.size() || n < min || n > max) fail(s, expected);
    return static_cast<int>(n);
}

bool has_control_char(const std::string& s) {
    return std::any_of(s.begin(), s.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; });
}

// An absolute path with no control characters (a newline in a path only ever hides something).
std::string parse_absolute_path(const Setting& s, const std::string& what) {
    if (s.value.empty() || s.value[0] != '/' || has_control_char(s.value) || s.value.size() >= 4096)
        fail(s, "an absolute path " + what + " (starting with '/', no control characters)");
    return s.value;
}

std::string parse_program_path(const Setting& s) {
    if (s.value.empty() || has_control_char(s.value) || s.value.size() >= 4096)
        fail(s, "a file path (no control characters)");
    return s.value;
}

bool is_alnum(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

// CHAOSENGINE, EXPERIMENT_NAME, INSTANCE_ID, CHAOS_UID, POD_NAME end up in API paths and object
// names: anything beyond these characters cannot be a valid object name and could change the URL.
std::string parse_object_name(const Setting& s) {
    bool ok = s.value.size() <= 253 && std::all_of(s.value.begin(), s.value.end(), [](unsigned char c) {
                  return is_alnum(c) || c == '-' || c == '.' || c == '_';
              });
    if (!ok) fail(s, "a Kubernetes name (letters, digits, '-', '.', '_'; at most 253 characters)");
    return s.value;
}

// containerd's identifier rule: alphanumeric runs joined by single '.', '_' or '-', at most 76.
bool is_containerd_identifier(const std::string& v) {
    if (v.empty() || v.size() > 76 || !is_alnum(v.front()) || !is_alnum(v.back())) return false;
    for (size_t i = 0; i < v.size(); ++i) {
        unsigned char c = v[i];
        if (is_alnum(c)) continue;
        if ((c != '.' && c != '_' && c != '-') || !is_alnum(static_cast<unsigned char>(v[i + 1]))) return false;
    }
    return true;
}

StressType parse_stress_type(const Setting& s) {
    for (StressType t : {StressType::Cpu, StressType::Memory, StressType::Io})
        if (s.value == stress_type_name(t)) return t;
    fail(s, "pod-cpu-stress, pod-memory-stress or pod-io-stress");
}

std::string strip_runtime_prefix(const std::string& id) {
    for (std::string_view prefix : {"containerd://", "cri-o://", "docker://"})
        if (id.starts_with(prefix)) return id.substr(prefix.size());
    return id;
}

// A container ID (64 hex digits from Kubernetes) or, in standalone mode, a name (text.hpp's rule).
std::string parse_container_id(const Setting& s) {
    std::string id = strip_runtime_prefix(s.value);
    if (!container_id_problem(id).empty())
        fail(s, "a container ID or name (letters, digits, '_', '.', '-'; a containerd://, cri-o:// or docker:// prefix is allowed)");
    return id;
}

// ---------------------------------------------------------------------------------------------
// Stress values: which stress type uses which value (docs/litmus-contract.md §3).

enum class StressValue { CpuCores, CpuLoad, MemoryMib, Workers, FsPercent, FsGib, VolumeMountPath };

struct StressValueSpec {
    StressValue value;
    const char* flag;
    const char* env;
    bool used_by_cpu, used_by_memory, used_by_io;
};

const StressValueSpec kStressValuesUsed[] = {
    {StressValue::CpuCores, "cpu-cores", "CPU_CORES", true, false, true},
    {StressValue::CpuLoad, "cpu-load", "CPU_LOAD", true, false, false},
    {StressValue::MemoryMib, "memory-mib", "MEMORY_CONSUMPTION", false, true, false},
    {StressValue::Workers, "workers", "NUMBER_OF_WORKERS", false, true, true},
    {StressValue::FsPercent, "fs-percent", "FILESYSTEM_UTILIZATION_PERCENTAGE", false, false, true},
    {StressValue::FsGib, "fs-gib", "FILESYSTEM_UTILIZATION_BYTES", false, false, true},
    {StressValue::VolumeMountPath, "volume-mount-path", "VOLUME_MOUNT_PATH", false, false, true},
};

bool used_by(const StressValueSpec& spec, StressType type) {
    switch (type) {
    case StressType::Cpu: return spec.used_by_cpu;
    case StressType::Memory: return spec.used_by_memory;
    case StressType::Io: return spec.used_by_io;
    }
    return false;
}

// Validates one stress value and stores it in config, or only validates it.
enum class Apply { Store, ValidateOnly };
void apply_stress_value(StressValue v, const Setting& s, Config& config, Apply apply) {
    const bool store = apply == Apply::Store;
    using namespace config_limits;
    switch (v) {
    case StressValue::CpuCores: {
        int n = parse_int(s, 0, max_workers);
        if (store) config.cpu_cores = n;
        break;
    }
    case StressValue::CpuLoad: {
        int n = parse_int(s, 0, 100);
        if (store) config.cpu_load = n;
        break;
    }
    case StressValue::MemoryMib: {
        int n = parse_int(s, 1, max_memory_mib, "MiB per worker, without a unit");
        if (store) config.memory_mib = n;
        break;
    }
    case StressValue::Workers: {
        int n = parse_int(s, 1, max_workers);
        if (store) config.workers = n;
        break;
    }
    // Litmus writes "0" for "not given" for the two filesystem values (its helper compares with
    // 0), so 0 stays "unset" here too; "" is unset as everywhere (Litmus's "" = set bug is not copied).
    case StressValue::FsPercent: {
        int n = all_digits(s.value) && s.value.find_first_not_of('0') == std::string::npos
                    ? 0
                    : parse_int(s, 1, 100, "0 = unset");
        if (store && n != 0) config.fs_utilization_percent = n;
        break;
    }
    case StressValue::FsGib: {
        int n = all_digits(s.value) && s.value.find_first_not_of('0') == std::string::npos
                    ? 0
                    : parse_int(s, 1, INT_MAX, "GiB, without a unit; 0 = unset");
        if (store && n != 0) config.fs_utilization_gib = n;
        break;
    }
    case StressValue::VolumeMountPath: {
        std::string p = parse_absolute_path(s, "inside the target container");
        if (store) config.volume_mount_path = p;
        break;
    }
    }
}

std::string ascii_lower(std::string s) {
    for (char& c : s)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return s;
}

// ---------------------------------------------------------------------------------------------

enum class ArgvOutcome { Run, Help, Version };

// Go's flag.FlagSet.Parse, restricted to what we need. Fills `flags`; returns Help/Version as soon
// as one is met (the rest of argv is not looked at, as in Go).
ArgvOutcome parse_argv(int argc, const char* const* argv, ParsedFlags& flags) {
    int i = 1;
    while (i < argc) {
        const std::string arg = argv[i] ? argv[i] : "";
        if (arg.size() < 2 || arg[0] != '-') break; // the first non-flag ends the flags
        size_t minuses = 1;
        if (arg[1] == '-') {
            minuses = 2;
            if (arg.size() == 2) { // "--" ends the flags
                ++i;
                break;
            }
        }
        std::string name = arg.substr(minuses);
        if (name.empty() || name[0] == '-' || name[0] == '=')
            throw ConfigError(quote_value(arg) + ": bad flag syntax (expected -flag, -flag=value or -flag value)");
        ++i;

        std::optional<std::string> value;
        if (auto eq = name.find('='); eq != std::string::npos) {
            value = name.substr(eq + 1);
            name.resize(eq);
        }
        const std::string spelling = arg.substr(0, minuses) + name;
        const FlagSpec* spec = find_flag(name);
        if (!spec)
            throw ConfigError(spelling + ": flag provided but not defined (run ./helpers --help for the supported flags)");

        switch (spec->kind) {
        case FlagKind::Help: return ArgvOutcome::Help;
        case FlagKind::Bool: {
            // A bool flag never takes the next argument: "-dry-run false" is "-dry-run" + "false".
            std::string text = value.value_or("true");
            auto b = parse_go_bool(text);
            if (!b) throw ConfigError(spelling + "=" + quote_value(text) + ": expected a boolean (true or false)");
            if (name == "version" && *b) return ArgvOutcome::Version;
            value = *b ? "true" : "false";
            break;
        }
        case FlagKind::String:
            if (!value) {
                if (i >= argc)
                    throw ConfigError(spelling + ": flag needs an argument: expected " + spelling + " " + spec->value_name);
                value = argv[i] ? argv[i] : ""; // Go takes the next argument whatever it looks like
                ++i;
            }
            break;
        }
        auto& occurrences = flags.by_name[name];
        if (!spec->repeatable) occurrences.clear(); // the last one wins
        occurrences.push_back({spelling, *value});
    }
    if (i < argc) {
        const std::string extra = argv[i] ? argv[i] : "";
        std::string message = "argument " + quote_value(extra) +
                              ": expected only flags (run ./helpers --help for the supported flags)";
        if (parse_go_bool(extra)) message += "; a bool flag takes its value as -flag=" + extra;
        throw ConfigError(message);
    }
    return ArgvOutcome::Run;
}

bool flag_true(const ParsedFlags& flags, const char* name) {
    const FlagValue* f = flags.last(name);
    return f && f->value == "true";
}

void check_helper_name(const ParsedFlags& flags) {
    const FlagValue* f = flags.last("name");
    if (!f)
        throw ConfigError(std::string("-name is missing: expected -name ") + kSupportedHelper +
                          " (this image supports: " + kSupportedHelper + ")");
    if (f->value != kSupportedHelper)
        throw ConfigError(f->spelling + "=" + quote_value(f->value) + ": unknown helper; this image supports: " +
                          kSupportedHelper);
}

void read_stress(const ParsedFlags& flags, const EnvLookup& env, Config& config) {
    auto type = setting(flags, "stress-type", env, "STRESS_TYPE");
    if (!type)
        throw ConfigError("STRESS_TYPE is not set: expected pod-cpu-stress, pod-memory-stress or pod-io-stress "
                          "(or --stress-type)");
    config.stress_type = parse_stress_type(*type);

    if (auto d = setting(flags, "duration", env, "TOTAL_CHAOS_DURATION"))
        config.duration_s = parse_int(*d, 1, config_limits::max_duration_s, "seconds, without a unit");

    for (const auto& spec : kStressValuesUsed) {
        auto s = setting(flags, spec.flag, env, spec.env);
        if (!s) continue;
        if (used_by(spec, config.stress_type)) {
            apply_stress_value(spec.value, *s, config, Apply::Store);
        } else if (s->from_flag) {
            apply_stress_value(spec.value, *s, config, Apply::ValidateOnly); // a typo on the command line is still an error
            config.warnings.push_back(s->label + " is not used by " + stress_type_name(config.stress_type) +
                                      " and is ignored");
        }
        // An environment value the stress does not use is ignored: Litmus passes them all.
    }
}

void read_runtime(const ParsedFlags& flags, const EnvLookup& env, Config& config) {
    if (auto r = setting(flags, "runtime", env, "CONTAINER_RUNTIME")) {
        if (r->value != "containerd" && r->value != "crio" && r->value != "docker")
            fail(*r, "containerd, crio or docker");
        config.container_runtime = r->value;
    }
    if (auto s = setting(flags, "socket", env, "SOCKET_PATH")) {
        // "unix://" is what crictl and docker are handed; accept a value copied from there.
        Setting path = *s;
        if (path.value.starts_with("unix://")) path.value.erase(0, 7);
        if (path.value.empty() || path.value[0] != '/' || has_control_char(path.value) || path.value.size() >= 108)
            fail(*s, "an absolute path to the runtime's unix socket (at most 107 bytes), e.g. /run/containerd/containerd.sock");
        config.socket_path = path.value;
    }
    if (auto n = setting(flags, "containerd-namespace", env, "CONTAINERD_NAMESPACE")) {
        if (!is_containerd_identifier(n->value))
            fail(*n, "a containerd namespace (letters and digits joined by single '.', '_' or '-'; at most 76)");
        config.containerd_namespace = n->value;
    }
}

void read_targets(const ParsedFlags& flags, const EnvLookup& env, Config& config) {
    for (const FlagValue& f : flags.all("container-id")) {
        Setting s{f.spelling, f.value, true};
        std::string id = parse_container_id(s);
        if (std::find(config.container_ids.begin(), config.container_ids.end(), id) != config.container_ids.end())
            throw ConfigError(at(s) + ": container given twice");
        config.container_ids.push_back(id);
    }
    for (const FlagValue& f : flags.all("pid")) {
        Setting s{f.spelling, f.value, true};
        auto pid = static_cast<pid_t>(parse_int(s, 1, config_limits::max_pid, "a process ID"));
        if (std::find(config.pids.begin(), config.pids.end(), pid) != config.pids.end())
            throw ConfigError(at(s) + ": process given twice");
        config.pids.push_back(pid);
    }
    // Standalone targets win over TARGETS, as every flag wins over its variable.
    if (config.standalone()) return;

    auto t = setting(flags, "targets", env, "TARGETS");
    if (!t)
        throw ConfigError("TARGETS is not set: expected pod:namespace:containers[;pod:namespace:containers...] "
                          "(or --container-id / --pid for standalone mode)");
    config.target_specs = parse_targets(t->value, t->label);
}

void read_litmus(const EnvLookup& env, Config& config) {
    if (auto s = env_setting(env, "CHAOS_NAMESPACE")) {
        if (!is_rfc1123_label(s->value))
            fail(*s, "a Kubernetes namespace (lowercase letters, digits and '-'; at most 63 characters)");
        config.chaos_namespace = s->value;
    }
    struct Named {
        const char* env;
        std::string Config::*field;
    };
    for (const Named& n : {Named{"CHAOSENGINE", &Config::chaosengine}, Named{"EXPERIMENT_NAME", &Config::experiment_name},
                           Named{"INSTANCE_ID", &Config::instance_id}, Named{"CHAOS_UID", &Config::chaos_uid},
                           Named{"POD_NAME", &Config::pod_name}}) {
        if (auto s = env_setting(env, n.env)) config.*n.field = parse_object_name(*s);
    }
    if (auto s = env_setting(env, "STATUS_CHECK_TIMEOUT"))
        config.status_check_timeout_s = parse_int(*s, 1, config_limits::max_status_check_s, "seconds");
    if (auto s = env_setting(env, "STATUS_CHECK_DELAY"))
        config.status_check_delay_s = parse_int(*s, 1, config_limits::max_status_check_s, "seconds");
}

void read_misc(const ParsedFlags& flags, const EnvLookup& env, Config& config) {
    if (auto s = setting(flags, "nsexec", env, "NSEXEC_PATH")) config.nsexec_path = parse_program_path(*s);
    if (auto s = setting(flags, "libnsenter", env, "LIBNSENTER_PATH")) config.libnsenter_path = parse_program_path(*s);

    config.dry_run = flag_true(flags, "dry-run");
    config.debug = flag_true(flags, "debug");
    if (auto s = env_setting(env, "HELPER_LOG_LEVEL")) {
        // logrus level names (ParseLevel is case-insensitive); only debug and trace add the debug lines.
        const std::string level = ascii_lower(s->value);
        if (level == "debug" || level == "trace") {
            config.debug = true;
        } else if (level != "info" && level != "warn" && level != "warning" && level != "error" &&
                   level != "fatal" && level != "panic") {
            fail(*s, "a log level: debug or info (or trace, warning, error, fatal, panic)");
        }
    }
}

} // namespace

const char* stress_type_name(StressType type) noexcept {
    switch (type) {
    case StressType::Cpu: return "pod-cpu-stress";
    case StressType::Memory: return "pod-memory-stress";
    case StressType::Io: return "pod-io-stress";
    }
    return "pod-cpu-stress";
}


std::string version_text() {
    return std::string("helpers ") + STRESS_HELPER_VERSION +
           " (LitmusChaos stress-chaos helper: pod-cpu-stress, pod-memory-stress, pod-io-stress)\n";
}

std::string help_text() {
    using namespace config_limits;
    std::string t;
    t += "Usage: ./helpers -name stress-chaos [flags]\n"
         "\n"
         "Runs stress-ng inside the namespaces and cgroups of target containers, as the LitmusChaos\n"
         "pod-cpu-hog, pod-memory-hog and pod-io-stress experiments expect of their helper pod.\n"
         "Kubernetes mode (the default): the targets come from TARGETS and results are written to the\n"
         "ChaosResult. Standalone mode (--container-id / --pid): no Kubernetes; TARGETS is ignored.\n"
         "\n"
         "Flags (-flag and --flag are the same; a value follows as -flag=value or -flag value;\n"
         "bool flags take no value or -flag=true|false). A flag wins over its environment variable.\n";
    for (const auto& f : kFlags) {
        std::string left = std::string(f.name[1] == '\0' ? "  -" : "  --") + f.name;
        if (f.kind == FlagKind::String) left += std::string(" ") + f.value_name;
        if (left.size() < 30) left.resize(30, ' ');
        else left += "\n" + std::string(30, ' ');
        t += left + f.help;
        if (f.env) t += std::string(" [") + f.env + "]";
        t += "\n";
    }
    t += "\n"
         "Environment (empty is the same as unset):\n"
         "  STRESS_TYPE                pod-cpu-stress | pod-memory-stress | pod-io-stress (required)\n"
         "  TARGETS                    pod:namespace:containers;... containers = name,name or all (required\n"
         "                             unless --container-id/--pid is given)\n"
         "  TOTAL_CHAOS_DURATION       seconds, 1.." + std::to_string(max_duration_s) + " (default 30)\n"
         "  CPU_CORES                  0.." + std::to_string(max_workers) + "; cpu: --cpu N (default " +
         std::to_string(stress_defaults::cpu_cores) + "); io: adds --cpu N when set and not 0\n"
         "  CPU_LOAD                   0..100; cpu: --cpu-load (default " + std::to_string(stress_defaults::cpu_load) + ")\n"
         "  MEMORY_CONSUMPTION         MiB per worker, 1.." + std::to_string(max_memory_mib) +
         "; memory: --vm-bytes NM (default " + std::to_string(stress_defaults::memory_mib) + ")\n"
         "  NUMBER_OF_WORKERS          1.." + std::to_string(max_workers) + "; memory: --vm, io: --io and --hdd (default " +
         std::to_string(stress_defaults::workers) + ")\n"
         "  FILESYSTEM_UTILIZATION_PERCENTAGE  1..100 (0 = unset); io: --hdd-bytes N%\n"
         "  FILESYSTEM_UTILIZATION_BYTES       GiB, >= 1 (0 = unset); io: --hdd-bytes NG when no percentage\n"
         "                             is set; with neither, --hdd-bytes " + std::to_string(stress_defaults::fs_percent) + "%\n"
         "  VOLUME_MOUNT_PATH          absolute path in the target container; io: --temp-path\n"
         "  CONTAINER_RUNTIME          containerd | crio | docker (default containerd)\n"
         "  SOCKET_PATH                the runtime's socket (default: that runtime's usual socket)\n"
         "  CONTAINERD_NAMESPACE       containerd namespace (default k8s.io)\n"
         "  CHAOS_NAMESPACE            namespace of the ChaosEngine/ChaosResult (default litmus)\n"
         "  CHAOSENGINE, EXPERIMENT_NAME, INSTANCE_ID, CHAOS_UID, POD_NAME\n"
         "                             name the ChaosResult, the events and this pod (may be empty)\n"
         "  STATUS_CHECK_TIMEOUT       seconds, 1.." + std::to_string(max_status_check_s) +
         " (default 180): retry budget of API calls\n"
         "  STATUS_CHECK_DELAY         seconds, 1.." + std::to_string(max_status_check_s) + " (default 2): delay between retries\n"
         "  NSEXEC_PATH, LIBNSENTER_PATH  our parts (default: next to this program, then installed places)\n"
         "  HELPER_LOG_LEVEL           debug adds the debug lines (default info)\n"
         "  KUBERNETES_SERVICE_HOST, KUBERNETES_SERVICE_PORT  the API server (in-cluster)\n"
         "\n"
         "A value the stress type does not use is ignored (Litmus passes them all). When a value the\n"
         "stress-ng command needs is unset, the default of Litmus's experiment is used (shown above).\n"
         "Integers are plain decimal digits: no sign, unit, spaces or trailing text.\n"
         "\n"
         "Exit status: 0 on success (and for --help/--version), 1 on any error or abort.\n";
    return t;
}

ParsedCli parse_cli(int argc, const char* const* argv, const EnvLookup& env) {
    ParsedFlags flags;
    ParsedCli out;
    switch (parse_argv(argc, argv, flags)) {
    case ArgvOutcome::Help:
        out.action = CliAction::Help;
        out.text = help_text();
        return out;
    case ArgvOutcome::Version:
        out.action = CliAction::Version;
        out.text = version_text();
        return out;
    case ArgvOutcome::Run: break;
    }

    Config& config = out.config;
    check_helper_name(flags);
    read_stress(flags, env, config);
    read_runtime(flags, env, config);
    read_targets(flags, env, config);
    read_litmus(env, config);
    read_misc(flags, env, config);
    return out;
}

} // namespace stress
