// nsexec — enter namespaces and run a command there, leaving nothing behind.
//
// Process tree (why three processes):
//
//   nsexec (outer)           joins the namespaces. setns(CLONE_NEWPID) only moves *children* into the
//     │                      target PID namespace, so the outer process stays outside; it forwards
//     │                      signals to the reaper and exits with the command's status.
//     └─ reaper              first process of ours inside the target PID namespace. It is a child
//          │                 subreaper (PR_SET_CHILD_SUBREAPER): when the command's main process dies
//          │                 before its workers (stress-ng under a group SIGKILL does, measured: 29 of
//          │                 45 runs), the workers are re-parented to the reaper instead of the
//          │                 container's PID 1 — which, for a busybox `sleep`, never reaps them and
//          │                 keeps zombies forever. The reaper reaps every descendant and exits last.
//          └─ command        its own process group inside the target, so signals reach all of it.
//
// With --local the command is exec'd from the caller's filesystem with LD_PRELOAD=libnsenter.so and
// the mount-namespace fd in its environment; the preload's constructor joins the mount namespace
// right after exec and before main (libnsenter.c). Joining a mount namespace needs a single-threaded
// caller (setns(CLONE_NEWNS) fails with EINVAL otherwise); nsexec and a fresh exec are both.
//
// Deliberately C-like: no exceptions past main's parsing, no threads, no allocation after fork
// beyond what execvp does.
#include "nsexec_args.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using nsexec::Ns;

// Exit statuses for failures of nsexec itself (documented in usage_text()).
constexpr int kExitNsexecFailed = 125;
constexpr int kExitCannotExecute = 126;
constexpr int kExitNotFound = 127;

// How long the command gets between the forwarded SIGTERM and SIGKILL.
constexpr long kKillGraceMs = 500;
// During that grace the stop signal is repeated this often, for processes that started after it.
constexpr long kResendMs = 50;

// Environment contract with libnsenter.c.
constexpr const char* kMntFdVar = "__NSEXEC_MNT_FD";
constexpr const char* kSavedPreloadVar = "__NSEXEC_SAVED_LD_PRELOAD";

[[noreturn]] void die(int status, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
void die(int status, const char* fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    dprintf(STDERR_FILENO, "nsexec: %s\n", msg);
    _exit(status);
}

int status_of(int wait_status) {
    if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
    if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
    return kExitNsexecFailed;
}

long now_ms() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

// Waits for one of `set`, up to timeout_ms (< 0: forever). Returns the signal or 0 on timeout.
int wait_signal(const sigset_t& set, long timeout_ms) {
    for (;;) {
        int sig;
        if (timeout_ms < 0) {
            sig = sigwaitinfo(&set, nullptr);
        } else {
            timespec ts{timeout_ms / 1000, (timeout_ms % 1000) * 1000000};
            sig = sigtimedwait(&set, nullptr, &ts);
        }
        if (sig > 0) return sig;
        if (errno == EAGAIN) return 0;
        if (errno != EINTR) die(kExitNsexecFailed, "sigwaitinfo: %s", strerror(errno));
    }
}

// PR_SET_PDEATHSIG, closing the race where the parent died before the prctl. `expected_parent` is
// getppid() as read before: for a child whose parent is outside its PID namespace that is 0.
void die_with_parent(pid_t expected_parent) {
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0) die(kExitNsexecFailed, "prctl(PR_SET_PDEATHSIG): %s", strerror(errno));
    if (getppid() != expected_parent) raise(SIGTERM);
}

// Finds CMD the way execvp would, in the current mount namespace. Returns "" when absent.
std::string find_in_path(const std::string& cmd) {
    if (cmd.find('/') != std::string::npos) return access(cmd.c_str(), F_OK) == 0 ? cmd : "";
    const char* path = getenv("PATH");
    std::string dirs = path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    size_t start = 0;
    for (;;) {
        size_t end = dirs.find(':', start);
        std::string dir = dirs.substr(start, end == std::string::npos ? std::string::npos : end - start);
        std::string candidate = (dir.empty() ? "." : dir) + "/" + cmd;
        struct stat st{};
        if (stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode)) return candidate;
        if (end == std::string::npos) return "";
        start = end + 1;
    }
}

struct OpenNs {
    Ns ns;
    std::string path;
    int fd;
};

