#!/usr/bin/env bash
# MQTT over WebSocket: blast publishes through mosquitto's websockets
# listener (subprotocol "mqtt", every send one masked binary frame), and a
# plain TCP mosquitto_sub receives exactly N intact messages, at QoS 0, 1
# and 2, MQTT 3.1.1 and 5. Then an upgrade refused by a non-WebSocket port
# is an error by name, not a hang.
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
skip_unless_cmd mosquitto_sub mosquitto_pub python3
[ -x /usr/sbin/mosquitto ] || skip "/usr/sbin/mosquitto not installed"
require_blast

N=1000
CONNS=4
WS_PORT=$(free_port)
start_mosquitto "max_inflight_messages 100" "listener $WS_PORT lo" "protocol websockets" ||
	die "cannot start mosquitto"

for case in "0 3.1.1" "1 3.1.1" "2 3.1.1" "1 5" "2 5"; do
	set -- $case
	qos=$1 ver=$2
	sub=$T/sub-$qos-$ver.txt
	start_sub "$sub" -t 'blast/#' -q "$qos" || die "subscriber did not start"
	r=$T/report-$qos-$ver.json
	run_blast 60 --target "ws://127.0.0.1:$WS_PORT/mqtt" --conns $CONNS --qos "$qos" \
		--mqtt-version "$ver" --inflight 20 --messages $N --payload-size 24 --report "$r" --quiet
	[ "$BLAST_RC" -eq 0 ] || fail "qos $qos v$ver: blast exited $BLAST_RC: $(blast_why "$r")"
	expect_json "$r" sent == $N
	expect_json "$r" acked == $N
	expect_json "$r" conns_ok == $CONNS
	expect_json "$r" handshake_us.ws_upgrade.count == $CONNS
	expect_json "$r" handshake_us.protocol.count == $CONNS
	check_accounting "$r"
	wait_sub_count "$sub" $N 10
	check_marked_payloads "$sub" $N $CONNS 24
	stop_pid "$SUB_PID"
done

# The TCP listener does not speak WebSocket: mosquitto drops the upgrade.
r=$T/refused.json
run_blast 30 --target "ws://127.0.0.1:$MQ_PORT/mqtt" --conns 2 --qos 1 --messages 10 \
	--report "$r" --quiet
[ "$BLAST_RC" -eq 1 ] || fail "upgrade to a non-WebSocket port: exit $BLAST_RC, want 1"
expect_json "$r" conns_failed == 2
expect_json "$r" conns_ok == 0
check_accounting "$r"
pass
