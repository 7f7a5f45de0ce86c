// Tests for helper/config: Go flag forms, the environment (docs/litmus-contract.md §2), every bad value a named error.
#include "config.hpp"
#include "text.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace {

using Env = std::map<std::string, std::string>;

stress::EnvLookup lookup(Env env) {
    return [env = std::move(env)](const std::string& name) -> std::optional<std::string> {
        auto it = env.find(name);
        if (it == env.end()) return std::nullopt;
        return it->second;
    };
}

stress::ParsedCli parse(const std::vector<std::string>& args, const Env& env) {
    std::vector<const char*> argv{"./helpers"};
    for (const auto& a : args) argv.push_back(a.c_str());
    return stress::parse_cli(static_cast<int>(argv.size()), argv.data(), lookup(env));
}

stress::Config run_config(const std::vector<std::string>& args, const Env& env) {
    stress::ParsedCli cli = parse(args, env);
    REQUIRE(cli.action == stress::CliAction::Run);
    return cli.config;
}

// The message of the ConfigError parse() throws; fails the test when nothing is thrown.
std::string error_of(const std::vector<std::string>& args, const Env& env) {
    try {
        parse(args, env);
    } catch (const stress::ConfigError& e) {
        CHECK(e.code() == stress::ErrorCode::HelperError);
        return e.what();
    }
    FAIL("expected a ConfigError for args/env of this case");
    return {};
}

const std::vector<std::string> kName{"-name", "stress-chaos"};

Env base_env() { return {{"STRESS_TYPE", "pod-cpu-stress"}, {"TARGETS", "web:default:app"}}; }

// base_env() with changes; a nullopt value removes the variable.
Env env_with(std::vector<std::pair<std::string, std::optional<std::string>>> changes) {
    Env env = base_env();
    for (auto& [k, v] : changes) {
        if (v) env[k] = *v;
        else env.erase(k);
    }
    return env;
}

std::vector<std::string> name_and(std::vector<std::string> more) {
    std::vector<std::string> args = kName;
    args.insert(args.end(), more.begin(), more.end());
    return args;
}

} // namespace

