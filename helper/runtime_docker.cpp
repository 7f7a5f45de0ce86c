// runtime_docker.cpp — docker: Engine API GET /containers/{id}/json on the unix socket → .State.Pid.
#include "runtime.hpp"

#include <nlohmann/json.hpp>

namespace stress {

pid_t parse_docker_inspect_pid(const std::string& json) {
    const auto doc = nlohmann::json::parse(json, nullptr, false);
    if (doc.is_discarded() || !doc.is_object())
        throw RuntimeError(RuntimeFailure::Unavailable, "inspect response is not a JSON object");
    const auto state = doc.find("State");
    if (state == doc.end() || !state->is_object())
        throw RuntimeError(RuntimeFailure::Unavailable, "inspect response has no State object");
    const auto pid = state->find("Pid");
    if (pid == state->end() || !pid->is_number_integer())
        throw RuntimeError(RuntimeFailure::Unavailable, "inspect response has no integer State.Pid");
    const std::string status = state->value("Status", std::string("unknown"));
    // Paused counts as not running: its processes are frozen, stress in its cgroup would be too.
    if (!state->value("Running", false) || state->value("Paused", false) || pid->get<long long>() <= 0)
        throw RuntimeError(RuntimeFailure::NotRunning,
                           "container is not running (State.Status " + status + ", State.Pid " +
                               std::to_string(pid->get<long long>()) + ", State.ExitCode " +
                               std::to_string(state->value("ExitCode", 0)) + ")");
    return static_cast<pid_t>(pid->get<long long>());
}

namespace {

// Docker error bodies are {"message": "..."}; anything else is quoted as is (shortened).
std::string docker_message(const std::string& body) {
    const auto doc = nlohmann::json::parse(body, nullptr, false);
    if (doc.is_object() && doc.contains("message") && doc["message"].is_string()) return doc["message"];
    std::string text = body.substr(0, 200);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    return text;
}

class DockerBackend final : public RuntimeBackend {
public:
    explicit DockerBackend(const std::string& socket) : socket_(runtime_detail::socket_file(socket)) {}
    std::string name() const override { return "docker"; }

    // Only docker's own "No such container" is an answer about the container; any other 404
    // ("page not found") means the socket is not a docker Engine API that knows this path.
    pid_t container_pid(const std::string& id) override {
        return runtime_detail::inspect_pid_over_http(name(), socket_, id, "/containers/" + id + "/json",
                                                     "No such container", docker_message, parse_docker_inspect_pid);
    }

private:
    std::string socket_;
};

} // namespace

std::unique_ptr<RuntimeBackend> make_docker_backend(const std::string& socket) {
    return std::make_unique<DockerBackend>(socket);
}

} // namespace stress
