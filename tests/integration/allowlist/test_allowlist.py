#!/usr/bin/python3
"""End-to-end tests of `sendcheck --allowlist`, `--show-profile` and `--profile FILE` with the built binary.

Usage: test_allowlist.py SENDCHECK_BINARY
`--allowlist --check` runs against knotd on loopback (tests/integration/knot/knot_server.py) serving zones where
directo.gate.ee matches the profile, lists an extra address, or lacks one; the same zones are also read with
`--offline --zone`, which must give the same answer. knotd is stopped by its PID when each block ends.
"""

import json
import os
import socket
import subprocess
import sys
import tempfile
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration", "knot"))
import knot_server  # noqa: E402

ZONES = os.path.join(HERE, "zones")
DEMO = os.path.join(ROOT, "examples", "demo.zone")
EXAMPLE_PROFILE = os.path.join(ROOT, "docs", "profile-example.json")
BINARY = None
FAILURES = []
TMP = None

ORDINARY = ["90.190.150.210", "90.190.150.211", "90.190.150.212", "90.190.150.213"]
BULK = "90.190.150.82"


def run(*args, timeout=60):
    """Runs sendcheck; returns (exit code, stdout, stderr)."""
    done = subprocess.run([BINARY, *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "NO_COLOR": "1"})
    return done.returncode, done.stdout, done.stderr


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def expect_exit(result, code):
    check(result[0] == code, f"exit {result[0]}, expected {code}\nstdout:\n{result[1]}\nstderr:\n{result[2]}")


def write_profile(name, content):
    path = os.path.join(TMP, name)
    with open(path, "w", encoding="utf-8") as out:
        out.write(content if isinstance(content, str) else json.dumps(content))
    return path


def zones_for(gate):
    return [(os.path.join(ZONES, gate), "gate.ee"), (os.path.join(ZONES, "directo-ee.zone"), "directo.ee")]


def check_both_ways(gate, extra_args, verify):
    """Runs `--allowlist --check --json` against knotd serving `gate` and directo-ee.zone, then offline with the same
    zone files; `verify(exit_code, json)` is called for each."""
    with knot_server.KnotServer(zones_for(gate)) as server:
        result = run("--allowlist", "--check", "--json", "--server", server.address, "--timeout", "2000",
                     *extra_args)
        verify(result, json.loads(result[1]) if result[1].startswith("{") else None)
    offline = ["--offline"]
    for path, _ in zones_for(gate):
        offline += ["--zone", path]
    result = run("--allowlist", "--check", "--json", *offline, *extra_args)
    verify(result, json.loads(result[1]) if result[1].startswith("{") else None)


# --- --allowlist --check against knotd ------------------------------------------------------------------------

def test_check_match():
    def verify(result, doc):
        expect_exit(result, 0)
        check(doc["agree"] is True and doc["exit_code"] == 0, doc)
        check(doc["hosts"][0] == {"host": "directo.gate.ee", "status": "ok", "addresses": ORDINARY}, doc["hosts"])
        check(doc["hosts"][1] == {"host": "login.directo.ee", "status": "ok", "addresses": [BULK]}, doc["hosts"])
        check(doc["missing_from_dns"] == [] and doc["not_in_profile"] == [], doc)
    check_both_ways("gate-match.zone", [], verify)

    with knot_server.KnotServer(zones_for("gate-match.zone")) as server:
        result = run("--allowlist", "--check", "--server", server.address)
        expect_exit(result, 0)
        check("Result: DNS and the profile agree (five addresses).\n" in result[1], result[1])
        check(f"  directo.gate.ee   {' '.join(ORDINARY)}\n" in result[1], result[1])


def test_check_extra_address():
    def verify(result, doc):
        expect_exit(result, 1)
        check(doc["agree"] is False and doc["exit_code"] == 1, doc)
        check(doc["not_in_profile"] == [{"address": "192.0.2.99", "hosts": ["directo.gate.ee"]}], doc)
        check(doc["missing_from_dns"] == [], doc)
        check(any("192.0.2.99, which the built-in profile does not list" in line for line in doc["explanation"]),
              doc["explanation"])
    check_both_ways("gate-extra.zone", [], verify)


def test_check_lacking_address():
    def verify(result, doc):
        expect_exit(result, 1)
        check(doc["missing_from_dns"] == ["90.190.150.213"], doc)
        check(doc["not_in_profile"] == [], doc)
        check(doc["explanation"][0].startswith(
            "a:directo.gate.ee in your SPF covers only 90.190.150.210, 90.190.150.211, 90.190.150.212 today; "
            "Directo documents four ordinary addresses"), doc["explanation"])
    check_both_ways("gate-lacking.zone", [], verify)

    # A profile that documents exactly what the zone holds agrees with it.
    profile = write_profile("three.json", {"ordinary_ips": ORDINARY[:3]})
    check_both_ways("gate-lacking.zone", ["--profile", profile],
                    lambda result, doc: (expect_exit(result, 0), check(doc["agree"] is True, doc)))