// /proc/self/oom_score_adj: read as text ("" when unreadable), written best effort (it needs
// CAP_SYS_RESOURCE to go down; a helper pod has it, a test may not).
std::string read_oom_score_adj() {
    char buf[16] = {};
    int fd = open("/proc/self/oom_score_adj", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return "";
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}
void write_oom_score_adj(const std::string& value) {
    if (value.empty()) return;
    int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    if (fd < 0) return;
    ssize_t ignored = write(fd, value.data(), value.size());
    (void)ignored;
    close(fd);
}

// The command: own process group, default signal state, then exec. Never returns.
[[noreturn]] void exec_command(const nsexec::Args& args, const std::string& library, int mnt_fd,
                               const std::string& mnt_path, const sigset_t& original_mask,
                               const std::string& oom_score_adj) {
    setpgid(0, 0);
    write_oom_score_adj(oom_score_adj); // the command is as killable as we were; only the reaper is not
    // If the reaper is killed outright, the command must not outlive it unnoticed.
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGCHLD}) signal(sig, SIG_DFL);
    sigprocmask(SIG_SETMASK, &original_mask, nullptr);

    if (args.local && mnt_fd >= 0) {
        // The preload joins the mount namespace; the fd must survive exec for it.
        int flags = fcntl(mnt_fd, F_GETFD);
        if (flags < 0 || fcntl(mnt_fd, F_SETFD, flags & ~FD_CLOEXEC) != 0)
            die(kExitNsexecFailed, "fcntl %s: %s", mnt_path.c_str(), strerror(errno));
        std::string preload = library;
        if (const char* old = getenv("LD_PRELOAD"); old && *old) {
            setenv(kSavedPreloadVar, old, 1);
            preload += ":" + std::string(old);
        }
        setenv("LD_PRELOAD", preload.c_str(), 1);
        setenv(kMntFdVar, std::to_string(mnt_fd).c_str(), 1);
    }

    std::vector<char*> argv;
    for (const auto& word : args.command) argv.push_back(const_cast<char*>(word.c_str()));
    argv.push_back(nullptr);
    execvp(argv[0], argv.data());

    int err = errno;
    const char* cmd = argv[0];
    if (err == ENOENT) {
        if (!args.local && !mnt_path.empty()) // the mount namespace was joined: we looked in the target
            die(kExitNotFound,
                "%s: command not found in the target's filesystem (mount namespace %s); "
                "use --local to run the caller's copy",
                cmd, mnt_path.c_str());
        die(kExitNotFound, "%s: command not found", cmd);
    }
    die(kExitCannotExecute, "exec %s: %s", cmd, strerror(err));
}

// The first process of ours in the target PID namespace: runs the command and reaps everything.
[[noreturn]] void run_reaper(const nsexec::Args& args, const std::string& library, int mnt_fd,
                             const std::string& mnt_path, const sigset_t& handled, const sigset_t& original_mask,
                             pid_t parent_as_seen) {
    die_with_parent(parent_as_seen);
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0)
        die(kExitNsexecFailed, "prctl(PR_SET_CHILD_SUBREAPER): %s", strerror(errno));
    // The reaper sits in the target's cgroup, where memory stress drives the OOM killer: were it
    // chosen, its orphans would go to the target's init, which may never reap them (zombies). It is
    // tiny; keep it out of the OOM killer's reach.
    const std::string oom_score_adj = read_oom_score_adj();
    write_oom_score_adj("-1000");

    pid_t command = fork();
    if (command < 0) die(kExitNsexecFailed, "fork: %s", strerror(errno));
    if (command == 0) exec_command(args, library, mnt_fd, mnt_path, original_mask, oom_score_adj);
    setpgid(command, command); // also done by the child; whichever runs first wins the race
    if (mnt_fd >= 0) close(mnt_fd);

    int command_status = -1;
    int stop_signal = 0;     // the signal the command's group is being stopped with; 0 = running
    long kill_deadline = -1; // when SIGKILL goes to the command's group
    long next_resend = -1;   // when the stop signal is sent again
    // SIGCONT follows every stop signal: a stopped process (SIGSTOP, a debugger) would keep the
    // signal pending and never act on it.
    auto start_stopping = [&](int sig) {
        stop_signal = sig;
        kill(-command, sig);
        kill(-command, SIGCONT);
        kill_deadline = now_ms() + kKillGraceMs;
        next_resend = now_ms() + kResendMs;
    };
    for (;;) {
        // Reap whatever has exited: the command, and orphans re-parented to us.
        for (;;) {
            int st;
            pid_t pid = waitpid(-1, &st, WNOHANG);
            if (pid > 0) {
                if (pid == command) command_status = st;
                continue;
            }
            if (pid < 0 && errno == ECHILD) _exit(status_of(command_status));
            break; // 0: children remain
        }
        // The main process is gone but something of its tree lives: stop it like an abort.
        if (command_status != -1 && stop_signal == 0) start_stopping(SIGTERM);

        long timeout = -1;
        if (kill_deadline >= 0) timeout = std::max(0L, std::min(kill_deadline, next_resend) - now_ms());
        int sig = wait_signal(handled, timeout);
        if (sig == 0 && now_ms() >= kill_deadline) {
            kill(-command, SIGKILL);
            kill_deadline = -1;
        } else if (sig == 0) {
            // A worker forked after the first signal (stress-ng still starting up) never saw it.
            kill(-command, stop_signal);
            kill(-command, SIGCONT);
            next_resend = now_ms() + kResendMs;
        } else if (sig != SIGCHLD && stop_signal == 0) {
            start_stopping(sig);
        }
    }
}

} // namespace

