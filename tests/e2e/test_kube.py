"""End to end: helper/kube.* and helper/litmus.* over real HTTPS against the stand-in API server.

kube_probe (tests/tools/kube_probe.cpp) is run "in a pod" (apiserver.run_in_pod): the
service-account token and CA are bind-mounted at /var/run/secrets/kubernetes.io/serviceaccount in
a private mount namespace and KUBERNETES_SERVICE_HOST/PORT are set, as the kubelet does. Every
run also checks that no token the server ever issued appears in the probe's output.

Retry budgets are small (STATUS_CHECK_TIMEOUT=3, STATUS_CHECK_DELAY=1) so the whole file runs in
about half a minute.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import unittest

import apiserver
import harness
from apiserver import APIServer, chaosresult_path, event_path, make_chaosresult, make_pod, pod_path

NS = "default"
CHAOS_NS = "litmus"
ENGINE = "nginx-chaos"
EXPERIMENT = "pod-cpu-hog"
CHAOS_UID = "2b9f7e4c-8a1d-4c3e-b5f6-7d8e9f0a1b2c"
HELPER_POD = "pod-cpu-hog-helper-jh2sw"
RESULT = f"{ENGINE}-{EXPERIMENT}"
RESULT_PATH = chaosresult_path(CHAOS_NS, RESULT)
EVENT_NAME = f"ChaosInject{EXPERIMENT}{CHAOS_UID}"


def litmus_env(**overrides) -> dict:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "CHAOS_NAMESPACE": CHAOS_NS,
        "CHAOSENGINE": ENGINE,
        "EXPERIMENT_NAME": EXPERIMENT,
        "CHAOS_UID": CHAOS_UID,
        "POD_NAME": HELPER_POD,
        "STATUS_CHECK_TIMEOUT": "3",
        "STATUS_CHECK_DELAY": "1",
        # Debug lines log every API call: the more output, the better the token check.
        "HELPER_LOG_LEVEL": "debug",
    }
    env.update(overrides)
    return {k: v for k, v in env.items() if v is not None}


class KubeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.probe = harness.binary("kube_probe")
        cls.api = APIServer()
        cls.api.start()
        cls.addClassCleanup(cls.api.stop)

    def setUp(self):
        self.api.reset()  # a rotated token stays: the service-account file has it
        self.app_id = harness.make_container_id()
        self.sidecar_id = harness.make_container_id()

    # -- helpers

    def run_probe(self, *args, env=None, expect_rc=0, timeout=60) -> subprocess.CompletedProcess:
        start = time.monotonic()
        r = apiserver.run_in_pod_and_wait(self.api, [self.probe, *args], env or litmus_env(), timeout=timeout)
        r.elapsed = time.monotonic() - start
        for token in self.api.tokens_issued:
            self.assertNotIn(token, r.stdout + r.stderr, "the service-account token leaked into the output")
        if expect_rc is not None:
            self.assertEqual(r.returncode, expect_rc, f"kube_probe {args}: stdout={r.stdout!r} stderr={r.stderr!r}")
        return r

    def put_pod(self, name="web-7d4b9c-x2x9z", containers=None):
        if containers is None:
            containers = [{"name": "app", "id": self.app_id},
                          {"name": "sidecar", "id": self.sidecar_id}]
        self.api.put_object(pod_path(NS, name), make_pod(name, NS, containers))
        return name

    def put_result(self):
        path, obj = make_chaosresult(CHAOS_NS, RESULT, ENGINE, EXPERIMENT)
        obj["metadata"]["annotations"] = {"kept": "yes"}
        self.api.put_object(path, obj)

    def error_line(self, stderr: str) -> str:
        lines = [line for line in stderr.splitlines() if "level=error" in line]
        self.assertEqual(len(lines), 1, stderr)
        return lines[0]

    # -- reading pods

    def test_resolve_all_and_list(self):
        pod = self.put_pod(containers=[{"name": "app", "id": self.app_id},
                                       {"name": "sidecar", "id": self.sidecar_id, "runtime": "cri-o"}])
        r = self.run_probe("resolve", f"{pod}:{NS}:all")
        targets = [json.loads(line) for line in r.stdout.splitlines()]
        self.assertEqual(targets, [
            {"pod": pod, "namespace": NS, "container": "app", "containerID": self.app_id, "runtime": "containerd",
             "target": f"{{podName: {pod}, namespace: {NS}, container: app}}"},
            {"pod": pod, "namespace": NS, "container": "sidecar", "containerID": self.sidecar_id, "runtime": "cri-o",
             "target": f"{{podName: {pod}, namespace: {NS}, container: sidecar}}"},
        ])
        r = self.run_probe("resolve", f"{pod}:{NS}:sidecar")
        self.assertEqual([json.loads(line)["containerID"] for line in r.stdout.splitlines()], [self.sidecar_id])

        # What went over the wire: one GET per run, with the bearer token and the usual headers.
        gets = self.api.requests_matching("GET", pod_path(NS, pod))
        self.assertEqual(len(gets), 2)
        self.assertEqual(len(self.api.requests), 2)
        for request in gets:
            self.assertTrue(request.auth_ok)
            self.assertEqual(request.headers["Host"], f"127.0.0.1:{self.api.port}")
            self.assertEqual(request.headers["Accept"], "application/json")
            self.assertRegex(request.headers["User-Agent"], r"^litmus-stress-helper/\d")

    def test_resolve_errors(self):
        pod = self.put_pod(containers=[{"name": "app", "id": self.app_id},
                                       {"name": "sidecar", "id": self.sidecar_id,
                                        "state": {"waiting": {"reason": "CrashLoopBackOff"}}}])
        r = self.run_probe("resolve", f"{pod}:{NS}:app,nginx", expect_rc=1)
        line = self.error_line(r.stderr)
        self.assertIn('container \\"nginx\\" not found in pod ' + pod, line)
        self.assertIn("errorCode=CONTAINER_RUNTIME_ERROR", line)

        r = self.run_probe("resolve", f"{pod}:{NS}:all", expect_rc=1)
        line = self.error_line(r.stderr)
        self.assertIn("is not running (state: waiting (CrashLoopBackOff))", line)
        self.assertIn("errorCode=CONTAINER_RUNTIME_ERROR", line)

        # A pod that does not exist: the API's own message, HELPER_ERROR, and no retry on a 404.
        self.api.clear_requests()
        r = self.run_probe("resolve", f"web-gone-zzzzz:{NS}:all", expect_rc=1)
        line = self.error_line(r.stderr)
        self.assertIn(f"GET /api/v1/namespaces/{NS}/pods/web-gone-zzzzz", line)
        self.assertIn('HTTP 404 NotFound: pods \\"web-gone-zzzzz\\" not found', line)
        self.assertIn("errorCode=HELPER_ERROR", line)
        self.assertIn("httpStatus=404", line)
        self.assertEqual(len(self.api.requests), 1)
        self.assertLess(r.elapsed, 1.0)

    def test_oom_killed(self):
        pod = apiserver.load_fixture("k8s-pod-oomkilled-containerd.json")
        name = pod["metadata"]["name"]
        self.api.put_object(pod_path(NS, name), pod)
        self.assertEqual(self.run_probe("oom", NS, name, "sidecar").stdout, "true\n")
        self.assertEqual(self.run_probe("oom", NS, name, "app").stdout, "false\n")

    # -- writing the ChaosResult and events

    def test_annotate(self):
        self.put_result()
        pod = "web-7d4b9c-x2x9z"
        self.run_probe("annotate", pod, "injected")
        self.assertEqual(self.api.get_object(RESULT_PATH)["metadata"]["annotations"],
                         {"kept": "yes", f"pod/{pod}": "injected"})
        self.run_probe("annotate", pod, "reverted")
        self.assertEqual(self.api.get_object(RESULT_PATH)["metadata"]["annotations"],
                         {"kept": "yes", f"pod/{pod}": "reverted"})
        patches = self.api.requests_matching("PATCH", RESULT_PATH)
        self.assertEqual(len(patches), 2)
        self.assertEqual(patches[0].headers["Content-Type"], "application/merge-patch+json")
        self.assertEqual(patches[0].body, {"metadata": {"annotations": {f"pod/{pod}": "injected"}}})
        self.assertEqual(len(self.api.requests), 2)

    def test_annotate_missing_chaosresult(self):
        r = self.run_probe("annotate", "web", "injected", expect_rc=1)
        line = self.error_line(r.stderr)
        self.assertIn(f'chaosresults.litmuschaos.io \\"{RESULT}\\" not found', line)
        self.assertIn("errorCode=CHAOS_RESULT_CRUD_ERROR", line)
        self.assertIn(f'target="{{name: {RESULT}, namespace: {CHAOS_NS}}}"', line)

    def test_result_name(self):
        self.assertEqual(self.run_probe("result-name").stdout, f"{RESULT}\n")
        self.assertEqual(self.run_probe("result-name", env=litmus_env(CHAOSENGINE="", INSTANCE_ID="x1")).stdout,
                         f"{EXPERIMENT}-x1\n")

    def test_failure_written_then_appended(self):
        self.put_result()
        target = "{podName: web, namespace: default, container: app}"
        r = self.run_probe("fail", "CHAOS_INJECT_ERROR", "stress-ng exited with 2", target)
        first = r.stdout.strip()
        self.assertEqual(json.loads(first), {"source": HELPER_POD, "errorCode": "CHAOS_INJECT_ERROR",
                                             "phase": "ChaosInject", "reason": "stress-ng exited with 2",
                                             "target": target})
        out = self.api.get_object(RESULT_PATH)["status"]["experimentStatus"]["errorOutput"]
        self.assertEqual(out, {"errorCode": "CHAOS_INJECT_ERROR", "reason": first})

        r = self.run_probe("fail", "CHAOS_REVERT_ERROR", "could not stop <pid 42> & friends")
        second = r.stdout.strip()
        self.assertIn("\\u003cpid 42\\u003e \\u0026", second)  # Go's HTML-safe escaping
        result = self.api.get_object(RESULT_PATH)
        out = result["status"]["experimentStatus"]["errorOutput"]
        self.assertEqual(out["errorCode"], "CHAOS_INJECT_ERROR")  # litmus-go keeps the first code
        self.assertEqual(out["reason"], f"[{first},{second}]")
        self.assertEqual([r["reason"] for r in json.loads(out["reason"])],
                         ["stress-ng exited with 2", "could not stop <pid 42> & friends"])
        # Nothing else of the object was lost on the way.
        self.assertEqual(result["metadata"]["annotations"], {"kept": "yes"})
        self.assertEqual(result["status"]["experimentStatus"]["verdict"], "Awaited")
        # Each write is GET then PUT carrying the resourceVersion just read.
        methods = [r.method for r in self.api.requests]
        self.assertEqual(methods, ["GET", "PUT", "GET", "PUT"])
        puts = self.api.requests_matching("PUT", RESULT_PATH)
        self.assertTrue(all(p.body["metadata"].get("resourceVersion") for p in puts))

    def test_event_created_then_counted(self):
        r = self.run_probe("event", "ChaosInject", f"Injecting {EXPERIMENT} chaos on application pod")
        self.assertEqual(r.stdout, "sent\n")
        event = self.api.get_object(event_path(CHAOS_NS, EVENT_NAME))
        self.assertIsNotNone(event, "the event was not created")
        self.assertEqual(event["count"], 1)
        self.assertEqual(event["reason"], "ChaosInject")
        self.assertEqual(event["type"], "Normal")
        self.assertEqual(event["message"], f"Injecting {EXPERIMENT} chaos on application pod")
        self.assertEqual(event["involvedObject"], {"apiVersion": "litmuschaos.io/v1alpha1", "kind": "ChaosEngine",
                                                   "name": ENGINE, "namespace": CHAOS_NS, "uid": CHAOS_UID})
        self.assertEqual(event["source"], {"component": HELPER_POD})
        self.assertRegex(event["firstTimestamp"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        first_seen = event["firstTimestamp"]

        self.run_probe("event", "ChaosInject", "again", "Warning")
        event = self.api.get_object(event_path(CHAOS_NS, EVENT_NAME))
        self.assertEqual(event["count"], 2)
        self.assertEqual(event["message"], "again")
        self.assertEqual(event["firstTimestamp"], first_seen)
        self.assertEqual([(r.method, r.path) for r in self.api.requests], [
            ("GET", event_path(CHAOS_NS, EVENT_NAME)), ("POST", f"/api/v1/namespaces/{CHAOS_NS}/events"),
            ("GET", event_path(CHAOS_NS, EVENT_NAME)), ("PUT", event_path(CHAOS_NS, EVENT_NAME))])

        # No ChaosEngine: no event, no request.
        self.api.clear_requests()
        r = self.run_probe("event", "ChaosInject", "x", env=litmus_env(CHAOSENGINE=""))
        self.assertEqual(r.stdout, "skipped: CHAOSENGINE is not set\n")
        self.assertEqual(self.api.requests, [])

    # -- one connection for the whole run (HTTP/1.1 keep-alive)

    def test_one_connection_for_several_calls(self):
        pods = [self.put_pod(f"web-7d4b9c-{i}abcd") for i in range(3)]
        r = self.run_probe("resolve", ";".join(f"{p}:{NS}:app" for p in pods))
        self.assertEqual([json.loads(line)["pod"] for line in r.stdout.splitlines()], pods)
        self.assertEqual([(r.method, r.path) for r in self.api.requests], [("GET", pod_path(NS, p)) for p in pods])
        self.assertEqual(self.api.tls_connections, 1)
        self.assertEqual(r.stderr.count('connection=reused'), 2, r.stderr)

        # Writes too: GET then PUT of the ChaosResult, twice (a 409 in between keeps the connection).
        self.api.reset()
        self.put_result()
        self.api.conflict_next_put()
        self.run_probe("fail", "HELPER_ERROR", "x")
        self.assertEqual([r.method for r in self.api.requests], ["GET", "PUT", "GET", "PUT"])
        self.assertEqual(self.api.tls_connections, 1)

    def test_server_closes_the_kept_connection(self):
        # The server closes the connection after answering the first GET: silently (its idle
        # timeout, found out by the next request, which is sent again on a new connection), or
        # saying so (Connection: close, HTTP/1.0: the client closes it at once). Either way the
        # run succeeds with no retry delay and two connections.
        pods = [self.put_pod(f"web-7d4b9c-{i}abcd") for i in range(3)]
        for how in ("close", "announce-close", "http10"):
            with self.subTest(how=how):
                self.api.clear_requests()
                self.api.close_after_next(1, how, method="GET")
                r = self.run_probe("resolve", ";".join(f"{p}:{NS}:app" for p in pods))
                self.assertEqual([json.loads(line)["pod"] for line in r.stdout.splitlines()], pods)
                self.assertEqual([r.path for r in self.api.requests], [pod_path(NS, p) for p in pods])
                self.assertEqual(self.api.tls_connections, 2)
                self.assertNotIn("[Retry]", r.stderr)
                self.assertLess(r.elapsed, 1.0)
                found_out = "the kept connection was closed by the server" in r.stderr
                self.assertEqual(found_out, how == "close", r.stderr)

    def test_drop_on_a_kept_connection_is_sent_again_once(self):
        # The request reached the server, which closed the kept connection without a byte of
        # answer: sent again at once on a new connection (not a retry after STATUS_CHECK_DELAY).
        pods = [self.put_pod(f"web-7d4b9c-{i}abcd") for i in range(2)]
        self.api.drop_next(1, path_prefix=pod_path(NS, pods[1]))
        r = self.run_probe("resolve", ";".join(f"{p}:{NS}:app" for p in pods))
        self.assertEqual([json.loads(line)["pod"] for line in r.stdout.splitlines()], pods)
        self.assertEqual([r.path for r in self.api.requests],
                         [pod_path(NS, pods[0]), pod_path(NS, pods[1]), pod_path(NS, pods[1])])
        self.assertEqual(self.api.tls_connections, 2)
        self.assertIn("the kept connection was closed by the server", r.stderr)
        self.assertNotIn("[Retry]", r.stderr)

        # Dropped again on the new connection: that is an ordinary failure, left to the retry policy.
        self.api.clear_requests()
        self.api.drop_next(2, path_prefix=pod_path(NS, pods[1]))
        r = self.run_probe("resolve", ";".join(f"{p}:{NS}:app" for p in pods))
        self.assertEqual(len(self.api.requests_matching("GET", pod_path(NS, pods[1]))), 3)
        self.assertEqual(r.stderr.count("[Retry]"), 1, r.stderr)
        self.assertIn("closed the connection without a complete answer", r.stderr)
        self.assertEqual(self.api.tls_connections, 3)

    # -- retries

    def test_retry_on_500_then_success(self):
        pod = self.put_pod()
        self.api.fail_next(2, status=500, method="GET")
        r = self.run_probe("resolve", f"{pod}:{NS}:app")
        self.assertEqual(json.loads(r.stdout)["containerID"], self.app_id)
        self.assertEqual(len(self.api.requests_matching("GET", pod_path(NS, pod))), 3)
        self.assertEqual(r.stderr.count("[Retry]"), 2)
        self.assertIn("HTTP 500 InternalError: stand-in API server: injected HTTP 500", r.stderr)
        self.assertGreaterEqual(r.elapsed, 2.0)  # two STATUS_CHECK_DELAYs
        # A 5xx closes the connection: each attempt has its own (another API server replica, maybe).
        self.assertEqual(self.api.tls_connections, 3)

    def test_retry_on_429_and_dropped_connection(self):
        pod = self.put_pod()
        self.api.fail_next(1, status=429, method="GET")
        self.api.drop_next(1, method="GET")
        r = self.run_probe("resolve", f"{pod}:{NS}:app")
        self.assertEqual(json.loads(r.stdout)["containerID"], self.app_id)
        self.assertIn("HTTP 429", r.stderr)
        self.assertIn("closed the connection without a complete answer", r.stderr)

    def test_retries_stop_at_the_budget(self):
        pod = self.put_pod()
        self.api.always_fail(503, method="GET")
        r = self.run_probe("resolve", f"{pod}:{NS}:app", expect_rc=1)
        line = self.error_line(r.stderr)
        self.assertIn("HTTP 503 ServiceUnavailable", line)
        self.assertIn("gave up after 3 attempts", line)
        self.assertIn("httpStatus=503", line)
        self.assertEqual(len(self.api.requests), 3)
        self.assertGreaterEqual(r.elapsed, 2.0)
        self.assertLess(r.elapsed, 3.0 + 1.5)  # STATUS_CHECK_TIMEOUT plus start-up slack

    def test_failure_write_back_retried_on_500(self):
        self.put_result()
        self.api.fail_next(2, status=500, method="PUT")
        self.run_probe("fail", "HELPER_ERROR", "x")
        out = self.api.get_object(RESULT_PATH)["status"]["experimentStatus"]["errorOutput"]
        self.assertEqual(json.loads(out["reason"])["reason"], "x")  # written once, not appended thrice
        self.assertEqual([r.method for r in self.api.requests], ["GET", "PUT"] * 3)

    def test_conflict_on_put_reads_again(self):
        self.put_result()
        # Someone else writes the ChaosResult between our GET and our PUT: the server's own
        # resourceVersion check answers 409, we read again and write on top of their change.
        self.api.add_fault("none", method="PUT", path_prefix=RESULT_PATH,
                           action=lambda api: api.touch(RESULT_PATH, lambda o: o["metadata"]["annotations"].update(
                               {"pod/other": "injected"})))
        self.run_probe("fail", "HELPER_ERROR", "conflicted")
        self.assertEqual([r.method for r in self.api.requests], ["GET", "PUT", "GET", "PUT"])
        result = self.api.get_object(RESULT_PATH)
        self.assertEqual(result["metadata"]["annotations"], {"kept": "yes", "pod/other": "injected"})
        reason = result["status"]["experimentStatus"]["errorOutput"]["reason"]
        self.assertEqual(json.loads(reason)["reason"], "conflicted")  # not appended twice

        # An injected 409 on the event update: read again, count once.
        self.api.reset()
        self.run_probe("event", "ChaosInject", "one")
        self.api.conflict_next_put()
        self.run_probe("event", "ChaosInject", "two")
        self.assertEqual(self.api.get_object(event_path(CHAOS_NS, EVENT_NAME))["count"], 2)

    # -- refusals

    def test_unauthorized_is_clear_and_not_retried(self):
        self.put_pod()
        self.api.rotate_token(write_file=False)  # the server now wants a token the pod does not have
        try:
            r = self.run_probe("get-pod", NS, "web-7d4b9c-x2x9z", expect_rc=1)
        finally:
            self.api.write_service_account(self.api.sa_dir)
        line = self.error_line(r.stderr)
        self.assertIn("HTTP 401 Unauthorized", line)
        self.assertIn("rejected the service-account token from /var/run/secrets/kubernetes.io/serviceaccount/token",
                      line)
        self.assertEqual(len(self.api.requests), 1)
        self.assertFalse(self.api.requests[0].auth_ok)

    def test_forbidden_is_clear(self):
        self.put_result()
        message = (f'chaosresults.litmuschaos.io "{RESULT}" is forbidden: User "system:serviceaccount:litmus:'
                   f'litmus-admin" cannot patch resource "chaosresults" in API group "litmuschaos.io"')
        self.api.always_fail(403, message=message)
        r = self.run_probe("annotate", "web", "injected", expect_rc=1)
        line = self.error_line(r.stderr)
        self.assertIn("HTTP 403 Forbidden", line)
        self.assertIn("cannot patch resource", line)
        self.assertIn("not allowed to do this", line)
        self.assertEqual(len(self.api.requests), 1)

    def test_token_is_read_for_every_request(self):
        # The kubelet rotates bound tokens: between the event GET and the POST that follows it the
        # token changes (file and server); the POST must carry the new one.
        self.api.add_fault("none", method="GET", path_prefix=event_path(CHAOS_NS, EVENT_NAME),
                           action=lambda api: api.rotate_token())
        self.run_probe("event", "ChaosInject", "rotated")
        self.assertEqual([(r.method, r.auth_ok) for r in self.api.requests], [("GET", True), ("POST", True)])
        self.assertIsNotNone(self.api.get_object(event_path(CHAOS_NS, EVENT_NAME)))
        # Both on one connection (a 404 does not close it): the token is per request, not per connection.
        self.assertEqual(self.api.tls_connections, 1)

    def test_token_rotated_between_requests_on_one_connection(self):
        pods = [self.put_pod(f"web-7d4b9c-{i}abcd") for i in range(3)]
        self.api.add_fault("none", method="GET", path_prefix=pod_path(NS, pods[0]),
                           action=lambda api: api.rotate_token())
        self.run_probe("resolve", ";".join(f"{p}:{NS}:app" for p in pods))
        self.assertEqual([(r.path, r.auth_ok) for r in self.api.requests], [(pod_path(NS, p), True) for p in pods])
        self.assertEqual(self.api.tls_connections, 1)

    def test_certificate_from_another_ca_is_rejected(self):
        self.put_pod()
        self.api.certificate = "other-ca"
        r = self.run_probe("get-pod", NS, "web-7d4b9c-x2x9z", expect_rc=1)
        line = self.error_line(r.stderr)
        self.assertIn("TLS: the server certificate was rejected: unable to get local issuer certificate", line)
        self.assertIn("/var/run/secrets/kubernetes.io/serviceaccount/ca.crt", line)
        self.assertEqual(self.api.requests, [])  # not a byte of HTTP (nor the token) was sent
        self.assertEqual(len(self.api.handshake_failures), 1)  # and not retried
        self.assertNotIn("[Retry]", r.stderr)

    def test_certificate_for_another_address_is_rejected(self):
        self.put_pod()
        self.api.certificate = "wrong-name"  # our CA, but issued for IP 10.0.0.1
        r = self.run_probe("get-pod", NS, "web-7d4b9c-x2x9z", expect_rc=1)
        self.assertIn("IP address mismatch", self.error_line(r.stderr))
        self.assertEqual(self.api.requests, [])

    def test_slow_answer_times_out(self):
        self.put_pod()
        self.api.delay_answers(5.0)
        r = self.run_probe("--read-timeout", "0.5", "get-pod", NS, "web-7d4b9c-x2x9z", expect_rc=1,
                           env=litmus_env(STATUS_CHECK_TIMEOUT="1"))
        line = self.error_line(r.stderr)
        self.assertIn("no complete answer within the read timeout of 500 ms", line)
        self.assertIn("gave up after 1 attempt", line)
        self.assertLess(r.elapsed, 3.0)

    def test_no_server_listening(self):
        # A port nobody listens on (bound, never listened): connection refused, a clear error.
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            free = s.getsockname()[1]
            port, self.api.port = self.api.port, free
            try:
                r = self.run_probe("get-pod", NS, "x", env=litmus_env(STATUS_CHECK_TIMEOUT="1"), expect_rc=1)
            finally:
                self.api.port = port
        self.assertIn(f"connect to 127.0.0.1:{free}: Connection refused", self.error_line(r.stderr))

    def test_not_in_a_pod(self):
        r = subprocess.run([self.probe, "get-pod", NS, "x"], env=litmus_env(), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=30)
        self.assertEqual(r.returncode, 1)
        self.assertIn("KUBERNETES_SERVICE_HOST is not set", r.stderr)


class KubeIPv6Test(unittest.TestCase):
    """KUBERNETES_SERVICE_HOST may be an IPv6 address: [host]:port, and the IP SAN check on ::1."""

    def test_ipv6_service_host(self):
        probe = harness.binary("kube_probe")
        with APIServer(host="::1") as api:
            api.put_object(pod_path(NS, "web-1"), make_pod("web-1", NS, [{"name": "app", "id": "ab" * 32}]))
            r = apiserver.run_in_pod_and_wait(api, [probe, "get-pod", NS, "web-1"], litmus_env())
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(json.loads(r.stdout)["metadata"]["name"], "web-1")
            self.assertEqual(api.requests[0].headers["Host"], f"[::1]:{api.port}")
            self.assertNotIn(api.token, r.stdout + r.stderr)


if __name__ == "__main__":
    unittest.main()