TEST_CASE("config: bad inputs are ConfigErrors naming the variable and the value", "[config]") {
    struct BadCase {
        const char* what;
        std::vector<std::string> args;
        Env env;
        std::vector<std::string> expected_parts; // every one must appear in the message
    };
    const std::vector<BadCase> cases = {
        {"missing STRESS_TYPE", kName, env_with({{"STRESS_TYPE", std::nullopt}}),
         {"STRESS_TYPE is not set", "pod-cpu-stress, pod-memory-stress or pod-io-stress"}},
        {"empty STRESS_TYPE is unset", kName, env_with({{"STRESS_TYPE", ""}}), {"STRESS_TYPE is not set"}},
        {"unknown STRESS_TYPE", kName, env_with({{"STRESS_TYPE", "pod-disk-stress"}}),
         {"STRESS_TYPE=\"pod-disk-stress\": expected pod-cpu-stress, pod-memory-stress or pod-io-stress"}},
        {"STRESS_TYPE in another case", kName, env_with({{"STRESS_TYPE", "POD-CPU-STRESS"}}),
         {"STRESS_TYPE=\"POD-CPU-STRESS\": expected"}},
        {"non-numeric duration", kName, env_with({{"TOTAL_CHAOS_DURATION", "abc"}}),
         {"TOTAL_CHAOS_DURATION=\"abc\": expected an integer from 1 to 31536000"}},
        {"duration with a unit", kName, env_with({{"TOTAL_CHAOS_DURATION", "30s"}}),
         {"TOTAL_CHAOS_DURATION=\"30s\": expected an integer from 1 to 31536000", "without a unit"}},
        {"duration with leading space", kName, env_with({{"TOTAL_CHAOS_DURATION", " 30"}}),
         {"TOTAL_CHAOS_DURATION=\" 30\": expected"}},
        {"duration with trailing newline", kName, env_with({{"TOTAL_CHAOS_DURATION", "30\n"}}),
         {"TOTAL_CHAOS_DURATION=\"30\\n\": expected"}},
        {"duration with a plus sign", kName, env_with({{"TOTAL_CHAOS_DURATION", "+5"}}),
         {"TOTAL_CHAOS_DURATION=\"+5\": expected"}},
        {"duration 0", kName, env_with({{"TOTAL_CHAOS_DURATION", "0"}}), {"TOTAL_CHAOS_DURATION=\"0\": expected"}},
        {"duration above a year", kName, env_with({{"TOTAL_CHAOS_DURATION", "31536001"}}),
         {"TOTAL_CHAOS_DURATION=\"31536001\": expected an integer from 1 to 31536000"}},
        {"duration overflow", kName, env_with({{"TOTAL_CHAOS_DURATION", "99999999999999999999"}}),
         {"TOTAL_CHAOS_DURATION=\"99999999999999999999\": expected an integer from 1 to 31536000"}},
        {"duration hex", kName, env_with({{"TOTAL_CHAOS_DURATION", "0x10"}}), {"TOTAL_CHAOS_DURATION=\"0x10\""}},
        {"duration exponent", kName, env_with({{"TOTAL_CHAOS_DURATION", "1e3"}}), {"TOTAL_CHAOS_DURATION=\"1e3\""}},
        {"negative workers", kName, env_with({{"STRESS_TYPE", "pod-memory-stress"}, {"NUMBER_OF_WORKERS", "-1"}}),
         {"NUMBER_OF_WORKERS=\"-1\": expected an integer from 1 to 4096"}},
        {"zero workers", kName, env_with({{"STRESS_TYPE", "pod-io-stress"}, {"NUMBER_OF_WORKERS", "0"}}),
         {"NUMBER_OF_WORKERS=\"0\": expected an integer from 1 to 4096"}},
        {"CPU_LOAD 150", kName, env_with({{"CPU_LOAD", "150"}}), {"CPU_LOAD=\"150\": expected an integer from 0 to 100"}},
        {"shell in CPU_CORES", kName, env_with({{"CPU_CORES", "1; touch /tmp/x"}}),
         {"CPU_CORES=\"1; touch /tmp/x\": expected an integer from 0 to 4096"}},
        {"command substitution in CPU_CORES (io)", kName,
         env_with({{"STRESS_TYPE", "pod-io-stress"}, {"CPU_CORES", "$(reboot)"}}), {"CPU_CORES=\"$(reboot)\": expected"}},
        {"CPU_CORES too many", kName, env_with({{"CPU_CORES", "4097"}}), {"CPU_CORES=\"4097\": expected"}},
        {"MEMORY_CONSUMPTION with unit", kName,
         env_with({{"STRESS_TYPE", "pod-memory-stress"}, {"MEMORY_CONSUMPTION", "500M"}}),
         {"MEMORY_CONSUMPTION=\"500M\": expected an integer from 1 to 268435456"}},
        {"MEMORY_CONSUMPTION int overflow", kName,
         env_with({{"STRESS_TYPE", "pod-memory-stress"}, {"MEMORY_CONSUMPTION", "2147483648"}}),
         {"MEMORY_CONSUMPTION=\"2147483648\": expected"}},
        {"FILESYSTEM_UTILIZATION_PERCENTAGE 101", kName,
         env_with({{"STRESS_TYPE", "pod-io-stress"}, {"FILESYSTEM_UTILIZATION_PERCENTAGE", "101"}}),
         {"FILESYSTEM_UTILIZATION_PERCENTAGE=\"101\": expected an integer from 1 to 100"}},
        {"FILESYSTEM_UTILIZATION_BYTES with unit", kName,
         env_with({{"STRESS_TYPE", "pod-io-stress"}, {"FILESYSTEM_UTILIZATION_BYTES", "10G"}}),
         {"FILESYSTEM_UTILIZATION_BYTES=\"10G\": expected an integer >= 1"}},
        {"relative VOLUME_MOUNT_PATH", kName, env_with({{"STRESS_TYPE", "pod-io-stress"}, {"VOLUME_MOUNT_PATH", "data/x"}}),
         {"VOLUME_MOUNT_PATH=\"data/x\": expected an absolute path"}},
        {"VOLUME_MOUNT_PATH with a newline", kName,
         env_with({{"STRESS_TYPE", "pod-io-stress"}, {"VOLUME_MOUNT_PATH", "/data\n/etc"}}),
         {"VOLUME_MOUNT_PATH=\"/data\\n/etc\": expected an absolute path"}},
        {"unknown CONTAINER_RUNTIME", kName, env_with({{"CONTAINER_RUNTIME", "podman"}}),
         {"CONTAINER_RUNTIME=\"podman\": expected containerd, crio or docker"}},
        {"relative SOCKET_PATH", kName, env_with({{"SOCKET_PATH", "run/containerd.sock"}}),
         {"SOCKET_PATH=\"run/containerd.sock\": expected an absolute path"}},
        {"bad CONTAINERD_NAMESPACE", kName, env_with({{"CONTAINERD_NAMESPACE", "k8s..io"}}),
         {"CONTAINERD_NAMESPACE=\"k8s..io\": expected a containerd namespace"}},
        {"bad CHAOS_NAMESPACE", kName, env_with({{"CHAOS_NAMESPACE", "Litmus_NS"}}),
         {"CHAOS_NAMESPACE=\"Litmus_NS\": expected a Kubernetes namespace"}},
        {"slash in CHAOSENGINE", kName, env_with({{"CHAOSENGINE", "engine/../x"}}),
         {"CHAOSENGINE=\"engine/../x\": expected a Kubernetes name"}},
        {"query in INSTANCE_ID", kName, env_with({{"INSTANCE_ID", "a?b=c"}}), {"INSTANCE_ID=\"a?b=c\": expected"}},
        {"STATUS_CHECK_DELAY 0", kName, env_with({{"STATUS_CHECK_DELAY", "0"}}),
         {"STATUS_CHECK_DELAY=\"0\": expected an integer from 1 to 86400"}},
        {"STATUS_CHECK_TIMEOUT text", kName, env_with({{"STATUS_CHECK_TIMEOUT", "3m"}}),
         {"STATUS_CHECK_TIMEOUT=\"3m\": expected"}},
        {"HELPER_LOG_LEVEL unknown", kName, env_with({{"HELPER_LOG_LEVEL", "loud"}}),
         {"HELPER_LOG_LEVEL=\"loud\": expected a log level"}},
        {"NSEXEC_PATH with newline", kName, env_with({{"NSEXEC_PATH", "/bin/x\n"}}), {"NSEXEC_PATH=\"/bin/x\\n\": expected"}},
        {"missing TARGETS", kName, env_with({{"TARGETS", std::nullopt}}), {"TARGETS is not set", "--pid"}},
        {"empty TARGETS is unset", kName, env_with({{"TARGETS", ""}}), {"TARGETS is not set"}},
        {"TARGETS entry with two parts", kName, env_with({{"TARGETS", "web:default"}}),
         {"TARGETS=\"web:default\": entry \"web:default\": expected pod:namespace:containers"}},

        // the command line
        {"missing -name", {}, base_env(), {"-name is missing", "stress-chaos"}},
        {"unknown -name", {"-name", "foo"}, base_env(), {"-name=\"foo\": unknown helper; this image supports: stress-chaos"}},
        {"unknown --name=", {"--name=network-chaos"}, base_env(),
         {"--name=\"network-chaos\": unknown helper; this image supports: stress-chaos"}},
        {"empty -name", {"-name="}, base_env(), {"-name=\"\": unknown helper"}},
        {"-name takes the next argument even with a dash", {"-name", "-pid"}, base_env(), {"-name=\"-pid\": unknown helper"}},
        {"-name without value", {"-name"}, base_env(), {"-name: flag needs an argument", "-name NAME"}},
        {"--pid without value", name_and({"--pid"}), base_env(), {"--pid: flag needs an argument"}},
        {"--pid 0", name_and({"--pid", "0"}), base_env(), {"--pid=\"0\": expected an integer from 1 to 4194304"}},
        {"--pid abc", name_and({"--pid", "abc"}), base_env(), {"--pid=\"abc\": expected"}},
        {"-pid=-5", name_and({"-pid=-5"}), base_env(), {"-pid=\"-5\": expected"}},
        {"--pid too large", name_and({"--pid=4194305"}), base_env(), {"--pid=\"4194305\": expected"}},
        {"--pid given twice", name_and({"--pid", "7", "--pid", "7"}), base_env(), {"--pid=\"7\": process given twice"}},
        {"--container-id with a space", name_and({"--container-id", "a b"}), base_env(),
         {"--container-id=\"a b\": expected a container ID"}},
        {"--container-id empty", name_and({"--container-id="}), base_env(), {"--container-id=\"\": expected a container ID"}},
        {"--container-id twice (prefix stripped)", name_and({"--container-id", "abc", "--container-id", "docker://abc"}),
         base_env(), {"--container-id=\"docker://abc\": container given twice"}},
        {"unknown flag", name_and({"--foo"}), base_env(), {"--foo: flag provided but not defined"}},
        {"unknown flag with value", name_and({"-foo=bar"}), base_env(), {"-foo: flag provided but not defined"}},
        {"bad bool", name_and({"--dry-run=maybe"}), base_env(), {"--dry-run=\"maybe\": expected a boolean"}},
        {"bool flag does not take the next argument", name_and({"-dry-run", "false"}), base_env(),
         {"argument \"false\": expected only flags", "-flag=false"}},
        {"positional argument", name_and({"extra"}), base_env(), {"argument \"extra\": expected only flags"}},
        {"argument after --", name_and({"--", "-pid"}), base_env(), {"argument \"-pid\": expected only flags"}},
        {"three dashes", {"---name", "stress-chaos"}, base_env(), {"\"---name\": bad flag syntax"}},
        {"-=x", name_and({"-=x"}), base_env(), {"\"-=x\": bad flag syntax"}},
        {"--cpu-load flag 150", name_and({"--cpu-load", "150"}), base_env(),
         {"--cpu-load=\"150\": expected an integer from 0 to 100"}},
        {"--duration flag 30s", name_and({"-duration=30s"}), base_env(), {"-duration=\"30s\": expected"}},
        {"--stress-type flag unknown", name_and({"--stress-type", "cpu"}), base_env(), {"--stress-type=\"cpu\": expected"}},
        {"--runtime flag unknown", name_and({"--runtime", "rkt"}), base_env(), {"--runtime=\"rkt\": expected containerd"}},
        {"a flag the stress does not use is still validated", name_and({"--memory-mib", "lots"}), base_env(),
         {"--memory-mib=\"lots\": expected"}},
        {"--volume-mount-path takes a dash value", name_and({"--stress-type=pod-io-stress", "--volume-mount-path", "-x"}),
         base_env(), {"--volume-mount-path=\"-x\": expected an absolute path"}},
        {"--targets flag bad entry", name_and({"--targets", "a:b:c:d"}), base_env(),
         {"--targets=\"a:b:c:d\": entry \"a:b:c:d\""}},
    };
    REQUIRE(cases.size() >= 20);
    for (const auto& c : cases) {
        SECTION(c.what) {
            const std::string message = error_of(c.args, c.env);
            INFO("message: " << message);
            for (const auto& part : c.expected_parts) CHECK(message.find(part) != std::string::npos);
        }
    }
}

