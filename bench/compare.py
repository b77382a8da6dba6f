#!/usr/bin/python3
"""Compares the tools' SPF results per (domain, IP) with the RFC 7208 oracle and writes bench/RESULTS.md.

Usage: compare.py OUTDIR RESULTS_MD
OUTDIR (written by bench/run.sh) holds expected.tsv, queries.txt, records.tsv, runs.tsv (one line per tool:
name, results TSV, `time -v` file, domains evaluated, UDP datagram file or "-", note), dnsperf.txt and machine.txt;
when those steps ran, also knot-cpu.txt and dnsperf.time (the ceiling's CPU), latency.json and latency/ (latency step),
memory.time, memory.n and memory.tail (memory step), startup.tsv (start-up step).
Writes RESULTS_MD (the Targets first, every figure computed here from this run's files) and OUTDIR/disagreements.tsv
(every disagreeing row), prints the Targets and the side-by-side table.
"""
import collections
import json
import os
import re
import sys

IPS = ["90.190.150.210", "90.190.150.211", "90.190.150.212", "90.190.150.213", "90.190.150.82"]

# Why the oracle's result is the one RFC 7208 requires, per category where tools are known to differ.
RFC_NOTES = {
    "perm_mx_over_10": "§4.6.4: the evaluation of an `mx` mechanism must not query more than 10 address records; "
                       "if the MX set is larger, the mechanism MUST produce permerror (RFC 7208 test suite: mx-limit).",
    "redirect_with_all": "§6.1: a `redirect` modifier MUST be ignored when the record has an `all` mechanism, so "
                         "the result is that of `~all`, never the redirect target's.",
    "void_three": "§4.6.4: more than two void lookups (NXDOMAIN or no answer) SHOULD give permerror; the third "
                  "`a:` on a nonexistent name ends the evaluation before `ip4:` is reached.",
    "void_two": "§4.6.4: two void lookups are within the limit; evaluation continues to `a:directo.gate.ee`.",
    "perm_syntax": "§4.6: any syntax error anywhere in the record means permerror before anything is evaluated "
                   "(ABNF §12: invalid ip4, cidr > 32, empty domain-spec, bare `include`, unknown mechanism, "
                   "domain-spec not ending in a toplabel, `redirect=` twice per §6).",
    "perm_include_nospf": "§5.2: an included domain with no SPF record makes `include` return permerror; only "
                          "terms evaluated before it can match first.",
    "perm_include_directo": "§5.2: `include:directo.gate.ee` names a host without SPF record: permerror.",
    "perm_two_records": "§4.5: two records beginning with `v=spf1` give permerror.",
    "perm_too_many": "§4.6.4: the 11th DNS-querying term (`a:` after 10 lookups in includes) gives permerror.",
    "none_nxdomain": "§4.3: NXDOMAIN for the domain gives none.",
    "none_other_txt": "§4.5: no record begins with `v=spf1`: none.",
    "split_long": "§3.3: the TXT strings are concatenated without spaces before parsing.",
    "split_short": "§3.3: the TXT strings are concatenated without spaces before parsing.",
    "uppercase": "§4.6.1 / ABNF: mechanism names and domains are case-insensitive.",
    "macro_exists": "§7.3: `%{i}` expands to the dotted client address; `exists` matches when any A record exists.",
    "a_cidr": "§5.3: `a:directo.gate.ee/29` covers 90.190.150.208/29 (.210-.213), not .82.",
    "modifiers": "§6: unknown modifiers (`foo=`) are ignored; `exp=` does not change the result.",
}


def read_tsv(path, skip_header=False):
    with open(path, encoding="utf-8") as handle:
        rows = [line.rstrip("\n").split("\t") for line in handle if line.strip()]
    return rows[1:] if skip_header else rows


def parse_time(path):
    """(wall seconds, peak RSS KiB, CPU seconds user + system) from `/usr/bin/time -v` output."""
    wall, rss, cpu = None, None, 0.0
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                line = line.strip()
                if line.startswith("Elapsed (wall clock) time"):
                    parts = [float(p) for p in line.rsplit(" ", 1)[1].split(":")]
                    wall = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
                elif line.startswith("Maximum resident set size"):
                    rss = int(line.rsplit(" ", 1)[1])
                elif line.startswith(("User time", "System time")):
                    cpu += float(line.rsplit(" ", 1)[1])
    except OSError:
        pass
    return wall, rss, cpu


