#!/usr/bin/python3
"""Start and stop a private knotd on a free loopback port, for integration tests.

Command line:
  knot_server.py start --zone FILE[:ORIGIN]... --dir DIR   prints "PORT PID" once knotd answers for every zone
  knot_server.py stop --dir DIR                            stops the knotd started with that DIR (by its PID)
  knot_server.py run --zone FILE[:ORIGIN]... [--dir DIR] -- COMMAND [ARG...]
      starts knotd, runs COMMAND with SENDCHECK_KNOT_PORT and SENDCHECK_KNOT_SERVER (127.0.0.1:PORT) set in its
      environment, stops knotd whatever happens (also on failure, Ctrl-C or SIGTERM) and exits with COMMAND's status.

From Python (no pytest needed):
  import knot_server
  with knot_server.KnotServer([("tests/zones/knot-test.zone", "knot.test")]) as server:
      ... server.port, server.pid, server.address ...

ORIGIN defaults to the zone file's first $ORIGIN, else its file name without ".zone". knotd runs as the current user
with its configuration, run and storage directories inside DIR, so it needs no root and touches nothing else.
"""

import argparse
import os
import pwd
import grp
import random
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

KNOTD = shutil.which("knotd") or "/usr/sbin/knotd"
START_TIMEOUT = 15.0
STOP_TIMEOUT = 5.0
PID_FILE = "knotd.pid"
PORT_FILE = "knotd.port"


class KnotError(Exception):
    """knotd could not be started or stopped."""


def zone_origin(path, origin=None):
    """The zone's origin: `origin`, else the file's first $ORIGIN, else its file name without .zone."""
    if origin:
        return origin.rstrip(".") + "."
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            fields = line.split(";", 1)[0].split()
            if len(fields) >= 2 and fields[0].upper() == "$ORIGIN":
                return fields[1].rstrip(".") + "."
    name = os.path.basename(path)
    if name.endswith(".zone"):
        name = name[: -len(".zone")]
    return name.rstrip(".") + "."


def parse_zone_argument(text):
    """FILE[:ORIGIN] → (absolute path, origin with trailing dot)."""
    path, _, origin = text.partition(":")
    path = os.path.abspath(path)
    if not os.path.isfile(path):
        raise KnotError(f"zone file not found: {path}")
    return path, zone_origin(path, origin or None)


def free_port():
    """A port free for both UDP and TCP on 127.0.0.1 right now."""
    for _ in range(50):
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            udp.bind(("127.0.0.1", 0))
            port = udp.getsockname()[1]
            tcp.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            udp.close()
            tcp.close()
    raise KnotError("no free loopback port")


