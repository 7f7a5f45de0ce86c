"""End-to-end acceptance of nsexec + libnsenter.so on real containerd targets (busybox-only
images: no stress-ng, no libc).

a. the seed bug: io stress with --temp-path on a volume writes into the target's volume, in the
   target's PID namespace, and leaves nothing behind;
b. the same without --local fails with 127 and says the command is not in the target;
c. SIGTERM to nsexec, and SIGKILL of nsexec's parent, mid-run: within 1 s nothing we started is
   left in the target's PID namespace (zombies included);
d. clear errors and exit statuses.
"""

import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import harness

# Bound on "nothing of ours is left in the target" after a stop signal (criterion c).
CLEANUP_BOUND_S = 1.0
SIGNAL_ROUNDS = 20

# A parent that runs nsexec as its child and waits, like the helper does; the test SIGKILLs it.
PARENT_SCRIPT = "import subprocess, sys; sys.exit(subprocess.call(sys.argv[1:]))"


def _describe(pids) -> str:
    rows = []
    for p in sorted(pids):
        args = " ".join(harness._cmdline(p)) or f"[{harness.comm_of(p)}]"
        rows.append(f"{p} ppid={harness.ppid_of(p)} {'Z' if harness.is_zombie(p) else '-'} {args}")
    return "\n  ".join(rows) if rows else "(none)"