def test_check_no_bulk():
    # Without login.directo.ee's zone the bulk address has no host: a difference, unless --no-bulk.
    with knot_server.KnotServer([(os.path.join(ZONES, "gate-match.zone"), "gate.ee"),
                                 (os.path.join(ZONES, "root.zone"), ".")]) as server:
        result = run("--allowlist", "--check", "--json", "--server", server.address)
        doc = json.loads(result[1])
        expect_exit(result, 1)
        check(doc["missing_from_dns"] == [BULK], doc)
        check(doc["hosts"][1] == {"host": "login.directo.ee", "status": "nxdomain", "addresses": []}, doc["hosts"])
        check(doc["explanation"][0] == "a:directo.gate.ee in your SPF covers all four ordinary addresses today, but "
                                       "not the bulk-mail address 90.190.150.82.", doc["explanation"])
        result = run("--allowlist", "--check", "--json", "--no-bulk", "--offline", "--zone",
                     os.path.join(ZONES, "gate-match.zone"))
        expect_exit(result, 0)
        check(json.loads(result[1])["compared"] == ORDINARY, result[1])


def test_check_dns_failure():
    # A loopback port with nothing listening: every lookup fails, exit 3.
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    result = run("--allowlist", "--check", "--server", f"127.0.0.1:{port}", "--timeout", "300", "--tries", "1")
    expect_exit(result, 3)
    check("Result: DNS could not answer for every host, so the comparison is incomplete.\n" in result[1], result[1])
    check("What a:directo.gate.ee in your SPF covers is unknown: A lookup failed:" in result[1], result[1])


# --- --allowlist formats, --show-profile ----------------------------------------------------------------------

def test_formats():
    expect_exit(result := run("--allowlist"), 0)
    check(result[1] == "\n".join(ORDINARY + [BULK]) + "\n", result[1])
    expect_exit(result := run("--allowlist", "--no-bulk"), 0)
    check(result[1] == "\n".join(ORDINARY) + "\n", result[1])
    expect_exit(result := run("--allowlist", "--format", "cidr"), 0)
    check(result[1] == "90.190.150.82/32\n90.190.150.210/31\n90.190.150.212/31\n", result[1])
    expect_exit(result := run("--allowlist", "--format", "postfix"), 0)
    check(result[1].endswith("\nmynetworks = 90.190.150.82/32 90.190.150.210/31 90.190.150.212/31\n"), result[1])
    expect_exit(result := run("--allowlist", "--format", "nftables"), 0)
    check(result[1].endswith(
        "\ndefine directo_senders = { 90.190.150.82, 90.190.150.210/31, 90.190.150.212/31 }\n"), result[1])
    expect_exit(result := run("--allowlist", "--format", "json"), 0)
    check([a["address"] for a in json.loads(result[1])["addresses"]] == ORDINARY + [BULK], result[1])
    expect_exit(result := run("--allowlist", "--json"), 0)
    check(json.loads(result[1])["cidr"] == ["90.190.150.82/32", "90.190.150.210/31", "90.190.150.212/31"],
          result[1])

    profile = write_profile("v6.json", {"ordinary_ips": ["192.0.2.1", "2001:db8::25"], "bulk_ips": []})
    expect_exit(result := run("--allowlist", "--format", "nftables", "--profile", profile), 0)
    check("define directo_senders = { 192.0.2.1 }\ndefine directo_senders_v6 = { 2001:db8::25 }\n" in result[1],
          result[1])


def test_usage_errors():
    result = run("--allowlist", "--format", "csv")
    expect_exit(result, 2)
    check("--format: csv not in {plain,cidr,postfix,nftables,json}" in result[2], result[2])
    result = run("--check")
    expect_exit(result, 2)
    check("--check requires --allowlist" in result[2], result[2])
    result = run("--allowlist", "example.ee")
    expect_exit(result, 2)
    check(result[2] == "sendcheck: --allowlist takes no domain (it prints the sender's facts); leave out "
                       "'example.ee'\n", result[2])
    result = run("--allowlist", "--json", "--format", "cidr")
    expect_exit(result, 2)
    check(result[2] == "sendcheck: --format cidr contradicts --json\n", result[2])


def test_show_profile():
    result = run("--show-profile")
    expect_exit(result, 0)
    check(result[1].startswith("Sender profile: Directo (built-in)\n"), result[1])
    result = run("--show-profile", "--json", "--profile", EXAMPLE_PROFILE)
    expect_exit(result, 0)
    doc = json.loads(result[1])
    check(doc["source"] == EXAMPLE_PROFILE, doc)
    # The "profile" member is a profile file, and the example equals the built-in profile.
    builtin = json.loads(run("--show-profile", "--json")[1])
    check(doc["profile"] == builtin["profile"], (doc, builtin))
    path = write_profile("roundtrip.json", doc["profile"])
    expect_exit(result := run("--show-profile", "--json", "--profile", path), 0)
    check(json.loads(result[1])["profile"] == doc["profile"], result[1])