TEST_CASE("config: Go flag forms", "[config]") {
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"-name", "stress-chaos"}, {"-name=stress-chaos"}, {"--name", "stress-chaos"}, {"--name=stress-chaos"}}) {
        INFO("argv: " << args[0]);
        CHECK_NOTHROW(run_config(args, base_env()));
    }
    for (const auto& pid_args : std::vector<std::vector<std::string>>{
             {"-pid", "42"}, {"-pid=42"}, {"--pid", "42"}, {"--pid=42"}}) {
        INFO("argv: " << pid_args[0]);
        stress::Config c = run_config(name_and(pid_args), base_env());
        CHECK(c.pids == std::vector<pid_t>{42});
    }
    SECTION("bool flags: -f, --f, -f=BOOL in strconv.ParseBool spellings") {
        CHECK(run_config(name_and({"-dry-run"}), base_env()).dry_run);
        CHECK(run_config(name_and({"--dry-run"}), base_env()).dry_run);
        for (const char* yes : {"1", "t", "T", "true", "TRUE", "True"})
            CHECK(run_config(name_and({std::string("--dry-run=") + yes}), base_env()).dry_run);
        for (const char* no : {"0", "f", "F", "false", "FALSE", "False"})
            CHECK_FALSE(run_config(name_and({std::string("--dry-run=") + no}), base_env()).dry_run);
        CHECK_FALSE(run_config(kName, base_env()).dry_run);
    }
    SECTION("the last occurrence of a flag wins; repeatable flags accumulate") {
        stress::Config c = run_config(name_and({"--duration", "10", "-duration=20", "--pid", "3", "-pid", "1"}), base_env());
        CHECK(c.duration_s == 20);
        CHECK(c.pids == std::vector<pid_t>{3, 1});
    }
    SECTION("-- ends the flags") {
        CHECK_NOTHROW(run_config(name_and({"--"}), base_env()));
    }
    SECTION("flags may come in any order around -name") {
        stress::Config c = run_config({"--debug", "--name", "stress-chaos", "--runtime=docker"}, base_env());
        CHECK(c.debug);
        CHECK(c.container_runtime == "docker");
    }
}

