"""End-to-end acceptance of `helpers -name stress-chaos` in standalone mode (no Kubernetes), on real
containerd (and dockerd) targets built from busybox only: no stress-ng, no libc in the target.

1. pod-io-stress into a bind-mounted volume: files appear in the volume during the run, the effect
   summary shows what stress-ng wrote and what the target's cgroup could see of it (v1: said to be
   invisible unless counted; v2: the writeback), exit 0, nothing of ours left in the target, no
   temp files left in the volume.
2. pod-cpu-stress 1 core at 50 % for 5 s grows the target cgroup's CPU usage by >= 1.5 core-s;
   pod-memory-stress 1 x 64 MiB grows the target cgroup's memory by >= 48 MiB during the run; a
   memory-limited target is driven to OOM and lives on; a target under the systemd driver's
   cgroup names. Counters are read through the machine's layout (harness.cgroup_dirs), so the same
   file runs on v1/hybrid and, in the VM leg (tests/vm), on pure v2.
3. three targets at once are injected concurrently (the start-up time is printed).
4. SIGTERM mid-run: exit 1, everything gone within 1 s, no zombies; SIGKILL of the helper: gone within 2 s.
5. bad input: exit 1, a message naming the variable and value (or the target), nothing started.
"""

import ctypes
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import harness

