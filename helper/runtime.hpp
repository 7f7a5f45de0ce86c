// runtime.hpp — container ID → PID of the container's init process, one class per backend
// behind one interface (docs/architecture.md "Native clients first, CLIs as fallbacks").
//
// Backends: containerd (gRPC Tasks API), docker (Engine API on the unix socket), crio (HTTP info
// endpoint on crio.sock), crictl (CLI, when a crictl binary is present), cgroup-scan (/proc/*/cgroup).
// Every failure is a RuntimeError (an Error with code ContainerRuntimeError) that names the backend,
// the socket and why, e.g.
//   "containerd: unix:///run/containerd/containerd.sock: container abc… not found in containerd namespace k8s.io".
// Parsers and matchers take text, so tests feed recorded responses (tests/fixtures).
#pragma once

#include "error.hpp"

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace stress {

// Why a lookup failed. make_runtime falls back to the cgroup scan only for Unavailable: a runtime
// that answered "no such container" or "not running" is believed, a runtime that did not answer is not.
enum class RuntimeFailure {
    NotFound,    // the runtime does not know the container (or the id is malformed)
    NotRunning,  // known, but no running init process (exited, created, paused, pid 0)
    Unavailable, // socket missing, connection refused, timeout, unexpected answer, API error
};

class RuntimeError : public Error {
public:
    RuntimeError(RuntimeFailure failure, const std::string& message)
        : Error(ErrorCode::ContainerRuntimeError, message), failure_(failure) {}
    RuntimeFailure failure() const noexcept { return failure_; }

private:
    RuntimeFailure failure_;
};

class RuntimeBackend {
public:
    virtual ~RuntimeBackend() = default;
    // "containerd", "docker", "crio", "crictl", "cgroup-scan"
    virtual std::string name() const = 0;
    // PID (in the host PID namespace as seen by this process) of the container's init process.
    // Throws RuntimeError when the container is unknown, not running (pid 0) or the call fails.
    virtual pid_t container_pid(const std::string& container_id) = 0;
};

struct RuntimeOptions {
    std::string runtime = "containerd";    // CONTAINER_RUNTIME: containerd | crio | docker
    std::string socket_path;               // "" = the runtime's default socket; "unix://" prefix accepted
    std::string containerd_namespace = "k8s.io";
    std::string proc_root = "/proc";       // for the cgroup scan
    std::string crictl_path;               // "" = look for crictl in PATH (used for crio when found)
};

// The runtime's default socket: /run/containerd/containerd.sock, /run/crio/crio.sock, /run/docker.sock.
// Throws Error(HelperError) for an unknown runtime.
std::string default_socket(const std::string& runtime);

// The native backend for options.runtime (crio: crictl when found, then the HTTP endpoint), with the
// cgroup scan as last resort: when the native call fails with Unavailable, the scan is tried and a
// warning naming the native failure is logged; when both fail, the error names both.
// Throws Error(HelperError) for an unknown runtime. Nothing is connected until the first lookup.
std::unique_ptr<RuntimeBackend> make_runtime(const RuntimeOptions& options);

// Individual backends (tests use them directly). `socket` is a path, with or without "unix://".
// The containerd backend makes one HTTP/2 connection per lookup (helper/grpc_unix) and starts no threads.
std::unique_ptr<RuntimeBackend> make_containerd_backend(const std::string& socket, const std::string& ns);
std::unique_ptr<RuntimeBackend> make_docker_backend(const std::string& socket);
std::unique_ptr<RuntimeBackend> make_crio_backend(const std::string& socket);
std::unique_ptr<RuntimeBackend> make_crictl_backend(const std::string& crictl_path, const std::string& socket);
std::unique_ptr<RuntimeBackend> make_cgroup_scan_backend(const std::string& proc_root);

// The first executable "crictl" in PATH, or "" when there is none.
std::string find_crictl();

// Parsers take text so tests feed recorded responses (tests/fixtures). They throw RuntimeError
// (NotRunning for a stopped container, Unavailable for text that is not the expected JSON) whose
// message does not yet name backend and socket: the backend adds that prefix.
pid_t parse_docker_inspect_pid(const std::string& json);   // .State.Pid, requires .State.Running
pid_t parse_crio_inspect_pid(const std::string& json);     // .pid
pid_t parse_crictl_inspect_pid(const std::string& json);   // .pid at top level, else .info.pid;
                                                           // .status.state must be CONTAINER_RUNNING when present

// ---- cgroup scan internals, pure so tests can feed /proc text ----

// True when one cgroup path (the part after the second ':' of a /proc/PID/cgroup line) names the
// container: a path component that is the id itself (cgroupfs: /kubepods/…/<id>, /docker/<id>),
// "<runtime>-<id>.scope" (systemd: cri-containerd, crio, docker, libpod) or "…:<runtime>:<id>"
// (containerd's raw systemd form "<slice>:cri-containerd:<id>", CRI-O's "<slice>:crio:<id>").
// Monitor cgroups such as "crio-conmon-<id>.scope" do not match: conmon is not in the container.
bool cgroup_path_names_container(std::string_view path, std::string_view container_id);
// True when any line of a /proc/PID/cgroup text names the container.
bool proc_cgroup_names_container(std::string_view text, std::string_view container_id);

// One process whose cgroup names the container.
struct ScannedProcess {
    pid_t pid = 0;
    pid_t ppid = 0;
    pid_t ns_pid = 0;   // last NSpid field of /proc/PID/status: its pid in its own pid namespace (0 = unknown)
};
// The container's init among the processes in its cgroup: prefer pid 1 of a pid namespace, then the
// one whose parent is outside the set (its parent is the shim), then the lowest pid. 0 for none.
pid_t pick_container_init(const std::vector<ScannedProcess>& processes);

// From /proc/PID/status text: the last value of the NSpid line, 0 when there is none.
pid_t parse_status_ns_pid(std::string_view text);

// ---- shared by the backend files (runtime_*.cpp) ----
namespace runtime_detail {
// "unix:///run/x.sock" or "/run/x.sock" → "/run/x.sock".
std::string socket_file(const std::string& socket);
// RuntimeError "<backend>: <where>: <why>".
[[noreturn]] void fail(RuntimeFailure failure, const std::string& backend, const std::string& where,
                       const std::string& why);
// Rejects ids that could not be a container id or name (they end up in URLs and argv):
// empty, longer than 128, "." or "..", or characters outside [A-Za-z0-9_.-]. Fails with NotFound.
void check_container_id(const std::string& backend, const std::string& where, const std::string& id);
// A clear Unavailable error before any client library gets to say it less clearly:
// "stat /run/x.sock: No such file or directory", "/run/x: not a unix socket".
void check_socket(const std::string& backend, const std::string& socket_path);

// What docker and CRI-O share: GET `path` on the runtime's HTTP socket. 200 → parse(body) (its
// RuntimeError gets the backend, socket and id around it); a 404 whose message_of(body) contains
// `unknown_container` is the runtime's own answer → NotFound; anything else (a failed call, another
// 404 — the socket is not that runtime's API) → Unavailable, so make_runtime may try the scan.
pid_t inspect_pid_over_http(const std::string& backend, const std::string& socket_path, const std::string& id,
                            const std::string& path, const std::string& unknown_container,
                            const std::function<std::string(const std::string&)>& message_of,
                            const std::function<pid_t(const std::string&)>& parse);
} // namespace runtime_detail

} // namespace stress
