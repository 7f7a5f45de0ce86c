// runtime_crictl.cpp — crictl: `crictl -i unix://SOCK -r unix://SOCK inspect ID` → .pid / .info.pid,
// as Litmus does for CRI-O. Started from an argv vector as a PausedChild (the helper's one owned
// child-process type), stdout and stderr captured apart, bounded by a timeout.
#include "runtime.hpp"

#include "fd.hpp"
#include "process.hpp"

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>

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
    std::string exit;   // "exit status 0", "signal 9 (Killed)"
    bool ok = false;    // exit status 0
    std::string out;
    std::string err;
};

// Runs argv to completion with stdin /dev/null (a PausedChild released at once: its own process
// group, SIGTERM if the helper dies, reaped by its destructor on every way out). Kills it and
// throws when `timeout` passes.
Captured run_captured(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
    PausedChild child(argv, ChildStderr::Separate);
    child.release();
    const UniqueFd out = child.take_output(), err = child.take_errors();
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    auto left_ms = [&] {
        return std::max<long long>(
            0, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count());
    };
    auto kill_and_throw = [&](const std::string& what) {
        child.signal_group(SIGKILL);
        child.reap();
        throw Error(ErrorCode::ContainerRuntimeError,
                    argv[0] + ": " + what + " within " + std::to_string(timeout.count()) + " ms, killed");
    };

    Captured result;
    bool out_open = true, err_open = true;
    char buf[65536];
    while (out_open || err_open) {
        if (left_ms() == 0) kill_and_throw("no answer");
        pollfd fds[2] = {{out_open ? out.get() : -1, POLLIN, 0}, {err_open ? err.get() : -1, POLLIN, 0}};
        const int n = ::poll(fds, 2, static_cast<int>(left_ms()));
        if (n < 0 && errno != EINTR) throw_sys(ErrorCode::ContainerRuntimeError, "poll");
        for (int i = 0; i < 2 && n > 0; ++i) {
            if (fds[i].fd < 0 || fds[i].revents == 0) continue;
            const ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
            if (got > 0)
                (i == 0 ? result.out : result.err).append(buf, static_cast<std::size_t>(got));
            else if (got == 0 || errno != EINTR)
                (i == 0 ? out_open : err_open) = false;
        }
    }
    // Both pipes are closed, so the child is normally exiting; its pidfd bounds the wait for one
    // that closed them and hangs.
    pollfd exited{child.pidfd(), POLLIN, 0};
    const int n = retry_on_eintr([&] { return ::poll(&exited, 1, static_cast<int>(left_ms())); });
    if (n == 0) kill_and_throw("did not exit");
    child.reap();
    result.exit = child.describe_exit();
    result.ok = child.exit_status() == 0;
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
        if (!run.ok) {
            const std::string why = crictl_ + " inspect " + id + " failed (" + run.exit + "): " + last_line(run.err);
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
