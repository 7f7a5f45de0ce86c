#include "process.hpp"

#include "error.hpp"
#include "files.hpp"
#include "text.hpp"

#include <fcntl.h>
#include <signal.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cstdlib>
#include <cstring>

namespace stress {
namespace {

// nsexec escalates to SIGKILL itself 500 ms after SIGTERM; this leaves it room to reap.
constexpr std::chrono::milliseconds kDestructorGrace{2000};

// Between fork and exec only async-signal-safe calls: write the failure and leave.
[[noreturn]] void child_fail(const char* what) {
    int err = errno;
    const char* text = strerror(err); // glibc's strerror is safe enough here: no locale switch
    const char* parts[] = {"helpers: paused child: ", what, ": ", text, "\n"};
    for (const char* p : parts) {
        ssize_t ignored = ::write(STDERR_FILENO, p, strlen(p));
        (void)ignored;
    }
    _exit(125);
}

int open_pidfd(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

} // namespace

PausedChild::PausedChild(const std::vector<std::string>& argv, ChildStderr stderr_to) {
    if (argv.empty()) throw Error(ErrorCode::HelperError, "PausedChild: empty argv");
    // Everything the child needs is prepared before fork: no allocation after it.
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);

    int release_pipe[2];
    if (::pipe2(release_pipe, O_CLOEXEC) != 0) throw_sys(ErrorCode::ChaosInjectError, "pipe2");
    UniqueFd release_read{release_pipe[0]};
    release_ = UniqueFd{release_pipe[1]};
    int output_pipe[2];
    if (::pipe2(output_pipe, O_CLOEXEC) != 0) throw_sys(ErrorCode::ChaosInjectError, "pipe2");
    UniqueFd output_write{output_pipe[1]};
    output_ = UniqueFd{output_pipe[0]};
    UniqueFd errors_write;
    if (stderr_to == ChildStderr::Separate) {
        int errors_pipe[2];
        if (::pipe2(errors_pipe, O_CLOEXEC) != 0) throw_sys(ErrorCode::ChaosInjectError, "pipe2");
        errors_write = UniqueFd{errors_pipe[1]};
        errors_ = UniqueFd{errors_pipe[0]};
    }
    const int stderr_fd = errors_write ? errors_write.get() : output_write.get();
    UniqueFd dev_null{::open("/dev/null", O_RDONLY | O_CLOEXEC)};
    if (!dev_null) throw_sys(ErrorCode::ChaosInjectError, "open /dev/null");

    pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid < 0) throw_sys(ErrorCode::ChaosInjectError, "fork");
    if (pid == 0) {
        if (::setpgid(0, 0) != 0) child_fail("setpgid");
        if (::prctl(PR_SET_PDEATHSIG, SIGTERM) != 0) child_fail("prctl(PR_SET_PDEATHSIG)");
        if (::getppid() != parent) _exit(0); // the helper died before the prctl
        // Signals the helper handles through asio must be default again in the child.
        struct sigaction dfl{};
        dfl.sa_handler = SIG_DFL;
        for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGCHLD, SIGPIPE}) ::sigaction(sig, &dfl, nullptr);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        if (::dup2(dev_null.get(), STDIN_FILENO) < 0 || ::dup2(output_write.get(), STDOUT_FILENO) < 0 ||
            ::dup2(stderr_fd, STDERR_FILENO) < 0)
            child_fail("dup2");
        ::close(release_pipe[1]);
        char go = 0;
        const ssize_t n = retry_on_eintr([&] { return ::read(release_read.get(), &go, 1); });
        if (n != 1) _exit(0); // abandoned: the parent closed the pipe without releasing us
        ::execv(args[0], args.data());
        child_fail(args[0]);
    }
    pid_ = pid;
    pidfd_ = UniqueFd{open_pidfd(pid)};
    if (!pidfd_) {
        int err = errno;
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
        throw_sys(ErrorCode::ChaosInjectError, "pidfd_open " + std::to_string(pid), err);
    }
    ::setpgid(pid, pid); // the child does it too; whichever runs first
}

