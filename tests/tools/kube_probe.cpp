// kube_probe — a thin CLI over helper/kube.* and helper/litmus.* for the end-to-end tests
// (tests/e2e/test_kube.py runs it "in a pod" against the stand-in API server):
//
//   kube_probe [--connect-timeout S] [--read-timeout S] COMMAND ARGS…
//     get-pod NS NAME                 print the pod JSON
//     resolve TARGETS                 one JSON line per target container
//     annotate POD STATE              ChaosResult annotation pod/POD=STATE
//     fail CODE REASON [TARGET]       ChaosResult errorOutput write-back (CODE e.g. HELPER_ERROR)
//     event REASON MESSAGE [TYPE]     ChaosEngine event (created or count+1)
//     oom NS POD CONTAINER            print true/false
//     result-name                     print the ChaosResult name (no API call)
//
// Configuration is the helper's: in-cluster (KUBERNETES_SERVICE_HOST/PORT and the service-account
// files at their real path), CHAOS_NAMESPACE, CHAOSENGINE, EXPERIMENT_NAME, INSTANCE_ID, CHAOS_UID,
// POD_NAME, STATUS_CHECK_TIMEOUT, STATUS_CHECK_DELAY; HELPER_LOG_LEVEL=debug logs every call. Exit 0 on success; on failure a logrus error
// line on stderr with errorCode (and httpStatus for API errors) and exit 1; 2 for a usage error.
#include "kube.hpp"
#include "litmus.hpp"
#include "log.hpp"
#include "targets.hpp"

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

namespace {

using namespace stress;

[[noreturn]] void usage(const std::string& why) {
    std::cerr << "kube_probe: " << why
              << "\nusage: kube_probe [--connect-timeout S] [--read-timeout S] "
                 "get-pod NS NAME | resolve TARGETS | annotate POD STATE | fail CODE REASON [TARGET] | "
                 "event REASON MESSAGE [TYPE] | oom NS POD CONTAINER | result-name\n";
    std::exit(2);
}

std::string env_or(const char* name, const std::string& fallback) {
    const char* value = std::getenv(name);
    return value && *value ? value : fallback;
}

int env_int(const char* name, int fallback) {
    const std::string text = env_or(name, "");
    if (text.empty()) return fallback;
    char* end = nullptr;
    const long value = std::strtol(text.c_str(), &end, 10);
    if (*end != '\0' || value < 1 || value > 86400) usage(std::string(name) + "=\"" + text + "\": expected seconds >= 1");
    return static_cast<int>(value);
}

std::chrono::milliseconds seconds_arg(const std::string& text) {
    char* end = nullptr;
    const double value = std::strtod(text.c_str(), &end);
    if (*end != '\0' || value <= 0) usage("expected a positive number of seconds, got \"" + text + "\"");
    return std::chrono::milliseconds(static_cast<long long>(value * 1000));
}

ErrorCode error_code_named(const std::string& name) {
    for (auto code : {ErrorCode::HelperError, ErrorCode::ContainerRuntimeError, ErrorCode::ChaosInjectError,
                      ErrorCode::ChaosRevertError, ErrorCode::ChaosResultCrudError, ErrorCode::ExperimentAborted,
                      ErrorCode::GenericError})
        if (name == litmus_error_code(code)) return code;
    usage("unknown errorCode " + name);
}

} // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    std::chrono::milliseconds connect_timeout{0}, read_timeout{0};
    size_t i = 0;
    for (; i < args.size() && args[i].rfind("--", 0) == 0; ++i) {
        if (i + 1 >= args.size()) usage(args[i] + " needs a value");
        if (args[i] == "--connect-timeout") connect_timeout = seconds_arg(args[++i]);
        else if (args[i] == "--read-timeout") read_timeout = seconds_arg(args[++i]);
        else usage("unknown option " + args[i]);
    }
    if (i >= args.size()) usage("no command");
    const std::string command = args[i];
    const std::vector<std::string> rest(args.begin() + static_cast<long>(i) + 1, args.end());
    const auto need = [&](size_t min, size_t max) {
        if (rest.size() < min || rest.size() > max) usage(command + ": wrong number of arguments");
    };

    // The helper's switch for debug lines (one per API call): the token test turns them on.
    log::set_debug(env_or("HELPER_LOG_LEVEL", "") == "debug");

    LitmusContext ctx;
    ctx.chaos_namespace = env_or("CHAOS_NAMESPACE", "litmus");
    ctx.chaosengine = env_or("CHAOSENGINE", "");
    ctx.experiment_name = env_or("EXPERIMENT_NAME", "");
    ctx.instance_id = env_or("INSTANCE_ID", "");
    ctx.chaos_uid = env_or("CHAOS_UID", "");
    ctx.pod_name = env_or("POD_NAME", "");

    if (command == "result-name") {
        need(0, 0);
        std::cout << chaosresult_name(ctx) << "\n";
        return 0;
    }

    try {
        kube::ClientConfig config = kube::in_cluster_config([](const std::string& name) -> std::optional<std::string> {
            const char* value = std::getenv(name.c_str());
            if (!value) return std::nullopt;
            return std::string(value);
        });
        config.retry = kube::retry_policy(env_int("STATUS_CHECK_TIMEOUT", 180), env_int("STATUS_CHECK_DELAY", 2));
        if (connect_timeout.count() > 0) config.connect_timeout = connect_timeout;
        if (read_timeout.count() > 0) config.read_timeout = read_timeout;
        kube::Client client(config);
        Litmus litmus(client, ctx);

        if (command == "get-pod") {
            need(2, 2);
            std::cout << client.get(pod_path(rest[0], rest[1])).dump() << "\n";
        } else if (command == "resolve") {
            need(1, 1);
            for (const auto& t : litmus.resolve_targets(parse_targets(rest[0]))) {
                std::cout << nlohmann::json{{"pod", t.pod},
                                            {"namespace", t.ns},
                                            {"container", t.container},
                                            {"containerID", t.container_id},
                                            {"runtime", t.runtime},
                                            {"target", t.describe()}}
                                 .dump()
                          << "\n";
            }
        } else if (command == "annotate") {
            need(2, 2);
            litmus.annotate(rest[0], rest[1]);
        } else if (command == "fail") {
            need(2, 3);
            const ErrorCode code = error_code_named(rest[0]);
            const std::string reason =
                failure_reason(ctx.pod_name, code, "ChaosInject", rest[1], rest.size() > 2 ? rest[2] : "");
            litmus.record_failure(code, reason);
            std::cout << reason << "\n";
        } else if (command == "event") {
            need(2, 3);
            const bool sent = litmus.event(rest[0], rest[1], rest.size() > 2 ? rest[2] : "Normal");
            std::cout << (sent ? "sent" : "skipped: CHAOSENGINE is not set") << "\n";
        } else if (command == "oom") {
            need(3, 3);
            std::cout << (litmus.oom_killed(rest[1], rest[0], rest[2]) ? "true" : "false") << "\n";
        } else {
            usage("unknown command " + command);
        }
    } catch (const kube::ApiError& e) {
        log::error(e.what(), {{"errorCode", litmus_error_code(e.code())},
                              {"httpStatus", std::to_string(e.http_status())},
                              {"target", e.target()}});
        return 1;
    } catch (const Error& e) {
        log::error(e.what(), {{"errorCode", litmus_error_code(e.code())}, {"target", e.target()}});
        return 1;
    }
    return 0;
}
