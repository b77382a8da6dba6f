#!/usr/bin/python3
"""A scripted loopback DNS responder for what a real server will not send (tests only).

Answers UDP and TCP on one free 127.0.0.1 port from a *scenario*: a Python dict (or a Python file defining
SCENARIO) of the form

    {
      "records": {name: [(TYPE, value), ...]},   # TYPE: A AAAA MX TXT CNAME PTR; TXT value: a list of strings
                                                 # (str or bytes, any octets), MX value: (preference, exchange)
      "rules": {name or "name/TYPE": {...}},     # how to misbehave for that question (see below)
      "default": {...},                          # a rule for every other question
    }

Rules (combinable): "rcode": "SERVFAIL" | "REFUSED" | ...; "drop": True (never answer); "delay_ms": N (answer
late); "wrong_id": True (answer with another message ID); "wrong_name": True (answer with another question name);
"no_tcp": True (UDP answers that do not fit say TC, and TCP connections are closed unanswered); "udp_tc": True (set
TC on every UDP answer, forcing TCP).

Names without records answer NXDOMAIN (NODATA when a record of another type or a name below exists). CNAMEs are
followed inside the zone (loops stop after 16 hops, as a server would). An answer too big for one message keeps
as many records as fit in 65,535 octets; a UDP answer over 512 octets (the query's EDNS size when it has one) is
sent as an empty answer with TC set, so the client retries over TCP.

Usage:
  hostile_dns.py serve SCENARIO.py [--port-file FILE] [--log FILE]
  hostile_dns.py run SCENARIO.py [--log FILE] -- COMMAND...   (server on a free port in a child process,
       its address in $SENDCHECK_HOSTILE_SERVER, stopped by PID when COMMAND ends; exits with COMMAND's status)
"""

import os
import runpy
import signal
import socket
import socketserver
import struct
import subprocess
import sys
import threading
import time

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.MX
import dns.rdtypes.ANY.TXT
import dns.rdtypes.IN.A
import dns.rrset

MAX_MESSAGE = 65535
MAX_CNAME_HOPS = 16


def normalize(name):
    return name.lower().rstrip('.')


class Scenario:
    """The records and rules of one scenario, and the query log."""

    def __init__(self, spec, log_path=None):
        self.records = {normalize(k): list(v) for k, v in spec.get('records', {}).items()}
        self.rules = {k.lower(): v for k, v in spec.get('rules', {}).items()}
        self.default = spec.get('default', {})
        self.log_path = log_path
        self.lock = threading.Lock()
        self.cache = {}

    def warm(self):
        """Builds the answers to questions with many records now, so the first query is not slowed down."""
        for name, entries in self.records.items():
            types = [t for t, _ in entries]
            for rdtype in set(types):
                if types.count(rdtype) > 100:
                    # Both shapes of query: without EDNS, and with sendcheck's (EDNS, 1232-octet payload).
                    for edns in ({}, {'use_edns': 0, 'payload': 1232}):
                        query = dns.message.make_query(name + '.', rdtype, **edns)
                        answer(self, query.to_wire(), 'warm')

    def rule(self, name, rdtype):
        return self.rules.get(f'{name}/{rdtype}'.lower(), self.rules.get(name, self.default))

    def log(self, transport, name, rdtype):
        if self.log_path and transport != 'warm':
            with self.lock, open(self.log_path, 'a', encoding='utf-8') as out:
                out.write(f'{transport} {name} {rdtype}\n')

    def exists(self, name):
        return name in self.records or any(other.endswith('.' + name) for other in self.records)


def make_rdata(rdtype, value):
    if rdtype == 'TXT':
        strings = [s.encode('latin-1') if isinstance(s, str) else bytes(s) for s in value]
        return dns.rdtypes.ANY.TXT.TXT(dns.rdataclass.IN, dns.rdatatype.TXT, strings)
    if rdtype == 'A':
        return dns.rdtypes.IN.A.A(dns.rdataclass.IN, dns.rdatatype.A, value)
    if rdtype == 'MX':
        return dns.rdtypes.ANY.MX.MX(dns.rdataclass.IN, dns.rdatatype.MX, value[0],
                                     dns.name.from_text(value[1].rstrip('.') + '.'))
    if rdtype in ('CNAME', 'PTR'):
        return dns.rdata.from_text('IN', rdtype, value.rstrip('.') + '.')
    return dns.rdata.from_text('IN', rdtype, value)


