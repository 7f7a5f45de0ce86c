// report.hpp — the report step: from what the run did (RunResult) to the run's outcome.
//
// Owns: the per-target effect lines (logged, and grouped per pod for the ChaosResult's
// stress-effect/<pod> annotation), the rule that an OOM-killed target counts as done for memory
// stress, and which failure decides the run when several happened. Touches nothing: main.cpp
// writes what it returns to Kubernetes and turns it into the exit status.
#pragma once

#include "error.hpp"
#include "inject.hpp"

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace stress {

struct RunOutcome {
    // Aborted: SIGTERM/SIGINT reverted everything; exit 1, no errorOutput (the pod is being deleted).
    enum class Verdict { Succeeded, Aborted, Failed } verdict = Verdict::Succeeded;
    std::optional<Error> error;                 // why, when Failed
    std::map<std::string, std::string> effects; // pod → "container: effect | container: effect"
};

// Decides the run. When several things went wrong, the first of these wins (the order is the
// contract: the most serious, and the one a user must act on first):
//   1. a stress process group survived the revert              (CHAOS_REVERT_ERROR)
//   2. a hook failed: the injection could not be recorded      (its own code)
//   3. SIGTERM/SIGINT                                          (Aborted, no error)
//   4. the run outlived TOTAL_CHAOS_DURATION + 30 s            (CHAOS_INJECT_ERROR)
//   5. the first target whose stress-ng exited non-zero         (CHAOS_INJECT_ERROR), unless
//      `counts_as_done(plan)` says its container was OOM-killed (asked only for such targets)
//   6. a "reverted" annotation that could not be written       (`annotation_failure`)
RunOutcome judge_run(const std::vector<StressPlan>& plans, const RunResult& result,
                     const std::function<bool(const StressPlan&)>& counts_as_done,
                     const std::optional<Error>& annotation_failure);

// The last `n` lines of `text` ("(no output)" when there are none): what a failed stress-ng said.
std::string last_lines(const std::string& text, int n);

} // namespace stress