class NsexecE2E(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.nsexec = harness.binary("nsexec")
        cls.library = harness.binary("libnsenter.so")
        cls.stress_ng = shutil.which("stress-ng")
        if cls.stress_ng is None:
            raise RuntimeError("stress-ng is not installed on the host (scripts/setup.sh installs it)")
        cls.ctd = harness.Containerd()
        cls.addClassCleanup(cls.ctd.stop)
        cls.ctd.start()
        cls.worst = {}

    @classmethod
    def tearDownClass(cls):
        for what, (secs, rnd) in sorted(cls.worst.items()):
            print(f"\n[nsexec e2e] worst time to an empty target pid namespace after {what}: "
                  f"{secs * 1000:.0f} ms (round {rnd})", file=sys.stderr)

    # -- helpers ---------------------------------------------------------------------------------

    def new_target(self, volume_path=None) -> harness.Target:
        t = self.ctd.run_target(volume_path=volume_path)
        self.addCleanup(self.ctd.stop_target, t)
        return t

    @staticmethod
    def ns_args(t) -> list[str]:
        return ["-p", f"/proc/{t.pid}/ns/pid", "-m", f"/proc/{t.pid}/ns/mnt"]

    def local_args(self) -> list[str]:
        return ["--local", "--library-path", self.library]

    @staticmethod
    def ours_in(t, baseline: set) -> set:
        return set(harness.pids_in_pidns(harness.pidns_of(t.pid))) - baseline

    @staticmethod
    def baseline_of(t) -> set:
        pids = set(harness.pids_in_pidns(harness.pidns_of(t.pid)))
        assert pids == {t.pid}, f"target {t.id[:12]} is not fresh: {_describe(pids)}"
        return pids

    def run_nsexec(self, argv, timeout=20) -> subprocess.CompletedProcess:
        return subprocess.run([self.nsexec, *argv], stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=timeout)

    def spawn(self, argv) -> subprocess.Popen:
        """Starts ARGV with stdout/stderr to temp files (a full pipe must never stall it); the
        process is SIGKILLed at cleanup if a test fails while it runs."""
        out, err = tempfile.TemporaryFile(), tempfile.TemporaryFile()
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        p.out_file, p.err_file = out, err

        def cleanup():
            if p.poll() is None:
                p.kill()
                p.wait()
            out.close()
            err.close()
        self.addCleanup(cleanup)
        return p

    @staticmethod
    def text_of(f) -> str:
        f.seek(0)
        return f.read().decode(errors="replace")

    def assert_nothing_left(self, t, baseline, what):
        left = self.ours_in(t, baseline)
        self.assertEqual(left, set(), f"{what}: processes of ours left in the target's pid namespace:\n  "
                         + _describe(left))

    # -- a. the seed bug -------------------------------------------------------------------------

    def test_a_io_stress_writes_into_the_target_volume(self):
        volume_path = "/data-" + secrets.token_hex(6)
        self.assertFalse(os.path.lexists(volume_path), f"{volume_path} must not exist on the host")
        t = self.new_target(volume_path=volume_path)
        baseline = self.baseline_of(t)
        link = harness.pidns_of(t.pid)

        p = self.spawn([self.nsexec, *self.ns_args(t), *self.local_args(), "--",
                        "stress-ng", "--timeout", "5s", "--hdd", "1", "--hdd-bytes", "10M",
                        "--temp-path", volume_path])

        def temp_dirs():
            return [n for n in os.listdir(t.volume_host_dir) if n.startswith("tmp-stress-ng-hdd-")]

        appeared = harness.wait_until(temp_dirs, 10, 0.02)
        # Everything below is sampled while stress-ng is running.
        on_host_during = os.path.lexists(volume_path)
        stress = [d for d in harness.descendants_of(p.pid) if (harness.comm_of(d) or "").startswith("stress-ng")]
        stress_ns = {d: harness.pidns_of(d) for d in stress}
        ours_during = self.ours_in(t, baseline)
        try:
            rc = p.wait(30)
        except subprocess.TimeoutExpired:
            self.fail(f"nsexec still running 30 s into a 5 s stress run; stderr: {self.text_of(p.err_file)}")
        stderr = self.text_of(p.err_file)

        self.assertTrue(appeared, f"no tmp-stress-ng-hdd-* appeared in the volume's host dir "
                                  f"{t.volume_host_dir}; nsexec exited {p.returncode}, stderr:\n{stderr}")
        self.assertFalse(on_host_during, f"{volume_path} appeared in the caller's own filesystem")
        self.assertGreaterEqual(len(stress), 2, f"expected stress-ng and its hdd worker under nsexec, "
                                                f"got:\n  {_describe(stress)}")
        for pid, ns in stress_ns.items():
            self.assertEqual(ns, link, f"stress-ng pid {pid} is not in the target's pid namespace")
        self.assertTrue(set(stress) <= ours_during)
        self.assertEqual(rc, 0, f"nsexec exited {rc}; stderr:\n{stderr}")
        self.assertFalse(os.path.lexists(volume_path), f"{volume_path} appeared in the caller's filesystem")
        self.assertEqual(temp_dirs(), [], "stress-ng's temp files remain in the volume")
        self.assert_nothing_left(t, baseline, "after a successful run")

    # -- b. without --local ----------------------------------------------------------------------

    def test_b_without_local_stress_ng_is_not_in_the_target(self):
        volume_path = "/data-" + secrets.token_hex(6)
        t = self.new_target(volume_path=volume_path)
        baseline = self.baseline_of(t)
        cp = self.run_nsexec([*self.ns_args(t), "--", "stress-ng", "--timeout", "5s", "--hdd", "1",
                              "--hdd-bytes", "10M", "--temp-path", volume_path])
        self.assertEqual(cp.returncode, 127, f"stderr: {cp.stderr}")
        self.assertIn("stress-ng", cp.stderr)
        self.assertRegex(cp.stderr, r"(?i)not found")
        self.assertRegex(cp.stderr, r"(?i)target",
                         "the message must say the command is not in the TARGET's filesystem")
        self.assertEqual(os.listdir(t.volume_host_dir), [])
        self.assert_nothing_left(t, baseline, "after command-not-found")

    # -- c. stop signals mid-run -----------------------------------------------------------------

    def wait_for_workers(self, t, baseline, nsexec_pid) -> None:
        """Until stress-ng's two cpu workers are running inside the target."""
        def running_workers():
            return [p for p in self.ours_in(t, baseline)
                    if (harness.comm_of(p) or "").startswith("stress-ng-")
                    and "[run]" in " ".join(harness._cmdline(p)) and not harness.is_zombie(p)]
        if not harness.wait_until(lambda: len(running_workers()) >= 2, 15, 0.01):
            self.fail(f"stress-ng workers never ran in the target (nsexec pid {nsexec_pid}); "
                      f"in the target:\n  {_describe(self.ours_in(t, baseline))}")

    def time_to_empty(self, t, baseline, what, rnd) -> float:
        t0 = time.monotonic()
        emptied = harness.wait_until(lambda: not self.ours_in(t, baseline), 5, 0.002)
        elapsed = time.monotonic() - t0
        self.assertTrue(emptied, f"{what}, round {rnd}: still in the target after 5 s:\n  "
                                 + _describe(self.ours_in(t, baseline)))
        if elapsed > self.worst.get(what, (0, 0))[0]:
            self.worst[what] = (elapsed, rnd)
        return elapsed

    def stress_argv(self, t) -> list[str]:
        return [self.nsexec, *self.ns_args(t), *self.local_args(), "--",
                "stress-ng", "--cpu", "2", "--cpu-load", "50", "--timeout", "30s"]

    def test_c1_sigterm_to_nsexec_leaves_nothing(self):
        t = self.new_target()
        baseline = self.baseline_of(t)
        slow = []
        for rnd in range(1, SIGNAL_ROUNDS + 1):
            p = self.spawn(self.stress_argv(t))
            self.wait_for_workers(t, baseline, p.pid)
            os.kill(p.pid, signal.SIGTERM)
            elapsed = self.time_to_empty(t, baseline, "SIGTERM to nsexec", rnd)
            if elapsed > CLEANUP_BOUND_S:
                slow.append(f"round {rnd}: {elapsed * 1000:.0f} ms")
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                self.fail(f"round {rnd}: nsexec still running 5 s after SIGTERM")
        self.assertEqual(slow, [], f"cleanup took longer than {CLEANUP_BOUND_S} s")

    def test_c2_sigkill_of_nsexecs_parent_leaves_nothing(self):
        t = self.new_target()
        baseline = self.baseline_of(t)
        slow = []
        # nsexec, orphaned when its parent dies, is re-parented to us so that we can reap it and
        # see that it exits; on only while no runtime command runs (shims would come to us too).
        harness.set_child_subreaper(True)
        self.addCleanup(harness.set_child_subreaper, False)
        for rnd in range(1, SIGNAL_ROUNDS + 1):
            parent = self.spawn([sys.executable, "-c", PARENT_SCRIPT, *self.stress_argv(t)])
            nsexec_pid = None

            def find_nsexec():
                nonlocal nsexec_pid
                kids = [c for c in harness.descendants_of(parent.pid) if harness.ppid_of(c) == parent.pid]
                nsexec_pid = kids[0] if kids else None
                return nsexec_pid
            self.assertTrue(harness.wait_until(find_nsexec, 10), "the parent never started nsexec")
            self.wait_for_workers(t, baseline, nsexec_pid)
            parent.kill()
            elapsed = self.time_to_empty(t, baseline, "SIGKILL of nsexec's parent", rnd)
            if elapsed > CLEANUP_BOUND_S:
                slow.append(f"round {rnd}: {elapsed * 1000:.0f} ms")
            parent.wait()
            # Reap the orphaned nsexec (it came to us, the subreaper), and require that it exits.
            reaped = []

            def reap():
                try:
                    pid, _ = os.waitpid(nsexec_pid, os.WNOHANG)
                except ChildProcessError:
                    return True  # not ours: it was reaped elsewhere
                if pid:
                    reaped.append(pid)
                return bool(pid)
            self.assertTrue(harness.wait_until(reap, 5), f"round {rnd}: nsexec {nsexec_pid} still "
                                                         "running 5 s after its parent was killed")
        self.assertEqual(slow, [], f"cleanup took longer than {CLEANUP_BOUND_S} s")

    # -- d. errors and exit statuses -------------------------------------------------------------

    def test_d1_missing_namespace_file(self):
        t = self.new_target()
        baseline = self.baseline_of(t)
        missing = f"/tmp/no-such-ns-{secrets.token_hex(4)}/pid"
        cp = self.run_nsexec(["-p", missing, "-m", f"/proc/{t.pid}/ns/mnt", *self.local_args(), "--", "true"])
        self.assertEqual(cp.returncode, 125, cp.stderr)
        self.assertIn(missing, cp.stderr)
        self.assertIn(os.strerror(2), cp.stderr)  # "No such file or directory"
        self.assert_nothing_left(t, baseline, "after a missing namespace file")

    def test_d2_target_that_has_exited(self):
        t = self.ctd.run_target()
        pid = t.pid
        self.ctd.stop_target(t)
        self.assertTrue(harness.wait_until(lambda: not os.path.exists(f"/proc/{pid}"), 5))
        cp = self.run_nsexec(["-p", f"/proc/{pid}/ns/pid", "-m", f"/proc/{pid}/ns/mnt", *self.local_args(),
                              "--", "stress-ng", "--cpu", "1", "--timeout", "5s"])
        self.assertEqual(cp.returncode, 125, cp.stderr)
        self.assertIn(f"/proc/{pid}/ns/", cp.stderr)
        self.assertIn(os.strerror(2), cp.stderr)

    def test_d3_command_that_does_not_exist(self):
        t = self.new_target()
        baseline = self.baseline_of(t)
        name = "no-such-command-" + secrets.token_hex(4)
        for extra in (self.local_args(), []):
            with self.subTest(local=bool(extra)):
                cp = self.run_nsexec([*self.ns_args(t), *extra, "--", name, "--flag"])
                self.assertEqual(cp.returncode, 127, cp.stderr)
                self.assertIn(name, cp.stderr)
                self.assertRegex(cp.stderr, r"(?i)not found")
                self.assert_nothing_left(t, baseline, "after command-not-found")

    def test_d4_unreadable_library(self):
        t = self.new_target()
        baseline = self.baseline_of(t)
        missing = f"/tmp/no-such-dir-{secrets.token_hex(4)}/libnsenter.so"
        cp = self.run_nsexec([*self.ns_args(t), "--local", "--library-path", missing, "--",
                              "stress-ng", "--cpu", "1", "--timeout", "5s"])
        self.assertEqual(cp.returncode, 125, cp.stderr)
        self.assertIn(missing, cp.stderr)
        self.assertIn(os.strerror(2), cp.stderr)
        # A directory is no library either.
        d = tempfile.mkdtemp(prefix="not-a-library-")
        self.addCleanup(os.rmdir, d)
        cp = self.run_nsexec([*self.ns_args(t), "--local", "--library-path", d, "--", "true"])
        self.assertEqual(cp.returncode, 125, cp.stderr)
        self.assertIn(d, cp.stderr)
        self.assert_nothing_left(t, baseline, "after a bad library")

    def test_d5_command_status_and_target_filesystem(self):
        t = self.new_target()
        baseline = self.baseline_of(t)
        # Without --local the command is the target's own (busybox) and sees the target's files.
        cp = self.run_nsexec([*self.ns_args(t), "--", "cat", "/etc/passwd"])
        self.assertEqual(cp.returncode, 0, cp.stderr)
        with open(f"/proc/{t.pid}/root/etc/passwd") as f:
            self.assertEqual(cp.stdout, f.read())
        cp = self.run_nsexec([*self.ns_args(t), "--", "sh", "-c", "exit 3"])
        self.assertEqual(cp.returncode, 3, cp.stderr)
        cp = self.run_nsexec([*self.ns_args(t), "--", "sh", "-c", "kill -9 $$"])
        self.assertEqual(cp.returncode, 128 + 9, cp.stderr)
        # The command runs in the target's pid namespace (its pid there is small, /proc is the target's).
        cp = self.run_nsexec([*self.ns_args(t), "--", "sh", "-c", "echo $$; readlink /proc/self/ns/pid"])
        self.assertEqual(cp.returncode, 0, cp.stderr)
        pid_inside, link = cp.stdout.split()
        self.assertEqual(link, harness.pidns_of(t.pid))
        self.assertLess(int(pid_inside), 100)
        # A bad option is nsexec's own failure.
        cp = self.run_nsexec(["--no-such-option", "--", "true"])
        self.assertEqual(cp.returncode, 125)
        self.assertIn("--no-such-option", cp.stderr)
        self.assert_nothing_left(t, baseline, "after short commands")


if __name__ == "__main__":
    unittest.main()
