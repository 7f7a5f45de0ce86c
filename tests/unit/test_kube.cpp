// Unit tests for helper/kube.* and helper/litmus.*: names, paths, bodies, Status parsing, target
// resolution and the OOM check, on the recorded objects in tests/fixtures. The HTTPS exchange
// itself is tested end to end (tests/e2e/test_kube.py) against a stand-in API server.
#include "kube.hpp"
#include "litmus.hpp"
#include "text.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

using nlohmann::json;
using namespace stress;

namespace {

std::string fixture_text(const std::string& name) {
    std::ifstream in(std::string(FIXTURES_DIR) + "/" + name);
    REQUIRE(in);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

json fixture(const std::string& name) { return json::parse(fixture_text(name)); }

EnvLookup env_of(std::map<std::string, std::string> vars) {
    return [vars](const std::string& name) -> std::optional<std::string> {
        auto it = vars.find(name);
        if (it == vars.end()) return std::nullopt;
        return it->second;
    };
}

// A fresh temp dir, removed with everything in it at the end of the test.
struct TempDir {
    std::filesystem::path path;
    TempDir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "test_kube.XXXXXX").string();
        REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        path = tmpl;
    }
    ~TempDir() { std::filesystem::remove_all(path); }
    void write(const std::string& name, const std::string& text) const { std::ofstream(path / name) << text; }
};

TargetSpec spec(const std::string& pod, const std::string& ns, std::vector<std::string> containers) {
    TargetSpec s;
    s.pod = pod;
    s.ns = ns;
    if (containers.size() == 1 && containers[0] == "all")
        s.all_containers = true;
    else
        s.containers = std::move(containers);
    return s;
}

template <class F>
Error error_of(F&& f) {
    try {
        f();
    } catch (const Error& e) {
        return e;
    }
    FAIL("expected an Error");
    return Error(ErrorCode::GenericError, "unreachable");
}

const std::string running_pod = "app-6d4cf56db6-x7k2p";

} // namespace

TEST_CASE("host_port brackets IPv6 literals only", "[kube]") {
    CHECK(kube::host_port("10.96.0.1", "443") == "10.96.0.1:443");
    CHECK(kube::host_port("fd00:10:96::1", "443") == "[fd00:10:96::1]:443");
    CHECK(kube::host_port("kubernetes.default.svc", "6443") == "kubernetes.default.svc:6443");
}

TEST_CASE("path_segment percent-encodes everything but unreserved characters", "[kube]") {
    CHECK(kube::path_segment("app-6d4cf56db6-x7k2p") == "app-6d4cf56db6-x7k2p");
    CHECK(kube::path_segment("a.b_c~d") == "a.b_c~d");
    CHECK(kube::path_segment("a/b c?x#%") == "a%2Fb%20c%3Fx%23%25");
}

