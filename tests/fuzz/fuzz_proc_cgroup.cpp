// /proc/PID/cgroup and /proc/self/mountinfo, and the resolution of a target's cgroup directories
// from them (helper/cgroup.hpp). Input: "<target's /proc/PID/cgroup>\0<our mountinfo>\0<dir names>".
#include "cgroup.hpp"
#include "fuzz_common.hpp"
#include "runtime.hpp"
#include "text.hpp"

#include <algorithm>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    auto p = fuzz::parts(data, size, 3);
    p.resize(3);
    try {
        (void)stress::parse_proc_cgroup(p[0]);
    } catch (const stress::Error&) {
    }
    (void)stress::proc_cgroup_names_container(p[0], std::string(64, 'a'));
    try {
        auto mounts = stress::parse_mountinfo_cgroups(p[1]);
        (void)stress::detect_layout(mounts);
    } catch (const stress::Error&) {
    }
    // A fake tree: every path exists; each directory has the names listed in part 3.
    std::vector<std::string> names;
    for (auto n : stress::split(p[2], ',')) names.emplace_back(n);
    try {
        (void)stress::resolve_cgroups(
            p[0], p[1], [](const std::string&) { return true; },
            [&](const std::string& path) { return path.size() > 4096 ? std::vector<std::string>{} : names; });
    } catch (const stress::Error&) {
    }
    return 0;
}
