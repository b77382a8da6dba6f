#!/usr/bin/python3
"""Times two or more commands in alternation and keeps each one's median run: the paired throughput step of
bench/run.sh.

Usage: interleave.py RUNS OUTDIR NAME 'COMMAND' [NAME 'COMMAND']...

Runs round after round: in each, every COMMAND in the order given, twice in a row, timing the second run (each through
`bash -c`, its standard output and error as the command line redirects them; bench/repeat.py's run_once times it). Writes OUTDIR/NAME.time (the
median run of NAME, in the format of `/usr/bin/time -v`, as repeat.py writes it) and OUTDIR/NAME.time.runs (every
run's wall seconds, in the order run).

Why alternate: this machine's speed drifts by a fifth within minutes (the same binary measured 0.193 s and 0.248 s
five minutes apart), so a ratio of two tools timed one after the other in separate blocks says as much about the
minutes they ran in as about the tools. Runs taken in turns see the same drift. Why twice: a run right after another
tool's finds the caches (the CPU's, the server's, the page cache's) full of that tool's data, which costs a short run
more than a long one (0.2 s of sendcheck timed right after 2 s of spfquery ran about a fifth slower than after its own
run); the untimed first run puts each tool's timed run in the state a block of its own runs would.
"""

import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from repeat import run_once, time_v  # noqa: E402


def main():
    args = sys.argv[1:]
    if len(args) < 4 or len(args) % 2 != 0:
        sys.exit(__doc__)
    runs, out = max(1, int(args[0])), args[1]
    commands = list(zip(args[2::2], args[3::2]))
    results = {name: [] for name, _ in commands}
    for _ in range(runs):
        for name, command in commands:
            run_once(["bash", "-c", command], os.devnull, os.devnull)  # untimed: the caches as its own run leaves them
            results[name].append(run_once(["bash", "-c", command], os.devnull, os.devnull))
    worst = 0
    for name, command in commands:
        walls = [wall for wall, _, _ in results[name]]
        median = statistics.median_low(walls)
        wall, usage, code = results[name][walls.index(median)]
        worst = worst or code
        with open(os.path.join(out, f"{name}.time"), "w", encoding="utf-8") as handle:
            handle.write(time_v(["bash", "-c", command], wall, usage, code))
        with open(os.path.join(out, f"{name}.time.runs"), "w", encoding="utf-8") as handle:
            handle.write(" ".join(f"{w:.4f}" for w in walls) + "\n")
    sys.exit(worst)


if __name__ == "__main__":
    main()
