// runtime_scan.cpp — cgroup-scan: the last resort for any runtime. Every runtime puts a container's
// processes in a cgroup whose path names the container id, so /proc/*/cgroup finds them without
// asking the runtime; the container's init is then picked among them.
#include "runtime.hpp"

#include "files.hpp"
#include "process.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <memory>
#include <optional>
#include <set>
#include <tuple>

namespace stress {

using runtime_detail::fail;

namespace {

// systemd scope prefixes of the runtimes' container cgroups: "<prefix>-<id>.scope".
constexpr std::array<std::string_view, 4> scope_prefixes = {"cri-containerd", "crio", "docker", "libpod"};

bool component_names_container(std::string_view component, std::string_view id) {
    if (component == id) return true;
    if (component.ends_with(".scope")) {
        const std::string_view stem = component.substr(0, component.size() - 6);
        for (const auto prefix : scope_prefixes) {
            if (stem.size() == prefix.size() + 1 + id.size() && stem.starts_with(prefix) &&
                stem[prefix.size()] == '-' && stem.ends_with(id))
                return true;
        }
        return false;
    }
    // "<slice>:<runtime>:<id>" (systemd cgroup driver, path not yet turned into a scope name).
    if (component.ends_with(id) && component.size() > id.size() && component[component.size() - id.size() - 1] == ':') {
        const std::string_view head = component.substr(0, component.size() - id.size() - 1);
        const auto colon = head.rfind(':');
        const std::string_view runtime = colon == std::string_view::npos ? head : head.substr(colon + 1);
        return std::find(scope_prefixes.begin(), scope_prefixes.end(), runtime) != scope_prefixes.end();
    }
    return false;
}

std::optional<pid_t> to_pid(std::string_view s) {
    pid_t value = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
    return value;
}

} // namespace

bool cgroup_path_names_container(std::string_view path, std::string_view container_id) {
    if (container_id.empty() || container_id == "." || container_id == "..") return false;
    std::size_t begin = 0;
    while (begin <= path.size()) {
        const std::size_t end = std::min(path.find('/', begin), path.size());
        if (component_names_container(path.substr(begin, end - begin), container_id)) return true;
        begin = end + 1;
    }
    return false;
}

bool proc_cgroup_names_container(std::string_view text, std::string_view container_id) {
    std::size_t begin = 0;
    while (begin < text.size()) {
        const std::size_t end = std::min(text.find('\n', begin), text.size());
        const std::string_view line = text.substr(begin, end - begin);
        begin = end + 1;
        // "hierarchy-ID:controller-list:path"; the path itself may contain ':'.
        const auto first = line.find(':');
        if (first == std::string_view::npos) continue;
        const auto second = line.find(':', first + 1);
        if (second == std::string_view::npos) continue;
        if (cgroup_path_names_container(line.substr(second + 1), container_id)) return true;
    }
    return false;
}

pid_t pick_container_init(const std::vector<ScannedProcess>& processes) {
    std::set<pid_t> pids;
    for (const auto& p : processes) pids.insert(p.pid);
    // Smallest key wins: init of a pid namespace first (robust against processes a previous helper
    // put in the container's cgroup, whose parents are outside too), then parent outside the set.
    const auto key = [&](const ScannedProcess& p) {
        return std::make_tuple(p.ns_pid != 1, pids.count(p.ppid) != 0, p.pid);
    };
    const ScannedProcess* best = nullptr;
    for (const auto& p : processes) {
        if (best == nullptr || key(p) < key(*best)) best = &p;
    }
    return best != nullptr ? best->pid : 0;
}

pid_t parse_status_ns_pid(std::string_view text) {
    constexpr std::string_view key = "NSpid:";
    std::size_t at = text.starts_with(key) ? 0 : text.find("\nNSpid:");
    if (at == std::string_view::npos) return 0;
    if (at != 0) ++at;
    std::string_view line = text.substr(at + key.size());
    line = line.substr(0, line.find('\n'));
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
    const auto sep = line.find_last_of(" \t");
    return to_pid(sep == std::string_view::npos ? line : line.substr(sep + 1)).value_or(0);
}

namespace {

class CgroupScanBackend final : public RuntimeBackend {
public:
    explicit CgroupScanBackend(std::string proc_root) : proc_root_(std::move(proc_root)) {}
    std::string name() const override { return "cgroup-scan"; }

    pid_t container_pid(const std::string& id) override {
        runtime_detail::check_container_id(name(), proc_root_, id);
        std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(proc_root_.c_str()), ::closedir);
        if (!dir) fail(RuntimeFailure::Unavailable, name(), proc_root_, "opendir " + proc_root_ + ": " + errno_text(errno));

        std::vector<ScannedProcess> found;
        bool zombie_only = false;
        while (const dirent* entry = ::readdir(dir.get())) {
            const auto pid = to_pid(entry->d_name);
            // /proc/1 is not readable on every host, and the host's init is never a container's.
            if (!pid || *pid <= 1) continue;
            const std::string base = proc_root_ + "/" + entry->d_name;
            // Processes come and go during the scan: a file that cannot be read is a process gone.
            const auto cgroup = read_text(base + "/cgroup");
            if (!cgroup || !proc_cgroup_names_container(*cgroup, id)) continue;
            const auto stat_text = read_text(base + "/stat");
            if (!stat_text) continue;
            const auto stat = parse_proc_stat(*stat_text);
            if (!stat) continue;
            if (stat->state == 'Z' || stat->state == 'X') {
                zombie_only = true;
                continue;
            }
            const auto status = read_text(base + "/status");
            found.push_back({*pid, stat->ppid, status ? parse_status_ns_pid(*status) : 0});
        }
        if (found.empty())
            fail(zombie_only ? RuntimeFailure::NotRunning : RuntimeFailure::NotFound, name(), proc_root_,
                 zombie_only ? "container " + id + " is not running (only zombie processes in its cgroup)"
                             : "no process whose cgroup names container " + id);
        return pick_container_init(found);
    }

private:
    std::string proc_root_;
};

} // namespace

std::unique_ptr<RuntimeBackend> make_cgroup_scan_backend(const std::string& proc_root) {
    return std::make_unique<CgroupScanBackend>(proc_root);
}

} // namespace stress
