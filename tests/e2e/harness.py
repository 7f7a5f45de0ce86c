"""Shared end-to-end harness: private container runtimes, a busybox-only target image, /proc helpers.

Every test that needs a real target container uses this module. It starts a private containerd
(and, where asked, a private dockerd) with its own root, state, socket and config under a fresh
temp dir, builds a busybox-static image in Python (no registry is reachable here), runs target
containers in it, and removes every trace again in stop(): tasks, containers, daemons, shims,
mounts, the cgroup directories it caused to be created, and the temp dir.

Standard library only; run with /usr/bin/python3 (3.11) as root. See README.md beside this file.
"""

from __future__ import annotations

import atexit
import ctypes
import dataclasses
import errno
import fcntl
import hashlib
import io
import json
import os
import platform
import secrets
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid
import weakref

_HERE = os.path.dirname(os.path.abspath(__file__))
_REPO = os.path.dirname(os.path.dirname(_HERE))

BUILD_DIR = os.environ.get("BUILD_DIR") or os.path.join(_REPO, "build")
SOURCE_DIR = os.environ.get("SOURCE_DIR") or _REPO

IMAGE_NAME = "localhost/stress-target:busybox"
BUSYBOX = "/bin/busybox"
CGROUP_ROOT = "/sys/fs/cgroup"

# Deadlines for latencies (a revert, a start-up) are multiplied by this: 1 on a real machine; the VM
# leg (tests/vm: software emulation, about 10-30 times slower) sets E2E_TIME_SCALE. What a test
# proves there is correctness, not speed.
TIME_SCALE = float(os.environ.get("E2E_TIME_SCALE") or 1)


def scaled(seconds: float) -> float:
    return seconds * TIME_SCALE


# Generous bounds for daemon work on a 2-core machine that other jobs share.
DAEMON_START_TIMEOUT = scaled(60.0)
DAEMON_STOP_TIMEOUT = scaled(20.0)
COMMAND_TIMEOUT = scaled(120.0)


# ---------------------------------------------------------------------------------------------
# Built binaries

_binaries: dict[str, str] | None = None


def _scan_build_dir() -> dict[str, str]:
    found: dict[str, str] = {}
    for root, dirs, files in os.walk(BUILD_DIR):
        # CMake's scratch dirs hold compiler-check binaries, never ours.
        dirs[:] = sorted(d for d in dirs if d != "CMakeFiles")
        for name in files:
            path = os.path.join(root, name)
            if not os.path.isfile(path) or os.path.islink(path):
                continue
            # Two copies (the output dir moved between builds): the newer one is the build's.
            if name not in found or os.path.getmtime(path) > os.path.getmtime(found[name]):
                found[name] = path
    return found


def binary(name: str) -> str:
    """Path of a built binary (e.g. "nsexec", "libnsenter.so") found anywhere under BUILD_DIR."""
    global _binaries
    if _binaries is None or name not in _binaries:
        _binaries = _scan_build_dir()  # once, and again only for a name not seen yet
    path = _binaries.get(name)
    if path is None:
        raise FileNotFoundError(
            f"{name} is not built under BUILD_DIR={BUILD_DIR} "
            f"(cmake --build {BUILD_DIR} --target <the target that makes {name}>)")
    return path


# ---------------------------------------------------------------------------------------------
# /proc helpers

def scratch_parent() -> str:
    """Where a test makes files that must reach a block device (a tmpfs does no block IO): the VM's
    scratch disk (E2E_SCRATCH_DIR, tests/vm), else the build dir's filesystem, else /var/tmp."""
    for d in (os.environ.get("E2E_SCRATCH_DIR"), BUILD_DIR, "/var/tmp"):
        if d and os.path.isdir(d) and os.access(d, os.W_OK):
            return d
    raise RuntimeError("no writable scratch directory (E2E_SCRATCH_DIR, BUILD_DIR, /var/tmp)")


def make_container_id() -> str:
    """64 lowercase hex digits, like the container IDs kubelet and docker use."""
    return secrets.token_hex(32)


def pidns_of(pid: int) -> str | None:
    """The pid namespace link of PID ("pid:[4026532…]"), None if the process is gone."""
    try:
        return os.readlink(f"/proc/{pid}/ns/pid")
    except OSError:
        return None


def _all_pids() -> list[int]:
    return [int(n) for n in os.listdir("/proc") if n.isdigit()]


def pids_in_pidns(link: str) -> list[int]:
    """Every host pid whose /proc/PID/ns/pid is LINK. Zombies are included: the link of a
    zombie still resolves until it is reaped."""
    return sorted(pid for pid in _all_pids() if pidns_of(pid) == link)


