// runtime.hpp — container ID → PID of the container's init process, one class per backend
// behind one interface (DESIGN "Native clients first, CLIs as fallbacks").
//
// Backends: containerd (gRPC Tasks API), docker (Engine API on the unix socket), crio (HTTP info
// endpoint on crio.sock), crictl (CLI, when a crictl binary is present), cgroup-scan (/proc/*/cgroup).
// Every failure is an Error(ContainerRuntimeError) that names the backend, the socket and why,
// e.g. "containerd: unix:///run/containerd/containerd.sock: container abc… not found in namespace k8s.io".
#pragma once

#include "error.hpp"

#include <sys/types.h>

#include <memory>
#include <string>

namespace stress {

class RuntimeBackend {
public:
    virtual ~RuntimeBackend() = default;
    // "containerd", "docker", "crio", "crictl", "cgroup-scan"
    virtual std::string name() const = 0;
    // PID (in the host PID namespace as seen by this process) of the container's init process.
    // Throws Error(ContainerRuntimeError) when the container is unknown, not running (pid 0) or the call fails.
    virtual pid_t container_pid(const std::string& container_id) = 0;
};

struct RuntimeOptions {
    std::string runtime = "containerd";    // CONTAINER_RUNTIME: containerd | crio | docker
    std::string socket_path;               // "" = the runtime's default socket
    std::string containerd_namespace = "k8s.io";
    std::string proc_root = "/proc";       // for the cgroup scan
};

// The runtime's default socket: /run/containerd/containerd.sock, /run/crio/crio.sock, /run/docker.sock.
std::string default_socket(const std::string& runtime);

// The native backend for options.runtime, with the cgroup scan as last resort: when the native call
// fails for a reason other than "container not found / not running", the scan is tried and a warning
// logged; when both fail, the error names both. Throws Error(HelperError) for an unknown runtime.
std::unique_ptr<RuntimeBackend> make_runtime(const RuntimeOptions& options);

// Individual backends (tests use them directly).
std::unique_ptr<RuntimeBackend> make_containerd_backend(const std::string& socket, const std::string& ns);
std::unique_ptr<RuntimeBackend> make_docker_backend(const std::string& socket);
std::unique_ptr<RuntimeBackend> make_crio_backend(const std::string& socket);
std::unique_ptr<RuntimeBackend> make_crictl_backend(const std::string& crictl_path, const std::string& socket);
std::unique_ptr<RuntimeBackend> make_cgroup_scan_backend(const std::string& proc_root);

// Parsers take text so tests feed recorded responses (tests/fixtures).
pid_t parse_docker_inspect_pid(const std::string& json);   // .State.Pid
pid_t parse_crio_inspect_pid(const std::string& json);     // .pid
pid_t parse_crictl_inspect_pid(const std::string& json);   // .pid at top level, else .info.pid

} // namespace stress
