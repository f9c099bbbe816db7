#!/usr/bin/env bash
# --probe, the kernel's witness. For a finished QoS 1 MQTT run against
# mosquitto, a Kafka acks=1 run against librdkafka's mock cluster and a
# --proto ws fan-out through libwebsockets' mirror (and MQTT QoS 2, MQTT
# over WebSocket, 40 connections, HTTP keep-alive GETs to nginx, plain and
# pipelined), the programs' counts
# agree exactly with blast's own: wire.requests == sent (HTTP: + the
# requests resent after nginx's keep-alive closes), wire.acks == acked
# (receipts for ws), nothing unparsed or unmatched, one latency sample per
# ack, one flow per connection. No program, link, tc filter or qdisc stays
# behind after a normal end, after SIGINT, after SIGKILL of blast. Without
# privileges (as nobody) the run goes on unprobed after one warning line.
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
skip_unless_root
skip_unless_cmd python3 bpftool tc setpriv ss
[ -x /usr/sbin/mosquitto ] || skip "/usr/sbin/mosquitto not installed"
require_blast

WP_NAMES='wp_egress|wp_ingress|wp_sockops|wp_cong_state'

tc_state() {
	tc qdisc show dev lo
	tc filter show dev lo ingress
	tc filter show dev lo egress
}

TC_BEFORE=$(tc_state)

