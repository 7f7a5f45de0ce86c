"""The runtime module for real: runtime_probe (tests/tools/runtime_probe.cpp) asks a private
containerd over its gRPC Tasks API and a private dockerd over its Engine API for a target's init
pid, and the cgroup scan finds the same pids in /proc; unknown ids, missing sockets and stopped
containers give one clear error each. Also measures one containerd lookup (the helper's start-up
budget is ~30 ms in all)."""

import os
import re
import statistics
import subprocess
import time
import unittest

import harness

PROBE_TIMEOUT = 30


def probe(*args) -> subprocess.CompletedProcess:
    return subprocess.run([harness.binary("runtime_probe"), *map(str, args)], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=PROBE_TIMEOUT)


class ProbeMixin:
    def assert_pid(self, cp: subprocess.CompletedProcess, pid: int):
        self.assertEqual(cp.returncode, 0, cp.stderr)
        self.assertEqual(cp.stdout.strip(), str(pid), cp.stderr)

    def assert_error(self, cp: subprocess.CompletedProcess, *words: str) -> str:
        self.assertEqual(cp.returncode, 1, f"stdout={cp.stdout!r} stderr={cp.stderr!r}")
        self.assertEqual(cp.stdout, "")
        for w in words:
            self.assertIn(w, cp.stderr)
        return cp.stderr


