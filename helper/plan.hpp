// plan.hpp — the plan step: from the validated Config to one StressPlan per target.
//
// Owns: turning what Kubernetes (through Litmus) or the command line names into Targets with PIDs
// (the runtime lookup), checking them (a running process, a usable VOLUME_MOUNT_PATH for io stress,
// a container ID whose runtime is CONTAINER_RUNTIME), resolving their cgroups, and the nsexec argv;
// the dry run's printout. Starts nothing. main.cpp calls it; inject.hpp runs what it returns.
#pragma once

#include "config.hpp"
#include "inject.hpp"
#include "parts.hpp"
#include "stressors.hpp"

#include <vector>

namespace stress {

class Litmus;

// The targets with their PIDs: from the config in standalone mode (`litmus` == nullptr), else the
// pods and containers of TARGETS that Litmus resolves. Logs "[Info]: Details of the target" for each.
// Throws Error naming the target: ContainerRuntimeError when its PID cannot be had, or when its
// container ID names another runtime than CONTAINER_RUNTIME.
std::vector<Target> find_targets(const Config& config, Litmus* litmus);

// One plan per target, in order: cgroups resolved, VOLUME_MOUNT_PATH checked (io), the nsexec argv.
std::vector<StressPlan> make_plans(const Config& config, const std::vector<Target>& targets,
                                   const StressCommand& command, const Parts& parts);

// The dry run: the targets, PIDs, cgroup paths and the exact argv per target, on stdout.
void print_plan(const std::vector<StressPlan>& plans, const StressCommand& command);

// "containerd" for "containerd://", "crio" for "cri-o://", "docker" for "docker://": the
// CONTAINER_RUNTIME a container ID's scheme means; "" for a scheme this helper does not know.
std::string runtime_of_scheme(const std::string& scheme);

} // namespace stress
