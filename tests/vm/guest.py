"""Guest side of tests/vm/vm.py: runs the job's command inside the VM and records its exit status.

Started by the VM's init (init.c, PID 1) once the root, the cgroup v2 hierarchy, the scratch disk
and the job share are mounted, as `/usr/bin/python3 JOB_DIR/guest.py JOB_DIR` (vm.py copies this
file into the job dir). JOB_DIR/job.json holds {"argv": [...], "cwd": "...", "env": {...}}; the
command's stdout and stderr are the serial console (init's, inherited), which the host prints
live. The exit status goes to JOB_DIR/status.json, which the host reads after the VM is off.

Standard library only, no shell: the command is started from its argv vector.
"""

import ctypes
import json
import os
import subprocess
import sys
import termios

SCRATCH_DIR = "/run/vm-scratch"  # init.c mounts the scratch ext4 disk here
MARKER = "vm-guest: starting the command"  # vm.py measures the boot time up to this line


def uptime() -> float:
    with open("/proc/uptime") as f:
        return float(f.read().split()[0])


HOST_VIEW = "/run/vm-host"  # init.c: the root before the fresh tmpfs on /tmp, /var/tmp, /run
FRESH = ("/tmp", "/var/tmp", "/run")

_libc = ctypes.CDLL(None, use_errno=True)
_MS_BIND, _MS_REC = 4096, 16384


def keep_visible(path: str) -> None:
    """PATH lies under a dir the guest mounted a fresh tmpfs on (a clone in /tmp): bind the root's
    own view of it back to the same path, so the job finds its files where the host has them."""
    if not any(path == d or path.startswith(d + "/") for d in FRESH) or path.startswith(HOST_VIEW):
        return
    source = HOST_VIEW + path
    if not os.path.isdir(source) or os.path.ismount(path):
        return
    os.makedirs(path, exist_ok=True)
    if _libc.mount(source.encode(), path.encode(), None, _MS_BIND | _MS_REC, None) != 0:
        e = ctypes.get_errno()
        raise OSError(e, f"mount --rbind {source} {path}: {os.strerror(e)}")


def main() -> int:
    job_dir = sys.argv[1]
    with open(os.path.join(job_dir, "job.json")) as f:
        job = json.load(f)

    env = {
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": "/root",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    env.update(job["env"])
    env["E2E_IN_VM"] = "1"
    env["E2E_SCRATCH_DIR"] = SCRATCH_DIR

    for path in job.get("keep", []):
        keep_visible(path)

    status: dict = {"uptime_start": uptime()}
    print(f"{MARKER} (guest uptime {status['uptime_start']:.1f} s): {job['argv']!r}", flush=True)
    try:
        proc = subprocess.Popen(job["argv"], cwd=job["cwd"], env=env, stdin=subprocess.DEVNULL)
    except OSError as e:
        print(f"vm-guest: cannot start {job['argv']!r} in {job['cwd']}: {e}", flush=True)
        status["error"] = str(e)
        status["returncode"] = 127
    else:
        status["returncode"] = proc.wait()  # negative: killed by that signal
    try:
        termios.tcdrain(1)  # the console's last lines reach the host before the VM powers off
    except termios.error:
        pass
    status["uptime_end"] = uptime()

    tmp = os.path.join(job_dir, "status.json.tmp")
    with open(tmp, "w") as f:
        json.dump(status, f)
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, os.path.join(job_dir, "status.json"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
