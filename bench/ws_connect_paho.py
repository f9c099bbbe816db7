#!/usr/bin/python3
"""MQTT over WebSocket connect times with paho-mqtt (Debian's
python3-paho-mqtt): N connections one after another to PORT on 127.0.0.1,
each timed from connect() to its CONNACK. Prints "p50_us=X max_us=Y"."""
import sys
import threading
import time

import paho.mqtt.client as mqtt

port, n = int(sys.argv[1]), int(sys.argv[2])
times = []
for i in range(n):
    ready = threading.Event()
    c = mqtt.Client(client_id=f"paho-{i}", transport="websockets")
    c.ws_set_options(path="/", headers=None)
    c.on_connect = lambda *a: ready.set()
    t0 = time.monotonic()
    c.connect("127.0.0.1", port)
    c.loop_start()
    if ready.wait(5):
        times.append((time.monotonic() - t0) * 1e6)
    c.loop_stop()
    c.disconnect()
times.sort()
if not times:
    sys.exit("no connection completed")
print(f"p50_us={times[len(times) // 2]:.1f} max_us={times[-1]:.1f}")
