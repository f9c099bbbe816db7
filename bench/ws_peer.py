#!/usr/bin/python3
"""The fan-out run of bench/ws.sh done with Python's websockets library.

S publisher connections send M messages in all (M / S each, as fast as the
library lets them) to a relay such as libwebsockets' lws-mirror-protocol; K
more connections only listen. Every connection counts what it receives: each
payload starts with "PEER <run> <seq> <monotonic ns>" so receipts are matched
to this run and timed end to end on one clock. The run ends when every
expected receipt (M x (S + K) for a relay that sends every message to every
client, the sender included) is in, or at --timeout.

Prints one line: sent=, expected=, received=, missing=, duplicates=, other=,
batch_s= (first send -> last receipt), send_s=, p50_us=, p99_us=, cpu_s=.
Exit 0 when nothing is missing, 1 otherwise, 2 on bad arguments.
Run it with Debian's /usr/bin/python3 (python3-websockets).
"""
import argparse
import asyncio
import os
import resource
import sys
import time

import websockets


def cpu_s():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def percentile(sorted_vals, q):
    if not sorted_vals:
        return 0.0
    i = min(len(sorted_vals) - 1, max(0, int(round(q * len(sorted_vals) + 0.5)) - 1))
    return sorted_vals[i]


class Conn:
    """One connection's receipts: seen sequence numbers and latencies."""

    def __init__(self):
        self.seen = bytearray()
        self.received = 0
        self.duplicates = 0
        self.other = 0
        self.lat_ns = []


async def reader(ws, conn, run, state):
    prefix = "PEER %s " % run
    async for msg in ws:
        now = time.monotonic_ns()
        if isinstance(msg, bytes):
            msg = msg.decode("ascii", "replace")
        if not msg.startswith(prefix):
            conn.other += 1
            continue
        parts = msg.split(" ", 4)
        seq, ts = int(parts[2]), int(parts[3])
        if seq >= len(conn.seen) or conn.seen[seq]:
            conn.duplicates += 1
            continue
        conn.seen[seq] = 1
        conn.received += 1
        conn.lat_ns.append(now - ts)
        state["last"] = now
        state["left"] -= 1
        if state["left"] == 0:
            state["done"].set()


async def publisher(ws, first, count, step, run, size, state):
    for k in range(count):
        seq = first + k * step
        head = "PEER %s %d %d " % (run, seq, time.monotonic_ns())
        if state["t0"] is None:
            state["t0"] = time.monotonic_ns()
        await ws.send(head + "x" * max(0, size - len(head)))
        state["sent"] += 1
    state["send_end"] = time.monotonic_ns()


async def main(a):
    run = "%08x" % (os.getpid() ^ (time.monotonic_ns() & 0xFFFFFFFF))
    head_max = len("PEER %s %d %d " % (run, a.messages, time.monotonic_ns()))
    if a.payload_size < head_max:
        print("ws_peer.py: --payload-size %d is below the %d-byte header" % (a.payload_size, head_max),
              file=sys.stderr)
        return 2
    nconn = a.publishers + a.listeners
    expected = a.messages * nconn
    state = {"left": expected, "done": asyncio.Event(), "t0": None, "last": None,
             "sent": 0, "send_end": None}
    opts = dict(subprotocols=[a.subprotocol] if a.subprotocol else None,
                compression=None, max_size=1 << 20, ping_interval=None, close_timeout=1)
    socks = [await asyncio.wait_for(websockets.connect(a.url, **opts), 10) for _ in range(nconn)]
    conns = [Conn() for _ in range(nconn)]
    for c in conns:
        c.seen = bytearray(a.messages)
    readers = [asyncio.create_task(reader(ws, c, run, state)) for ws, c in zip(socks, conns)]
    pubs = [publisher(socks[i], i, len(range(i, a.messages, a.publishers)), a.publishers,
                      run, a.payload_size, state) for i in range(a.publishers)]
    t_start = time.monotonic()
    try:
        await asyncio.wait_for(asyncio.gather(*pubs), a.timeout)
        await asyncio.wait_for(state["done"].wait(), max(0.1, a.timeout - (time.monotonic() - t_start)))
    except asyncio.TimeoutError:
        print("ws_peer.py: timed out after %.0f s (sent %d)" % (a.timeout, state["sent"]), file=sys.stderr)
    for t in readers:
        t.cancel()
    for i, c in enumerate(conns):
        if c.received != a.messages:
            print("ws_peer.py: connection %d received %d of %d (duplicates %d, other %d)" % (
                i, c.received, a.messages, c.duplicates, c.other), file=sys.stderr)
    for ws in socks:
        try:
            await asyncio.wait_for(ws.close(), 2)
        except (asyncio.TimeoutError, websockets.WebSocketException, OSError):
            pass

    lat = sorted(x for c in conns for x in c.lat_ns)
    received = sum(c.received for c in conns)
    t0 = state["t0"] or time.monotonic_ns()
    end = state["last"] or t0
    print("sent=%d expected=%d received=%d missing=%d duplicates=%d other=%d batch_s=%.6f "
          "send_s=%.6f p50_us=%.1f p99_us=%.1f cpu_s=%.3f" % (
              state["sent"], expected, received, expected - received,
              sum(c.duplicates for c in conns), sum(c.other for c in conns),
              (end - t0) / 1e9, ((state["send_end"] or t0) - t0) / 1e9,
              percentile(lat, 0.50) / 1e3, percentile(lat, 0.99) / 1e3, cpu_s()))
    return 0 if received == expected else 1


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--url", required=True)
    p.add_argument("--subprotocol", default="lws-mirror-protocol")
    p.add_argument("--publishers", type=int, default=1)
    p.add_argument("--listeners", type=int, default=1)
    p.add_argument("--messages", type=int, required=True)
    p.add_argument("--payload-size", type=int, default=58)
    p.add_argument("--timeout", type=float, default=60)
    a = p.parse_args()
    if a.publishers < 1 or a.listeners < 0 or a.messages < 1:
        p.error("--publishers >= 1, --listeners >= 0, --messages >= 1")
    sys.exit(asyncio.run(main(a)))