TEST_CASE("config: a flag value may contain '=' (only the first one splits)", "[config]") {
    stress::Config c = run_config(name_and({"--socket=/run/a=b.sock"}), base_env());
    CHECK(c.socket_path == "/run/a=b.sock");
}

TEST_CASE("config: --help and --version", "[config]") {
    for (const char* flag : {"--help", "-help", "-h", "--h"}) {
        INFO(flag);
        // no -name, no STRESS_TYPE, a bad variable: help still wins (it is met first)
        stress::ParsedCli cli = parse({flag}, {{"CPU_LOAD", "150"}});
        CHECK(cli.action == stress::CliAction::Help);
        CHECK(cli.text == stress::help_text());
    }
    SECTION("help explains every flag and every variable") {
        const std::string help = stress::help_text();
        for (const char* word :
             {"--name", "--container-id", "--pid", "--dry-run", "--debug", "--runtime", "--socket",
              "--containerd-namespace", "--nsexec", "--libnsenter", "--stress-type", "--duration", "--cpu-cores",
              "--cpu-load", "--memory-mib", "--workers", "--volume-mount-path", "--fs-percent", "--fs-gib",
              "--targets", "--version", "--help", "TARGETS", "TOTAL_CHAOS_DURATION", "STRESS_TYPE", "CPU_CORES",
              "CPU_LOAD", "MEMORY_CONSUMPTION", "NUMBER_OF_WORKERS", "FILESYSTEM_UTILIZATION_PERCENTAGE",
              "FILESYSTEM_UTILIZATION_BYTES", "VOLUME_MOUNT_PATH", "CONTAINER_RUNTIME", "SOCKET_PATH",
              "CONTAINERD_NAMESPACE", "CHAOS_NAMESPACE", "CHAOSENGINE", "EXPERIMENT_NAME", "INSTANCE_ID", "CHAOS_UID",
              "POD_NAME", "STATUS_CHECK_TIMEOUT", "STATUS_CHECK_DELAY", "NSEXEC_PATH", "LIBNSENTER_PATH",
              "HELPER_LOG_LEVEL", "31536000", "default 500", "default 100"}) {
            INFO(word);
            CHECK(help.find(word) != std::string::npos);
        }
    }
    SECTION("flags after --help are not looked at; flags before it are") {
        CHECK(parse(name_and({"--help", "--bogus"}), {}).action == stress::CliAction::Help);
        CHECK(error_of({"--bogus", "--help"}, {}).find("--bogus") != std::string::npos);
    }
    SECTION("version") {
        stress::ParsedCli cli = parse({"--version"}, {});
        CHECK(cli.action == stress::CliAction::Version);
        CHECK(cli.text.find(STRESS_HELPER_VERSION) != std::string::npos);
        CHECK(cli.text == stress::version_text());
        CHECK(parse({"-version=true"}, {}).action == stress::CliAction::Version);
        // --version=false is no request for the version: a run, which needs -name
        CHECK(error_of({"--version=false"}, base_env()).find("-name is missing") != std::string::npos);
    }
}

