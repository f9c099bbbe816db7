#!/usr/bin/env bash
# MQTT over WebSocket into a mosquitto that also has a TCP listener: blast
# publishes N QoS 1 messages through the websockets listener (subprotocol
# "mqtt"), both with an explicit --transport ws and with the ws:// target
# alone, and a plain TCP mosquitto_sub receives exactly N intact messages;
# the report says sent = acked = N. The websockets listener is loopback
# only ("listener PORT lo": see start_mosquitto_ws).
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
skip_unless_cmd mosquitto_sub mosquitto_pub python3
[ -x /usr/sbin/mosquitto ] || skip "/usr/sbin/mosquitto not installed"
require_blast

N=1000
CONNS=4
start_mosquitto_ws "max_inflight_messages 100" || die "cannot start mosquitto"

for how in "--transport ws" ""; do
	what="qos 1 ${how:-ws:// target only}"
	sub=$T/sub-${how:+explicit}.txt
	start_sub "$sub" -t 'blast/#' -q 1 || die "$what: subscriber not ready"
	r=$T/report-${how:+explicit}.json
	# shellcheck disable=SC2086
	run_blast 60 --proto mqtt $how --target "ws://127.0.0.1:$MQ_WS_PORT/mqtt" --conns $CONNS \
		--qos 1 --messages $N --payload-size 24 --report "$r" --quiet
	[ "$BLAST_RC" -eq 0 ] || fail "$what: blast exited $BLAST_RC: $(blast_why "$r")"
	expect_json "$r" sent == $N
	expect_json "$r" acked == $N
	expect_json "$r" failed == 0
	expect_json "$r" conns_ok == $CONNS
	expect_json "$r" errors eq '{}'
	check_accounting "$r"
	wait_sub_count "$sub" $N 10
	check_marked_payloads "$sub" $N $CONNS 24
	stop_pid "$SUB_PID"
done
# Every blast connection came through the websockets listener: mosquitto
# logs websockets clients from ::ffff:127.0.0.1 (lws's IPv6 socket), TCP
# ones (mosquitto_sub, mosquitto_pub probes) from 127.0.0.1.
ws_conns=$(grep -c 'New client connected from ::ffff:127.0.0.1:' "$MQ_LOG")
[ "$ws_conns" -eq $((2 * CONNS)) ] ||
	fail "mosquitto saw $ws_conns websockets clients, want $((2 * CONNS))"
pass
