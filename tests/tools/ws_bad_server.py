#!/usr/bin/python3
"""Misbehaving WebSocket servers for blast's failure tests.

Not a WebSocket implementation: a plain TCP server on 127.0.0.1 that
reads an HTTP upgrade request and then misbehaves in one of three ways:

  --mode 400    answers the upgrade with "HTTP/1.1 400 Bad Request" and
                closes the connection.
  --mode close  completes the handshake (Sec-WebSocket-Accept per RFC 6455
                section 4.2.2, echoing the first offered subprotocol unless
                --subprotocol says otherwise), reads --frames client frames
                (answering pings), then sends a close frame with --code
                (default 1001) and --reason, waits up to 2 s for the
                client's close frame and closes the socket.
  --mode drop   completes the handshake, reads --frames client frames, then
                drops the TCP connection without a close frame (SO_LINGER 0:
                the client sees a reset).

With --frames 0 (close, drop) it acts right after the handshake.
--wrong-accept makes the handshake's Sec-WebSocket-Accept the one for
another key; --subprotocol answers a subprotocol of its choice. Every
connection is handled on its own thread, so with several blast connections
each one gets the same treatment. Prints "port=N" (stdout, flushed) once it
listens (bind to port 0 unless --port is given), one "conn ..." line per
connection on stderr, and exits 0 on SIGTERM or SIGINT.

Standard library only; run with Debian's /usr/bin/python3 or any python3.
"""
import argparse
import base64
import hashlib
import signal
import socket
import struct
import sys
import threading

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def log(msg):
    # One write per line: print() writes the text and its newline apart, so
    # two connection threads logging at once could share a line.
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()


def read_request(sock):
    """Returns the header block (bytes up to CRLFCRLF) and what followed."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(4096)
        if not chunk:
            return None, b""
        buf += chunk
        if len(buf) > 65536:
            return None, b""
    head, _, rest = buf.partition(b"\r\n\r\n")
    return head, rest


def headers_of(head):
    lines = head.split(b"\r\n")
    hdrs = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        hdrs[name.strip().lower().decode("latin-1")] = value.strip().decode("latin-1")
    return lines[0].decode("latin-1"), hdrs


def read_exact(sock, n, pending):
    while len(pending) < n:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("peer closed")
        pending += chunk
    return pending[:n], pending[n:]


def read_frame(sock, pending):
    """One client frame: (fin, opcode, payload, rest). Unmasks."""
    hdr, pending = read_exact(sock, 2, pending)
    fin, op = hdr[0] >> 7, hdr[0] & 0x0F
    masked, n = hdr[1] >> 7, hdr[1] & 0x7F
    if n == 126:
        ext, pending = read_exact(sock, 2, pending)
        n = struct.unpack(">H", ext)[0]
    elif n == 127:
        ext, pending = read_exact(sock, 8, pending)
        n = struct.unpack(">Q", ext)[0]
    key = b""
    if masked:
        key, pending = read_exact(sock, 4, pending)
    data, pending = read_exact(sock, n, pending)
    if masked:
        data = bytes(b ^ key[i % 4] for i, b in enumerate(data))
    return fin, op, data, pending


def frame(op, payload):
    """An unmasked server frame."""
    n = len(payload)
    if n < 126:
        hdr = struct.pack(">BB", 0x80 | op, n)
    elif n < 65536:
        hdr = struct.pack(">BBH", 0x80 | op, 126, n)
    else:
        hdr = struct.pack(">BBQ", 0x80 | op, 127, n)
    return hdr + payload


def handshake(sock, args, hdrs):
    key = hdrs.get("sec-websocket-key", "")
    if args.wrong_accept:
        key = "x" + key  # the accept for another key (RFC 6455 4.1 item 4 fails)
    accept = base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()
    lines = [
        "HTTP/1.1 101 Switching Protocols",
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Accept: " + accept,
    ]
    sub = args.subprotocol
    if sub is None:
        offered = hdrs.get("sec-websocket-protocol", "")
        sub = offered.split(",")[0].strip()
    if sub:
        lines.append("Sec-WebSocket-Protocol: " + sub)
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())


def handle(sock, addr, args):
    tag = "conn %s:%d" % addr
    try:
        head, pending = read_request(sock)
        if head is None:
            log(tag + ": no request")
            return
        line, hdrs = headers_of(head)
        if args.mode == "400":
            body = b"bad request\n"
            sock.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\n"
                         b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
            log(tag + ": " + line + " -> 400")
            sock.shutdown(socket.SHUT_WR)
            return
        handshake(sock, args, hdrs)
        got = 0
        while got < args.frames:
            fin, op, data, pending = read_frame(sock, pending)
            if op == 0x9:  # ping: answer, not counted
                sock.sendall(frame(0xA, data))
                continue
            if op == 0x8:
                log(tag + ": client closed after %d frames" % got)
                return
            got += 1
        if args.mode == "drop":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            log(tag + ": dropped after %d frames" % got)
            return
        sock.sendall(frame(0x8, struct.pack(">H", args.code) + args.reason.encode()))
        log(tag + ": sent close %d after %d frames" % (args.code, got))
        # Wait for the client's close frame (or EOF), then close.
        sock.settimeout(2)
        try:
            while True:
                _, op, _, pending = read_frame(sock, pending)
                if op == 0x8:
                    log(tag + ": client answered close")
                    break
        except (OSError, ConnectionError):
            pass
    except (OSError, ConnectionError) as e:
        log(tag + ": " + str(e))
    finally:
        sock.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mode", required=True, choices=("400", "close", "drop"))
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--frames", type=int, default=10,
                    help="client frames to read before closing or dropping (default 10)")
    ap.add_argument("--code", type=int, default=1001, help="close code (default 1001)")
    ap.add_argument("--reason", default="going away", help="close reason")
    ap.add_argument("--subprotocol", default=None,
                    help="Sec-WebSocket-Protocol to answer (default: the first offered; '' for none)")
    ap.add_argument("--wrong-accept", action="store_true",
                    help="answer with the Sec-WebSocket-Accept of another key")
    args = ap.parse_args()

    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", args.port))
    srv.listen(128)

    def stop(signum, _frame):
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("port=%d" % srv.getsockname()[1], flush=True)
    while True:
        sock, addr = srv.accept()
        threading.Thread(target=handle, args=(sock, addr, args), daemon=True).start()


if __name__ == "__main__":
    main()
