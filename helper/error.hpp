// error.hpp — the one error type of the helper, and how messages are built.
//
// Convention (docs/architecture.md, "Conventions"): a failure message is built where it happens and names the syscall,
// the path or pid and the errno text ("open /proc/42/ns/pid: No such file or directory").
// Callers add context on the outside by catching and rethrowing with a prefix.
// Modules throw `Error`; main catches once, logs, maps `code` to a Litmus errorCode and exits 1.
#pragma once

#include <cerrno>
#include <stdexcept>
#include <string>

namespace stress {

// The Litmus errorCode values (docs/litmus-contract.md §7), written to ChaosResult.status.experimentStatus.errorOutput.
enum class ErrorCode {
    HelperError,           // HELPER_ERROR: bad configuration, missing parts, our own failures
    ContainerRuntimeError, // CONTAINER_RUNTIME_ERROR: runtime socket/API, container not running
    ChaosInjectError,      // CHAOS_INJECT_ERROR: starting the stress failed or it exited non-zero
    ChaosRevertError,      // CHAOS_REVERT_ERROR: a stress process could not be stopped
    ChaosResultCrudError,  // CHAOS_RESULT_CRUD_ERROR: reading/writing the ChaosResult failed
    ExperimentAborted,     // EXPERIMENT_ABORTED: SIGTERM/SIGINT
    GenericError,          // GENERIC_ERROR
};

// "HELPER_ERROR", "CONTAINER_RUNTIME_ERROR", ...
const char* litmus_error_code(ErrorCode code) noexcept;

class Error : public std::runtime_error {
public:
    Error(ErrorCode code, const std::string& message, std::string target = {})
        : std::runtime_error(message), code_(code), target_(std::move(target)) {}

    ErrorCode code() const noexcept { return code_; }
    // The target this error is about, as Litmus prints it: "{podName: p, namespace: n, container: c}".
    // Empty when the error is not about one target.
    const std::string& target() const noexcept { return target_; }

private:
    ErrorCode code_;
    std::string target_;
};

// A bad configuration value (environment, flags, kubeconfig): HELPER_ERROR; the message names the
// variable, the value (quote_value) and what was expected.
class ConfigError : public Error {
public:
    explicit ConfigError(const std::string& message) : Error(ErrorCode::HelperError, message) {}
};

// strerror(err) as a std::string, thread-safe.
std::string errno_text(int err);

// Error for a failed syscall: "<what>: <strerror(err)>", e.g. what = "open /proc/42/ns/pid".
// Reads errno unless err is given.
[[noreturn]] void throw_sys(ErrorCode code, const std::string& what, int err = errno);

} // namespace stress