def _stat_fields(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            text = f.read().decode(errors="replace")
    except OSError:
        return None
    # comm may hold spaces and parentheses: the state follows the LAST ')'.
    return text[text.rfind(")") + 2:].split()


def is_zombie(pid: int) -> bool:
    fields = _stat_fields(pid)
    return bool(fields) and fields[0] == "Z"


def ppid_of(pid: int) -> int | None:
    fields = _stat_fields(pid)
    return int(fields[1]) if fields else None


def comm_of(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return None


def descendants_of(pid: int) -> list[int]:
    """Host pids of every living or zombie descendant of PID (one /proc scan)."""
    children: dict[int, list[int]] = {}
    for p in _all_pids():
        pp = ppid_of(p)
        if pp is not None:
            children.setdefault(pp, []).append(p)
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return sorted(out)


def wait_until(predicate, timeout: float, interval: float = 0.01) -> bool:
    """Polls PREDICATE until it is truthy (True) or TIMEOUT seconds passed (False)."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def cgroup_of(pid: int) -> str:
    with open(f"/proc/{pid}/cgroup") as f:
        return f.read()


# ---------------------------------------------------------------------------------------------
# The cgroup layout as this machine has it (v1, hybrid or v2), read, never assumed. Tests run in the
# host's cgroup namespace: /proc/PID/cgroup paths are then paths below each hierarchy's mount point.

@dataclasses.dataclass
class CgroupHierarchy:
    mount_point: str
    v2: bool
    controllers: frozenset  # v1: the mount's controllers ("cpu", "cpuacct", "name=systemd"); v2: empty
    options: frozenset      # super options (v2: "nsdelegate", "memory_recursiveprot", …)


def cgroup_hierarchies() -> list[CgroupHierarchy]:
    """Every cgroup and cgroup2 mount under /sys/fs/cgroup, from /proc/self/mountinfo."""
    out = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            fields, tail = left.split(), right.split()
            if len(tail) < 3 or tail[0] not in ("cgroup", "cgroup2") or not fields[4].startswith(CGROUP_ROOT):
                continue
            opts = frozenset(tail[2].split(","))
            v2 = tail[0] == "cgroup2"
            ctrls = frozenset() if v2 else frozenset(o for o in opts if o not in ("rw", "ro") and
                                                      (o.startswith("name=") or "=" not in o))
            out.append(CgroupHierarchy(fields[4], v2, ctrls, opts))
    return out


def cgroup_layout() -> str:
    """"v1", "hybrid" or "v2", as helper/cgroup.hpp defines them."""
    hs = cgroup_hierarchies()
    real_v1 = any(not h.v2 and any(not c.startswith("name=") for c in h.controllers) for h in hs)
    has_v2 = any(h.v2 for h in hs)
    return ("hybrid" if real_v1 else "v2") if has_v2 else "v1"


def cgroup_dirs(pid: int) -> dict[str, str]:
    """{controller: host dir} of PID's cgroups. v1 controllers map to their hierarchy's dir; "" is the
    cgroup2 dir; on a v2 host every controller enabled for the dir maps to it as well."""
    hs = cgroup_hierarchies()
    out: dict[str, str] = {}
    for line in cgroup_of(pid).splitlines():
        hid, ctrls, path = line.split(":", 2)
        if hid == "0" and not ctrls:
            h = next((h for h in hs if h.v2), None)
            if h is not None:
                out[""] = h.mount_point + path.rstrip("/")
            continue
        want = frozenset(ctrls.split(","))
        h = next((h for h in hs if not h.v2 and h.controllers & want), None)
        if h is not None:
            for c in want:
                out[c] = h.mount_point + path.rstrip("/")
    v2 = out.get("")
    if v2 is not None:
        try:
            with open(f"{v2}/cgroup.controllers") as f:
                for c in f.read().split():
                    out.setdefault(c, v2)
        except OSError:
            pass
        out.setdefault("cpu", v2)  # cpu.stat's usage_usec exists in every cgroup2 dir
    return out


def _keyed(path: str, key: str) -> int:
    with open(path) as f:
        for line in f:
            k, _, v = line.partition(" ")
            if k == key:
                return int(v)
    raise AssertionError(f"{path} has no {key}")


def cpu_usage_ns(pid: int) -> int:
    """CPU time charged to PID's cgroup: v1 cpuacct.usage, else v2 cpu.stat usage_usec."""
    dirs = cgroup_dirs(pid)
    d = dirs.get("cpuacct")
    if d and d != dirs.get(""):
        with open(f"{d}/cpuacct.usage") as f:
            return int(f.read())
    if "" in dirs:
        return _keyed(f"{dirs['']}/cpu.stat", "usage_usec") * 1000
    raise AssertionError(f"no cpu accounting cgroup for {pid}")


def memory_usage(pid: int) -> int:
    """Memory charged to PID's cgroup now: v1 memory.usage_in_bytes, else v2 memory.current."""
    dirs = cgroup_dirs(pid)
    d = dirs.get("memory")
    if d is None:
        raise AssertionError(f"no memory cgroup for {pid}")
    name = "memory.current" if d == dirs.get("") else "memory.usage_in_bytes"
    with open(f"{d}/{name}") as f:
        return int(f.read())


def oom_kills(pid: int) -> int:
    """How many processes the OOM killer killed in PID's memory cgroup: v1 memory.oom_control's
    oom_kill, v2 memory.events' oom_kill."""
    dirs = cgroup_dirs(pid)
    d = dirs.get("memory")
    if d is None:
        raise AssertionError(f"no memory cgroup for {pid}")
    name = "memory.events" if d == dirs.get("") else "memory.oom_control"
    return _keyed(f"{d}/{name}", "oom_kill")


def io_counter_kind(pid: int) -> str | None:
    """Which io counter the helper reads for PID's cgroup: "v1" (blkio: direct and self-synced IO
    only), "v2" (io.stat: writeback attributed to the writer), None (no io counter)."""
    dirs = cgroup_dirs(pid)
    d = dirs.get("blkio")
    if d and os.path.exists(f"{d}/blkio.throttle.io_service_bytes"):
        return "v1"
    if "" in dirs and os.path.exists(f"{dirs['']}/io.stat"):
        return "v2"
    return None


# ---------------------------------------------------------------------------------------------
# Low-level process, mount and cgroup clean-up

_libc = ctypes.CDLL(None, use_errno=True)
_PR_SET_CHILD_SUBREAPER = 36
_MNT_DETACH = 2


def set_child_subreaper(on: bool) -> None:
    """Orphaned descendants are re-parented to this process (so a test can reap them) while on."""
    if _libc.prctl(_PR_SET_CHILD_SUBREAPER, 1 if on else 0, 0, 0, 0) != 0:
        e = ctypes.get_errno()
        raise OSError(e, f"prctl(PR_SET_CHILD_SUBREAPER): {os.strerror(e)}")


def _cmdline(pid: int) -> list[str]:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
    except OSError:
        return []


def _kill_pids(pids, sig=signal.SIGKILL) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def _pids_mentioning(*words: str) -> list[int]:
    """Pids whose argv contains one of WORDS as a substring (e.g. our private socket path)."""
    me = os.getpid()
    return [p for p in _all_pids()
            if p != me and any(w in a for a in _cmdline(p) for w in words)]


def _pids_in_cgroups_of(ids: list[str]) -> list[int]:
    if not ids:
        return []
    out = []
    for p in _all_pids():
        try:
            text = cgroup_of(p)
        except OSError:
            continue
        if any(i in text for i in ids):
            out.append(p)
    return out


def _stop_process(proc: subprocess.Popen, timeout: float) -> None:
    """SIGTERM, then SIGKILL after TIMEOUT; reaps it."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _mountpoints_under(path: str) -> list[str]:
    prefix = path.rstrip("/") + "/"
    points = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mp = line.split()[4].replace("\\040", " ").replace("\\011", "\t").replace("\\134", "\\")
            if mp == path or mp.startswith(prefix):
                points.append(mp)
    return points


def unmount_under(path: str) -> None:
    """Lazily unmounts everything mounted at or below PATH, deepest first."""
    for _ in range(10):  # a lazy unmount may reveal mounts stacked below
        points = _mountpoints_under(path)
        if not points:
            return
        for mp in sorted(set(points), key=lambda p: p.count("/"), reverse=True):
            if _libc.umount2(mp.encode(), _MNT_DETACH) != 0:
                e = ctypes.get_errno()
                if e not in (errno.EINVAL, errno.ENOENT):
                    print(f"harness: umount2 {mp}: {os.strerror(e)}", file=sys.stderr)


def _cgroup_hierarchies() -> list[str]:
    """Mount points of every cgroup (v1) and cgroup2 hierarchy under /sys/fs/cgroup."""
    roots = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            fstype = right.split()[0] if right else ""
            mp = left.split()[4]
            if fstype in ("cgroup", "cgroup2") and mp.startswith(CGROUP_ROOT):
                roots.append(mp)
    return sorted(set(roots))


class _CgroupLock:
    """Serialises "a runtime creates cgroup dirs" against "we remove the empty ones we caused"
    among every harness process on the machine. flock on the /sys/fs/cgroup directory itself,
    so no lock file is left behind."""

    def __enter__(self):
        self.fd = os.open(CGROUP_ROOT, os.O_RDONLY | os.O_DIRECTORY)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)


def _missing_cgroup_dirs(cgroup_path: str) -> list[str]:
    """Every hierarchy directory on the way to CGROUP_PATH that does not exist yet: the runtime
    is about to create them, and we remove them (when empty) when the target goes."""
    parts = [p for p in cgroup_path.split("/") if p]
    missing = []
    for root in _cgroup_hierarchies():
        for i in range(1, len(parts) + 1):
            d = os.path.join(root, *parts[:i])
            if not os.path.isdir(d):
                missing.append(d)
    return missing


def _remove_cgroup_dirs(dirs: list[str]) -> None:
    """Removes the cgroup dirs in DIRS that are empty, deepest first. A dir that still has a
    child cgroup is shared with someone else's live container and stays."""
    with _CgroupLock():
        for d in sorted(set(dirs), key=lambda p: p.count("/"), reverse=True):
            deadline = time.monotonic() + 2.0
            while True:
                try:
                    os.rmdir(d)
                    break
                except FileNotFoundError:
                    break
                except OSError as e:
                    # EBUSY with no child cgroup: its last tasks are still exiting.
                    if e.errno != errno.EBUSY or _cgroup_has_children(d) or time.monotonic() > deadline:
                        break
                    time.sleep(0.02)


def _cgroup_has_children(d: str) -> bool:
    try:
        return any(os.path.isdir(os.path.join(d, n)) for n in os.listdir(d))
    except OSError:
        return False


# Directories outside our temp dir that containerd 1.6 and dockerd 20.10 create whatever their
# configuration says: the shim sockets' dir (hard-coded /run/containerd/s), and dockerd's plugin
# discovery dir. They are empty once our daemons are gone.
_RUNTIME_HOST_DIRS = {
    "containerd": ["/run/containerd/s", "/run/containerd/fifo", "/run/containerd/runc", "/run/containerd"],
    "dockerd": ["/run/docker/plugins", "/run/docker", "/run/containerd/s", "/run/containerd"],
}
_RUNTIME_PROGRAMS = {"containerd", "containerd-shim", "containerd-shim-runc-v1", "containerd-shim-runc-v2",
                     "dockerd"}


def _other_runtime_running(exclude: set[int]) -> bool:
    for p in _all_pids():
        if p in exclude or is_zombie(p):
            continue
        argv = _cmdline(p)
        if argv and os.path.basename(argv[0]) in _RUNTIME_PROGRAMS:
            return True
    return False


# The ones that did not exist when a daemon of this process started.
_host_dirs_to_remove: set[str] = set()


def _remove_host_dirs() -> None:
    """Removes the empty dirs in _host_dirs_to_remove, innermost first, unless some runtime is
    still running (ours or anybody's): it may be about to use them."""
    if not _host_dirs_to_remove or _other_runtime_running(exclude=set()):
        return
    with _CgroupLock():
        for d in sorted(_host_dirs_to_remove, key=lambda p: p.count("/"), reverse=True):
            try:
                os.rmdir(d)
            except OSError:
                pass
    _host_dirs_to_remove.clear()


def _run(argv: list[str], check: bool, env=None, timeout: float = COMMAND_TIMEOUT) -> subprocess.CompletedProcess:
    cp = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                        env=env, timeout=timeout)
    if check and cp.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {cp.returncode}\nstdout: {cp.stdout.strip()}\n"
                           f"stderr: {cp.stderr.strip()}")
    return cp


