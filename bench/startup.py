#!/usr/bin/python3
"""The start-up step of bench/run.sh: how long sendcheck takes to start and do (almost) nothing.

Usage: startup.py OUTFILE SENDCHECK ZONE DOMAIN [--runs R]

Runs each command R times (default 200, after 5 untimed warm-ups), interleaved so that a change in the machine's load
hits all of them alike, each started with posix_spawn and waited for with wait4:
  - /bin/true                                    (the cost of starting any process this way: subtracted below)
  - SENDCHECK --version
  - SENDCHECK --offline --zone ZONE DOMAIN       (one check answered from a zone file, no network)
Writes OUTFILE (TSV): command, runs, median and minimum wall milliseconds, the median minus /bin/true's median (the
figure the targets are about), and the median CPU milliseconds (user + system, from wait4: unlike wall time, it does
not grow when other processes keep the CPUs busy).
"""

import argparse
import os
import statistics
import sys
import time


def run_once(argv):
    """(wall ms, CPU ms) of one run of argv, output discarded."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        actions = [(os.POSIX_SPAWN_DUP2, devnull, 1), (os.POSIX_SPAWN_DUP2, devnull, 2)]
        start = time.perf_counter()
        pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=actions)
        _, _, usage = os.wait4(pid, 0)
        wall = (time.perf_counter() - start) * 1000
    finally:
        os.close(devnull)
    return wall, (usage.ru_utime + usage.ru_stime) * 1000


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("outfile")
    parser.add_argument("sendcheck")
    parser.add_argument("zone")
    parser.add_argument("domain")
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args(argv)
    commands = [
        ("/bin/true", ["/bin/true"]),
        ("sendcheck --version", [args.sendcheck, "--version"]),
        (f"sendcheck --offline --zone {os.path.relpath(args.zone)} {args.domain}",
         [args.sendcheck, "--offline", "--zone", args.zone, args.domain]),
    ]
    samples = {name: [] for name, _ in commands}
    for _ in range(5):
        for _, command in commands:
            run_once(command)
    for _ in range(args.runs):
        for name, command in commands:
            samples[name].append(run_once(command))
    baseline = statistics.median(wall for wall, _ in samples["/bin/true"])
    with open(args.outfile, "w", encoding="utf-8") as handle:
        handle.write("command\truns\tmedian_ms\tmin_ms\tnet_median_ms\tcpu_median_ms\n")
        for name, _ in commands:
            walls = [wall for wall, _ in samples[name]]
            median = statistics.median(walls)
            cpu = statistics.median(cpu for _, cpu in samples[name])
            handle.write(f"{name}\t{args.runs}\t{median:.3f}\t{min(walls):.3f}\t{median - baseline:.3f}\t{cpu:.3f}\n")
            print(f"startup: {name}: median {median:.2f} ms ({median - baseline:.2f} ms more than /bin/true)",
                  file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
