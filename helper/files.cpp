#include "files.hpp"

#include "fd.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace stress {

std::optional<std::string> read_text(const std::string& path, const char** failed_call) {
    UniqueFd fd{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
    if (!fd) {
        if (failed_call) *failed_call = "open";
        return std::nullopt;
    }
    std::string out;
    char buf[8192];
    while (true) {
        const ssize_t n = retry_on_eintr([&] { return ::read(fd.get(), buf, sizeof buf); });
        if (n < 0) {
            if (failed_call) *failed_call = "read";
            return std::nullopt;
        }
        if (n == 0) break;
        out.append(buf, static_cast<size_t>(n));
    }
    return out;
}

std::string read_text_or_throw(const std::string& path, ErrorCode code) {
    const char* failed_call = "read";
    auto text = read_text(path, &failed_call);
    if (!text) throw_sys(code, std::string(failed_call) + " " + path);
    return *text;
}

bool is_executable_file(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

bool is_readable_file(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), R_OK) == 0;
}

std::string unix_socket_problem(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return "stat " + path + ": " + errno_text(errno);
    if (!S_ISSOCK(st.st_mode)) return path + " is not a unix socket";
    return {};
}

} // namespace stress