def _log_tail(path: str, lines: int = 40) -> str:
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError as e:
        return f"(no log: {e})"


# ---------------------------------------------------------------------------------------------
# The target image: busybox-static only, built here (no registry is reachable)

_image_dir: str | None = None


def _go_arch() -> str:
    m = platform.machine()
    return {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "ppc64le": "ppc64le",
            "s390x": "s390x", "riscv64": "riscv64"}.get(m, m)


def _busybox_applets() -> list[str]:
    out = subprocess.run([BUSYBOX, "--list"], capture_output=True, text=True, check=True).stdout
    return sorted({a.strip() for a in out.split() if a.strip() and "/" not in a} - {"busybox"})


def _rootfs_tar_bytes() -> bytes:
    """The target's whole filesystem: /bin/busybox and its applet links, /etc/passwd, and the
    empty mount points. Deterministic (fixed mtimes), so its digest is stable."""
    buf = io.BytesIO()
    mtime = 1700000000

    def add_dir(tf, name, mode=0o755):
        ti = tarfile.TarInfo(name)
        ti.type, ti.mode, ti.mtime = tarfile.DIRTYPE, mode, mtime
        tf.addfile(ti)

    def add_file(tf, name, data: bytes, mode=0o644):
        ti = tarfile.TarInfo(name)
        ti.size, ti.mode, ti.mtime = len(data), mode, mtime
        tf.addfile(ti, io.BytesIO(data))

    with open(BUSYBOX, "rb") as f:
        busybox = f.read()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for d in ("bin", "dev", "etc", "proc", "root", "sys", "var"):
            add_dir(tf, d)
        add_dir(tf, "tmp", 0o1777)
        add_file(tf, "bin/busybox", busybox, 0o755)
        for applet in _busybox_applets():
            ti = tarfile.TarInfo(f"bin/{applet}")
            ti.type, ti.linkname, ti.mode, ti.mtime = tarfile.SYMTYPE, "busybox", 0o777, mtime
            tf.addfile(ti)
        add_file(tf, "etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n"
                                   b"nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")
        add_file(tf, "etc/group", b"root:x:0:\nnogroup:x:65534:\n")
    return buf.getvalue()


