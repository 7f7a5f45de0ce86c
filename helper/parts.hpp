// parts.hpp — the parts of this image the helper runs (nsexec, libnsenter.so): where they are, and
// the nsexec command line that runs a stress command inside a target.
//
// Owns: locating our own binaries (docs/architecture.md "It finds its own parts"). Touches only
// the file system (stat, access, /proc/self/exe); depends on the utility floor alone.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace stress {

struct Parts {
    std::string nsexec;
    std::string libnsenter;
    std::string stress_ng; // the stress command's program, from PATH (the image's /usr/bin/stress-ng)
};

// Explicit paths win (flag or env); else next to this executable; else `nsexec` in PATH and
// /usr/local/lib/libnsenter.so; stress-ng from PATH. Throws Error(HelperError) naming every place
// looked at: a missing part is an error before anything starts, not a failed stress after it.
Parts find_parts(const std::string& nsexec_override, const std::string& libnsenter_override);

// Which mount namespace the stress command runs in: the helper's own (the program and the files it
// opens come from this image), or the target's (io stress: its files must land in the target).
enum class MountNamespace { Helper, Target };

// nsexec -p /proc/P/ns/pid [-m /proc/P/ns/mnt --local --library-path LIB] -- STRESS_ARGV…
// With MountNamespace::Target, --local keeps stress-ng and its libraries from this image.
std::vector<std::string> nsexec_argv(const Parts& parts, pid_t target_pid, MountNamespace mount,
                                     const std::vector<std::string>& stress_argv);

} // namespace stress
