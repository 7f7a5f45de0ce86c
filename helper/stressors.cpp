#include "stressors.hpp"

namespace stress {

StressCommand build_stress_command(const Config& config) {
    StressCommand cmd;
    auto& argv = cmd.argv;
    argv = {"stress-ng", "--timeout", std::to_string(config.duration_s) + "s", "--metrics-brief"};

    switch (config.stress_type) {
    case StressType::Cpu:
        argv.insert(argv.end(), {"--cpu", std::to_string(config.cpu_cores.value_or(stress_defaults::cpu_cores)),
                                 "--cpu-load", std::to_string(config.cpu_load.value_or(stress_defaults::cpu_load))});
        break;

    case StressType::Memory:
        argv.insert(argv.end(), {"--vm", std::to_string(config.workers.value_or(stress_defaults::workers)), "--vm-bytes",
                                 std::to_string(config.memory_mib.value_or(stress_defaults::memory_mib)) + "M"});
        break;

    case StressType::Io: {
        const std::string workers = std::to_string(config.workers.value_or(stress_defaults::workers));
        std::string hdd_bytes;
        if (config.fs_utilization_percent) {
            hdd_bytes = std::to_string(*config.fs_utilization_percent) + "%";
            if (config.fs_utilization_gib)
                cmd.warnings.push_back("both FILESYSTEM_UTILIZATION_PERCENTAGE (" + hdd_bytes +
                                       ") and FILESYSTEM_UTILIZATION_BYTES (" +
                                       std::to_string(*config.fs_utilization_gib) +
                                       "G) are set; using the percentage, as Litmus does");
        } else if (config.fs_utilization_gib) {
            hdd_bytes = std::to_string(*config.fs_utilization_gib) + "G";
        } else {
            hdd_bytes = std::to_string(stress_defaults::fs_percent) + "%";
        }
        argv.insert(argv.end(), {"--io", workers, "--hdd", workers, "--hdd-bytes", hdd_bytes});
        if (!config.volume_mount_path.empty()) argv.insert(argv.end(), {"--temp-path", config.volume_mount_path});
        if (config.cpu_cores && *config.cpu_cores != 0)
            argv.insert(argv.end(), {"--cpu", std::to_string(*config.cpu_cores)});
        break;
    }
    }
    return cmd;
}

} // namespace stress
