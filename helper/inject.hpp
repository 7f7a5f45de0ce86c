// inject.hpp — the stress lifecycle: start paused, attach to the target's cgroups, release, wait,
// revert. One Boost.Asio loop; no sleep is used as synchronisation.
//
// Owns: the per-target nsexec process trees from fork to reap, the chaos timeout, SIGTERM/SIGINT
// during the run, the revert (SIGTERM → grace → SIGKILL → confirm), and the proof-of-effect summary.
// Does not know about Kubernetes: the caller passes hooks (annotations, events) and decides what an
// outcome means (e.g. an OOM-killed target counts as success for memory stress).
#pragma once

#include "abort.hpp"
#include "cgroup.hpp"
#include "error.hpp"

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace stress {

// One target container (or process): what Kubernetes or the command line named, and its PID. The one
// target type from the lookup to the report.
struct Target {
    std::string label;        // as Litmus prints targets: "{podName: p, namespace: n, container: c}",
                              // "{container: <id>}", "{pid: <n>}" in standalone mode
    std::string pod;          // "" in standalone mode
    std::string ns;           // the pod's namespace ("" in standalone mode)
    std::string container;    // the container's name ("" in standalone mode)
    std::string container_id; // "" when the PID was given
    pid_t pid = 0;
};

struct StressPlan {
    Target target;
    TargetCgroups cgroups;
    std::vector<std::string> argv; // the nsexec command line
};

struct TargetOutcome {
    std::string label;
    int exit_status = -1;         // nsexec's exit status (the stress command's), -1 when never run
    std::string output;           // stress-ng's stdout+stderr (the last 64 KiB)
    std::string summary;          // proof of effect, one line
    std::chrono::milliseconds start_latency{0}; // run_stress() entry → released
};

enum class RunEnd {
    Completed, // every stress command ended by itself
    TimedOut,  // reverted: the run outlived options.timeout
    Aborted,   // reverted: SIGTERM or SIGINT
    HookFailed // reverted: a hook threw (e.g. the "injected" annotation could not be written); see hook_error
};

struct RunResult {
    RunEnd end = RunEnd::Completed;
    std::vector<TargetOutcome> targets;   // same order as the plans
    bool revert_confirmed = true;         // every process group we started is gone
    std::vector<std::string> survivors;   // else which targets still have one, and why if known
    std::chrono::milliseconds all_started{0};  // run_stress() entry → last target released
    std::chrono::milliseconds revert_took{0};  // revert start → everything gone (0 when no revert)
    std::optional<Error> hook_error;           // why the run ended HookFailed
};

struct RunOptions {
    std::chrono::seconds timeout{60};                  // TOTAL_CHAOS_DURATION + 30 s
    std::chrono::milliseconds revert_grace{3000};      // SIGTERM → SIGKILL (nsexec escalates after 500 ms itself),
                                                       // and SIGKILL → giving up on what does not die
    std::chrono::milliseconds sample_every{250};       // memory usage sampling for the peak
    // Hooks run on this thread once every target is released. A hook that throws Error reverts the run
    // (RunEnd::HookFailed): nothing is left running because the caller could not record it.
    std::function<void(const StressPlan&)> on_started; // per target (e.g. annotate "injected")
    std::function<void()> on_all_started;              // once (e.g. the ChaosInject event)
};

// Runs every plan concurrently to its end (a StressRun, see inject.cpp). `abort` is requested when
// SIGTERM or SIGINT arrives, and read by whoever else must stop at once (the Kubernetes client's
// retries, during the hooks and after the run). Throws Error(ChaosInjectError) when a target cannot be
// started (its cgroup attach failed): nothing of the command ran anywhere, every child is abandoned.
RunResult run_stress(const std::vector<StressPlan>& plans, const RunOptions& options, AbortToken& abort);

} // namespace stress
