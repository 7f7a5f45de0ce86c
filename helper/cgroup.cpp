#include "cgroup.hpp"

#include "fd.hpp"
#include "files.hpp"
#include "process.hpp"
#include "text.hpp"
#include "log.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <memory>
#include <unordered_map>

namespace stress {
namespace {

// A search for unknown ancestors visits at most this many directories: a node has a few thousand
// cgroups at most; more means something is wrong and an error beats scanning forever.
constexpr size_t kMaxSearchedDirs = 200000;

std::vector<std::string_view> split_lines(std::string_view text) {
    std::vector<std::string_view> lines;
    while (!text.empty()) {
        size_t nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (!line.empty()) lines.push_back(line);
        if (nl == std::string_view::npos) break;
        text.remove_prefix(nl + 1);
    }
    return lines;
}

std::vector<std::string_view> split_words(std::string_view text) {
    std::vector<std::string_view> words;
    for (auto part : split(text, ' ')) {
        for (auto word : split(part, '\t'))
            if (!word.empty()) words.push_back(word);
    }
    return words;
}

std::string_view trim(std::string_view s) {
    const char* ws = " \t\r\n";
    size_t b = s.find_first_not_of(ws);
    if (b == std::string_view::npos) return {};
    size_t e = s.find_last_not_of(ws);
    return s.substr(b, e - b + 1);
}

std::optional<uint64_t> parse_u64(std::string_view s) {
    uint64_t value = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec != std::errc{} || ptr != s.data() + s.size() || s.empty()) return std::nullopt;
    return value;
}

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
    std::string out;
    for (size_t i = 0; i < parts.size(); ++i) {
        if (i) out += sep;
        out += parts[i];
    }
    return out;
}

// mountinfo escapes ' ', '\t', '\n' and '\\' as \ooo octal.
std::string unescape_mountinfo(std::string_view s) {
    auto oct = [](char c) { return c >= '0' && c <= '7'; };
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 4 <= s.size() &&
            oct(s[i + 1]) && oct(s[i + 2]) && oct(s[i + 3])) {
            out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
            i += 3;
            continue;
        }
        out += s[i];
    }
    return out;
}

// Super options of a v1 mount that are not controllers ("rw,nosuid,…,cpu,cpuacct").
bool is_controller_option(std::string_view opt) {
    static constexpr std::string_view not_controllers[] = {
        "rw", "ro", "noprefix", "clone_children", "xattr", "cpuset_v2_mode", "favordynmods", "none",
        "nsdelegate", "memory_localevents", "memory_recursiveprot", "memory_hugetlb_accounting",
        "pids_localevents"};
    if (opt.empty()) return false;
    if (std::find(std::begin(not_controllers), std::end(not_controllers), opt) != std::end(not_controllers))
        return false;
    if (opt.find('=') != std::string_view::npos) return opt.substr(0, 5) == "name=";
    return true;
}

// A path relative to this process's cgroupns root: `ups` levels up, then `names` down.
struct RelPath {
    size_t ups = 0;
    std::vector<std::string> names;
};

// The kernel prints every ".." first ("/../../a/b"); anything else is not a path we can place.
std::optional<RelPath> parse_rel_path(std::string_view path) {
    if (path.empty() || path.front() != '/') return std::nullopt;
    RelPath rel;
    for (auto part : split(path, '/')) {
        if (part.empty() || part == ".") continue;
        if (part == "..") {
            if (!rel.names.empty()) return std::nullopt;
            ++rel.ups;
        } else {
            rel.names.emplace_back(part);
        }
    }
    return rel;
}

std::string path_join(const std::string& base, const std::vector<std::string>& names, size_t from = 0) {
    std::string out = base;
    for (size_t i = from; i < names.size(); ++i) {
        if (out.empty() || out.back() != '/') out += '/';
        out += names[i];
    }
    return out;
}

std::string levels(size_t n) { return std::to_string(n) + (n == 1 ? " level" : " levels"); }

struct Attempt {
    std::string dir;     // set on success
    std::string failure; // set on failure
};