TEST_CASE("config: defaults and the full Litmus environment", "[config]") {
    SECTION("only what is required") {
        stress::Config c = run_config(kName, base_env());
        CHECK(c.stress_type == stress::StressType::Cpu);
        CHECK(c.duration_s == 30);
        CHECK_FALSE(c.cpu_cores);
        CHECK_FALSE(c.cpu_load);
        CHECK(c.container_runtime == "containerd");
        CHECK(c.socket_path.empty());
        CHECK(c.containerd_namespace == "k8s.io");
        CHECK(c.chaos_namespace == "litmus");
        CHECK(c.status_check_timeout_s == 180);
        CHECK(c.status_check_delay_s == 2);
        REQUIRE(c.target_specs.size() == 1);
        CHECK(c.target_specs[0].pod == "web");
        CHECK_FALSE(c.standalone());
        CHECK_FALSE(c.dry_run);
        CHECK_FALSE(c.debug);
        CHECK(c.warnings.empty());
    }
    SECTION("empty values are unset") {
        Env env = base_env();
        for (const char* k : {"TOTAL_CHAOS_DURATION", "CPU_CORES", "CPU_LOAD", "CONTAINER_RUNTIME", "SOCKET_PATH",
                              "CHAOS_NAMESPACE", "CHAOSENGINE", "STATUS_CHECK_TIMEOUT", "STATUS_CHECK_DELAY",
                              "VOLUME_MOUNT_PATH", "HELPER_LOG_LEVEL", "NSEXEC_PATH"})
            env[k] = "";
        stress::Config c = run_config(kName, env);
        CHECK(c.duration_s == 30);
        CHECK_FALSE(c.cpu_cores);
        CHECK(c.container_runtime == "containerd");
        CHECK(c.chaos_namespace == "litmus");
        CHECK(c.status_check_timeout_s == 180);
    }
    SECTION("what a Litmus helper pod gets") {
        Env env = {
            {"TARGETS", "nginx-7d9c-abcde:shop:nginx,sidecar;db-0:shop:ALL"},
            {"TOTAL_CHAOS_DURATION", "60"},
            {"STRESS_TYPE", "pod-io-stress"},
            {"CPU_CORES", "0"},
            {"FILESYSTEM_UTILIZATION_PERCENTAGE", "10"},
            {"FILESYSTEM_UTILIZATION_BYTES", ""},
            {"NUMBER_OF_WORKERS", "4"},
            {"VOLUME_MOUNT_PATH", "/var/lib/data"},
            {"CONTAINER_RUNTIME", "crio"},
            {"SOCKET_PATH", "/run/crio/crio.sock"},
            {"CHAOS_NAMESPACE", "litmus-chaos"},
            {"CHAOSENGINE", "nginx-chaos"},
            {"EXPERIMENT_NAME", "pod-io-stress"},
            {"INSTANCE_ID", "run-1"},
            {"CHAOS_UID", "3f2a9c1e-6b7d-4e2a-9f0c-1d2e3f4a5b6c"},
            {"POD_NAME", "pod-io-stress-helper-xkqwz"},
            {"STATUS_CHECK_TIMEOUT", "300"},
            {"STATUS_CHECK_DELAY", "5"},
            {"OTEL_EXPORTER_OTLP_ENDPOINT", "whatever"},
            // another experiment's value, as older Litmus releases send them: ignored
            {"MEMORY_CONSUMPTION", "0"},
            {"CPU_LOAD", "not-used"},
        };
        stress::Config c = run_config(kName, env);
        CHECK(c.stress_type == stress::StressType::Io);
        CHECK(c.duration_s == 60);
        CHECK(c.cpu_cores == 0);
        CHECK_FALSE(c.cpu_load);
        CHECK_FALSE(c.memory_mib);
        CHECK(c.workers == 4);
        CHECK(c.fs_utilization_percent == 10);
        CHECK_FALSE(c.fs_utilization_gib);
        CHECK(c.volume_mount_path == "/var/lib/data");
        CHECK(c.container_runtime == "crio");
        CHECK(c.socket_path == "/run/crio/crio.sock");
        CHECK(c.chaos_namespace == "litmus-chaos");
        CHECK(c.chaosengine == "nginx-chaos");
        CHECK(c.experiment_name == "pod-io-stress");
        CHECK(c.instance_id == "run-1");
        CHECK(c.chaos_uid == "3f2a9c1e-6b7d-4e2a-9f0c-1d2e3f4a5b6c");
        CHECK(c.pod_name == "pod-io-stress-helper-xkqwz");
        CHECK(c.status_check_timeout_s == 300);
        CHECK(c.status_check_delay_s == 5);
        REQUIRE(c.target_specs.size() == 2);
        CHECK(c.target_specs[0].containers == std::vector<std::string>{"nginx", "sidecar"});
        CHECK(c.target_specs[1].all_containers);
        CHECK(c.warnings.empty());
    }
    SECTION("integers: leading zeros are decimal, bounds are inclusive") {
        stress::Config c = run_config(kName, env_with({{"TOTAL_CHAOS_DURATION", "031536000"}, {"CPU_LOAD", "0"},
                                                       {"CPU_CORES", "4096"}}));
        CHECK(c.duration_s == 31536000);
        CHECK(c.cpu_load == 0);
        CHECK(c.cpu_cores == 4096);
        CHECK(run_config(kName, env_with({{"CPU_LOAD", "100"}, {"TOTAL_CHAOS_DURATION", "1"}})).cpu_load == 100);
    }
    SECTION("filesystem values: \"0\" means unset, as in Litmus") {
        stress::Config c = run_config(kName, env_with({{"STRESS_TYPE", "pod-io-stress"},
                                                       {"FILESYSTEM_UTILIZATION_PERCENTAGE", "0"},
                                                       {"FILESYSTEM_UTILIZATION_BYTES", "00"}}));
        CHECK_FALSE(c.fs_utilization_percent);
        CHECK_FALSE(c.fs_utilization_gib);
    }
    SECTION("SOCKET_PATH with unix:// is accepted") {
        CHECK(run_config(kName, env_with({{"SOCKET_PATH", "unix:///run/containerd/containerd.sock"}})).socket_path ==
              "/run/containerd/containerd.sock");
    }
    SECTION("HELPER_LOG_LEVEL and --debug") {
        CHECK(run_config(kName, env_with({{"HELPER_LOG_LEVEL", "debug"}})).debug);
        CHECK(run_config(kName, env_with({{"HELPER_LOG_LEVEL", "DEBUG"}})).debug);
        CHECK_FALSE(run_config(kName, env_with({{"HELPER_LOG_LEVEL", "info"}})).debug);
        CHECK(run_config(name_and({"--debug"}), env_with({{"HELPER_LOG_LEVEL", "info"}})).debug);
    }
    SECTION("our parts") {
        stress::Config c = run_config(name_and({"--nsexec", "./build/nsexec"}),
                                      env_with({{"NSEXEC_PATH", "/usr/local/bin/nsexec"},
                                                {"LIBNSENTER_PATH", "/usr/local/lib/libnsenter.so"}}));
        CHECK(c.nsexec_path == "./build/nsexec");
        CHECK(c.libnsenter_path == "/usr/local/lib/libnsenter.so");
    }
}

