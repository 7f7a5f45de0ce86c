"""helper/cgroup end to end, through tests/tools/cgroup_probe, on this machine's real cgroups.

No container runtime is needed: the test makes its own kubepods-like cgroups in every hierarchy,
<base>/stress-e2e-<rand>/kubepods/besteffort/pod<uid>/<64hex>, puts a `sleep` in them and checks
that the probe resolves exactly those directories, attaches another process to them, does both
from inside a private cgroup namespace (`unshare -C`, the Kubernetes-on-v2 case where Litmus fails
with "invalid group path"), and that the counters move while stress-ng runs there.

<base> is this process's own cgroup in each hierarchy, not the hierarchy root. On the dev machine
(Debian 12, kernel 6.18, hybrid, no systemd) the sandbox puts every command in
memory:/process_api/<hash> and leaves it at "/" in the other hierarchies; nesting below our own
memory cgroup keeps the stress accounted where the sandbox expects it, and it makes the memory
hierarchy's cgroupns root deeper than the others (mount root "/../../../../.."), which is exactly the
case the ancestor search must handle. The unified (cgroup2) hierarchy there has no controllers
enabled: only cpu.stat is in its directories, so memory/io counters come from v1 alone, and the v2
checks assert that cpu.stat moves and that the missing files give null. The io counters count
stress-ng --hdd direct-IO writes made through a bind-mounted volume of a block-backed filesystem on
every layout; buffered writes written back later count on v2 only (helper/cgroup.hpp says why).

On pure cgroup v2 (the VM leg, tests/vm) the same tests run with every controller enabled: the test's
cgroups get the controllers of their parent enabled level by level, as runtimes do.

Everything created (cgroups, volume dirs, processes) is removed in cleanups, also on failure.
"""

import ctypes
import errno
import json
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
import unittest
import uuid

import harness

# Generous for a 2-core machine shared with builds.
PROBE_TIMEOUT = harness.scaled(60)
CPU_STRESS_S = 2
MEM_STRESS_BYTES = 64 << 20


def _cgroup_mounts():
    """(mount point, root field, is_v2, super options) of every cgroup/cgroup2 mount."""
    mounts = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            fields, tail = left.split(), right.split()
            if not tail or tail[0] not in ("cgroup", "cgroup2"):
                continue
            opts = set(tail[2].split(",")) if tail[0] == "cgroup" and len(tail) > 2 else set()
            mounts.append((fields[4], fields[3], tail[0] == "cgroup2", opts))
    return mounts


def _proc_cgroup(pid):
    """{hierarchy id: (controllers, path)} of /proc/PID/cgroup."""
    out = {}
    with open(f"/proc/{pid}/cgroup") as f:
        for line in f:
            hid, ctrls, path = line.rstrip("\n").split(":", 2)
            out[int(hid)] = (ctrls, path)
    return out


class Hierarchy:
    """One mounted hierarchy and this process's cgroup in it."""

    def __init__(self, mount_point, v2, controllers, own_path):
        self.mount_point = mount_point
        self.v2 = v2
        self.controllers = controllers  # as in /proc/PID/cgroup: "cpu", "name=systemd", "" for v2
        self.base = mount_point + ("" if own_path == "/" else own_path)

    def dir(self, rel):
        return os.path.join(self.base, rel)


def _hierarchies():
    own = _proc_cgroup("self")
    result = []
    for mp, root, v2, opts in _cgroup_mounts():
        if root != "/":
            raise unittest.SkipTest(f"this test must run in the host's cgroup namespace ({mp} has root {root})")
        for hid, (ctrls, path) in own.items():
            if (v2 and hid == 0 and not ctrls) or (not v2 and hid != 0 and opts & set(ctrls.split(","))):
                result.append(Hierarchy(mp, v2, ctrls, path))
                break
    return result


def _write(path, text):
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def _read(path):
    with open(path) as f:
        return f.read()


def _enable_v2_controllers(parent):
    """Makes every controller PARENT has available to its children (cgroup.subtree_control), as
    runtimes do on v2. PARENT must hold no process (the root excepted): EBUSY otherwise."""
    wanted = _read(os.path.join(parent, "cgroup.controllers")).split()
    enabled = _read(os.path.join(parent, "cgroup.subtree_control")).split()
    missing = [c for c in wanted if c not in enabled]
    if not missing:
        return
    try:
        _write(os.path.join(parent, "cgroup.subtree_control"), " ".join("+" + c for c in missing))
    except OSError as e:
        if e.errno == errno.EBUSY:
            raise unittest.SkipTest(f"{parent} holds processes: its controllers cannot be delegated to the "
                                    "test's cgroups (run the test from a cgroup of its own)")
        raise


