// cgroup.hpp — the target container's cgroups as the host sees them; attaching a process; counters.
//
// Owns: /proc/PID/cgroup and /proc/self/mountinfo parsing, v1 / hybrid / v2 detection, resolving the
// host path of a container's cgroup (also when this process runs in its own cgroup namespace, where
// paths read from /proc/PID/cgroup start with "/.."), writing cgroup.procs, reading usage counters.
// Never reads /proc/1 (not readable on every host). Parsers take text so tests feed literals.
//
// How a path is resolved. Both the target's /proc/PID/cgroup path and the "root" field of a cgroup
// mount in our mountinfo are printed relative to OUR cgroup namespace root N: "/../../x/y" means
// "2 levels up from N, then x/y". A host cgroup mount (the host's /sys bind-mounted into a pod with a
// private cgroupns) shows root "/.." * k, k being how deep N lies below the mount's root. For a target
// path "/.." * c + "/rest":
//   c == k  the target is <mount point>/rest;
//   c <  k  the target shares c ancestors with N whose names we cannot see: it is
//           <mount point>/<k-c unknown names>/rest; we look for the one directory at depth k-c under
//           the mount point that has rest below it (none or several → Error);
//   c >  k  the target lies outside what this mount shows (e.g. a container's own cgroup mount).
#pragma once

#include "error.hpp"

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
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
// Lines that do not have the "N:list:path" form are an Error(HelperError) naming the line.
// The path may itself contain ':' (containerd's "slice:cri-containerd:<id>" form).
std::vector<ProcCgroupLine> parse_proc_cgroup(std::string_view text);

// One cgroup or cgroup2 mount from /proc/self/mountinfo.
struct CgroupMount {
    std::string mount_point;              // e.g. /sys/fs/cgroup/memory (octal escapes like \040 decoded)
    std::string root;                     // field 4: the mount's root, relative to the reader's cgroupns ("/", "/../..")
    bool v2 = false;                      // fstype cgroup2
    std::vector<std::string> controllers; // v1: from super options ("cpu","cpuacct","name=systemd"…); v2: empty
};
// Mounts hidden by a later mount on the same or a covering path (a pod that bind-mounts the host's
// /sys over the runtime's own /sys keeps both in mountinfo) are left out: only what a path lookup
// reaches is returned, in mountinfo order.
std::vector<CgroupMount> parse_mountinfo_cgroups(std::string_view mountinfo);

// V1: v1 controllers mounted, no cgroup2. Hybrid: v1 controllers and a cgroup2 mount. V2: cgroup2 and
// no v1 controller (a lone "name=systemd" v1 mount, as some hosts keep for old containers, is still V2).
// Throws Error(HelperError) when there is no cgroup mount at all.
enum class CgroupLayout { V1, Hybrid, V2 };
CgroupLayout detect_layout(const std::vector<CgroupMount>& mounts);
const char* layout_name(CgroupLayout layout) noexcept; // "v1", "hybrid", "v2"

// The host directories of one container's cgroups: one per v1 hierarchy, plus the v2 directory when
// the container has a v2 line and a cgroup2 mount exists (on hybrid hosts both are filled).
struct TargetCgroups {
    CgroupLayout layout = CgroupLayout::V2;
    std::vector<std::string> v1_dirs;     // e.g. /sys/fs/cgroup/memory/k8s.io/<id>, one per mounted hierarchy
    std::map<std::string, std::string> v1_controller_dirs; // "cpuacct" → its dir (every controller and name=…)
    std::string v2_dir;                   // e.g. /sys/fs/cgroup/unified/k8s.io/<id>, or "" when none
    std::vector<std::string> unmounted;   // controller lists of the target's v1 hierarchies not mounted here
    std::vector<std::string> warnings;    // non-fatal problems (hybrid: why the v2 dir could not be resolved)
};

// Pure resolution from text (testable): the target's /proc/PID/cgroup and this process's mountinfo.
// `dir_exists(path)` confirms a resolved directory; `list_subdirs(path)` returns the NAMES of the
// subdirectories of path, used to find unknown ancestors (see the top of this file). Tests pass fakes.
// Throws Error(HelperError) when a v1 hierarchy (or, on a V2 host, the v2 path) cannot be resolved, or
// when nothing resolves at all; the message names the path, the mount and why.
TargetCgroups resolve_cgroups(std::string_view target_proc_cgroup, std::string_view self_mountinfo,
                              const std::function<bool(const std::string&)>& dir_exists,
                              const std::function<std::vector<std::string>(const std::string&)>& list_subdirs);