def _image_files() -> tuple[str, str]:
    """(OCI archive for `ctr images import`, plain rootfs tar for `docker import`), built once per
    process into a temp dir that is removed at exit."""
    global _image_dir
    if _image_dir is not None:
        return os.path.join(_image_dir, "image.oci.tar"), os.path.join(_image_dir, "rootfs.tar")
    d = tempfile.mkdtemp(prefix="e2e-image-")
    atexit.register(shutil.rmtree, d, True)

    layer = _rootfs_tar_bytes()
    with open(os.path.join(d, "rootfs.tar"), "wb") as f:
        f.write(layer)

    def digest(b: bytes) -> str:
        return "sha256:" + hashlib.sha256(b).hexdigest()

    arch = _go_arch()
    config = json.dumps({
        "architecture": arch, "os": "linux",
        "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                   "Cmd": ["sh"], "WorkingDir": "/"},
        "rootfs": {"type": "layers", "diff_ids": [digest(layer)]},
        "history": [{"created_by": "tests/e2e/harness.py: busybox-static rootfs"}],
    }, sort_keys=True).encode()
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": digest(config), "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": digest(layer), "size": len(layer)}],
    }, sort_keys=True).encode()
    index = json.dumps({
        "schemaVersion": 2,
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "digest": digest(manifest), "size": len(manifest),
                       "platform": {"architecture": arch, "os": "linux"},
                       "annotations": {"io.containerd.image.name": IMAGE_NAME,
                                       "org.opencontainers.image.ref.name": "busybox"}}],
    }, sort_keys=True).encode()

    archive = os.path.join(d, "image.oci.tar")
    with tarfile.open(archive, "w", format=tarfile.PAX_FORMAT) as tf:
        def add(name, data):
            ti = tarfile.TarInfo(name)
            ti.size, ti.mode, ti.mtime = len(data), 0o644, 1700000000
            tf.addfile(ti, io.BytesIO(data))
        add("oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
        add("index.json", index)
        for blob in (config, manifest, layer):
            add("blobs/sha256/" + digest(blob).split(":", 1)[1], blob)
    _image_dir = d
    return archive, os.path.join(d, "rootfs.tar")


# ---------------------------------------------------------------------------------------------
# Targets and runtimes

@dataclasses.dataclass
class Target:
    id: str                       # 64-hex container id
    pid: int                      # host pid of the container's init process
    runtime: str                  # "containerd" | "docker"
    socket: str                   # runtime socket path
    volume_host_dir: str | None   # host dir bind-mounted into the container, or None
    volume_path: str | None       # where it is mounted inside the container, e.g. "/data"
    # Bookkeeping for stop_target (not part of the public contract).
    cgroup_dirs_created: list = dataclasses.field(default_factory=list, repr=False)


_live = weakref.WeakSet()


def _stop_all_at_exit():
    for daemon in list(_live):
        try:
            daemon.stop()
        except Exception as e:  # keep stopping the others
            print(f"harness: stop at exit: {e}", file=sys.stderr)


atexit.register(_stop_all_at_exit)


class _Daemon:
    """What Containerd and Dockerd share: a temp dir, a daemon process, a log, targets."""

    kind = "daemon"

    def __init__(self):
        self.tmp: str | None = None
        self.proc: subprocess.Popen | None = None
        self.log_path: str | None = None
        self.targets: dict[str, Target] = {}
        self._cgroup_dirs_created: list[str] = []
        self._stopped = False

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def _make_tmp(self, prefix: str) -> None:
        # Short: unix socket paths must stay under 108 bytes, shim sockets included.
        self.tmp = tempfile.mkdtemp(prefix=prefix, dir="/tmp")
        os.chmod(self.tmp, 0o711)
        self.log_path = os.path.join(self.tmp, "daemon.log")
        os.makedirs(os.path.join(self.tmp, "volumes"))
        self._volumes: list[str] = []
        _host_dirs_to_remove.update(d for d in _RUNTIME_HOST_DIRS[self.kind] if not os.path.isdir(d))
        _live.add(self)

    def _spawn(self, argv: list[str], env=None) -> None:
        log = open(self.log_path, "ab")
        try:
            # setpriv sets PR_SET_PDEATHSIG and execs the daemon: a test process killed outright
            # still takes its daemon down (no preexec_fn: tests may run threads).
            if shutil.which("setpriv"):
                argv = ["setpriv", "--pdeathsig", "TERM", "--", *argv]
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                         env=env, start_new_session=True)
        finally:
            log.close()

    def _wait_ready(self, probe, what: str) -> None:
        deadline = time.monotonic() + DAEMON_START_TIMEOUT
        last = ""
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                last = f"{what} exited with status {self.proc.returncode}"
                break
            if not os.path.exists(self.socket):
                last = f"no socket {self.socket} yet"
                time.sleep(0.02)
                continue
            try:
                cp = probe()
            except subprocess.TimeoutExpired as e:
                last = f"{' '.join(e.cmd)}: no answer in {e.timeout} s"
                continue
            if cp.returncode == 0:
                return
            last = (cp.stderr or cp.stdout).strip()
            time.sleep(0.02)
        else:
            last = f"not ready after {DAEMON_START_TIMEOUT:.0f} s: {last}"
        tail = _log_tail(self.log_path)
        self.stop()
        raise RuntimeError(f"{what} did not start: {last}\n--- last lines of {what}'s log ---\n{tail}")

    def _new_volume(self) -> str:
        """A fresh host dir for a target's volume (the stand-in for a PVC). In the VM leg it lies on
        the scratch disk (E2E_SCRATCH_DIR), block-backed like a PVC, where the guest's /tmp is a tmpfs."""
        d = tempfile.mkdtemp(prefix="vol-", dir=os.environ.get("E2E_SCRATCH_DIR") or os.path.join(self.tmp, "volumes"))
        self._volumes.append(d)
        return d

    def _final_cleanup(self, ids: list[str], words: list[str]) -> None:
        """After the daemon is gone: SIGKILL any shim or container process still tied to us,
        unmount what is left under the temp dir, remove the temp dir and the volumes."""
        for d in getattr(self, "_volumes", []):
            shutil.rmtree(d, ignore_errors=True)
        for _ in range(3):
            leftovers = {p for p in set(_pids_mentioning(*words)) | set(_pids_in_cgroups_of(ids))
                         if p != os.getpid() and not is_zombie(p)}
            if not leftovers:
                break
            _kill_pids(leftovers)
            wait_until(lambda: all(not os.path.exists(f"/proc/{p}") or is_zombie(p) for p in leftovers), 5)
        _live.discard(self)
        _remove_host_dirs()
        if self.tmp and os.path.isdir(self.tmp):
            unmount_under(self.tmp)
            shutil.rmtree(self.tmp, ignore_errors=True)
            if os.path.exists(self.tmp):
                # Still busy: one more unmount pass, then give up loudly.
                unmount_under(self.tmp)
                shutil.rmtree(self.tmp, ignore_errors=True)
                if os.path.exists(self.tmp):
                    print(f"harness: could not remove {self.tmp}", file=sys.stderr)
        _live.discard(self)


