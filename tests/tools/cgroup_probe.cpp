// cgroup_probe — drives helper/cgroup for tests/e2e/test_cgroup.py. Prints JSON on stdout; an Error
// goes to stderr with exit status 1.
//
//   cgroup_probe resolve PID                  layout, v1 dirs (per controller), v2 dir, warnings
//   cgroup_probe attach PID CHILDPID          resolves PID, puts CHILDPID in those cgroups
//   cgroup_probe counters PID [--only v1|v2]  read_counters (--only drops the other hierarchy first)
#include "cgroup.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

using namespace stress;

namespace {

pid_t parse_pid(const char* text) {
    char* end = nullptr;
    long value = std::strtol(text, &end, 10);
    if (!*text || *end || value <= 0) throw Error(ErrorCode::HelperError, std::string("not a pid: ") + text);
    return static_cast<pid_t>(value);
}

nlohmann::json to_json(const TargetCgroups& cg) {
    nlohmann::json j;
    j["layout"] = layout_name(cg.layout);
    j["v1_dirs"] = cg.v1_dirs;
    j["v1_controller_dirs"] = cg.v1_controller_dirs;
    j["v2_dir"] = cg.v2_dir;
    j["unmounted"] = cg.unmounted;
    j["warnings"] = cg.warnings;
    return j;
}

nlohmann::json to_json(const std::optional<uint64_t>& v) {
    return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

int usage() {
    std::fprintf(stderr, "usage: cgroup_probe resolve PID | attach PID CHILDPID | counters PID [--only v1|v2]\n");
    return 2;
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 3) return usage();
    const std::string cmd = argv[1];
    try {
        const pid_t pid = parse_pid(argv[2]);
        if (cmd == "resolve" && argc == 3) {
            std::cout << to_json(target_cgroups(pid)).dump() << "\n";
        } else if (cmd == "attach" && argc == 4) {
            const pid_t child = parse_pid(argv[3]);
            // As the helper does (main.cpp): from a private cgroup namespace, join the host's first;
            // with nsdelegate the cgroup.procs write across our namespace boundary fails otherwise.
            join_host_cgroup_namespace(pid);
            TargetCgroups cg = target_cgroups(pid);
            attach_to_cgroups(cg, child);
            std::cout << to_json(cg).dump() << "\n";
        } else if (cmd == "counters" && (argc == 3 || (argc == 5 && std::string(argv[3]) == "--only"))) {
            TargetCgroups cg = target_cgroups(pid);
            if (argc == 5) {
                const std::string only = argv[4];
                if (only == "v1") cg.v2_dir.clear();
                else if (only == "v2") cg.v1_controller_dirs.clear(), cg.v1_dirs.clear();
                else return usage();
            }
            CgroupCounters c = read_counters(cg);
            nlohmann::json j;
            j["cpu_usage_ns"] = to_json(c.cpu_usage_ns);
            j["memory_bytes"] = to_json(c.memory_bytes);
            j["memory_peak_bytes"] = to_json(c.memory_peak_bytes);
            j["io_read_bytes"] = to_json(c.io_read_bytes);
            j["io_write_bytes"] = to_json(c.io_write_bytes);
            j["io_source"] = nullptr;
            if (c.io_source == IoCounterSource::V1Blkio) j["io_source"] = "v1";
            if (c.io_source == IoCounterSource::V2IoStat) j["io_source"] = "v2";
            std::cout << j.dump() << "\n";
        } else {
            return usage();
        }
    } catch (const Error& e) {
        std::fprintf(stderr, "cgroup_probe: %s (%s)\n", e.what(), litmus_error_code(e.code()));
        return 1;
    }
    return 0;
}
