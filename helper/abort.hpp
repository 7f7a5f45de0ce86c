// abort.hpp — AbortToken: "the chaos is being aborted" (SIGTERM or SIGINT: Litmus deletes the helper
// pod). One token per run, made by main and handed to the two parties that must know: the stress run
// (it reverts) and the Kubernetes client (it stops retrying, so that an abort is never held up by the
// STATUS_CHECK_TIMEOUT budget). Part of the utility floor: depends on nothing else in the project.
#pragma once

#include <atomic>

namespace stress {

class AbortToken {
public:
    // True once request() was called, and also while SIGTERM or SIGINT is pending for this process:
    // the stress run holds them blocked while its hooks make API calls (its loop handles them after),
    // and a retry loop inside those calls must see the abort meanwhile. Async-signal-safe.
    bool requested() const noexcept;
    void request() noexcept { requested_.store(true); }

private:
    std::atomic<bool> requested_{false};
};

} // namespace stress
