#include "error.hpp"

#include <cstring>

namespace stress {

const char* litmus_error_code(ErrorCode code) noexcept {
    switch (code) {
    case ErrorCode::HelperError: return "HELPER_ERROR";
    case ErrorCode::ContainerRuntimeError: return "CONTAINER_RUNTIME_ERROR";
    case ErrorCode::ChaosInjectError: return "CHAOS_INJECT_ERROR";
    case ErrorCode::ChaosRevertError: return "CHAOS_REVERT_ERROR";
    case ErrorCode::ChaosResultCrudError: return "CHAOS_RESULT_CRUD_ERROR";
    case ErrorCode::ExperimentAborted: return "EXPERIMENT_ABORTED";
    case ErrorCode::GenericError: return "GENERIC_ERROR";
    }
    return "GENERIC_ERROR";
}

std::string errno_text(int err) {
    char buf[256];
    // GNU strerror_r returns a pointer that may or may not be buf.
    return ::strerror_r(err, buf, sizeof buf);
}

void throw_sys(ErrorCode code, const std::string& what, int err) {
    throw Error(code, what + ": " + errno_text(err));
}

} // namespace stress
