#!/usr/bin/python3
"""Misbehaving HTTP/1.1 servers for blast's failure tests.

Not an HTTP implementation: a plain TCP server on 127.0.0.1 that reads
request heads (up to the empty line; bodies by Content-Length) and answers
each in one of these ways:

  --mode silent     never answers (reads and discards)
  --mode nolength   "200 OK" without Content-Length, Transfer-Encoding or
                    Connection: close, a few body bytes, and the connection
                    left open: the body has no end the client can see
  --mode huge       "200 OK" with Content-Length: 10000000000 (10 GB) and a
                    few body bytes, connection left open
  --mode badchunk   "200 OK", Transfer-Encoding: chunked, and a chunk size
                    that is not hexadecimal ("zz")
  --mode reset      "200 OK" with Content-Length: 1000, 100 body bytes,
                    then a reset (SO_LINGER 0) mid-body
  --mode oneeach    answers the first request of each connection (a whole
                    keep-alive "200 OK"), then ends it in good order (FIN,
                    reading on until the client closes, as nginx's
                    lingering close): the requests pipelined behind are
                    never answered nor processed

Every connection runs on its own thread. Prints "port=N" (stdout, flushed)
once it listens (port 0 unless --port), one "requests=N" line on stderr per
request head read (oneeach: per request answered), and exits 0 on SIGTERM or SIGINT. Standard library only.
"""
import argparse
import signal
import socket
import struct
import sys
import threading

ANSWERS = {
    "nolength": b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\npartial",
    "huge": b"HTTP/1.1 200 OK\r\nContent-Length: 10000000000\r\n\r\nfirst bytes",
    "badchunk": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
    "reset": b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"x" * 100,
    "oneeach": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
}

lock = threading.Lock()
total = 0


def count():
    global total
    with lock:
        total += 1
        sys.stderr.write("requests=%d\n" % total)
        sys.stderr.flush()


def heads(sock):
    """Yields once per request head read; returns at EOF or an error."""
    buf = b""
    while True:
        while b"\r\n\r\n" not in buf:
            try:
                chunk = sock.recv(65536)
            except OSError:
                return
            if not chunk or len(buf) > 1 << 20:
                return
            buf += chunk
        head, _, buf = buf.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip() or 0)
        while len(buf) < length:
            try:
                chunk = sock.recv(65536)
            except OSError:
                return
            if not chunk:
                return
            buf += chunk
        buf = buf[length:]
        yield


def serve(sock, mode):
    try:
        for _ in heads(sock):
            count()
            if mode == "silent":
                continue
            sock.sendall(ANSWERS[mode])
            if mode == "oneeach":
                sock.shutdown(socket.SHUT_WR)
                while sock.recv(65536):
                    pass
                break
            if mode == "reset":
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                break
            # nolength, huge, badchunk: the stream is past saving; keep
            # the connection open and let the client decide.
    except OSError:
        pass
    finally:
        sock.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", required=True, choices=["silent"] + sorted(ANSWERS))
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", args.port))
    lsock.listen(128)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
    sys.stdout.write("port=%d\n" % lsock.getsockname()[1])
    sys.stdout.flush()
    while True:
        conn, _ = lsock.accept()
        threading.Thread(target=serve, args=(conn, args.mode), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
