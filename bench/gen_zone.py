#!/usr/bin/python3
"""Deterministic synthetic SPF zone for the side-by-side benchmark.

Usage: gen_zone.py N [--out DIR] [--seed S]

Writes into DIR (default: bench/out/N):
  bench.test.zone   the parent zone `bench.test.`: N customer domains cNNNNNN.bench.test and the shared provider records
  gate.ee.zone      `gate.ee.`: directo.gate.ee A 90.190.150.212, as the vendor documents it
  directo.ee.zone   `directo.ee.`: SOA/NS only, so that lookups a checker makes there are answered, not refused
  test.zone         `test.`: SOA/NS only (the DMARC tree walk of RFC 7489bis reaches `_dmarc.test`)
  zones.txt         the zones above, one "FILE:ORIGIN" a line (what bench/run.sh gives knotd)
  domains.txt       the N customer domains, one a line
  expected.tsv      domain, category, and the RFC 7208 result for each of the five Directo IPs (the oracle below)
  records.tsv       domain and its TXT records as published (for the disagreement list)
  queries.txt       the distinct (name, type) queries the job needs (dnsperf input format: "NAME TYPE")
  latency.json      the latency domain (in the zone, NOT in domains.txt): its include depth, DNS lookups, the queries a
                    check of it needs and how many of them depend on each other (the critical path), expected results

The mix is realistic: the vendor's minimal record, big-provider include chains (an include that includes four netblock
records full of ip4/ip6), an O365-like include, redirect=, mx with 2-3 hosts, a, ip4 lists with CIDR, ~all/?all,
permerror cases (two records, syntax errors, include of a name without SPF, over 10 lookups, over 10 MX hosts), void
lookups, domains without SPF, and records split into several 255-octet strings. Provider records are shared by many
domains. The first domains cycle through every category once, so even a small N covers the whole mix.

The oracle is a small, literal RFC 7208 check_host() over the generated data (no DNS): it gives the expected result per
(domain, IP) and the set of queries an evaluator needs when it caches answers for the whole run.
"""

import argparse
import ipaddress
import json
import os
import random
import re
import sys

ORIGIN = "bench.test"
DIRECTO_IPS = ["90.190.150.210", "90.190.150.211", "90.190.150.212", "90.190.150.213", "90.190.150.82"]
DIRECTO_HOST = "directo.gate.ee"
DIRECTO_HOST_IP = "90.190.150.212"
TTL = 3600
# The single-domain latency check (bench/latency.py): a four-level include tree with 8 DNS lookups.
LATENCY_DOMAIN = f"latency.{ORIGIN}"
# Zones knotd serves: the customers' parent, Directo's host, Directo's own domain (DKIM reference key lookups) and the
# customers' TLD, so that a DMARC tree walk up to `_dmarc.test` gets NXDOMAIN, as on the Internet, not REFUSED.
ZONES = (ORIGIN, "gate.ee", "directo.ee", "test")


