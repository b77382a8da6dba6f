#!/usr/bin/python3
"""Self-test of knot_server.py: start/stop from the command line, the KnotServer context manager, `run`."""

import os
import socket
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ZONES = os.path.join(HERE, "..", "..", "zones")
sys.path.insert(0, HERE)

import knot_server  # noqa: E402

ZONE = os.path.join(ZONES, "knot-test.zone")
SCRIPT = os.path.join(HERE, "knot_server.py")


def check(condition, what):
    if not condition:
        print(f"FAIL: {what}", file=sys.stderr)
        sys.exit(1)
    print(f"ok: {what}")


def udp_truncated(name, qtype, port):
    """Whether a plain (non-EDNS) UDP query for `name` gets an answer with the TC bit set."""
    question = b"".join(bytes([len(label)]) + label.encode() for label in name.rstrip(".").split(".")) + b"\0"
    packet = struct.pack(">HHHHHH", 0x1234, 0, 1, 0, 0, 0) + question + struct.pack(">HH", qtype, 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(2)
        sock.sendto(packet, ("127.0.0.1", port))
        reply, _ = sock.recvfrom(4096)
    return len(reply) <= 512 and (struct.unpack(">H", reply[2:4])[0] & 0x0200) != 0


def main():
    check(knot_server.zone_origin(ZONE) == "knot.test.", "origin read from $ORIGIN")
    check(knot_server.zone_origin(ZONE, "x.example") == "x.example.", "origin given")

    with tempfile.TemporaryDirectory(prefix="sendcheck-knot-test-") as directory:
        out = subprocess.run([sys.executable, SCRIPT, "start", "--zone", ZONE, "--dir", directory],
                             check=True, capture_output=True, text=True).stdout.split()
        port, pid = int(out[0]), int(out[1])
        try:
            check(knot_server.soa_query("knot.test.", port), "start: knotd answers on the printed port")
            check(knot_server.is_our_knotd(pid, directory), "start: the printed PID is our knotd")
            check(not knot_server.soa_query("example.com.", port), "no answer for a zone it does not serve")
            check(udp_truncated("big.knot.test.", 16, port), "big.knot.test TXT is truncated over UDP (TCP test)")
        finally:
            subprocess.run([sys.executable, SCRIPT, "stop", "--dir", directory], check=True)
        check(not knot_server.is_our_knotd(pid, directory), "stop: knotd is gone")
        check(not os.path.exists(os.path.join(directory, "knotd.pid")), "stop: PID file removed")
        subprocess.run([sys.executable, SCRIPT, "stop", "--dir", directory], check=True)
        check(True, "stop twice is harmless")

    with knot_server.KnotServer([(ZONE, None)]) as server:
        check(knot_server.soa_query("knot.test.", server.port), "KnotServer: answers inside the with block")
        pid, directory = server.pid, server.directory
    check(not knot_server.is_our_knotd(pid, directory), "KnotServer: stopped after the with block")
    check(not os.path.exists(directory), "KnotServer: its temporary directory is removed")

    try:
        with knot_server.KnotServer([(ZONE, None)]) as server:
            pid, directory = server.pid, server.directory
            raise RuntimeError("a failing test")
    except RuntimeError:
        pass
    check(not knot_server.is_our_knotd(pid, directory), "KnotServer: stopped when the test fails")

    status = subprocess.call([sys.executable, SCRIPT, "run", "--zone", ZONE, "--", "sh", "-c",
                              'test -n "$SENDCHECK_KNOT_PORT" && test "$SENDCHECK_KNOT_SERVER" = '
                              '"127.0.0.1:$SENDCHECK_KNOT_PORT" && exit 7'])
    check(status == 7, "run: passes the server in the environment and returns the command's status")

    status = subprocess.call([sys.executable, SCRIPT, "start", "--zone", "/nonexistent.zone", "--dir", "/tmp/x"],
                             stderr=subprocess.DEVNULL)
    check(status == 1, "a missing zone file is an error")
    return 0


if __name__ == "__main__":
    sys.exit(main())