#if defined(__SANITIZE_ADDRESS__)
// Sanitizer builds (STRESS_SANITIZE): no LeakSanitizer check at exit. After setns(CLONE_NEWPID) every
// child is born into the target's PID namespace, LSan's tracer thread included, and from there it
// cannot attach to nsexec: the exit would hang. ASan and UBSan still apply.
extern "C" const char* __lsan_default_options() { return "detect_leaks=0"; }
#endif

int main(int argc, char** argv) {
    nsexec::Args args;
    try {
        args = nsexec::parse_args(std::vector<std::string>(argv + 1, argv + argc));
    } catch (const std::invalid_argument& e) {
        dprintf(STDERR_FILENO, "nsexec: %s\nTry 'nsexec --help'.\n", e.what());
        return kExitNsexecFailed;
    }
    if (args.help) {
        fputs(nsexec::usage_text().c_str(), stdout);
        return 0;
    }

    // Our parent going away (the helper SIGKILLed) starts the same orderly shutdown as SIGTERM.
    sigset_t handled, original_mask;
    sigemptyset(&handled);
    for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGCHLD}) sigaddset(&handled, sig);
    sigprocmask(SIG_BLOCK, &handled, &original_mask);
    die_with_parent(getppid());

    // Open every namespace file before joining any: after joining one (mnt above all) a path may
    // resolve differently or not at all.
    std::vector<OpenNs> open_ns;
    int mnt_fd = -1;
    std::string mnt_path;
    for (const auto& req : args.namespaces) {
        int fd = open(req.path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            die(kExitNsexecFailed, "open %s namespace %s: %s", nsexec::ns_name(req.ns), req.path.c_str(),
                strerror(errno));
        open_ns.push_back({req.ns, req.path, fd});
        if (req.ns == Ns::Mnt) {
            mnt_fd = fd;
            mnt_path = req.path;
        }
    }

    std::string library;
    if (args.local) {
        // Checked here so a bad path is our clear error, not the dynamic loader's warning.
        char resolved[PATH_MAX];
        int fd = open(args.library_path.c_str(), O_RDONLY | O_CLOEXEC);
        struct stat st{};
        if (fd < 0 || fstat(fd, &st) != 0 || realpath(args.library_path.c_str(), resolved) == nullptr)
            die(kExitNsexecFailed, "library %s: %s", args.library_path.c_str(), strerror(errno));
        close(fd);
        if (!S_ISREG(st.st_mode)) die(kExitNsexecFailed, "library %s: not a regular file", args.library_path.c_str());
        library = resolved;
        // Found now, in our own filesystem, so "not found" is reported before anything is joined.
        if (find_in_path(args.command[0]).empty())
            die(kExitNotFound, "%s: command not found (with --local it must be in the caller's filesystem)",
                args.command[0].c_str());
    }

    // Join in the fixed order of nsexec::kJoinOrder: mnt last because it changes our root (and with
    // --local it is left to the preload, so the command is loaded from our filesystem).
    for (const auto& ns : open_ns) {
        if (ns.ns == Ns::Mnt && args.local) continue;
        if (setns(ns.fd, nsexec::ns_clone_flag(ns.ns)) != 0)
            die(kExitNsexecFailed, "setns %s namespace %s: %s", nsexec::ns_name(ns.ns), ns.path.c_str(),
                strerror(errno));
        if (ns.fd != mnt_fd) close(ns.fd);
    }
    if (!args.local && mnt_fd >= 0) {
        close(mnt_fd);
        mnt_fd = -1;
    }

    pid_t reaper = fork();
    if (reaper < 0) die(kExitNsexecFailed, "fork: %s", strerror(errno));
    if (reaper == 0) run_reaper(args, library, mnt_fd, mnt_path, handled, original_mask, getppid());
    if (mnt_fd >= 0) close(mnt_fd);

    // Forward stop signals to the reaper (it stops the command's group and escalates), and leave
    // with the command's status once the reaper has reaped everything.
    for (;;) {
        int sig = wait_signal(handled, -1);
        if (sig == SIGCHLD) {
            int st;
            pid_t pid = waitpid(reaper, &st, WNOHANG);
            if (pid == reaper) return status_of(st);
            continue;
        }
        kill(reaper, sig);
    }
}
