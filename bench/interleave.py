#!/usr/bin/python3
"""Times two or more commands in alternation and keeps each one's median run: the paired throughput step of
bench/run.sh.

Usage: interleave.py RUNS OUTDIR NAME 'COMMAND' [NAME 'COMMAND']...

COMMAND is what follows RUNS TIMEFILE on bench/repeat.py's command line, as one string split the way a shell splits
words (no shell runs it): `[--stdout FILE] [--stderr FILE] [--] PROGRAM [ARG...]`.

Runs round after round: in each, every COMMAND in the order given, twice in a row, timing the second run (repeat.py's
run_once: spawned directly, its output files recreated before the clock starts). Writes OUTDIR/NAME.time (the median
run of NAME, in the format of `/usr/bin/time -v`, as repeat.py writes it) and OUTDIR/NAME.time.runs (every run's
wall seconds, in the order run).

Why alternate: this machine's speed drifts by a fifth within minutes (the same binary measured 0.193 s and 0.248 s
five minutes apart), so a ratio of two tools timed one after the other in separate blocks says as much about the
minutes they ran in as about the tools. Runs taken in turns see the same drift. Why twice: a run right after another
tool's finds the caches (the CPU's, the server's, the page cache's) full of that tool's data; the untimed first run
puts each tool's timed run in the state a block of its own runs would.

Why no shell and no redirection inside the timed run: `bash -c '... >FILE'` charged the command with bash's start
(about 1 ms) and with truncating the file the last run wrote (about 11 ms for sendcheck's 35 MB on ext4, 6 ms for
spfquery's 20 MB): a twentieth of a 0.2 s run, a three-hundredth of a 2 s one. repeat.py's blocks never counted it.
"""

import os
import shlex
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from repeat import parse_command, run_once, time_v  # noqa: E402


def main():
    args = sys.argv[1:]
    if len(args) < 4 or len(args) % 2 != 0:
        sys.exit(__doc__)
    runs, out = max(1, int(args[0])), args[1]
    commands = [(name, parse_command(shlex.split(command))) for name, command in zip(args[2::2], args[3::2])]
    results = {name: [] for name, _ in commands}
    for _ in range(runs):
        for name, (stdout, stderr, argv) in commands:
            run_once(argv, stdout, stderr)  # untimed: the caches as its own run leaves them
            results[name].append(run_once(argv, stdout, stderr))
    worst = 0
    for name, (_, _, argv) in commands:
        walls = [wall for wall, _, _ in results[name]]
        median = statistics.median_low(walls)
        wall, usage, code = results[name][walls.index(median)]
        worst = worst or code
        with open(os.path.join(out, f"{name}.time"), "w", encoding="utf-8") as handle:
            handle.write(time_v(argv, wall, usage, code))
        with open(os.path.join(out, f"{name}.time.runs"), "w", encoding="utf-8") as handle:
            handle.write(" ".join(f"{w:.4f}" for w in walls) + "\n")
    sys.exit(worst)


if __name__ == "__main__":
    main()