Attempt resolve_on_mount(const CgroupMount& mount, const std::string& path,
                         const std::function<bool(const std::string&)>& dir_exists,
                         const std::function<std::vector<std::string>(const std::string&)>& list_subdirs) {
    auto target = parse_rel_path(path);
    if (!target) return {{}, "the path is not of the form /../../a/b"};
    auto root = parse_rel_path(mount.root);
    if (!root) return {{}, "mount root \"" + mount.root + "\" of " + mount.mount_point + " is not of the form /../../a/b"};

    const std::string where = mount.mount_point + " (mount root " + mount.root + ")";
    const size_t k = root->ups;
    const size_t c = target->ups;
    if (c > k) return {{}, "it lies outside the part of the hierarchy mounted at " + where};

    if (c == k) {
        // Both hang below the same ancestor of our cgroupns root: the target must be below the mount's root.
        const auto& s = root->names;
        const auto& r = target->names;
        if (r.size() < s.size() || !std::equal(s.begin(), s.end(), r.begin()))
            return {{}, "it lies outside the part of the hierarchy mounted at " + where};
        std::string dir = path_join(mount.mount_point, r, s.size());
        if (!dir_exists(dir)) return {{}, dir + " does not exist (mount " + where + ")"};
        return {dir, {}};
    }

    // c < k: the target's first k-c levels below the mount root are ancestors of our cgroupns root,
    // whose names this namespace hides.
    if (!root->names.empty())
        return {{}, "cannot place it under " + where +
                        ": the mount root climbs above this process's cgroup namespace and descends again"};
    const size_t unknown = k - c;
    std::vector<std::string> level{mount.mount_point};
    size_t visited = 0;
    for (size_t depth = 0; depth < unknown; ++depth) {
        std::vector<std::string> next;
        for (const auto& dir : level) {
            for (const auto& name : list_subdirs(dir)) {
                next.push_back(path_join(dir, {name}));
                if (++visited > kMaxSearchedDirs)
                    return {{}, "gave up looking for it under " + where + " after " +
                                    std::to_string(kMaxSearchedDirs) + " directories"};
            }
        }
        level = std::move(next);
    }
    std::vector<std::string> matches;
    for (const auto& dir : level) {
        std::string candidate = path_join(dir, target->names);
        if (dir_exists(candidate)) matches.push_back(std::move(candidate));
    }
    const std::string why = " (this process's cgroup namespace lies " + levels(k) + " below the root of " + where +
                            ", so the names of " + std::to_string(unknown) + " of the target's ancestors are hidden from it)";
    const std::string rest = target->names.empty() ? std::string(".") : join(target->names, "/");
    if (matches.empty())
        return {{}, "no directory " + levels(unknown) + " below " + mount.mount_point + " has " + rest + " below it" + why};
    if (matches.size() > 1) {
        const size_t shown = std::min<size_t>(matches.size(), 5);
        std::string list = join(std::vector<std::string>(matches.begin(), matches.begin() + shown), ", ");
        if (matches.size() > shown) list += ", …";
        return {{}, "ambiguous: " + std::to_string(matches.size()) + " directories match: " + list + why};
    }
    return {matches.front(), {}};
}

// Tries every mount of one hierarchy in mountinfo order; the first that places the path wins.
Attempt resolve_hierarchy(const std::vector<const CgroupMount*>& candidates, const std::string& path,
                          const std::function<bool(const std::string&)>& dir_exists,
                          const std::function<std::vector<std::string>(const std::string&)>& list_subdirs) {
    std::vector<std::string> failures;
    for (const auto* mount : candidates) {
        Attempt attempt = resolve_on_mount(*mount, path, dir_exists, list_subdirs);
        if (!attempt.dir.empty()) return attempt;
        failures.push_back(std::move(attempt.failure));
    }
    return {{}, join(failures, "; ")};
}

bool intersects(const std::vector<std::string>& a, const std::vector<std::string>& b) {
    for (const auto& x : a)
        if (std::find(b.begin(), b.end(), x) != b.end()) return true;
    return false;
}

