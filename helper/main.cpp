// main.cpp — `./helpers -name stress-chaos`: the environment → the plan (plan.hpp) → the run
// (inject.hpp) → the outcome (report.hpp) → Kubernetes and the exit status. Thin on purpose: each
// step is a module; this file orders them, holds the Kubernetes client (unless in standalone mode)
// and the abort token, and maps errors to exit 1 and a Litmus errorCode, once.
#include "abort.hpp"
#include "cgroup.hpp"
#include "config.hpp"
#include "error.hpp"
#include "inject.hpp"
#include "kube.hpp"
#include "litmus.hpp"
#include "log.hpp"
#include "parts.hpp"
#include "plan.hpp"
#include "report.hpp"
#include "stressors.hpp"

#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <set>

namespace stress {
namespace {

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

        if (!config_.standalone()) connect_to_kubernetes();
        const std::vector<Target> targets = find_targets(config_, litmus_.get());
        if (!targets.empty()) join_host_cgroup_namespace(targets.front().pid);
        const std::vector<StressPlan> plans = make_plans(config_, targets, command, our_parts());
        if (config_.dry_run) {
            print_plan(plans, command);
            return 0;
        }

        log::info("[Info]: Injecting " + std::string(stress_type_name(config_.stress_type)) + " into " +
                  std::to_string(plans.size()) + " target(s)");
        RunResult result = run_stress(plans, run_options(), abort_);
        if (result.end != RunEnd::Completed)
            log::info("[Info]: Chaos reverted", {{"took", std::to_string(result.revert_took.count()) + "ms"}});

        const std::optional<Error> annotation_failure = annotate_reverted();
        auto oom_counts_as_done = [this](const StressPlan& plan) {
            const Target& t = plan.target;
            return config_.stress_type == StressType::Memory && litmus_ && !t.pod.empty() &&
                   litmus_->oom_killed(t.pod, t.ns, t.container);
        };
        RunOutcome outcome = judge_run(plans, result, oom_counts_as_done, annotation_failure);
        if (litmus_)
            for (const auto& [pod, effect] : outcome.effects) record_effect(pod, effect);
        switch (outcome.verdict) {
        case RunOutcome::Verdict::Failed: throw *outcome.error;
        case RunOutcome::Verdict::Aborted: log::error("[Abort]: Chaos aborted, every target reverted"); return 1;
        case RunOutcome::Verdict::Succeeded: break;
        }
        log::info("[Completion]: Stress chaos completed in every target");
        return 0;
    }

    void connect_to_kubernetes() {
        kube::ClientConfig kc = kube::in_cluster_config(process_env());
        kc.retry = kube::retry_policy(config_.status_check_timeout_s, config_.status_check_delay_s);
        // An abort is not held up by the retry budget: during the injection and after it (the pod
        // is being deleted; one attempt per write, then exit).
        kc.retry.abort = &abort_;
        client_ = std::make_unique<kube::Client>(kc);
        litmus_ = std::make_unique<Litmus>(*client_, litmus_context(config_));
    }

    Parts our_parts() const {
        try {
            return find_parts(config_.nsexec_path, config_.libnsenter_path);
        } catch (const Error&) {
            if (!config_.dry_run) throw;
            return Parts{"nsexec", "libnsenter.so", "stress-ng"}; // a plan can still be shown
        }
    }

    // Each pod is annotated "injected" once, as its first container starts; the event follows when
    // every target runs. A hook that throws reverts the run (inject.hpp).
    RunOptions run_options() {
        RunOptions options;
        options.timeout = std::chrono::seconds(config_.duration_s + 30);
        options.on_started = [this](const StressPlan& plan) {
            const std::string& pod = plan.target.pod;
            if (!litmus_ || pod.empty() || annotated_.count(pod)) return;
            annotated_.insert(pod); // before the call: a failed "injected" still gets "reverted"
            litmus_->annotate(pod, "injected");
        };
        options.on_all_started = [this] {
            if (litmus_) litmus_->event("ChaosInject", "Injecting " + config_.experiment_name + " chaos on application pod");
        };
        return options;
    }

    // Every pod annotated "injected" is "reverted" now, whatever happened; one failed write does not
    // stop the others. The first failure is returned.
    std::optional<Error> annotate_reverted() {
        std::optional<Error> first;
        for (const auto& pod : annotated_) {
            try {
                litmus_->annotate(pod, "reverted");
            } catch (const Error& e) {
                log::error("[Error]: " + std::string(e.what()));
                if (!first) first = e;
            }
        }
        return first;
    }

    // The proof of effect, where users look: an annotation next to pod/<name> on the ChaosResult.
    void record_effect(const std::string& pod, const std::string& effect) {
        try {
            litmus_->annotate_effect(pod, effect);
        } catch (const Error& e) {
            log::warn("[Warning]: could not record the stress effect on the ChaosResult", {{"error", e.what()}});
        }
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
    std::set<std::string> annotated_; // pods annotated "injected"
    AbortToken abort_; // requested when SIGTERM/SIGINT ends the run; the Kubernetes client reads it
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
