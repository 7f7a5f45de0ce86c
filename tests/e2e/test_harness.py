"""Quick checks of the e2e harness itself, so that a broken harness shows up here and not as a
puzzling failure in the tests that use it: a private containerd runs a busybox-only target,
the target has no stress-ng, its volume is the host dir, docker targets run and report their
pid, and stop() leaves nothing behind."""

import os
import subprocess
import unittest

import harness


def _cgroup_dirs(path: str) -> list[str]:
    """PATH's directory in every mounted hierarchy where it exists (one per v1 hierarchy, the v2 one)."""
    return [d for d in (h.mount_point + path for h in harness.cgroup_hierarchies()) if os.path.isdir(d)]


def _memory_cgroup_path(pid: int) -> str:
    """PID's cgroup path in the hierarchy that holds the memory controller (v1 memory, or v2)."""
    for line in harness.cgroup_of(pid).splitlines():
        hid, ctrls, path = line.split(":", 2)
        if "memory" in ctrls.split(",") or (harness.cgroup_layout() == "v2" and hid == "0"):
            return path
    raise AssertionError(f"no memory cgroup for {pid}")


class HelpersTest(unittest.TestCase):
    def test_container_id_is_64_lowercase_hex(self):
        ids = {harness.make_container_id() for _ in range(50)}
        self.assertEqual(len(ids), 50)
        for i in ids:
            self.assertRegex(i, r"^[0-9a-f]{64}$")

    def test_pidns_of_self_and_gone(self):
        self.assertRegex(harness.pidns_of(os.getpid()), r"^pid:\[\d+\]$")
        p = subprocess.Popen(["true"])
        p.wait()
        self.assertIsNone(harness.pidns_of(p.pid))

    def test_zombie_is_seen_in_its_pidns(self):
        p = subprocess.Popen(["true"])
        self.assertTrue(harness.wait_until(lambda: harness.is_zombie(p.pid), 5))
        self.assertIn(p.pid, harness.pids_in_pidns(harness.pidns_of(os.getpid())))
        p.wait()
        self.assertFalse(harness.is_zombie(p.pid))

    def test_wait_until(self):
        self.assertTrue(harness.wait_until(lambda: True, 0))
        self.assertFalse(harness.wait_until(lambda: False, 0.05))

    def test_binary(self):
        with self.assertRaises(FileNotFoundError):
            harness.binary("no-such-binary-" + harness.make_container_id()[:8])
        path = harness.binary("probe_clock")  # built with the tests
        self.assertTrue(os.access(path, os.X_OK), path)
        self.assertTrue(path.startswith(harness.BUILD_DIR), path)


class ContainerdTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ctd = harness.Containerd()
        cls.addClassCleanup(cls.ctd.stop)
        cls.ctd.start()
        cls.target = cls.ctd.run_target(volume_path="/data")

    def exec_in(self, target, *argv, check=True):
        return self.ctd.ctr("task", "exec", "--exec-id", "t" + harness.make_container_id()[:12],
                            target.id, *argv, check=check)

    def test_target_runs_in_its_own_namespaces(self):
        t = self.target
        self.assertEqual(t.runtime, "containerd")
        self.assertRegex(t.id, r"^[0-9a-f]{64}$")
        self.assertEqual(t.socket, self.ctd.socket)
        self.assertTrue(os.path.exists(t.socket))
        self.assertLess(len(t.socket), 100)
        self.assertGreater(t.pid, 1)
        link = harness.pidns_of(t.pid)
        self.assertIsNotNone(link)
        self.assertNotEqual(link, harness.pidns_of(os.getpid()))
        self.assertEqual(harness.pids_in_pidns(link), [t.pid])
        self.assertNotEqual(os.readlink(f"/proc/{t.pid}/ns/mnt"), os.readlink("/proc/self/ns/mnt"))
        self.assertEqual(harness.comm_of(t.pid), "sleep")

    def test_cgroup_is_kubelet_shaped(self):
        self.assertRegex(_memory_cgroup_path(self.target.pid),
                         r"^/kubepods/besteffort/pod[0-9a-f-]{36}/" + self.target.id + "$")

    def test_target_has_busybox_and_no_stress_ng(self):
        root = f"/proc/{self.target.pid}/root"
        self.assertTrue(os.path.isfile(root + "/bin/busybox"))
        self.assertEqual(os.readlink(root + "/bin/sh"), "busybox")
        for d in ("/bin", "/sbin", "/usr/bin", "/usr/sbin", "/usr/local/bin"):
            self.assertFalse(os.path.lexists(root + d + "/stress-ng"), d)
        self.assertFalse(os.path.exists(root + "/lib/x86_64-linux-gnu/libc.so.6"))
        self.assertEqual(self.exec_in(self.target, "sh", "-c", "echo $((6*7))").stdout.strip(), "42")
        cp = self.exec_in(self.target, "sh", "-c", "command -v stress-ng", check=False)
        self.assertNotEqual(cp.returncode, 0, cp.stdout)

    def test_volume_is_the_host_dir(self):
        t = self.target
        self.assertEqual(t.volume_path, "/data")
        self.assertTrue(os.path.isdir(t.volume_host_dir))
        with open(os.path.join(t.volume_host_dir, "from-host"), "w") as f:
            f.write("hello")
        self.assertEqual(self.exec_in(t, "cat", "/data/from-host").stdout, "hello")
        self.exec_in(t, "mkdir", "/data/from-target")
        self.assertTrue(os.path.isdir(os.path.join(t.volume_host_dir, "from-target")))
        # Another container's volume is another host dir.
        other = self.ctd.run_target(volume_path="/data")
        try:
            self.assertNotEqual(other.volume_host_dir, t.volume_host_dir)
            self.assertEqual(os.listdir(other.volume_host_dir), [])
        finally:
            self.ctd.stop_target(other)

    def test_target_without_volume_and_cgroup_parent(self):
        parent = "/e2e-harness-" + harness.make_container_id()[:8]
        t = self.ctd.run_target(command=("sleep", "600"), cgroup_parent=parent)
        try:
            self.assertIsNone(t.volume_host_dir)
            self.assertIsNone(t.volume_path)
            self.assertIn(f"{parent}/{t.id}\n", harness.cgroup_of(t.pid))
            self.assertTrue(_cgroup_dirs(parent))
        finally:
            self.ctd.stop_target(t)
        self.assertIsNone(harness.pidns_of(t.pid))
        self.assertEqual(_cgroup_dirs(parent), [], "stop_target removes the cgroups it caused")

    def test_unreaped_orphan_is_a_zombie_in_the_target_pidns(self):
        # busybox sleep as PID 1 never reaps: an orphan stays a zombie in the target's pid namespace.
        t = self.ctd.run_target()
        try:
            link = harness.pidns_of(t.pid)
            self.exec_in(t, "sh", "-c", "sleep 0.1 &")
            zombies = []
            self.assertTrue(harness.wait_until(
                lambda: zombies.extend(p for p in harness.pids_in_pidns(link) if harness.is_zombie(p))
                or zombies, 5))
            self.assertEqual(harness.ppid_of(zombies[0]), t.pid)
        finally:
            self.ctd.stop_target(t)


