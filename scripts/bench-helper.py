#!/usr/bin/env python3
"""Benchmark of `helpers -name stress-chaos` on a private containerd (figures, not a test).

Prints medians (with min and max) of:
  - helper start → every stress-ng running, for 1 and 10 targets (standalone mode: container IDs
    given, PIDs asked from containerd's API); "running" = the stress command exec'd in the target,
    recorded by tests/bench/stress_ng_probe.c, which stands first in PATH as `stress-ng`;
  - SIGTERM → the helper has exited (it exits only after confirming every process it started is gone);
  - the helper's own peak RSS (getrusage(RUSAGE_SELF) in the helper, logged at debug level: the
    stress processes it starts are not counted);
  - with --kube: the same run as Litmus starts it, against the stand-in API server (TARGETS, pod GETs,
    ChaosResult annotations and the ChaosEngine event included). The service-account mount wrapper
    (python, apiserver.run_in_pod) costs a few ms of its own; it is measured with probe_clock and
    subtracted.

Usage: scripts/bench-helper.py [--runs N] [--kube]   (after scripts/setup.sh)
"""
import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
os.environ.setdefault("BUILD_DIR", os.path.join(ROOT, "build"))
os.environ.setdefault("SOURCE_DIR", ROOT)
import harness  # noqa: E402


def stats(values):
    return f"median {statistics.median(values):7.1f}   min {min(values):7.1f}   max {max(values):7.1f}"


class Bench:
    def __init__(self, ctd, runs):
        self.ctd = ctd
        self.runs = runs
        self.helper = harness.binary("helpers")
        self.tmp = tempfile.mkdtemp(prefix="bench-helper-")
        os.symlink(harness.binary("stress_ng_probe"), os.path.join(self.tmp, "stress-ng"))
        self.probe_file = os.path.join(self.tmp, "started")

    def env(self, duration, **extra):
        env = {"PATH": f"{self.tmp}:{os.environ.get('PATH', '/usr/bin:/bin')}",
               "STRESS_PROBE_FILE": self.probe_file, "STRESS_TYPE": "pod-cpu-stress",
               "TOTAL_CHAOS_DURATION": str(duration), "CPU_CORES": "1", "CPU_LOAD": "5",
               "CONTAINER_RUNTIME": "containerd", "SOCKET_PATH": self.ctd.socket, "HELPER_LOG_LEVEL": "debug"}
        env.update(extra)
        return env

    def started_times(self):
        try:
            with open(self.probe_file) as f:
                return [int(line.split()[0]) for line in f if line.strip()]
        except FileNotFoundError:
            return []

    def one_run(self, argv, env, n_targets, spawn=None, sigterm=True):
        """Returns (start→all running ms, SIGTERM→exit ms or None, peak RSS KiB)."""
        if os.path.exists(self.probe_file):
            os.unlink(self.probe_file)
        log = tempfile.TemporaryFile(mode="w+")
        spawn = spawn or (lambda log: subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=log))
        t0 = time.monotonic_ns()
        proc = spawn(log)
        if not harness.wait_until(lambda: len(self.started_times()) >= n_targets, timeout=30, interval=0.002):
            proc.kill()
            raise RuntimeError(f"not every target started: {self.started_times()}")
        start_ms = (max(self.started_times()) - t0) / 1e6
        revert_ms = None
        if sigterm:
            time.sleep(float(os.environ.get("BENCH_SETTLE", "0.3")))  # let stress-ng fork its workers
            t1 = time.monotonic_ns()
            proc.send_signal(signal.SIGTERM)
        proc.wait()
        if sigterm:
            revert_ms = (time.monotonic_ns() - t1) / 1e6
        log.seek(0)
        text = log.read()
        peak = re.search(r"peakRSS=(\d+)KiB", text)
        if not peak:
            raise RuntimeError(f"the helper did not log its peak RSS:\n{text}")
        return start_ms, revert_ms, int(peak.group(1))

    def standalone(self, n_targets):
        targets = [self.ctd.run_target() for _ in range(n_targets)]
        try:
            argv = [self.helper, "-name", "stress-chaos"] + sum((["--container-id", t.id] for t in targets), [])
            results = [self.one_run(argv, self.env(60), n_targets) for _ in range(self.runs)]
        finally:
            for t in targets:
                self.ctd.stop_target(t)
        return results

    def kube(self, n_targets):
        import apiserver
        targets = [self.ctd.run_target() for _ in range(n_targets)]
        with apiserver.APIServer(namespace="litmus") as api:
            try:
                ns = "bench"
                specs = []
                for i, t in enumerate(targets):
                    name = f"app-{i}"
                    api.put_object(apiserver.pod_path(ns, name),
                                   apiserver.make_pod(name, ns, [{"name": "app", "id": t.id}]))
                    specs.append(f"{name}:{ns}:app")
                env = self.env(60, TARGETS=";".join(specs), CHAOS_NAMESPACE="litmus", CHAOSENGINE="bench",
                               EXPERIMENT_NAME="pod-cpu-hog", CHAOS_UID="uid-1", POD_NAME="helper-1")
                # The wrapper's own cost: spawn → a program's main() through the same wrapper.
                probe = harness.binary("probe_clock")
                wrapper_ms = []
                for _ in range(self.runs):
                    t0 = time.monotonic_ns()
                    out = apiserver.run_in_pod_and_wait(api, [probe], env).stdout
                    wrapper_ms.append((int(out.split()[0]) - t0) / 1e6)
                results = []
                for _ in range(self.runs):
                    api.put_object(*apiserver.make_chaosresult("litmus", "bench-pod-cpu-hog", "bench", "pod-cpu-hog"))
                    spawn = lambda log: apiserver.run_in_pod(api, [self.helper, "-name", "stress-chaos"],  # noqa: E731
                                                             env, stdout=subprocess.DEVNULL, stderr=log)
                    results.append(self.one_run(None, env, n_targets, spawn=spawn))
                overhead = statistics.median(wrapper_ms)
                return [(s - overhead, r, m) for s, r, m in results], overhead
            finally:
                for t in targets:
                    self.ctd.stop_target(t)


def report(title, results):
    print(title)
    print(f"  start → every stress-ng running (ms)   {stats([r[0] for r in results])}")
    print(f"  SIGTERM → helper exited, all gone (ms) {stats([r[1] for r in results])}")
    print(f"  helper peak RSS (MiB)                  {stats([r[2] / 1024 for r in results])}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--kube", action="store_true", help="also run as Litmus does, with the stand-in API server")
    args = parser.parse_args()
    with harness.Containerd() as ctd:
        bench = Bench(ctd, args.runs)
        print(f"helpers benchmark, {args.runs} runs each, cpu stress, private containerd {ctd.socket}")
        report("standalone, 1 target:", bench.standalone(1))
        report("standalone, 10 targets:", bench.standalone(10))
        if args.kube:
            results, overhead = bench.kube(1)
            report(f"as Litmus runs it (API server round trips included; wrapper {overhead:.1f} ms subtracted), "
                   "1 target:", results)
            results, overhead = bench.kube(10)
            report(f"as Litmus runs it (wrapper {overhead:.1f} ms subtracted), 10 targets:", results)


if __name__ == "__main__":
    main()
