#!/usr/bin/python3
"""Compares the tools' SPF results per (domain, IP) with the RFC 7208 oracle and writes bench/RESULTS.md.

Usage: compare.py OUTDIR RESULTS_MD
OUTDIR (written by bench/run.sh) holds expected.tsv, queries.txt, records.tsv, runs.tsv (one line per tool:
name, results TSV, `time -v` file, domains evaluated, UDP datagram file or "-", note), dnsperf.txt and machine.txt.
Writes RESULTS_MD and OUTDIR/disagreements.tsv (every disagreeing row), prints the side-by-side table.
"""
import collections
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
        table.append({
            "name": name, "domains": domains, "evals": evals, "wall": wall, "rss": rss, "cpu": cpu,
            "rate": evals / wall if wall else None, "agree": agree, "rows": len(keys), "queries": queries,
            "note": note,
        })

    dnsperf_qps = None
    dnsperf_path = os.path.join(out, "dnsperf.txt")
    if os.path.exists(dnsperf_path):
        match = re.search(r"Queries per second:\s+([0-9.]+)", open(dnsperf_path, encoding="utf-8").read())
        dnsperf_qps = float(match.group(1)) if match else None
    machine = open(os.path.join(out, "machine.txt"), encoding="utf-8").read().strip()

    with open(os.path.join(out, "disagreements.tsv"), "w", encoding="utf-8") as handle:
        handle.write("tool\tdomain\tcategory\tip\ttool_result\trfc_result\n")
        for row in disagreements:
            handle.write("\t".join(row) + "\n")

    lines = [f"# SPF benchmark: sendcheck side by side with pyspf, Mail::SPF and libspf2", "",
             "Generated by `bench/run.sh` -- do not edit by hand.", "", "```", machine, "```", "",
             f"Job: for each of {n_domains} synthetic domains (`bench/gen_zone.py {n_domains}`), the SPF result for "
             f"each of the five Directo IPs ({', '.join(IPS)}), sender `postmaster@<domain>`; one knotd on loopback "
             "serves the zone to every tool. `evals` = domains x 5; evals/s = evals / wall seconds (process start to "
             "exit, from `/usr/bin/time -v`, like peak RSS).", "",
             "| tool | domains | evals | wall s | evals/s | CPU s (user+sys) | CPU µs/eval | peak RSS MiB | rows = RFC "
             "| UDP queries sent | note |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for t in table:
        wall = f"{t['wall']:.2f}" if t["wall"] else "-"
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
        ceiling = n_domains * 5 / (distinct_queries / dnsperf_qps)
        lines += [f"- knotd answers these queries at **{dnsperf_qps:,.0f} queries/s** (`dnsperf`, same server, "
                  "same machine), so the job cannot finish faster than "
                  f"{distinct_queries / dnsperf_qps:.3f} s: a ceiling of **{ceiling:,.0f} evals/s** for any checker "
                  "that asks each query once."]
        for t in table:
            if t["rate"]:
                lines.append(f"  - {t['name']}: {t['rate'] / ceiling:.1%} of the ceiling")
    lines += ["", "UDP queries sent are counted in a private network namespace (the per-namespace `/proc/net/snmp` "
              "UDP OutDatagrams delta, halved because knotd's answers are counted too), in a separate run against a "
              "second knotd on 127.0.0.1:53. sendcheck also does its DKIM and DMARC work for every domain (TXT at "
              "`directo._domainkey.<domain>`, `_dmarc.<domain>`, the organizational domain's `_dmarc`, the reference "
              "key), so its query count and time include work the peers do not do.", ""]

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
    start = next(i for i, line in enumerate(lines) if line.startswith("| tool |"))
    print("\n".join(lines[start:start + 2 + len(table)]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