TEST_CASE("in_cluster_config reads the Kubernetes environment and service-account dir", "[kube]") {
    TempDir dir;
    dir.write("token", "t0k3n\n");
    dir.write("ca.crt", "-----BEGIN CERTIFICATE-----\n");

    SECTION("IPv4 host") {
        auto c = kube::in_cluster_config(env_of({{"KUBERNETES_SERVICE_HOST", "10.96.0.1"},
                                                 {"KUBERNETES_SERVICE_PORT", "443"}}),
                                         dir.path.string());
        CHECK(c.host == "10.96.0.1");
        CHECK(c.port == "443");
        CHECK(c.token_file == (dir.path / "token").string());
        CHECK(c.ca_file == (dir.path / "ca.crt").string());
        CHECK(c.connect_timeout == std::chrono::seconds(10));
        CHECK(c.read_timeout == std::chrono::seconds(30));
    }
    SECTION("IPv6 host, bare or bracketed") {
        for (std::string host : {"fd00::1", "[fd00::1]"}) {
            auto c = kube::in_cluster_config(env_of({{"KUBERNETES_SERVICE_HOST", host},
                                                     {"KUBERNETES_SERVICE_PORT", "6443"}}),
                                             dir.path.string());
            CHECK(c.host == "fd00::1");
            CHECK(kube::host_port(c.host, c.port) == "[fd00::1]:6443");
        }
    }
    SECTION("not in a pod") {
        auto e = error_of([&] { kube::in_cluster_config(env_of({}), dir.path.string()); });
        CHECK_THAT(e.what(), Catch::Contains("KUBERNETES_SERVICE_HOST is not set"));
        CHECK(e.code() == ErrorCode::HelperError);
        e = error_of([&] {
            kube::in_cluster_config(env_of({{"KUBERNETES_SERVICE_HOST", "10.0.0.1"}, {"KUBERNETES_SERVICE_PORT", ""}}),
                                    dir.path.string());
        });
        CHECK_THAT(e.what(), Catch::Contains("KUBERNETES_SERVICE_PORT is not set"));
    }
    SECTION("bad port") {
        for (std::string port : {"https", "0", "65536", "-1", "443x", "1234567"}) {
            auto e = error_of([&] {
                kube::in_cluster_config(env_of({{"KUBERNETES_SERVICE_HOST", "10.0.0.1"}, {"KUBERNETES_SERVICE_PORT", port}}),
                                        dir.path.string());
            });
            CHECK_THAT(e.what(), Catch::Contains("KUBERNETES_SERVICE_PORT=\"" + port + "\"") &&
                                     Catch::Contains("expected a port number"));
        }
    }
    SECTION("token not mounted") {
        std::filesystem::remove(dir.path / "token");
        auto e = error_of([&] {
            kube::in_cluster_config(env_of({{"KUBERNETES_SERVICE_HOST", "10.0.0.1"}, {"KUBERNETES_SERVICE_PORT", "443"}}),
                                    dir.path.string());
        });
        CHECK_THAT(e.what(), Catch::Contains((dir.path / "token").string()) &&
                                 Catch::Contains("No such file or directory"));
    }
}

TEST_CASE("retry_policy converts the Litmus seconds", "[kube]") {
    auto p = kube::retry_policy(180, 2);
    CHECK(p.budget == std::chrono::seconds(180));
    CHECK(p.delay == std::chrono::seconds(2));
}

TEST_CASE("parse_status reads metav1.Status bodies", "[kube]") {
    auto s = kube::parse_status(fixture_text("k8s-status-404-pod.json"));
    CHECK(s.reason == "NotFound");
    CHECK(s.message == "pods \"app-6d4cf56db6-zzzzz\" not found");
    s = kube::parse_status(fixture_text("k8s-status-409-conflict.json"));
    CHECK(s.reason == "Conflict");
    CHECK_THAT(s.message, Catch::StartsWith("Operation cannot be fulfilled on chaosresults.litmuschaos.io"));
    s = kube::parse_status(fixture_text("k8s-status-409-alreadyexists.json"));
    CHECK(s.reason == "AlreadyExists");
    // Not a Status: a pod, HTML from a proxy, nothing.
    CHECK(kube::parse_status(fixture_text("k8s-pod-running-containerd.json")).message.empty());
    CHECK(kube::parse_status("<html>502 Bad Gateway</html>").reason.empty());
    CHECK(kube::parse_status("").reason.empty());
    CHECK(kube::parse_status(R"({"kind":7,"reason":"x"})").reason.empty());
}

