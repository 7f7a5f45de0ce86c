#include "abort.hpp"

#include <signal.h>

namespace stress {

bool AbortToken::requested() const noexcept {
    if (requested_.load()) return true;
    sigset_t pending;
    if (::sigpending(&pending) != 0) return false;
    return sigismember(&pending, SIGTERM) == 1 || sigismember(&pending, SIGINT) == 1;
}

} // namespace stress
