#include "report.hpp"

#include "log.hpp"

namespace stress {

std::string last_lines(const std::string& text, int n) {
    size_t end = text.find_last_not_of('\n');
    if (end == std::string::npos || n <= 0) return "(no output)";
    size_t start = end + 1;
    while (n-- > 0 && start > 0) {
        size_t nl = text.rfind('\n', start - 1);
        start = nl == std::string::npos ? 0 : nl;
    }
    std::string tail = text.substr(start, end + 1 - start);
    while (!tail.empty() && tail.front() == '\n') tail.erase(0, 1);
    return tail.empty() ? "(no output)" : tail;
}

RunOutcome judge_run(const std::vector<StressPlan>& plans, const RunResult& result,
                     const std::function<bool(const StressPlan&)>& counts_as_done,
                     const std::optional<Error>& annotation_failure) {
    RunOutcome outcome;
    std::optional<Error> stress_failure;
    for (size_t i = 0; i < plans.size() && i < result.targets.size(); ++i) {
        const Target& target = plans[i].target;
        const TargetOutcome& done = result.targets[i];
        log::info("[Info]: Stress effect", {{"target", target.label}, {"effect", done.summary},
                                            {"exitStatus", std::to_string(done.exit_status)}});
        if (!target.pod.empty()) {
            std::string& effect = outcome.effects[target.pod];
            effect += (effect.empty() ? "" : " | ") + target.container + ": " + done.summary;
        }
        if (result.end != RunEnd::Completed || done.exit_status == 0 || stress_failure) continue;
        if (counts_as_done && counts_as_done(plans[i])) {
            log::info("[Info]: The target container was OOM-killed: memory stress counts as done",
                      {{"target", target.label}});
            continue;
        }
        stress_failure = Error(ErrorCode::ChaosInjectError,
                               "stress-ng exited with status " + std::to_string(done.exit_status) + " in " +
                                   target.label + ": " + last_lines(done.output, 6),
                               target.label);
    }

    auto fail = [&](Error e) {
        outcome.verdict = RunOutcome::Verdict::Failed;
        outcome.error = std::move(e);
        return outcome;
    };
    if (!result.revert_confirmed) {
        std::string which;
        for (const auto& s : result.survivors) which += (which.empty() ? "" : "; ") + s;
        const std::string first = result.survivors.empty() ? "" : result.survivors.front().substr(0, result.survivors.front().find(" ("));
        return fail(Error(ErrorCode::ChaosRevertError,
                          "stress processes survived the revert" + (which.empty() ? "" : " in " + which), first));
    }
    if (result.hook_error) return fail(*result.hook_error);
    if (result.end == RunEnd::Aborted) {
        outcome.verdict = RunOutcome::Verdict::Aborted;
        return outcome;
    }
    if (result.end == RunEnd::TimedOut)
        return fail(Error(ErrorCode::ChaosInjectError, "stress did not finish within TOTAL_CHAOS_DURATION + 30 s; reverted"));
    if (stress_failure) return fail(*stress_failure);
    if (annotation_failure) return fail(*annotation_failure);
    return outcome;
}

} // namespace stress