TEST_CASE("ApiError knows what is worth retrying", "[kube]") {
    const auto err = [](unsigned status) {
        return kube::ApiError(ErrorCode::HelperError, "GET", "/x", status, {}, "GET /x: failed");
    };
    CHECK(err(0).transient());
    CHECK(err(500).transient());
    CHECK(err(503).transient());
    CHECK(err(429).transient());
    CHECK_FALSE(err(400).transient());
    CHECK_FALSE(err(401).transient());
    CHECK_FALSE(err(403).transient());
    CHECK_FALSE(err(404).transient());
    CHECK_FALSE(err(409).transient());
    CHECK(err(409).conflict());
    const kube::ApiError rejected(ErrorCode::HelperError, "GET", "/x", 0, {}, "GET /x: TLS: rejected", true);
    CHECK(rejected.certificate_rejected());
    CHECK_FALSE(rejected.transient());
    CHECK(kube::ApiError(ErrorCode::GenericError, rejected).certificate_rejected());
    CHECK(err(404).not_found());

    const kube::ApiError original(ErrorCode::HelperError, "PUT", "/p", 409, {"Conflict", "modified"}, "PUT /p: HTTP 409");
    const kube::ApiError relabelled(ErrorCode::ChaosResultCrudError, original, "{name: r, namespace: litmus}");
    CHECK(relabelled.code() == ErrorCode::ChaosResultCrudError);
    CHECK(relabelled.target() == "{name: r, namespace: litmus}");
    CHECK(std::string(relabelled.what()) == "PUT /p: HTTP 409");
    CHECK(relabelled.http_status() == 409);
    CHECK(relabelled.api_reason() == "Conflict");
    CHECK(relabelled.method() == "PUT");
    CHECK(relabelled.path() == "/p");
}

TEST_CASE("ChaosResult, pod and event names and paths", "[litmus]") {
    LitmusContext ctx;
    ctx.chaos_namespace = "litmus";
    ctx.chaosengine = "nginx-chaos";
    ctx.experiment_name = "pod-cpu-hog";
    ctx.chaos_uid = "2b9f7e4c-8a1d-4c3e-b5f6-7d8e9f0a1b2c";

    CHECK(chaosresult_name(ctx) == "nginx-chaos-pod-cpu-hog");
    CHECK(chaosresult_path(ctx) == "/apis/litmuschaos.io/v1alpha1/namespaces/litmus/chaosresults/nginx-chaos-pod-cpu-hog");
    ctx.instance_id = "run7";
    CHECK(chaosresult_name(ctx) == "nginx-chaos-pod-cpu-hog-run7");
    ctx.chaosengine.clear();
    CHECK(chaosresult_name(ctx) == "pod-cpu-hog-run7");
    ctx.instance_id.clear();
    CHECK(chaosresult_name(ctx) == "pod-cpu-hog");

    CHECK(pod_path("default", running_pod) == "/api/v1/namespaces/default/pods/app-6d4cf56db6-x7k2p");
    CHECK(event_name(ctx, "ChaosInject") == "ChaosInjectpod-cpu-hog2b9f7e4c-8a1d-4c3e-b5f6-7d8e9f0a1b2c");
    CHECK(events_path(ctx) == "/api/v1/namespaces/litmus/events");
    CHECK(event_path(ctx, "ChaosInject") ==
          "/api/v1/namespaces/litmus/events/ChaosInjectpod-cpu-hog2b9f7e4c-8a1d-4c3e-b5f6-7d8e9f0a1b2c");
}

TEST_CASE("annotation_patch is a merge patch of metadata.annotations", "[litmus]") {
    CHECK(annotation_patch(running_pod, "injected").dump() ==
          R"({"metadata":{"annotations":{"pod/app-6d4cf56db6-x7k2p":"injected"}}})");
    CHECK(annotation_patch("p", "reverted").dump() == R"({"metadata":{"annotations":{"pod/p":"reverted"}}})");
}

