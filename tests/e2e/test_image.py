"""End-to-end: the LIB_IMAGE itself, started the way Litmus starts its helper pod.

The image is built from docker/Dockerfile by scripts/build-image.py (a debootstrap base and buildah,
offline; the archive is reused while the Dockerfile and the sources are unchanged), imported into a
private containerd with `ctr images import`, and run with `ctr run` as the kubelet runs Litmus's
helper pod (docs/litmus-contract.md §1): privileged, in the host's PID namespace (the one containerd runs in), host
network, the host's /sys at /sys, the runtime socket at SOCKET_PATH, the service-account files at
/var/run/secrets/kubernetes.io/serviceaccount, the environment of docs/litmus-contract.md §2 plus
KUBERNETES_SERVICE_HOST/PORT, command `/bin/bash -c "./helpers -name stress-chaos"`. The target is a
busybox-only container with a volume (a host dir), named by a pod in the stand-in API server.

1. pod-io-stress, as test_litmus_run's full run asserts it: stress-ng files appear in the target's
   volume during the run, written by a stress-ng loaded from the image (not the host's) running in
   the target's mount and PID namespaces; pod/<name> injected then reverted; a stress-effect
   annotation with the IO written; one ChaosInject event; exit 0; no errorOutput; nothing left in
   the target's PID namespace, in the volume, or of the helper container.
2. The image's shape: bash, WORKDIR /litmus with ./helpers, nsexec on PATH,
   /usr/local/lib/libnsenter.so, stress-ng, CA certificates, root, no compiler.

Skipped only when the image cannot be built on this machine (build-image.py exit status 2: not root,
buildah or debootstrap missing, Debian's archive unreachable); the skip message gives the reason.
A build that fails for any other reason fails the test.
"""

import json
import os
import subprocess
import sys
import time
import unittest
import uuid

import apiserver
import harness

BUILD_SCRIPT = os.path.join(harness.SOURCE_DIR, "scripts", "build-image.py")
BUILD_TIMEOUT = 900  # a cold build here (debootstrap, both apt stages, the compile) takes ~2-3 min

NS = "shop"
ENGINE = "shop-chaos"
EXPERIMENT = "pod-io-stress"
RESULT = f"{ENGINE}-{EXPERIMENT}"
UID = "2b0c6a4e-7d1f-4c33-9a0e-5f6b7c8d9e01"
POD = "files-7d9f8-qx4lm"
VOLUME = "/data"


def build_image() -> dict:
    """The summary build-image.py prints (archive, image, sizes); SkipTest when the machine cannot
    build it at all."""
    try:
        proc = subprocess.run(["/usr/bin/python3", BUILD_SCRIPT, "--json"], stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=BUILD_TIMEOUT)
    except subprocess.TimeoutExpired as e:
        raise AssertionError(f"{BUILD_SCRIPT} did not finish in {BUILD_TIMEOUT} s; stderr tail:\n"
                             f"{(e.stderr or b'')[-4000:]}") from e
    if proc.returncode == 2:
        reason = [l for l in proc.stderr.splitlines() if "cannot build" in l] or proc.stderr.splitlines()[-1:]
        raise unittest.SkipTest(f"the LIB_IMAGE cannot be built on this machine: {' '.join(reason)}")
    if proc.returncode != 0:
        raise AssertionError(f"{BUILD_SCRIPT} failed with status {proc.returncode}; stderr tail:\n"
                             f"{proc.stderr[-6000:]}")
    return json.loads(proc.stdout)


def task_state(ctd, cid):
    for line in ctd.ctr("task", "ls", check=False).stdout.splitlines()[1:]:
        f = line.split()
        if len(f) >= 3 and f[0] == cid:
            return int(f[1]), f[2]
    return 0, ""


def pids_in_cgroup_of(cid: str) -> list[int]:
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                if cid in harness.cgroup_of(int(name)):
                    out.append(int(name))
            except OSError:
                pass
    return out


def file_id(path: str):
    st = os.stat(path)
    return st.st_dev, st.st_ino