bool real_dir_exists(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::vector<std::string> real_list_subdirs(const std::string& path) {
    std::vector<std::string> names;
    std::unique_ptr<DIR, int (*)(DIR*)> dir{::opendir(path.c_str()), ::closedir};
    if (!dir) {
        log::debug("cannot list cgroup directory", {{"path", path}, {"error", errno_text(errno)}});
        return names;
    }
    while (const dirent* entry = ::readdir(dir.get())) {
        std::string_view name = entry->d_name;
        if (name == "." || name == "..") continue;
        bool is_dir = entry->d_type == DT_DIR;
        if (entry->d_type == DT_UNKNOWN) is_dir = real_dir_exists(path + "/" + entry->d_name);
        if (is_dir) names.emplace_back(name);
    }
    std::sort(names.begin(), names.end());
    return names;
}

void write_pid(const std::string& file, pid_t pid) {
    const std::string text = std::to_string(pid);
    UniqueFd fd{::open(file.c_str(), O_WRONLY | O_CLOEXEC)};
    if (!fd) throw_sys(ErrorCode::ChaosInjectError, "open " + file);
    // cgroup.procs takes one pid per write(2); a short write does not happen for a few digits.
    const ssize_t n = retry_on_eintr([&] { return ::write(fd.get(), text.data(), text.size()); });
    if (n < 0) throw_sys(ErrorCode::ChaosInjectError, "write " + text + " to " + file);
}

std::optional<uint64_t> read_value(const std::string& dir, const char* file) {
    auto text = read_text(dir + "/" + file);
    if (!text) return std::nullopt;
    return parse_single_value(*text);
}

} // namespace

std::vector<ProcCgroupLine> parse_proc_cgroup(std::string_view text) {
    std::vector<ProcCgroupLine> lines;
    for (auto line : split_lines(text)) {
        size_t first = line.find(':');
        size_t second = first == std::string_view::npos ? first : line.find(':', first + 1);
        if (second == std::string_view::npos)
            throw Error(ErrorCode::HelperError,
                        "parse /proc/PID/cgroup: line \"" + std::string(line) + "\" is not hierarchy-ID:controllers:path");
        ProcCgroupLine entry;
        int id = 0;
        std::string_view id_text = line.substr(0, first);
        auto [ptr, ec] = std::from_chars(id_text.data(), id_text.data() + id_text.size(), id);
        if (ec != std::errc{} || ptr != id_text.data() + id_text.size() || id < 0)
            throw Error(ErrorCode::HelperError,
                        "parse /proc/PID/cgroup: line \"" + std::string(line) + "\" has no numeric hierarchy ID");
        entry.hierarchy = id;
        std::string_view list = line.substr(first + 1, second - first - 1);
        if (!list.empty())
            for (auto c : split(list, ','))
                if (!c.empty()) entry.controllers.emplace_back(c);
        entry.path = std::string(line.substr(second + 1));
        if (entry.path.empty() || entry.path.front() != '/')
            throw Error(ErrorCode::HelperError,
                        "parse /proc/PID/cgroup: line \"" + std::string(line) + "\" has no absolute path");
        lines.push_back(std::move(entry));
    }
    return lines;
}

