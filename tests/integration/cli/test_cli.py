#!/usr/bin/python3
"""End-to-end tests of the sendcheck binary against a real DNS server (knotd on loopback) serving the demo zones.

Usage: test_cli.py SENDCHECK_BINARY
Each zone of examples/demo.zone is served by knotd, with an empty root zone so that every other name is an
authoritative NXDOMAIN, exactly as `--offline --zone examples/demo.zone` treats it. knotd is stopped by its PID when
the tests end, also when one fails.
"""

import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration", "knot"))
import knot_server  # noqa: E402

DEMO = os.path.join(ROOT, "examples", "demo.zone")
SCHEMA = os.path.join(ROOT, "docs", "json-schema.json")
BINARY = None
FAILURES = []


def split_zones(path, directory):
    """Writes each $ORIGIN block of `path` to its own file (knotd serves one zone per file); returns (file, origin)."""
    zones, current, origin, header = [], None, None, []
    with open(path, encoding="utf-8") as source:
        for line in source:
            match = re.match(r"^\$ORIGIN\s+(\S+)", line)
            if match:
                origin = match.group(1)
                current = os.path.join(directory, origin.rstrip(".") + ".zone")
                zones.append((current, origin))
                with open(current, "w", encoding="utf-8") as out:
                    out.writelines(header)
                    out.write(line)
            elif current is None:
                if line.startswith("$TTL"):
                    header.append(line)
            else:
                with open(current, "a", encoding="utf-8") as out:
                    out.write(line)
    root = os.path.join(directory, "root.zone")
    with open(root, "w", encoding="utf-8") as out:
        out.write("$TTL 3600\n. SOA a.root.test. hostmaster.root.test. 1 7200 3600 1209600 3600\n")
    zones.append((root, "."))
    return zones


def run(*args, stdin=None, timeout=120):
    """Runs sendcheck; returns (exit code, stdout, stderr)."""
    done = subprocess.run([BINARY, *args], input=stdin, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "NO_COLOR": "1"})
    return done.returncode, done.stdout, done.stderr


def run_json(*args):
    code, out, err = run("--json", *args)
    try:
        return code, json.loads(out), err
    except json.JSONDecodeError as error:
        raise AssertionError(f"not JSON ({error}): {out[:500]!r} / {err[:500]!r}") from error


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def codes(domain):
    return [finding["code"] for finding in domain["findings"]]


def results(domain):
    return {r["ip"]: r["result"] for r in domain["spf"]["results"]}


def test(function):
    """Runs one test function, recording a failure instead of stopping."""
    try:
        function()
        print(f"ok    {function.__name__}")
    except Exception:  # noqa: BLE001 -- report every failure and go on
        FAILURES.append(function.__name__)
        print(f"FAIL  {function.__name__}\n{traceback.format_exc()}")


