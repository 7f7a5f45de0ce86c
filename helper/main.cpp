// main.cpp — `./helpers -name stress-chaos`: environment → targets → PIDs → cgroups → stress in
// every target → revert → results. Thin on purpose: each step is a module; this file orders them,
// talks to Kubernetes through Litmus (unless in standalone mode), and maps errors to exit 1 and a
// Litmus errorCode, once.
#include "cgroup.hpp"
#include "config.hpp"
#include "error.hpp"
#include "inject.hpp"
#include "kube.hpp"
#include "litmus.hpp"
#include "log.hpp"
#include "runtime.hpp"
#include "stressors.hpp"
#include "targets.hpp"
#include "files.hpp"
#include "parts.hpp"
#include "text.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <set>

namespace stress {
namespace {

// One target container (or process) on its way to a StressPlan.
struct Target {
    std::string label;        // as Litmus prints targets
    std::string pod;          // "" in standalone mode
    std::string container;    // "" in standalone mode
    std::string ns;           // pod namespace
    std::string container_id; // "" when the PID was given
    pid_t pid = 0;
};

// io stress writes where VOLUME_MOUNT_PATH points inside the target (else stress-ng's cwd, which
// is the target's root after the mount-namespace switch): check it before anything starts.
void check_io_path(const Config& config, const Target& target) {
    std::string inside = config.volume_mount_path.empty() ? "/" : config.volume_mount_path;
    // /proc/PID/root resolves paths in the target's mount namespace, as the target sees them.
    std::string path = "/proc/" + std::to_string(target.pid) + "/root" + inside;
    struct stat st{};
    std::string what = config.volume_mount_path.empty() ? "the target's root directory (VOLUME_MOUNT_PATH is unset)"
                                                        : "VOLUME_MOUNT_PATH=\"" + config.volume_mount_path + "\"";
    if (::stat(path.c_str(), &st) != 0)
        throw Error(ErrorCode::ChaosInjectError,
                    what + ": not found inside " + target.label + " (stat " + path + ": " + errno_text(errno) + ")",
                    target.label);
    if (!S_ISDIR(st.st_mode))
        throw Error(ErrorCode::ChaosInjectError, what + ": not a directory inside " + target.label, target.label);
    if (::access(path.c_str(), W_OK) != 0)
        throw Error(ErrorCode::ChaosInjectError,
                    what + ": not writable inside " + target.label + " (" + errno_text(errno) + ")", target.label);
}

// A socket that was named explicitly must be there: falling back to a /proc scan would hide a
// wrong SOCKET_PATH (the last resort is for a default socket that is absent or a runtime API that fails).
void check_socket(const std::string& socket_path) {
    if (socket_path.empty()) return;
    if (std::string problem = unix_socket_problem(socket_path); !problem.empty())
        throw Error(ErrorCode::ContainerRuntimeError,
                    "SOCKET_PATH=" + quote_value(socket_path) + ": " + problem + " (expected the runtime's unix socket)");
}

std::string shell_quote_for_display(const std::string& word) {
    if (!word.empty() && word.find_first_of(" \t\n'\"\\$;&|<>()*?`") == std::string::npos) return word;
    std::string out = "'";
    for (char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

void print_plan(const std::vector<StressPlan>& plans, const StressCommand& command) {
    std::printf("dry run: nothing is started\n");
    for (const auto& w : command.warnings) std::printf("warning: %s\n", w.c_str());
    for (const auto& plan : plans) {
        std::printf("target %s\n  pid: %d\n  cgroups (%s):\n", plan.label.c_str(), plan.target_pid,
                    layout_name(plan.cgroups.layout));
        for (const auto& dir : plan.cgroups.v1_dirs) std::printf("    %s\n", dir.c_str());
        if (!plan.cgroups.v2_dir.empty()) std::printf("    %s\n", plan.cgroups.v2_dir.c_str());
        std::string argv;
        for (const auto& w : plan.argv) argv += (argv.empty() ? "" : " ") + shell_quote_for_display(w);
        std::printf("  argv: %s\n", argv.c_str());
    }
}

// "6912KiB": VmHWM from /proc/self/status, or "unknown".
std::string peak_rss_text() {
    std::ifstream status("/proc/self/status");
    for (std::string line; std::getline(status, line);) {
        if (line.rfind("VmHWM:", 0) != 0) continue;
        std::string digits;
        for (char c : line)
            if (c >= '0' && c <= '9') digits += c;
        return digits + "KiB";
    }
    return "unknown";
}

class Helper {
public:
    explicit Helper(Config config) : config_(std::move(config)) {}

    int run() {
        try {
            return run_or_throw();
        } catch (const Error& e) {
            return fail(e);
        } catch (const std::exception& e) {
            return fail(Error(ErrorCode::GenericError, e.what()));
        }
    }

private:
    int run_or_throw() {
        log::info("[PreReq]: Getting the ENV variables",
                  {{"stressType", stress_type_name(config_.stress_type)},
                   {"duration", std::to_string(config_.duration_s) + "s"},
                   {"runtime", config_.container_runtime}});
        StressCommand command = build_stress_command(config_);
        for (const auto& w : config_.warnings) log::warn("[Warning]: " + w);
        for (const auto& w : command.warnings) log::warn("[Warning]: " + w);

        std::vector<Target> targets = find_targets();
        std::vector<StressPlan> plans;
        Parts parts;
        try {
            parts = find_parts(config_.nsexec_path, config_.libnsenter_path);
        } catch (const Error&) {
            if (!config_.dry_run) throw;
            parts = Parts{"nsexec", "libnsenter.so"}; // a plan can still be shown
        }
        const bool io = config_.stress_type == StressType::Io;
        if (!targets.empty()) join_host_cgroup_namespace(targets.front().pid);
        for (const auto& t : targets) {
            if (io) check_io_path(config_, t);
            StressPlan plan;
            plan.label = t.label;
            plan.pod = t.pod;
            plan.container = t.container;
            plan.target_pid = t.pid;
            try {
                plan.cgroups = target_cgroups(t.pid);
            } catch (const Error& e) {
                throw Error(e.code(), "cgroups of " + t.label + ": " + e.what(), t.label);
            }
            for (const auto& w : plan.cgroups.warnings) log::warn("[Warning]: " + w, {{"target", t.label}});
            plan.argv = nsexec_argv(parts, t.pid, io ? MountNamespace::Target : MountNamespace::Helper, command.argv);
            plans.push_back(std::move(plan));
        }

        if (config_.dry_run) {
            print_plan(plans, command);
            return 0;
        }

        RunOptions options;
        options.timeout = std::chrono::seconds(config_.duration_s + 30);
        std::set<std::string> annotated;
        options.on_started = [&](const StressPlan& plan) {
            if (!litmus_ || plan.pod.empty() || annotated.count(plan.pod)) return;
            annotated.insert(plan.pod); // before the call: a failed "injected" still gets "reverted"
            litmus_->annotate(plan.pod, "injected");
        };
        options.on_all_started = [&] {
            if (litmus_) litmus_->event("ChaosInject", "Injecting " + config_.experiment_name + " chaos on application pod");
        };
        log::info("[Info]: Injecting " + std::string(stress_type_name(config_.stress_type)) + " into " +
                  std::to_string(plans.size()) + " target(s)");
        RunResult result = run_stress(plans, options);
        aborted_ = result.end == RunEnd::Aborted;
        if (result.end != RunEnd::Completed)
            log::info("[Info]: Chaos reverted", {{"took", std::to_string(result.revert_took.count()) + "ms"}});

        // Every pod we annotated "injected" is "reverted" now, whatever happened; one failed write
        // does not stop the others.
        std::optional<Error> annotation_failure;
        for (const auto& pod : annotated) {
            try {
                litmus_->annotate(pod, "reverted");
            } catch (const Error& e) {
                log::error("[Error]: " + std::string(e.what()));
                if (!annotation_failure) annotation_failure = e;
            }
        }

        std::optional<Error> failure;
        std::map<std::string, std::string> effects; // pod → "container: summary | …"
        for (size_t i = 0; i < plans.size(); ++i) {
            const auto& plan = plans[i];
            const auto& outcome = result.targets[i];
            log::info("[Info]: Stress effect", {{"target", plan.label}, {"effect", outcome.summary},
                                                {"exitStatus", std::to_string(outcome.exit_status)}});
            if (!plan.pod.empty()) {
                std::string& effect = effects[plan.pod];
                effect += (effect.empty() ? "" : " | ") + plan.container + ": " + outcome.summary;
            }
            if (result.end != RunEnd::Completed || outcome.exit_status == 0 || failure) continue;
            if (config_.stress_type == StressType::Memory && litmus_ && !plan.pod.empty() &&
                litmus_->oom_killed(plan.pod, pod_namespace(plan), plan.container)) {
                log::info("[Info]: The target container was OOM-killed: memory stress counts as done",
                          {{"target", plan.label}});
                continue;
            }
            failure = Error(ErrorCode::ChaosInjectError,
                            "stress-ng exited with status " + std::to_string(outcome.exit_status) + " in " + plan.label +
                                ": " + last_lines(outcome.output, 6),
                            plan.label);
        }
        if (litmus_)
            for (const auto& [pod, effect] : effects) record_effect(pod, effect);
        if (!result.revert_confirmed)
            throw Error(ErrorCode::ChaosRevertError, "a stress process group survived the revert");
        if (result.hook_error) throw *result.hook_error;
        if (result.end == RunEnd::Aborted) {
            log::error("[Abort]: Chaos aborted, every target reverted");
            return 1;
        }
        if (result.end == RunEnd::TimedOut)
            throw Error(ErrorCode::ChaosInjectError, "stress did not finish within TOTAL_CHAOS_DURATION + 30 s; reverted");
        if (failure) throw *failure;
        if (annotation_failure) throw *annotation_failure;
        log::info("[Completion]: Stress chaos completed in every target");
        return 0;
    }

    std::vector<Target> find_targets() {
        std::vector<Target> targets;
        if (config_.standalone()) {
            for (const auto& id : config_.container_ids) targets.push_back(Target{"{container: " + id + "}", "", "", "", id, 0});
            for (pid_t pid : config_.pids)
                targets.push_back(Target{"{pid: " + std::to_string(pid) + "}", "", "", "", "", pid});
        } else {
            kube::ClientConfig kc = kube::in_cluster_config(process_env());
            kc.retry = kube::retry_policy(config_.status_check_timeout_s, config_.status_check_delay_s);
            // An abort is not held up by the retry budget: during the injection (abort_pending) and
            // after it (aborted_: the pod is being deleted; one attempt per write, then exit).
            kc.retry.stop_retrying = [this] { return aborted_ || abort_pending(); };
            client_ = std::make_unique<kube::Client>(kc);
            litmus_ = std::make_unique<Litmus>(*client_, litmus_context(config_));
            for (const auto& c : litmus_->resolve_targets(config_.target_specs)) {
                targets.push_back(Target{c.describe(), c.pod, c.container, c.ns, c.container_id, 0});
                namespaces_[c.pod] = c.ns;
            }
        }

        std::unique_ptr<RuntimeBackend> runtime;
        for (auto& t : targets) {
            if (t.pid == 0) {
                try {
                    if (!runtime) {
                        check_socket(config_.socket_path);
                        RuntimeOptions ro;
                        ro.runtime = config_.container_runtime;
                        ro.socket_path = config_.socket_path;
                        ro.containerd_namespace = config_.containerd_namespace;
                        runtime = make_runtime(ro);
                    }
                    t.pid = runtime->container_pid(t.container_id);
                } catch (const Error& e) {
                    throw Error(e.code(), std::string(e.what()) + " (target " + t.label + ")", t.label);
                }
            }
            struct stat st{};
            std::string proc = "/proc/" + std::to_string(t.pid);
            if (::stat(proc.c_str(), &st) != 0)
                throw Error(ErrorCode::ContainerRuntimeError,
                            "no running process " + std::to_string(t.pid) + " for " + t.label + " (stat " + proc + ": " +
                                errno_text(errno) + ")",
                            t.label);
            log::info("[Info]: Details of the target", {{"target", t.label}, {"pid", std::to_string(t.pid)},
                                                       {"containerID", t.container_id}});
        }
        return targets;
    }

    std::string pod_namespace(const StressPlan& plan) const {
        auto it = namespaces_.find(plan.pod);
        return it == namespaces_.end() ? "" : it->second;
    }

    // The proof of effect, where users look: an annotation next to pod/<name> on the ChaosResult.
    void record_effect(const std::string& pod, const std::string& effect) {
        try {
            litmus_->annotate_effect(pod, effect);
        } catch (const Error& e) {
            log::warn("[Warning]: could not record the stress effect on the ChaosResult", {{"error", e.what()}});
        }
    }

    static std::string last_lines(const std::string& text, int n) {
        size_t pos = text.size();
        while (n-- > 0 && pos > 0) {
            pos = text.rfind('\n', pos - 1);
            if (pos == std::string::npos) {
                pos = 0;
                break;
            }
        }
        std::string tail = text.substr(pos);
        while (!tail.empty() && (tail.front() == '\n')) tail.erase(0, 1);
        while (!tail.empty() && (tail.back() == '\n')) tail.pop_back();
        return tail.empty() ? "(no output)" : tail;
    }

    int fail(const Error& e) {
        log::error("[Error]: " + std::string(e.what()),
                   {{"errorCode", litmus_error_code(e.code())}, {"target", e.target()}});
        if (litmus_) {
            try {
                litmus_->record_failure(e.code(), failure_reason(config_.pod_name, e.code(), "ChaosInject", e.what(),
                                                                 e.target()));
            } catch (const Error& write_error) {
                log::error("[Error]: could not write the failure to the ChaosResult", {{"error", write_error.what()}});
            }
        }
        return 1;
    }

    Config config_;
    std::unique_ptr<kube::Client> client_;
    std::unique_ptr<Litmus> litmus_;
    std::map<std::string, std::string> namespaces_;
    bool aborted_ = false; // SIGTERM/SIGINT ended the run
};

} // namespace
} // namespace stress

int main(int argc, char** argv) {
    using namespace stress;
    ParsedCli cli;
    try {
        cli = parse_cli(argc, argv, process_env());
    } catch (const ConfigError& e) {
        log::fatal("[Error]: " + std::string(e.what()), {{"errorCode", litmus_error_code(e.code())}});
        return 1;
    }
    if (cli.action != CliAction::Run) {
        std::fputs(cli.text.c_str(), stdout);
        return 0;
    }
    log::set_debug(cli.config.debug);
    int status = Helper(std::move(cli.config)).run();
    // Our own peak (what the benchmark reports): VmHWM of this process image. Not getrusage's
    // ru_maxrss, which keeps the peak of the process that exec'd us (e.g. a forked python).
    log::debug("[Info]: Helper resources", {{"peakRSS", peak_rss_text()}});
    return status;
}
