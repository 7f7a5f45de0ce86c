// The runtimes' answers: docker and CRI-O inspect JSON, crictl inspect output (helper/runtime.hpp).
#include "fuzz_common.hpp"
#include "runtime.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string t(fuzz::text(data, size));
    for (auto parse : {stress::parse_docker_inspect_pid, stress::parse_crio_inspect_pid, stress::parse_crictl_inspect_pid}) {
        try {
            (void)parse(t);
        } catch (const stress::Error&) {
        }
    }
    return 0;
}
