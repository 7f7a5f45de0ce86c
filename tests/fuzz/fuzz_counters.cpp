// The cgroup counter files (helper/cgroup.hpp) and /proc/PID/io, /proc/PID/stat, /proc/PID/status.
#include "cgroup.hpp"
#include "fuzz_common.hpp"
#include "process.hpp"
#include "runtime.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view t = fuzz::text(data, size);
    (void)stress::parse_blkio_service_bytes(t, "Read");
    (void)stress::parse_blkio_service_bytes(t, "Write");
    (void)stress::parse_keyed_stat(t, "usage_usec");
    (void)stress::parse_io_stat(t, "wbytes");
    (void)stress::parse_single_value(t);
    (void)stress::parse_proc_io(t);
    (void)stress::parse_proc_stat(t);
    (void)stress::parse_status_ns_pid(t);
    return 0;
}
