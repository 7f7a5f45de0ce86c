// runtime_crictl.cpp — crictl: `crictl -i unix://SOCK -r unix://SOCK inspect ID` → .pid / .info.pid,
// as Litmus does for CRI-O. Started from an argv vector with posix_spawn (safe in a multi-threaded
// process, unlike fork+exec of arbitrary code), stdout/stderr captured, bounded by a timeout.
#include "runtime.hpp"

#include "fd.hpp"
#include "process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>

extern char** environ;

namespace stress {

using runtime_detail::fail;

pid_t parse_crictl_inspect_pid(const std::string& json) {
    const auto doc = nlohmann::json::parse(json, nullptr, false);
    if (doc.is_discarded() || !doc.is_object())
        throw RuntimeError(RuntimeFailure::Unavailable, "crictl inspect output is not a JSON object");
    // containerd keeps info.pid of an exited container, so the state decides first.
    if (const auto status = doc.find("status"); status != doc.end() && status->is_object()) {
        if (const auto state = status->find("state"); state != status->end() && state->is_string() &&
                                                       state->get<std::string>() != "CONTAINER_RUNNING")
            throw RuntimeError(RuntimeFailure::NotRunning,
                               "container is not running (status.state " + state->get<std::string>() + ")");
    }
    const nlohmann::json* pid = nullptr;
    if (const auto top = doc.find("pid"); top != doc.end()) {
        pid = &*top;
    } else if (const auto info = doc.find("info"); info != doc.end() && info->is_object()) {
        if (const auto inner = info->find("pid"); inner != info->end()) pid = &*inner;
    }
    if (pid == nullptr || !pid->is_number_integer())
        throw RuntimeError(RuntimeFailure::Unavailable, "crictl inspect output has no integer pid or info.pid");
    if (pid->get<long long>() <= 0)
        throw RuntimeError(RuntimeFailure::NotRunning,
                           "container is not running (pid " + std::to_string(pid->get<long long>()) + ")");
    return static_cast<pid_t>(pid->get<long long>());
}

std::string find_crictl() { return find_program("crictl"); }

namespace {

struct Captured {
    int wait_status = 0;
    std::string out;
    std::string err;
};

// Runs argv to completion with stdin /dev/null; kills it (SIGKILL) and throws when `timeout` passes.
Captured run_captured(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
    int out_pipe[2];
    int err_pipe[2];
    if (::pipe2(out_pipe, O_CLOEXEC) != 0) throw_sys(ErrorCode::ContainerRuntimeError, "pipe2");
    UniqueFd out_read{out_pipe[0]}, out_write{out_pipe[1]};
    if (::pipe2(err_pipe, O_CLOEXEC) != 0) throw_sys(ErrorCode::ContainerRuntimeError, "pipe2");
    UniqueFd err_read{err_pipe[0]}, err_write{err_pipe[1]};

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, out_write.get(), 1);
    posix_spawn_file_actions_adddup2(&actions, err_write.get(), 2);
    // The helper may block or catch signals (its Asio loop); the child starts with a clean slate.
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t empty, all;
    sigemptyset(&empty);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &empty);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t pid = 0;
    const int rc = ::posix_spawn(&pid, argv[0].c_str(), &actions, &attr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) throw_sys(ErrorCode::ContainerRuntimeError, "posix_spawn " + argv[0], rc);
    out_write.reset();
    err_write.reset();

    const auto deadline = std::chrono::steady_clock::now() + timeout;
    Captured result;
    bool out_open = true, err_open = true;
    char buf[65536];
    while (out_open || err_open) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
            throw Error(ErrorCode::ContainerRuntimeError,
                        argv[0] + ": no answer within " + std::to_string(timeout.count()) + " ms, killed");
        }
        pollfd fds[2] = {{out_open ? out_read.get() : -1, POLLIN, 0}, {err_open ? err_read.get() : -1, POLLIN, 0}};
        const int n = ::poll(fds, 2, static_cast<int>(left.count()));
        if (n < 0 && errno != EINTR) {
            const int err = errno;
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
            throw_sys(ErrorCode::ContainerRuntimeError, "poll", err);
        }
        for (int i = 0; i < 2 && n > 0; ++i) {
            if (fds[i].fd < 0 || fds[i].revents == 0) continue;
            const ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
            if (got > 0) {
                (i == 0 ? result.out : result.err).append(buf, static_cast<std::size_t>(got));
            } else if (got == 0 || errno != EINTR) {
                (i == 0 ? out_open : err_open) = false;
            }
        }
    }
    // Both pipes are closed, so the child is normally exiting; a pidfd bounds the wait for one that
    // closed them and hangs (pidfd_open: Linux 5.3; without it, wait unbounded).
    UniqueFd pidfd{static_cast<int>(::syscall(SYS_pidfd_open, pid, 0))};
    if (pidfd) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        pollfd pfd{pidfd.get(), POLLIN, 0};
        int n = 0;
        do {
            n = ::poll(&pfd, 1, static_cast<int>(std::max<long long>(0, left.count())));
        } while (n < 0 && errno == EINTR);
        if (n == 0) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
            throw Error(ErrorCode::ContainerRuntimeError,
                        argv[0] + ": did not exit within " + std::to_string(timeout.count()) + " ms, killed");
        }
    }
    while (::waitpid(pid, &result.wait_status, 0) < 0) {
        if (errno != EINTR) throw_sys(ErrorCode::ContainerRuntimeError, "waitpid " + std::to_string(pid));
    }
    return result;
}

std::string last_line(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
    const auto nl = text.rfind('\n');
    if (nl != std::string::npos) text.erase(0, nl + 1);
    return text;
}

class CrictlBackend final : public RuntimeBackend {
public:
    CrictlBackend(std::string crictl, const std::string& socket)
        : crictl_(std::move(crictl)), socket_(runtime_detail::socket_file(socket)) {}
    std::string name() const override { return "crictl"; }

    pid_t container_pid(const std::string& id) override {
        const std::string where = "unix://" + socket_;
        runtime_detail::check_container_id(name(), where, id);
        runtime_detail::check_socket(name(), socket_);
        Captured run;
        try {
            run = run_captured({crictl_, "-i", where, "-r", where, "inspect", id}, std::chrono::seconds(10));
        } catch (const Error& e) {
            fail(RuntimeFailure::Unavailable, name(), where, e.what());
        }
        if (!WIFEXITED(run.wait_status) || WEXITSTATUS(run.wait_status) != 0) {
            const std::string how = WIFEXITED(run.wait_status)
                                        ? "exit status " + std::to_string(WEXITSTATUS(run.wait_status))
                                        : "signal " + std::to_string(WTERMSIG(run.wait_status));
            const std::string why = crictl_ + " inspect " + id + " failed (" + how + "): " + last_line(run.err);
            // crictl relays the CRI status: "rpc error: code = NotFound desc = ...".
            fail(run.err.find("code = NotFound") != std::string::npos ? RuntimeFailure::NotFound
                                                                      : RuntimeFailure::Unavailable,
                 name(), where, why);
        }
        try {
            return parse_crictl_inspect_pid(run.out);
        } catch (const RuntimeError& e) {
            fail(e.failure(), name(), where, "container " + id + ": " + e.what());
        }
    }

private:
    std::string crictl_;
    std::string socket_;
};

} // namespace

std::unique_ptr<RuntimeBackend> make_crictl_backend(const std::string& crictl_path, const std::string& socket) {
    return std::make_unique<CrictlBackend>(crictl_path, socket);
}

} // namespace stress