class Containerd(_Daemon):
    """A private containerd: own root, state, socket and config under a temp dir."""

    kind = "containerd"
    namespace = "k8s.io"

    def __init__(self):
        super().__init__()
        self.socket: str | None = None
        self._image_imported = False

    def start(self):
        if self.proc is not None and self.proc.poll() is None:
            return self
        self._stopped = False
        self._make_tmp("ctd-")
        self.socket = os.path.join(self.tmp, "c.sock")
        config = os.path.join(self.tmp, "config.toml")
        with open(config, "w") as f:
            f.write(f"""version = 2
root = "{self.tmp}/root"
state = "{self.tmp}/state"
# Snapshotters that cannot work here only slow start-up and fill the log.
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
                    "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs",
                    "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = "{self.socket}"

[ttrpc]
  address = "{self.socket}.ttrpc"

[debug]
  address = ""

[metrics]
  address = ""

[plugins."io.containerd.grpc.v1.cri"]
  # This machine's own oom_score_adj is above what the CRI plugin would ask for otherwise.
  restrict_oom_score_adj = true
""")
        self._spawn(["containerd", "--config", config])
        self._wait_ready(lambda: _run(["ctr", "--address", self.socket, "--connect-timeout", "2s", "version"],
                                      check=False, timeout=10), "containerd")
        return self

    def _ctr_argv(self, *args) -> list[str]:
        return ["ctr", "--address", self.socket, "-n", self.namespace, *args]

    def ctr(self, *args, check=True) -> subprocess.CompletedProcess:
        args = [str(a) for a in args]
        if args[:2] == ["task", "exec"] and not any(a.startswith("--fifo-dir") for a in args):
            # Its stdio FIFOs go under our temp dir, not /run/containerd/fifo.
            args[2:2] = ["--fifo-dir", os.path.join(self.tmp, "fifo")]
        return _run(self._ctr_argv(*args), check)

    def _import_image(self) -> None:
        if self._image_imported:
            return
        archive, _ = _image_files()
        self.ctr("images", "import", archive)
        names = self.ctr("images", "ls", "-q").stdout.split()
        if IMAGE_NAME not in names:
            raise RuntimeError(f"ctr images import {archive}: {IMAGE_NAME} not among {names}")
        self._image_imported = True

    def run_target(self, volume_path: str | None = None, command=("sleep", "3600"),
                   cgroup_parent: str | None = None, systemd_names: bool = False,
                   memory_limit: int | None = None) -> Target:
        """A running busybox target. Its cgroup is kubelet's cgroupfs layout,
        /kubepods/besteffort/pod<uid>/<id>, or with SYSTEMD_NAMES the systemd driver's names,
        /kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod<uid>.slice/cri-containerd-<id>.scope
        (plain directories: runc's cgroupfs driver makes them); CGROUP_PARENT replaces the parent.
        MEMORY_LIMIT (bytes) sets the container's memory limit."""
        if self.proc is None or self.proc.poll() is not None:
            raise RuntimeError("Containerd.run_target: containerd is not running (call start())")
        self._import_image()
        cid = make_container_id()
        pod = str(uuid.uuid4())
        if systemd_names:
            parent = cgroup_parent or ("/kubepods.slice/kubepods-besteffort.slice/"
                                       f"kubepods-besteffort-pod{pod.replace('-', '_')}.slice")
            cgroup = f"{parent.rstrip('/')}/cri-containerd-{cid}.scope"
        else:
            parent = cgroup_parent or f"/kubepods/besteffort/pod{pod}"
            cgroup = f"{parent.rstrip('/')}/{cid}"
        argv = ["run", "-d", "--cgroup", cgroup, "--runc-root", f"{self.tmp}/runc",
                "--log-uri", f"file://{self.tmp}/volumes/{cid[:12]}.log"]
        if memory_limit:
            argv += ["--memory-limit", str(memory_limit)]
        host_dir = None
        if volume_path:
            host_dir = self._new_volume()
            argv += ["--mount", f"type=bind,src={host_dir},dst={volume_path},options=rbind:rw"]
        argv += [IMAGE_NAME, cid, *command]
        target = Target(id=cid, pid=0, runtime="containerd", socket=self.socket,
                        volume_host_dir=host_dir, volume_path=volume_path if volume_path else None)
        with _CgroupLock():
            target.cgroup_dirs_created = _missing_cgroup_dirs(cgroup)
            # Shared parents (kubepods/…) are created by the first target and stay busy while other
            # targets live: stop() removes whatever is left of all of them at the end.
            self._cgroup_dirs_created += target.cgroup_dirs_created
            self.targets[cid] = target
            self.ctr(*argv)
        pid = self._task_pid(cid)
        if not pid:
            self.stop_target(target)
            raise RuntimeError(f"ctr run {cid}: no running task (ctr task ls: "
                               f"{self.ctr('task', 'ls', check=False).stdout.strip()})")
        target.pid = pid
        return target

    def _task_pid(self, cid: str) -> int:
        """Pid of the running task of CID, from `ctr task ls` (TASK PID STATUS)."""
        found = 0

        def running():
            nonlocal found
            for line in self.ctr("task", "ls", check=False).stdout.splitlines()[1:]:
                f = line.split()
                if len(f) >= 3 and f[0] == cid and f[2] == "RUNNING" and int(f[1]) > 0:
                    found = int(f[1])
                    return True
            return False

        wait_until(running, scaled(15), 0.05)
        return found

    def stop_target(self, target: Target) -> None:
        if self.socket and self.proc is not None and self.proc.poll() is None:
            self.ctr("task", "delete", "--force", target.id, check=False)
            self.ctr("containers", "delete", target.id, check=False)
        if target.pid:
            wait_until(lambda: pidns_of(target.pid) is None or is_zombie(target.pid), 5)
        _remove_cgroup_dirs(target.cgroup_dirs_created)
        if target.volume_host_dir:
            shutil.rmtree(target.volume_host_dir, ignore_errors=True)
        self.targets.pop(target.id, None)

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        ids = list(self.targets)
        try:
            if self.proc is not None and self.proc.poll() is None:
                # Also containers that a test made through ctr() directly.
                others = self.ctr("containers", "ls", "-q", check=False).stdout.split()
                ids += [i for i in others if i not in ids]
                for t in list(self.targets.values()):
                    self.stop_target(t)
                for cid in others:
                    self.ctr("task", "delete", "--force", cid, check=False)
                    self.ctr("containers", "delete", cid, check=False)
        finally:
            if self.proc is not None:
                _stop_process(self.proc, DAEMON_STOP_TIMEOUT)
            words = [self.socket] if self.socket else []
            if self.tmp:
                words.append(self.tmp + "/")
            self._final_cleanup(ids, words)
            for t in list(self.targets.values()):
                _remove_cgroup_dirs(t.cgroup_dirs_created)
            _remove_cgroup_dirs(self._cgroup_dirs_created)
            self.targets.clear()