# check_gone WHAT IDS: none of the programs IDS, no link to them, and lo's
# qdiscs and filters as they were before the test.
check_gone() {
	local what=$1 ids=$2 id links
	[ -n "$ids" ] || { fail "$what: no probe program was seen while blast ran"; return; }
	for id in $ids; do
		bpftool prog show id "$id" >/dev/null 2>&1 && fail "$what: program $id still loaded"
		links=$(bpftool -j link show 2>/dev/null | python3 -c '
import json, sys
print(sum(1 for l in json.load(sys.stdin) if l.get("prog_id") == int(sys.argv[1])))' "$id")
		[ "$links" = 0 ] || fail "$what: $links link(s) to program $id remain"
	done
	[ "$(tc_state)" = "$TC_BEFORE" ] || fail "$what: tc qdiscs or filters on lo changed: $(tc_state)"
}

# The probe's programs that blast (PID $1) holds (waits up to 5 s).
blast_prog_ids() {
	local i ids
	for ((i = 0; i < 50; i++)); do
		ids=$(bpf_prog_ids "$1" "$WP_NAMES" | tr '\n' ' ')
		[ -n "${ids// /}" ] && { echo "$ids"; return; }
		sleep 0.1
	done
}

# Waits (up to 10 s) until N connections to 127.0.0.1:PORT are established:
# blast's run has begun. Its programs load before that, and blast catches
# SIGINT only once its run starts (a background job inherits SIGINT
# ignored): a signal sent earlier, on a loaded machine, went unheard and
# the run lasted its whole --duration.
wait_conns() {
	wait_until 10 eval "[ \"\$(ss -Htn state established '( dport = :$2 )' | wc -l)\" -ge $1 ]"
}

start_mosquitto || die "cannot start mosquitto"
T_MQ="127.0.0.1:$MQ_PORT"

log "== MQTT QoS 1, a finished run"
r=$T/mqtt.json
"$BLAST" --target "$T_MQ" --conns 4 --workers 2 --qos 1 --inflight 200 --messages 40000 \
	--probe --report "$r" --quiet >"$T/blast.out" 2>"$T/blast.err" &
BPID=$!
track "$BPID"
ids=$(blast_prog_ids "$BPID")
wait "$BPID"
rc=$?
[ "$rc" -eq 0 ] || fail "mqtt: blast exited $rc: $(cat "$T/blast.err")"
[ -s "$T/blast.err" ] && fail "mqtt: blast warned: $(cat "$T/blast.err")"
expect_json "$r" sent == 40000
expect_json "$r" acked == 40000
check_wire "$r" sent acked 4
grep -q 'client - wire' "$T/blast.out" || fail "mqtt: no client - wire row in the summary"
check_gone "after a normal end" "$ids"

log "== MQTT QoS 1, 40 connections (32 kept in the fast array, 8 in the hash map)"
r=$T/mqtt40.json
run_blast 60 --target "$T_MQ" --conns 40 --qos 1 --inflight 100 --messages 20000 --probe \
	--report "$r" --quiet
[ "$BLAST_RC" -eq 0 ] || fail "40 conns: blast exited $BLAST_RC: $(cat "$T/blast.err")"
check_wire "$r" sent acked 40

log "== MQTT QoS 2"
r=$T/mqtt2.json
run_blast 60 --target "$T_MQ" --conns 2 --qos 2 --inflight 20 --messages 5000 --probe \
	--report "$r" --quiet
[ "$BLAST_RC" -eq 0 ] || fail "qos 2: blast exited $BLAST_RC: $(cat "$T/blast.err")"
check_wire "$r" sent acked 2

log "== SIGINT"
r=$T/sigint.json
"$BLAST" --target "$T_MQ" --conns 2 --qos 1 --rate 5000 --duration 30s --probe --report "$r" \
	--quiet >"$T/blast.out" 2>"$T/blast.err" &
BPID=$!
track "$BPID"
ids=$(blast_prog_ids "$BPID")
wait_conns 2 "$MQ_PORT" || fail "sigint: blast never connected"
sleep 1
kill -INT "$BPID"
wait "$BPID"
rc=$?
[ "$rc" -eq 0 ] || fail "sigint: blast exited $rc: $(cat "$T/blast.err")"
expect_json "$r" stop_reason eq signal
check_wire "$r" sent acked 2
check_gone "after SIGINT" "$ids"

log "== SIGKILL"
"$BLAST" --target "$T_MQ" --conns 2 --workers 2 --qos 1 --rate 5000 --duration 30s --probe \
	--quiet >"$T/blast.out" 2>"$T/blast.err" &
BPID=$!
track "$BPID"
ids=$(blast_prog_ids "$BPID")
sleep 1
kill -KILL "$BPID"
wait "$BPID" 2>/dev/null
# The workers die with the parent (PR_SET_PDEATHSIG); give them a moment.
wait_until 5 eval '! pgrep -P "$BPID" >/dev/null'
sleep 0.5
check_gone "after SIGKILL" "$ids"

log "== unprivileged: one warning, the run goes on"
timeout -k 5 60 setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all \
	"$BLAST" --target "$T_MQ" --qos 1 --messages 1000 --probe --quiet \
	>"$T/blast.out" 2>"$T/blast.err"
BLAST_RC=$?
[ "$BLAST_RC" -eq 0 ] || fail "nobody: blast exited $BLAST_RC: $(cat "$T/blast.err")"
n=$(grep -c . "$T/blast.err")
[ "$n" -eq 1 ] || fail "nobody: want one line on stderr, got $n: $(cat "$T/blast.err")"
grep -q '^blast: warning: --probe: .*running without the wire probe$' "$T/blast.err" ||
	fail "nobody: no probe warning: $(cat "$T/blast.err")"
grep -q 'acked 1000' "$T/blast.out" || fail "nobody: the run did not go on: $(cat "$T/blast.out")"
grep -q 'wire (probe)' "$T/blast.out" && fail "nobody: a wire section without a probe"
stop_mosquitto

log "== MQTT QoS 1 over WebSocket"
start_mosquitto_ws || die "cannot start mosquitto with a websockets listener"
r=$T/mqtt-ws.json
run_blast 60 --target "ws://127.0.0.1:$MQ_WS_PORT/mqtt" --conns 3 --qos 1 --inflight 100 \
	--messages 20000 --probe --report "$r" --quiet
[ "$BLAST_RC" -eq 0 ] || fail "mqtt over ws: blast exited $BLAST_RC: $(cat "$T/blast.err")"
check_wire "$r" sent acked 3
stop_mosquitto

log "== Kafka acks=1"
require_kafka_tools
start_kafka_mock 1 "t:4" || die "cannot start the Kafka mock"
r=$T/kafka.json
run_blast 60 --proto kafka --target "$KAFKA_BOOTSTRAP" --topic t --acks 1 --conns 2 \
	--messages 30000 --payload-size 100 --probe --report "$r" --quiet
[ "$BLAST_RC" -eq 0 ] || fail "kafka: blast exited $BLAST_RC: $(cat "$T/blast.err")"
expect_json "$r" sent == 30000
expect_json "$r" acked == 30000
check_wire "$r" sent acked "$(json_get "$r" conns_ok)"
stop_kafka_mock

log "== WebSocket fan-out"
if start_lws_mirror; then
	r=$T/ws.json
	run_blast 60 --proto ws --target "ws://127.0.0.1:$LWS_PORT/" \
		--ws-subprotocol lws-mirror-protocol --publishers 2 --listeners 2 --messages 1000 \
		--payload-size 58 --rate 4000 --probe --report "$r" --quiet
	[ "$BLAST_RC" -eq 0 ] || fail "ws: blast exited $BLAST_RC: $(cat "$T/blast.err")"
	check_wire "$r" sent received 4
else
	fail "cannot start libwebsockets-test-server"
fi

# HTTP/1.1 keep-alive GETs against nginx, one at a time and pipelined: the
# k-th status line answers the k-th request line of a connection. nginx
# keeps each connection for the whole run (keepalive_requests), so every
# request is answered and blast's flows are its connections.
log "== HTTP keep-alive, unpipelined and --pipeline 8"
start_nginx 'location = /ping { return 200 "PONG"; }' 'keepalive_requests 1000000;' ||
	die "cannot start nginx"
for pl in 1 8; do
	r=$T/http-$pl.json
	run_blast 60 --proto http --target "http://127.0.0.1:$NG_PORT/ping" --conns 3 \
		--pipeline "$pl" --messages 6000 --probe --report "$r" --quiet
	[ "$BLAST_RC" -eq 0 ] || fail "http --pipeline $pl: blast exited $BLAST_RC: $(cat "$T/blast.err")"
	expect_json "$r" sent == 6000
	expect_json "$r" acked == 6000
	check_wire "$r" sent acked 3
done
stop_nginx

# Keep-alive closes (keepalive_requests 7) with --pipeline 8: the requests
# behind each closing answer are resent on the reopened connection, so the
# probe sees each of them twice (unanswered on the old flow, answered on
# the new one): requests == sent + http.retried, acks == acked, one flow
# per connection opened.
log "== HTTP keep-alive closes, requests resent"
NG_DIR= NG_PORT=
start_nginx 'location = /ping { return 200 "PONG"; }' 'keepalive_requests 7;' ||
	die "cannot start nginx"
r=$T/http-retry.json
run_blast 60 --proto http --target "http://127.0.0.1:$NG_PORT/ping" --conns 3 --pipeline 8 \
	--messages 3000 --probe --report "$r" --quiet
[ "$BLAST_RC" -eq 0 ] || fail "http retries: blast exited $BLAST_RC: $(cat "$T/blast.err")"
expect_jsons "$r" sent == 3000 acked == 3000 failed == 0 http.retried -gt 0 wire.unparsed == 0 \
	wire.unmatched == 0 wire.acks == 3000 wire.latency_us.count == 3000
expect_json "$r" wire.requests == $((3000 + $(json_get "$r" http.retried)))
expect_json "$r" wire.flows == "$(json_get "$r" conns_ok)"
stop_nginx
pass
