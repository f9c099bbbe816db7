"""Locust users that publish MQTT QoS 1 with paho-mqtt (bench/vs-peers.sh).

Each user holds one paho-mqtt connection to the broker given as --host
HOST:PORT and publishes back to back: a PUBLISH, then wait for its PUBACK.
The time from publish() to the PUBACK is reported to Locust as one request
("MQTT", "publish qos1"), so Locust's stats CSV carries the count, the rate
and the percentiles. Environment: MQTT_PAYLOAD (bytes, default 64),
MQTT_TOPIC (default bench/t).
Run with Debian's python3-locust and python3-paho-mqtt:
  /usr/bin/python3 -m locust -f bench/locust_mqtt.py --headless -u 4 -r 100 \
      -t 10s --host 127.0.0.1:1883 --csv out
"""
import os
import time

import paho.mqtt.client as mqtt
from locust import User, constant, events, task

PAYLOAD = b"x" * int(os.environ.get("MQTT_PAYLOAD", "64"))
TOPIC = os.environ.get("MQTT_TOPIC", "bench/t")


class MqttPublisher(User):
    wait_time = constant(0)

    def on_start(self):
        host, _, port = (self.host or "127.0.0.1:1883").rpartition(":")
        self.client = mqtt.Client(client_id="locust-%d-%d" % (os.getpid(), id(self)),
                                  clean_session=True)
        self.client.max_inflight_messages_set(1)
        t0 = time.perf_counter()
        self.client.connect(host or "127.0.0.1", int(port), keepalive=60)
        self.client.loop_start()
        events.request.fire(request_type="MQTT", name="connect",
                            response_time=(time.perf_counter() - t0) * 1e3,
                            response_length=0, exception=None, context={})

    def on_stop(self):
        self.client.disconnect()
        self.client.loop_stop()

    @task
    def publish(self):
        t0 = time.perf_counter()
        info = self.client.publish(TOPIC, PAYLOAD, qos=1)
        exc = None
        try:
            info.wait_for_publish(timeout=5)
            if not info.is_published():
                exc = TimeoutError("no PUBACK within 5 s")
        except (RuntimeError, ValueError) as e:
            exc = e
        events.request.fire(request_type="MQTT", name="publish qos1",
                            response_time=(time.perf_counter() - t0) * 1e3,
                            response_length=len(PAYLOAD), exception=exc, context={})
