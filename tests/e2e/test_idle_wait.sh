#!/usr/bin/env bash
# Waiting costs nothing: once the server is gone, every connection waits to
# reconnect (with backoff) while messages fall due that nothing can take.
# The worker must sleep through that wait, not spin on io_uring_enter: its
# CPU (user + sys, the report's diagnosis.cpu) over the publish phase stays
# under 5% of a core. One flavour per protocol: MQTT --reconnect with
# mosquitto stopped, --proto ws --reconnect with libwebsockets' server
# stopped, Kafka with the leader of two of six partitions down (Kafka always
# reconnects; the other partitions go on).
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
skip_unless_cmd python3 bc
require_blast
require_kafka_tools

# cpu_share REPORT: (user_s + sys_s) / publish_s of the report's diagnosis.
cpu_share() {
	python3 - "$1" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))["diagnosis"]["cpu"]
print(f"{(c['user_s'] + c['sys_s']) / c['publish_s']:.4f}")
PY
}

# idle_check NAME REPORT: the run went through its outage asleep.
idle_check() {
	local name=$1 r=$2 share
	[ -s "$r" ] || { fail "$name: no report: $(cat "$T/blast.err")"; return; }
	check_accounting "$r"
	expect_json "$r" reconnects -ge 1
	share=$(cpu_share "$r") || { fail "$name: no diagnosis.cpu in the report"; return; }
	log "$name: worker CPU $share of a core while waiting to reconnect"
	[ "$(echo "$share < 0.05" | bc)" = 1 ] ||
		fail "$name: the worker used $share of a core while it waited to reconnect (want < 0.05)"
}

# The run: 6 s at 100 msg/s on one worker; the server goes away after 1.5 s.
RUN=(--rate 100 --duration 6s --workers 1 --quiet)

start_mosquitto || die "cannot start mosquitto"
timeout -k 5 30 "$BLAST" --target "127.0.0.1:$MQ_PORT" --reconnect "${RUN[@]}" \
	--report "$T/mqtt.json" >"$T/blast.out" 2>"$T/blast.err" &
bpid=$!
track "$bpid"
sleep 1.5
stop_mosquitto
wait "$bpid"
idle_check mqtt "$T/mqtt.json"

start_lws_mirror || die "cannot start libwebsockets-test-server"
timeout -k 5 30 "$BLAST" --proto ws --target "ws://127.0.0.1:$LWS_PORT/" \
	--ws-subprotocol lws-mirror-protocol --publishers 1 --listeners 0 --payload-size 58 \
	--reconnect "${RUN[@]}" --report "$T/ws.json" >"$T/blast.out" 2>"$T/blast.err" &
bpid=$!
track "$bpid"
sleep 1.5
stop_pid "$LWS_PID"
wait "$bpid"
idle_check ws "$T/ws.json"

start_kafka_mock 3 "idle:6:3" || die "cannot start the Kafka mock"
for p in 0 1 2 3 4 5; do
	kafka_mock_cmd "leader idle $p $((p % 3 + 1))"
done
timeout -k 5 30 "$BLAST" --proto kafka --target "$KAFKA_BOOTSTRAP" --topic idle "${RUN[@]}" \
	--report "$T/kafka.json" >"$T/blast.out" 2>"$T/blast.err" &
bpid=$!
track "$bpid"
sleep 1.5
kafka_mock_cmd "broker_down 2"
wait "$bpid"
stop_kafka_mock
idle_check kafka "$T/kafka.json"
pass
