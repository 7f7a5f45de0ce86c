// runtime_crio.cpp — CRI-O: its HTTP info endpoint on crio.sock, GET /containers/{id} → .pid
// (the endpoint `crio-status` and Litmus-era tooling use; it shares the socket with the CRI gRPC API).
#include "runtime.hpp"

#include <nlohmann/json.hpp>

namespace stress {

pid_t parse_crio_inspect_pid(const std::string& json) {
    const auto doc = nlohmann::json::parse(json, nullptr, false);
    if (doc.is_discarded() || !doc.is_object())
        throw RuntimeError(RuntimeFailure::Unavailable, "container info is not a JSON object");
    const auto pid = doc.find("pid");
    if (pid == doc.end() || !pid->is_number_integer())
        throw RuntimeError(RuntimeFailure::Unavailable, "container info has no integer pid");
    // CRI-O reports pid 0 (or -1 in some versions) for a container whose process is gone.
    if (pid->get<long long>() <= 0)
        throw RuntimeError(RuntimeFailure::NotRunning,
                           "container is not running (pid " + std::to_string(pid->get<long long>()) + ")");
    return static_cast<pid_t>(pid->get<long long>());
}

namespace {

std::string first_line(const std::string& text) {
    std::string line = text.substr(0, text.find('\n'));
    if (line.size() > 200) line.resize(200);
    return line;
}

class CrioBackend final : public RuntimeBackend {
public:
    explicit CrioBackend(const std::string& socket) : socket_(runtime_detail::socket_file(socket)) {}
    std::string name() const override { return "crio"; }

    // server/inspect.go answers an unknown id with 404 "can't find the container with id <id>";
    // any other 404 means the socket is not CRI-O's (or its info endpoint is gone).
    pid_t container_pid(const std::string& id) override {
        return runtime_detail::inspect_pid_over_http(name(), socket_, id, "/containers/" + id,
                                                     "can't find the container", first_line, parse_crio_inspect_pid);
    }

private:
    std::string socket_;
};

} // namespace

std::unique_ptr<RuntimeBackend> make_crio_backend(const std::string& socket) {
    return std::make_unique<CrioBackend>(socket);
}

} // namespace stress
