#!/usr/bin/env bash
# Every refusal a server can express is named in the report and on stderr,
# not counted as protocol_error or conn_closed:
#  - an MQTT 5 CONNECT to a 3.1.1-only broker (nats-server's MQTT listener
#    answers with a 3.1.1 CONNACK "unacceptable protocol version"):
#    connack:unsupported_protocol_version;
#  - --ws-subprotocol bogus to mosquitto's websockets listener, which
#    closes the connection without answering: upgrade_refused:closed;
#  - a 101 whose Sec-WebSocket-Accept is not the key's, and one choosing a
#    subprotocol not asked for (tests/tools/ws_bad_server.py):
#    upgrade_invalid:accept, upgrade_invalid:subprotocol.
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
skip_unless_cmd python3
require_blast

CONNS=3

# named NAME REPORT KEY: every connection failed, each counted as KEY alone.
named() {
	local name=$1 r=$2 key=$3
	[ -s "$r" ] || { fail "$name: no report: $(cat "$T/blast.err")"; return; }
	[ "$BLAST_RC" -eq 1 ] || fail "$name: blast exited $BLAST_RC, want 1"
	expect_json "$r" "errors.$key" == $CONNS
	expect_json "$r" errors_total == $CONNS
	expect_json "$r" conns_failed == $CONNS
	expect_json "$r" conns_ok == 0
	check_accounting "$r"
	grep -q "$key" "$T/blast.out" || fail "$name: the summary does not name $key"
}

start_nats_mqtt || die "cannot start nats-server"
r=$T/nats.json
run_blast 30 --target "127.0.0.1:$NATS_MQTT_PORT" --mqtt-version 5 --conns $CONNS --messages 3 \
	--report "$r"
named "MQTT 5 to nats-server" "$r" connack:unsupported_protocol_version
stop_pid "$NATS_PID"

start_mosquitto_ws || die "cannot start mosquitto"
r=$T/bogus.json
run_blast 30 --target "ws://127.0.0.1:$MQ_WS_PORT/" --ws-subprotocol bogus --conns $CONNS \
	--messages 3 --report "$r"
named "--ws-subprotocol bogus" "$r" upgrade_refused:closed
grep -q "WebSocket upgrade refused.*bogus" "$T/blast.err" ||
	fail "--ws-subprotocol bogus: stderr does not say the upgrade was refused: $(cat "$T/blast.err")"
stop_mosquitto

start_ws_bad_server close --wrong-accept || die "cannot start the bad server"
r=$T/accept.json
run_blast 30 --proto ws --publishers $CONNS --listeners 0 --messages 3 \
	--target "ws://127.0.0.1:$WSB_PORT/" --report "$r"
named "wrong accept" "$r" upgrade_invalid:accept
grep -q "Sec-WebSocket-Accept" "$T/blast.err" ||
	fail "wrong accept: stderr does not name Sec-WebSocket-Accept: $(cat "$T/blast.err")"
stop_pid "$WSB_PID"

start_ws_bad_server close --subprotocol other || die "cannot start the bad server"
r=$T/subprotocol.json
run_blast 30 --target "ws://127.0.0.1:$WSB_PORT/" --conns $CONNS --messages 3 --report "$r"
named "unasked subprotocol" "$r" upgrade_invalid:subprotocol
stop_pid "$WSB_PID"
pass
