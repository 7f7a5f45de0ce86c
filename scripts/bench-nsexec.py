#!/usr/bin/env python3
"""Benchmark: time from starting nsexec to the command exec'd inside a target's PID namespace.

Starts a private containerd and one busybox target (tests/e2e/harness.py), then, RUNS times each
(interleaved, after one discarded warm-up of each):

  nsexec -p /proc/P/ns/pid -m /proc/P/ns/mnt --local --library-path <libnsenter.so> -- probe_clock
  probe_clock                      (plain fork+exec from Python, no namespaces: the floor)

probe_clock prints CLOCK_MONOTONIC at its main() and its pid-namespace link; t0 is
time.monotonic_ns() (also CLOCK_MONOTONIC) taken just before the spawn. The figure is
main() - t0. The run is rejected if probe_clock did not run in the target's pid namespace.

Usage: scripts/bench-nsexec.py [--build-dir DIR] [--runs N]     (as root; leaves nothing behind)
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build-dir", default=os.environ.get("BUILD_DIR") or os.path.join(REPO, "build"),
                    help="CMake build dir holding nsexec, libnsenter.so and probe_clock (default: build/)")
    ap.add_argument("--runs", type=int, default=20, help="measured runs per case (default 20)")
    return ap.parse_args()


def probe(argv: list[str]) -> tuple[int, int, str]:
    """Spawns ARGV; returns (probe's main() - t0 in ns, exit - t0 in ns, probe's pid-ns link)."""
    t0 = time.monotonic_ns()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = p.communicate(timeout=30)
    t_exit = time.monotonic_ns()
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {p.returncode}: {err.decode(errors='replace').strip()}")
    fields = out.decode().split()
    if len(fields) != 2 or not fields[0].isdigit():
        raise RuntimeError(f"{' '.join(argv)}: unexpected output {out!r}")
    return int(fields[0]) - t0, t_exit - t0, fields[1]


def row(name: str, samples_ns: list[int]) -> str:
    ms = [s / 1e6 for s in samples_ns]
    return f"| {name:<46} | {statistics.median(ms):9.3f} | {min(ms):9.3f} | {max(ms):9.3f} | {len(ms):4d} |"


def main() -> int:
    args = parse_args()
    os.environ["BUILD_DIR"] = os.path.abspath(args.build_dir)
    os.environ.setdefault("SOURCE_DIR", REPO)
    sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))
    import harness  # after BUILD_DIR is set: the harness reads it at import

    nsexec, library, probe_clock = (harness.binary(n) for n in ("nsexec", "libnsenter.so", "probe_clock"))
    own_link = harness.pidns_of(os.getpid())
    with harness.Containerd() as ctd:
        target = ctd.run_target()
        link = harness.pidns_of(target.pid)
        ns_argv = [nsexec, "-p", f"/proc/{target.pid}/ns/pid", "-m", f"/proc/{target.pid}/ns/mnt",
                   "--local", "--library-path", library, "--", probe_clock]
        plain_argv = [probe_clock]

        cases = {"nsexec": (ns_argv, link), "plain": (plain_argv, own_link)}
        start, done = {k: [] for k in cases}, {k: [] for k in cases}
        for i in range(args.runs + 1):
            for name, (argv, want_link) in cases.items():
                to_main, to_exit, got_link = probe(argv)
                if got_link != want_link:
                    raise RuntimeError(f"{name}: probe_clock ran in {got_link}, expected {want_link}")
                if i > 0:  # the first of each is a warm-up (page cache, dynamic loader)
                    start[name].append(to_main)
                    done[name].append(to_exit)
        left = set(harness.pids_in_pidns(link)) - {target.pid}
        if left:
            raise RuntimeError(f"processes left in the target's pid namespace: {sorted(left)}")

    print(f"nsexec start-up, {args.runs} runs each (ms; target pid namespace {link}, "
          f"{os.cpu_count()} CPUs, machine shared with other work)")
    print(f"| {'case':<46} | {'median':>9} | {'min':>9} | {'max':>9} | {'runs':>4} |")
    print(f"|{'-' * 48}|{'-' * 11}|{'-' * 11}|{'-' * 11}|{'-' * 6}|")
    print(row("nsexec --local → probe_clock main() in target", start["nsexec"]))
    print(row("plain fork+exec → probe_clock main()", start["plain"]))
    print(row("nsexec --local, spawn → nsexec exited", done["nsexec"]))
    print(row("plain, spawn → probe_clock exited", done["plain"]))
    overhead = statistics.median(start["nsexec"]) - statistics.median(start["plain"])
    print(f"nsexec adds {overhead / 1e6:.3f} ms (median) before the command runs in the target.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