def paired_rate(time_file, evals):
    """evals / wall seconds of the median run in `time_file` (bench/interleave.py), or None when it is missing."""
    wall, _, _ = parse_time(time_file)
    return evals / wall if wall else None


def runs_note(time_file):
    """"; median of N runs (walls ...)" when bench/repeat.py timed the tool several times (TIMEFILE.runs), else ""."""
    text = read_optional(time_file + ".runs")
    walls = [float(w) for w in text.split()] if text else []
    if len(walls) < 2:
        return ""
    return f"; median of {len(walls)} runs (wall s: {', '.join(f'{w:.3f}' for w in walls)})"


# The targets.
THROUGHPUT_FACTOR = 10.0  # x libspf2's evals/s
QUERY_SLACK = 0.05  # queries sent within 5% of the distinct queries needed
CEILING_SHARE = 0.40  # of the server's ceiling
LATENCY_SLACK = 0.10  # (depth + 1) x delay + 10%
MEMORY_LIMIT_MIB = 64.0
MEMORY_TARGET_N = 100000
STARTUP_VERSION_MS = 5.0
STARTUP_CHECK_MS = 10.0


def read_optional(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError:
        return None


def read_tsv_dicts(path):
    text = read_optional(path)
    if not text:
        return []
    lines = [line.split("\t") for line in text.splitlines() if line.strip()]
    return [dict(zip(lines[0], row)) for row in lines[1:]]


def verdict(holds):
    return "**holds**" if holds else "**does not hold**"


def main(argv):
    out, results_md = argv[0], argv[1]
    expected_rows = read_tsv(os.path.join(out, "expected.tsv"), skip_header=True)
    expected = {}
    category = {}
    for row in expected_rows:
        category[row[0]] = row[1]
        for ip, result in zip(IPS, row[2:]):
            expected[(row[0], ip)] = result
    records = {row[0]: row[1] if len(row) > 1 else "" for row in read_tsv(os.path.join(out, "records.tsv"))}
    n_domains = len(expected_rows)
    distinct_queries = sum(1 for _ in open(os.path.join(out, "queries.txt"), encoding="utf-8"))

    runs = [row for row in read_tsv(os.path.join(out, "runs.tsv"))]
    table = []
    disagreements = []
    for name, results_file, time_file, domains, udp_file, note in runs:
        got = {}
        if os.path.exists(results_file):
            for row in read_tsv(results_file):
                if len(row) >= 3:
                    got[(row[0].lower().rstrip("."), row[1])] = row[2].lower()
        domains = int(domains)
        wall, rss, cpu = parse_time(time_file)
        evals = domains * len(IPS)
        keys = [key for key in expected if int(key[0][1:7]) < domains] if domains < n_domains else list(expected)
        agree = 0
        for key in keys:
            result = got.get(key, "(missing)")
            if result == expected[key]:
                agree += 1
            else:
                disagreements.append((name, key[0], category[key[0]], key[1], result, expected[key]))
        queries = "-"
        if udp_file != "-" and os.path.exists(udp_file):
            sent, _ = (int(x) for x in open(udp_file, encoding="utf-8").read().split())
            queries = str(sent // 2)
        note = note + runs_note(time_file)
        table.append({
            "name": name, "domains": domains, "evals": evals, "wall": wall, "rss": rss, "cpu": cpu,
            "rate": evals / wall if wall else None, "agree": agree, "rows": len(keys), "queries": queries,
            "note": note,
        })

    dnsperf_text = read_optional(os.path.join(out, "dnsperf.txt")) or ""
    match = re.search(r"Queries per second:\s+([0-9.]+)", dnsperf_text)
    dnsperf_qps = float(match.group(1)) if match else None
    match = re.search(r"Queries completed:\s+([0-9]+)", dnsperf_text)
    dnsperf_done = int(match.group(1)) if match else None
    machine = open(os.path.join(out, "machine.txt"), encoding="utf-8").read().strip()
    ncpu = os.cpu_count() or 1
    ceiling = n_domains * 5 / (distinct_queries / dnsperf_qps) if dnsperf_qps else None

    with open(os.path.join(out, "disagreements.tsv"), "w", encoding="utf-8") as handle:
        handle.write("tool\tdomain\tcategory\tip\ttool_result\trfc_result\n")
        for row in disagreements:
            handle.write("\t".join(row) + "\n")

    by_name = {t["name"]: t for t in table}
    full = by_name.get("sendcheck")
    spf_only = by_name.get("sendcheck --only spf")
    job = spf_only or full  # the peers' job: SPF alone when sendcheck can do that
    libspf2 = by_name.get("spfquery (libspf2)")

    # knotd's CPU per query while dnsperf drove it (one UDP worker: at most one CPU).
    knot_cpu_us = None
    knot_cpu_text = read_optional(os.path.join(out, "knot-cpu.txt"))
    if knot_cpu_text and dnsperf_done:
        before, after, hz = (int(x) for x in knot_cpu_text.split())
        if after > before:
            knot_cpu_us = (after - before) / hz / dnsperf_done * 1e6
    _, _, dnsperf_cpu = parse_time(os.path.join(out, "dnsperf.time"))

    # Latency.
    latency_facts = json.loads(read_optional(os.path.join(out, "latency.json")) or "null")
    latency_rows = read_tsv_dicts(os.path.join(out, "latency", "latency.tsv"))
    latency_waves = read_optional(os.path.join(out, "latency", "waves.txt")) or ""
    delays = sorted({float(r["delay_ms"]) for r in latency_rows}, reverse=True)
    delay = delays[0] if delays and delays[0] > 0 else None
    depth = latency_facts["include_depth"] if latency_facts else None
    latency_limit = (depth + 1) * delay * (1 + LATENCY_SLACK) if delay and depth is not None else None

    def latency_of(variant, at):
        for row in latency_rows:
            if row["variant"] == variant and float(row["delay_ms"]) == at:
                return row
        return None

    # Memory.
    memory_wall, memory_rss, memory_cpu = parse_time(os.path.join(out, "memory.time"))
    memory_n = int((read_optional(os.path.join(out, "memory.n")) or "0").strip() or 0)
    memory_tail = read_optional(os.path.join(out, "memory.tail")) or ""
    match = re.search(r'"summary":\s*\{"domains":\s*([0-9]+)', memory_tail)
    memory_reported = int(match.group(1)) if match else None

    # Start-up.
    startup = {row["command"].split(" ")[1] if row["command"].startswith("sendcheck") else "true": row
               for row in read_tsv_dicts(os.path.join(out, "startup.tsv"))}

    # --- Targets -----------------------------------------------------------------------------------------------
    targets = []  # (target, required, measured, ratio, holds: True/False, or None, or a note for a row without one)

    def queries_of(t):
        return int(t["queries"]) if t and t["queries"] != "-" else None

    # The ratio to libspf2 two ways, each with its verdict: from the blocks of runs in the Throughput table, and from
    # runs taken in turns against one server (bench/interleave.py), when this run has them. Each has its own bias on
    # this machine (see bench/README.md), so neither alone decides.
    if job and libspf2 and job["rate"] and libspf2["rate"]:
        need = THROUGHPUT_FACTOR * libspf2["rate"]
        targets.append((f"Throughput at N = {n_domains}: ≥ {THROUGHPUT_FACTOR:g}× libspf2's evals/s ({job['name']}; "
                        f"the medians of the Throughput table's blocks of runs)",
                        f"≥ {need:,.0f} evals/s ({THROUGHPUT_FACTOR:g} × {libspf2['rate']:,.0f})",
                        f"{job['rate']:,.0f} evals/s", f"{job['rate'] / libspf2['rate']:.2f}× libspf2",
                        job["rate"] >= need))
    paired_job, paired_libspf2 = None, None
    if job is spf_only and libspf2:
        paired_job = paired_rate(os.path.join(out, "sendcheck-spf-paired.time"), job["evals"])
        paired_libspf2 = paired_rate(os.path.join(out, "spfquery-paired.time"), libspf2["evals"])
    if paired_job and paired_libspf2:
        need = THROUGHPUT_FACTOR * paired_libspf2
        runs = len((read_optional(os.path.join(out, "sendcheck-spf-paired.time.runs")) or "").split())
        targets.append((f"… the same with the two taken in turns ({runs} timed runs each, each after an untimed one, "
                        f"against one server: medians)",
                        f"≥ {need:,.0f} evals/s ({THROUGHPUT_FACTOR:g} × {paired_libspf2:,.0f})",
                        f"{paired_job:,.0f} evals/s", f"{paired_job / paired_libspf2:.2f}× libspf2",
                        paired_job >= need))
    if job and libspf2 and job["rate"] and libspf2["rate"]:
        need = THROUGHPUT_FACTOR * libspf2["rate"]
        if full and full is not job and full["rate"]:
            targets.append(("… the same with the full check (SPF + DKIM + DMARC, more work than the peers do)",
                            f"≥ {need:,.0f} evals/s", f"{full['rate']:,.0f} evals/s",
                            f"{full['rate'] / libspf2['rate']:.2f}× libspf2", full["rate"] >= need))
    for t in (job, full if full is not job else None):
        if t:
            targets.append((f"Results identical to RFC 7208 on every row ({t['name']})", f"{t['rows']} rows",
                            f"{t['agree']} rows", f"{t['agree'] / t['rows']:.2%}" if t["rows"] else "-",
                            t["agree"] == t["rows"] and t["rows"] > 0))
    sent = queries_of(job)
    if sent is not None:
        limit = distinct_queries * (1 + QUERY_SLACK)
        targets.append((f"Queries sent within {QUERY_SLACK:.0%} of the distinct queries the job needs ({job['name']})",
                        f"≤ {limit:,.0f} ({distinct_queries:,} + {QUERY_SLACK:.0%})", f"{sent:,} UDP queries",
                        f"{sent / distinct_queries:.3f}× needed", sent <= limit))
    if job and ceiling and job["rate"]:
        targets.append((f"Throughput ≥ {CEILING_SHARE:.0%} of the server's ceiling ({job['name']})",
                        f"≥ {CEILING_SHARE * ceiling:,.0f} evals/s ({CEILING_SHARE:.0%} of {ceiling:,.0f})",
                        f"{job['rate']:,.0f} evals/s", f"{job['rate'] / ceiling:.1%} of the ceiling",
                        job["rate"] >= CEILING_SHARE * ceiling))
    if latency_limit:
        for variant in ("sendcheck (full check)", "sendcheck --only spf"):
            row = latency_of(variant, delay)
            if row:
                ms = float(row["median_ms"])
                targets.append((f"Latency, {latency_facts['domain']} ({depth}-level include tree, "
                                f"{latency_facts['dns_lookups']} lookups) under {delay:g} ms per answer: {variant}",
                                f"≤ {latency_limit:.0f} ms (({depth} + 1) × {delay:g} ms + {LATENCY_SLACK:.0%})",
                                f"{ms:.1f} ms (median of {row['runs']}; {ms / delay:.1f} round trips)",
                                f"{ms / latency_limit:.2f}× the limit", ms <= latency_limit))
    if memory_rss:
        mib = memory_rss / 1024
        complete = memory_reported == memory_n
        targets.append((f"Peak RSS, `sendcheck --json -f` over N = {memory_n:,} domains",
                        f"< {MEMORY_LIMIT_MIB:g} MiB at N = {MEMORY_TARGET_N:,}",
                        f"{mib:.1f} MiB (wall {memory_wall:.1f} s; "
                        f"{memory_reported if memory_reported is not None else '?'} domains reported)",
                        f"{mib / MEMORY_LIMIT_MIB:.2f}× the limit",
                        mib < MEMORY_LIMIT_MIB and complete if memory_n >= MEMORY_TARGET_N else None))
    for key, label, limit in (("--version", "`sendcheck --version`", STARTUP_VERSION_MS),
                              ("--offline", "one `--offline --zone` check", STARTUP_CHECK_MS)):
        row = startup.get(key)
        if row:
            net = float(row["net_median_ms"])
            best = float(row["min_ms"]) - float(startup["true"]["min_ms"]) if "true" in startup else None
            targets.append((f"Start-up: {label} (wall time minus /bin/true's)", f"< {limit:g} ms",
                            f"{net:.2f} ms (median of {row['runs']}; best run {best:.2f} ms; CPU "
                            f"{float(row['cpu_median_ms']):.2f} ms)",
                            f"{net / limit:.2f}× the limit", net < limit))

    lines = [f"# SPF benchmark: sendcheck side by side with pyspf, Mail::SPF and libspf2", "",
             "Generated by `bench/run.sh` -- do not edit by hand.", "", "```", machine, "```", "",
             "## Targets (issue 8)", "",
             "Every figure below is computed by `bench/compare.py` from this run's measurements.", "",
             "| target | required | measured | ratio | verdict |", "|---|---|---|---|---|"]
    for target, required, measured, ratio, holds in targets:
        lines.append(f"| {target} | {required} | {measured} | {ratio} | "
                     f"{verdict(holds) if isinstance(holds, bool) else holds or 'not measured at the target N'} |")
    if not targets:
        lines.append("| (no measurements) | | | | |")
    match = re.search(r"^load:\s+([0-9.]+)", machine, re.MULTILINE)
    if match and float(match.group(1)) > ncpu:
        lines += ["", f"The load average was {match.group(1)} on {ncpu} CPUs when this run started (other work on the "
                  "shared machine): every wall-time figure above (throughput, latency, start-up) includes time spent "
                  "waiting for a CPU. The CPU figures (start-up CPU ms here, CPU µs/eval below) do not."]
    lines += ["", "## Throughput", "",
              f"Job: for each of {n_domains} synthetic domains (`bench/gen_zone.py {n_domains}`), the SPF result for "
              f"each of the five Directo IPs ({', '.join(IPS)}), sender `postmaster@<domain>`; one knotd on loopback "
              "serves the zone to every tool. `evals` = domains x 5; evals/s = evals / wall seconds (process start to "
              "exit). sendcheck and spfquery run several times one after the other (`BENCH_RUNS`, `bench/repeat.py`: "
              "wall time from a monotonic clock, CPU and peak RSS from wait4) and the run with the median wall time "
              "is reported; pyspf and Mail::SPF run once (`/usr/bin/time -v`).", "",
              "| tool | domains | evals | wall s | evals/s | CPU s (user+sys) | CPU µs/eval | peak RSS MiB | rows = RFC "
              "| UDP queries sent | note |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for t in table:
        wall = f"{t['wall']:.3f}" if t["wall"] else "-"
        rate = f"{t['rate']:,.0f}" if t["rate"] else "-"
        rss = f"{t['rss'] / 1024:.1f}" if t["rss"] else "-"
        cpu = f"{t['cpu']:.2f} | {t['cpu'] / t['evals'] * 1e6:.0f}" if t["cpu"] else "- | -"
        lines.append(f"| {t['name']} | {t['domains']} | {t['evals']} | {wall} | {rate} | {cpu} | {rss} | "
                     f"{t['agree']}/{t['rows']} | {t['queries']} | {t['note']} |")
    lines += ["", "The machine is shared: when the load average above is over the CPU count, every tool gets only part "
              "of a CPU and wall times (so evals/s) are inflated by waiting for the CPU; the CPU seconds column is the "
              "work itself and does not depend on the load.", "", "## The ceiling", "",
              f"- Distinct (name, type) queries the job needs (an RFC 7208 evaluator with one cache for the run, all "
              f"five IPs; derived from the zone by the oracle in `gen_zone.py`, list in `queries.txt`): "
              f"**{distinct_queries}** for {n_domains * 5} evals."]
    if dnsperf_qps:
        lines += [f"- knotd answers these queries at **{dnsperf_qps:,.0f} queries/s** (`dnsperf`, same server, "
                  "same machine), so the job cannot finish faster than "
                  f"{distinct_queries / dnsperf_qps:.3f} s: a ceiling of **{ceiling:,.0f} evals/s** for any checker "
                  "that asks each query once."]
        for t in table:
            if t["rate"]:
                lines.append(f"  - {t['name']}: {t['rate'] / ceiling:.1%} of the ceiling")
    if knot_cpu_us:
        lines += [f"- knotd's own CPU time during the dnsperf run (`/proc/PID/stat` utime + stime before and after, "
                  f"{dnsperf_done:,} queries answered): **{knot_cpu_us:.1f} µs per query** "
                  f"(knotd runs one UDP worker, so it can use at most one CPU: at most {1e6 / knot_cpu_us:,.0f} "
                  f"queries/s); dnsperf itself used {dnsperf_cpu:.2f} s of CPU "
                  f"({dnsperf_cpu / dnsperf_done * 1e6:.1f} µs per query). The {dnsperf_qps:,.0f} queries/s measured "
                  f"are {dnsperf_qps * knot_cpu_us / 1e6:.0%} of what knotd's CPU time per query allows."]
        for t in (job, full if full is not job else None):
            if not t or not t["cpu"]:
                continue
            # Best case on this machine: knotd (one CPU at most) and sendcheck's workers (one thread per CPU) share
            # the CPUs, with nothing else running.
            asked = queries_of(t) or distinct_queries
            knot_s = asked * knot_cpu_us / 1e6
            best = max(knot_s, (knot_s + t["cpu"]) / ncpu)
            lines.append(f"  - {t['name']}: its {asked:,} queries cost knotd {knot_s:.2f} s of CPU and sendcheck "
                         f"used {t['cpu']:.2f} s ({t['cpu'] / t['evals'] * 1e6:.1f} µs per eval, all threads, "
                         f"user + system); on {ncpu} CPUs shared by the two, the run cannot take less than "
                         f"{best:.2f} s, i.e. at most {t['evals'] / best:,.0f} evals/s with today's CPU per eval; "
                         f"measured {t['rate']:,.0f}.")
        knot_us = distinct_queries * knot_cpu_us / (n_domains * 5)
        if ceiling:
            wall_us = 1e6 / (CEILING_SHARE * ceiling)
            budget = ncpu * wall_us - knot_us
            lines.append(f"  - The ceiling target ({CEILING_SHARE:.0%} of {ceiling:,.0f} = "
                         f"{CEILING_SHARE * ceiling:,.0f} evals/s) leaves {wall_us:.2f} µs of wall time per eval, "
                         f"{ncpu * wall_us:.2f} µs of CPU on {ncpu} CPUs; knotd needs {knot_us:.2f} µs of CPU per "
                         f"eval for the distinct queries, so the checker would have to stay under {budget:.2f} µs "
                         f"of CPU per eval (sendcheck today: {job['cpu'] / job['evals'] * 1e6:.1f} µs).")
        if libspf2 and libspf2["rate"] and libspf2["cpu"]:
            need = THROUGHPUT_FACTOR * libspf2["rate"]
            budget = ncpu * 1e6 / need - knot_us
            lines.append(f"  - The throughput target ({THROUGHPUT_FACTOR:g} × libspf2 = {need:,.0f} evals/s) leaves "
                         f"{ncpu * 1e6 / need:.2f} µs of CPU per eval on {ncpu} CPUs for knotd and the checker "
                         f"together; after knotd's {knot_us:.2f} µs the checker would have "
                         f"{budget:.2f} µs per eval, including the kernel's work to send each query and receive "
                         f"its answer (sendcheck today: {job['cpu'] / job['evals'] * 1e6:.1f} µs; libspf2 itself "
                         f"uses {libspf2['cpu'] / libspf2['evals'] * 1e6:.1f} µs).")
    lines += ["", "UDP queries sent are counted in a private network namespace (the per-namespace `/proc/net/snmp` "
              "UDP OutDatagrams delta, halved because knotd's answers are counted too), in a separate run against a "
              "second knotd on 127.0.0.1:53. The full sendcheck check also does its DKIM and DMARC work for every "
              "domain (TXT at `directo._domainkey.<domain>`, `_dmarc.<domain>`, the organizational domain's "
              "`_dmarc`, the reference key), so its query count and time include work the peers do not do; "
              "`sendcheck --only spf` does the peers' job alone.", ""]

    if latency_rows and latency_facts:
        f = latency_facts
        lines += ["## Latency", "",
                  f"One check of `{f['domain']}` (`{f['record']}`: an include tree {f['include_depth']} levels deep "
                  f"with {f['dns_lookups']} DNS lookups; in the zone but not in the throughput list) through "
                  "`bench/delay_forwarder.py`, which answers every query a fixed delay after it arrives. The check "
                  f"needs {f['queries']} queries; one after another that is {f['queries']} round trips, and "
                  f"{f['critical_path']} of them depend on each other ({f['critical_path_prefetched']} when "
                  "`directo.gate.ee A`, a name known before any record is read, is asked up front): the least any "
                  "checker can wait. sendcheck: the whole process, start to exit. pyspf: the `check2()` calls inside "
                  "one Python process (interpreter start-up not counted). Median of the runs; round trips = median / "
                  "delay; queries and waves as the forwarder saw them (a wave: queries sent together).", "",
                  "| check | how timed | delay ms | runs | median ms | min–max ms | round trips | queries | waves |",
                  "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
        for row in latency_rows:
            d = float(row["delay_ms"])
            trips = f"{float(row['median_ms']) / d:.1f}" if d > 0 else "-"
            lines.append(f"| {row['variant']} | {row['how']} | {row['delay_ms']} | {row['runs']} | "
                         f"{float(row['median_ms']):.1f} | {row['min_ms']}–{row['max_ms']} | {trips} | "
                         f"{row['queries']} | {row['waves']} |")
        if latency_limit:
            lines += ["", f"Target: ({depth} + 1) × {delay:g} ms + {LATENCY_SLACK:.0%} = {latency_limit:.0f} ms. "
                      "The delay-0 rows are the fixed cost (process start-up, the forwarder's own work per query)."]
        if latency_waves.strip():
            lines += ["", "Queries per wave in the run closest to the median (each new wave is a round trip the "
                      "checker waited for):", "", "```", latency_waves.rstrip(), "```"]
        lines.append("")

    if memory_rss or startup:
        lines += ["## Memory and start-up", ""]
        if memory_rss:
            lines += [f"- `sendcheck --json -f` over {memory_n:,} generated domains against knotd "
                      f"(`bench/out/memory-{memory_n}`; the JSON read through a pipe): peak RSS "
                      f"**{memory_rss / 1024:.1f} MiB**, wall {memory_wall:.1f} s, CPU {memory_cpu:.1f} s; the "
                      f"summary reports {memory_reported if memory_reported is not None else 'no'} domains."]
        if startup:
            lines += ["- Start-up (`bench/startup.py`: each command run many times, interleaved, spawned with "
                      "posix_spawn; net = median wall minus /bin/true's median; CPU = user + system from wait4):", "",
                      "| command | runs | median ms | min ms | net ms | CPU ms |", "|---|---:|---:|---:|---:|---:|"]
            for row in read_tsv_dicts(os.path.join(out, "startup.tsv")):
                lines.append(f"| `{row['command']}` | {row['runs']} | {float(row['median_ms']):.2f} | "
                             f"{float(row['min_ms']):.2f} | {float(row['net_median_ms']):.2f} | "
                             f"{float(row['cpu_median_ms']):.2f} |")
        lines.append("")

    lines += ["## Disagreements with RFC 7208", ""]
    if not disagreements:
        lines.append("None: every tool agrees with the oracle on every row.")
    else:
        groups = collections.OrderedDict()
        for tool, domain, cat, ip, result, rfc in disagreements:
            groups.setdefault((tool, cat, result, rfc), []).append((domain, ip))
        lines += ["Every disagreeing (domain, IP) row is in `disagreements.tsv`; grouped here by tool, category and "
                  "results. The RFC column is the oracle's result; the last column says why RFC 7208 supports it.", "",
                  "| tool | category | rows | tool says | RFC 7208 | example (record) | why |",
                  "|---|---|---:|---|---|---|---|"]
        for (tool, cat, result, rfc), rows in groups.items():
            domain, ip = rows[0]
            record = records.get(domain, "").replace("|", "\\|")
            lines.append(f"| {tool} | {cat} | {len(rows)} | {result} | {rfc} | {domain} {ip}: `{record}` | "
                         f"{RFC_NOTES.get(cat, '')} |")
    lines.append("")
    with open(results_md, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines))
    start = next(i for i, line in enumerate(lines) if line.startswith("| target |"))
    print("\n".join(lines[start:start + 2 + max(1, len(targets))]))
    start = next(i for i, line in enumerate(lines) if line.startswith("| tool |"))
    print("\n".join(lines[start:start + 2 + len(table)]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