def online_tests(server):
    live = ("--server", server, "--timeout", "2000")

    def good_domain():
        code, doc, _ = run_json(*live, "good-shop.example")
        domain = doc["domains"][0]
        check(code == 0, f"exit {code}")
        check(domain["status"] == "good", domain["status"])
        check(set(results(domain).values()) == {"pass"}, results(domain))
        check(domain["dkim"]["comparison"] == "same_key", domain["dkim"])
        check(domain["verdict"]["overall"] == "delivered", domain["verdict"])
        check(domain["spf"]["dns_lookups"]["count"] == 4, domain["spf"]["dns_lookups"])

    def vendor_advice_partial():
        code, doc, _ = run_json(*live, "vendor-advice.example")
        domain = doc["domains"][0]
        check(code == 1, f"exit {code}")
        check(results(domain) == {"90.190.150.210": "fail", "90.190.150.211": "fail", "90.190.150.212": "pass",
                                  "90.190.150.213": "fail", "90.190.150.82": "fail"}, results(domain))
        check("spf.directo_partial" in codes(domain), codes(domain))
        check("spf.directo_bulk_missing" in codes(domain), codes(domain))
        check(domain["sending_host"]["addresses"] == ["90.190.150.212"], domain["sending_host"])
        check(domain["verdict"]["overall"] == "rejected", domain["verdict"])

    def vendor_advice_text():
        code, out, _ = run(*live, "vendor-advice.example")
        check(code == 1, f"exit {code}")
        for fragment in ["SPF record:   v=spf1 mx a:directo.gate.ee -all",
                         "Lookups:      2/10 DNS lookups, 0/2 void lookups",
                         "directo.gate.ee resolves to 90.190.150.212",
                         "90.190.150.212         pass       a:directo.gate.ee",
                         "90.190.150.82 (bulk)   fail       -all",
                         "SPF authorizes only 1 of Directo's 4 ordinary addresses",
                         "[spf.directo_partial]",
                         "ordinary mail: rejected"]:
            check(fragment in out, f"missing {fragment!r} in:\n{out}")
        check("\x1b[" not in out, "colour in piped output")

    def two_records():
        code, doc, _ = run_json(*live, "two-records.example")
        domain = doc["domains"][0]
        check(code == 1, f"exit {code}")
        check(set(results(domain).values()) == {"permerror"}, results(domain))
        check("spf.multiple_records" in codes(domain), codes(domain))
        check(len(domain["spf"]["records"]) == 2, domain["spf"]["records"])

    def too_many_lookups():
        code, doc, _ = run_json(*live, "too-many.example")
        domain = doc["domains"][0]
        check(code == 1, f"exit {code}")
        check("spf.too_many_lookups" in codes(domain), codes(domain))
        check(domain["spf"]["dns_lookups"]["count"] == 12, domain["spf"]["dns_lookups"])
        check(all(r["error_code"] == "spf.too_many_lookups" for r in domain["spf"]["results"]), domain["spf"])

    def wrong_include():
        code, doc, _ = run_json(*live, "wrong-include.example")
        domain = doc["domains"][0]
        check(code == 1, f"exit {code}")
        check("spf.include_sending_host" in codes(domain), codes(domain))
        check(set(results(domain).values()) == {"permerror"}, results(domain))

    def no_spf():
        code, doc, _ = run_json(*live, "no-spf.example")
        domain = doc["domains"][0]
        check(code == 1, f"exit {code}")
        check("spf.no_record" in codes(domain), codes(domain))
        check(set(results(domain).values()) == {"none"}, results(domain))

    def pdf_damaged_key():
        code, doc, _ = run_json(*live, "pdf-copy.example")
        domain = doc["domains"][0]
        check(code == 1, f"exit {code}")
        check("dkim.key_damaged" in codes(domain), codes(domain))
        check(set(results(domain).values()) == {"pass"}, results(domain))

    def long_record_over_tcp():
        code, doc, _ = run_json(*live, "long-record.example")
        domain = doc["domains"][0]
        check(code == 0, f"exit {code}")
        check(len(domain["spf"]["records"][0]["strings"]) == 4, domain["spf"]["records"])
        check(len(domain["spf"]["record"]) > 512, len(domain["spf"]["record"]))
        check(set(results(domain).values()) == {"pass"}, results(domain))

    def cname_domain():
        code, doc, _ = run_json(*live, "mail.good-shop.example")
        domain = doc["domains"][0]
        check(code == 0, f"exit {code}")
        check(set(results(domain).values()) == {"pass"}, results(domain))

    def domain_does_not_exist():
        code, doc, _ = run_json(*live, "nothing-here.example")
        domain = doc["domains"][0]
        check(code == 1, f"exit {code}")
        check(domain["status"] == "not_found", domain["status"])
        check(codes(domain) == ["domain.not_found"], codes(domain))

    def many_domains_in_order():
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
            handle.write("# customers\n\ngood-shop.example\nno-spf.example   # no SPF yet\nvendor-advice.example\n")
            path = handle.name
        try:
            code, doc, _ = run_json(*live, "--concurrency", "2", "-f", path, "long-record.example")
        finally:
            os.unlink(path)
        names = [d["domain"] for d in doc["domains"]]
        check(names == ["long-record.example", "good-shop.example", "no-spf.example", "vendor-advice.example"], names)
        check(doc["summary"] == {"domains": 4, "good": 2, "problem": 2, "dns_error": 0, "not_found": 0,
                                 "invalid": 0, "exit_code": 1}, doc["summary"])
        check(code == 1, f"exit {code}")

    def json_matches_schema():
        try:
            import jsonschema
        except ImportError:
            raise AssertionError("python3-jsonschema is not installed (./test.sh installs it)")
        with open(SCHEMA, encoding="utf-8") as handle:
            schema = json.load(handle)
        for name in ["good-shop.example", "vendor-advice.example", "two-records.example", "nothing-here.example",
                     "pdf-copy.example", "too-many.example"]:
            _, doc, _ = run_json(*live, "--verbose", name)
            jsonschema.validate(doc, schema)

    def json_layouts():
        # To a pipe, --json writes one line for the head, one per domain (invalid input included) and one for the
        # tail; --json=indented and a terminal get the indented form; all of them are the same document.
        names = ["good-shop.example", "no-spf.example", "bad..name", "vendor-advice.example"]
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
            handle.write("\n".join(names) + "\n")
            path = handle.name
        try:
            code, lines_text, _ = run("--json", *live, "-f", path)
            check(code == 2, f"exit {code}")
            lines = lines_text.splitlines()
            check(len(lines) == len(names) + 2, lines_text[:2000])
            check(lines[0].startswith('{"schema_version":1,"tool":{') and lines[0].endswith('"domains":['), lines[0])
            for name, line in zip(names, lines[1:-1]):
                entry = json.loads(line.rstrip(","))
                check(entry.get("domain", entry.get("input")) == name, line[:300])
            check(lines[-1].startswith('],"notes":[') and lines[-1].endswith("}}"), lines[-1])
            code, explicit, _ = run("--json=lines", *live, "-f", path)
            check((code, explicit) == (2, lines_text), "--json=lines differs from --json to a pipe")
            code, indented, _ = run("--json=indented", *live, "-f", path)
            check(code == 2 and indented.startswith('{\n  "schema_version": 1,\n') and "\n    {\n" in indented,
                  indented[:300])
            check(json.loads(indented) == json.loads(lines_text), "the two layouts are not the same document")
            check(len(lines_text) < 0.75 * len(indented), (len(lines_text), len(indented)))
            # On a terminal, --json is indented.
            import pty
            main, terminal = pty.openpty()
            with subprocess.Popen([BINARY, "--json", *live, "-f", path], stdout=terminal, stderr=subprocess.DEVNULL,
                                  env={**os.environ, "NO_COLOR": "1"}) as process:
                os.close(terminal)
                chunks = []
                while True:
                    try:
                        chunk = os.read(main, 65536)
                    except OSError:  # EIO: the terminal's other end is closed
                        break
                    if not chunk:
                        break
                    chunks.append(chunk)
                process.wait(timeout=60)
            os.close(main)
            on_terminal = b"".join(chunks).decode().replace("\r\n", "\n")
            check(on_terminal == indented, on_terminal[:300])
        finally:
            os.unlink(path)

    def entries_separated():
        # Text reports are separated by a blank line (none before the first, none with -q); JSON members by a comma
        # and a line end. Lines that are not domains go to standard error and are not entries, also when they come
        # first.
        names = ["good-shop.example", "no-spf.example", "nothing-here.example"]
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
            handle.write("\n".join(["bad..name"] + names[:2] + ["not a domain"] + names[2:]) + "\n")
            path = handle.name
        try:
            for form, between in [((), "\n"), (("-q",), "")]:
                alone = [run(*live, *form, name)[1] for name in names]
                code, out, err = run(*live, *form, "-f", path)
                check(code == 2, f"{form}: exit {code}")
                check(out == between.join(alone), f"{form}: {out[:600]!r}")
                check(err.count("sendcheck: ") == 2, f"{form}: {err!r}")
            code, out, _ = run("--json=lines", *live, "-f", path)
            members = out.splitlines()[1:-1]
            check(len(members) == 5 and all(line.endswith("},") for line in members[:-1])
                  and members[-1].endswith("}") and not members[-1].endswith(","), out[:600])
            check(out.splitlines()[0].endswith('"domains":['), out[:300])
        finally:
            os.unlink(path)

    def only_spf():
        # The good domain's DMARC policy and DKIM key are left out: neither looked up nor reported, SPF decides.
        code, doc, _ = run_json(*live, "--only", "spf", "good-shop.example", "vendor-advice.example")
        good, partial = doc["domains"]
        check(code == 1, f"exit {code}")
        check(good["status"] == "good" and good["dkim"] is None and good["dmarc"] is None, good)
        check(good["verdict"]["overall"] == "delivered", good["verdict"])
        check(not [c for c in codes(good) + codes(partial) if not c.startswith("spf.")], codes(good) + codes(partial))
        check(results(partial)["90.190.150.212"] == "pass", results(partial))
        check(partial["verdict"]["streams"][0]["reason"].endswith("and DMARC was not checked."), partial["verdict"])
        with open(SCHEMA, encoding="utf-8") as handle:
            import jsonschema
            jsonschema.validate(doc, json.load(handle))
        code, out, _ = run(*live, "--only", "spf,dmarc", "good-shop.example")
        check(code == 0, f"exit {code}")
        check("DKIM:         not checked (--only)\n" in out, out)
        check("DMARC:        policy 'quarantine'" in out, out)
        code, out, err = run(*live, "--only", "dkim", "good-shop.example")
        check(code == 2 and out == "" and "--only: the verdict needs the SPF check" in err, (code, out, err))

    def workers_agree():
        # Several worker threads (each with its own c-ares channel and caches, taking domains as they finish) print
        # exactly what one worker prints, in input order: every demo domain many times over, interleaved with names
        # that do not exist and lines that are not domains, in each output form.
        names = [origin.rstrip(".") for _, origin in split_zones(DEMO, tempfile.mkdtemp()) if origin != "."]
        lines = []
        for round_number in range(20):
            lines += names + [f"missing-{round_number}.example", "not a domain"]
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
            handle.write("\n".join(lines) + "\n")
            path = handle.name
        try:
            for form in [(), ("--json",), ("-q",), ("--suggest",), ("--json", "--verbose"), ("--only", "spf")]:
                one = run(*live, *form, "--jobs", "1", "-f", path)
                several = run(*live, *form, "--jobs", "3", "--concurrency", "16", "-f", path)
                check(one == several, f"{form}: one worker and three differ: exit {one[0]} / {several[0]}, "
                                      f"stdout {len(one[1])} / {len(several[1])} chars, stderr {one[2][:300]!r} / "
                                      f"{several[2][:300]!r}")
                check(one[0] == 2, f"{form}: exit {one[0]} (the invalid lines make it 2)")
            code, doc, _ = run_json(*live, "-j", "2", "-f", path)
            check([d.get("domain", d.get("input")) for d in doc["domains"]] == lines,
                  "the JSON entries are not in input order")
            check(doc["summary"]["domains"] == len(lines) and doc["summary"]["invalid"] == 20, doc["summary"])
            # Each domain's output is rendered into a buffer reused from domains written before (longer ones, too):
            # every entry is exactly what the domain alone gives, with nothing left over from another.
            code, out, _ = run("--json=lines", *live, "-j", "2", "-f", path)
            entries = [line.rstrip(",") for line in out.splitlines()[1:-1]]
            check(len(entries) == len(lines), f"{len(entries)} entry lines for {len(lines)} input lines")
            for name in names:
                _, alone, _ = run("--json=lines", *live, name)
                expected = alone.splitlines()[1]
                check(all(entry == expected for entry, line in zip(entries, lines) if line == name),
                      f"{name}: an entry differs from the domain's own run: {expected[:200]}")
            # A reader that goes away after the first line (the reports, ~1 MB, do not fit in the pipe): every worker
            # stops, the exit is quiet.
            with subprocess.Popen([BINARY, *live, "-v", "-j", "3", "-f", path], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) as process:
                first = process.stdout.readline()
                process.stdout.close()
                err = process.stderr.read()
                code = process.wait(timeout=60)
            check(first == names[0] + "\n", first)
            check(code == 0 and "internal error" not in err, (code, err))
        finally:
            os.unlink(path)

    def offline_and_online_agree():
        for name in ["good-shop.example", "vendor-advice.example", "two-records.example", "too-many.example",
                     "wrong-include.example", "no-spf.example", "pdf-copy.example", "long-record.example",
                     "mail.good-shop.example", "nothing-here.example"]:
            _, online, _ = run_json(*live, "--verbose", name)
            _, offline, _ = run_json("--offline", "--zone", DEMO, "--verbose", name)
            a, b = strip_sources(online["domains"]), strip_sources(offline["domains"])
            check(a == b, f"{name}: online and offline JSON differ:\n{json.dumps(a)[:2000]}\n{json.dumps(b)[:2000]}")

    def suggest_record_only_on_stdout():
        expected = {
            "no-spf.example": "v=spf1 mx ip4:90.190.150.210/31 ip4:90.190.150.212/31 ip4:90.190.150.82 -all",
            "no-directo.example": "v=spf1 mx include:_spf.mailhost.example ip4:90.190.150.210/31 "
                                  "ip4:90.190.150.212/31 ip4:90.190.150.82 ~all",
            "wrong-include.example": "v=spf1 mx a:directo.gate.ee ip4:90.190.150.210/31 ip4:90.190.150.213 "
                                     "ip4:90.190.150.82 -all",
            "good-shop.example": "v=spf1 mx include:_spf.mailhost.example ip4:90.190.150.210/31 "
                                 "ip4:90.190.150.212/31 ip4:90.190.150.82 -all",
        }
        for name, record in expected.items():
            code, out, err = run(*live, "--suggest", name)
            check(code == 0, f"{name}: exit {code}: {err}")
            check(out == record + "\n", f"{name}: stdout {out!r}")
            check("verified: every Directo address passes" in err, f"{name}: stderr {err!r}")
            # Idempotent: the suggested record, checked as if published, is suggested unchanged.
            code, again, err = run(*live, "--suggest", "--record", record, name)
            check(code == 0 and again == out, f"{name}: not idempotent: {again!r} {err!r}")
            check("already right" in err, f"{name}: {err!r}")
            # The suggestion, checked as if published, passes for every Directo address.
            code, doc, _ = run_json(*live, "--record", record, name)
            check(set(results(doc["domains"][0]).values()) == {"pass"}, results(doc["domains"][0]))

    def suggest_refuses_and_zone_form():
        code, out, err = run(*live, "--suggest", "too-many.example")
        check(code == 1 and out == "", f"exit {code}, stdout {out!r}")
        check("needs 12 DNS lookups" in err, err)
        code, out, err = run(*live, "--suggest=zone", "-q", "no-spf.example")
        check(code == 0, f"exit {code}")
        check(out == 'no-spf.example. 3600 IN TXT "v=spf1 mx ip4:90.190.150.210/31 ip4:90.190.150.212/31 '
                     'ip4:90.190.150.82 -all"\n', out)
        check(err == "", f"--quiet stderr {err!r}")
        code, doc, _ = run_json(*live, "--suggest", "two-records.example")
        suggestion = doc["domains"][0]["suggestion"]
        check(code == 0 and suggestion["status"] == "changed", suggestion)
        check("suggest.merged" in [c["code"] for c in suggestion["changes"]],
              suggestion)

    for function in [suggest_record_only_on_stdout, suggest_refuses_and_zone_form, good_domain, vendor_advice_partial, vendor_advice_text, two_records, too_many_lookups,
                     wrong_include, no_spf, pdf_damaged_key, long_record_over_tcp, cname_domain,
                     domain_does_not_exist, many_domains_in_order, json_matches_schema, json_layouts, entries_separated,
                     only_spf,
                     workers_agree,
                     offline_and_online_agree]:
        test(function)


