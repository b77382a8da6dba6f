#!/usr/bin/python3
"""A loopback DNS forwarder that answers every query after a fixed delay (the latency step of bench/run.sh).

Usage: delay_forwarder.py --upstream 127.0.0.1:PORT [--delay-ms 20] [--port 0] [--log FILE]

Listens on 127.0.0.1:PORT (UDP and TCP, the same port; 0 = a free one), forwards each query unchanged to the upstream
server (UDP queries over UDP, TCP queries over TCP) and sends the upstream's answer back --delay-ms after the query
arrived (or when the upstream answers, if that is later). So every query costs one simulated round trip of the delay,
whether the client asks one at a time or many at once. The arrival is stamped when the datagram is read, and the
answer leaves within about 0.1 ms of its time: asyncio's timers wake up to a millisecond late (epoll's timeout is in
whole milliseconds, rounded up), which over five waits would add as much as the checker's own start-up, so the last
two milliseconds are waited out on the clock. Prints "PORT PID" on standard output once it listens, then serves until
SIGTERM or SIGINT.

With --log, appends one line per query as it arrives: "MILLISECONDS TRANSPORT TYPE NAME" (milliseconds since the
forwarder started, monotonic clock), flushed at once, so a caller can tell which queries a client sent together and
which one after another.
"""

import argparse
import asyncio
import os
import signal
import socket
import struct
import sys
import time

QTYPES = {1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 12: "PTR", 15: "MX", 16: "TXT", 28: "AAAA", 33: "SRV", 255: "ANY"}
UPSTREAM_TIMEOUT = 5.0
SPIN = 0.002  # the end of each wait is spent checking the clock instead of in asyncio's timer (see above)


def question(packet):
    """(name, type) of a DNS message's first question; ("?", "?") when it cannot be read."""
    try:
        if struct.unpack(">H", packet[4:6])[0] < 1:
            return "?", "?"
        labels, offset = [], 12
        while packet[offset]:
            length = packet[offset]
            if length & 0xC0:
                return "?", "?"
            labels.append(packet[offset + 1:offset + 1 + length].decode("ascii", "backslashreplace"))
            offset += 1 + length
        qtype = struct.unpack(">H", packet[offset + 1:offset + 3])[0]
        return ".".join(labels) + ".", QTYPES.get(qtype, f"TYPE{qtype}")
    except (IndexError, struct.error):
        return "?", "?"


class Forwarder:
    def __init__(self, upstream, delay, log):
        self.upstream = upstream
        self.delay = delay
        self.log = log
        self.start = time.monotonic()

    def note(self, transport, packet, arrived=None):
        arrived = time.monotonic() if arrived is None else arrived
        if self.log:
            name, qtype = question(packet)
            self.log.write(f"{(arrived - self.start) * 1000:.3f} {transport} {qtype} {name}\n")
            self.log.flush()
        return arrived

    async def wait_until(self, deadline):
        remaining = deadline - time.monotonic()
        if remaining > SPIN:
            await asyncio.sleep(remaining - SPIN)
        while time.monotonic() < deadline:
            pass  # at most SPIN seconds; the answers of one wave are due together, so nothing else waits meanwhile

    async def forward_udp(self, packet, reply_to, transport, arrived):
        arrived = self.note("udp", packet, arrived)
        loop = asyncio.get_running_loop()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.setblocking(False)
            sock.connect(self.upstream)
            try:
                await loop.sock_sendall(sock, packet)
                answer = await asyncio.wait_for(loop.sock_recv(sock, 65535), UPSTREAM_TIMEOUT)
            except (OSError, asyncio.TimeoutError):
                return  # no answer: the client times out, as it would with a lost packet
        await self.wait_until(arrived + self.delay)
        transport.sendto(answer, reply_to)

    async def serve_tcp(self, reader, writer):
        upstream_reader = upstream_writer = None
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.upstream)
            while True:
                length = struct.unpack(">H", await reader.readexactly(2))[0]
                packet = await reader.readexactly(length)
                arrived = self.note("tcp", packet)
                upstream_writer.write(struct.pack(">H", length) + packet)
                await upstream_writer.drain()
                answer_length = struct.unpack(">H", await upstream_reader.readexactly(2))[0]
                answer = await upstream_reader.readexactly(answer_length)
                await self.wait_until(arrived + self.delay)
                writer.write(struct.pack(">H", answer_length) + answer)
                await writer.drain()
        except (asyncio.IncompleteReadError, OSError):
            pass
        finally:
            for w in (writer, upstream_writer):
                if w is not None:
                    w.close()


class UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, forwarder):
        self.forwarder = forwarder
        self.transport = None
        self.tasks = set()

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        arrived = time.monotonic()
        task = asyncio.get_running_loop().create_task(self.forwarder.forward_udp(data, addr, self.transport, arrived))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)


def bind_pair(port):
    """A UDP and a TCP socket bound to the same 127.0.0.1 port (`port`, or a free one when 0)."""
    for _ in range(50):
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            udp.bind(("127.0.0.1", port))
            tcp.bind(("127.0.0.1", udp.getsockname()[1]))
            tcp.listen(64)
            return udp, tcp
        except OSError:
            udp.close()
            tcp.close()
            if port:
                raise
    raise OSError("no free loopback port for UDP and TCP")


async def serve(args):
    host, _, port = args.upstream.rpartition(":")
    log = open(args.log, "a", encoding="utf-8") if args.log else None
    forwarder = Forwarder((host or "127.0.0.1", int(port)), args.delay_ms / 1000.0, log)
    udp, tcp = bind_pair(args.port)
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(lambda: UdpProtocol(forwarder), sock=udp)
    server = await asyncio.start_server(forwarder.serve_tcp, sock=tcp)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"{udp.getsockname()[1]} {os.getpid()}", flush=True)
    await stop.wait()
    server.close()
    transport.close()
    if log:
        log.close()


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--upstream", required=True, help="IP:PORT of the server to forward to")
    parser.add_argument("--delay-ms", type=float, default=20.0, help="answer this long after the query (default 20)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default: a free one)")
    parser.add_argument("--log", help="append one line per query to this file")
    asyncio.run(serve(parser.parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
