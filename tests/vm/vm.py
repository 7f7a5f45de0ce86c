#!/usr/bin/python3
"""Runs one command inside a QEMU VM with pure cgroup v2 and returns its exit status.

    /usr/bin/python3 tests/vm/vm.py [--cache DIR] [--memory MiB] [--cpus N] [--timeout SECONDS]
                                    [--cwd DIR] [--env K=V ...] [--module NAME ...] -- CMD [ARG...]

The VM boots Debian 12's own kernel (linux-image-amd64's current version, fetched with
`apt-get download` and unpacked with `dpkg-deb -x` into the cache dir: nothing is installed)
under TCG (never KVM). Its root file system is THIS machine's root, shared read-only over
virtio-9p, under an overlayfs with a tmpfs upper layer, so the guest sees the host's files and
programs and may write anywhere without touching the host. /sys/fs/cgroup is cgroup2
(nsdelegate, memory_recursiveprot) with every controller enabled in the root's
cgroup.subtree_control. A fresh ext4 scratch disk (virtio-blk) is mounted at /run/vm-scratch
and exported as E2E_SCRATCH_DIR; E2E_IN_VM=1 is set.

The guest's serial console (kernel messages, init, the command's stdout and stderr) is printed
live on stdout. vm.py's own messages (boot time, errors) go to stderr. Exit status: the
command's (128+N if it was killed by signal N); 124 if the VM timed out; 125 if the VM could not
be prepared, did not boot, or the kernel panicked.

The initramfs is a newc cpio archive written here: a static init (init.c, compiled with
`gcc -static -O2`) and the kernel modules it loads (dependencies first, computed from the
modules' own .modinfo). The job travels over a second, read-write 9p share of a per-run dir:
job.json and guest.py in, status.json out. See README.md beside this file.

Standard library only; run with /usr/bin/python3 (3.11) as root. No shell anywhere.
"""

from __future__ import annotations

import argparse
import ctypes
import fcntl
import glob
import hashlib
import json
import lzma
import os
import re
import selectors
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
INIT_SOURCE = os.path.join(HERE, "init.c")
GUEST_SOURCE = os.path.join(HERE, "guest.py")

QEMU = "qemu-system-x86_64"
KERNEL_META_PACKAGE = "linux-image-amd64"
MARKER = b"vm-guest: starting the command"  # printed by guest.py right before the command starts

# What init.c needs, in no particular order (dependencies are added and ordered automatically):
# the virtio PCI transport and block driver, 9p over virtio, overlayfs for the root, ext4 for the
# scratch disk (its metadata checksums need crc32c, which ext4 only names as a soft dependency
# on an alias, so it is listed here).
BASE_MODULES = ["virtio_pci", "virtio_blk", "9pnet_virtio", "9p", "overlay", "crc32c_generic",
                "ext4"]

SCRATCH_SIZE = 4 << 30
EXIT_TIMEOUT = 124
EXIT_VM_FAILED = 125


class VMError(Exception):
    """The VM could not be prepared or run; the message says why."""


class Interrupted(BaseException):
    """SIGINT/SIGTERM/SIGHUP: unwinds like KeyboardInterrupt so that every clean-up runs."""


def log(msg: str) -> None:
    sys.stdout.flush()
    print(f"vm.py: {msg}", file=sys.stderr, flush=True)


def run(argv: list[str], **kw) -> subprocess.CompletedProcess:
    """Runs ARGV, output captured; raises VMError with that output if it fails."""
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, **kw)
    if p.returncode != 0:
        raise VMError(f"{' '.join(argv)} failed with exit status {p.returncode}:\n"
                      f"{p.stdout.strip()}")
    return p


# ---------------------------------------------------------------------------------------------
# The kernel: Debian 12's own, downloaded (not installed) into the cache dir
#
# The cache dir holds few files on purpose: it lies under the build dir, which the e2e harness
# walks to find built binaries, and an unpacked kernel (4000 modules) made that walk take 7 s in
# the guest. So the package is unpacked into a temp dir only when the initramfs must be (re)made,
# and only vmlinuz and the initramfs are kept, next to the .deb.

