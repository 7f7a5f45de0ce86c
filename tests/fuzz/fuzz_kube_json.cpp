// The JSON the API server sends: a pod (target containers, the OOM check) and a ChaosResult (the
// errorOutput write-back), as helper/litmus.hpp reads and changes them.
#include "fuzz_common.hpp"
#include "litmus.hpp"

#include <nlohmann/json.hpp>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    auto json = nlohmann::json::parse(fuzz::text(data, size), nullptr, /*allow_exceptions=*/false);
    if (json.is_discarded()) return 0;
    for (bool all : {true, false}) {
        stress::TargetSpec spec;
        spec.pod = "web";
        spec.ns = "shop";
        spec.all_containers = all;
        spec.containers = {"app", "sidecar"};
        try {
            (void)stress::target_containers(spec, json);
        } catch (const stress::Error&) {
        }
    }
    try {
        (void)stress::container_oom_killed(json, "app");
    } catch (const stress::Error&) {
    }
    try {
        stress::apply_error_output(json, stress::ErrorCode::ChaosInjectError, "reason");
    } catch (const stress::Error&) {
    }
    return 0;
}
