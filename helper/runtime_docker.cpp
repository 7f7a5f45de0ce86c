// runtime_docker.cpp — docker: Engine API GET /containers/{id}/json on the unix socket → .State.Pid.
#include "runtime.hpp"
#include "unix_http.hpp"

#include <nlohmann/json.hpp>

namespace stress {

using runtime_detail::fail;

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

    pid_t container_pid(const std::string& id) override {
        const std::string where = "unix://" + socket_;
        runtime_detail::check_container_id(name(), where, id);
        runtime_detail::check_socket(name(), socket_);
        UnixHttpResponse response;
        try {
            response = unix_http_get(socket_, "/containers/" + id + "/json");
        } catch (const Error& e) {
            fail(RuntimeFailure::Unavailable, name(), where, e.what());
        }
        // Only docker's own "No such container" is an answer about the container; any other 404
        // ("page not found") means the socket is not a docker Engine API that knows this path.
        if (response.status == 404 && docker_message(response.body).rfind("No such container", 0) == 0)
            fail(RuntimeFailure::NotFound, name(), where,
                 "container " + id + " not found: " + docker_message(response.body));
        if (response.status != 200)
            fail(RuntimeFailure::Unavailable, name(), where,
                 "GET /containers/" + id + "/json: HTTP " + std::to_string(response.status) + ": " +
                     docker_message(response.body));
        try {
            return parse_docker_inspect_pid(response.body);
        } catch (const RuntimeError& e) {
            fail(e.failure(), name(), where, "container " + id + ": " + e.what());
        }
    }

private:
    std::string socket_;
};

} // namespace

std::unique_ptr<RuntimeBackend> make_docker_backend(const std::string& socket) {
    return std::make_unique<DockerBackend>(socket);
}

} // namespace stress