def kernel_package(cache: str) -> str:
    """The versioned package linux-image-amd64 depends on now (e.g. linux-image-6.1.0-57-amd64);
    without apt lists (offline), the one whose .deb is in the cache."""
    try:
        out = run(["apt-cache", "depends", KERNEL_META_PACKAGE]).stdout
        m = re.search(r"Depends:\s*(linux-image-\S+)", out)
        if m:
            return m.group(1)
    except (VMError, OSError):
        pass
    debs = sorted(glob.glob(os.path.join(cache, "linux-image-*.deb")), key=os.path.getmtime)
    if not debs:
        raise VMError(f"apt-cache depends {KERNEL_META_PACKAGE} names no kernel package and "
                      f"no kernel package is cached in {cache}")
    return os.path.basename(debs[-1]).split("_")[0]


def fetch_deb(cache: str, pkg: str) -> str:
    """cache/<pkg>_<version>_amd64.deb, downloaded when missing; other kernels' files go."""
    debs = glob.glob(os.path.join(cache, f"{pkg}_*.deb"))
    if not debs:
        log(f"downloading {pkg}")
        try:
            run(["apt-get", "download", "-q", pkg], cwd=cache)
        except VMError:
            run(["apt-get", "update", "-q"])
            run(["apt-get", "download", "-q", pkg], cwd=cache)
        debs = glob.glob(os.path.join(cache, f"{pkg}_*.deb"))
        if not debs:
            raise VMError(f"apt-get download {pkg} left no .deb in {cache}")
        for old in glob.glob(os.path.join(cache, "linux-image-*")):
            if not os.path.basename(old).startswith(pkg + "_"):
                os.unlink(old)
    return debs[0]


def modinfo(data: bytes) -> dict[str, list[str]]:
    """The .modinfo section of an ELF64 kernel module: key -> values."""
    if data[:4] != b"\x7fELF" or data[4] != 2:
        raise VMError("not an ELF64 kernel module")
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    sections = [struct.unpack_from("<IIQQQQ", data, shoff + i * shentsize) for i in range(shnum)]
    names = sections[shstrndx][4]
    info: dict[str, list[str]] = {}
    for name, _type, _flags, _addr, offset, size in sections:
        if data[names + name:data.index(b"\0", names + name)] == b".modinfo":
            for item in data[offset:offset + size].split(b"\0"):
                key, sep, value = item.decode(errors="replace").partition("=")
                if sep:
                    info.setdefault(key, []).append(value)
    return info


def read_module(path: str) -> bytes:
    with open(path, "rb") as f:
        data = f.read()
    if path.endswith(".xz"):
        return lzma.decompress(data)
    if path.endswith(".zst"):
        raise VMError(f"{path}: zstd-compressed modules are not supported (no zstd in the "
                      "Python standard library)")
    return data


def module_order(moddir: str, wanted: list[str]) -> list[tuple[str, bytes]]:
    """(name, uncompressed .ko) for WANTED and everything they depend on, dependencies first.
    Built-in modules are skipped. The package carries no modules.dep (depmod makes it at
    install time, and kmod is not installed here), so dependencies come from each module's
    .modinfo: depends= and the softdep= "pre:" names that are real modules."""
    norm = lambda n: n.replace("-", "_")
    files = {}
    for path in glob.glob(os.path.join(moddir, "kernel", "**", "*.ko*"), recursive=True):
        files[norm(re.sub(r"\.ko(\.\w+)?$", "", os.path.basename(path)))] = path
    builtin = set()
    with open(os.path.join(moddir, "modules.builtin")) as f:
        for line in f:
            builtin.add(norm(re.sub(r"\.ko$", "", os.path.basename(line.strip()))))

    order: list[tuple[str, bytes]] = []
    state: dict[str, str] = {}

    def visit(name: str, chain: tuple[str, ...]) -> None:
        name = norm(name)
        if name in builtin or state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            raise VMError(f"module dependency cycle: {' -> '.join(chain + (name,))}")
        if name not in files:
            raise VMError(f"kernel module {name} not found under {os.path.basename(moddir)}"
                          + (f" (needed by {chain[-1]})" if chain else ""))
        state[name] = "visiting"
        data = read_module(files[name])
        info = modinfo(data)
        deps = [d for v in info.get("depends", []) for d in v.split(",") if d]
        for soft in info.get("softdep", []):
            m = re.search(r"pre:\s*(.*?)\s*(post:|$)", soft)
            deps += [d for d in (m.group(1).split() if m else []) if norm(d) in files]
        for dep in deps:
            visit(dep, chain + (name,))
        state[name] = "done"
        order.append((name, data))

    for name in wanted:
        visit(name, ())
    return order