def strip_sources(value):
    """The JSON without the fields that name where answers came from (server address vs zone file)."""
    if isinstance(value, dict):
        return {k: strip_sources(v) for k, v in value.items() if k not in ("server", "detail")}
    if isinstance(value, list):
        return [strip_sources(v) for v in value]
    return value


def silent_server_tests():
    def server_never_answers():
        sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sink.bind(("127.0.0.1", 0))  # reads nothing, answers nothing
        port = sink.getsockname()[1]
        try:
            code, doc, _ = run_json("--server", f"127.0.0.1:{port}", "--timeout", "300", "--tries", "1",
                                    "good-shop.example")
        finally:
            sink.close()
        domain = doc["domains"][0]
        check(code == 3, f"exit {code}")
        check(domain["status"] == "dns_error", domain["status"])
        check(set(results(domain).values()) == {"temperror"}, results(domain))
        failure = domain["spf"]["results"][0]["dns_failure"]
        check(failure["status"] == "timeout" and str(port) in failure["server"], failure)

    def usage_errors():
        for args, fragment in [(["http://example.ee/"], "is a web address"),
                               (["--timeout", "abc", "example.ee"], "--timeout"),
                               (["--color", "pink", "example.ee"], "--color"),
                               (["--server", "1.2.3", "example.ee"], "not an IP address"),
                               (["--bogus", "example.ee"], "--bogus"),
                               ([], "no domain given"),
                               (["a" * 10000], "at most 253")]:
            code, out, err = run(*args)
            check(code == 2, f"{args[:2]}: exit {code}")
            check(fragment in err, f"{args[:2]}: {err!r}")
            check(out == "", f"{args[:2]}: stdout {out!r}")

    for function in [server_never_answers, usage_errors]:
        test(function)


def main():
    global BINARY
    BINARY = os.path.abspath(sys.argv[1])
    directory = tempfile.mkdtemp(prefix="sendcheck-cli-")
    zones = split_zones(DEMO, directory)
    with knot_server.KnotServer(zones) as server:
        online_tests(server.address)
    silent_server_tests()
    print(f"{len(FAILURES)} failed" if FAILURES else "all passed")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