TEST_CASE("config: flags win over the environment", "[config]") {
    Env env = env_with({{"CPU_LOAD", "50"}, {"CPU_CORES", "2"}, {"TOTAL_CHAOS_DURATION", "60"},
                        {"CONTAINER_RUNTIME", "docker"}, {"SOCKET_PATH", "/run/docker.sock"}});
    stress::Config c = run_config(name_and({"--cpu-load", "75", "--duration=90", "--runtime", "containerd", "--socket",
                                            "/tmp/c.sock", "--containerd-namespace", "default"}),
                                  env);
    CHECK(c.cpu_load == 75);
    CHECK(c.cpu_cores == 2); // no flag: the variable
    CHECK(c.duration_s == 90);
    CHECK(c.container_runtime == "containerd");
    CHECK(c.socket_path == "/tmp/c.sock");
    CHECK(c.containerd_namespace == "default");

    SECTION("--stress-type selects which values are read") {
        stress::Config m = run_config(name_and({"--stress-type", "pod-memory-stress", "--memory-mib", "128", "--workers", "2"}),
                                      env);
        CHECK(m.stress_type == stress::StressType::Memory);
        CHECK(m.memory_mib == 128);
        CHECK(m.workers == 2);
        CHECK_FALSE(m.cpu_load); // CPU_LOAD=50 is not used by memory stress
        CHECK(m.warnings.empty());
    }
    SECTION("a flag the stress type does not use is a warning") {
        stress::Config w = run_config(name_and({"--memory-mib", "128"}), env);
        CHECK_FALSE(w.memory_mib);
        REQUIRE(w.warnings.size() == 1);
        CHECK(w.warnings[0].find("--memory-mib") != std::string::npos);
        CHECK(w.warnings[0].find("pod-cpu-stress") != std::string::npos);
    }
    SECTION("an environment value the stress type does not use is ignored, even when malformed") {
        stress::Config i = run_config(kName, env_with({{"MEMORY_CONSUMPTION", "abc"}, {"VOLUME_MOUNT_PATH", "rel"},
                                                       {"FILESYSTEM_UTILIZATION_BYTES", "x"}}));
        CHECK_FALSE(i.memory_mib);
        CHECK(i.volume_mount_path.empty());
        CHECK(i.warnings.empty());
    }
}

