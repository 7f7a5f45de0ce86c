// runtime_containerd.cpp — containerd: gRPC containerd.services.tasks.v1.Tasks/Get → process.pid,
// on the unix socket, in the namespace given by the "containerd-namespace" metadata (kubelet: k8s.io).
#include "runtime.hpp"

#include <github.com/containerd/containerd/api/services/tasks/v1/tasks.grpc.pb.h>
#include <grpcpp/grpcpp.h>

#include <chrono>

namespace stress {

using runtime_detail::fail;

namespace {

namespace tasks = containerd::services::tasks::v1;
namespace types = containerd::v1::types;

constexpr auto rpc_timeout = std::chrono::seconds(5);

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
        // The channel (and with it gRPC's threads) exists only from the first lookup to the
        // backend's destruction.
        if (!stub_) stub_ = tasks::Tasks::NewStub(grpc::CreateChannel(where, grpc::InsecureChannelCredentials()));

        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() + rpc_timeout);
        context.AddMetadata("containerd-namespace", namespace_);
        tasks::GetRequest request;
        request.set_container_id(id);
        tasks::GetResponse response;
        const grpc::Status status = stub_->Get(&context, request, &response);

        if (status.error_code() == grpc::StatusCode::NOT_FOUND) {
            // containerd says "container \"<id>\" in namespace \"<ns>\": not found" for an unknown
            // container and "task <id> not found" for a known one without a task (created or deleted).
            if (status.error_message().rfind("task ", 0) == 0 ||
                status.error_message().find("no running task") != std::string::npos)
                fail(RuntimeFailure::NotRunning, name(), where,
                     "container " + id + " in containerd namespace " + namespace_ +
                         " is not running (no task: " + status.error_message() + ")");
            fail(RuntimeFailure::NotFound, name(), where,
                 "container " + id + " not found in containerd namespace " + namespace_ + " (" +
                     status.error_message() + ")");
        }
        if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED)
            fail(RuntimeFailure::Unavailable, name(), where,
                 "Tasks/Get " + id + ": no answer within " + std::to_string(rpc_timeout.count()) + " s");
        if (!status.ok())
            fail(RuntimeFailure::Unavailable, name(), where,
                 "Tasks/Get " + id + ": gRPC status " + std::to_string(static_cast<int>(status.error_code())) +
                     ": " + status.error_message());

        const auto& process = response.process();
        if (process.status() != types::RUNNING || process.pid() == 0)
            fail(RuntimeFailure::NotRunning, name(), where,
                 "container " + id + " in containerd namespace " + namespace_ + " is not running (task status " +
                     status_name(process.status()) + ", pid " + std::to_string(process.pid()) + ")");
        return static_cast<pid_t>(process.pid());
    }

private:
    std::string socket_;
    std::string namespace_;
    std::unique_ptr<tasks::Tasks::Stub> stub_;
};

} // namespace

std::unique_ptr<RuntimeBackend> make_containerd_backend(const std::string& socket, const std::string& ns) {
    return std::make_unique<ContainerdBackend>(socket, ns);
}

} // namespace stress
