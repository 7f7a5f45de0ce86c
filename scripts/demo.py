#!/usr/bin/env python3
"""The demo: the helper in standalone mode runs pod-io-stress into a container's volume.

A private containerd (tests/e2e/harness.py) runs a busybox-only target (no stress-ng, no libc) with a
host directory bind-mounted at /data, standing in for a PVC. The helper finds the container's PID
through containerd's API, joins its PID and mount namespaces and cgroups, and runs the helper image's
stress-ng there for 5 s. While it runs, the demo lists what appears in the host directory behind the
volume: that is the bug Litmus had (its stress-ng wrote to the helper's own filesystem).
"""
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
os.environ.setdefault("BUILD_DIR", os.path.join(ROOT, "build"))
os.environ.setdefault("SOURCE_DIR", ROOT)
import harness  # noqa: E402


def main():
    with harness.Containerd() as ctd:
        target = ctd.run_target(volume_path="/data")
        print(f"target container {target.id[:12]}…  pid {target.pid}  volume /data = host {target.volume_host_dir}")
        env = dict(os.environ, STRESS_TYPE="pod-io-stress", TOTAL_CHAOS_DURATION="5", VOLUME_MOUNT_PATH="/data",
                   NUMBER_OF_WORKERS="1", FILESYSTEM_UTILIZATION_BYTES="1", CONTAINER_RUNTIME="containerd")
        argv = [harness.binary("helpers"), "-name", "stress-chaos", "--container-id", target.id,
                "--socket", ctd.socket]
        print("$", " ".join(argv))
        helper = subprocess.Popen(argv, env=env, stderr=subprocess.PIPE, text=True)
        seen = set()
        while helper.poll() is None:
            for dirpath, dirs, files in os.walk(target.volume_host_dir):
                for f in dirs + files:
                    p = os.path.join(dirpath, f)
                    if p not in seen:
                        seen.add(p)
                        print(f"  written into the volume (host side): {os.path.relpath(p, target.volume_host_dir)}")
            time.sleep(0.2)
        logs = helper.stderr.read()
        print(logs, end="")
        left = os.listdir(target.volume_host_dir)
        print(f"helper exit status {helper.returncode}; files left in the volume afterwards: {left or 'none'}")
        print(f"/data in the caller's own filesystem exists: {os.path.exists('/data')}")
        return helper.returncode


if __name__ == "__main__":
    sys.exit(main())