# --- --profile FILE and the domain checks ---------------------------------------------------------------------

def domain_json(*args):
    result = run("--json", "--offline", "--zone", DEMO, *args)
    return result, json.loads(result[1])


def spf_results(doc):
    return {r["ip"]: (r["role"], r["result"]) for r in doc["domains"][0]["spf"]["results"]}


def test_profile_changes_verdicts():
    result, doc = domain_json("good-shop.example")
    expect_exit(result, 0)
    check(spf_results(doc) == {**{ip: ("ordinary", "pass") for ip in ORDINARY}, BULK: ("bulk", "pass")},
          spf_results(doc))
    check(doc["profile"]["source"] == "built-in", doc["profile"])

    # An extra ordinary address that good-shop.example does not authorize: it fails SPF, exit 1.
    extra = write_profile("extra.json", {"ordinary_ips": ORDINARY + ["192.0.2.99"]})
    result, doc = domain_json("--profile", extra, "good-shop.example")
    expect_exit(result, 1)
    check(spf_results(doc)["192.0.2.99"] == ("ordinary", "fail"), spf_results(doc))
    check(doc["profile"]["source"] == extra, doc["profile"])
    check("spf.directo_partial" in [f["code"] for f in doc["domains"][0]["findings"]], doc["domains"][0]["findings"])

    # vendor-advice.example publishes a:directo.gate.ee (90.190.150.212 only): with the built-in profile three
    # ordinary addresses and the bulk one fail; with a profile of that one address, everything passes.
    result, doc = domain_json("vendor-advice.example")
    fails = sorted(ip for ip, (_, outcome) in spf_results(doc).items() if outcome == "fail")
    check(fails == sorted(["90.190.150.210", "90.190.150.211", "90.190.150.213", BULK]), spf_results(doc))
    expect_exit(result, 1)
    single = write_profile("single.json", {"ordinary_ips": ["90.190.150.212"], "bulk_ips": []})
    result, doc = domain_json("--profile", single, "vendor-advice.example")
    check(spf_results(doc) == {"90.190.150.212": ("ordinary", "pass")}, spf_results(doc))
    check(doc["domains"][0]["verdict"]["overall"] == "delivered", doc["domains"][0]["verdict"])

    # The profile's DKIM selector is the default selector.
    selector = write_profile("selector.json", {"dkim_selector": "acme"})
    result, doc = domain_json("--profile", selector, "good-shop.example")
    check("acme._domainkey.good-shop.example" in json.dumps(doc["domains"][0]["dkim"]), doc["domains"][0]["dkim"])
    result, doc = domain_json("--profile", selector, "--selector", "directo", "good-shop.example")
    check("directo._domainkey.good-shop.example" in json.dumps(doc["domains"][0]["dkim"]), doc["domains"][0]["dkim"])


def test_profile_errors():
    bad = write_profile("bad.json", {"ordinary_ips": ["90.190.150.210", "90.190.150.211", "90.190.150.300"]})
    result = run("--profile", bad, "good-shop.example")
    expect_exit(result, 2)
    check(result[2] == f"sendcheck: --profile: {bad}: 'ordinary_ips'[2]: '90.190.150.300' is not an IPv4 or IPv6 "
                       "address\n", result[2])
    check(result[1] == "", result[1])
    typo = write_profile("typo.json", {"bulk_ip": []})
    result = run("--allowlist", "--profile", typo)
    expect_exit(result, 2)
    check(f"{typo}: unknown field 'bulk_ip' (the fields are: " in result[2], result[2])
    result = run("--show-profile", "--profile", os.path.join(TMP, "missing.json"))
    expect_exit(result, 2)
    check("cannot read the profile" in result[2] and "No such file or directory" in result[2], result[2])
    broken = write_profile("broken.json", '{"name": "X",}')
    result = run("--show-profile", "--profile", broken)
    expect_exit(result, 2)
    check(f"{broken}: not valid JSON: parse error at line 1, column 14" in result[2], result[2])


def main(argv):
    global BINARY, TMP
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    BINARY = os.path.abspath(argv[1])
    tests = [(name, fn) for name, fn in globals().items() if name.startswith("test_") and callable(fn)]
    with tempfile.TemporaryDirectory(prefix="sendcheck-allowlist-") as tmp:
        TMP = tmp
        for name, fn in tests:
            try:
                fn()
                print(f"ok    {name}")
            except Exception:  # noqa: BLE001 - report every failure, then exit non-zero
                FAILURES.append(name)
                print(f"FAIL  {name}\n{traceback.format_exc()}")
    print(f"{len(tests) - len(FAILURES)}/{len(tests)} passed")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