class LibImage(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        t0 = time.monotonic()
        cls.summary = build_image()
        cls.build_wall = time.monotonic() - t0
        cls.image = cls.summary["image"]
        cls.ctd = harness.Containerd()
        cls.addClassCleanup(cls.ctd.stop)
        cls.ctd.start()
        t1 = time.monotonic()
        cls.ctd.ctr("images", "import", cls.summary["archive"])
        cls.import_seconds = time.monotonic() - t1
        names = cls.ctd.ctr("images", "ls", "-q").stdout.split()
        if cls.image not in names:
            raise AssertionError(f"ctr images import {cls.summary['archive']}: {cls.image} not among {names}")
        cls.api = apiserver.APIServer(namespace="litmus")
        cls.addClassCleanup(cls.api.stop)
        cls.api.start()
        cls.figures = []

    @classmethod
    def tearDownClass(cls):
        s = cls.summary
        how = "reused (sources unchanged)" if s.get("reused") else f"built in {s['times'].get('total_seconds')} s"
        print(f"\n[image e2e] {s['image']}: {s['layers']} layers, {s['compressed_bytes'] / 1e6:.1f} MB compressed "
              f"(gzip layer blobs), {s['uncompressed_bytes'] / 1e6:.1f} MB uncompressed; {how}; "
              f"ctr images import {cls.import_seconds:.1f} s", file=sys.stderr)
        for line in cls.figures:
            print(f"[image e2e] {line}", file=sys.stderr)

    def setUp(self):
        self.api.reset()
        self.api.put_object(*apiserver.make_chaosresult("litmus", RESULT, ENGINE, EXPERIMENT))

    # -- running the image -----------------------------------------------------------------------

    def helper_container(self):
        """A container id and its cgroup, registered with the harness so that stop() removes the
        container and the cgroup dirs its creation makes (as run_target does for targets)."""
        cid = harness.make_container_id()
        cgroup = f"/kubepods/besteffort/pod{uuid.uuid4()}/{cid}"
        t = harness.Target(id=cid, pid=0, runtime="containerd", socket=self.ctd.socket,
                           volume_host_dir=None, volume_path=None)
        with harness._CgroupLock():
            t.cgroup_dirs_created = harness._missing_cgroup_dirs(cgroup)
            self.ctd._cgroup_dirs_created += t.cgroup_dirs_created
            self.ctd.targets[cid] = t
        self.addCleanup(self.ctd.stop_target, t)
        return cid, cgroup

    def ctr_run(self, cid, cgroup, env, command, helper_pod=True):
        """`ctr run --rm` in the foreground (it returns the task's exit status). helper_pod: what
        Litmus's helper pod spec asks for."""
        argv = ["run", "--rm", "--cgroup", cgroup,
                "--runc-root", os.path.join(self.ctd.tmp, "runc"),
                "--fifo-dir", os.path.join(self.ctd.tmp, "fifo")]
        if helper_pod:
            sock = self.ctd.socket
            argv += ["--privileged",                                            # securityContext.privileged
                     "--with-ns", f"pid:/proc/{self.ctd.proc.pid}/ns/pid",      # hostPID: containerd's
                     "--net-host",                                              # reaches the API server
                     "--mount", "type=bind,src=/sys,dst=/sys,options=rbind:rw",  # hostPath /sys
                     "--mount", f"type=bind,src={sock},dst={sock},options=rbind:rw",  # SOCKET_PATH
                     "--mount", f"type=bind,src={self.api.sa_dir},dst={apiserver.SERVICE_ACCOUNT_DIR},"
                                "options=rbind:ro"]
        for k, v in env.items():
            argv += ["--env", f"{k}={v}"]
        argv += [self.image, cid, *command]
        return subprocess.Popen(self.ctd._ctr_argv(*argv), stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def litmus_env(self, **overrides):
        env = {
            "TARGETS": f"{POD}:{NS}:app",
            "TOTAL_CHAOS_DURATION": "5",
            "STRESS_TYPE": "pod-io-stress",
            "CPU_CORES": "",
            "CPU_LOAD": "",
            "MEMORY_CONSUMPTION": "",
            "NUMBER_OF_WORKERS": "1",
            "FILESYSTEM_UTILIZATION_PERCENTAGE": "",
            "FILESYSTEM_UTILIZATION_BYTES": "1",
            "VOLUME_MOUNT_PATH": VOLUME,
            "CONTAINER_RUNTIME": "containerd",
            "SOCKET_PATH": self.ctd.socket,
            "CHAOS_NAMESPACE": "litmus",
            "CHAOSENGINE": ENGINE,
            "EXPERIMENT_NAME": EXPERIMENT,
            "INSTANCE_ID": "",
            "CHAOS_UID": UID,
            "POD_NAME": f"{EXPERIMENT}-helper-k2x9q",
            "STATUS_CHECK_TIMEOUT": "30",
            "STATUS_CHECK_DELAY": "1",
        }
        env.update(overrides)
        env.update(self.api.env())  # KUBERNETES_SERVICE_HOST/PORT, as the kubelet sets them
        return env

    def annotation_history(self):
        return self.api.annotation_history(apiserver.chaosresult_path("litmus", RESULT))

    # -- 1. the helper pod, io stress into a volume ----------------------------------------------

    def test_helper_pod_io_stress_into_the_targets_volume(self):
        target = self.ctd.run_target(volume_path=VOLUME)
        self.addCleanup(self.ctd.stop_target, target)
        self.api.put_object(apiserver.pod_path(NS, POD),
                            apiserver.make_pod(POD, NS, [{"name": "app", "id": target.id}]))
        target_pidns = harness.pidns_of(target.pid)
        target_mntns = os.readlink(f"/proc/{target.pid}/ns/mnt")
        base = set(harness.pids_in_pidns(target_pidns))
        host_stress_ng = file_id("/usr/bin/stress-ng") if os.path.exists("/usr/bin/stress-ng") else None

        cid, cgroup = self.helper_container()
        t0 = time.monotonic()
        proc = self.ctr_run(cid, cgroup, self.litmus_env(), ["/bin/bash", "-c", "./helpers -name stress-chaos"])
        seen_in_volume, stress_seen, helper_pidns = set(), {}, None
        deadline = t0 + 90
        while proc.poll() is None and time.monotonic() < deadline:
            for dirpath, dirs, files in os.walk(target.volume_host_dir):
                seen_in_volume.update(os.path.relpath(os.path.join(dirpath, n), target.volume_host_dir)
                                      for n in dirs + files)
            # Sampled again on every pass, the last sample kept: a stress-ng caught while ld.so still
            # loads its libraries is in the helper's mount namespace until the preload's constructor
            # has run; what counts is where it went on to run.
            for pid in set(harness.pids_in_pidns(target_pidns)) - base:
                if (harness.comm_of(pid) or "").startswith("stress-ng"):
                    try:
                        stress_seen[pid] = (file_id(f"/proc/{pid}/exe"), os.readlink(f"/proc/{pid}/ns/mnt"))
                    except OSError:
                        pass
            if helper_pidns is None:
                for pid in pids_in_cgroup_of(cid):
                    if harness.comm_of(pid) == "helpers":
                        helper_pidns = harness.pidns_of(pid)
            time.sleep(0.05)
        if proc.poll() is None:
            proc.kill()
        out, err = proc.communicate(timeout=30)
        took = time.monotonic() - t0
        for token in self.api.tokens_issued:
            self.assertNotIn(token, out + err, "the service-account token appears in the output")

        self.assertEqual(proc.returncode, 0, f"ctr run (the helper pod) exited {proc.returncode}\n{out}\n{err}")
        self.assertEqual(helper_pidns, harness.pidns_of(self.ctd.proc.pid),
                         "the helper did not run in the host's (containerd's) PID namespace")
        self.assertTrue(any("stress-ng" in p for p in seen_in_volume),
                        f"no stress-ng files appeared in the target's volume during the run: {sorted(seen_in_volume)}"
                        f"\n{err}")
        self.assertTrue(stress_seen, f"no stress-ng process was seen in the target's PID namespace\n{err}")
        for pid, (exe, mntns) in stress_seen.items():
            self.assertEqual(mntns, target_mntns, f"stress-ng {pid} is not in the target's mount namespace")
            self.assertNotEqual(exe, host_stress_ng, f"stress-ng {pid} was loaded from the host, not the image")
        self.assertEqual(self.annotation_history(), [(f"pod/{POD}", "injected"), (f"pod/{POD}", "reverted")])
        result = self.api.get_object(apiserver.chaosresult_path("litmus", RESULT))
        self.assertRegex(result["metadata"]["annotations"].get(f"stress-effect/{POD}", ""),
                         r"app: .*stress-ng wrote \d+\.\d MiB")
        self.assertIsNone(result["status"]["experimentStatus"].get("errorOutput"))
        events = [r for r in self.api.requests if "/events" in r.path and r.method in ("POST", "PUT")]
        self.assertEqual(len(events), 1, [(r.method, r.path) for r in events])
        event = events[0].body
        self.assertEqual(event["metadata"]["name"], f"ChaosInject{EXPERIMENT}{UID}")
        self.assertEqual(event["reason"], "ChaosInject")
        self.assertEqual(event["involvedObject"]["name"], ENGINE)

        self.assertEqual(sorted(set(harness.pids_in_pidns(target_pidns)) - base), [],
                         "processes left in the target's PID namespace")
        self.assertEqual(os.listdir(target.volume_host_dir), [], "stress-ng files left in the volume")
        self.assertNotIn(cid, self.ctd.ctr("containers", "ls", "-q").stdout.split(), "helper container left")
        self.assertEqual(pids_in_cgroup_of(cid), [], "processes left in the helper container's cgroup")
        self.figures.append(f"helper pod (ctr run) io stress 5 s into a volume: {took:.1f} s from ctr run to exit")

    # -- 2. what is in the image -----------------------------------------------------------------

    def test_image_shape(self):
        script = r"""
set -e
echo "cwd=$(pwd) uid=$(id -u) bash=$BASH_VERSION"
test -x ./helpers && ./helpers --version
command -v nsexec
test -f /usr/local/lib/libnsenter.so && echo libnsenter=/usr/local/lib/libnsenter.so
stress-ng --version
test -s /etc/ssl/certs/ca-certificates.crt && echo ca-certificates=ok
for c in gcc g++ cc c++ cmake make; do if command -v "$c" >/dev/null; then echo "compiler=$c"; fi; done
"""
        cid, cgroup = self.helper_container()
        proc = self.ctr_run(cid, cgroup, {}, ["/bin/bash", "-c", script], helper_pod=False)
        out, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 0, f"{out}\n{err}")
        self.assertRegex(out, r"cwd=/litmus uid=0 bash=5\.")
        self.assertIn("helpers 0.", out)
        self.assertIn("/usr/local/bin/nsexec", out)
        self.assertIn("libnsenter=/usr/local/lib/libnsenter.so", out)
        self.assertRegex(out, r"stress-ng, version \d+\.\d+")
        self.assertIn("ca-certificates=ok", out)
        self.assertNotIn("compiler=", out)


if __name__ == "__main__":
    unittest.main()