PausedChild::~PausedChild() {
    if (pid_ <= 0 || status_) return;
    release_.reset();
    if (released_) {
        signal_group(SIGTERM);
        pollfd exited{pidfd_.get(), POLLIN, 0};
        retry_on_eintr([&] { return ::poll(&exited, 1, static_cast<int>(kDestructorGrace.count())); });
    }
    signal_group(SIGKILL);
    reap();
}

void PausedChild::release() {
    char go = 1;
    const ssize_t n = retry_on_eintr([&] { return ::write(release_.get(), &go, 1); });
    int err = errno;
    release_.reset();
    released_ = n == 1;
    if (n != 1) throw_sys(ErrorCode::ChaosInjectError, "release paused child " + std::to_string(pid_), err);
}

void PausedChild::signal_group(int sig) const noexcept {
    if (pid_ > 0 && !status_) ::kill(-pid_, sig);
}

void PausedChild::reap() {
    if (status_) return;
    int st = 0;
    const pid_t r = retry_on_eintr([&] { return ::waitpid(pid_, &st, 0); });
    status_ = r == pid_ ? st : (W_EXITCODE(125, 0));
}

std::string PausedChild::describe_exit() const {
    if (status_ && WIFSIGNALED(*status_))
        return "signal " + std::to_string(WTERMSIG(*status_)) + " (" + strsignal(WTERMSIG(*status_)) + ")";
    return "exit status " + std::to_string(exit_status());
}

int PausedChild::exit_status() const {
    if (!status_) return -1;
    if (WIFEXITED(*status_)) return WEXITSTATUS(*status_);
    if (WIFSIGNALED(*status_)) return 128 + WTERMSIG(*status_);
    return -1;
}

std::optional<IoAccounting> PausedChild::io_accounting() const {
    if (pid_ <= 0 || status_) return std::nullopt;
    auto text = read_text("/proc/" + std::to_string(pid_) + "/io");
    return text ? parse_proc_io(*text) : std::nullopt;
}

std::optional<IoAccounting> parse_proc_io(std::string_view text) {
    IoAccounting io;
    bool have_rchar = false, have_wchar = false;
    while (!text.empty()) {
        size_t nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
        size_t colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        std::string_view key = line.substr(0, colon), value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        uint64_t n = 0;
        auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
        if (ec != std::errc{} || end != value.data() + value.size()) {
            if (key == "rchar" || key == "wchar") return std::nullopt;
            continue;
        }
        if (key == "rchar") io.rchar = n, have_rchar = true;
        else if (key == "wchar") io.wchar = n, have_wchar = true;
        else if (key == "read_bytes") io.read_bytes = n;
        else if (key == "write_bytes") io.write_bytes = n;
        else if (key == "cancelled_write_bytes") io.cancelled_write_bytes = n;
    }
    if (!have_rchar || !have_wchar) return std::nullopt;
    return io;
}

std::optional<ProcStat> parse_proc_stat(std::string_view text) {
    const size_t close = text.rfind(')');
    if (close == std::string_view::npos || close + 4 > text.size() || text[close + 1] != ' ') return std::nullopt;
    std::string_view rest = text.substr(close + 2); // "S ppid …"
    if (rest.size() < 3 || rest[1] != ' ') return std::nullopt;
    ProcStat stat;
    stat.state = rest[0];
    rest.remove_prefix(2);
    const std::string_view ppid = rest.substr(0, rest.find(' '));
    auto [end, ec] = std::from_chars(ppid.data(), ppid.data() + ppid.size(), stat.ppid);
    if (ppid.empty() || ec != std::errc{} || end != ppid.data() + ppid.size() || stat.ppid < 0) return std::nullopt;
    return stat;
}

std::string find_program(const std::string& name) {
    const char* path = std::getenv("PATH");
    for (std::string_view dir : split(path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", ':')) {
        if (dir.empty()) continue;
        std::string candidate = std::string(dir) + "/" + name;
        if (is_executable_file(candidate)) return candidate;
    }
    return {};
}

} // namespace stress