def fit(response, owner, rdtype, values, limit):
    """Adds an RRset of as many of `values` (of type `rdtype` at `owner`) to `response` as fit in `limit` octets.
    Records of one type at one name have (nearly) the same wire size once names are compressed, so the count is
    estimated from the sizes with one and two records and then corrected; only those records are built."""

    def rrset_of(count):
        rrset = dns.rrset.RRset(owner, dns.rdataclass.IN, dns.rdatatype.from_text(rdtype))
        for value in values[:count]:
            rrset.add(make_rdata(rdtype, value), 300)
        return rrset

    def size(count):
        response.answer.append(rrset_of(count))
        try:  # max_size: else dnspython stops at the query's EDNS payload size (1232 for sendcheck's queries)
            return len(response.to_wire(max_size=MAX_MESSAGE))
        finally:
            response.answer.pop()

    count = len(values)
    if count > 2:
        one, two = size(1), size(2)
        count = min(count, max(1, (limit - one) // max(1, two - one) + 1))
    while count > 0 and size(count) > limit:
        count -= max(1, count // 100)
    response.answer.append(rrset_of(count))


def build_response(scenario, query, rule):
    """The full answer to `query` (no transport limits applied yet)."""
    response = dns.message.make_response(query)
    response.flags |= dns.flags.AA
    question = query.question[0]
    rdtype = dns.rdatatype.to_text(question.rdtype)
    if 'rcode' in rule:
        response.set_rcode(dns.rcode.from_text(rule['rcode']))
        return response
    name = normalize(question.name.to_text())
    owner = question.name
    for _ in range(MAX_CNAME_HOPS):
        entries = scenario.records.get(name, [])
        cnames = [v for t, v in entries if t == 'CNAME']
        if cnames and rdtype != 'CNAME':
            rrset = dns.rrset.RRset(owner, dns.rdataclass.IN, dns.rdatatype.CNAME)
            rrset.add(make_rdata('CNAME', cnames[0]), 300)
            response.answer.append(rrset)
            name = normalize(cnames[0])
            owner = dns.name.from_text(name + '.')
            continue
        matching = [v for t, v in entries if t == rdtype]
        if matching:
            fit(response, owner, rdtype, matching, MAX_MESSAGE)
        elif not scenario.exists(name) and not response.answer:
            response.set_rcode(dns.rcode.NXDOMAIN)
        break
    return response


def answer(scenario, wire, transport):
    """The wire answer to the query `wire`, or None to stay silent; may sleep first."""
    try:
        query = dns.message.from_wire(wire)
    except Exception:  # noqa: BLE001 - garbage in: say nothing, as a server would
        return None
    if not query.question:
        return None
    question = query.question[0]
    name = normalize(question.name.to_text())
    rdtype = dns.rdatatype.to_text(question.rdtype)
    scenario.log(transport, name, rdtype)
    rule = scenario.rule(name, rdtype)
    if rule.get('drop'):
        return None
    if transport == 'tcp' and rule.get('no_tcp'):
        return None
    if rule.get('wrong_name'):
        response = build_response(scenario, query, rule)
        response.question[0] = dns.rrset.RRset(dns.name.from_text('wrong.' + name + '.'), question.rdclass,
                                               question.rdtype)
        full = response.to_wire(max_size=MAX_MESSAGE)
    else:
        # Answers are cached as wire data for the question and the query's shape; only the ID differs.
        key = (question.name.to_text(), question.rdtype, query.flags, query.edns, query.payload)
        if key not in scenario.cache:
            scenario.cache[key] = build_response(scenario, query, rule).to_wire(max_size=MAX_MESSAGE)
        full = scenario.cache[key]
    message_id = (query.id + 1) % 65536 if rule.get('wrong_id') else query.id
    out = struct.pack('!H', message_id) + full[2:]
    limit = max(512, query.payload) if query.edns >= 0 else 512
    if transport == 'udp' and (len(out) > limit or rule.get('udp_tc')):
        truncated = dns.message.from_wire(out, question_only=True)
        truncated.flags |= dns.flags.TC
        out = truncated.to_wire()
    if rule.get('delay_ms'):
        time.sleep(rule['delay_ms'] / 1000.0)
    return out


class UdpHandler(socketserver.BaseRequestHandler):
    def handle(self):
        data, sock = self.request
        out = answer(self.server.scenario, data, 'udp')
        if out is not None:
            sock.sendto(out, self.client_address)


class TcpHandler(socketserver.BaseRequestHandler):
    def handle(self):
        sock = self.request
        sock.settimeout(5)
        try:
            while True:
                head = self.read(2)
                if head is None:
                    return
                (length,) = struct.unpack('!H', head)
                data = self.read(length)
                if data is None:
                    return
                out = answer(self.server.scenario, data, 'tcp')
                if out is None:
                    return
                sock.sendall(struct.pack('!H', len(out)) + out)
        except OSError:
            return

    def read(self, count):
        data = b''
        while len(data) < count:
            chunk = self.request.recv(count - len(data))
            if not chunk:
                return None
            data += chunk
        return data


class ThreadingUdp(socketserver.ThreadingMixIn, socketserver.UDPServer):
    daemon_threads = True


class ThreadingTcp(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


def start(scenario):
    """Starts UDP and TCP servers on one free loopback port; returns (port, servers)."""
    for _ in range(50):
        udp = ThreadingUdp(('127.0.0.1', 0), UdpHandler)
        port = udp.server_address[1]
        try:
            tcp = ThreadingTcp(('127.0.0.1', port), TcpHandler)
        except OSError:
            udp.server_close()
            continue
        for server in (udp, tcp):
            server.scenario = scenario
            threading.Thread(target=server.serve_forever, daemon=True).start()
        return port, (udp, tcp)
    raise RuntimeError('no free loopback port for UDP and TCP')


def load_scenario(path):
    return runpy.run_path(path)['SCENARIO']


def option(args, flag):
    if flag in args:
        at = args.index(flag)
        value = args[at + 1]
        del args[at:at + 2]
        return value
    return None


def serve(args):
    port_file = option(args, '--port-file')
    log = option(args, '--log')
    scenario = Scenario(load_scenario(args[0]), log)
    scenario.warm()
    port, _ = start(scenario)
    if port_file:
        with open(port_file + '.tmp', 'w', encoding='utf-8') as out:
            out.write(f'{port}\n')
        os.replace(port_file + '.tmp', port_file)
    else:
        print(port, flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    return 0


class Server:
    """A responder in a child process, for tests: `with Server(path) as server: server.address`."""

    def __init__(self, scenario_path, log=None):
        self.scenario_path = scenario_path
        self.log = log
        self.process = None
        self.port = None

    def __enter__(self):
        command = [sys.executable, os.path.abspath(__file__), 'serve', self.scenario_path]
        if self.log:
            command += ['--log', self.log]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()
        if not line.strip().isdigit():
            self.process.kill()
            raise RuntimeError('the hostile DNS responder did not start')
        self.port = int(line)
        return self

    @property
    def address(self):
        return f'127.0.0.1:{self.port}'

    def __exit__(self, *exc):
        os.kill(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()
        return False


def run(args):
    log = option(args, '--log')
    if '--' not in args:
        print(__doc__, file=sys.stderr)
        return 2
    split = args.index('--')
    with Server(args[0], log) as server:
        env = dict(os.environ, SENDCHECK_HOSTILE_SERVER=server.address, SENDCHECK_HOSTILE_LOG=log or "")
        return subprocess.call(args[split + 1:], env=env)


def main():
    args = sys.argv[1:]
    if len(args) >= 2 and args[0] == 'serve':
        return serve(args[1:])
    if len(args) >= 2 and args[0] == 'run':
        return run(args[1:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == '__main__':
    sys.exit(main())
