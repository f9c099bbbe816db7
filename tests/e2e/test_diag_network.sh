#!/usr/bin/env bash
# Self-diagnosis, network. mosquitto sits in a network namespace of this
# test's own, reached over a veth pair shaped by tc tbf to 1 Mbit/s (at most
# 50 ms queued, the rest dropped). 1,200-byte QoS 1 messages at 400/s need
# about 4 Mbit/s: the bucket's queue fills (RTT grows from microseconds to
# tens of ms) and overflows (retransmits). The namespace and the veth pair
# are removed on any exit.
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"

skip_unless_root
require_blast
for c in ip tc /usr/sbin/mosquitto; do
	command -v "$c" >/dev/null || die "$c not installed (scripts/install-deps.sh)"
done
start_shaped_broker_netns diag 1000000

run_blast 30 --target "$BROKER_IP:1883" --qos 1 --conns 4 --payload-size 1200 --rate 400 \
	--duration 3s --drain-timeout 2s --report "$T/r.json"
tail -n 3 "$T/blast.out"
expect_json "$T/r.json" diagnosis.bottleneck eq network
expect_json "$T/r.json" diagnosis.tcp_info.conns -gt 0
pass
