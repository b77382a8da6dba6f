#!/usr/bin/python3
"""The latency step of bench/run.sh: one single-domain check through a forwarder that delays every DNS answer.

Usage: latency.py OUTDIR KNOT_PORT SENDCHECK [--runs R] [--delays 20,0]

OUTDIR is the run's directory (gen_zone.py wrote latency.json there: the latency domain, a four-level include tree
with 8 DNS lookups, and the queries a check needs). For each delay, starts bench/delay_forwarder.py in front of knotd
(127.0.0.1:KNOT_PORT) and times R runs (after one untimed warm-up) of:
  - sendcheck, the full check (SPF + DKIM + DMARC): `sendcheck --server 127.0.0.1:FWD DOMAIN`, text report;
  - sendcheck, SPF only: `sendcheck --only spf --server 127.0.0.1:FWD DOMAIN` (when `sendcheck --help` lists --only);
  - pyspf, one IP (90.190.150.212, which passes only at the last term) and all five IPs one after another (the job),
    timed inside one Python process (bench/peers/pyspf_latency.py): interpreter start-up not counted.
sendcheck's times are the whole process, start to exit (including its start-up, which the delay-0 rows show).

Writes OUTDIR/latency/latency.tsv (variant, delay, runs, median/min/max ms, queries and query waves per run) and
OUTDIR/latency/waves.txt: for the median run of each variant at the largest delay, the queries grouped into the waves
the forwarder saw (queries arriving within half a delay of a wave's first one were sent together; each new wave is a
round trip the client waited for). The forwarder logs are there too.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
PYTHON = "/usr/bin/python3"  # Debian's: python3-spf and python3-dnspython live there
ONE_IP = "90.190.150.212"
ALL_IPS = ["90.190.150.210", "90.190.150.211", "90.190.150.212", "90.190.150.213", "90.190.150.82"]


class Forwarder:
    """bench/delay_forwarder.py as a child process, with its query log."""

    def __init__(self, knot_port, delay_ms, log_path):
        self.log_path = log_path
        open(log_path, "w", encoding="utf-8").close()
        self.process = subprocess.Popen(
            [PYTHON, os.path.join(BENCH, "delay_forwarder.py"), "--upstream", f"127.0.0.1:{knot_port}",
             "--delay-ms", str(delay_ms), "--log", log_path], stdout=subprocess.PIPE, text=True)
        self.port = int(self.process.stdout.readline().split()[0])

    def log_size(self):
        return os.path.getsize(self.log_path)

    def queries_since(self, offset):
        """[(milliseconds, "TYPE name")] logged since byte `offset`."""
        with open(self.log_path, encoding="utf-8") as handle:
            handle.seek(offset)
            rows = [line.split() for line in handle if line.strip()]
        return [(float(row[0]), f"{row[2]} {row[3]}") for row in rows if len(row) == 4]

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)


def waves(queries, delay_ms):
    """Queries grouped by when they arrived: a new wave starts more than half a delay after the current one."""
    groups = []
    for ms, query in sorted(queries):
        if groups and ms - groups[-1][0] <= delay_ms / 2:
            groups[-1][1].append(query)
        else:
            groups.append((ms, [query]))
    return groups


def measure(forwarder, delay_ms, runs, run_once):
    """Times `run_once()` (returns milliseconds) `runs` times after a warm-up; per run: ms and the queries sent."""
    run_once()
    samples = []
    for _ in range(runs):
        offset = forwarder.log_size()
        ms = run_once()
        time.sleep(0.05)  # let the forwarder log the last queries of a client that exits without waiting for them
        samples.append((ms, forwarder.queries_since(offset)))
    return samples


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("out")
    parser.add_argument("knot_port", type=int)
    parser.add_argument("sendcheck")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--delays", default="20,0", help="comma-separated delays in milliseconds (default 20,0)")
    args = parser.parse_args(argv)
    facts = json.load(open(os.path.join(args.out, "latency.json"), encoding="utf-8"))
    domain = facts["domain"]
    work = os.path.join(args.out, "latency")
    os.makedirs(work, exist_ok=True)
    help_text = subprocess.run([args.sendcheck, "--help"], capture_output=True, text=True).stdout
    has_only = "--only" in help_text
    delays = [float(d) for d in args.delays.split(",") if d.strip()]

    rows, wave_lines = [], []
    for delay in delays:
        forwarder = Forwarder(args.knot_port, delay, os.path.join(work, f"forwarder-{delay:g}ms.log"))
        server = f"127.0.0.1:{forwarder.port}"
        try:
            variants = []

            def sendcheck(extra):
                def run_once():
                    start = time.perf_counter()
                    subprocess.run([args.sendcheck, *extra, "--server", server, domain], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, check=False)
                    return (time.perf_counter() - start) * 1000
                return run_once

            variants.append(("sendcheck (full check)", "whole process", sendcheck([])))
            if has_only:
                variants.append(("sendcheck --only spf", "whole process", sendcheck(["--only", "spf"])))
            peer = subprocess.Popen([PYTHON, os.path.join(BENCH, "peers", "pyspf_latency.py"), str(forwarder.port),
                                     domain], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

            def pyspf(ips):
                def run_once():
                    peer.stdin.write(",".join(ips) + "\n")
                    peer.stdin.flush()
                    return float(peer.stdout.readline().split()[0])
                return run_once

            variants.append(("pyspf, one IP", f"check2() calls only; {ONE_IP}", pyspf([ONE_IP])))
            variants.append(("pyspf, five IPs", "check2() calls only; one after another", pyspf(ALL_IPS)))
            for name, how, run_once in variants:
                show_waves = delay == max(delays) and delay > 0 and name != "pyspf, five IPs"  # that is 5 x one IP
                samples = measure(forwarder, delay, args.runs, run_once)
                times = [ms for ms, _ in samples]
                median = statistics.median(times)
                counts = [len(q) for _, q in samples]
                wave_counts = [len(waves(q, delay)) for _, q in samples] if delay > 0 else []
                rows.append([name, how, f"{delay:g}", str(args.runs), f"{median:.1f}", f"{min(times):.1f}",
                             f"{max(times):.1f}", f"{statistics.median(counts):g}",
                             f"{statistics.median(wave_counts):g}" if wave_counts else "-"])
                if show_waves:
                    ms, queries = min(samples, key=lambda s: abs(s[0] - median))
                    wave_lines.append(f"{name} (delay {delay:g} ms, the run closest to the median: {ms:.1f} ms, "
                                      f"{len(queries)} queries)")
                    groups = waves(queries, delay)
                    for i, (start, group) in enumerate(groups, 1):
                        wave_lines.append(f"  wave {i} (+{start - groups[0][0]:.0f} ms): " + ", ".join(group))
                print(f"latency: {name}, delay {delay:g} ms: median {median:.1f} ms", file=sys.stderr)
            peer.stdin.close()
            peer.wait(timeout=30)
        finally:
            forwarder.stop()

    with open(os.path.join(work, "latency.tsv"), "w", encoding="utf-8") as handle:
        handle.write("variant\thow\tdelay_ms\truns\tmedian_ms\tmin_ms\tmax_ms\tqueries\twaves\n")
        handle.writelines("\t".join(row) + "\n" for row in rows)
    with open(os.path.join(work, "waves.txt"), "w", encoding="utf-8") as handle:
        handle.writelines(line + "\n" for line in wave_lines)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