# ---------------------------------------------------------------------------------------------
# The initramfs: static init + modules, a newc cpio archive

def build_init(cache: str) -> str:
    """cache/vm-init, compiled from init.c when missing or older than the source."""
    out = os.path.join(cache, "vm-init")
    if not os.path.exists(out) or os.path.getmtime(out) < os.path.getmtime(INIT_SOURCE):
        log("compiling init.c")
        run(["gcc", "-static", "-O2", "-Wall", "-Wextra", "-o", out + ".tmp", INIT_SOURCE])
        os.rename(out + ".tmp", out)
    return out


def cpio_newc(entries: list[tuple[str, int, bytes, int]]) -> bytes:
    """A newc ("070701") cpio archive of (name, mode, data, rdev) entries, as the kernel
    unpacks an initramfs. rdev is (major << 8 | minor) for device nodes."""
    out = bytearray()

    def pad4() -> None:
        out.extend(b"\0" * (-len(out) % 4))

    for ino, (name, mode, data, rdev) in enumerate(entries + [("TRAILER!!!", 0, b"", 0)], 1):
        raw = name.encode() + b"\0"
        fields = [ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev >> 8, rdev & 0xFF, len(raw), 0]
        out += b"070701" + b"".join(b"%08X" % v for v in fields) + raw
        pad4()
        out += data
        pad4()
    return bytes(out)


def initrd_archive(init: str, modules: list[tuple[str, bytes]]) -> bytes:
    """/init, /dev/console (the kernel opens it as init's stdio), the modules and their load
    order, and the empty mount points init.c uses."""
    with open(init, "rb") as f:
        init_bin = f.read()
    order = "".join(f"{name}.ko\n" for name, _ in modules).encode()
    entries = [(d, 0o40755, b"", 0) for d in ("dev", "proc", "sys", "modules", "lower", "rw",
                                               "newroot")]
    entries.append(("dev/console", 0o20600, b"", 5 << 8 | 1))
    entries.append(("init", 0o100755, init_bin, 0))
    entries.append(("modules/order", 0o100644, order, 0))
    entries += [(f"modules/{name}.ko", 0o100644, data, 0) for name, data in modules]
    return cpio_newc(entries)