def _docker_client() -> str:
    # The Debian client matches the Debian dockerd's API; another client on PATH may be newer.
    for path in ("/usr/bin/docker", shutil.which("docker") or ""):
        if path and os.access(path, os.X_OK):
            return path
    raise FileNotFoundError("no docker client (Debian package docker.io)")


class Dockerd(_Daemon):
    """A private dockerd (--iptables=false --bridge=none, own data-root, exec-root, socket and
    config file). It runs its own containerd under its exec-root."""

    kind = "dockerd"

    def __init__(self):
        super().__init__()
        self.socket: str | None = None
        self._image_imported = False
        self._docker_cgroup_dirs: list[str] = []

    def _env(self) -> dict:
        env = dict(os.environ)
        env["DOCKER_CONFIG"] = os.path.join(self.tmp, "client")  # not ~/.docker
        env.pop("DOCKER_HOST", None)
        env.pop("DOCKER_CONTEXT", None)
        return env

    def start(self):
        if self.proc is not None and self.proc.poll() is None:
            return self
        self._stopped = False
        self._make_tmp("dkd-")
        self.socket = os.path.join(self.tmp, "d.sock")
        os.makedirs(os.path.join(self.tmp, "client"))
        config_file = os.path.join(self.tmp, "daemon.json")
        with open(config_file, "w") as f:
            # Otherwise dockerd 20.10 writes its trust key to /etc/docker/key.json.
            json.dump({"deprecated-key-path": os.path.join(self.tmp, "key.json")}, f)
        with _CgroupLock():
            # dockerd's cgroupfs driver puts containers under /docker/<id>.
            self._docker_cgroup_dirs = _missing_cgroup_dirs("/docker")
        self._spawn(["dockerd",
                     "--iptables=false", "--ip6tables=false", "--bridge=none", "--ip-masq=false",
                     "--userland-proxy=false",
                     "--data-root", os.path.join(self.tmp, "data"),
                     "--exec-root", os.path.join(self.tmp, "exec"),
                     "--pidfile", os.path.join(self.tmp, "docker.pid"),
                     "--config-file", config_file,
                     "-H", f"unix://{self.socket}"], env=self._env())
        self._wait_ready(lambda: _run(self._docker_argv("version"), check=False, env=self._env(), timeout=10),
                         "dockerd")
        return self

    def _docker_argv(self, *args) -> list[str]:
        return [_docker_client(), "--host", f"unix://{self.socket}", *args]

    def docker(self, *args, check=True) -> subprocess.CompletedProcess:
        return _run(self._docker_argv(*map(str, args)), check, env=self._env())

    def _import_image(self) -> None:
        if self._image_imported:
            return
        _, rootfs = _image_files()
        self.docker("import", "--change", "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                    "--change", 'CMD ["sh"]', rootfs, IMAGE_NAME)
        self._image_imported = True

    def run_target(self, volume_path: str | None = None, command=("sleep", "3600")) -> Target:
        if self.proc is None or self.proc.poll() is not None:
            raise RuntimeError("Dockerd.run_target: dockerd is not running (call start())")
        self._import_image()
        argv = ["run", "-d", "--network", "none"]
        host_dir = None
        if volume_path:
            host_dir = self._new_volume()
            argv += ["--mount", f"type=bind,source={host_dir},target={volume_path}"]
        argv += [IMAGE_NAME, *command]
        with _CgroupLock():
            cid = self.docker(*argv).stdout.strip()
        target = Target(id=cid, pid=0, runtime="docker", socket=self.socket,
                        volume_host_dir=host_dir, volume_path=volume_path if volume_path else None)
        self.targets[cid] = target
        pid = 0

        def running():
            nonlocal pid
            out = self.docker("inspect", "-f", "{{.State.Pid}}", cid, check=False).stdout.strip()
            pid = int(out) if out.isdigit() else 0
            return pid > 0

        if not wait_until(running, 15, 0.05):
            self.stop_target(target)
            raise RuntimeError(f"docker run: container {cid} has no running pid")
        target.pid = pid
        return target

    def stop_target(self, target: Target) -> None:
        if self.socket and self.proc is not None and self.proc.poll() is None:
            self.docker("rm", "-f", target.id, check=False)
        if target.pid:
            wait_until(lambda: pidns_of(target.pid) is None or is_zombie(target.pid), 5)
        if target.volume_host_dir:
            shutil.rmtree(target.volume_host_dir, ignore_errors=True)
        self.targets.pop(target.id, None)

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        ids = list(self.targets)
        try:
            if self.proc is not None and self.proc.poll() is None:
                others = self.docker("ps", "-aq", "--no-trunc", check=False).stdout.split()
                ids += [i for i in others if i not in ids]
                for t in list(self.targets.values()):
                    self.stop_target(t)
                for cid in others:
                    self.docker("rm", "-f", cid, check=False)
        finally:
            if self.proc is not None:
                _stop_process(self.proc, DAEMON_STOP_TIMEOUT)
            words = [self.tmp + "/"] if self.tmp else []
            self._final_cleanup(ids, words)
            _remove_cgroup_dirs([os.path.join(d, i) for d in self._docker_cgroup_dirs for i in ids]
                                + self._docker_cgroup_dirs)
            self.targets.clear()