class Zone:
    """Records by (name, type); names are absolute, lower case, without the trailing dot."""

    def __init__(self):
        self.records = {}

    def add(self, name, rtype, value):
        self.records.setdefault((name.lower(), rtype), []).append(value)

    def txt(self, name, text, split=False):
        """A TXT record: one string when it fits, else (or when `split`) strings of at most 255 octets."""
        if split or len(text) > 255:
            size = 255 if len(text) > 255 else max(1, len(text) // 2)
            strings = [text[i:i + size] for i in range(0, len(text), size)]
        else:
            strings = [text]
        self.add(name, "TXT", strings)

    def exists(self, name):
        name = name.lower()
        return any(key[0] == name or key[0].endswith("." + name) for key in self.records)


# ---------------------------------------------------------------------------------------------------------------------
# Generation


def random_v4_blocks(rng, count, first_octets):
    blocks = []
    for _ in range(count):
        first = rng.choice(first_octets)
        prefix = rng.choice([16, 18, 19, 20, 21, 22, 23, 24, 24, 24, 25, 26, 27, 28, 32])
        address = ipaddress.IPv4Address((first << 24) | rng.getrandbits(24))
        blocks.append(str(ipaddress.IPv4Network(f"{address}/{prefix}", strict=False)))
    return blocks


def random_v6_blocks(rng, count):
    blocks = []
    for _ in range(count):
        address = ipaddress.IPv6Address((0x2001_0db8 << 96) | rng.getrandbits(96))
        prefix = rng.choice([32, 36, 40, 44, 48, 56, 64])
        blocks.append(str(ipaddress.IPv6Network(f"{address}/{prefix}", strict=False)))
    return blocks


def add_providers(zone, rng):
    """Shared provider records; returns the names customers refer to."""
    p = {}
    # Big provider: an include that includes four netblock records full of ip4/ip6 (Google-like).
    netblocks = [f"_netblocks{'' if i == 1 else i}.gprov.{ORIGIN}" for i in range(1, 5)]
    for i, name in enumerate(netblocks):
        v4 = random_v4_blocks(rng, 14, [35, 64, 66, 72, 74, 108, 172, 173, 209, 216])
        v6 = random_v6_blocks(rng, 6) if i % 2 == 0 else []
        terms = [f"ip4:{b}" for b in v4] + [f"ip6:{b}" for b in v6]
        zone.txt(name, "v=spf1 " + " ".join(terms) + " ~all")
    p["gprov"] = f"_spf.gprov.{ORIGIN}"
    zone.txt(p["gprov"], "v=spf1 " + " ".join(f"include:{n}" for n in netblocks) + " ~all")
    for i, host in enumerate(["aspmx", "alt1.aspmx", "alt2.aspmx"]):
        zone.add(f"{host}.gprov.{ORIGIN}", "A", f"142.250.{150 + i}.27")
    # O365-like: ip4/ip6 lists and one nested include.
    p["o365"] = f"spf.protection.o365.{ORIGIN}"
    zone.txt(f"spfd.protection.o365.{ORIGIN}", "v=spf1 ip4:51.4.72.0/24 ip4:51.5.72.0/24 ip4:51.5.80.0/27 "
             "ip4:20.47.149.138/32 ip6:2a01:4180:4051:0800::/64 ip6:2a01:4180:4050:0400::/64 -all")
    zone.txt(p["o365"], "v=spf1 ip4:40.92.0.0/15 ip4:40.107.0.0/16 ip4:52.100.0.0/14 ip4:104.47.0.0/17 "
             "ip6:2a01:111:f400::/48 ip6:2a01:111:f403::/49 include:spfd.protection.o365." + ORIGIN + " -all")
    # Mailing services (Mailchimp/SendGrid-like): ip4 lists, a few with a second level.
    p["esp"] = []
    for k in range(40):
        name = f"_spf.esp{k}.{ORIGIN}"
        terms = [f"ip4:{b}" for b in random_v4_blocks(rng, rng.randint(3, 9), [148, 149, 167, 198, 205])]
        if k % 5 == 0:
            inner = f"_spf2.esp{k}.{ORIGIN}"
            zone.txt(inner, "v=spf1 " + " ".join(f"ip4:{b}" for b in random_v4_blocks(rng, 4, [50, 54])) + " ~all")
            terms.append(f"include:{inner}")
        zone.txt(name, "v=spf1 " + " ".join(terms) + " ~all")
        p["esp"].append(name)
    # Hosting companies (redirect targets): some cover Directo's ordinary addresses, some do not.
    p["hostco"] = []
    for k in range(10):
        name = f"_spf.hostco{k}.{ORIGIN}"
        net = f"203.0.{113 if k < 5 else 114}.{(k % 5) * 32}/27"
        if k % 2 == 0:
            text = f"v=spf1 ip4:{net} ip4:90.190.150.210/31 ip4:90.190.150.212/31 ~all"
        else:
            zone.add(f"mail.hostco{k}.{ORIGIN}", "A", f"203.0.114.{200 + k}")
            text = f"v=spf1 ip4:{net} a:mail.hostco{k}.{ORIGIN} ?all"
        zone.txt(name, text)
        p["hostco"].append(name)
    # Shared mail hosts and relays.
    for k in range(20):
        zone.add(f"mx{k}.mailhost.{ORIGIN}", "A", f"198.51.100.{k + 10}")
    zone.add(f"relay.directo-friendly.{ORIGIN}", "A", "90.190.150.210")
    zone.add(f"relay.directo-friendly.{ORIGIN}", "A", "90.190.150.211")
    # A name without SPF (include of it is a permerror), and an exists: allow-list.
    p["nospf"] = f"nospf.{ORIGIN}"
    zone.txt(p["nospf"], "google-site-verification=4uG1xXbB0gGxQ4oFj7nA2")
    zone.add(p["nospf"], "A", "198.51.100.200")
    p["allow"] = f"_allow.{ORIGIN}"
    for ip in ("90.190.150.210", "90.190.150.213"):
        zone.add(f"{ip}.{p['allow']}", "A", "127.0.0.2")
    zone.txt(f"explain.{ORIGIN}", "%{i} is not allowed to send for %{d}")
    # A four-level include tree with 8 lookups that ends in Directo's host.
    deep = [f"l{i}.deep.{ORIGIN}" for i in range(1, 5)]
    for i in range(1, 4):
        zone.add(f"h{i}.deep.{ORIGIN}", "A", f"198.51.100.{240 + i}")
    zone.add(f"h2.deep.{ORIGIN}", "MX", (10, f"h2.deep.{ORIGIN}"))
    zone.txt(deep[0], f"v=spf1 a:h1.deep.{ORIGIN} include:{deep[1]} -all")
    zone.txt(deep[1], f"v=spf1 mx:h2.deep.{ORIGIN} include:{deep[2]} -all")
    zone.txt(deep[2], f"v=spf1 a:h3.deep.{ORIGIN} include:{deep[3]} -all")
    zone.txt(deep[3], f"v=spf1 a:{DIRECTO_HOST} -all")
    p["deep"] = deep[0]
    return p


def own_mx(zone, rng, domain, count=None):
    """2-3 MX hosts: the domain's own, a big provider's, or a shared mail host."""
    count = count or rng.randint(2, 3)
    kind = rng.random()
    for i in range(count):
        if kind < 0.45:
            host = f"mx{i + 1}.{domain}"
            zone.add(host, "A", f"198.51.{rng.randint(101, 120)}.{rng.randint(1, 254)}")
        elif kind < 0.75:
            host = ["aspmx", "alt1.aspmx", "alt2.aspmx"][i] + f".gprov.{ORIGIN}"
        else:
            host = f"mx{rng.randrange(20)}.mailhost.{ORIGIN}"
        zone.add(domain, "MX", (10 * (i + 1), host))


SYNTAX_ERRORS = [
    "v=spf1 ip4:90.190.150.300 a:directo.gate.ee -all",                   # not an IPv4 address
    "v=spf1 a:directo.gate.ee -al",                                        # unknown mechanism "al"
    "v=spf1 ip4:90.190.150.210/33 -all",                                   # prefix length over 32
    "v=spf1 mx: a:directo.gate.ee -all",                                   # empty domain-spec
    "v=spf1 a:directo.gate.ee include -all",                               # include without a domain
    "v=spf1 a:directo.gate.ee, -all",                                      # "ee," is not a toplabel
    f"v=spf1 redirect=_spf.hostco0.{ORIGIN} redirect=_spf.hostco1.{ORIGIN}",  # redirect twice
]


def make_domain(zone, rng, p, domain, category):
    """Publishes `domain`'s records for `category`."""
    d = domain
    D = DIRECTO_HOST
    ip4s = " ".join(f"ip4:{ip}" for ip in DIRECTO_IPS)
    ip4s_ordinary = " ".join(f"ip4:{ip}" for ip in DIRECTO_IPS[:4])
    if category == "vendor_min":
        own_mx(zone, rng, d)
        zone.txt(d, f"v=spf1 mx a:{D} -all")
    elif category == "vendor_extended":
        own_mx(zone, rng, d)
        zone.add(f"mail.{d}", "A", f"198.51.{rng.randint(101, 120)}.{rng.randint(1, 254)}")
        zone.txt(d, f"v=spf1 mx a:mail.{d} a:{D} ~all")
    elif category == "vendor_ip4":
        own_mx(zone, rng, d)
        zone.txt(d, f"v=spf1 mx {ip4s} -all")
    elif category == "vendor_ip4_ordinary":
        zone.txt(d, f"v=spf1 {ip4s_ordinary} ~all")
    elif category == "gprov_directo":
        own_mx(zone, rng, d)
        zone.txt(d, f"v=spf1 include:{p['gprov']} a:{D} ~all")
    elif category == "gprov_only":
        own_mx(zone, rng, d)
        zone.txt(d, f"v=spf1 include:{p['gprov']} ~all")
    elif category == "o365":
        zone.add(d, "MX", (0, f"{d.replace('.', '-')}.mail.protection.o365.{ORIGIN}"))
        zone.add(f"{d.replace('.', '-')}.mail.protection.o365.{ORIGIN}", "A", "52.101.68.10")
        zone.txt(d, f"v=spf1 include:{p['o365']} -all")
    elif category == "o365_directo_cidr":
        zone.txt(d, f"v=spf1 ip4:90.190.150.208/30 include:{p['o365']} -all")
    elif category == "esp_mix":
        own_mx(zone, rng, d)
        first, second = rng.sample(p["esp"], 2)
        zone.txt(d, f"v=spf1 mx include:{first} include:{second} a:{D} -all")
    elif category == "redirect":
        zone.txt(d, f"v=spf1 redirect={rng.choice(p['hostco'])}")
    elif category == "redirect_with_all":
        zone.txt(d, f"v=spf1 a:{D} redirect={rng.choice(p['hostco'])} ~all")
    elif category == "mx_only":
        if rng.random() < 0.5:
            zone.add(d, "MX", (10, f"relay.directo-friendly.{ORIGIN}"))
            own_mx(zone, rng, d, 1)
        else:
            own_mx(zone, rng, d)
        zone.txt(d, "v=spf1 mx -all")
    elif category == "a_own":
        zone.add(d, "A", DIRECTO_HOST_IP if rng.random() < 0.5 else f"198.51.100.{rng.randint(1, 254)}")
        zone.txt(d, "v=spf1 a -all")
    elif category == "a_cidr":
        zone.txt(d, f"v=spf1 a:{D}/29 -all")
    elif category == "ip4_cidr":
        if rng.random() < 0.5:
            zone.txt(d, "v=spf1 ip4:90.190.150.0/24 ip4:198.51.100.0/22 ?all")
        else:
            zone.txt(d, "v=spf1 ip4:198.51.100.0/22 ip4:90.190.150.208/29 ?all")
    elif category == "split_long":
        own_mx(zone, rng, d)
        blocks = random_v4_blocks(rng, 34, [80, 81, 82, 83, 84, 85, 193, 194, 195])
        zone.txt(d, "v=spf1 mx " + " ".join(f"ip4:{b}" for b in blocks) + f" a:{D} -all")
    elif category == "split_short":
        zone.txt(d, f"v=spf1 mx a:{D} -all", split=True)
        own_mx(zone, rng, d)
    elif category == "macro_exists":
        zone.txt(d, f"v=spf1 exists:%{{i}}.{p['allow']} -all")
    elif category == "none_other_txt":
        zone.txt(d, f"google-site-verification={rng.getrandbits(64):016x}")
        zone.txt(d, "MS=ms12345678")
        own_mx(zone, rng, d)
    elif category == "none_nxdomain":
        pass
    elif category == "perm_two_records":
        own_mx(zone, rng, d)
        zone.txt(d, f"v=spf1 mx a:{D} -all")
        zone.txt(d, f"v=spf1 include:{p['gprov']} ~all")
    elif category == "perm_syntax":
        zone.txt(d, rng.choice(SYNTAX_ERRORS))
    elif category == "perm_include_nospf":
        if rng.random() < 0.5:
            zone.txt(d, f"v=spf1 include:{p['nospf']} a:{D} -all")
        else:
            zone.txt(d, f"v=spf1 a:{D} include:{p['nospf']} -all")
    elif category == "perm_include_directo":
        own_mx(zone, rng, d)
        zone.txt(d, f"v=spf1 mx include:{D} -all")
    elif category == "perm_too_many":
        e1, e2, e3 = rng.sample(p["esp"][1:5] + p["esp"][6:10], 3)
        zone.txt(d, f"v=spf1 include:{p['gprov']} include:{p['o365']} include:{e1} include:{e2} include:{e3} "
                    f"a:{D} -all")
    elif category == "perm_mx_over_10":
        for i in range(11):
            zone.add(d, "MX", (10 + i, f"mx{i}.mailhost.{ORIGIN}"))
        zone.txt(d, f"v=spf1 mx a:{D} -all")
    elif category == "void_three":
        zone.txt(d, f"v=spf1 a:old1.{d} a:old2.{d} a:old3.{d} ip4:90.190.150.210 -all")
    elif category == "void_two":
        zone.txt(d, f"v=spf1 a:old1.{d} mx:old2.{d} a:{D} -all")
    elif category == "plus_all":
        zone.txt(d, "v=spf1 +all")
    elif category == "uppercase":
        own_mx(zone, rng, d)
        zone.txt(d, "v=spf1 MX A:Directo.Gate.EE -ALL")
    elif category == "modifiers":
        zone.txt(d, f"v=spf1 a:{D} foo=bar exp=explain.{ORIGIN} -all")
    elif category == "ip6_only":
        zone.txt(d, "v=spf1 ip6:2001:db8::/32 -all")
    elif category == "deep_tree":
        zone.txt(d, f"v=spf1 include:{p['deep']} -all")
    else:
        raise ValueError(category)


CATEGORIES = [  # (category, weight in percent)
    ("vendor_min", 14), ("vendor_extended", 7), ("vendor_ip4", 5), ("vendor_ip4_ordinary", 4),
    ("gprov_directo", 9), ("gprov_only", 5), ("o365", 7), ("o365_directo_cidr", 3), ("esp_mix", 7),
    ("redirect", 4), ("redirect_with_all", 2), ("mx_only", 4), ("a_own", 3), ("a_cidr", 2), ("ip4_cidr", 3),
    ("split_long", 3), ("split_short", 1), ("macro_exists", 1), ("none_other_txt", 4), ("none_nxdomain", 2),
    ("perm_two_records", 2), ("perm_syntax", 3), ("perm_include_nospf", 1), ("perm_include_directo", 1),
    ("perm_too_many", 1), ("perm_mx_over_10", 1), ("void_three", 1), ("void_two", 1), ("plus_all", 0.5),
    ("uppercase", 0.5), ("modifiers", 0.5), ("ip6_only", 0.5), ("deep_tree", 1),
]


def generate(n, seed):
    rng = random.Random(seed)
    zone = Zone()
    zone.add(DIRECTO_HOST, "A", DIRECTO_HOST_IP)
    providers = add_providers(zone, rng)
    names = [c for c, _ in CATEGORIES]
    weights = [w for _, w in CATEGORIES]
    domains = []
    for i in range(n):
        category = names[i] if i < len(names) else rng.choices(names, weights)[0]
        domain = f"c{i:06d}.{ORIGIN}"
        make_domain(zone, rng, providers, domain, category)
        domains.append((domain, category))
    # The latency domain: in the zone, not in the domain list (the throughput job, its oracle results and query set
    # stay as they are). Added after the mix, without the random generator, so the mix does not change.
    zone.txt(LATENCY_DOMAIN, f"v=spf1 include:{providers['deep']} -all")
    return zone, domains


# ---------------------------------------------------------------------------------------------------------------------
# Oracle: RFC 7208 check_host() over the generated zone


class PermError(Exception):
    pass


TOPLABEL = re.compile(r"^(?:[A-Za-z0-9]*[A-Za-z][A-Za-z0-9]*|[A-Za-z0-9]+-[A-Za-z0-9-]*[A-Za-z0-9])$")
MACRO = re.compile(r"%\{[slodiphcrtv][0-9]*r?[-.+,/_=]*\}|%%|%_|%-")


def check_domain_spec(spec):
    """RFC 7208 §7.1 domain-spec: macro-string domain-end (domain-end: "." toplabel ["."] / macro-expand)."""
    if not spec:
        raise PermError("empty domain-spec")
    stripped = MACRO.sub("M", spec)
    if "%" in stripped or any(ord(c) < 0x21 or ord(c) > 0x7E for c in stripped):
        raise PermError(f"bad macro-string {spec!r}")
    if re.search(MACRO.pattern + r"$", spec):
        return
    labels = spec.rstrip(".").split(".") if spec.endswith(".") else spec.split(".")
    if len(labels) < 2 or not TOPLABEL.match(labels[-1]):
        raise PermError(f"domain-spec {spec!r} does not end in a toplabel")


def parse_cidr(text, v6_allowed):
    """'/n' or '//m' or '/n//m' → (v4 length, v6 length)."""
    match = re.fullmatch(r"(?:/([0-9]+))?(?://([0-9]+))?", text)
    if not match or (match.group(2) and not v6_allowed):
        raise PermError(f"bad cidr {text!r}")
    v4 = int(match.group(1)) if match.group(1) else 32
    v6 = int(match.group(2)) if match.group(2) else 128
    if v4 > 32 or v6 > 128 or (match.group(1) and match.group(1).startswith("0") and match.group(1) != "0"):
        raise PermError(f"bad cidr {text!r}")
    return v4, v6


def parse_record(text):
    """Terms of an SPF record: [(qualifier, mechanism, argument, (v4len, v6len))], modifiers {name: value}."""
    terms = []
    modifiers = {}
    for word in text.split(" ")[1:]:
        if not word:
            continue
        mod = re.fullmatch(r"([A-Za-z][A-Za-z0-9_.-]*)=(.*)", word)
        if mod:
            name = mod.group(1).lower()
            if name in ("redirect", "exp"):
                if name in modifiers:
                    raise PermError(f"{name}= twice")
                check_domain_spec(mod.group(2))
            modifiers.setdefault(name, mod.group(2))
            continue
        qualifier = "+"
        if word[0] in "+-~?":
            qualifier, word = word[0], word[1:]
        match = re.fullmatch(r"([A-Za-z0-9]+)(.*)", word)
        if not match:
            raise PermError(f"bad term {word!r}")
        mech, rest = match.group(1).lower(), match.group(2)
        if mech == "all":
            if rest:
                raise PermError("all takes no argument")
            terms.append((qualifier, mech, None, None))
        elif mech in ("include", "exists"):
            if not rest.startswith(":"):
                raise PermError(f"{mech} needs a domain")
            check_domain_spec(rest[1:])
            terms.append((qualifier, mech, rest[1:], None))
        elif mech in ("a", "mx"):
            match = re.fullmatch(r"(?::([^/]*))?(/.*)?", rest)
            if not match:
                raise PermError(f"bad {mech} term")
            spec, cidr = match.groups()
            if spec is not None:
                check_domain_spec(spec)
            terms.append((qualifier, mech, spec, parse_cidr(cidr or "", True)))
        elif mech == "ip4":
            match = re.fullmatch(r":([0-9.]+)(?:/([0-9]+))?", rest)
            try:
                if not match:
                    raise ValueError
                length = int(match.group(2)) if match.group(2) else 32
                if length > 32:
                    raise ValueError
                net = ipaddress.IPv4Network(f"{match.group(1)}/{length}", strict=False)
            except ValueError:
                raise PermError(f"bad ip4 {rest!r}") from None
            terms.append((qualifier, mech, net, None))
        elif mech == "ip6":
            match = re.fullmatch(r":([0-9A-Fa-f:.]+)(?:/([0-9]+))?", rest)
            try:
                if not match:
                    raise ValueError
                net = ipaddress.IPv6Network(f"{match.group(1)}/{match.group(2) or 128}", strict=False)
            except ValueError:
                raise PermError(f"bad ip6 {rest!r}") from None
            terms.append((qualifier, mech, net, None))
        elif mech == "ptr":
            if rest and (not rest.startswith(":")):
                raise PermError("bad ptr")
            terms.append((qualifier, mech, rest[1:] or None, None))
        else:
            raise PermError(f"unknown mechanism {mech!r}")
    return terms, modifiers


RESULT_OF = {"+": "pass", "-": "fail", "~": "softfail", "?": "neutral"}


class Oracle:
    def __init__(self, zone):
        self.zone = zone
        self.queries = set()
        # For the latency domain: the earliest round each query can be sent in (1 = needs no other answer first; an
        # include's TXT needs its parent's TXT, an `mx` host's A needs the MX answer, ...), and the deepest include.
        self.rounds = {}
        self.max_depth = 0

    def lookup(self, name, rtype, rnd=1):
        """Records at (name, type): list, or [] for NODATA/NXDOMAIN. `rnd`: the round the query can be sent in."""
        name = name.rstrip(".").lower()
        self.queries.add((name, rtype))
        self.rounds[(name, rtype)] = min(rnd, self.rounds.get((name, rtype), rnd))
        return self.zone.records.get((name, rtype), [])

    def check_host(self, ip, domain, sender_domain):
        state = {"lookups": 0, "voids": 0, "depth": 0}
        try:
            return self._check(ip, domain, sender_domain, state)
        except PermError:
            return "permerror"
        finally:
            self.last_lookups = state["lookups"]

    def _count(self, state):
        state["lookups"] += 1
        if state["lookups"] > 10:
            raise PermError("more than 10 DNS lookups")

    def _void(self, state, answer):
        if not answer:
            state["voids"] += 1
            if state["voids"] > 2:
                raise PermError("more than 2 void lookups")

    def _result(self, qualifier, modifiers, ip, domain, rnd=1):
        """The result of a matching mechanism; a fail fetches the explanation (§6.2), one more query, no lookup."""
        if qualifier == "-" and "exp" in modifiers:
            self.lookup(self._expand(modifiers["exp"], ip, domain), "TXT", rnd + 1)
        return RESULT_OF[qualifier]

    def _expand(self, spec, ip, domain):
        return spec.replace("%{i}", ip).replace("%{d}", domain)

    def _check(self, ip, domain, sender_domain, state, rnd=1):
        """check_host(); `rnd` is the round in which this domain's TXT query can be sent."""
        self.max_depth = max(self.max_depth, state["depth"])
        records = ["".join(r) for r in self.lookup(domain, "TXT", rnd)]
        spf = [r for r in records if r.lower() == "v=spf1" or r.lower().startswith("v=spf1 ")]
        if not spf:
            return "none"
        if len(spf) > 1:
            raise PermError("more than one SPF record")
        terms, modifiers = parse_record(spf[0])
        address = ipaddress.IPv4Address(ip)
        for qualifier, mech, arg, cidr in terms:
            target = self._expand(arg, ip, domain) if isinstance(arg, str) else domain
            if mech == "all":
                return self._result(qualifier, modifiers, ip, domain, rnd)
            if mech == "ip4":
                if address in arg:
                    return self._result(qualifier, modifiers, ip, domain, rnd)
            elif mech == "ip6":
                continue
            elif mech == "include":
                self._count(state)
                state["depth"] += 1
                result = self._check(ip, target, sender_domain, state, rnd + 1)
                state["depth"] -= 1
                if result == "pass":
                    return self._result(qualifier, modifiers, ip, domain, rnd)
                if result in ("permerror", "none"):
                    raise PermError(f"include:{target} gave {result}")
            elif mech == "a":
                self._count(state)
                answer = self.lookup(target, "A", rnd + 1)
                self._void(state, answer)
                if any(address in ipaddress.IPv4Network(f"{a}/{cidr[0]}", strict=False) for a in answer):
                    return self._result(qualifier, modifiers, ip, domain, rnd)
            elif mech == "mx":
                self._count(state)
                hosts = self.lookup(target, "MX", rnd + 1)
                self._void(state, hosts)
                if len(hosts) > 10:
                    raise PermError("more than 10 MX hosts")
                for _, host in sorted(hosts):
                    if any(address in ipaddress.IPv4Network(f"{a}/{cidr[0]}", strict=False)
                           for a in self.lookup(host, "A", rnd + 2)):
                        return self._result(qualifier, modifiers, ip, domain, rnd)
            elif mech == "exists":
                self._count(state)
                answer = self.lookup(target, "A", rnd + 1)
                self._void(state, answer)
                if answer:
                    return self._result(qualifier, modifiers, ip, domain, rnd)
            elif mech == "ptr":
                raise NotImplementedError("ptr is not generated")
        if "redirect" in modifiers:
            self._count(state)
            target = self._expand(modifiers["redirect"], ip, domain)
            result = self._check(ip, target, sender_domain, state, rnd + 1)
            if result == "none":
                raise PermError("redirect target has no SPF record")
            return result
        return "neutral"


# ---------------------------------------------------------------------------------------------------------------------
# Output


def zone_text(zone, origin, serial=1):
    lines = [f"$ORIGIN {origin}.", f"$TTL {TTL}",
             f"@ IN SOA ns1.{origin}. hostmaster.{origin}. {serial} 3600 600 86400 300",
             f"@ IN NS ns1.{origin}.", f"ns1.{origin}. IN A 127.0.0.1"]
    suffix = "." + origin
    for (name, rtype), values in sorted(zone.records.items()):
        if not (name == origin or name.endswith(suffix)):
            continue
        for value in values:
            if rtype == "TXT":
                data = " ".join('"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"' for s in value)
            elif rtype == "MX":
                data = f"{value[0]} {value[1]}."
            else:
                data = value
            lines.append(f"{name}. IN {rtype} {data}")
    return "\n".join(lines) + "\n"


def write_latency_facts(zone, path):
    """What a check of LATENCY_DOMAIN needs, from its own oracle (so queries.txt stays the job's query set)."""
    oracle = Oracle(zone)
    results, lookups = {}, 0
    for ip in DIRECTO_IPS:
        results[ip] = oracle.check_host(ip, LATENCY_DOMAIN, LATENCY_DOMAIN)
        lookups = max(lookups, oracle.last_lookups)
    rounds = {f"{name} {rtype}": rnd for (name, rtype), rnd in sorted(oracle.rounds.items(), key=lambda x: x[1])}
    # Queries whose name the checker knows before it reads any record (the vendor's host): a checker that asks for
    # them up front saves their round.
    known = {f"{DIRECTO_HOST} A"}
    facts = {
        "domain": LATENCY_DOMAIN,
        "record": "".join(zone.records[(LATENCY_DOMAIN, "TXT")][0]),
        "include_depth": oracle.max_depth,
        "dns_lookups": lookups,
        "queries": len(rounds),
        "critical_path": max(rounds.values()),
        "critical_path_prefetched": max(r for q, r in rounds.items() if q not in known),
        "rounds": rounds,
        "results": results,
    }
    with open(path, "w", encoding="ascii") as handle:
        json.dump(facts, handle, indent=2)
        handle.write("\n")


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("n", type=int)
    parser.add_argument("--out")
    parser.add_argument("--seed", type=int, default=7208)
    args = parser.parse_args(argv)
    out = args.out or os.path.join(os.path.dirname(os.path.abspath(__file__)), "out", str(args.n))
    os.makedirs(out, exist_ok=True)
    zone, domains = generate(args.n, args.seed)
    for origin in ZONES:
        with open(os.path.join(out, f"{origin}.zone"), "w", encoding="ascii") as handle:
            handle.write(zone_text(zone, origin))
    with open(os.path.join(out, "zones.txt"), "w", encoding="ascii") as handle:
        handle.writelines(f"{os.path.join(os.path.abspath(out), origin + '.zone')}:{origin}\n" for origin in ZONES)
    oracle = Oracle(zone)
    with open(os.path.join(out, "domains.txt"), "w", encoding="ascii") as handle:
        handle.writelines(f"{d}\n" for d, _ in domains)
    with open(os.path.join(out, "expected.tsv"), "w", encoding="ascii") as handle:
        handle.write("domain\tcategory\t" + "\t".join(DIRECTO_IPS) + "\n")
        for domain, category in domains:
            results = [oracle.check_host(ip, domain, domain) for ip in DIRECTO_IPS]
            handle.write(f"{domain}\t{category}\t" + "\t".join(results) + "\n")
    with open(os.path.join(out, "records.tsv"), "w", encoding="ascii") as handle:
        for domain, _ in domains:
            txt = zone.records.get((domain, "TXT"), [])
            shown = " + ".join(" ".join(f'"{s}"' for s in strings) for strings in txt) or "(no TXT)"
            handle.write(f"{domain}\t{shown}\n")
    with open(os.path.join(out, "queries.txt"), "w", encoding="ascii") as handle:
        handle.writelines(f"{name}. {rtype}\n" for name, rtype in sorted(oracle.queries))
    write_latency_facts(zone, os.path.join(out, "latency.json"))
    print(f"{out}: {len(domains)} domains, {len(oracle.queries)} distinct queries")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
