#include "plan.hpp"

#include "cgroup.hpp"
#include "error.hpp"
#include "fd.hpp"
#include "files.hpp"
#include "litmus.hpp"
#include "log.hpp"
#include "runtime.hpp"
#include "text.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <memory>

namespace stress {
namespace {

// io stress writes where VOLUME_MOUNT_PATH points inside the target (else stress-ng's cwd, which
// is the target's root after the mount-namespace switch): check it before anything starts. The
// path is resolved as the target resolves it — inside its root, symlinks included (openat2 with
// RESOLVE_IN_ROOT on /proc/PID/root): a plain stat of /proc/PID/root/<path> would follow an
// absolute symlink in the target out to the helper's own filesystem.
void check_io_path(const Config& config, const Target& target) {
    const std::string inside = config.volume_mount_path.empty() ? "/" : config.volume_mount_path;
    const std::string root_path = "/proc/" + std::to_string(target.pid) + "/root";
    const std::string what = config.volume_mount_path.empty()
                                 ? "the target's root directory (VOLUME_MOUNT_PATH is unset)"
                                 : "VOLUME_MOUNT_PATH=" + quote_value(config.volume_mount_path);
    UniqueFd root{::open(root_path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC)};
    if (!root)
        throw Error(ErrorCode::ChaosInjectError, "open " + root_path + ": " + errno_text(errno), target.label);
    open_how how{};
    how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    UniqueFd dir{static_cast<int>(::syscall(SYS_openat2, root.get(), inside.c_str(), &how, sizeof how))};
    if (!dir) {
        const int err = errno;
        if (err == ENOTDIR)
            throw Error(ErrorCode::ChaosInjectError, what + ": not a directory inside " + target.label, target.label);
        throw Error(ErrorCode::ChaosInjectError,
                    what + ": not found inside " + target.label + " (openat2 " + inside + " in " + root_path + ": " +
                        errno_text(err) + ")",
                    target.label);
    }
    // access() through the fd's /proc link checks the directory found, on its own mount (EROFS).
    const std::string found = "/proc/self/fd/" + std::to_string(dir.get());
    if (::access(found.c_str(), W_OK) != 0)
        throw Error(ErrorCode::ChaosInjectError,
                    what + ": not writable inside " + target.label + " (" + errno_text(errno) + ")", target.label);
}

// A socket that was named explicitly must be there: falling back to a /proc scan would hide a
// wrong SOCKET_PATH (the last resort is for a default socket that is absent or a runtime API that fails).
void check_socket(const std::string& socket_path) {
    if (socket_path.empty()) return;
    if (std::string problem = unix_socket_problem(socket_path); !problem.empty())
        throw Error(ErrorCode::ContainerRuntimeError,
                    "SOCKET_PATH=" + quote_value(socket_path) + ": " + problem + " (expected the runtime's unix socket)");
}

// Kubernetes says which runtime runs the container (the scheme of its ID); asking another runtime
// would fail with a misleading "not found", or find nothing but the /proc scan.
void check_runtime(const Config& config, const TargetContainer& c) {
    const std::string runtime = runtime_of_scheme(c.runtime);
    if (runtime.empty() || runtime == config.container_runtime) return;
    throw Error(ErrorCode::ContainerRuntimeError,
                "container " + c.container + " of pod " + c.pod + " runs on " + runtime + " (its ID is " + c.runtime +
                    "://" + c.container_id + "), but CONTAINER_RUNTIME=" + quote_value(config.container_runtime) +
                    ": set CONTAINER_RUNTIME=" + runtime + " and its SOCKET_PATH",
                c.describe());
}

// "" when PATH is a directory we may write into; else why not.
std::string unwritable_dir(const char* path) {
    struct stat st {};
    if (::stat(path, &st) != 0) return errno_text(errno);
    if (!S_ISDIR(st.st_mode)) return "not a directory";
    if (::access(path, W_OK) != 0) return errno_text(errno);
    return {};
}

// stress-ng will not start when its temp path ("." unless --temp-path) is not writable, even for the
// cpu and vm stressors, which write nothing there. cpu and memory stress run in the helper's own
// mount namespace with the helper's working directory, which is read-only in a pod with
// readOnlyRootFilesystem (a policy many clusters impose): then /tmp or /dev/shm (a tmpfs in every
// pod) serves. io stress runs in the target's and writes where VOLUME_MOUNT_PATH says.
std::vector<std::string> with_writable_temp_path(const Config& config, std::vector<std::string> argv) {
    if (config.stress_type == StressType::Io) return argv;
    std::string why = unwritable_dir(".");
    if (why.empty()) return argv;
    std::string tried = "the working directory: " + why;
    for (const char* dir : {"/tmp", "/dev/shm"}) {
        if (std::string not_here = unwritable_dir(dir); !not_here.empty()) {
            tried += std::string("; ") + dir + ": " + not_here;
            continue;
        }
        log::info("[Info]: the working directory is not writable, stress-ng gets another temp path",
                  {{"tempPath", dir}, {"why", why}});
        argv.insert(argv.end(), {"--temp-path", dir});
        return argv;
    }
    throw Error(ErrorCode::HelperError, "stress-ng needs a writable directory and there is none (" + tried + ")");
}

std::string shell_quote_for_display(const std::string& word) {
    if (!word.empty() && word.find_first_of(" \t\n'\"\\$;&|<>()*?`") == std::string::npos) return word;
    std::string out = "'";
    for (char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

} // namespace

std::string runtime_of_scheme(const std::string& scheme) {
    if (scheme == "containerd") return "containerd";
    if (scheme == "cri-o") return "crio";
    if (scheme == "docker") return "docker";
    return {};
}

std::vector<Target> find_targets(const Config& config, Litmus* litmus) {
    std::vector<Target> targets;
    if (litmus == nullptr) {
        for (const auto& id : config.container_ids) targets.push_back(Target{"{container: " + id + "}", "", "", "", id, 0});
        for (pid_t pid : config.pids) targets.push_back(Target{"{pid: " + std::to_string(pid) + "}", "", "", "", "", pid});
    } else {
        for (const auto& c : litmus->resolve_targets(config.target_specs)) {
            check_runtime(config, c);
            targets.push_back(Target{c.describe(), c.pod, c.ns, c.container, c.container_id, 0});
        }
    }

    std::unique_ptr<RuntimeBackend> runtime;
    for (auto& t : targets) {
        if (t.pid == 0) {
            try {
                if (!runtime) {
                    check_socket(config.socket_path);
                    RuntimeOptions ro;
                    ro.runtime = config.container_runtime;
                    ro.socket_path = config.socket_path;
                    ro.containerd_namespace = config.containerd_namespace;
                    runtime = make_runtime(ro);
                }
                t.pid = runtime->container_pid(t.container_id);
            } catch (const Error& e) {
                throw Error(e.code(), std::string(e.what()) + " (target " + t.label + ")", t.label);
            }
        }
        struct stat st {};
        std::string proc = "/proc/" + std::to_string(t.pid);
        if (::stat(proc.c_str(), &st) != 0)
            throw Error(ErrorCode::ContainerRuntimeError,
                        "no running process " + std::to_string(t.pid) + " for " + t.label + " (stat " + proc + ": " +
                            errno_text(errno) + ")",
                        t.label);
        log::info("[Info]: Details of the target",
                  {{"target", t.label}, {"pid", std::to_string(t.pid)}, {"containerID", t.container_id}});
    }
    return targets;
}

std::vector<StressPlan> make_plans(const Config& config, const std::vector<Target>& targets,
                                   const StressCommand& command, const Parts& parts) {
    const bool io = config.stress_type == StressType::Io;
    std::vector<std::string> stress_argv = with_writable_temp_path(config, command.argv);
    stress_argv.front() = parts.stress_ng; // the program found before anything starts (parts.hpp)
    std::vector<StressPlan> plans;
    for (const auto& t : targets) {
        if (io) check_io_path(config, t);
        StressPlan plan;
        plan.target = t;
        try {
            plan.cgroups = target_cgroups(t.pid);
        } catch (const Error& e) {
            throw Error(e.code(), "cgroups of " + t.label + ": " + e.what(), t.label);
        }
        for (const auto& w : plan.cgroups.warnings) log::warn("[Warning]: " + w, {{"target", t.label}});
        plan.argv = nsexec_argv(parts, t.pid, io ? MountNamespace::Target : MountNamespace::Helper, stress_argv);
        plans.push_back(std::move(plan));
    }
    return plans;
}

void print_plan(const std::vector<StressPlan>& plans, const StressCommand& command) {
    std::printf("dry run: nothing is started\n");
    for (const auto& w : command.warnings) std::printf("warning: %s\n", w.c_str());
    for (const auto& plan : plans) {
        std::printf("target %s\n  pid: %d\n  cgroups (%s):\n", plan.target.label.c_str(), plan.target.pid,
                    layout_name(plan.cgroups.layout));
        for (const auto& dir : plan.cgroups.v1_dirs) std::printf("    %s\n", dir.c_str());
        if (!plan.cgroups.v2_dir.empty()) std::printf("    %s\n", plan.cgroups.v2_dir.c_str());
        std::string argv;
        for (const auto& w : plan.argv) argv += (argv.empty() ? "" : " ") + shell_quote_for_display(w);
        std::printf("  argv: %s\n", argv.c_str());
    }
}

} // namespace stress
