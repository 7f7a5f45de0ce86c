#include "litmus.hpp"

#include "text.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>

namespace stress {
namespace {

using nlohmann::json;

std::string target_text(const std::string& pod, const std::string& ns, const std::string& container) {
    return "{podName: " + pod + ", namespace: " + ns + ", container: " + container + "}";
}

std::string result_target(const LitmusContext& ctx) {
    return "{name: " + chaosresult_name(ctx) + ", namespace: " + ctx.chaos_namespace + "}";
}

// "waiting (CrashLoopBackOff)", "terminated (Error, exit code 1)" — the kubelet's view of a container.
std::string describe_state(const json& state) {
    if (!state.is_object() || state.empty()) return "unknown";
    const auto first = state.begin();
    const json& detail = first.value();
    std::string text = first.key();
    std::string reason = detail.is_object() ? detail.value("reason", "") : "";
    if (detail.is_object() && detail.contains("exitCode"))
        reason += std::string(reason.empty() ? "" : ", ") + "exit code " + detail["exitCode"].dump();
    if (!reason.empty()) text += " (" + reason + ")";
    return text;
}

const json* find_by_name(const json& list, const std::string& name) {
    if (!list.is_array()) return nullptr;
    for (const auto& item : list)
        if (item.is_object() && item.value("name", "") == name) return &item;
    return nullptr;
}

} // namespace

std::string TargetContainer::describe() const { return target_text(pod, ns, container); }

std::string pod_path(const std::string& ns, const std::string& pod) {
    return "/api/v1/namespaces/" + kube::path_segment(ns) + "/pods/" + kube::path_segment(pod);
}

std::string chaosresult_name(const LitmusContext& ctx) {
    std::string name = ctx.chaosengine.empty() ? ctx.experiment_name : ctx.chaosengine + "-" + ctx.experiment_name;
    if (!ctx.instance_id.empty()) name += "-" + ctx.instance_id;
    return name;
}

std::string chaosresult_path(const LitmusContext& ctx) {
    return "/apis/litmuschaos.io/v1alpha1/namespaces/" + kube::path_segment(ctx.chaos_namespace) + "/chaosresults/" +
           kube::path_segment(chaosresult_name(ctx));
}

std::string event_name(const LitmusContext& ctx, const std::string& reason) {
    return reason + ctx.experiment_name + ctx.chaos_uid;
}

std::string events_path(const LitmusContext& ctx) {
    return "/api/v1/namespaces/" + kube::path_segment(ctx.chaos_namespace) + "/events";
}

std::string event_path(const LitmusContext& ctx, const std::string& reason) {
    return events_path(ctx) + "/" + kube::path_segment(event_name(ctx, reason));
}

namespace {

std::vector<TargetContainer> pick_containers(const TargetSpec& spec, const json& pod, const std::string& where) {
    std::vector<std::string> names;  // spec.containers, in pod order
    if (pod.contains("spec") && pod["spec"].contains("containers") && pod["spec"]["containers"].is_array())
        for (const auto& c : pod["spec"]["containers"])
            if (c.is_object() && c.contains("name") && c["name"].is_string()) names.push_back(c["name"]);
    if (names.empty())
        throw Error(ErrorCode::HelperError, where + ": the pod object has no spec.containers",
                    "{podName: " + spec.pod + ", namespace: " + spec.ns + "}");

    std::vector<std::string> wanted;
    for (const auto& name : spec.all_containers ? names : spec.containers)
        if (std::find(wanted.begin(), wanted.end(), name) == wanted.end()) wanted.push_back(name);

    const json empty = json::array();
    const json& statuses = pod.contains("status") && pod["status"].contains("containerStatuses")
                               ? pod["status"]["containerStatuses"]
                               : empty;
    // Not what an API server writes: say so, rather than "no status yet" (which points at the kubelet).
    if (!statuses.is_array())
        throw Error(ErrorCode::HelperError,
                    where + ": unexpected pod object: status.containerStatuses is a JSON " + statuses.type_name() +
                        ", not a list",
                    "{podName: " + spec.pod + ", namespace: " + spec.ns + "}");

    std::vector<TargetContainer> out;
    for (const auto& name : wanted) {
        const std::string target = target_text(spec.pod, spec.ns, name);
        const std::string subject = "container \"" + name + "\" of " + where;
        if (std::find(names.begin(), names.end(), name) == names.end()) {
            std::string list;
            for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
            throw Error(ErrorCode::ContainerRuntimeError,
                        "container \"" + name + "\" not found in " + where + " (its containers: " + list + ")", target);
        }
        const json* status = find_by_name(statuses, name);
        if (!status) {
            std::string phase = pod.contains("status") ? pod["status"].value("phase", "") : "";
            throw Error(ErrorCode::ContainerRuntimeError,
                        subject + " has no status yet" + (phase.empty() ? "" : " (pod phase " + phase + ")"), target);
        }
        const json state = status->value("state", json::object());
        if (!state.contains("running"))
            throw Error(ErrorCode::ContainerRuntimeError, subject + " is not running (state: " + describe_state(state) + ")",
                        target);
        const std::string id = status->value("containerID", "");
        const auto sep = id.find("://");
        if (id.empty())
            throw Error(ErrorCode::ContainerRuntimeError, subject + " has no container ID yet", target);
        if (sep == std::string::npos || sep == 0 || sep + 3 == id.size())
            throw Error(ErrorCode::ContainerRuntimeError,
                        subject + ": unexpected containerID \"" + id + "\" (expected <runtime>://<id>)", target);
        out.push_back(TargetContainer{spec.pod, spec.ns, name, id.substr(sep + 3), id.substr(0, sep)});
    }
    return out;
}

} // namespace

std::vector<TargetContainer> target_containers(const TargetSpec& spec, const json& pod) {
    const std::string where = "pod " + spec.pod + " in namespace " + spec.ns;
    try {
        return pick_containers(spec, pod, where);
    } catch (const json::exception& e) {
        // A field of an unexpected type: not a pod as the API server writes it.
        throw Error(ErrorCode::HelperError, where + ": unexpected pod object: " + e.what(),
                    "{podName: " + spec.pod + ", namespace: " + spec.ns + "}");
    }
}

json annotation_patch(const std::string& pod, const std::string& state) {
    return json{{"metadata", {{"annotations", {{"pod/" + pod, state}}}}}};
}

std::string append_fail_step(const std::string& existing, const std::string& reason) {
    // An empty existing reason has nothing to keep; litmus-go would write "[,reason]".
    if (existing.empty()) return reason;
    std::string old = existing;
    if (!old.empty() && old.front() == '[') old.erase(0, 1);
    if (!old.empty() && old.back() == ']') old.pop_back();
    return "[" + old + "," + reason + "]";
}

void apply_error_output(json& chaosresult, ErrorCode code, const std::string& reason) {
    // What the API server sent: anything but an object cannot be a ChaosResult (found by fuzzing:
    // a number made operator[] throw a json type_error out of the failure write-back).
    if (!chaosresult.is_object())
        throw Error(ErrorCode::ChaosResultCrudError,
                    std::string("the ChaosResult is a JSON ") + chaosresult.type_name() + ", not an object");
    const auto text_of = [](const json& object, const char* key) {
        return object.contains(key) && object[key].is_string() ? object[key].get<std::string>() : std::string();
    };
    json& status = chaosresult["status"];
    if (!status.is_object()) status = json::object();
    json& experiment = status["experimentStatus"];
    if (!experiment.is_object()) experiment = json::object();
    if (experiment.contains("errorOutput") && experiment["errorOutput"].is_object()) {
        json& output = experiment["errorOutput"];
        const std::string existing = text_of(output, "reason");
        // Our own earlier attempt may have been stored although its answer was lost (a PUT
        // retried after a dropped connection): then the reason is there already, last in the list.
        if (existing == reason || (existing.size() > reason.size() + 2 && existing.back() == ']' &&
                                   existing.compare(existing.size() - reason.size() - 2, reason.size() + 2,
                                                    "," + reason + "]") == 0))
            return;
        output["reason"] = append_fail_step(existing, reason);
        if (text_of(output, "errorCode").empty()) output["errorCode"] = litmus_error_code(code);
    } else {
        experiment["errorOutput"] = json{{"errorCode", litmus_error_code(code)}, {"reason", reason}};
    }
}

std::string failure_reason(const std::string& source, ErrorCode code, const std::string& phase,
                           const std::string& reason, const std::string& target) {
    std::string out = "{";
    const auto field = [&](const char* key, const std::string& value) {
        if (value.empty()) return;  // omitempty
        if (out.size() > 1) out += ',';
        out += '"';
        out += key;
        out += "\":";
        append_go_json_string(out, value);
    };
    field("source", source);
    field("errorCode", litmus_error_code(code));
    field("phase", phase);
    field("reason", reason);
    field("target", target);
    return out + "}";
}

json new_engine_event(const LitmusContext& ctx, const std::string& reason, const std::string& message,
                      const std::string& type, const std::string& now) {
    return json{
        {"apiVersion", "v1"},
        {"kind", "Event"},
        {"metadata", {{"name", event_name(ctx, reason)}, {"namespace", ctx.chaos_namespace}}},
        {"involvedObject",
         {{"apiVersion", "litmuschaos.io/v1alpha1"},
          {"kind", "ChaosEngine"},
          {"name", ctx.chaosengine},
          {"namespace", ctx.chaos_namespace},
          {"uid", ctx.chaos_uid}}},
        {"reason", reason},
        {"message", message},
        {"type", type},
        {"count", 1},
        {"firstTimestamp", now},
        {"lastTimestamp", now},
        {"source", {{"component", ctx.pod_name}}},
    };
}

void bump_event(json& event, const std::string& message, const std::string& now) {
    const auto count = event.contains("count") && event["count"].is_number_integer() ? event["count"].get<long long>() : 0;
    event["count"] = count + 1;
    event["lastTimestamp"] = now;
    event["message"] = message;
}

bool container_oom_killed(const json& pod, const std::string& container) try {
    if (!pod.is_object() || !pod.contains("status")) return false;
    const json statuses = pod["status"].is_object() ? pod["status"].value("containerStatuses", json::array()) : json();
    const json* status = find_by_name(statuses, container);
    if (!status) return false;
    // lastState: the container was restarted after the kill; state: it has not been restarted (yet).
    for (const char* key : {"lastState", "state"}) {
        const json s = status->value(key, json::object());
        if (s.is_object() && s.contains("terminated") && s["terminated"].is_object()) {
            const json code = s["terminated"].value("exitCode", json());
            if (code.is_number_integer() && code.get<long long>() == 137) return true;
        }
    }
    return false;
} catch (const json::exception& e) {
    throw Error(ErrorCode::HelperError, "container " + container + ": unexpected pod object: " + e.what());
}

Litmus::Litmus(kube::Client& client, LitmusContext ctx) : client_(client), ctx_(std::move(ctx)) {}

std::vector<TargetContainer> Litmus::resolve_targets(const std::vector<TargetSpec>& specs) {
    std::vector<TargetContainer> out;
    for (const auto& spec : specs) {
        json pod;
        try {
            pod = client_.get(pod_path(spec.ns, spec.pod));
        } catch (const kube::ApiError& e) {
            // litmus-go common.GetContainerID: a pod that cannot be read is a HELPER_ERROR.
            throw kube::ApiError(ErrorCode::HelperError, e, "{podName: " + spec.pod + ", namespace: " + spec.ns + "}");
        }
        for (auto& target : target_containers(spec, pod)) out.push_back(std::move(target));
    }
    return out;
}

void Litmus::annotate(const std::string& pod, const std::string& state) {
    try {
        client_.merge_patch(chaosresult_path(ctx_), annotation_patch(pod, state));
    } catch (const kube::ApiError& e) {
        throw kube::ApiError(ErrorCode::ChaosResultCrudError, e, result_target(ctx_));
    }
}

void Litmus::annotate_effect(const std::string& pod, const std::string& summary) {
    json patch = {{"metadata", {{"annotations", {{"stress-effect/" + pod, summary}}}}}};
    try {
        client_.merge_patch(chaosresult_path(ctx_), patch);
    } catch (const kube::ApiError& e) {
        throw kube::ApiError(ErrorCode::ChaosResultCrudError, e, result_target(ctx_));
    }
}

void Litmus::record_failure(ErrorCode code, const std::string& reason_json) {
    try {
        client_.update(chaosresult_path(ctx_), [&](json& result) { apply_error_output(result, code, reason_json); });
    } catch (const kube::ApiError& e) {
        throw kube::ApiError(ErrorCode::ChaosResultCrudError, e, result_target(ctx_));
    }
}

bool Litmus::event(const std::string& reason, const std::string& message, const std::string& type) {
    if (ctx_.chaosengine.empty()) return false;
    const std::string path = event_path(ctx_, reason);
    try {
        // GET then PUT count+1, or POST when missing. A 409 (someone created or updated it in
        // between) starts the cycle again, so two writers never lose a count.
        client_.with_retry(
            [&] {
                const std::string now = rfc3339_now();
                try {
                    json event = client_.call("GET", path);
                    bump_event(event, message, now);
                    client_.call("PUT", path, &event);
                } catch (const kube::ApiError& e) {
                    if (!e.not_found()) throw;
                    const json event = new_engine_event(ctx_, reason, message, type, now);
                    client_.call("POST", events_path(ctx_), &event);
                }
            },
            kube::Client::OnConflict::Retry);
    } catch (const kube::ApiError& e) {
        throw kube::ApiError(ErrorCode::GenericError, e,
                             "{name: " + ctx_.chaosengine + ", namespace: " + ctx_.chaos_namespace + "}");
    }
    return true;
}

bool Litmus::oom_killed(const std::string& pod, const std::string& ns, const std::string& container) {
    try {
        return container_oom_killed(client_.get(pod_path(ns, pod)), container);
    } catch (const kube::ApiError& e) {
        throw kube::ApiError(ErrorCode::HelperError, e, target_text(pod, ns, container));
    }
}

} // namespace stress