HELPER_BASE_ENV = {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"), "LANG": "C.UTF-8"}


class HelperE2E(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.helper = harness.binary("helpers")
        cls.ctd = harness.Containerd()
        cls.addClassCleanup(cls.ctd.stop)
        cls.ctd.start()
        cls.figures = []

    @classmethod
    def tearDownClass(cls):
        for line in cls.figures:
            print(f"\n[helper e2e] {line}", file=sys.stderr)

    # -- helpers ---------------------------------------------------------------------------------

    def target(self, **kw):
        t = self.ctd.run_target(**kw)
        self.addCleanup(self.ctd.stop_target, t)
        return t

    def argv(self, *targets, extra=()):
        argv = [self.helper, "-name", "stress-chaos", "--socket", self.ctd.socket]
        for t in targets:
            argv += ["--container-id", t.id]
        return argv + list(extra)

    def env(self, **values):
        env = dict(HELPER_BASE_ENV)
        env.update({k: str(v) for k, v in values.items()})
        return env

    def run_helper(self, argv, env, timeout=60):
        return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=harness.scaled(timeout))

    def ours_in(self, target, baseline):
        """Processes in the target's PID namespace that were not there before the run (zombies included)."""
        return sorted(set(harness.pids_in_pidns(harness.pidns_of(target.pid))) - baseline)

    def baseline(self, target):
        return set(harness.pids_in_pidns(harness.pidns_of(target.pid)))

    def stress_running_in(self, target, baseline, count=1):
        pids = self.ours_in(target, baseline)
        return len([p for p in pids if (harness.comm_of(p) or "").startswith("stress-ng")]) >= count

    # -- 1. io stress into the volume -----------------------------------------------------------

    def test_io_stress_writes_into_the_targets_volume(self):
        t = self.target(volume_path="/data")
        base = self.baseline(t)
        self.assertFalse(os.path.exists("/data/tmp-stress-ng-hdd"), "host has stress files at /data already")
        env = self.env(STRESS_TYPE="pod-io-stress", TOTAL_CHAOS_DURATION=4, VOLUME_MOUNT_PATH="/data",
                       NUMBER_OF_WORKERS=1, FILESYSTEM_UTILIZATION_BYTES=1)
        proc = subprocess.Popen(self.argv(t), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        seen_in_volume = []
        deadline = time.monotonic() + harness.scaled(30)
        while proc.poll() is None and time.monotonic() < deadline:
            for dirpath, dirs, files in os.walk(t.volume_host_dir):
                seen_in_volume += [os.path.join(dirpath, n) for n in dirs + files]
            time.sleep(0.05)
        out, err = proc.communicate(timeout=harness.scaled(30))
        self.assertEqual(proc.returncode, 0, err)
        self.assertTrue(any("stress-ng" in p for p in seen_in_volume),
                        f"no stress-ng files appeared in the volume's host dir during the run:\n{err}")
        effect = [l for l in err.splitlines() if "Stress effect" in l]
        self.assertEqual(len(effect), 1, err)
        self.figures.append(f"io stress {harness.cgroup_layout()}: {effect[0].split('effect=', 1)[-1].split(' exitStatus')[0]}")
        # What stress-ng itself wrote (its /proc/PID/io), on every host:
        wrote = re.search(r"stress-ng wrote (\d+\.\d) MiB, read (\d+\.\d) MiB", effect[0])
        self.assertIsNotNone(wrote, effect[0])
        self.assertGreaterEqual(float(wrote.group(1)), 1.0, effect[0])
        # What the target's cgroup could see of it, said honestly (helper/cgroup.hpp):
        kind = harness.io_counter_kind(t.pid)
        if kind == "v1":  # blkio sees direct and self-synced IO only; buffered writes go to the root
            self.assertRegex(effect[0], r"io write (not seen by cgroup v1 blkio|\d+\.\d MiB \(cgroup v1 blkio)")
            self.assertNotRegex(effect[0], r"io write 0\.0 MiB")
        elif kind == "v2":  # io.stat counts the writeback of the target's writes (stress-ng --io syncs)
            io_write = re.search(r"io write (\d+\.\d) MiB", effect[0])
            self.assertIsNotNone(io_write, effect[0])
            if os.major(os.stat(t.volume_host_dir).st_dev) != 0:  # block-backed (a tmpfs does no block IO)
                self.assertGreater(float(io_write.group(1)), 0.0, effect[0])
        else:
            self.assertNotIn("io write", effect[0])
        self.assertRegex(effect[0], r"stress-ng: .*hdd \d+ bogo ops")
        self.assertRegex(effect[0], r"io \d+ bogo ops")
        self.assertEqual(os.listdir(t.volume_host_dir), [], "stress-ng temp files left in the volume")
        self.assertEqual(self.ours_in(t, base), [], "processes left in the target")

    # -- 2. cpu and memory reach the target's cgroup ---------------------------------------------

    def test_cpu_stress_is_charged_to_the_target_cgroup(self):
        t = self.target()
        before = harness.cpu_usage_ns(t.pid)
        env = self.env(STRESS_TYPE="pod-cpu-stress", TOTAL_CHAOS_DURATION=5, CPU_CORES=1, CPU_LOAD=50)
        r = self.run_helper(self.argv(t), env)
        self.assertEqual(r.returncode, 0, r.stderr)
        grew = (harness.cpu_usage_ns(t.pid) - before) / 1e9
        self.figures.append(f"cpu stress 1 core x 50 % x 5 s: target cgroup cpu +{grew:.2f} core-s")
        self.assertGreaterEqual(grew, 1.5, r.stderr)
        self.assertRegex(r.stderr, r'effect="cpu \d+\.\d\d core-s')

    def test_memory_stress_is_charged_to_the_target_cgroup(self):
        t = self.target()
        before = harness.memory_usage(t.pid)
        env = self.env(STRESS_TYPE="pod-memory-stress", TOTAL_CHAOS_DURATION=4, NUMBER_OF_WORKERS=1,
                       MEMORY_CONSUMPTION=64)
        proc = subprocess.Popen(self.argv(t), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        peak = before
        while proc.poll() is None:
            peak = max(peak, harness.memory_usage(t.pid))
            time.sleep(0.05)
        _, err = proc.communicate()
        self.assertEqual(proc.returncode, 0, err)
        grew_mib = (peak - before) / 2**20
        self.figures.append(f"memory stress 1 x 64 MiB: target cgroup memory peak +{grew_mib:.1f} MiB")
        self.assertGreaterEqual(grew_mib, 48, err)
        self.assertRegex(err, r"memory peak \+\d+\.\d MiB")

    def test_memory_limited_target_driven_to_oom(self):
        """1 worker x 128 MiB into a target limited to 64 MiB: the OOM killer strikes inside the target's
        cgroup (stress-ng's workers are its first choice), the target itself lives on, the run ends
        as planned and nothing of ours is left."""
        t = self.target(memory_limit=64 << 20)
        base = self.baseline(t)
        kills_before = harness.oom_kills(t.pid)
        env = self.env(STRESS_TYPE="pod-memory-stress", TOTAL_CHAOS_DURATION=4, NUMBER_OF_WORKERS=1,
                       MEMORY_CONSUMPTION=128)
        r = self.run_helper(self.argv(t), env)
        kills = harness.oom_kills(t.pid) - kills_before
        self.figures.append(f"memory stress 128 MiB into a 64 MiB target: {kills} OOM kill(s), helper exit {r.returncode}")
        self.assertGreater(kills, 0, f"no OOM kill in the target's cgroup\n{r.stderr}")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stderr, r"memory peak \+\d+\.\d MiB")
        self.assertIsNotNone(harness.pidns_of(t.pid), "the target's init died")
        self.assertFalse(harness.is_zombie(t.pid), "the target's init died")
        self.assertTrue(harness.wait_until(lambda: not self.ours_in(t, base), harness.scaled(5)), self.ours_in(t, base))

    def test_target_in_a_systemd_driver_cgroup(self):
        """kubelet with the systemd cgroup driver names the cgroups
        kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod<uid>.slice/cri-containerd-<id>.scope."""
        t = self.target(systemd_names=True)
        self.assertIn(f"/cri-containerd-{t.id}.scope", harness.cgroup_dirs(t.pid)["cpu"])
        before = harness.cpu_usage_ns(t.pid)
        env = self.env(STRESS_TYPE="pod-cpu-stress", TOTAL_CHAOS_DURATION=2, CPU_CORES=1, CPU_LOAD=50)
        r = self.run_helper(self.argv(t), env)
        self.assertEqual(r.returncode, 0, r.stderr)
        grew = (harness.cpu_usage_ns(t.pid) - before) / 1e9
        self.assertGreaterEqual(grew, 0.5, f"the stress was not charged to the target's cgroup\n{r.stderr}")

    def test_cpu_stress_from_a_read_only_working_directory(self):
        """A helper pod with readOnlyRootFilesystem: its working directory is read-only, and stress-ng
        refuses a temp path it cannot write (even for cpu). The helper gives it /tmp (or /dev/shm)."""
        t = self.target()
        base = self.baseline(t)
        ro = tempfile.mkdtemp(prefix="helper-ro-cwd-")
        self.addCleanup(os.rmdir, ro)
        libc = ctypes.CDLL(None, use_errno=True)
        ms_bind, ms_remount, ms_rdonly, ms_rec, ms_private = 4096, 32, 1, 16384, 1 << 18

        def read_only_cwd():
            # A private mount namespace of the helper's own: the read-only bind dies with it.
            if libc.unshare(0x00020000) != 0 or libc.mount(b"none", b"/", None, ms_rec | ms_private, None) != 0:
                raise OSError(ctypes.get_errno(), "unshare/make-rprivate")
            if (libc.mount(ro.encode(), ro.encode(), None, ms_bind, None) != 0 or
                    libc.mount(None, ro.encode(), None, ms_remount | ms_bind | ms_rdonly, None) != 0):
                raise OSError(ctypes.get_errno(), f"read-only bind of {ro}")
            os.chdir(ro)

        before = harness.cpu_usage_ns(t.pid)
        env = self.env(STRESS_TYPE="pod-cpu-stress", TOTAL_CHAOS_DURATION=2, CPU_CORES=1, CPU_LOAD=50)
        r = subprocess.run(self.argv(t), env=env, capture_output=True, text=True, timeout=harness.scaled(60),
                           preexec_fn=read_only_cwd)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("must be readable and writeable", r.stderr)
        self.assertRegex(r.stderr, r"stress-ng gets another temp path.*tempPath=/(tmp|dev/shm)")
        self.assertGreaterEqual((harness.cpu_usage_ns(t.pid) - before) / 1e9, 0.5, r.stderr)
        self.assertEqual(self.ours_in(t, base), [])

    # -- 3. several targets at once --------------------------------------------------------------

    def test_three_targets_are_injected_concurrently(self):
        targets = [self.target() for _ in range(3)]
        bases = [self.baseline(t) for t in targets]
        env = self.env(STRESS_TYPE="pod-cpu-stress", TOTAL_CHAOS_DURATION=3, CPU_CORES=1, CPU_LOAD=10)
        t0 = time.monotonic()
        proc = subprocess.Popen(self.argv(*targets), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        all_running = harness.wait_until(
            lambda: all(self.stress_running_in(t, b) for t, b in zip(targets, bases)), timeout=harness.scaled(10), interval=0.002)
        seen_after = time.monotonic() - t0
        _, err = proc.communicate(timeout=harness.scaled(30))
        self.assertTrue(all_running, err)
        self.assertEqual(proc.returncode, 0, err)
        startup = re.search(r'every target" startup=(\d+)ms', err)
        self.assertIsNotNone(startup, err)
        self.figures.append(f"3 targets: helper start -> every stress-ng seen running {seen_after * 1000:.0f} ms "
                            f"(helper's own figure: {startup.group(1)} ms after targets resolved)")
        # Concurrent: each target ran for the whole duration at the same time, not one after another.
        self.assertLess(time.monotonic() - t0, harness.scaled(3 * 3), err)
        for t, b in zip(targets, bases):
            self.assertEqual(self.ours_in(t, b), [])

    # -- 4. abort ---------------------------------------------------------------------------------

    def test_sigterm_mid_run_reverts_everything(self):
        t = self.target()
        base = self.baseline(t)
        env = self.env(STRESS_TYPE="pod-cpu-stress", TOTAL_CHAOS_DURATION=60, CPU_CORES=2, CPU_LOAD=20)
        proc = subprocess.Popen(self.argv(t), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.assertTrue(harness.wait_until(lambda: self.stress_running_in(t, base, 3), timeout=harness.scaled(10)))
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        gone = harness.wait_until(lambda: not self.ours_in(t, base), timeout=harness.scaled(1.0), interval=0.005)
        took = time.monotonic() - t0
        _, err = proc.communicate(timeout=harness.scaled(10))
        self.figures.append(f"SIGTERM -> nothing left in the target: {took * 1000:.0f} ms")
        self.assertTrue(gone, f"left in the target after 1 s: {self.ours_in(t, base)}\n{err}")
        self.assertEqual(proc.returncode, 1, err)
        self.assertIn("[Abort]", err)

    def test_sigkill_of_the_helper_takes_the_stress_down(self):
        t = self.target()
        base = self.baseline(t)
        env = self.env(STRESS_TYPE="pod-cpu-stress", TOTAL_CHAOS_DURATION=60, CPU_CORES=2, CPU_LOAD=20)
        proc = subprocess.Popen(self.argv(t), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.assertTrue(harness.wait_until(lambda: self.stress_running_in(t, base, 3), timeout=harness.scaled(10)))
        t0 = time.monotonic()
        proc.kill()
        proc.wait()
        gone = harness.wait_until(lambda: not self.ours_in(t, base), timeout=harness.scaled(2.0), interval=0.005)
        self.figures.append(f"SIGKILL of the helper -> nothing left in the target: "
                            f"{(time.monotonic() - t0) * 1000:.0f} ms")
        self.assertTrue(gone, f"left in the target after 2 s: {self.ours_in(t, base)}")

    # -- 5. bad input -----------------------------------------------------------------------------

    def test_bad_input_is_refused_before_anything_starts(self):
        t = self.target(volume_path="/data")
        base = self.baseline(t)
        marker = os.path.join(tempfile.gettempdir(), "stress-helper-injected-marker")
        if os.path.exists(marker):
            os.unlink(marker)
        ok = dict(STRESS_TYPE="pod-cpu-stress", TOTAL_CHAOS_DURATION=5, CPU_CORES=1, CPU_LOAD=50)
        missing_socket = "/run/no-such-runtime.sock"
        cases = [
            # (name, env changes, extra argv, argv override, expected text in stderr)
            ("missing STRESS_TYPE", {"STRESS_TYPE": None}, [], None, "STRESS_TYPE"),
            ("unknown STRESS_TYPE", {"STRESS_TYPE": "pod-gpu-stress"}, [], None, 'STRESS_TYPE="pod-gpu-stress"'),
            ("non-numeric duration", {"TOTAL_CHAOS_DURATION": "thirty"}, [], None, 'TOTAL_CHAOS_DURATION="thirty"'),
            ("duration with unit", {"TOTAL_CHAOS_DURATION": "30s"}, [], None, 'TOTAL_CHAOS_DURATION="30s"'),
            ("zero duration", {"TOTAL_CHAOS_DURATION": "0"}, [], None, 'TOTAL_CHAOS_DURATION="0"'),
            ("negative workers", {"STRESS_TYPE": "pod-memory-stress", "NUMBER_OF_WORKERS": "-1",
                                  "MEMORY_CONSUMPTION": "64"}, [], None, 'NUMBER_OF_WORKERS="-1"'),
            ("CPU_LOAD=150", {"CPU_LOAD": "150"}, [], None, 'CPU_LOAD="150"'),
            ("shell in CPU_CORES", {"CPU_CORES": f"1; touch {marker}"}, [], None, "CPU_CORES="),
            ("overflow", {"CPU_CORES": "99999999999999999999"}, [], None, 'CPU_CORES="99999999999999999999"'),
            ("percentage over 100", {"STRESS_TYPE": "pod-io-stress", "FILESYSTEM_UTILIZATION_PERCENTAGE": "101"},
             [], None, 'FILESYSTEM_UTILIZATION_PERCENTAGE="101"'),
            ("relative volume path", {"STRESS_TYPE": "pod-io-stress", "VOLUME_MOUNT_PATH": "data"}, [], None,
             'VOLUME_MOUNT_PATH="data"'),
            ("volume path missing in the target", {"STRESS_TYPE": "pod-io-stress",
                                                   "VOLUME_MOUNT_PATH": "/no-such-volume"}, [], None,
             '/no-such-volume'),
            ("unknown runtime", {"CONTAINER_RUNTIME": "rkt"}, [], None, 'CONTAINER_RUNTIME="rkt"'),
            ("unknown container id", {}, [], [self.helper, "-name", "stress-chaos", "--socket", self.ctd.socket,
                                             "--container-id", "0" * 64], "0" * 64),
            ("missing socket", {}, [], [self.helper, "-name", "stress-chaos", "--socket", missing_socket,
                                       "--container-id", t.id], missing_socket),
            ("PID 0", {}, [], [self.helper, "-name", "stress-chaos", "--pid", "0"], "--pid"),
            ("PID that does not exist", {}, [], [self.helper, "-name", "stress-chaos", "--pid", "4194303"],
             "4194303"),
            ("unknown helper name", {}, [], [self.helper, "-name", "network-chaos", "--pid", str(t.pid)],
             "stress-chaos"),
            ("no targets at all", {}, [], [self.helper, "-name", "stress-chaos"], "TARGETS"),
        ]
        self.assertGreaterEqual(len(cases), 15)
        for name, changes, extra, override, expected in cases:
            with self.subTest(name):
                env = self.env(**ok)
                for k, v in changes.items():
                    if v is None:
                        env.pop(k, None)
                    else:
                        env[k] = v
                argv = override if override else self.argv(t, extra=extra)
                r = self.run_helper(argv, env, timeout=30)
                self.assertEqual(r.returncode, 1, f"{name}: {r.stderr}")
                # logrus quotes the message: \" inside it is a quote in the text.
                self.assertIn(expected, r.stderr.replace('\\"', '"'), name)
                self.assertEqual(self.ours_in(t, base), [], f"{name}: a process was started")
                self.assertEqual(os.listdir(t.volume_host_dir), [], f"{name}: files were created")
                self.assertFalse(os.path.exists(marker), f"{name}: the shell text was executed")

    # -- the runtime is docker --------------------------------------------------------------------

    def test_docker_target(self):
        with harness.Dockerd() as d:
            t = d.run_target()
            base = self.baseline(t)
            env = self.env(STRESS_TYPE="pod-cpu-stress", TOTAL_CHAOS_DURATION=2, CPU_CORES=1, CPU_LOAD=30,
                           CONTAINER_RUNTIME="docker", SOCKET_PATH=d.socket)
            r = self.run_helper([self.helper, "-name", "stress-chaos", "--container-id", t.id], env)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn(f"pid={t.pid}", r.stderr)
            self.assertRegex(r.stderr, r"stress-ng: cpu \d+ bogo ops")
            self.assertEqual(self.ours_in(t, base), [])

    # -- the helper in its own cgroup namespace (a Kubernetes pod on cgroup v2 gets one) ---------

    def test_helper_in_a_private_cgroup_namespace(self):
        """Litmus fails here with "invalid group path": from a private cgroupns, /proc/PID/cgroup
        paths of the target read "/../../…". The helper runs in a nested cgroup of its own (so its
        namespace root is not the hierarchy root) under `unshare -C` and must still find and join
        the target's cgroups."""
        t = self.target()
        tag = f"stress-e2e-helper-{os.getpid()}-{time.monotonic_ns()}"
        dirs = []
        own = harness.cgroup_dirs(os.getpid())
        v1_cpuset = own.get("cpuset") if own.get("cpuset") != own.get("") else None
        for base in sorted(set(own.values())):
            if base == v1_cpuset:  # a new v1 cpuset cgroup has no cpus/mems and refuses tasks
                continue
            os.makedirs(f"{base}/{tag}/helper")
            dirs.append(f"{base}/{tag}")

        self.addCleanup(lambda: harness._remove_cgroup_dirs([f"{d}/helper" for d in dirs] + dirs))

        def enter():
            for d in dirs:
                with open(f"{d}/helper/cgroup.procs", "w") as f:
                    f.write("0")

        self.enable_nsdelegate()
        seen = subprocess.run(["unshare", "-C", "cat", f"/proc/{t.pid}/cgroup"], preexec_fn=enter,
                              capture_output=True, text=True, check=True).stdout
        self.assertIn("/..", seen, "the private cgroupns does not show the target above its root")
        before = harness.cpu_usage_ns(t.pid)
        env = self.env(STRESS_TYPE="pod-cpu-stress", TOTAL_CHAOS_DURATION=2, CPU_CORES=1, CPU_LOAD=50)
        r = subprocess.run(["unshare", "-C", "--"] + self.argv(t), env=env, preexec_fn=enter,
                           capture_output=True, text=True, timeout=harness.scaled(60))
        self.assertEqual(r.returncode, 0, r.stderr)
        grew = (harness.cpu_usage_ns(t.pid) - before) / 1e9
        self.assertGreaterEqual(grew, 0.5, f"the stress was not charged to the target's cgroup\n{r.stderr}")
        # The cgroup2 attach too (best effort on this hybrid host, so it would only be a warning):
        # with nsdelegate on the cgroup2 mount, a writer in a private cgroupns may not move a process
        # across its namespace boundary; the helper must do it from the host's cgroup namespace.
        self.assertNotIn("cgroup2", r.stderr)

    def enable_nsdelegate(self):
        """systemd mounts cgroup2 with nsdelegate: a process in a cgroup namespace may then not move a
        process across its namespace boundary. This machine's cgroup2 mount lacks it, so the test sets
        it for its own duration (a remount of the shared hierarchy's flags, restored in cleanup)."""
        v2 = next((h for h in harness.cgroup_hierarchies() if h.v2), None)
        if v2 is None:
            self.skipTest("no cgroup2 mount on this machine (cgroup v1 only)")
        if "nsdelegate" in v2.options:
            return
        libc = ctypes.CDLL(None, use_errno=True)
        ms_remount, ms_relatime = 32, 1 << 21

        def remount(options: bytes):
            if libc.mount(None, v2.mount_point.encode(), None, ms_remount | ms_relatime, options) != 0:
                raise OSError(ctypes.get_errno(), f"remount {v2.mount_point} {options!r}")
        remount(b"nsdelegate")
        self.addCleanup(remount, b"")

    # -- dry run ----------------------------------------------------------------------------------

    def test_dry_run_prints_the_plan_and_starts_nothing(self):
        t = self.target(volume_path="/data")
        base = self.baseline(t)
        env = self.env(STRESS_TYPE="pod-io-stress", VOLUME_MOUNT_PATH="/data", NUMBER_OF_WORKERS=2)
        r = self.run_helper(self.argv(t, extra=["--dry-run"]), env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(f"pid: {t.pid}", r.stdout)
        self.assertIn(f"/proc/{t.pid}/ns/mnt --local", r.stdout)
        self.assertIn("--temp-path /data", r.stdout)
        self.assertIn(harness.cgroup_dirs(t.pid)["cpu"], r.stdout)
        self.assertEqual(self.ours_in(t, base), [])
        self.assertEqual(os.listdir(t.volume_host_dir), [])


if __name__ == "__main__":
    unittest.main()