def prepare(cache: str, extra_modules: list[str]) -> tuple[str, str]:
    """(vmlinuz, initrd) under CACHE, made when missing (one preparer at a time). The initrd is
    uncompressed (the kernel unpacks it faster than gzip) and named by a hash of what goes into
    it: the kernel package, the init binary, the module list and this file."""
    with open(os.path.join(cache, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        pkg = kernel_package(cache)
        init = build_init(cache)
        wanted = BASE_MODULES + extra_modules
        key = hashlib.sha256()
        for part in (pkg.encode(), open(init, "rb").read(), " ".join(wanted).encode(),
                     open(os.path.abspath(__file__), "rb").read()):
            key.update(hashlib.sha256(part).digest())
        vmlinuz = os.path.join(cache, f"{pkg}.vmlinuz")
        initrd = os.path.join(cache, f"initrd-{key.hexdigest()[:16]}.cpio")
        if os.path.exists(vmlinuz) and os.path.exists(initrd):
            return vmlinuz, initrd

        deb = fetch_deb(cache, pkg)
        with tempfile.TemporaryDirectory(prefix="unpack-", dir=cache) as tmp:
            log(f"unpacking {os.path.basename(deb)}")
            run(["dpkg-deb", "-x", deb, tmp])
            found = glob.glob(os.path.join(tmp, "boot", "vmlinuz-*"))
            moddirs = glob.glob(os.path.join(tmp, "lib", "modules", "*"))
            if len(found) != 1 or len(moddirs) != 1:
                raise VMError(f"{deb}: expected one boot/vmlinuz-* and one lib/modules/*")
            archive = initrd_archive(init, module_order(moddirs[0], wanted))
            shutil.copyfile(found[0], vmlinuz + ".tmp")
            os.rename(vmlinuz + ".tmp", vmlinuz)
        with open(initrd + ".tmp", "wb") as f:
            f.write(archive)
        os.rename(initrd + ".tmp", initrd)
        # Keep the two newest initramfs (a concurrent run may be about to boot the other one).
        for old in sorted(glob.glob(os.path.join(cache, "initrd-*.cpio")),
                          key=os.path.getmtime)[:-2]:
            os.unlink(old)
        return vmlinuz, initrd


# ---------------------------------------------------------------------------------------------
# Running

def remove_stale_runs(cache: str) -> None:
    """Run dirs of vm.py processes that died without cleaning up (SIGKILL)."""
    for d in glob.glob(os.path.join(cache, "run-*-*")):
        m = re.match(r"run-(\d+)-", os.path.basename(d))
        if not m:
            continue
        try:
            os.kill(int(m.group(1)), 0)
        except ProcessLookupError:
            shutil.rmtree(d, ignore_errors=True)
        except PermissionError:
            pass


def make_scratch(path: str) -> None:
    """A sparse raw image with a fresh ext4 (inode tables and journal zeroed here, so that the
    guest's ext4lazyinit does no background IO that would muddle io.stat)."""
    with open(path, "wb") as f:
        f.truncate(SCRATCH_SIZE)
    run(["mkfs.ext4", "-q", "-F", "-L", "vm-scratch",
         "-E", "lazy_itable_init=0,lazy_journal_init=0", path])


def qemu_argv(args, vmlinuz: str, initrd: str, job_dir: str, scratch: str) -> list[str]:
    return [
        QEMU,
        "-nodefaults", "-no-user-config", "-no-reboot",
        "-machine", "pc", "-accel", "tcg,thread=multi", "-cpu", "max",
        "-smp", str(args.cpus), "-m", str(args.memory),
        "-display", "none", "-monitor", "none",
        "-chardev", "stdio,id=console,signal=off", "-serial", "chardev:console",
        "-kernel", vmlinuz, "-initrd", initrd,
        # panic=-1: reboot at once on a panic, which -no-reboot turns into qemu exiting.
        "-append", "console=ttyS0 panic=-1 quiet 8250.nr_uarts=1 tsc=reliable",
        # The host's root, read-only. multidevs=remap: / spans several host file systems
        # (/proc, /sys, ...) whose inode numbers would otherwise collide.
        "-fsdev", "local,id=hostroot,path=/,security_model=passthrough,readonly=on,"
                  "multidevs=remap",
        "-device", "virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot",
        # The job dir, read-write: job.json and guest.py in, status.json out.
        "-fsdev", f"local,id=vmjob,path={job_dir},security_model=passthrough",
        "-device", "virtio-9p-pci,fsdev=vmjob,mount_tag=vmjob",
        # The scratch disk: real block IO in the guest. Its host-side caching is irrelevant.
        "-drive", f"file={scratch},if=none,id=scratch,format=raw,cache=unsafe",
        "-device", "virtio-blk-pci,drive=scratch",
    ]


def _pdeathsig() -> None:
    # qemu dies with vm.py even if vm.py is killed outright (PR_SET_PDEATHSIG = 1).
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run_vm(args, vmlinuz: str, initrd: str, run_dir: str) -> int:
    job_dir = os.path.join(run_dir, "job")
    os.mkdir(job_dir)
    shutil.copy(GUEST_SOURCE, os.path.join(job_dir, "guest.py"))
    env = {}
    for item in args.env:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise VMError(f"--env {item!r}: expected KEY=VALUE")
        env[key] = value
    with open(os.path.join(job_dir, "job.json"), "w") as f:
        # Host dirs the job names (its cwd, absolute dir values of its env) stay visible in the guest
        # even under /tmp, /var/tmp or /run, where the guest mounts fresh tmpfs (guest.py).
        keep = sorted({args.cwd} | {v for v in env.values() if os.path.isabs(v) and os.path.isdir(v)})
        json.dump({"argv": args.command, "cwd": args.cwd, "env": env, "keep": keep}, f)
    scratch = os.path.join(run_dir, "scratch.img")
    make_scratch(scratch)

    start = time.monotonic()
    proc = subprocess.Popen(qemu_argv(args, vmlinuz, initrd, job_dir, scratch),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            preexec_fn=_pdeathsig, process_group=0)
    boot_time = None
    timed_out = False
    tail = b""  # the last 64 KiB of console output, for the post-mortem
    held = b""  # a trailing "\r" waiting to see whether "\n" follows
    out = sys.stdout.buffer

    def write(data: bytes) -> None:
        nonlocal out
        if out and data:
            try:
                out.write(data)
                out.flush()
            except BrokenPipeError:  # the reader went away (| head): keep the VM running
                out = None

    try:
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        deadline = start + args.timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                timed_out = True
                break
            if not sel.select(min(left, 1.0)):
                continue
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                break
            scan_from = max(0, len(tail) - len(MARKER))
            tail = (tail + chunk)[-65536:]
            if boot_time is None and MARKER in tail[scan_from:]:
                boot_time = time.monotonic() - start
            # The serial line ends lines with "\r\n"; print them as "\n".
            text = (held + chunk).replace(b"\r\n", b"\n")
            held = b""
            if text.endswith(b"\r"):
                text, held = text[:-1], b"\r"
            write(text)
        write(held)
    finally:
        stop(proc)
        proc.stdout.close()
    total = time.monotonic() - start

    boot = f"{boot_time:.1f} s" if boot_time is not None else "not reached"
    status_path = os.path.join(job_dir, "status.json")
    if timed_out:
        log(f"ERROR: timed out after {args.timeout:g} s (boot time {boot}); qemu killed")
        return EXIT_TIMEOUT
    if os.path.exists(status_path):
        with open(status_path) as f:
            status = json.load(f)
        rc = status["returncode"]
        code = 128 - rc if rc < 0 else rc
        what = f"killed by signal {-rc}" if rc < 0 else f"exit status {rc}"
        log(f"boot time {boot} (qemu start to command start); command {what}; "
            f"total {total:.1f} s")
        return code
    if b"Kernel panic" in tail:
        reason = "the guest kernel panicked"
    elif b"vm-init: FATAL" in tail:
        reason = "the guest's init failed"
    elif proc.returncode != 0:
        reason = f"qemu failed with exit status {proc.returncode}"
    else:
        reason = "the VM powered off without the command's exit status"
    log(f"ERROR: {reason} (see the console output above; boot time {boot}, "
        f"total {total:.1f} s)")
    return EXIT_VM_FAILED


def main() -> int:
    parser = argparse.ArgumentParser(
        description="Run one command in a QEMU VM (Debian 12 kernel, host root over 9p, "
                    "pure cgroup v2) and exit with its exit status.")
    parser.add_argument("--cache", default=os.path.join(REPO, "build", "vm"),
                        help="kernel, init, initramfs and per-run files (default: %(default)s)")
    parser.add_argument("--memory", type=int, default=4096, help="MiB (default: %(default)s)")
    parser.add_argument("--cpus", type=int, default=2, help="(default: %(default)s)")
    parser.add_argument("--timeout", type=float, default=3600,
                        help="seconds before qemu is killed (default: %(default)s)")
    parser.add_argument("--cwd", default=os.getcwd(),
                        help="the command's working dir in the guest (default: the current dir)")
    parser.add_argument("--env", action="append", default=[], metavar="K=V",
                        help="set in the command's environment (repeatable)")
    parser.add_argument("--module", action="append", default=[], metavar="NAME",
                        help="load this kernel module too (repeatable); the guest has no modprobe")
    parser.add_argument("command", nargs="+", metavar="-- CMD [ARG...]")
    args = parser.parse_args()
    args.cwd = os.path.abspath(args.cwd)
    if os.geteuid() != 0:
        log("ERROR: must run as root")
        return EXIT_VM_FAILED

    def interrupted(signum, _frame):
        for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(s, signal.SIG_IGN)  # a second signal must not cut the clean-up short
        raise Interrupted(signum)

    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, interrupted)

    run_dir = None
    try:
        os.makedirs(args.cache, exist_ok=True)
        args.cache = os.path.abspath(args.cache)
        remove_stale_runs(args.cache)
        vmlinuz, initrd = prepare(args.cache, args.module)
        run_dir = tempfile.mkdtemp(prefix=f"run-{os.getpid()}-", dir=args.cache)
        return run_vm(args, vmlinuz, initrd, run_dir)
    except VMError as e:
        log(f"ERROR: {e}")
        return EXIT_VM_FAILED
    except Interrupted as e:
        signum = e.args[0]
        log(f"interrupted by {signal.Signals(signum).name}")
        return 128 + signum
    finally:
        if run_dir:
            shutil.rmtree(run_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