TEST_CASE("failure_reason writes what litmus-go cerrors.Error marshals to", "[litmus]") {
    const std::string recorded =
        fixture("chaosresult-error.json")["status"]["experimentStatus"]["errorOutput"]["reason"];
    CHECK(failure_reason("pod-cpu-hog-helper-jh2sw", ErrorCode::HelperError, "ChaosInject", "could not find valid cgroup",
                         "{podName: app-6d4cf56db6-x7k2p, namespace: default, container: app}") == recorded);

    // omitempty
    CHECK(failure_reason("", ErrorCode::ExperimentAborted, "ChaosInject", "aborted", "") ==
          R"({"errorCode":"EXPERIMENT_ABORTED","phase":"ChaosInject","reason":"aborted"})");
    // Go's escaping: quotes, control characters, HTML characters, invalid UTF-8; valid UTF-8 kept.
    const std::string tricky = "say \"hi\"\n\t<b> & \x01 caf\xc3\xa9 \xff";
    const std::string text = failure_reason("s", ErrorCode::ChaosInjectError, "", tricky, "");
    CHECK(text == "{\"source\":\"s\",\"errorCode\":\"CHAOS_INJECT_ERROR\",\"reason\":"
                  "\"say \\\"hi\\\"\\n\\t\\u003cb\\u003e \\u0026 \\u0001 caf\xc3\xa9 \\ufffd\"}");
    // ...and it is JSON that reads back to the text (with the invalid byte replaced).
    CHECK(json::parse(text)["reason"] == "say \"hi\"\n\t<b> & \x01 caf\xc3\xa9 \xef\xbf\xbd");
}

TEST_CASE("apply_error_output: an answer that is no ChaosResult object is an error, not a crash", "[litmus]") {
    // Regression inputs found by tests/fuzz/fuzz_kube_json: a JSON number, and fields of other types.
    for (const char* text : {"9", "[1,2]", "\"x\"", "null"}) {
        INFO(text);
        nlohmann::json result = nlohmann::json::parse(text);
        try {
            apply_error_output(result, ErrorCode::ChaosInjectError, "r");
            FAIL("no error");
        } catch (const Error& e) {
            CHECK(e.code() == ErrorCode::ChaosResultCrudError);
            CHECK_THAT(e.what(), Catch::Contains("not an object"));
        }
    }
    nlohmann::json odd = nlohmann::json::parse(R"({"status":{"experimentStatus":{"errorOutput":{"reason":7,"errorCode":[]}}}})");
    apply_error_output(odd, ErrorCode::ChaosInjectError, "r");
    CHECK(odd["status"]["experimentStatus"]["errorOutput"]["reason"] == "r");
    CHECK(odd["status"]["experimentStatus"]["errorOutput"]["errorCode"] == "CHAOS_INJECT_ERROR");
}

TEST_CASE("apply_error_output sets or appends errorOutput like litmus-go", "[litmus]") {
    SECTION("first failure") {
        json result = fixture("chaosresult-running.json");
        apply_error_output(result, ErrorCode::ContainerRuntimeError, R"({"reason":"x"})");
        const auto& out = result["status"]["experimentStatus"]["errorOutput"];
        CHECK(out["errorCode"] == "CONTAINER_RUNTIME_ERROR");
        CHECK(out["reason"] == R"({"reason":"x"})");
        // The rest is untouched, including what the PUT's optimistic lock needs.
        CHECK(result["metadata"]["resourceVersion"] == "51020");
        CHECK(result["status"]["experimentStatus"]["phase"] == "Running");
        CHECK(result["status"]["history"]["targets"].size() == 1);
    }
    SECTION("second failure appends, keeps the first errorCode") {
        json result = fixture("chaosresult-error.json");
        const std::string first = result["status"]["experimentStatus"]["errorOutput"]["reason"];
        apply_error_output(result, ErrorCode::ChaosInjectError, R"({"reason":"second"})");
        const auto& out = result["status"]["experimentStatus"]["errorOutput"];
        CHECK(out["errorCode"] == "HELPER_ERROR");
        CHECK(out["reason"] == "[" + first + R"(,{"reason":"second"}])");
        apply_error_output(result, ErrorCode::ChaosInjectError, R"({"reason":"third"})");
        CHECK(result["status"]["experimentStatus"]["errorOutput"]["reason"] ==
              "[" + first + R"(,{"reason":"second"},{"reason":"third"}])");
        // A retried write whose first attempt landed does not append the same reason again.
        apply_error_output(result, ErrorCode::ChaosInjectError, R"({"reason":"third"})");
        // The appended list of JSON objects is itself JSON.
        CHECK(json::parse(std::string(result["status"]["experimentStatus"]["errorOutput"]["reason"])).size() == 3);
    }
    SECTION("no status at all") {
        json result = {{"metadata", {{"name", "r"}}}};
        apply_error_output(result, ErrorCode::GenericError, "why");
        CHECK(result["status"]["experimentStatus"]["errorOutput"] ==
              json{{"errorCode", "GENERIC_ERROR"}, {"reason", "why"}});
        apply_error_output(result, ErrorCode::GenericError, "why");
        CHECK(result["status"]["experimentStatus"]["errorOutput"]["reason"] == "why");
    }
    CHECK(append_fail_step("a", "b") == "[a,b]");
    CHECK(append_fail_step("[a,b]", "c") == "[a,b,c]");
    CHECK(append_fail_step("", "b") == "b");
}