std::vector<CgroupMount> parse_mountinfo_cgroups(std::string_view mountinfo) {
    struct Entry {
        std::string id, parent;
        std::string mount_point;
        std::optional<CgroupMount> cgroup;
    };
    std::vector<Entry> entries;
    for (auto line : split_lines(mountinfo)) {
        auto words = split_words(line);
        auto dash = std::find(words.begin(), words.end(), std::string_view("-"));
        // id parent major:minor root mount-point options [optional…] - fstype source super-options
        if (words.size() < 6 || dash == words.end() || words.end() - dash < 3 || dash - words.begin() < 6) continue;
        Entry entry{std::string(words[0]), std::string(words[1]), unescape_mountinfo(words[4]), std::nullopt};
        std::string_view fstype = dash[1];
        if (fstype == "cgroup" || fstype == "cgroup2") {
            CgroupMount mount;
            mount.mount_point = entry.mount_point;
            mount.root = unescape_mountinfo(words[3]);
            mount.v2 = fstype == "cgroup2";
            if (!mount.v2 && words.end() - dash >= 4)
                for (auto opt : split(dash[3], ','))
                    if (is_controller_option(opt)) mount.controllers.emplace_back(opt);
            entry.cgroup = std::move(mount);
        }
        entries.push_back(std::move(entry));
    }

    // A mount A is hidden by a mount B outside A's chain of parent mounts when B sits on a mount P of
    // that chain and lies over the path to A: B is stacked on A itself, or B covers the mount point of
    // C, the child of P through which the chain reaches A (same mount point: the later listed wins).
    // This is how a pod that bind-mounts the host's /sys over its own keeps both cgroup mounts listed.
    std::unordered_map<std::string, size_t> by_id;
    for (size_t i = 0; i < entries.size(); ++i) by_id.emplace(entries[i].id, i);
    auto chain_of = [&](size_t i) {
        std::vector<size_t> chain{i};
        while (chain.size() <= entries.size()) {
            auto it = by_id.find(entries[chain.back()].parent);
            if (it == by_id.end() || std::find(chain.begin(), chain.end(), it->second) != chain.end()) break;
            chain.push_back(it->second);
        }
        return chain;
    };
    auto covers = [](const std::string& outer, const std::string& inner) {
        return outer == inner || outer == "/" ||
               (inner.size() > outer.size() && inner.starts_with(outer) && inner[outer.size()] == '/');
    };
    auto hidden = [&](size_t a) {
        const auto chain = chain_of(a);
        for (size_t b = 0; b < entries.size(); ++b) {
            if (std::find(chain.begin(), chain.end(), b) != chain.end()) continue;
            auto parent = by_id.find(entries[b].parent);
            if (parent == by_id.end()) continue;
            auto pos = std::find(chain.begin(), chain.end(), parent->second);
            if (pos == chain.end()) continue;
            const std::string& mp = entries[b].mount_point;
            if (pos == chain.begin()) {
                if (mp == entries[a].mount_point) return true;
                continue;
            }
            size_t c = *(pos - 1);
            if (mp == entries[c].mount_point ? b > c : covers(mp, entries[c].mount_point)) return true;
        }
        return false;
    };

    std::vector<CgroupMount> mounts;
    for (size_t i = 0; i < entries.size(); ++i)
        if (entries[i].cgroup && !hidden(i)) mounts.push_back(std::move(*entries[i].cgroup));
    return mounts;
}

CgroupLayout detect_layout(const std::vector<CgroupMount>& mounts) {
    bool v2 = false, v1_controllers = false, v1_any = false;
    for (const auto& m : mounts) {
        if (m.v2) {
            v2 = true;
            continue;
        }
        v1_any = true;
        for (const auto& c : m.controllers)
            if (c.rfind("name=", 0) != 0) v1_controllers = true;
    }
    if (v2) return v1_controllers ? CgroupLayout::Hybrid : CgroupLayout::V2;
    if (v1_any) return CgroupLayout::V1;
    throw Error(ErrorCode::HelperError, "no cgroup or cgroup2 mount in /proc/self/mountinfo: mount the host's /sys "
                                        "(or /sys/fs/cgroup) into the helper");
}

const char* layout_name(CgroupLayout layout) noexcept {
    switch (layout) {
    case CgroupLayout::V1: return "v1";
    case CgroupLayout::Hybrid: return "hybrid";
    case CgroupLayout::V2: return "v2";
    }
    return "unknown";
}