def soa_query(origin, port, timeout=0.5):
    """Whether 127.0.0.1:port answers the SOA of `origin` authoritatively (NOERROR, AA, an answer)."""
    query_id = random.randint(0, 0xFFFF)
    labels = [label for label in origin.rstrip(".").split(".") if label]  # the root zone has none
    question = b"".join(bytes([len(label)]) + label.encode() for label in labels) + b"\0"
    packet = struct.pack(">HHHHHH", query_id, 0x0000, 1, 0, 0, 0) + question + struct.pack(">HH", 6, 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.sendto(packet, ("127.0.0.1", port))
            reply, _ = sock.recvfrom(4096)
        except OSError:
            return False
    if len(reply) < 12:
        return False
    reply_id, flags, _, answers = struct.unpack(">HHHH", reply[:8])
    return reply_id == query_id and (flags & 0x000F) == 0 and (flags & 0x0400) != 0 and answers >= 1


def write_config(directory, port, zones):
    user = pwd.getpwuid(os.getuid()).pw_name
    group = grp.getgrgid(os.getgid()).gr_name
    lines = [
        "server:",
        f'    rundir: "{directory}/run"',
        f"    user: {user}:{group}",
        f"    listen: 127.0.0.1@{port}",
        f'    pidfile: "{directory}/run/knot.pid"',
        "    udp-workers: 1",
        "    tcp-workers: 1",
        "    background-workers: 1",
        "database:",
        f'    storage: "{directory}/db"',
        "control:",
        f'    listen: "{directory}/run/knot.sock"',
        "log:",
        f'  - target: "{directory}/knotd.log"',
        "    any: info",
        "template:",
        "  - id: default",
        f'    storage: "{directory}/db"',
        "    zonefile-sync: -1",
        "    zonefile-load: whole",
        "    journal-content: none",
        "    semantic-checks: off",
        "zone:",
    ]
    for path, origin in zones:
        lines += [f'  - domain: "{origin}"', f'    file: "{path}"']
    config = os.path.join(directory, "knot.conf")
    with open(config, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    return config


def is_our_knotd(pid, directory):
    """Whether `pid` is a live knotd using the configuration in `directory` (never signal a reused PID)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            cmdline = handle.read().split(b"\0")
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            state = handle.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    config = os.path.join(directory, "knot.conf").encode()
    return state != "Z" and any(arg.endswith(b"knotd") for arg in cmdline) and config in cmdline


def start(zones, directory):
    """Starts knotd for `zones` [(path, origin)] with its files in `directory`; returns (port, pid)."""
    directory = os.path.abspath(directory)
    os.makedirs(os.path.join(directory, "run"), exist_ok=True)
    os.makedirs(os.path.join(directory, "db"), exist_ok=True)
    last_error = "knotd did not start"
    for _ in range(3):
        port = free_port()
        config = write_config(directory, port, zones)
        with open(os.path.join(directory, "knotd.out"), "ab") as out:
            process = subprocess.Popen([KNOTD, "-c", config], stdin=subprocess.DEVNULL, stdout=out,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        with open(os.path.join(directory, PID_FILE), "w", encoding="ascii") as handle:
            handle.write(f"{process.pid}\n")
        with open(os.path.join(directory, PORT_FILE), "w", encoding="ascii") as handle:
            handle.write(f"{port}\n")
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if process.poll() is not None:
                last_error = f"knotd exited with status {process.returncode}; see {directory}/knotd.log"
                break
            if all(soa_query(origin, port) for _, origin in zones):
                return port, process.pid
            time.sleep(0.05)
        else:
            last_error = f"knotd did not answer within {START_TIMEOUT} s; see {directory}/knotd.log"
            stop(directory)
    raise KnotError(last_error)


def stop(directory):
    """Stops the knotd started with `directory`, by the PID it recorded. Returns whether one was running."""
    directory = os.path.abspath(directory)
    pid_path = os.path.join(directory, PID_FILE)
    try:
        with open(pid_path, encoding="ascii") as handle:
            pid = int(handle.read().strip())
    except (OSError, ValueError):
        return False
    running = is_our_knotd(pid, directory)
    if running:
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        while is_our_knotd(pid, directory) and time.monotonic() < deadline:
            reap(pid)
            time.sleep(0.05)
        if is_our_knotd(pid, directory):
            os.kill(pid, signal.SIGKILL)
        reap(pid)
    os.unlink(pid_path)
    return running


def reap(pid):
    """Collects `pid`'s exit status when it is our child (no zombie left behind)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


class KnotServer:
    """A knotd for the life of a `with` block: `with KnotServer([(file, origin)]) as server: server.port`."""

    def __init__(self, zones, directory=None):
        self.zones = [(os.path.abspath(path), zone_origin(path, origin)) for path, origin in zones]
        self._own_directory = directory is None
        self.directory = tempfile.mkdtemp(prefix="sendcheck-knot-") if directory is None else directory
        self.port = None
        self.pid = None

    @property
    def address(self):
        """The server as "127.0.0.1:PORT"."""
        return f"127.0.0.1:{self.port}"

    def __enter__(self):
        try:
            self.port, self.pid = start(self.zones, self.directory)
        except BaseException:
            self._cleanup()
            raise
        return self

    def __exit__(self, *exc):
        stop(self.directory)
        self._cleanup()
        return False

    def _cleanup(self):
        if self._own_directory and os.environ.get("SENDCHECK_KEEP_KNOT_DIR") is None:
            shutil.rmtree(self.directory, ignore_errors=True)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    commands = parser.add_subparsers(dest="command", required=True)
    start_parser = commands.add_parser("start", help="start knotd; print PORT PID")
    start_parser.add_argument("--zone", action="append", required=True, metavar="FILE[:ORIGIN]")
    start_parser.add_argument("--dir", required=True)
    stop_parser = commands.add_parser("stop", help="stop the knotd started with --dir")
    stop_parser.add_argument("--dir", required=True)
    run_parser = commands.add_parser("run", help="run a command with knotd up")
    run_parser.add_argument("--zone", action="append", required=True, metavar="FILE[:ORIGIN]")
    run_parser.add_argument("--dir")
    run_parser.add_argument("cmd", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)

    try:
        if args.command == "start":
            port, pid = start([parse_zone_argument(z) for z in args.zone], args.dir)
            print(f"{port} {pid}", flush=True)
            return 0
        if args.command == "stop":
            stop(args.dir)
            return 0
        command = args.cmd[1:] if args.cmd and args.cmd[0] == "--" else args.cmd
        if not command:
            parser.error("run needs a command after --")
        zones = [parse_zone_argument(z) for z in args.zone]
        # SIGTERM (ctest --timeout) becomes an exception so that the `with` block stops knotd.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
        with KnotServer(zones, args.dir) as server:
            env = dict(os.environ, SENDCHECK_KNOT_PORT=str(server.port), SENDCHECK_KNOT_SERVER=server.address)
            return subprocess.call(command, env=env)
    except KnotError as error:
        print(f"knot_server.py: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