TEST_CASE("engine events: created with count 1, then bumped", "[litmus]") {
    LitmusContext ctx;
    ctx.chaos_namespace = "litmus";
    ctx.chaosengine = "nginx-chaos";
    ctx.experiment_name = "pod-io-stress";
    ctx.chaos_uid = "uid-1";
    ctx.pod_name = "pod-io-stress-helper-abcde";
    json event = new_engine_event(ctx, "ChaosInject", "Injecting pod-io-stress chaos on application pod", "Normal",
                                  "2026-01-02T03:04:05Z");
    CHECK(event["apiVersion"] == "v1");
    CHECK(event["kind"] == "Event");
    CHECK(event["metadata"] == json{{"name", "ChaosInjectpod-io-stressuid-1"}, {"namespace", "litmus"}});
    CHECK(event["involvedObject"] == json{{"apiVersion", "litmuschaos.io/v1alpha1"},
                                          {"kind", "ChaosEngine"},
                                          {"name", "nginx-chaos"},
                                          {"namespace", "litmus"},
                                          {"uid", "uid-1"}});
    CHECK(event["source"] == json{{"component", "pod-io-stress-helper-abcde"}});
    CHECK(event["reason"] == "ChaosInject");
    CHECK(event["type"] == "Normal");
    CHECK(event["count"] == 1);
    CHECK(event["firstTimestamp"] == "2026-01-02T03:04:05Z");
    CHECK(event["lastTimestamp"] == "2026-01-02T03:04:05Z");

    bump_event(event, "again", "2026-01-02T03:05:00Z");
    CHECK(event["count"] == 2);
    CHECK(event["message"] == "again");
    CHECK(event["firstTimestamp"] == "2026-01-02T03:04:05Z");
    CHECK(event["lastTimestamp"] == "2026-01-02T03:05:00Z");

    const std::string now = rfc3339_now();
    CHECK(now.size() == 20);
    CHECK(now.back() == 'Z');
    CHECK(now[10] == 'T');
}

TEST_CASE("target_containers: containerStatuses that is not a list is an unexpected pod, not 'no status yet'",
          "[litmus]") {
    json pod = fixture("k8s-pod-running-containerd.json");
    pod["status"]["containerStatuses"] = "running";
    TargetSpec s;
    s.pod = pod["metadata"]["name"];
    s.ns = pod["metadata"]["namespace"];
    s.all_containers = true;
    const Error e = error_of([&] { target_containers(s, pod); });
    CHECK(e.code() == ErrorCode::HelperError);
    CHECK_THAT(e.what(), Catch::Contains("unexpected pod object: status.containerStatuses is a JSON string"));
}

