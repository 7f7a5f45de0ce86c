// runtime_containerd.cpp — containerd: gRPC containerd.services.tasks.v1.Tasks/Get → process.pid,
// on the unix socket, in the namespace given by the "containerd-namespace" metadata (kubelet: k8s.io).
// The messages are protoc's lite classes from Debian's containerd protos (proto/); the call is
// grpc_unix (HTTP/2 with libnghttp2), one connection per lookup.
#include "runtime.hpp"

#include "grpc_unix.hpp"

#include <github.com/containerd/containerd/api/services/tasks/v1/tasks.pb.h>

#include <chrono>

namespace stress {

using runtime_detail::fail;

namespace {

namespace tasks = containerd::services::tasks::v1;
namespace types = containerd::v1::types;

constexpr auto rpc_timeout = std::chrono::seconds(5);
constexpr const char* tasks_get = "/containerd.services.tasks.v1.Tasks/Get";

const char* status_name(types::Status status) {
    switch (status) {
    case types::UNKNOWN: return "UNKNOWN";
    case types::CREATED: return "CREATED";
    case types::RUNNING: return "RUNNING";
    case types::STOPPED: return "STOPPED";
    case types::PAUSED: return "PAUSED";
    case types::PAUSING: return "PAUSING";
    default: return "?";
    }
}

class ContainerdBackend final : public RuntimeBackend {
public:
    ContainerdBackend(const std::string& socket, std::string ns)
        : socket_(runtime_detail::socket_file(socket)), namespace_(std::move(ns)) {}
    std::string name() const override { return "containerd"; }

    pid_t container_pid(const std::string& id) override {
        const std::string where = "unix://" + socket_;
        runtime_detail::check_container_id(name(), where, id);
        runtime_detail::check_socket(name(), socket_);

        tasks::GetRequest get;
        get.set_container_id(id);
        GrpcUnaryRequest request;
        request.socket_path = socket_;
        request.method = tasks_get;
        request.metadata = {{"containerd-namespace", namespace_}};
        request.message = get.SerializeAsString();
        request.timeout = rpc_timeout;

        GrpcUnaryResponse response;
        try {
            response = grpc_unix_call(request);
        } catch (const GrpcTransportError& e) {
            fail(RuntimeFailure::Unavailable, name(), where, "Tasks/Get " + id + ": " + e.why());
        }

        if (response.status == GrpcStatus::NotFound) {
            // containerd says "container \"<id>\" in namespace \"<ns>\": not found" for an unknown
            // container and "task <id> not found" for a known one without a task (created or deleted).
            const std::string& text = response.status_message;
            if (text.starts_with("task ") || text.find("no running task") != std::string::npos)
                fail(RuntimeFailure::NotRunning, name(), where,
                     "container " + id + " in containerd namespace " + namespace_ + " is not running (no task: " +
                         text + ")");
            fail(RuntimeFailure::NotFound, name(), where,
                 "container " + id + " not found in containerd namespace " + namespace_ + " (" + text + ")");
        }
        if (response.status == GrpcStatus::DeadlineExceeded)
            fail(RuntimeFailure::Unavailable, name(), where,
                 "Tasks/Get " + id + ": no answer within " + std::to_string(rpc_timeout.count()) + " s (" +
                     response.status_message + ")");
        if (response.status != GrpcStatus::Ok)
            fail(RuntimeFailure::Unavailable, name(), where,
                 "Tasks/Get " + id + ": gRPC status " + std::to_string(response.status_code) + " " +
                     grpc_status_name(response.status_code) + ": " + response.status_message);

        tasks::GetResponse answer;
        if (!answer.ParseFromString(response.message))
            fail(RuntimeFailure::Unavailable, name(), where,
                 "Tasks/Get " + id + ": the answer (" + std::to_string(response.message.size()) +
                     " bytes) is not a containerd GetResponse");
        const auto& process = answer.process();
        if (process.status() != types::RUNNING || process.pid() == 0)
            fail(RuntimeFailure::NotRunning, name(), where,
                 "container " + id + " in containerd namespace " + namespace_ + " is not running (task status " +
                     status_name(process.status()) + ", pid " + std::to_string(process.pid()) + ")");
        return static_cast<pid_t>(process.pid());
    }

private:
    std::string socket_;
    std::string namespace_;
};

} // namespace

std::unique_ptr<RuntimeBackend> make_containerd_backend(const std::string& socket, const std::string& ns) {
    return std::make_unique<ContainerdBackend>(socket, ns);
}

} // namespace stress
