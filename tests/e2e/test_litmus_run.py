"""End-to-end: the helper run exactly as Litmus runs it (`./helpers -name stress-chaos`, the
environment of docs/litmus-contract.md §2, service-account files at their real path in a private mount namespace,
KUBERNETES_SERVICE_HOST/PORT), against the stand-in API server (apiserver.py: real HTTPS, bearer
token, real object shapes) whose pods point at real containers in a private containerd.

1. Two pods, one with TARGETS containers `all`: stress lands in every target container (their
   cgroups' CPU usage grows), the ChaosResult gets pod/<name>: injected then reverted, one
   ChaosEngine event, exit 0.
2. SIGTERM mid-run: reverted annotations, exit 1, nothing left in any target.
3. Failures write errorOutput with the right errorCode and a reason naming the target.
4. The service-account token never appears in the output.
"""

import json
import os
import signal
import subprocess
import sys
import time
import unittest

import apiserver
import harness

NS = "shop"
ENGINE = "shop-chaos"
EXPERIMENT = "pod-cpu-hog"
RESULT = f"{ENGINE}-{EXPERIMENT}"
UID = "8f1d7c36-3f5e-4b8e-9b55-0d1f2c3a4b5c"


class LitmusRun(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.bindir = os.path.dirname(harness.binary("helpers"))
        cls.ctd = harness.Containerd()
        cls.addClassCleanup(cls.ctd.stop)
        cls.ctd.start()
        cls.api = apiserver.APIServer(namespace="litmus")
        cls.addClassCleanup(cls.api.stop)
        cls.api.start()
        cls.figures = []

    @classmethod
    def tearDownClass(cls):
        for line in cls.figures:
            print(f"\n[litmus e2e] {line}", file=sys.stderr)

    def setUp(self):
        self.api.reset()
        self.api.put_object(*apiserver.make_chaosresult("litmus", RESULT, ENGINE, EXPERIMENT))

    # -- helpers ---------------------------------------------------------------------------------

    def target(self):
        t = self.ctd.run_target()
        self.addCleanup(self.ctd.stop_target, t)
        return t

    def put_pod(self, name, containers):
        self.api.put_object(apiserver.pod_path(NS, name), apiserver.make_pod(name, NS, containers))

    def env(self, targets, **overrides):
        env = {
            "PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
            "TARGETS": targets,
            "TOTAL_CHAOS_DURATION": "4",
            "STRESS_TYPE": "pod-cpu-stress",
            "CPU_CORES": "1",
            "CPU_LOAD": "40",
            "CONTAINER_RUNTIME": "containerd",
            "SOCKET_PATH": self.ctd.socket,
            "CHAOS_NAMESPACE": "litmus",
            "CHAOSENGINE": ENGINE,
            "EXPERIMENT_NAME": EXPERIMENT,
            "INSTANCE_ID": "",
            "CHAOS_UID": UID,
            "POD_NAME": f"{EXPERIMENT}-helper-abcde",
            "STATUS_CHECK_TIMEOUT": "4",
            "STATUS_CHECK_DELAY": "1",
            # what Litmus sets for the other two experiments, empty or "0" here
            "MEMORY_CONSUMPTION": "",
            "NUMBER_OF_WORKERS": "",
            "FILESYSTEM_UTILIZATION_PERCENTAGE": "",
            "FILESYSTEM_UTILIZATION_BYTES": "",
            "VOLUME_MOUNT_PATH": "",
        }
        env.update(overrides)
        return env

    def start(self, env, **kw):
        return apiserver.run_in_pod(self.api, ["./helpers", "-name", "stress-chaos"], env, cwd=self.bindir,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)

    def run_helper(self, env, timeout=90):
        proc = self.start(env)
        out, err = proc.communicate(timeout=harness.scaled(timeout))
        self.assert_no_token(out + err)
        return proc.returncode, err

    def assert_no_token(self, text):
        for token in self.api.tokens_issued:
            self.assertNotIn(token, text, "the service-account token appears in the output")

    def annotation_history(self):
        return self.api.annotation_history(apiserver.chaosresult_path("litmus", RESULT))

    def error_output(self):
        return self.api.get_object(apiserver.chaosresult_path("litmus", RESULT))["status"]["experimentStatus"].get(
            "errorOutput")

    def ours_in(self, t, base):
        return sorted(set(harness.pids_in_pidns(harness.pidns_of(t.pid))) - base)

    # -- 1. the full run -------------------------------------------------------------------------

    def test_full_run_two_pods_one_with_all_containers(self):
        a1, a2, b1 = self.target(), self.target(), self.target()
        self.put_pod("cart-5f7c9-abcde", [{"name": "app", "id": a1.id}, {"name": "sidecar", "id": a2.id}])
        self.put_pod("pay-6d8b4-fghij", [{"name": "app", "id": b1.id}, {"name": "proxy", "id": "f" * 64}])
        before = {t.id: harness.cpu_usage_ns(t.pid) for t in (a1, a2, b1)}
        bases = {t.id: set(harness.pids_in_pidns(harness.pidns_of(t.pid))) for t in (a1, a2, b1)}
        t0 = time.monotonic()
        rc, err = self.run_helper(self.env(f"cart-5f7c9-abcde:{NS}:ALL;pay-6d8b4-fghij:{NS}:app"))
        self.assertEqual(rc, 0, err)
        for t in (a1, a2, b1):
            grew = (harness.cpu_usage_ns(t.pid) - before[t.id]) / 1e9
            self.assertGreater(grew, 0.8, f"target {t.id[:12]} got {grew:.2f} core-s\n{err}")
            self.assertEqual(self.ours_in(t, bases[t.id]), [])
        self.assertEqual(self.annotation_history(), [
            ("pod/cart-5f7c9-abcde", "injected"), ("pod/pay-6d8b4-fghij", "injected"),
            ("pod/cart-5f7c9-abcde", "reverted"), ("pod/pay-6d8b4-fghij", "reverted")])
        result = self.api.get_object(apiserver.chaosresult_path("litmus", RESULT))
        effect = result["metadata"]["annotations"].get("stress-effect/cart-5f7c9-abcde", "")
        self.assertRegex(effect, r"app: cpu \d+\.\d\d core-s.* \| sidecar: cpu")
        events = [r for r in self.api.requests if "/events" in r.path and r.method in ("POST", "PUT")]
        self.assertEqual(len(events), 1, [(r.method, r.path) for r in events])
        event = events[0].body
        self.assertEqual(event["metadata"]["name"], f"ChaosInject{EXPERIMENT}{UID}")
        self.assertEqual(event["reason"], "ChaosInject")
        self.assertEqual(event["involvedObject"]["name"], ENGINE)
        self.assertIn(EXPERIMENT, event["message"])
        self.assertIsNone(self.error_output())
        self.figures.append(f"3 targets in 2 pods, 4 s of stress: whole run {time.monotonic() - t0:.2f} s")

    # -- 2. abort ---------------------------------------------------------------------------------

    def test_sigterm_mid_run_reverts_and_exits_1(self):
        t = self.target()
        self.put_pod("web-1", [{"name": "nginx", "id": t.id}])
        base = set(harness.pids_in_pidns(harness.pidns_of(t.pid)))
        proc = self.start(self.env(f"web-1:{NS}:nginx", TOTAL_CHAOS_DURATION="60"))
        ran = harness.wait_until(lambda: any((harness.comm_of(p) or "").startswith("stress-ng")
                                             for p in self.ours_in(t, base)), timeout=harness.scaled(15))
        self.assertTrue(ran)
        proc.send_signal(signal.SIGTERM)
        gone = harness.wait_until(lambda: not self.ours_in(t, base), timeout=harness.scaled(1.0), interval=0.005)
        out, err = proc.communicate(timeout=harness.scaled(30))
        self.assert_no_token(out + err)
        self.assertTrue(gone, err)
        self.assertEqual(proc.returncode, 1, err)
        self.assertEqual(self.annotation_history(), [("pod/web-1", "injected"), ("pod/web-1", "reverted")])

    def test_annotation_failure_reverts_the_stress(self):
        """The "injected" annotation cannot be written: the stress must not stay running unrecorded."""
        t = self.target()
        self.put_pod("web-8", [{"name": "nginx", "id": t.id}])
        base = set(harness.pids_in_pidns(harness.pidns_of(t.pid)))
        self.api.always_fail(500, method="PATCH")
        out = self.expect_failure(self.env(f"web-8:{NS}:nginx", TOTAL_CHAOS_DURATION="60", STATUS_CHECK_TIMEOUT="2"),
                                  "CHAOS_RESULT_CRUD_ERROR", "500")
        self.assertEqual(self.ours_in(t, base), [], out)

    def test_sigterm_while_the_api_is_failing_is_not_held_up_by_the_retry_budget(self):
        """SIGTERM arrives while the helper retries the "injected" annotation against a failing API
        (60 s budget): the abort must revert at once, not after the budget."""
        t = self.target()
        self.put_pod("web-9", [{"name": "nginx", "id": t.id}])
        base = set(harness.pids_in_pidns(harness.pidns_of(t.pid)))
        self.api.always_fail(500, method="PATCH")
        proc = self.start(self.env(f"web-9:{NS}:nginx", TOTAL_CHAOS_DURATION="120", STATUS_CHECK_TIMEOUT="60"))
        self.assertTrue(harness.wait_until(lambda: len(self.api.requests_matching("PATCH")) >= 2, timeout=harness.scaled(15)))
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        gone = harness.wait_until(lambda: not self.ours_in(t, base), timeout=harness.scaled(1.0), interval=0.005)
        out, err = proc.communicate(timeout=harness.scaled(90))
        took = time.monotonic() - t0
        self.assert_no_token(out + err)
        self.assertTrue(gone, err)
        self.assertEqual(proc.returncode, 1, err)
        self.assertIn("[Abort]", err)
        # After an abort every write gets one attempt: a 60 s retry budget anywhere would show here.
        self.assertLess(took, harness.scaled(10), err)
        self.figures.append(f"SIGTERM while the API fails: helper exited after {took * 1000:.0f} ms")

    # -- 3. failures are written back -------------------------------------------------------------

    def expect_failure(self, env, code, *words):
        rc, err = self.run_helper(env)
        self.assertEqual(rc, 1, err)
        out = self.error_output()
        self.assertIsNotNone(out, f"no errorOutput written\n{err}")
        self.assertEqual(out["errorCode"], code, out)
        for w in words:
            self.assertIn(w, out["reason"], out)
        return out

    def test_missing_container_name(self):
        t = self.target()
        self.put_pod("web-2", [{"name": "nginx", "id": t.id}])
        self.expect_failure(self.env(f"web-2:{NS}:nginx,php"), "CONTAINER_RUNTIME_ERROR", "php", "web-2")
        self.assertEqual(self.annotation_history(), [])

    def test_container_not_running(self):
        self.api.put_object(apiserver.pod_path(NS, "web-3"), apiserver.make_pod("web-3", NS, [
            {"name": "nginx", "id": "a" * 64, "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]))
        self.expect_failure(self.env(f"web-3:{NS}:nginx"), "CONTAINER_RUNTIME_ERROR", "web-3", "nginx")

    def test_container_of_another_runtime(self):
        # Kubernetes says the container runs on docker (docker://<id>) while CONTAINER_RUNTIME is
        # containerd: a clear error naming both, before any runtime is asked.
        t = self.target()
        self.put_pod("web-6", [{"name": "nginx", "id": t.id, "runtime": "docker"}])
        self.expect_failure(self.env(f"web-6:{NS}:nginx"), "CONTAINER_RUNTIME_ERROR", "runs on docker",
                            f"docker://{t.id}", "but CONTAINER_RUNTIME=", "set CONTAINER_RUNTIME=docker", "web-6")
        self.assertEqual(self.annotation_history(), [])

    def test_wrong_runtime_socket(self):
        t = self.target()
        self.put_pod("web-4", [{"name": "nginx", "id": t.id}])
        self.expect_failure(self.env(f"web-4:{NS}:nginx", SOCKET_PATH="/run/containerd/nope.sock"),
                            "CONTAINER_RUNTIME_ERROR", "/run/containerd/nope.sock", "web-4")

    def test_api_500s_past_the_budget(self):
        self.put_pod("web-5", [{"name": "nginx", "id": "b" * 64}])
        self.api.always_fail(500, path_prefix=apiserver.pod_path(NS, "web-5"))
        t0 = time.monotonic()
        out = self.expect_failure(self.env(f"web-5:{NS}:nginx", STATUS_CHECK_TIMEOUT="3"), "HELPER_ERROR",
                                  "web-5", "500")
        took = time.monotonic() - t0
        self.assertLess(took, harness.scaled(3 + 10), out)
        self.assertGreaterEqual(len(self.api.requests_matching("GET", apiserver.pod_path(NS, "web-5"))), 2)

    def test_401_is_clear(self):
        self.put_pod("web-6", [{"name": "nginx", "id": "c" * 64}])
        self.api.always_fail(401)
        rc, err = self.run_helper(self.env(f"web-6:{NS}:nginx"))
        self.assertEqual(rc, 1, err)
        self.assertIn("401", err)

    def test_certificate_from_another_ca(self):
        self.put_pod("web-7", [{"name": "nginx", "id": "d" * 64}])
        self.api.certificate = "other-ca"
        rc, err = self.run_helper(self.env(f"web-7:{NS}:nginx"))
        self.assertEqual(rc, 1, err)
        self.assertRegex(err, r"(?i)certificate")
        self.assertEqual(self.api.requests, [], "the helper sent a request over an unverified connection")


if __name__ == "__main__":
    unittest.main()