def _mkdir_cgroup(h, rel, created):
    """mkdir -p REL below H's base, recording each new dir in CREATED at once (for the cleanup). A
    new v1 cpuset starts with no cpus/mems and accepts no task (ENOSPC), so each new level copies
    its parent's, as container runtimes do; on v2 each level gets its parent's controllers."""
    path = h.base
    for part in rel.split("/"):
        parent, path = path, os.path.join(path, part)
        if os.path.isdir(path):
            continue
        if h.v2:
            _enable_v2_controllers(parent)
        os.mkdir(path)
        created.append(path)
        if not h.v2 and "cpuset" in h.controllers.split(","):
            for name in ("cpuset.cpus", "cpuset.mems"):
                _write(os.path.join(path, name), _read(os.path.join(parent, name)).strip() or "\n")


def _rmdir_cgroups(dirs):
    """Deepest first; EBUSY while the last tasks of a killed process are still exiting."""
    for d in sorted(set(dirs), key=lambda p: p.count("/"), reverse=True):
        deadline = time.monotonic() + harness.scaled(5)
        while True:
            try:
                os.rmdir(d)
                break
            except FileNotFoundError:
                break
            except OSError as e:
                if e.errno != errno.EBUSY or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)


def _move_self_to(dirs):
    """A preexec_fn: the child joins DIRS before it execs (single-threaded test process)."""
    def move():
        me = str(os.getpid())
        for d in dirs:
            _write(os.path.join(d, "cgroup.procs"), me)
    return move


_libc = ctypes.CDLL(None, use_errno=True)
_CLONE_NEWNS = 0x00020000
_MS_BIND, _MS_REC, _MS_PRIVATE = 4096, 16384, 1 << 18


def _bind_volume_then_move(dirs, src, dst):
    """A preexec_fn: join DIRS, then bind-mount SRC on DST in a private mount namespace (a
    container's volume, as the kubelet mounts a hostPath or PVC)."""
    move = _move_self_to(dirs)

    def run():
        move()
        if _libc.unshare(_CLONE_NEWNS) != 0:
            raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNS)")
        if _libc.mount(b"none", b"/", None, _MS_REC | _MS_PRIVATE, None) != 0:
            raise OSError(ctypes.get_errno(), "mount --make-rprivate /")
        if _libc.mount(src.encode(), dst.encode(), None, _MS_BIND, None) != 0:
            raise OSError(ctypes.get_errno(), f"mount --bind {src} {dst}")
    return run


class CgroupProbeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("needs root")
        cls.probe = harness.binary("cgroup_probe")
        cls.hierarchies = _hierarchies()
        if not cls.hierarchies:
            raise unittest.SkipTest("no cgroup hierarchy mounted")
        cls.v1 = [h for h in cls.hierarchies if not h.v2]
        cls.v2 = next((h for h in cls.hierarchies if h.v2), None)
        real_v1 = any(not c.startswith("name=") for h in cls.v1 for c in h.controllers.split(","))
        cls.layout = ("hybrid" if real_v1 else "v2") if cls.v2 else "v1"

        rand = secrets.token_hex(4)
        cls.top = f"stress-e2e-{rand}"
        cls.target_rel = f"{cls.top}/kubepods/besteffort/pod{uuid.uuid4()}/{secrets.token_hex(32)}"
        # The probe's own cgroups: "near" shares the top dir with the target, so the target path read
        # in its cgroupns climbs fewer levels than the namespace is deep (ancestor search); "far" is a
        # sibling of the top dir (as many levels as the depth where our base is the hierarchy root).
        cls.near_rel = f"{cls.top}/probe/ns"
        cls.far_rel = f"stress-e2e-{rand}-probe/a/b"
        cls.created = []
        cls.addClassCleanup(lambda: _rmdir_cgroups(cls.created))
        for h in cls.hierarchies:
            for rel in (cls.target_rel, cls.near_rel, cls.far_rel):
                _mkdir_cgroup(h, rel, cls.created)

        cls.target_dirs = [h.dir(cls.target_rel) for h in cls.hierarchies]
        cls.target = cls.spawn_class(["sleep", "600"], preexec_fn=_move_self_to(cls.target_dirs))
        cls.expected_v1 = sorted(h.dir(cls.target_rel) for h in cls.v1)
        cls.expected_v2 = cls.v2.dir(cls.target_rel) if cls.v2 else ""

    @classmethod
    def spawn_class(cls, argv, **kw):
        p = subprocess.Popen(argv, **kw)
        cls.addClassCleanup(cls._stop, p)
        return p

    def spawn(self, argv, **kw):
        p = subprocess.Popen(argv, **kw)
        self.addCleanup(self._stop, p)
        return p

    @staticmethod
    def _stop(p):
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
        p.wait()

    def run_probe(self, args, preexec_fn=None, cgroupns=False, check=True):
        argv = (["unshare", "-C"] if cgroupns else []) + [self.probe] + [str(a) for a in args]
        r = subprocess.run(argv, capture_output=True, text=True, timeout=PROBE_TIMEOUT, preexec_fn=preexec_fn)
        if check:
            self.assertEqual(r.returncode, 0, f"{argv}: {r.stderr}")
            return json.loads(r.stdout)
        return r

    def counters(self, only=None):
        return self.run_probe(["counters", self.target.pid] + (["--only", only] if only else []))

    def assert_same_cgroups(self, pid):
        """PID's /proc/PID/cgroup (read from the host) is the target's, line for line."""
        self.assertEqual(_proc_cgroup(pid), _proc_cgroup(self.target.pid))

    def assert_resolved(self, got):
        self.assertEqual(got["layout"], self.layout)
        self.assertEqual(sorted(got["v1_dirs"]), self.expected_v1)
        self.assertEqual(got["v2_dir"], self.expected_v2)
        self.assertEqual(got["warnings"], [])
        for h in self.v1:
            for c in h.controllers.split(","):
                self.assertEqual(got["v1_controller_dirs"][c], h.dir(self.target_rel))

    # --- resolve and attach from the host's cgroup namespace -------------------------------------

    def test_target_is_where_we_put_it(self):
        for hid, (ctrls, path) in _proc_cgroup(self.target.pid).items():
            h = next(h for h in self.hierarchies if h.controllers == ctrls or (h.v2 and hid == 0))
            self.assertEqual(h.mount_point + path, h.dir(self.target_rel))

    def test_resolve_from_host(self):
        self.assert_resolved(self.run_probe(["resolve", self.target.pid]))

    def test_attach_from_host(self):
        child = self.spawn(["sleep", "600"])
        self.assertNotEqual(_proc_cgroup(child.pid), _proc_cgroup(self.target.pid))
        self.assert_resolved(self.run_probe(["attach", self.target.pid, child.pid]))
        self.assert_same_cgroups(child.pid)

    def test_resolve_gone_pid_names_the_file(self):
        p = subprocess.Popen(["true"])
        p.wait()
        r = self.run_probe(["resolve", p.pid], check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn(f"/proc/{p.pid}/cgroup: No such file or directory", r.stderr)

    # --- from inside a private cgroup namespace ---------------------------------------------------

    def _probe_dirs(self, rel):
        return [h.dir(rel) for h in self.hierarchies]

    def _check_scenario(self, rel):
        """Inside the namespace the target's paths start with /.. and the mounts' roots are /..:
        the case this module must handle, not a host view in disguise."""
        move = _move_self_to(self._probe_dirs(rel))
        seen = subprocess.run(["unshare", "-C", "cat", f"/proc/{self.target.pid}/cgroup", "/proc/self/mountinfo"],
                              capture_output=True, text=True, timeout=PROBE_TIMEOUT, preexec_fn=move, check=True).stdout
        target_lines = [l for l in seen.splitlines() if l.count(":") >= 2 and l.split(":", 1)[0].isdigit()]
        self.assertEqual(len(target_lines), len(_proc_cgroup(self.target.pid)))
        for line in target_lines:
            self.assertTrue(line.split(":", 2)[2].startswith("/../"), line)
        roots = [l.split()[3] for l in seen.splitlines() if " - cgroup" in l]
        self.assertTrue(roots and all(r.startswith("/..") for r in roots), roots)

    def _resolve_and_attach_in_cgroupns(self, rel):
        self._check_scenario(rel)
        move = _move_self_to(self._probe_dirs(rel))
        self.assert_resolved(self.run_probe(["resolve", self.target.pid], preexec_fn=move, cgroupns=True))
        child = self.spawn(["sleep", "600"])
        self.assert_resolved(self.run_probe(["attach", self.target.pid, child.pid], preexec_fn=move, cgroupns=True))
        self.assert_same_cgroups(child.pid)

    def test_cgroupns_sharing_an_ancestor_with_the_target(self):
        # Target path inside: /../../kubepods/... while the namespace is 3 (memory here: 5) levels deep.
        self._resolve_and_attach_in_cgroupns(self.near_rel)

    def test_cgroupns_in_a_sibling_subtree(self):
        # Target path inside: /../../../stress-e2e-<rand>/kubepods/...: fully known where our base
        # is the hierarchy root, searched where it is not (memory:/process_api/<hash> here).
        self._resolve_and_attach_in_cgroupns(self.far_rel)

    def test_cgroupns_ambiguous_ancestor_is_an_error(self):
        # A decoy with the same kubepods/... below a sibling of the top dir, in one hierarchy.
        h = self.v1[0] if self.v1 else self.v2
        decoy_rel = f"{self.top}-decoy/" + self.target_rel.split("/", 1)[1]
        created = []
        self.addCleanup(_rmdir_cgroups, created)
        _mkdir_cgroup(h, decoy_rel, created)
        r = self.run_probe(["resolve", self.target.pid], preexec_fn=_move_self_to(self._probe_dirs(self.near_rel)),
                           cgroupns=True, check=False)
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("ambiguous", r.stderr)
        self.assertIn(h.dir(self.target_rel), r.stderr)
        self.assertIn(h.dir(decoy_rel), r.stderr)
        self.assertIn("HELPER_ERROR", r.stderr)

    # --- counters ----------------------------------------------------------------------------------

    def _stress(self, argv, **kw):
        p = self.spawn(["stress-ng"] + argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kw)
        return p

    def _finish(self, p):
        _, err = p.communicate(timeout=PROBE_TIMEOUT)
        self.assertEqual(p.returncode, 0, err)

    def test_cpu_usage_grows_under_cpu_stress(self):
        before, before_v2 = self.counters(), self.counters("v2") if self.v2 else None
        self.assertIsNotNone(before["cpu_usage_ns"])
        self._finish(self._stress(["--cpu", "1", "--timeout", f"{CPU_STRESS_S}s"],
                                  preexec_fn=_move_self_to(self.target_dirs)))
        after = self.counters()
        grown = after["cpu_usage_ns"] - before["cpu_usage_ns"]
        # One worker for 2 s on 2 shared cores: at least a quarter of that, at most all of it plus slack.
        self.assertGreater(grown, CPU_STRESS_S * 1e9 / 4)
        self.assertLess(grown, CPU_STRESS_S * 1e9 * 2)
        if self.v2:
            after_v2 = self.counters("v2")
            self.assertGreater(after_v2["cpu_usage_ns"] - before_v2["cpu_usage_ns"], CPU_STRESS_S * 1e9 / 4)

    def test_memory_grows_under_vm_stress(self):
        before = self.counters()
        if before["memory_bytes"] is None:
            self.skipTest("no memory counter for the target on this host")
        self.assertLess(before["memory_bytes"], MEM_STRESS_BYTES // 2)
        p = self._stress(["--vm", "1", "--vm-bytes", f"{MEM_STRESS_BYTES >> 20}M", "--vm-keep", "--timeout", "3s"],
                         preexec_fn=_move_self_to(self.target_dirs))
        highest = 0
        while p.poll() is None:
            highest = max(highest, self.counters()["memory_bytes"])
            time.sleep(0.2)
        self._finish(p)
        after = self.counters()
        self.assertGreater(highest, MEM_STRESS_BYTES * 3 // 4)
        self.assertGreaterEqual(after["memory_peak_bytes"], highest)
        if self.v2:
            v2 = self.counters("v2")
            has_memory = os.path.exists(os.path.join(self.expected_v2, "memory.current"))
            self.assertEqual(v2["memory_bytes"] is not None, has_memory)

    def _block_backed_dir(self, prefix):
        """A fresh dir on a block-backed filesystem (a tmpfs does no block IO): E2E_SCRATCH_DIR (the
        VM's scratch disk) or the build dir's filesystem."""
        parent = harness.scratch_parent()
        d = tempfile.mkdtemp(prefix=prefix, dir=parent)
        self.addCleanup(shutil.rmtree, d, True)
        if os.major(os.stat(d).st_dev) == 0:
            self.skipTest(f"{parent} is not on a block device")
        return d

    def _activate_v1_blkio_accounting(self, path):
        """Recent kernels (6.18 here) count nothing in v1 blkio.throttle.* unless a throttle rule is set
        for the device: set one so high it never throttles, on the disk behind PATH, for this test. (The
        kernel keeps throttling activated on that disk's queue after the rule is removed: harmless, no
        limit is left, but from then on this host's v1 counters count direct IO without a rule.)"""
        blkio = next((h.dir(self.target_rel) for h in self.v1 if "blkio" in h.controllers.split(",")), None)
        if blkio is None:
            return
        dev = os.stat(path).st_dev
        sysdev = f"/sys/dev/block/{os.major(dev)}:{os.minor(dev)}"
        if os.path.exists(f"{sysdev}/partition"):  # rules take whole disks
            sysdev = os.path.dirname(os.path.realpath(sysdev))
        disk = _read(f"{sysdev}/dev").strip()
        rule = os.path.join(blkio, "blkio.throttle.write_bps_device")
        _write(rule, f"{disk} {1 << 50}")
        self.addCleanup(lambda: os.path.isdir(blkio) and _write(rule, f"{disk} 0"))

    def test_direct_io_through_a_bind_mounted_volume_is_counted(self):
        # O_DIRECT writes are submitted by the writer itself: charged to its cgroup on v1 and v2 alike
        # (on v1 only while a throttle rule is set; buffered writes not at all: see the next test).
        before = self.counters()
        if before["io_write_bytes"] is None:
            self.skipTest("no io counter for the target on this host")
        src = self._block_backed_dir("cgroup-e2e-vol-")
        dst = self._block_backed_dir("cgroup-e2e-mnt-")
        self._activate_v1_blkio_accounting(src)
        self._finish(self._stress(["--hdd", "1", "--hdd-bytes", "16M", "--hdd-opts", "direct", "--timeout", "2s",
                                   "--temp-path", dst],
                                  preexec_fn=_bind_volume_then_move(self.target_dirs, src, dst)))
        after = self.counters()
        self.assertGreater(after["io_write_bytes"] - before["io_write_bytes"], 1 << 20)
        self.assertEqual(os.listdir(dst), [])  # the bind mount lived in stress-ng's mount namespace only
        if self.v2:
            v2 = self.counters("v2")
            has_io = os.path.exists(os.path.join(self.expected_v2, "io.stat"))
            self.assertEqual(v2["io_write_bytes"] is not None, has_io)

    def test_writeback_of_buffered_writes_is_the_writers_on_v2_only(self):
        # 32 MiB written through the page cache by a process in the target's cgroup, then written back
        # by the kernel (a sync(2) from this process, outside the cgroup). cgroup v2 attributes the
        # writeback to the cgroup that dirtied the pages; v1 cannot (it goes to the root cgroup). This
        # is what the helper's effect line says on each (helper/cgroup.hpp).
        before = self.counters()
        if before["io_write_bytes"] is None:
            self.skipTest("no io counter for the target on this host")
        d = self._block_backed_dir("cgroup-e2e-wb-")
        self._activate_v1_blkio_accounting(d)  # so that v1 could count: it still must not
        size = 32 << 20
        self._finish(self.spawn(["dd", "if=/dev/zero", f"of={d}/data", "bs=1M", f"count={size >> 20}",
                                 "status=none"], stderr=subprocess.PIPE, preexec_fn=_move_self_to(self.target_dirs)))
        os.sync()
        grown = lambda: self.counters()["io_write_bytes"] - before["io_write_bytes"]
        if before["io_source"] == "v2":
            self.assertTrue(harness.wait_until(lambda: grown() >= size * 3 // 4, harness.scaled(30), 0.2),
                            f"cgroup v2 io.stat counted {grown()} bytes of the target's {size} written back")
        else:
            self.assertEqual(before["io_source"], "v1")
            self.assertLess(grown(), size // 4, "cgroup v1 blkio counted buffered writes written back by the kernel")


if __name__ == "__main__":
    unittest.main()
