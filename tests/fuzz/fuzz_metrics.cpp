// stress-ng's --metrics-brief output and the effect line built from it (helper/metrics.hpp).
#include "fuzz_common.hpp"
#include "metrics.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const auto metrics = stress::parse_stress_metrics(fuzz::text(data, size));
    stress::CgroupCounters before, after;
    before.cpu_usage_ns = size;
    after.cpu_usage_ns = size * 3;
    before.io_write_bytes = 0;
    after.io_write_bytes = size;
    before.io_source = after.io_source = size % 2 ? stress::IoCounterSource::V1Blkio : stress::IoCounterSource::V2IoStat;
    stress::IoAccounting io;
    io.wchar = size << 16;
    (void)stress::effect_summary(before, after, size, metrics, io);
    return 0;
}
