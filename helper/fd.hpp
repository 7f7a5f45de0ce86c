// fd.hpp — UniqueFd: a move-only owner of one file descriptor (closes it on destruction).
// Make it on the line of the syscall: `UniqueFd fd{::open(path, O_RDONLY | O_CLOEXEC)};`
#pragma once

#include <unistd.h>

#include <cerrno>
#include <utility>

namespace stress {

class UniqueFd {
public:
    UniqueFd() noexcept = default;
    explicit UniqueFd(int fd) noexcept : fd_(fd) {}
    UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
    UniqueFd& operator=(UniqueFd&& other) noexcept {
        if (this != &other) reset(other.release());
        return *this;
    }
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    ~UniqueFd() { reset(); }

    int get() const noexcept { return fd_; }
    bool valid() const noexcept { return fd_ >= 0; }
    explicit operator bool() const noexcept { return valid(); }

    // Gives up ownership without closing.
    int release() noexcept { return std::exchange(fd_, -1); }
    void reset(int fd = -1) noexcept {
        if (fd_ >= 0) ::close(fd_);
        fd_ = fd;
    }

private:
    int fd_ = -1;
};

// Calls f() again while it fails with EINTR (a signal arrived before anything was done); returns
// its last result. For the syscalls that return -1 and set errno. Async-signal-safe.
template <class F>
auto retry_on_eintr(F&& f) {
    auto result = f();
    while (result < 0 && errno == EINTR) result = f();
    return result;
}

} // namespace stress
