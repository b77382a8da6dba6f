#!/usr/bin/python3
"""Times a command several times and keeps the median run: the throughput step of bench/run.sh.

Usage: repeat.py RUNS TIMEFILE [--stdout FILE] [--stderr FILE] [--] COMMAND [ARG...]

Runs COMMAND RUNS times, one after the other, each started with posix_spawn and waited for with wait4 (standard
output and error go to FILE, recreated for each run before its clock starts, or to /dev/null). The wall time of a
run is measured with a monotonic clock (microseconds; /usr/bin/time rounds to 10 ms, 3% of a 0.35 s run). Writes
TIMEFILE in the format of `/usr/bin/time -v` (the lines bench/compare.py reads: wall clock, user and system CPU, peak
RSS) for the run whose wall time is the median, and TIMEFILE.runs with every run's wall seconds, in the order run.
The files left in FILE are the last run's: every run of a deterministic job writes the same results.

One machine, shared and noisy: a single run of a 0.35 s job varies by about 10%; the median of five varies less.
Exits with the status of the median run (0 when every run failed to start).
"""

import os
import statistics
import sys
import time


def run_once(argv, stdout, stderr):
    """(wall seconds, rusage, exit status) of one run of argv."""
    out = os.open(stdout, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    err = os.open(stderr, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        actions = [(os.POSIX_SPAWN_DUP2, out, 1), (os.POSIX_SPAWN_DUP2, err, 2)]
        start = time.perf_counter()
        pid = os.posix_spawnp(argv[0], argv, os.environ, file_actions=actions)
        _, status, usage = os.wait4(pid, 0)
        wall = time.perf_counter() - start
    finally:
        os.close(out)
        os.close(err)
    return wall, usage, os.waitstatus_to_exitcode(status)


def time_v(argv, wall, usage, code):
    """The lines of `/usr/bin/time -v` that bench/compare.py reads, for one run."""
    minutes, seconds = divmod(wall, 60)
    return (f'\tCommand being timed: "{" ".join(argv)}"\n'
            f"\tUser time (seconds): {usage.ru_utime:.6f}\n"
            f"\tSystem time (seconds): {usage.ru_stime:.6f}\n"
            f"\tElapsed (wall clock) time (h:mm:ss or m:ss): {int(minutes)}:{seconds:09.6f}\n"
            f"\tMaximum resident set size (kbytes): {usage.ru_maxrss}\n"
            f"\tExit status: {code}\n")


def parse_command(words):
    """(stdout, stderr, argv) from `[--stdout FILE] [--stderr FILE] -- COMMAND [ARG...]` (the `--` may be left out
    when no option comes before COMMAND). The files are opened by run_once before its clock starts, so truncating
    the last run's output (about 11 ms for sendcheck's 35 MB on ext4) is not counted as the command's time."""
    stdout = stderr = os.devnull
    rest = list(words)
    while rest and rest[0] != "--":
        if rest[0] == "--stdout" and len(rest) > 1:
            stdout, rest = rest[1], rest[2:]
        elif rest[0] == "--stderr" and len(rest) > 1:
            stderr, rest = rest[1], rest[2:]
        elif rest[0].startswith("--"):
            sys.exit(f"repeat.py: unknown option {rest[0]}\n{__doc__}")
        else:
            break
    argv = rest[1:] if rest and rest[0] == "--" else rest
    if not argv:
        sys.exit(f"repeat.py: no command\n{__doc__}")
    return stdout, stderr, argv


def main():
    args = sys.argv[1:]
    if len(args) < 3:
        sys.exit(__doc__)
    runs, time_file = int(args[0]), args[1]
    stdout, stderr, argv = parse_command(args[2:])
    results = [run_once(argv, stdout, stderr) for _ in range(max(1, runs))]
    walls = [wall for wall, _, _ in results]
    median = statistics.median_low(walls)
    wall, usage, code = results[walls.index(median)]
    with open(time_file, "w", encoding="utf-8") as out:
        out.write(time_v(argv, wall, usage, code))
    with open(time_file + ".runs", "w", encoding="utf-8") as out:
        out.write(" ".join(f"{w:.4f}" for w in walls) + "\n")
    sys.exit(code)


if __name__ == "__main__":
    main()
