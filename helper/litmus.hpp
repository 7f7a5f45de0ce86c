// litmus.hpp — what the helper reads from and writes to Kubernetes for Litmus (docs/litmus-contract.md §4, §6, §7):
// target pods → target containers, the ChaosResult annotations and errorOutput, the ChaosEngine
// events, the OOM-kill check. Built on kube::Client; the JSON shaping is in pure functions that
// take and return JSON, so the unit tests feed recorded objects (tests/fixtures).
//
// Errors follow litmus-go: a pod that cannot be read is HELPER_ERROR, a container that is missing,
// has no ID or is not running is CONTAINER_RUNTIME_ERROR, a ChaosResult read/write that fails is
// CHAOS_RESULT_CRUD_ERROR; each carries the Litmus target text.
#pragma once

#include "config.hpp"
#include "error.hpp"
#include "kube.hpp"
#include "targets.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace stress {

// The Litmus environment these operations need (docs/litmus-contract.md §2).
struct LitmusContext {
    std::string chaos_namespace = "litmus";  // CHAOS_NAMESPACE
    std::string chaosengine;                 // CHAOSENGINE ("" = no engine: no events)
    std::string experiment_name;             // EXPERIMENT_NAME
    std::string instance_id;                 // INSTANCE_ID
    std::string chaos_uid;                   // CHAOS_UID
    std::string pod_name;                    // POD_NAME (the helper pod)
};

inline LitmusContext litmus_context(const Config& config) {
    return LitmusContext{config.chaos_namespace, config.chaosengine, config.experiment_name,
                         config.instance_id,     config.chaos_uid,   config.pod_name};
}

struct TargetContainer {
    std::string pod;
    std::string ns;
    std::string container;
    std::string container_id;  // the part after "://" of status.containerStatuses[].containerID
    std::string runtime;       // the part before it: "containerd", "cri-o", "docker"

    // Litmus's target text: "{podName: p, namespace: n, container: c}".
    std::string describe() const;
};

// --- names and paths
std::string pod_path(const std::string& ns, const std::string& pod);
// <CHAOSENGINE>-<EXPERIMENT_NAME> (or <EXPERIMENT_NAME>), then -<INSTANCE_ID> when set.
std::string chaosresult_name(const LitmusContext& ctx);
std::string chaosresult_path(const LitmusContext& ctx);
// <reason><EXPERIMENT_NAME><CHAOS_UID>, as litmus-go pkg/events names them.
std::string event_name(const LitmusContext& ctx, const std::string& reason);
std::string event_path(const LitmusContext& ctx, const std::string& reason);
std::string events_path(const LitmusContext& ctx);

// --- pure JSON shaping
// The containers of one TARGETS entry, from the pod object. Throws Error(ContainerRuntimeError)
// naming the container and the pod when a name is not in spec.containers, has no container ID yet,
// or is not running.
std::vector<TargetContainer> target_containers(const TargetSpec& spec, const nlohmann::json& pod);

// {"metadata":{"annotations":{"pod/<pod>":"<state>"}}} — what `kubectl annotate --overwrite` sends.
nlohmann::json annotation_patch(const std::string& pod, const std::string& state);

// litmus-go pkg/result appendFailStep: "[old,new]" with one pair of brackets around the whole list.
std::string append_fail_step(const std::string& existing, const std::string& reason);

// Sets status.experimentStatus.errorOutput = {errorCode, reason} on a ChaosResult; when an
// errorOutput is already there, the reason is appended (append_fail_step) and its errorCode kept,
// as litmus-go UpdateFailedStepFromHelper does. A reason that is already the last one is not
// added again (a retried write whose first attempt was stored but not answered).
void apply_error_output(nlohmann::json& chaosresult, ErrorCode code, const std::string& reason);

// The reason JSON of litmus-go cerrors.Error (field order and omitempty as Go's encoding/json
// writes them): {"source":…,"errorCode":…,"phase":…,"reason":…,"target":…}.
std::string failure_reason(const std::string& source, ErrorCode code, const std::string& phase,
                           const std::string& reason, const std::string& target);

// A new core/v1 Event on the ChaosEngine (count 1); `now` is the RFC 3339 timestamp.
nlohmann::json new_engine_event(const LitmusContext& ctx, const std::string& reason, const std::string& message,
                                const std::string& type, const std::string& now);
// An existing Event seen again: count+1, new lastTimestamp and message.
void bump_event(nlohmann::json& event, const std::string& message, const std::string& now);

// True when the container's last (or current) termination has exit code 137: killed by the OOM
// killer (or SIGKILL). Memory stress that does this counts as success (docs/litmus-contract.md §6).
bool container_oom_killed(const nlohmann::json& pod, const std::string& container);

// --- the operations, against the API server
class Litmus {
public:
    Litmus(kube::Client& client, LitmusContext ctx);


    // GET each pod (retried) and pick its target containers, in TARGETS order.
    std::vector<TargetContainer> resolve_targets(const std::vector<TargetSpec>& specs);
    // ChaosResult annotation pod/<pod> = state ("injected" | "reverted"), retried.
    void annotate(const std::string& pod, const std::string& state);
    // ChaosResult annotation stress-effect/<pod> = what the stress did (the proof-of-effect summary of
    // each target container of the pod), so users see it next to pod/<pod> without reading logs.
    void annotate_effect(const std::string& pod, const std::string& summary);
    // ChaosResult errorOutput write-back (GET, modify, PUT; retried; 409 → again).
    void record_failure(ErrorCode code, const std::string& reason_json);
    // Event <reason><EXPERIMENT_NAME><CHAOS_UID> on the ChaosEngine: created, or count+1.
    // Does nothing and returns false when CHAOSENGINE is not set.
    bool event(const std::string& reason, const std::string& message, const std::string& type = "Normal");
    // GET the pod (retried) and apply container_oom_killed.
    bool oom_killed(const std::string& pod, const std::string& ns, const std::string& container);

private:
    kube::Client& client_;
    LitmusContext ctx_;
};

} // namespace stress
