#!/usr/bin/env python3
"""Times short commands head to head: start-up and the 4-line file, where a shell in front of a
tool (as `run.sh` needs for rops, which reads stdin) would cost as much as the tool.

    python3 benches/compare/startup.py [--runs N] [--input FILE] LABEL=COMMAND ...

Each COMMAND runs N times, interleaved with the others (so a change in the machine's load
hits every command alike), started with posix_spawn: no shell; `--input FILE` is its standard
input. Prints, per command, the median and mean wall time and the mean CPU time (user + system,
from getrusage of the children), and the load average before and after. Python stdlib only.

Example (the README's start-up row):

    export SOPS_AGE_KEY_FILE=keys/testdata/demo-age-key.txt
    export ROPS_AGE="$(grep ^AGE-SECRET-KEY- "$SOPS_AGE_KEY_FILE")"
    python3 benches/compare/startup.py --runs 800 \\
        "gitseal=target/release/gitseal decrypt benches/compare/out/enc/tiny.sops.yaml" \\
        "rops<benches/compare/out/enc/tiny.sops.yaml=rops decrypt --format yaml"

A label `NAME<FILE` gives that command FILE as standard input.
"""
import argparse
import os
import resource
import shutil
import statistics
import sys
import time


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--runs", type=int, default=500)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("commands", nargs="+", metavar="LABEL=COMMAND")
    a = p.parse_args()
    specs = []
    for spec in a.commands:
        label, _, command = spec.partition("=")
        if not command:
            sys.exit(f"startup.py: {spec!r} is not LABEL=COMMAND")
        label, _, stdin = label.partition("<")
        argv = command.split()
        exe = shutil.which(argv[0])
        if exe is None:
            sys.exit(f"startup.py: {argv[0]}: not found")
        specs.append((label, stdin or os.devnull, [exe, *argv[1:]]))
    devnull = os.open(os.devnull, os.O_WRONLY)
    wall = {label: [] for label, _, _ in specs}
    cpu = {label: [] for label, _, _ in specs}
    load_before = os.getloadavg()[0]
    for i in range(a.warmup + a.runs):
        for label, stdin, argv in specs:
            fd = os.open(stdin, os.O_RDONLY)
            r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            pid = os.posix_spawn(
                argv[0], argv, os.environ,
                file_actions=[(os.POSIX_SPAWN_DUP2, fd, 0), (os.POSIX_SPAWN_DUP2, devnull, 1)],
            )
            _, status = os.waitpid(pid, 0)
            t1 = time.perf_counter()
            r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            os.close(fd)
            if os.waitstatus_to_exitcode(status) != 0:
                sys.exit(f"startup.py: {label} failed: {' '.join(argv)}")
            if i >= a.warmup:
                wall[label].append(t1 - t0)
                cpu[label].append((r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime))
    print(f"{a.runs} runs each, interleaved; load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after")
    print(f"{'command':24} {'wall median':>12} {'wall mean':>10} {'CPU mean':>9}")
    for label, _, _ in specs:
        print(f"{label:24} {statistics.median(wall[label]) * 1e3:9.3f} ms {statistics.mean(wall[label]) * 1e3:7.3f} ms"
              f" {statistics.mean(cpu[label]) * 1e3:6.3f} ms")


if __name__ == "__main__":
    main()
