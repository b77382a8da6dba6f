#!/usr/bin/python3
"""pyspf (Debian python3-spf) on the benchmark job: for every domain, spf.check2() for each Directo IP.

Usage: pyspf_peer.py PORT DOMAINS_FILE OUT_TSV [QUERIES_OUT]
dnspython's default resolver is pointed at 127.0.0.1:PORT (pyspf calls dns.resolver.query). Writes one line
"domain<TAB>ip<TAB>result" per evaluation; with QUERIES_OUT, also the distinct (name, type) pyspf asked for.
"""
import sys

import dns.resolver
import spf

IPS = ["90.190.150.210", "90.190.150.211", "90.190.150.212", "90.190.150.213", "90.190.150.82"]


def main(argv):
    port, domains_file, out_file = int(argv[0]), argv[1], argv[2]
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = ["127.0.0.1"]
    resolver.port = port
    resolver.timeout = resolver.lifetime = 5.0
    dns.resolver.default_resolver = resolver
    asked = set()
    if len(argv) > 3:
        original = spf.DNSLookup

        def recording_lookup(name, qtype, *args, **kwargs):
            asked.add((name.rstrip(".").lower(), qtype))
            return original(name, qtype, *args, **kwargs)

        spf.DNSLookup = recording_lookup
    with open(domains_file, encoding="ascii") as handle:
        domains = [line.strip() for line in handle if line.strip()]
    with open(out_file, "w", encoding="ascii") as out:
        for domain in domains:
            for ip in IPS:
                result, _ = spf.check2(i=ip, s=f"postmaster@{domain}", h=domain)
                out.write(f"{domain}\t{ip}\t{result}\n")
    if len(argv) > 3:
        with open(argv[3], "w", encoding="ascii") as handle:
            handle.writelines(f"{name}. {qtype}\n" for name, qtype in sorted(asked))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
