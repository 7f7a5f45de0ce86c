// cgroup.hpp — the target container's cgroups as the host sees them; attaching a process; counters.
//
// Owns: /proc/PID/cgroup and /proc/self/mountinfo parsing, v1 / hybrid / v2 detection, resolving the
// host path of a container's cgroup (also when this process runs in its own cgroup namespace, where
// paths read from /proc/PID/cgroup start with "/.."), writing cgroup.procs, reading usage counters.
// Never reads /proc/1 (not readable on every host). Parsers take text so tests feed literals.
#pragma once

#include "error.hpp"

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stress {

// One line of /proc/PID/cgroup: "hierarchy-ID:controller-list:path".
struct ProcCgroupLine {
    int hierarchy = 0;
    std::vector<std::string> controllers; // empty for the v2 line "0::/path"; "name=systemd" kept as is
    std::string path;                     // as printed: relative to the reader's cgroup namespace root
};
std::vector<ProcCgroupLine> parse_proc_cgroup(std::string_view text);

// One cgroup or cgroup2 mount from /proc/self/mountinfo.
struct CgroupMount {
    std::string mount_point;              // e.g. /sys/fs/cgroup/memory
    std::string root;                     // field 4: the mount's root, relative to the reader's cgroupns ("/", "/../..")
    bool v2 = false;                      // fstype cgroup2
    std::vector<std::string> controllers; // v1: from super options ("cpu","cpuacct","name=systemd"…); v2: empty
};
std::vector<CgroupMount> parse_mountinfo_cgroups(std::string_view mountinfo);

enum class CgroupLayout { V1, Hybrid, V2 };
CgroupLayout detect_layout(const std::vector<CgroupMount>& mounts);
const char* layout_name(CgroupLayout layout) noexcept;

// The host directories of one container's cgroups: one per v1 hierarchy, plus the v2 directory when
// the container has a v2 line and a cgroup2 mount exists (on hybrid hosts both are filled).
struct TargetCgroups {
    CgroupLayout layout = CgroupLayout::V2;
    std::vector<std::string> v1_dirs;     // e.g. /sys/fs/cgroup/memory/k8s.io/<id>
    std::string v2_dir;                   // e.g. /sys/fs/cgroup/unified/k8s.io/<id>, or "" when none
};

// Pure resolution from text (testable): the target's /proc/PID/cgroup and this process's mountinfo.
// `dir_exists` is consulted to resolve paths that climb above this process's cgroupns root; tests pass a fake.
TargetCgroups resolve_cgroups(std::string_view target_proc_cgroup, std::string_view self_mountinfo,
                              const std::function<bool(const std::string&)>& dir_exists,
                              const std::function<std::vector<std::string>(const std::string&)>& list_subdirs);

// Reads /proc/PID/cgroup and /proc/self/mountinfo and resolves. Throws Error naming the pid/path.
TargetCgroups target_cgroups(pid_t pid);

// Writes `pid` into cgroup.procs of every v1 dir and (hybrid) v2 dir (a v2 write on a hybrid host is
// best effort: logged, not fatal; on a pure v2 host it is required). Throws Error(ChaosInjectError)
// naming the file and errno text.
void attach_to_cgroups(const TargetCgroups& cgroups, pid_t pid);

// What the stress did, read before and after. Any counter the hierarchy lacks stays nullopt.
struct CgroupCounters {
    std::optional<uint64_t> cpu_usage_ns;      // v1 cpuacct.usage, v2 cpu.stat usage_usec*1000
    std::optional<uint64_t> memory_bytes;      // v1 memory.usage_in_bytes, v2 memory.current
    std::optional<uint64_t> memory_peak_bytes; // v1 memory.max_usage_in_bytes, v2 memory.peak
    std::optional<uint64_t> io_read_bytes;     // v1 blkio.throttle.io_service_bytes(_recursive) Read, v2 io.stat rbytes
    std::optional<uint64_t> io_write_bytes;    // … Write / wbytes
};
CgroupCounters read_counters(const TargetCgroups& cgroups);

// Parsers for counter files (text in, numbers out).
std::optional<uint64_t> parse_blkio_service_bytes(std::string_view text, std::string_view op); // op "Read"/"Write", sums devices
std::optional<uint64_t> parse_keyed_stat(std::string_view text, std::string_view key);          // "usage_usec 123" form
std::optional<uint64_t> parse_io_stat(std::string_view text, std::string_view key);             // v2 io.stat "rbytes="/"wbytes=", sums devices

} // namespace stress
