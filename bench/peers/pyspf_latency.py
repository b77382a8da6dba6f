#!/usr/bin/python3
"""pyspf (Debian python3-spf) for the latency step: times spf.check2() on one domain, on request.

Usage: pyspf_latency.py PORT DOMAIN
dnspython's default resolver is pointed at 127.0.0.1:PORT (no cache; pyspf keeps a cache per check2() call only, so
every call asks the server again). Reads lines "IP[,IP...]" from standard input; for each line it runs check2() for
those addresses one after another (sender postmaster@DOMAIN) and prints "MILLISECONDS RESULT[,RESULT...]", the time of
the calls alone: the interpreter's start-up and imports are not counted. Ends at end of input.
"""
import sys
import time

import dns.resolver
import spf


def main(argv):
    port, domain = int(argv[0]), argv[1]
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = ["127.0.0.1"]
    resolver.port = port
    resolver.timeout = resolver.lifetime = 5.0
    dns.resolver.default_resolver = resolver
    for line in sys.stdin:
        ips = [ip for ip in line.strip().split(",") if ip]
        if not ips:
            continue
        start = time.perf_counter()
        results = [spf.check2(i=ip, s=f"postmaster@{domain}", h=domain)[0] for ip in ips]
        elapsed = (time.perf_counter() - start) * 1000
        print(f"{elapsed:.3f} {','.join(results)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
