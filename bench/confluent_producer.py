#!/usr/bin/python3
"""A confluent_kafka producer as people write it, for bench/vs-peers.sh.

Produces --messages records of --payload-size bytes (NULL key) to --topic as
fast as the client's queue takes them, polls for delivery reports, flushes,
and prints one line: delivered=, failed=, secs= (first produce -> last
delivery report), rate= (delivered / secs), p50_us=, p99_us= (librdkafka's
own per-message latency, produce() -> delivery report: msg.latency()),
cpu_s= (this process, its librdkafka threads included).
Exit 0 when every record was delivered, 1 otherwise, 2 on bad arguments.
Run with Debian's /usr/bin/python3 (python3-confluent-kafka).
"""
import argparse
import resource
import sys
import time

from confluent_kafka import KafkaException, Producer


def pct(vals, q):
    if not vals:
        return 0.0
    return vals[min(len(vals) - 1, max(0, int(round(q * len(vals) + 0.5)) - 1))]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--bootstrap", required=True)
    p.add_argument("--topic", required=True)
    p.add_argument("--messages", type=int, required=True)
    p.add_argument("--payload-size", type=int, default=64)
    p.add_argument("--acks", default="all")
    p.add_argument("--linger-ms", type=int, default=5)
    p.add_argument("--timeout", type=float, default=60)
    a = p.parse_args()
    if a.messages < 1 or a.payload_size < 0:
        p.error("--messages >= 1, --payload-size >= 0")

    prod = Producer({"bootstrap.servers": a.bootstrap, "acks": a.acks,
                     "linger.ms": a.linger_ms, "queue.buffering.max.messages": 1000000})
    lat = []
    state = {"failed": 0, "last": None}

    def on_delivery(err, msg):
        if err is not None:
            state["failed"] += 1
            return
        lat.append(msg.latency())
        state["last"] = time.monotonic()

    payload = b"x" * a.payload_size
    t0 = time.monotonic()
    deadline = t0 + a.timeout
    sent = 0
    try:
        while sent < a.messages and time.monotonic() < deadline:
            try:
                prod.produce(a.topic, payload, on_delivery=on_delivery)
                sent += 1
            except BufferError:
                prod.poll(0.01)
                continue
            prod.poll(0)
        left = prod.flush(max(0.1, deadline - time.monotonic()))
    except KafkaException as e:
        print("confluent_producer.py: %s" % e, file=sys.stderr)
        left = a.messages - len(lat) - state["failed"]
    secs = (state["last"] or time.monotonic()) - t0
    lat.sort()
    r = resource.getrusage(resource.RUSAGE_SELF)
    print("delivered=%d failed=%d unsent=%d undelivered=%d secs=%.6f rate=%.1f p50_us=%.1f "
          "p99_us=%.1f cpu_s=%.3f" % (
              len(lat), state["failed"], a.messages - sent, left, secs,
              len(lat) / secs if secs > 0 else 0, pct(lat, 0.5) * 1e6, pct(lat, 0.99) * 1e6,
              r.ru_utime + r.ru_stime))
    return 0 if len(lat) == a.messages else 1


if __name__ == "__main__":
    sys.exit(main())
