#include "parts.hpp"

#include "error.hpp"
#include "files.hpp"
#include "process.hpp"
#include "text.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>

namespace stress {
namespace {

std::string own_directory() {
    char buf[PATH_MAX];
    ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) return {};
    std::string exe(buf, static_cast<size_t>(n));
    return exe.substr(0, exe.rfind('/'));
}

} // namespace

Parts find_parts(const std::string& nsexec_override, const std::string& libnsenter_override) {
    Parts parts;
    std::string here = own_directory();

    if (!nsexec_override.empty()) {
        if (!is_executable_file(nsexec_override))
            throw Error(ErrorCode::HelperError, "nsexec \"" + nsexec_override + "\": not an executable file");
        parts.nsexec = nsexec_override;
    } else if (!here.empty() && is_executable_file(here + "/nsexec")) {
        parts.nsexec = here + "/nsexec";
    } else {
        parts.nsexec = find_program("nsexec");
        if (parts.nsexec.empty())
            throw Error(ErrorCode::HelperError,
                        "nsexec not found: looked next to the helper (" + here + "/nsexec) and in PATH; "
                        "set --nsexec or NSEXEC_PATH");
    }

    if (!libnsenter_override.empty()) {
        if (!is_readable_file(libnsenter_override))
            throw Error(ErrorCode::HelperError, "libnsenter \"" + libnsenter_override + "\": not a readable file");
        parts.libnsenter = libnsenter_override;
    } else if (!here.empty() && is_readable_file(here + "/libnsenter.so")) {
        parts.libnsenter = here + "/libnsenter.so";
    } else if (is_readable_file("/usr/local/lib/libnsenter.so")) {
        parts.libnsenter = "/usr/local/lib/libnsenter.so";
    } else {
        throw Error(ErrorCode::HelperError,
                    "libnsenter.so not found: looked next to the helper (" + here +
                        "/libnsenter.so) and at /usr/local/lib/libnsenter.so; set --libnsenter or LIBNSENTER_PATH");
    }
    parts.stress_ng = find_program("stress-ng");
    if (parts.stress_ng.empty()) {
        const char* path = std::getenv("PATH");
        std::string why = std::string("no executable stress-ng in PATH (") + (path ? path : "unset") + ")";
        for (std::string_view dir : split(path ? path : "", ':')) {
            const std::string candidate = std::string(dir) + "/stress-ng";
            struct stat st {};
            if (!dir.empty() && ::stat(candidate.c_str(), &st) == 0) {
                why = candidate + " is not an executable file (" +
                      (S_ISREG(st.st_mode) ? errno_text(::access(candidate.c_str(), X_OK) == 0 ? 0 : errno)
                                           : std::string("not a regular file")) +
                      ")";
                break;
            }
        }
        throw Error(ErrorCode::HelperError, "stress-ng not found: " + why);
    }
    return parts;
}

std::vector<std::string> nsexec_argv(const Parts& parts, pid_t target_pid, MountNamespace mount,
                                     const std::vector<std::string>& stress_argv) {
    std::string ns = "/proc/" + std::to_string(target_pid) + "/ns/";
    std::vector<std::string> argv{parts.nsexec, "-p", ns + "pid"};
    if (mount == MountNamespace::Target) {
        // --local: stress-ng and its libraries come from this image, its files land in the target.
        argv.insert(argv.end(), {"-m", ns + "mnt", "--local", "--library-path", parts.libnsenter});
    }
    argv.push_back("--");
    argv.insert(argv.end(), stress_argv.begin(), stress_argv.end());
    return argv;
}

} // namespace stress
