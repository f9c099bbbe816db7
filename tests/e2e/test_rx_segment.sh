#!/usr/bin/env bash
# Segment receive stamps (--rx-stamps, userspace/engine/rxseg.c): with the socket
# filter on, blast reads 16 KiB at a time and its loop sleeps up to 10 ms
# when nothing waits on it, yet every receipt is timed by the segment
# that completed it.
# - A listener alone in its worker (--workers 2: the publisher is in the
#   other) sleeps and then reads many relays at once, 2 ms apart: timed
#   by the read, most of its half of the receipts would be milliseconds
#   late (p90 about 8 ms, measured with the marks ignored); timed by
#   segment, the end-to-end p90 stays near the loopback round trip
#   through the relay (about 60 us). Every receipt is counted as timed
#   by segment.
# - A flood through the mirror: all 3 x M receipts timed by segment, none
#   missing, the accounting holds; MQTT fan-out through mosquitto too.
# - Acks: MQTT QoS 1 PUBACKs (every ack timed by segment) and Kafka acks=1
#   Produce responses (one time per partition response, all by segment).
# - --rx-stamps read: the same run timed by each read's kernel stamp (small
#   reads), no segment timing, the same counts.
# - Without privileges: auto falls back to read stamps with nothing said;
#   --rx-stamps segment is one clear line and exit 2, before any
#   connection; a bad mode is one line too.
# - Nothing is left loaded after the runs, nor after blast is killed
#   (SIGKILL) mid-run with its filters on every socket.
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
skip_unless_root
skip_unless_cmd python3 mosquitto setpriv bpftool
[ -x /usr/bin/libwebsockets-test-server ] || skip "libwebsockets-test-server not installed"
require_blast

# Far below the milliseconds a read-timed receipt would show here, far
# above a loopback relay on a busy machine.
P90_MAX_US=2000

# How many of the programs IDS... are still loaded.
still_loaded() {
	local id n=0
	for id in "$@"; do
		bpftool prog show id "$id" >/dev/null 2>&1 && n=$((n + 1))
	done
	echo "$n"
}

start_lws_mirror || die "cannot start libwebsockets-test-server"
WS=(--proto ws --target "ws://127.0.0.1:$LWS_PORT/" --ws-subprotocol lws-mirror-protocol)

log "== a lone listener, batched reads"
M=1000
r=$T/lone.json
run_blast 60 "${WS[@]}" --publishers 1 --listeners 1 --workers 2 --messages $M --rate 500 \
	--payload-size 58 --rx-stamps segment --report "$r" --quiet
[ "$BLAST_RC" -eq 0 ] || fail "lone: blast exited $BLAST_RC: $(blast_why "$r")"
expect_json "$r" received == $((2 * M))
expect_json "$r" rx_timed_by.segment == $((2 * M))
expect_json "$r" rx_timed_by.read == 0
check_accounting "$r"
expect_between "$r" e2e_latency_us.p90 $P90_MAX_US "lone listener"

log "== a flood through the mirror"
# Paced: libwebsockets' mirror holds 32 messages per instance and drops what
# one of its reads brings beyond that, which an unpaced flood (hundreds of
# messages per send) did now and then, a few hundred of 300,000.
M=40000
RATE=20000
r=$T/flood.json
run_blast 120 "${WS[@]}" --publishers 2 --listeners 1 --workers 1 --messages $M \
	--rate $RATE --payload-size 58 --report "$r" --quiet
[ "$BLAST_RC" -eq 0 ] || fail "flood: blast exited $BLAST_RC: $(blast_why "$r")"
expect_json "$r" received == $((3 * M))
expect_json "$r" missing == 0
expect_json "$r" rx_timed_by.segment == $((3 * M))
check_accounting "$r"

log "== --rx-stamps read"
r=$T/read.json
run_blast 120 "${WS[@]}" --publishers 2 --listeners 1 --workers 1 --messages $M \
	--rate $RATE --payload-size 58 --rx-stamps read --report "$r" --quiet
[ "$BLAST_RC" -eq 0 ] || fail "read: blast exited $BLAST_RC: $(blast_why "$r")"
expect_json "$r" received == $((3 * M))
expect_json "$r" rx_timed_by.segment == 0
expect_json "$r" rx_timed_by.read == $((3 * M))
check_accounting "$r"