TargetCgroups resolve_cgroups(std::string_view target_proc_cgroup, std::string_view self_mountinfo,
                              const std::function<bool(const std::string&)>& dir_exists,
                              const std::function<std::vector<std::string>(const std::string&)>& list_subdirs) {
    const auto lines = parse_proc_cgroup(target_proc_cgroup);
    const auto mounts = parse_mountinfo_cgroups(self_mountinfo);
    TargetCgroups result;
    result.layout = detect_layout(mounts);

    std::vector<const CgroupMount*> v2_mounts;
    for (const auto& m : mounts)
        if (m.v2) v2_mounts.push_back(&m);

    const ProcCgroupLine* v2_line = nullptr;
    std::vector<std::string> seen;
    for (const auto& line : lines) {
        if (line.hierarchy == 0 && line.controllers.empty()) {
            v2_line = &line;
            continue;
        }
        const std::string name = join(line.controllers, ",");
        std::vector<const CgroupMount*> candidates;
        for (const auto& m : mounts)
            if (!m.v2 && intersects(line.controllers, m.controllers)) candidates.push_back(&m);
        if (candidates.empty()) {
            result.unmounted.push_back(name);
            continue;
        }
        Attempt attempt = resolve_hierarchy(candidates, line.path, dir_exists, list_subdirs);
        if (attempt.dir.empty())
            throw Error(ErrorCode::HelperError, "could not find valid cgroup for " + name + ":" + line.path + ": " +
                                                    attempt.failure);
        for (const auto& c : line.controllers) result.v1_controller_dirs[c] = attempt.dir;
        if (std::find(seen.begin(), seen.end(), attempt.dir) == seen.end()) {
            seen.push_back(attempt.dir);
            result.v1_dirs.push_back(attempt.dir);
        }
    }

    const bool v2_required = result.layout == CgroupLayout::V2;
    if (v2_line && !v2_mounts.empty()) {
        Attempt attempt = resolve_hierarchy(v2_mounts, v2_line->path, dir_exists, list_subdirs);
        if (!attempt.dir.empty()) {
            result.v2_dir = attempt.dir;
        } else if (v2_required) {
            throw Error(ErrorCode::HelperError, "could not find valid cgroup for 0::" + v2_line->path + ": " + attempt.failure);
        } else {
            result.warnings.push_back("cgroup2 path 0::" + v2_line->path + " not resolved (" + attempt.failure +
                                      "); on this " + layout_name(result.layout) +
                                      " host the stress runs in the target's v1 cgroups only");
        }
    } else if (v2_required) {
        throw Error(ErrorCode::HelperError,
                    "could not find valid cgroup: the cgroup v2 host's /proc/PID/cgroup has no 0:: line");
    }

    if (result.v1_dirs.empty() && result.v2_dir.empty()) {
        std::vector<std::string> hierarchies = result.unmounted;
        if (v2_line) hierarchies.push_back("0::");
        throw Error(ErrorCode::HelperError, "could not find valid cgroup: none of the target's hierarchies (" +
                                                join(hierarchies, " ") + ") is mounted here");
    }
    return result;
}

namespace {

// True when some cgroup mount is seen from below its root (this thread is in a child cgroupns).
bool sees_cgroups_from_below() {
    auto mountinfo = read_text("/proc/self/mountinfo");
    if (!mountinfo) return false;
    for (const auto& mount : parse_mountinfo_cgroups(*mountinfo))
        if (mount.root.starts_with("/..")) return true;
    return false;
}

// The parent pid from /proc/PID/stat, 0 when the process is gone.
pid_t parent_of(pid_t pid) {
    auto text = read_text("/proc/" + std::to_string(pid) + "/stat");
    auto stat = text ? parse_proc_stat(*text) : std::nullopt;
    return stat ? stat->ppid : 0;
}

} // namespace

