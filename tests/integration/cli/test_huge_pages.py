#!/usr/bin/python3
"""test_huge_pages.py SENDCHECK DEMO_ZONE: a list run (-f, --file) of a sendcheck built with mimalloc asks it for
transparent huge pages, a single check does not, MIMALLOC_LARGE_OS_PAGES in the environment overrides the choice,
and mimalloc's other options are left as they are (src/main.cpp). Reads the options mimalloc reports with MIMALLOC_VERBOSE=1."""
import os
import subprocess
import sys
import tempfile

BINARY, ZONE = sys.argv[1], sys.argv[2]
failures = []


def options(*args, env=None):
    """mimalloc's large_os_pages and eager_commit_delay for a run of sendcheck with `args`."""
    done = subprocess.run([BINARY, "--offline", "--zone", ZONE, *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {}), "MIMALLOC_VERBOSE": "1", "NO_COLOR": "1"})
    if done.returncode not in (0, 1):
        failures.append(f"{args}: exit code {done.returncode}: {done.stderr[-500:]}")
    found = {}
    for line in done.stderr.splitlines():
        for name in ("large_os_pages", "eager_commit_delay"):
            if line.startswith(f"mimalloc: option '{name}': "):
                found[name] = int(line.rsplit(":", 1)[1])
    return found.get("large_os_pages"), found.get("eager_commit_delay")


def expect(label, got, want):
    if got != want:
        failures.append(f"{label}: (large_os_pages, eager_commit_delay) = {got}, expected {want}")


with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as listing:
    listing.write("good-shop.example\n")
try:
    expect("-f FILE", options("-f", listing.name), (1, 1))
    expect("--file=FILE", options(f"--file={listing.name}"), (1, 1))
    expect("one domain", options("good-shop.example"), (0, 1))
    expect("-f FILE with MIMALLOC_LARGE_OS_PAGES=0",
           options("-f", listing.name, env={"MIMALLOC_LARGE_OS_PAGES": "0"}), (0, 1))
    expect("-f FILE with MIMALLOC_EAGER_COMMIT_DELAY=0 (the environment's other options are mimalloc's)",
           options("-f", listing.name, env={"MIMALLOC_EAGER_COMMIT_DELAY": "0"}), (1, 0))
finally:
    os.unlink(listing.name)

for failure in failures:
    print("FAIL:", failure)
print(f"{'FAILED' if failures else 'ok'}: huge pages for list runs")
sys.exit(1 if failures else 0)