class ContainerdStopTest(unittest.TestCase):
    def test_stop_leaves_nothing_and_is_idempotent(self):
        run_dirs_before = {d: os.path.isdir(d) for d in ("/run/containerd", "/run/containerd/s")}
        ctd = harness.Containerd()
        with ctd:
            t = ctd.run_target(volume_path="/v")
            tmp, sock = ctd.tmp, ctd.socket
            pod_cgroup = os.path.dirname(_memory_cgroup_path(t.pid))
            self.assertRegex(pod_cgroup, r"^/kubepods/besteffort/pod[0-9a-f-]{36}$")
            daemon_pid = ctd.proc.pid
            self.assertTrue(_cgroup_dirs(pod_cgroup))
        ctd.stop()  # again: nothing to do, no error
        self.assertFalse(os.path.exists(tmp))
        self.assertIsNone(harness.pidns_of(t.pid))
        self.assertIsNone(harness.pidns_of(daemon_pid))
        self.assertEqual(harness._pids_mentioning(sock, tmp + "/"), [])
        self.assertEqual(harness._mountpoints_under(tmp), [])
        self.assertEqual(_cgroup_dirs(pod_cgroup), [])
        self.assertEqual(_cgroup_dirs("/" + t.id), [])
        if not harness._other_runtime_running(exclude=set()):  # nobody else's containerd needs them
            for d, existed in run_dirs_before.items():
                self.assertEqual(os.path.isdir(d), existed, d)


class DockerdTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dkd = harness.Dockerd()
        cls.addClassCleanup(cls.dkd.stop)
        cls.dkd.start()

    def test_docker_target_runs_and_reports_its_pid(self):
        t = self.dkd.run_target(volume_path="/data")
        try:
            self.assertEqual(t.runtime, "docker")
            self.assertRegex(t.id, r"^[0-9a-f]{64}$")
            self.assertEqual(t.socket, self.dkd.socket)
            state = self.dkd.docker("inspect", "-f", "{{.State.Pid}} {{.State.Running}}", t.id).stdout.split()
            self.assertEqual(state, [str(t.pid), "true"])
            self.assertEqual(harness.comm_of(t.pid), "sleep")
            self.assertNotEqual(harness.pidns_of(t.pid), harness.pidns_of(os.getpid()))
            self.assertIn(f":/docker/{t.id}\n", harness.cgroup_of(t.pid))
            self.assertFalse(os.path.lexists(f"/proc/{t.pid}/root/usr/bin/stress-ng"))
            with open(os.path.join(t.volume_host_dir, "from-host"), "w") as f:
                f.write("hi")
            self.assertEqual(self.dkd.docker("exec", t.id, "cat", "/data/from-host").stdout, "hi")
        finally:
            self.dkd.stop_target(t)
        self.assertIsNone(harness.pidns_of(t.pid))
        self.assertEqual(self.dkd.docker("ps", "-aq").stdout.strip(), "")

    def test_stop_leaves_nothing(self):
        key_existed = os.path.exists("/etc/docker/key.json")
        dkd = harness.Dockerd()
        with dkd:
            t = dkd.run_target()
            tmp, pid = dkd.tmp, dkd.proc.pid
        dkd.stop()
        self.assertFalse(os.path.exists(tmp))
        self.assertIsNone(harness.pidns_of(pid))
        self.assertIsNone(harness.pidns_of(t.pid))
        self.assertEqual(harness._pids_mentioning(tmp + "/"), [])
        self.assertEqual(harness._mountpoints_under(tmp), [])
        if not key_existed:
            self.assertFalse(os.path.exists("/etc/docker/key.json"), "dockerd wrote its trust key to /etc")


if __name__ == "__main__":
    unittest.main()
