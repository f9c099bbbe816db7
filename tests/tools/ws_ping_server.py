#!/usr/bin/python3
"""A WebSocket server that pings its clients and drops the silent ones.

The server is the websockets library's (Debian's python3-websockets): its
keepalive sends a ping every --ping-interval seconds and closes a
connection whose pong has not come within --ping-timeout (close code 1011,
"keepalive ping timeout"). Every message a client sends is relayed to every
connected client, the sender included (like libwebsockets' mirror, but
binary stays binary). Accepts any subprotocol the client offers first.

Prints "port=N" (stdout, flushed) once it listens on 127.0.0.1 (port 0
unless --port is given); one stderr line per closed connection, "closed
code=C reason=R" (C 1011 with reason "keepalive ping timeout" when the
server dropped a client that did not answer its pings); exits 0 on
SIGTERM or SIGINT.
"""
import argparse
import asyncio
import signal
import sys

import websockets


def log(msg):
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--ping-interval", type=float, default=0.3)
    ap.add_argument("--ping-timeout", type=float, default=0.6)
    a = ap.parse_args()
    clients = set()

    def pick_subprotocol(conn, offered):
        return offered[0] if offered else None

    async def handler(ws, path=None):
        clients.add(ws)
        try:
            async for msg in ws:
                websockets.broadcast(clients, msg)
        except websockets.ConnectionClosed:
            pass
        finally:
            clients.discard(ws)
            log(f"closed code={ws.close_code} reason={ws.close_reason}")

    class Server(websockets.WebSocketServerProtocol):
        async def process_request(self, path, headers):
            return None

        def select_subprotocol(self, offered, available):
            return offered[0] if offered else None

    stop = asyncio.get_running_loop().create_future()
    for s in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(s, stop.set_result, None)
    async with websockets.serve(handler, "127.0.0.1", a.port, create_protocol=Server,
                                ping_interval=a.ping_interval, ping_timeout=a.ping_timeout,
                                max_size=None) as server:
        port = server.sockets[0].getsockname()[1]
        print(f"port={port}", flush=True)
        await stop


asyncio.run(main())