// When this thread sees the cgroup mounts from a cgroup namespace below theirs (mount roots "/.."; a
// pod on a cgroup v2 node), joins the cgroup namespace of an ancestor of `target_pid` that sees them
// from their root: the container runtime's shim (containerd-shim, conmon) runs in the host's. Call it
// once, from the thread that forks the stress processes, before target_cgroups(). Why: with the
// cgroup2 mount option nsdelegate (systemd's default) a writer may not move a process across its own
// namespace boundary — the cgroup.procs write fails with ENOENT — and from the host's namespace the
// target's paths are plain absolute paths. Never looks at /proc/1. Returns true when it switched;
// false (and nothing changed) when there was no need or no such ancestor — then resolve_cgroups'
// ancestor search still finds the paths (and attaching works where nsdelegate is off).
bool join_host_cgroup_namespace(pid_t target_pid);

// Reads /proc/PID/cgroup and /proc/self/mountinfo and resolves. Throws Error naming the pid/path.
// `warnings` are left to the caller to log, with the target's name.
TargetCgroups target_cgroups(pid_t pid);

// Writes `pid` into cgroup.procs of every v1 dir and (hybrid) v2 dir (a v2 write on a hybrid host is
// best effort: logged, not fatal; on a pure v2 host it is required). Throws Error(ChaosInjectError)
// naming the file and errno text.
void attach_to_cgroups(const TargetCgroups& cgroups, pid_t pid);

// What the stress did, read before and after. Any counter the hierarchy lacks stays nullopt.
// A v1 controller's file is preferred; the v2 file is the fallback (hybrid hosts may have either).
//
// What the io counters can see depends on the version (see io_source):
// - v1 blkio (blkio.throttle.io_service_bytes(_recursive)) counts at most the block IO a task submits
//   itself: direct IO, reads from disk, writeback it forces on its own (fsync, O_SYNC). Buffered
//   writes are written back later by the kernel's flusher threads — also when a process calls
//   sync(2) — and v1 has no writeback attribution: that IO is charged to the root cgroup, never to
//   the target. And recent kernels (seen on 6.18) count nothing at all there unless a throttle rule
//   (blkio.throttle.*_device) is set for the device. So stress-ng's --hdd/--io typically shows 0.
// - v2 io.stat attributes writeback to the cgroup that dirtied the pages (when the memory and io
//   controllers are enabled for it): the target's buffered writes count once they reach the disk.
//   Data deleted before writeback never reaches the disk and counts nowhere.
// Both count block devices only: a tmpfs volume does no block IO.
// On a hybrid host whose unified hierarchy has no controllers, cpu.stat (usage_usec) exists in every
// v2 cgroup, memory.* and io.stat do not.
enum class IoCounterSource {
    None,      // no io counter for this target
    V1Blkio,   // direct and self-synced IO only (see above)
    V2IoStat,  // includes writeback of the target's buffered writes
};
struct CgroupCounters {
    std::optional<uint64_t> cpu_usage_ns;      // v1 cpuacct.usage, v2 cpu.stat usage_usec*1000
    std::optional<uint64_t> memory_bytes;      // v1 memory.usage_in_bytes, v2 memory.current
    std::optional<uint64_t> memory_peak_bytes; // v1 memory.max_usage_in_bytes, v2 memory.peak
    std::optional<uint64_t> io_read_bytes;     // v1 blkio.throttle.io_service_bytes(_recursive) Read, v2 io.stat rbytes
    std::optional<uint64_t> io_write_bytes;    // … Write / wbytes
    IoCounterSource io_source = IoCounterSource::None; // where io_read_bytes/io_write_bytes came from
};
CgroupCounters read_counters(const TargetCgroups& cgroups);
// True when the target's cgroup is frozen or freezing (v1 freezer.state, v2 cgroup.events "frozen 1";
// e.g. `ctr task pause`, `docker pause`): its processes, ours included, cannot run nor die until thawed.
bool cgroup_frozen(const TargetCgroups& cgroups);

// Only the memory usage now (v1 memory.usage_in_bytes, else v2 memory.current): what the run samples
// every 250 ms for the peak, without reading every other counter file.
std::optional<uint64_t> read_memory_usage(const TargetCgroups& cgroups);

// Parsers for counter files (text in, numbers out). nullopt when the text is malformed or lacks the key;
// a file with no device lines yet (no IO so far) is 0.
std::optional<uint64_t> parse_blkio_service_bytes(std::string_view text, std::string_view op); // op "Read"/"Write", sums devices
std::optional<uint64_t> parse_keyed_stat(std::string_view text, std::string_view key);          // "usage_usec 123" form
std::optional<uint64_t> parse_io_stat(std::string_view text, std::string_view key);             // v2 io.stat "rbytes="/"wbytes=", sums devices
std::optional<uint64_t> parse_single_value(std::string_view text);                               // "123\n" (cpuacct.usage, memory.current)

} // namespace stress