TEST_CASE("config: standalone mode", "[config]") {
    SECTION("--pid without TARGETS") {
        stress::Config c = run_config(name_and({"--pid", "4242", "--dry-run"}), env_with({{"TARGETS", std::nullopt}}));
        CHECK(c.standalone());
        CHECK(c.pids == std::vector<pid_t>{4242});
        CHECK(c.dry_run);
        CHECK(c.target_specs.empty());
    }
    SECTION("--container-id, with and without a runtime prefix; TARGETS is ignored") {
        const std::string id(64, 'a');
        stress::Config c = run_config(name_and({"--container-id", "containerd://" + id, "--container-id=web-1",
                                                "--container-id", "cri-o://b1", "--pid=1"}),
                                      env_with({{"TARGETS", "not a valid targets value"}}));
        CHECK(c.container_ids == std::vector<std::string>{id, "web-1", "b1"});
        CHECK(c.pids == std::vector<pid_t>{1});
        CHECK(c.target_specs.empty());
    }
    SECTION("STRESS_TYPE is still required") {
        CHECK(error_of(name_and({"--pid", "1"}), {}).find("STRESS_TYPE is not set") != std::string::npos);
        CHECK(run_config(name_and({"--pid", "1", "--stress-type", "pod-memory-stress"}), {}).stress_type ==
              stress::StressType::Memory);
    }
    SECTION("--targets replaces TARGETS") {
        stress::Config c = run_config(name_and({"--targets", "api:prod:all"}), base_env());
        REQUIRE(c.target_specs.size() == 1);
        CHECK(c.target_specs[0].pod == "api");
        CHECK(c.target_specs[0].all_containers);
    }
}

