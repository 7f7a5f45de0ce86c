// nsexec_args.hpp — nsexec's command line, compatible with chaos-mesh's nsexec:
//   nsexec [-m PATH] [-c PATH] [-i PATH] [-n PATH] [-p PATH] [-u PATH] [-l|--local]
//          [--library-path PATH] [--] CMD [ARG...]
// Pure parsing (no files touched) so it is unit-tested.
#pragma once

#include <string>
#include <vector>

namespace nsexec {

// The namespaces nsexec can join, in the fixed order it joins them (see nsexec.cpp for why).
enum class Ns { Ipc, Uts, Net, Cgroup, Pid, Mnt };
inline constexpr Ns kJoinOrder[] = {Ns::Ipc, Ns::Uts, Ns::Net, Ns::Cgroup, Ns::Pid, Ns::Mnt};

const char* ns_name(Ns ns) noexcept; // "ipc", "uts", "net", "cgroup", "pid", "mnt"
int ns_clone_flag(Ns ns) noexcept;   // CLONE_NEWIPC, …

struct NsRequest {
    Ns ns;
    std::string path; // e.g. /proc/42/ns/pid
};

inline constexpr const char* kDefaultLibraryPath = "/usr/local/lib/libnsenter.so";

struct Args {
    std::vector<NsRequest> namespaces; // in kJoinOrder, at most one per kind
    bool local = false;
    std::string library_path = kDefaultLibraryPath;
    std::vector<std::string> command;  // non-empty on success
    bool help = false;
};

// Throws std::invalid_argument with a message naming the option (e.g. "option -p needs a PATH").
Args parse_args(const std::vector<std::string>& argv_without_program);

std::string usage_text();

} // namespace nsexec