bool join_host_cgroup_namespace(pid_t target_pid) {
    if (!sees_cgroups_from_below()) return false;
    UniqueFd own{::open("/proc/thread-self/ns/cgroup", O_RDONLY | O_CLOEXEC)};
    if (!own) {
        log::debug("cannot open our own cgroup namespace", {{"error", errno_text(errno)}});
        return false;
    }
    struct stat own_st {};
    ::fstat(own.get(), &own_st);
    // The target's ancestors, nearest first; pid 1 is never opened (not readable on every host).
    for (pid_t pid = parent_of(target_pid); pid > 1; pid = parent_of(pid)) {
        const std::string path = "/proc/" + std::to_string(pid) + "/ns/cgroup";
        UniqueFd ns{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
        struct stat st {};
        if (!ns || ::fstat(ns.get(), &st) != 0 || (st.st_ino == own_st.st_ino && st.st_dev == own_st.st_dev)) continue;
        if (::setns(ns.get(), CLONE_NEWCGROUP) != 0) {
            log::debug("setns cgroup namespace failed", {{"path", path}, {"error", errno_text(errno)}});
            continue;
        }
        if (!sees_cgroups_from_below()) {
            log::info("[Info]: Joined the host's cgroup namespace to reach the target's cgroups",
                      {{"from", path}, {"targetPid", std::to_string(target_pid)}});
            return true;
        }
        if (::setns(own.get(), CLONE_NEWCGROUP) != 0)
            throw_sys(ErrorCode::HelperError, "setns back to our own cgroup namespace");
    }
    log::debug("no ancestor of the target sees the cgroup mounts from their root",
               {{"targetPid", std::to_string(target_pid)}});
    return false;
}

TargetCgroups target_cgroups(pid_t pid) {
    const std::string proc_cgroup = "/proc/" + std::to_string(pid) + "/cgroup";
    std::string target = read_text_or_throw(proc_cgroup);
    std::string mountinfo = read_text_or_throw("/proc/self/mountinfo");
    TargetCgroups result;
    try {
        result = resolve_cgroups(target, mountinfo, real_dir_exists, real_list_subdirs);
    } catch (const Error& e) {
        throw Error(e.code(), "pid " + std::to_string(pid) + ": " + e.what(), e.target());
    }
    if (!result.unmounted.empty())
        log::debug("target's v1 hierarchies not mounted here, skipped",
                   {{"pid", std::to_string(pid)}, {"hierarchies", join(result.unmounted, " ")}});
    return result;
}

void attach_to_cgroups(const TargetCgroups& cgroups, pid_t pid) {
    if (cgroups.layout == CgroupLayout::V2 && cgroups.v2_dir.empty())
        throw Error(ErrorCode::ChaosInjectError,
                    "attach pid " + std::to_string(pid) + ": no cgroup2 directory resolved on a cgroup v2 host");
    if (cgroups.v1_dirs.empty() && cgroups.v2_dir.empty())
        throw Error(ErrorCode::ChaosInjectError, "attach pid " + std::to_string(pid) + ": no cgroup directory to attach to");
    for (const auto& dir : cgroups.v1_dirs) write_pid(dir + "/cgroup.procs", pid);
    if (cgroups.v2_dir.empty()) return;
    if (cgroups.layout == CgroupLayout::V2) {
        write_pid(cgroups.v2_dir + "/cgroup.procs", pid);
        return;
    }
    // Hybrid: the controllers live in v1; the v2 tree only groups processes (and counts cpu.stat),
    // so missing it changes nothing the stress does.
    try {
        write_pid(cgroups.v2_dir + "/cgroup.procs", pid);
    } catch (const Error& e) {
        log::warn("[Warning]: could not put the stress process in the target's cgroup2 directory (best effort on a hybrid host)",
                  {{"pid", std::to_string(pid)}, {"error", e.what()}});
    }
}

bool cgroup_frozen(const TargetCgroups& cgroups) {
    if (auto it = cgroups.v1_controller_dirs.find("freezer"); it != cgroups.v1_controller_dirs.end())
        if (auto state = read_text(it->second + "/freezer.state"); state && state->find("FROZEN") != std::string::npos)
            return true;
    if (!cgroups.v2_dir.empty())
        if (auto events = read_text(cgroups.v2_dir + "/cgroup.events"))
            return parse_keyed_stat(*events, "frozen").value_or(0) == 1;
    return false;
}

std::optional<uint64_t> read_memory_usage(const TargetCgroups& cgroups) {
    if (auto it = cgroups.v1_controller_dirs.find("memory"); it != cgroups.v1_controller_dirs.end())
        if (auto v = read_value(it->second, "memory.usage_in_bytes")) return v;
    return cgroups.v2_dir.empty() ? std::nullopt : read_value(cgroups.v2_dir, "memory.current");
}

CgroupCounters read_counters(const TargetCgroups& cgroups) {
    CgroupCounters out;
    auto v1 = [&](const char* controller) -> const std::string* {
        auto it = cgroups.v1_controller_dirs.find(controller);
        return it == cgroups.v1_controller_dirs.end() ? nullptr : &it->second;
    };
    if (const auto* dir = v1("cpuacct")) out.cpu_usage_ns = read_value(*dir, "cpuacct.usage");
    if (const auto* dir = v1("memory")) {
        out.memory_bytes = read_value(*dir, "memory.usage_in_bytes");
        out.memory_peak_bytes = read_value(*dir, "memory.max_usage_in_bytes");
    }
    if (const auto* dir = v1("blkio")) {
        // The _recursive file also counts IO of child cgroups; older kernels only have the flat one.
        auto text = read_text(*dir + "/blkio.throttle.io_service_bytes_recursive");
        if (!text) text = read_text(*dir + "/blkio.throttle.io_service_bytes");
        if (text) {
            out.io_read_bytes = parse_blkio_service_bytes(*text, "Read");
            out.io_write_bytes = parse_blkio_service_bytes(*text, "Write");
            if (out.io_write_bytes) out.io_source = IoCounterSource::V1Blkio;
        }
    }
    if (!cgroups.v2_dir.empty()) {
        const std::string& dir = cgroups.v2_dir;
        if (!out.cpu_usage_ns)
            if (auto text = read_text(dir + "/cpu.stat"))
                if (auto usec = parse_keyed_stat(*text, "usage_usec")) out.cpu_usage_ns = *usec * 1000;
        if (!out.memory_bytes) out.memory_bytes = read_value(dir, "memory.current");
        if (!out.memory_peak_bytes) out.memory_peak_bytes = read_value(dir, "memory.peak");
        if (out.io_source == IoCounterSource::None) {
            if (auto text = read_text(dir + "/io.stat")) {
                out.io_read_bytes = parse_io_stat(*text, "rbytes");
                out.io_write_bytes = parse_io_stat(*text, "wbytes");
                if (out.io_write_bytes) out.io_source = IoCounterSource::V2IoStat;
            }
        }
    }
    return out;
}

std::optional<uint64_t> parse_blkio_service_bytes(std::string_view text, std::string_view op) {
    uint64_t sum = 0;
    for (auto line : split_lines(text)) {
        auto words = split_words(line);
        if (words.empty()) continue;
        if (words.size() == 2 && words[0] == "Total") continue; // the all-devices total
        if (words.size() != 3 || words[0].find(':') == std::string_view::npos) return std::nullopt;
        if (words[1] != op) continue;
        auto value = parse_u64(words[2]);
        if (!value) return std::nullopt;
        sum += *value;
    }
    return sum;
}

std::optional<uint64_t> parse_keyed_stat(std::string_view text, std::string_view key) {
    for (auto line : split_lines(text)) {
        auto words = split_words(line);
        if (words.size() == 2 && words[0] == key) return parse_u64(words[1]);
    }
    return std::nullopt;
}

std::optional<uint64_t> parse_io_stat(std::string_view text, std::string_view key) {
    uint64_t sum = 0;
    for (auto line : split_lines(text)) {
        auto words = split_words(line);
        if (words.empty()) continue;
        if (words[0].find(':') == std::string_view::npos) return std::nullopt;
        for (size_t i = 1; i < words.size(); ++i) {
            size_t eq = words[i].find('=');
            if (eq == std::string_view::npos) return std::nullopt;
            if (words[i].substr(0, eq) != key) continue;
            auto value = parse_u64(words[i].substr(eq + 1));
            if (!value) return std::nullopt;
            sum += *value;
        }
    }
    return sum;
}

std::optional<uint64_t> parse_single_value(std::string_view text) {
    return parse_u64(trim(text));
}

} // namespace stress
