#!/usr/bin/python3
"""The kind of service people point an HTTP load test at, for blast's HTTP
tests: a small Flask app (Debian python3-flask) on Werkzeug's threaded
server. Werkzeug 2.2 answers in HTTP/1.1 but closes the connection after
every response ("Connection: close"), so a client reconnects per request.

  GET /ping     -> 200 "PONG" (text/plain)
  GET /metrics  -> 200 JSON {"ping": N, "requests": M}: the /ping requests
                   and all requests answered so far, /metrics excepted,
                   counted by the server itself

Binds 127.0.0.1 (port 0 unless --port), prints "port=N" (stdout, flushed)
once it listens, and exits 0 on SIGTERM or SIGINT. Run with Debian's
/usr/bin/python3.
"""
import argparse
import signal
import sys
import threading

from flask import Flask, jsonify, request
from werkzeug.serving import WSGIRequestHandler, make_server

app = Flask(__name__)
lock = threading.Lock()
counts = {"ping": 0, "requests": 0}


@app.before_request
def count_request():
    if request.path != "/metrics":
        with lock:
            counts["requests"] += 1


@app.get("/ping")
def ping():
    with lock:
        counts["ping"] += 1
    return "PONG", 200, {"Content-Type": "text/plain"}


@app.get("/metrics")
def metrics():
    with lock:
        return jsonify(dict(counts))


class Quiet(WSGIRequestHandler):
    # HTTP/1.1 status lines (1.0 unless told); no log line per request.
    protocol_version = "HTTP/1.1"

    def log_request(self, *args, **kwargs):
        pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    srv = make_server("127.0.0.1", args.port, app, threaded=True, request_handler=Quiet)
    srv.daemon_threads = True

    def stop(*_):
        threading.Thread(target=srv.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    sys.stdout.write("port=%d\n" % srv.server_port)
    sys.stdout.flush()
    srv.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