TEST_CASE("target_containers picks containers from the pod object", "[litmus]") {
    const json pod = fixture("k8s-pod-running-containerd.json");

    SECTION("all, in pod order") {
        auto targets = target_containers(spec(running_pod, "default", {"all"}), pod);
        REQUIRE(targets.size() == 2);
        CHECK(targets[0].container == "app");
        CHECK(targets[0].container_id == "c78cd7b8530e9b03363c7ba5b0d1bca5da06575095d6af4d5c85ea8c8eec7b01");
        CHECK(targets[0].runtime == "containerd");
        CHECK(targets[0].pod == running_pod);
        CHECK(targets[0].ns == "default");
        CHECK(targets[0].describe() == "{podName: app-6d4cf56db6-x7k2p, namespace: default, container: app}");
        CHECK(targets[1].container == "sidecar");
        CHECK(targets[1].container_id == "3f9d2b6c81e04a7d95c2e1f0a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9");
    }
    SECTION("a comma list, in TARGETS order, duplicates once") {
        auto targets = target_containers(spec(running_pod, "default", {"sidecar", "app", "sidecar"}), pod);
        REQUIRE(targets.size() == 2);
        CHECK(targets[0].container == "sidecar");
        CHECK(targets[1].container == "app");
    }
    SECTION("a missing container names itself and the pod") {
        auto e = error_of([&] { target_containers(spec(running_pod, "default", {"app", "nginx"}), pod); });
        CHECK(e.code() == ErrorCode::ContainerRuntimeError);
        CHECK_THAT(e.what(), Catch::Contains("\"nginx\"") && Catch::Contains(running_pod) &&
                                 Catch::Contains("its containers: app, sidecar"));
        CHECK(e.target() == "{podName: app-6d4cf56db6-x7k2p, namespace: default, container: nginx}");
    }
    SECTION("a container that is not running") {
        json p = pod;
        p["status"]["containerStatuses"][1]["state"] =
            json{{"waiting", {{"reason", "CrashLoopBackOff"}, {"message", "back-off 5m0s"}}}};
        auto e = error_of([&] { target_containers(spec(running_pod, "default", {"all"}), p); });
        CHECK(e.code() == ErrorCode::ContainerRuntimeError);
        CHECK_THAT(e.what(), Catch::Contains("\"sidecar\"") && Catch::Contains("is not running") &&
                                 Catch::Contains("waiting (CrashLoopBackOff)"));
        // The other container alone is fine.
        CHECK(target_containers(spec(running_pod, "default", {"app"}), p).size() == 1);

        p["status"]["containerStatuses"][1]["state"] =
            json{{"terminated", {{"reason", "Error"}, {"exitCode", 2}}}};
        e = error_of([&] { target_containers(spec(running_pod, "default", {"sidecar"}), p); });
        CHECK_THAT(e.what(), Catch::Contains("terminated (Error, exit code 2)"));
    }
    SECTION("no status or no container ID yet") {
        json p = pod;
        p["status"]["containerStatuses"].erase(1);
        auto e = error_of([&] { target_containers(spec(running_pod, "default", {"sidecar"}), p); });
        CHECK_THAT(e.what(), Catch::Contains("has no status yet") && Catch::Contains("pod phase Running"));
        p = pod;
        p["status"]["containerStatuses"][0]["containerID"] = "";
        e = error_of([&] { target_containers(spec(running_pod, "default", {"app"}), p); });
        CHECK_THAT(e.what(), Catch::Contains("has no container ID"));
        p["status"]["containerStatuses"][0]["containerID"] = "c78cd7b8";
        e = error_of([&] { target_containers(spec(running_pod, "default", {"app"}), p); });
        CHECK_THAT(e.what(), Catch::Contains("expected <runtime>://<id>"));
    }
    SECTION("the runtime prefix is reported") {
        for (std::string runtime : {"cri-o", "docker", "containerd"}) {
            json p = pod;
            p["status"]["containerStatuses"][0]["containerID"] = runtime + "://abc123";
            auto targets = target_containers(spec(running_pod, "default", {"app"}), p);
            REQUIRE(targets.size() == 1);
            CHECK(targets[0].runtime == runtime);
            CHECK(targets[0].container_id == "abc123");
        }
    }
    SECTION("a pod object without containers") {
        auto e = error_of([&] { target_containers(spec("p", "n", {"all"}), json{{"kind", "Pod"}}); });
        CHECK_THAT(e.what(), Catch::Contains("no spec.containers"));
    }
}

