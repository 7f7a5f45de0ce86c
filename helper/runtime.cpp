// runtime.cpp — default sockets, the shared error helpers and make_runtime's fallback chain.
#include "runtime.hpp"
#include "unix_http.hpp"

#include "files.hpp"
#include "text.hpp"

#include "log.hpp"

#include <sys/stat.h>

#include <utility>

namespace stress {

namespace runtime_detail {

std::string socket_file(const std::string& socket) {
    constexpr std::string_view scheme = "unix://";
    if (socket.starts_with(scheme)) return socket.substr(scheme.size());
    return socket;
}

void fail(RuntimeFailure failure, const std::string& backend, const std::string& where, const std::string& why) {
    throw RuntimeError(failure, backend + ": " + where + ": " + why);
}

void check_container_id(const std::string& backend, const std::string& where, const std::string& id) {
    if (std::string why = container_id_problem(id); !why.empty())
        fail(RuntimeFailure::NotFound, backend, where, "invalid container id " + quote_value(id) + ": " + why);
}

void check_socket(const std::string& backend, const std::string& socket_path) {
    if (std::string problem = unix_socket_problem(socket_path); !problem.empty())
        fail(RuntimeFailure::Unavailable, backend, "unix://" + socket_path, problem);
}

pid_t inspect_pid_over_http(const std::string& backend, const std::string& socket_path, const std::string& id,
                            const std::string& path, const std::string& unknown_container,
                            const std::function<std::string(const std::string&)>& message_of,
                            const std::function<pid_t(const std::string&)>& parse) {
    const std::string where = "unix://" + socket_path;
    check_container_id(backend, where, id);
    check_socket(backend, socket_path);
    UnixHttpResponse response;
    try {
        response = unix_http_get(socket_path, path);
    } catch (const Error& e) {
        fail(RuntimeFailure::Unavailable, backend, where, e.what());
    }
    const std::string message = response.status == 200 ? std::string() : message_of(response.body);
    if (response.status == 404 && message.find(unknown_container) != std::string::npos)
        fail(RuntimeFailure::NotFound, backend, where, "container " + id + " not found: " + message);
    if (response.status != 200)
        fail(RuntimeFailure::Unavailable, backend, where,
             "GET " + path + ": HTTP " + std::to_string(response.status) + ": " + message);
    try {
        return parse(response.body);
    } catch (const RuntimeError& e) {
        fail(e.failure(), backend, where, "container " + id + ": " + e.what());
    }
}

} // namespace runtime_detail

std::string default_socket(const std::string& runtime) {
    if (runtime == "containerd") return "/run/containerd/containerd.sock";
    if (runtime == "crio") return "/run/crio/crio.sock";
    if (runtime == "docker") return "/run/docker.sock";
    throw Error(ErrorCode::HelperError,
                "CONTAINER_RUNTIME=" + runtime + ": unknown runtime, expected containerd, crio or docker");
}

namespace {

// Native backends in order, then the cgroup scan. A native answer of NotFound/NotRunning is final;
// an Unavailable one passes the question on, and the failures are kept for the warning or the error.
class FallbackBackend final : public RuntimeBackend {
public:
    FallbackBackend(std::string name, std::vector<std::unique_ptr<RuntimeBackend>> natives,
                    std::unique_ptr<RuntimeBackend> scan)
        : name_(std::move(name)), natives_(std::move(natives)), scan_(std::move(scan)) {}

    std::string name() const override { return name_; }

    pid_t container_pid(const std::string& container_id) override {
        std::string native_failures;
        for (auto& backend : natives_) {
            try {
                return backend->container_pid(container_id);
            } catch (const RuntimeError& e) {
                if (e.failure() != RuntimeFailure::Unavailable) throw;
                if (!native_failures.empty()) native_failures += "; ";
                native_failures += e.what();
            }
        }
        try {
            const pid_t pid = scan_->container_pid(container_id);
            log::warn("[Warning]: the " + name_ + " runtime could not be asked, found the container by its cgroup",
                      {{"containerID", container_id}, {"pid", std::to_string(pid)}, {"error", native_failures}});
            return pid;
        } catch (const RuntimeError& e) {
            throw RuntimeError(RuntimeFailure::Unavailable, native_failures + "; fallback " + e.what());
        }
    }

private:
    std::string name_;
    std::vector<std::unique_ptr<RuntimeBackend>> natives_;
    std::unique_ptr<RuntimeBackend> scan_;
};

} // namespace

std::unique_ptr<RuntimeBackend> make_runtime(const RuntimeOptions& options) {
    const std::string socket = options.socket_path.empty() ? default_socket(options.runtime) : options.socket_path;
    std::vector<std::unique_ptr<RuntimeBackend>> natives;
    if (options.runtime == "containerd") {
        natives.push_back(make_containerd_backend(socket, options.containerd_namespace));
    } else if (options.runtime == "docker") {
        natives.push_back(make_docker_backend(socket));
    } else if (options.runtime == "crio") {
        // Litmus asks CRI-O through crictl; do the same when crictl is there, with the HTTP
        // endpoint on crio.sock as the native fallback.
        const std::string crictl = options.crictl_path.empty() ? find_crictl() : options.crictl_path;
        if (!crictl.empty()) natives.push_back(make_crictl_backend(crictl, socket));
        natives.push_back(make_crio_backend(socket));
    } else {
        default_socket(options.runtime); // throws the config error
    }
    return std::make_unique<FallbackBackend>(options.runtime, std::move(natives),
                                             make_cgroup_scan_backend(options.proc_root));
}

} // namespace stress
