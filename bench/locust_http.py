"""Locust users for bench/http.sh: FastHttpUser (geventhttpclient), each
sending GET / to the --host, either as fast as answers come (HTTP_USER_RATE
unset or 0) or at HTTP_USER_RATE requests per second per user
(constant_throughput: Locust's way to a fixed rate).

    HTTP_USER_RATE=250 /usr/bin/python3 -m locust -f bench/locust_http.py \
        --headless -u 16 -r 160 -t 5s --host http://127.0.0.1:8080
"""
import os

from locust import FastHttpUser, constant, constant_throughput, task

RATE = float(os.environ.get("HTTP_USER_RATE", "0") or 0)


class Getter(FastHttpUser):
    wait_time = constant_throughput(RATE) if RATE > 0 else constant(0)

    @task
    def get(self):
        self.client.get("/", name="GET /")