TEST_CASE("container_oom_killed reads exit code 137 from the container's status", "[litmus]") {
    const json oom = fixture("k8s-pod-oomkilled-containerd.json");
    CHECK(container_oom_killed(oom, "sidecar"));
    CHECK_FALSE(container_oom_killed(oom, "app"));
    CHECK_FALSE(container_oom_killed(oom, "nope"));
    const json running = fixture("k8s-pod-running-containerd.json");
    CHECK_FALSE(container_oom_killed(running, "app"));
    CHECK_FALSE(container_oom_killed(running, "sidecar"));
    // Killed and not restarted (yet): the current state says so.
    json p = running;
    p["status"]["containerStatuses"][0]["state"] = json{{"terminated", {{"exitCode", 137}, {"reason", "OOMKilled"}}}};
    CHECK(container_oom_killed(p, "app"));
    // Another exit code is not an OOM kill.
    p["status"]["containerStatuses"][0]["state"] = json{{"terminated", {{"exitCode", 1}, {"reason", "Error"}}}};
    CHECK_FALSE(container_oom_killed(p, "app"));
}

TEST_CASE("with_retry: transient errors are retried within the budget, others are not", "[kube]") {
    kube::ClientConfig config;
    config.retry.delay = std::chrono::milliseconds(10);
    config.retry.budget = std::chrono::milliseconds(200);
    kube::Client client(config);
    const auto failing = [](unsigned status) {
        return kube::ApiError(ErrorCode::HelperError, "GET", "/x", status, {}, "GET /x: HTTP " + std::to_string(status));
    };

    int calls = 0;
    client.with_retry([&] {
        if (++calls < 3) throw failing(503);
    });
    CHECK(calls == 3);

    calls = 0;
    auto e = error_of([&] { client.with_retry([&] { ++calls; throw failing(404); }); });
    CHECK(calls == 1);
    CHECK(std::string(e.what()) == "GET /x: HTTP 404");

    calls = 0;
    e = error_of([&] { client.with_retry([&] { ++calls; throw failing(500); }); });
    CHECK(calls > 3);
    CHECK_THAT(e.what(), Catch::StartsWith("GET /x: HTTP 500 (gave up after " + std::to_string(calls) + " attempts"));

    calls = 0;
    client.with_retry([&] { if (++calls == 1) throw failing(409); }, kube::Client::OnConflict::Retry);
    CHECK(calls == 2);
    calls = 0;
    error_of([&] { client.with_retry([&] { ++calls; throw failing(409); }); });
    CHECK(calls == 1);

    // An abort ends the retries at once.
    config.retry.budget = std::chrono::seconds(60);
    config.retry.delay = std::chrono::seconds(5);
    AbortToken abort;
    config.retry.abort = &abort;
    kube::Client aborting(config);
    calls = 0;
    auto start = std::chrono::steady_clock::now();
    error_of([&] { aborting.with_retry([&] { ++calls; abort.request(); throw failing(500); }); });
    CHECK(calls == 1);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(1));

    // … also when it arrives during the delay between two attempts.
    AbortToken later;
    config.retry.abort = &later;
    kube::Client aborting_later(config);
    calls = 0;
    start = std::chrono::steady_clock::now();
    std::thread requester([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        later.request();
    });
    error_of([&] { aborting_later.with_retry([&] { ++calls; throw failing(500); }); });
    requester.join();
    CHECK(calls == 1);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
}
