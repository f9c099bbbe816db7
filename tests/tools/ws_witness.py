#!/usr/bin/env python3
"""A WebSocket client that records what a server relays, for the tests.

Connects to ws://127.0.0.1:PORT/ with a subprotocol, prints "ready" on
stdout once upgraded, then writes one line per received message (the
payload in hex) to OUT until COUNT messages arrived or SECS passed. Raw
frames, no UTF-8 check: libwebsockets' mirror relays binary payloads (a
protobuf message) in text frames, which a strict client would refuse.
Standard library only; it is a witness, not the server under test."""
import argparse
import base64
import os
import socket
import sys
import time


def recv_exact(s, n, buf):
    while len(buf) < n:
        chunk = s.recv(65536)
        if not chunk:
            raise EOFError("server closed")
        buf += chunk
    out, rest = buf[:n], buf[n:]
    return out, rest


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--subprotocol", default="lws-mirror-protocol")
    ap.add_argument("--out", required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--secs", type=float, default=30)
    a = ap.parse_args()

    s = socket.create_connection(("127.0.0.1", a.port), timeout=a.secs)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{a.port}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
               f"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: {a.subprotocol}\r\n\r\n")
              .encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(4096)
        if not chunk:
            sys.exit("ws_witness: closed during the upgrade")
        buf += chunk
    head, _, buf = buf.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 101"):
        sys.exit("ws_witness: upgrade refused: " + head.split(b"\r\n")[0].decode(errors="replace"))
    print("ready", flush=True)

    deadline = time.monotonic() + a.secs
    got, message = 0, b""
    with open(a.out, "w") as out:
        while got < a.count and time.monotonic() < deadline:
            s.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                h, buf = recv_exact(s, 2, buf)
                n = h[1] & 0x7F
                if n == 126:
                    e, buf = recv_exact(s, 2, buf)
                    n = int.from_bytes(e, "big")
                elif n == 127:
                    e, buf = recv_exact(s, 8, buf)
                    n = int.from_bytes(e, "big")
                mask = None
                if h[1] & 0x80:  # servers do not mask, but undo it if one did
                    mask, buf = recv_exact(s, 4, buf)
                data, buf = recv_exact(s, n, buf)
                if mask:
                    data = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
            except (socket.timeout, EOFError):
                break
            opcode = h[0] & 0x0F
            if opcode >= 8:  # control frames: nothing to record
                if opcode == 8:
                    break
                continue
            message += data
            if h[0] & 0x80:  # FIN: a whole message
                out.write(message.hex() + "\n")
                out.flush()
                got += 1
                message = b""
    s.close()


if __name__ == "__main__":
    main()