TEST_CASE("config: quote_value shows values verbatim", "[config]") {
    CHECK(stress::quote_value("") == "\"\"");
    CHECK(stress::quote_value("1; touch /tmp/x") == "\"1; touch /tmp/x\"");
    CHECK(stress::quote_value("say \"hi\"\\") == "\"say \\\"hi\\\"\\\\\"");
    CHECK(stress::quote_value("a\nb\tc\r\x01\x7f") == "\"a\\nb\\tc\\r\\x01\\x7f\"");
    CHECK(stress::quote_value("\a\b\f\v") == "\"\\a\\b\\f\\v\"");
    CHECK(stress::quote_value("h\xc3\xa9") == "\"h\xc3\xa9\"");
    const std::string huge(10000, 'x');
    const std::string q = stress::quote_value(huge);
    CHECK(q.size() < 300);
    CHECK(q.find("(10000 bytes)") != std::string::npos);
}

TEST_CASE("config: stress_type_name", "[config]") {
    CHECK(std::string(stress::stress_type_name(stress::StressType::Cpu)) == "pod-cpu-stress");
    CHECK(std::string(stress::stress_type_name(stress::StressType::Memory)) == "pod-memory-stress");
    CHECK(std::string(stress::stress_type_name(stress::StressType::Io)) == "pod-io-stress");
}

TEST_CASE("config: process_env reads the real environment", "[config]") {
    const char* name = "STRESS_HELPER_TEST_CONFIG_VAR";
    ::unsetenv(name);
    stress::EnvLookup env = stress::process_env();
    CHECK_FALSE(env(name));
    ::setenv(name, "v 1", 1);
    CHECK(env(name) == std::optional<std::string>("v 1"));
    ::setenv(name, "", 1);
    CHECK(env(name) == std::optional<std::string>("")); // parse_cli treats it as unset, the lookup does not
    ::unsetenv(name);
}