log "== unprivileged"
nobody() {
	timeout -k 5 60 setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all \
		"$BLAST" "$@" >"$T/blast.out" 2>"$T/blast.err"
	BLAST_RC=$?
}
nobody "${WS[@]}" --publishers 1 --listeners 1 --messages 200 --payload-size 58 --quiet
[ "$BLAST_RC" -eq 0 ] || fail "nobody, auto: blast exited $BLAST_RC: $(cat "$T/blast.err")"
[ -s "$T/blast.err" ] && fail "nobody, auto: said something: $(cat "$T/blast.err")"
grep -q 'arrival times of acks and receipts: 0 from the TCP segment that completed them, 400 from the kernel' \
	"$T/blast.out" || fail "nobody, auto: not timed by read: $(grep 'arrival times' "$T/blast.out")"
nobody "${WS[@]}" --publishers 1 --listeners 1 --messages 200 --payload-size 58 --rx-stamps segment --quiet
[ "$BLAST_RC" -eq 2 ] || fail "nobody, segment: blast exited $BLAST_RC, want 2"
n=$(grep -c . "$T/blast.err")
[ "$n" -eq 1 ] || fail "nobody, segment: want one line, got $n: $(cat "$T/blast.err")"
grep -q '^blast: --rx-stamps segment: cannot load the segment-stamp filter: .*(needs CAP_BPF, or root)$' \
	"$T/blast.err" || fail "nobody, segment: $(cat "$T/blast.err")"
[ -s "$T/blast.out" ] && fail "nobody, segment: a run started: $(cat "$T/blast.out")"
run_blast 10 "${WS[@]}" --rx-stamps sometimes
expect_rc 2
grep -q "^blast: --rx-stamps sometimes: must be auto, segment or read$" "$T/blast.err" ||
	fail "bad mode: $(cat "$T/blast.err")"

log "== MQTT fan-out through mosquitto"
start_mosquitto || die "cannot start mosquitto"
M=20000
r=$T/mqtt.json
run_blast 60 --target "127.0.0.1:$MQ_PORT" --publishers 2 --subscribers 2 --sub-topic 'blast/#' \
	--messages $M --payload-size 48 --workers 1 --report "$r" --quiet
[ "$BLAST_RC" -eq 0 ] || fail "mqtt: blast exited $BLAST_RC: $(blast_why "$r")"
expect_json "$r" received == $((2 * M))
expect_json "$r" rx_timed_by.segment == $((2 * M))
check_accounting "$r"

log "== acks: MQTT QoS 1"
M=20000
r=$T/qos1.json
run_blast 60 --target "127.0.0.1:$MQ_PORT" --conns 4 --qos 1 --messages $M --workers 2 \
	--report "$r" --quiet
[ "$BLAST_RC" -eq 0 ] || fail "qos 1: blast exited $BLAST_RC: $(blast_why "$r")"
expect_json "$r" acked == $M
expect_json "$r" rx_timed_by.segment == $M
check_accounting "$r"

log "== acks: Kafka acks=1"
start_kafka_mock 1 "t:4" || die "cannot start the Kafka mock"
r=$T/kafka.json
run_blast 60 --proto kafka --target "$KAFKA_BOOTSTRAP" --topic t --acks 1 --conns 2 \
	--messages $M --report "$r" --quiet
[ "$BLAST_RC" -eq 0 ] || fail "kafka: blast exited $BLAST_RC: $(blast_why "$r")"
expect_json "$r" acked == $M
expect_json "$r" rx_timed_by.segment -gt 0
expect_json "$r" rx_timed_by.read == 0
expect_json "$r" rx_timed_by.loop == 0
check_accounting "$r"

log "== SIGKILL mid-run"
# blast itself, not under timeout: the kill must reach it (--duration bounds it).
"$BLAST" "${WS[@]}" --publishers 2 --listeners 1 --rate 1000 --duration 30 \
	--payload-size 58 --workers 2 --quiet >"$T/blast.out" 2>"$T/blast.err" &
BPID=$!
track "$BPID"
wait_until 10 eval '[ "$(bpf_prog_ids "$BPID" rx_stamp | wc -l)" -ge 2 ]' ||
	fail "killed run: the workers' filters never loaded ($(bpf_prog_ids "$BPID" rx_stamp | wc -l) held)"
read -r -a ids <<<"$(bpf_prog_ids "$BPID" rx_stamp | tr '\n' ' ')"
kill -KILL "$BPID"
wait "$BPID" 2>/dev/null
# The workers die with the parent (PR_SET_PDEATHSIG), their sockets and
# filters with them.
wait_until 10 eval '[ "$(still_loaded "${ids[@]}")" -eq 0 ]' ||
	fail "after SIGKILL: $(still_loaded "${ids[@]}") of the ${#ids[@]} filters (ids ${ids[*]}) still loaded"
pass