class ContainerdRuntimeTest(ProbeMixin, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ctd = harness.Containerd()
        cls.addClassCleanup(cls.ctd.stop)
        cls.ctd.start()
        cls.targets = [cls.ctd.run_target(), cls.ctd.run_target()]

    def test_containerd_pid_is_the_task_pid(self):
        for t in self.targets:
            self.assert_pid(probe("--runtime", "containerd", "--socket", self.ctd.socket, t.id), t.pid)
        # "unix://" prefixed socket paths work the same
        t = self.targets[0]
        self.assert_pid(probe("--runtime", "containerd", "--socket", "unix://" + self.ctd.socket, t.id), t.pid)

    def test_pid_is_the_containers_init(self):
        # pid 1 in the container's own pid namespace, and a different namespace from ours
        t = self.targets[0]
        with open(f"/proc/{t.pid}/status") as f:
            nspid = next(line for line in f if line.startswith("NSpid:")).split()[1:]
        self.assertEqual(nspid[-1], "1")
        self.assertNotEqual(harness.pidns_of(t.pid), harness.pidns_of(os.getpid()))

    def test_scan_finds_the_same_pids(self):
        for t in self.targets:
            self.assertIn(t.id, harness.cgroup_of(t.pid))
            self.assert_pid(probe("--runtime", "scan", t.id), t.pid)

    def test_scan_skips_extra_processes_in_the_container(self):
        # A second process in the container's cgroup (an exec'd sleep, a child of the shim like
        # the init) must not be mistaken for the init.
        t = self.targets[1]
        self.ctd.ctr("task", "exec", "-d", "--exec-id", "extra", t.id, "sleep", "600")
        try:
            self.assert_pid(probe("--runtime", "scan", t.id), t.pid)
            self.assert_pid(probe("--runtime", "containerd", "--socket", self.ctd.socket, t.id), t.pid)
        finally:
            self.ctd.ctr("task", "kill", "-s", "SIGKILL", "--exec-id", "extra", t.id, check=False)

    def test_unknown_id(self):
        cid = harness.make_container_id()
        err = self.assert_error(probe("--runtime", "containerd", "--socket", self.ctd.socket, cid),
                                "containerd", "unix://" + self.ctd.socket, cid, "not found",
                                "containerd namespace k8s.io")
        self.assertNotIn("fallback", err)
        self.assert_error(probe("--runtime", "scan", cid), "cgroup-scan", "/proc", cid)
        # A native "not found" is believed: no scan, no warning.
        err = self.assert_error(probe("--chain", "--runtime", "containerd", "--socket", self.ctd.socket, cid),
                                "not found")
        self.assertNotIn("level=warning", err)

    def test_other_namespace(self):
        t = self.targets[0]
        self.assert_error(probe("--runtime", "containerd", "--socket", self.ctd.socket, "--namespace", "default", t.id),
                          "not found in containerd namespace default")

    def test_missing_socket(self):
        sock = os.path.join(self.ctd.tmp, "no-such.sock")
        t = self.targets[0]
        start = time.monotonic()
        self.assert_error(probe("--runtime", "containerd", "--socket", sock, t.id),
                          "containerd: unix://" + sock, "No such file or directory")
        self.assertLess(time.monotonic() - start, 5)

    def test_missing_socket_falls_back_to_the_scan_with_a_warning(self):
        sock = os.path.join(self.ctd.tmp, "no-such.sock")
        t = self.targets[0]
        cp = probe("--chain", "--runtime", "containerd", "--socket", sock, t.id)
        self.assert_pid(cp, t.pid)
        self.assertRegex(cp.stderr, r'level=warning msg=".*cgroup')
        self.assertIn(sock, cp.stderr)
        # Both failing: one error naming both.
        cid = harness.make_container_id()
        self.assert_error(probe("--chain", "--runtime", "containerd", "--socket", sock, cid),
                          "containerd: unix://" + sock, "No such file or directory", "cgroup-scan", cid)

    def test_not_a_containerd_socket(self):
        # containerd's ttrpc socket speaks another protocol: an API error, not a hang.
        t = self.targets[0]
        start = time.monotonic()
        err = self.assert_error(probe("--runtime", "containerd", "--socket", self.ctd.socket + ".ttrpc", t.id),
                                "containerd: unix://" + self.ctd.socket + ".ttrpc")
        self.assertLess(time.monotonic() - start, 10, err)

    def test_stopped_container_is_not_running(self):
        t = self.ctd.run_target()
        try:
            self.ctd.ctr("task", "kill", "-s", "SIGKILL", t.id)
            self.assertTrue(harness.wait_until(
                lambda: "STOPPED" in self.ctd.ctr("task", "ls").stdout, 10))
            self.assert_error(probe("--runtime", "containerd", "--socket", self.ctd.socket, t.id),
                              "containerd", t.id, "not running", "STOPPED")
            # Task deleted, container kept (what kubelet sees between restarts): still "not running".
            self.ctd.ctr("task", "delete", t.id)
            self.assert_error(probe("--runtime", "containerd", "--socket", self.ctd.socket, t.id),
                              "containerd", t.id, "not running")
            self.assert_error(probe("--runtime", "scan", t.id), "cgroup-scan", t.id)
        finally:
            self.ctd.stop_target(t)

    def test_lookup_time(self):
        t = self.targets[0]
        cp = probe("--runtime", "containerd", "--socket", self.ctd.socket, "--repeat", 20, t.id)
        self.assert_pid(cp, t.pid)
        m = re.search(r"lookup_ms median=([\d.]+) min=([\d.]+) max=([\d.]+) first=([\d.]+) n=20 threads_after=(\d+)",
                      cp.stderr)
        self.assertIsNotNone(m, cp.stderr)
        median = float(m.group(1))
        print(f"\n  containerd cold lookup (new connection each): median {median:.2f} ms, min {m.group(2)}, "
              f"max {m.group(3)}, first {m.group(4)} ms; threads left after the backends: {m.group(5)}")
        # Whole runtime_probe processes, as the helper pays it at start-up (exec + gRPC init + lookup).
        walls = []
        for _ in range(20):
            start = time.monotonic()
            self.assert_pid(probe("--runtime", "containerd", "--socket", self.ctd.socket, t.id), t.pid)
            walls.append((time.monotonic() - start) * 1000)
        print(f"  runtime_probe process wall time: median {statistics.median(walls):.2f} ms")
        scan = probe("--runtime", "scan", "--repeat", 20, t.id)
        self.assert_pid(scan, t.pid)
        print("  cgroup scan: " + scan.stderr.strip())
        # Generous: a shared 2-core machine; the budget for the whole start-up is ~30 ms.
        self.assertLess(median, 100)


class DockerRuntimeTest(ProbeMixin, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dkd = harness.Dockerd()
        cls.addClassCleanup(cls.dkd.stop)
        cls.dkd.start()
        cls.target = cls.dkd.run_target()

    def test_docker_pid_is_dockers(self):
        t = self.target
        self.assert_pid(probe("--runtime", "docker", "--socket", self.dkd.socket, t.id), t.pid)
        # the Engine API takes unique id prefixes too
        self.assert_pid(probe("--runtime", "docker", "--socket", self.dkd.socket, t.id[:12]), t.pid)
        self.assert_pid(probe("--chain", "--runtime", "docker", "--socket", self.dkd.socket, t.id), t.pid)

    def test_scan_finds_the_same_pid(self):
        self.assertIn("/docker/" + self.target.id, harness.cgroup_of(self.target.pid))
        self.assert_pid(probe("--runtime", "scan", self.target.id), self.target.pid)

    def test_unknown_id(self):
        cid = harness.make_container_id()
        self.assert_error(probe("--runtime", "docker", "--socket", self.dkd.socket, cid),
                          "docker: unix://" + self.dkd.socket, cid, "No such container: " + cid)

    def test_missing_socket(self):
        sock = os.path.join(self.dkd.tmp, "no-such.sock")
        self.assert_error(probe("--runtime", "docker", "--socket", sock, self.target.id),
                          "docker: unix://" + sock, "No such file or directory")

    def test_crio_backend_on_a_foreign_http_socket(self):
        # dockerd answers GET /containers/{id} with 404 "page not found": that is no answer about
        # the container, so it is an API error (not "not found"), and the chain falls back to the scan.
        t = self.target
        err = self.assert_error(probe("--runtime", "crio", "--socket", self.dkd.socket, t.id),
                                "crio: unix://" + self.dkd.socket, "HTTP 404", "page not found")
        self.assertNotIn(" not found:", err)
        cp = probe("--chain", "--runtime", "crio", "--socket", self.dkd.socket, t.id)
        self.assert_pid(cp, t.pid)
        self.assertIn("level=warning", cp.stderr)

    def test_stopped_container_is_not_running(self):
        t = self.dkd.run_target()
        try:
            self.dkd.docker("kill", t.id)
            self.assertTrue(harness.wait_until(
                lambda: self.dkd.docker("inspect", "-f", "{{.State.Running}}", t.id).stdout.strip() == "false", 10))
            self.assert_error(probe("--runtime", "docker", "--socket", self.dkd.socket, t.id),
                              "docker: unix://" + self.dkd.socket, t.id, "not running", "exited")
            self.assert_error(probe("--chain", "--runtime", "docker", "--socket", self.dkd.socket, t.id),
                              "not running")
        finally:
            self.dkd.stop_target(t)


if __name__ == "__main__":
    unittest.main()
