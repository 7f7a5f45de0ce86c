// process.hpp — PausedChild: a forked child that waits on a pipe before it execs.
//
// Owns: fork, the release pipe, the child's output pipe, its pidfd, and reaping. The parent puts the
// paused child where it must be (the target's cgroups) and then releases it: no fixed sleep, and
// nothing of the command runs before the attach is done.
//
// Lifetime: the destructor of a child that was not yet reaped stops it and reaps it, so an exception
// on the way out never leaves a process behind: a paused child is killed outright (nothing of the
// command ran); a released one gets SIGTERM first — nsexec then stops and reaps the whole stress tree
// inside the target, where a SIGKILL of nsexec's group would orphan it — and SIGKILL only after
// kDestructorGrace.
//
// Threads: fork from the main thread (the one that lives as long as the process). PR_SET_PDEATHSIG
// fires when the parent *thread* exits, so a child forked from a short-lived thread would be killed
// early. The child only calls async-signal-safe functions between fork and exec (async-signal-safety
// is what a child of a possibly multi-threaded process may rely on).
#pragma once

#include "fd.hpp"

#include <signal.h>
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace stress {

// A process's I/O accounting, /proc/PID/io: rchar/wchar are the bytes its read(2)/write(2)-family
// calls moved (page cache or not, any file); write_bytes the bytes it dirtied in the page cache of a
// filesystem that writes back to storage (0 on tmpfs); cancelled_write_bytes those discarded again
// before writeback (a file deleted or truncated). The kernel adds a reaped child's totals to its
// parent's, so an exited nsexec's figures cover the whole stress tree it reaped.
struct IoAccounting {
    uint64_t rchar = 0, wchar = 0, read_bytes = 0, write_bytes = 0, cancelled_write_bytes = 0;
};
// "rchar: 123\nwchar: 45\n…" → numbers; nullopt when rchar or wchar is missing or malformed.
std::optional<IoAccounting> parse_proc_io(std::string_view text);

// From /proc/PID/stat text ("pid (comm) S ppid …"; comm may hold spaces and ')', so the fields are
// read after the last ')'): the state letter and the ppid. nullopt when the text is malformed.
struct ProcStat {
    char state = '?';
    pid_t ppid = 0;
};
std::optional<ProcStat> parse_proc_stat(std::string_view text);

// The first executable regular file NAME in $PATH (the usual default when PATH is unset), or "".
// Empty PATH entries (".", which a root helper should not trust) are skipped.
std::string find_program(const std::string& name);

// Where a child's stderr goes: on the stdout pipe (one stream, as a log reads it) or on a pipe of its
// own (a tool whose stdout is data, e.g. crictl's JSON).
enum class ChildStderr { WithStdout, Separate };

// The one owned child-process type of the helper: every process it starts is one of these.
class PausedChild {
public:
    // Forks a child that: becomes its own process group leader, gets SIGTERM when this process dies
    // (PR_SET_PDEATHSIG), has stdout (and stderr, see ChildStderr) on pipes (take_output(),
    // take_errors()), stdin on /dev/null, and waits until release() — then execv(argv[0], argv)
    // (argv[0] must be a path). If this process closes the pipe without releasing (abandon(),
    // destructor), the child exits 0 without exec'ing. Throws Error naming the failing call.
    explicit PausedChild(const std::vector<std::string>& argv, ChildStderr stderr_to = ChildStderr::WithStdout);
    ~PausedChild();
    PausedChild(PausedChild&& other) noexcept
        : pid_(std::exchange(other.pid_, -1)), pidfd_(std::move(other.pidfd_)), release_(std::move(other.release_)),
          output_(std::move(other.output_)), errors_(std::move(other.errors_)), status_(other.status_),
          released_(other.released_) {}
    PausedChild& operator=(PausedChild&&) = delete;
    PausedChild(const PausedChild&) = delete;

    pid_t pid() const noexcept { return pid_; }
    int pidfd() const noexcept { return pidfd_.get(); }   // readable when the child has exited
    // Moves the read end of the stdout pipe out (for a reader of its own).
    UniqueFd take_output() noexcept { return std::move(output_); }
    // The same for the stderr pipe (ChildStderr::Separate; an empty UniqueFd otherwise).
    UniqueFd take_errors() noexcept { return std::move(errors_); }

    // Lets the child exec. Throws Error when the child is gone already.
    void release();
    // Closes the release pipe without releasing: the paused child exits without running anything.
    void abandon() noexcept { release_.reset(); }

    // Sends sig to the child's process group (the child and everything it started that stayed in it).
    void signal_group(int sig) const noexcept;
    // SIGKILL to the group, and the child is no longer ours to reap: for a child the kernel cannot
    // stop now (in a frozen cgroup a SIGKILL waits for the thaw). Whoever inherits it reaps it.
    void let_go() noexcept {
        signal_group(SIGKILL);
        pid_ = -1;
    }

    // Blocks until the child has exited and is reaped.
    void reap();
    bool reaped() const noexcept { return status_.has_value(); }
    // Exit status as a shell reports it (128+N for a signal). Valid once reaped.
    int exit_status() const;
    // "exit status 1" or "signal 9 (Killed)". Valid once reaped.
    std::string describe_exit() const;
    // The child's I/O accounting including every descendant it reaped. Read it after the child has
    // exited (pidfd readable) and before reap(): a zombie still has its totals. nullopt otherwise.
    std::optional<IoAccounting> io_accounting() const;

private:
    pid_t pid_ = -1;
    UniqueFd pidfd_;
    UniqueFd release_;
    UniqueFd output_;
    UniqueFd errors_;
    std::optional<int> status_; // raw wait status
    bool released_ = false;
};

} // namespace stress
