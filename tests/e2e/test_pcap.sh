#!/usr/bin/env bash
# The capture witness against real servers. For a QoS 1 MQTT run (private
# mosquitto) and a Kafka acks=1 run (librdkafka's mock cluster), each with
# --pcap:
#   - the run's own wire figures (its "--pcap ... wire" line) and `blast
#     analyze` of the capture agree exactly with blast's sent and acked;
#   - tshark decodes the capture with no malformed frame, and its count of
#     PUBLISH / PUBACK (Kafka Produce requests / responses) equals blast's
#     (for Kafka, equals the Produce requests `blast analyze` matched).
# Then: `blast analyze` of a tcpdump capture of mosquitto_pub -l -q 1
# sending N lines (docs/wire.md's tcpdump line, which must not drop) gives N, and
# so does that line under blast sending 200,000 QoS 1 messages, where
# --immediate-mode drops: analyze of that capture warns and exits 1 (or,
# if only pure ACKs were lost, is exact);
# the witness says when it is partial, with a warning line and exit 1:
# client segments taken out of a real capture (editcap) are gaps and
# unmatched acks, a truncated capture gives what came before the cut, --port and
# --proto that match nothing say so; a capture corrupt from its first
# packet is one error line and exit 2; --pcap-max-bytes bounds the file,
# says so, and the file records the packets it kept out.
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
skip_unless_root
skip_unless_cmd tshark editcap tcpdump mosquitto_pub python3
[ -x /usr/sbin/mosquitto ] || skip "/usr/sbin/mosquitto not installed"
require_blast
require_kafka_tools

N=4000

# field LINE KEY: the number after KEY in a line of "key value" pairs.
field() { sed -n "s/.*[[:space:]]$2 \([0-9][0-9]*\).*/\1/p" <<<"$1" | head -1; }

# expect_eq WHAT GOT WANT
expect_eq() { [ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"; }

# check_wire WHAT STDERR_FILE WANT: the run's own line from its capture.
check_wire() {
	local line
	line=$(grep -- '--pcap .*: wire requests' "$2")
	[ -n "$line" ] || { fail "$1: no wire line on stderr"; return; }
	expect_eq "$1 run wire requests" "$(field "$line" requests)" "$3"
	expect_eq "$1 run wire acks" "$(field "$line" acks)" "$3"
	expect_eq "$1 run wire unmatched" "$(field "$line" unmatched)" 0
	expect_eq "$1 run wire unparsed" "$(field "$line" unparsed)" 0
}

# check_analyze WHAT FILE WANT [analyze args]: prints the frames line.
check_analyze() {
	local what=$1 file=$2 want=$3 out msg stream
	shift 3
	out=$("$BLAST" analyze "$file" "$@" 2>"$T/analyze.err") || {
		fail "$what: blast analyze exited $?: $(cat "$T/analyze.err")"
		return
	}
	msg=$(grep '^messages' <<<"$out")
	stream=$(grep '^stream' <<<"$out")
	expect_eq "$what analyze requests" "$(field "$msg" requests)" "$want"
	expect_eq "$what analyze acks" "$(field "$msg" acks)" "$want"
	expect_eq "$what analyze unmatched" "$(field "$msg" unmatched)" 0
	expect_eq "$what analyze pending" "$(field "$msg" pending)" 0
	expect_eq "$what analyze unparsed" "$(field "$stream" unparsed)" 0
	expect_eq "$what analyze gaps" "$(field "$stream" gaps)" 0
	grep -q '^  wire .* '"$want"'$' <<<"$out" || fail "$what: no latency row of $want samples"
	[ -s "$T/analyze.err" ] && fail "$what: warnings on a whole capture: $(cat "$T/analyze.err")"
	grep '^frames' <<<"$out" >"$T/frames"
}

# analyze_partial WHAT FILE WARNING [analyze args]: exit 1, the table on
# stdout, and a warning line on stderr matching WARNING.
analyze_partial() {
	local what=$1 file=$2 want=$3 rc=0
	shift 3
	"$BLAST" analyze "$file" "$@" >"$T/partial.out" 2>"$T/partial.err" || rc=$?
	[ "$rc" -eq 1 ] || fail "$what: exit $rc, want 1: $(cat "$T/partial.err")"
	grep -q '^messages' "$T/partial.out" || fail "$what: no table printed"
	grep -q "^blast: analyze: warning: .*$want" "$T/partial.err" ||
		fail "$what: no warning '$want': $(cat "$T/partial.err")"
	log "$what: $(tr '\n' ' ' <"$T/partial.err")"
}

# tshark_count FILE DECODE FILTER FIELD VALUE: occurrences of FIELD == VALUE
# in the packets FILTER selects (a packet may carry many frames).
# Segments sent again (tail-loss probes when a broker stalls under load)
# are left out: tshark dissects them again, analyze takes them once.
tshark_count() {
	tshark -r "$1" -d "$2" -Y "($3) && !tcp.analysis.retransmission && !tcp.analysis.fast_retransmission && !tcp.analysis.spurious_retransmission" \
		-T fields -e "$4" 2>/dev/null | tr ',' '\n' | grep -cx "$5"
}

tshark_clean() { # FILE DECODE WHAT
	local bad
	bad=$(tshark -r "$1" -d "$2" -Y '_ws.malformed || _ws.expert.severity == error' 2>/dev/null | wc -l)
	[ "$bad" -eq 0 ] || fail "$3: tshark finds $bad malformed or erroneous packets"
}

# tcpdump's own count of what the kernel dropped: a capture with holes
# cannot give exact counts, and that is tcpdump's problem, not analyze's.
tcpdump_drops() {
	grep -q '^0 packets dropped by kernel' "$T/tcpdump.err" ||
		fail "tcpdump dropped packets: $(tr '\n' ' ' <"$T/tcpdump.err")"
}

log "== MQTT QoS 1 run with --pcap"
start_mosquitto_ws || die "cannot start mosquitto"
cap=$T/mqtt.pcapng
report=$T/mqtt.json
run_blast 60 --target "127.0.0.1:$MQ_PORT" --qos 1 --conns 4 --messages $N --pcap "$cap" \
	--report "$report" --quiet
expect_rc 0
expect_json "$report" sent == $N
expect_json "$report" acked == $N
check_wire mqtt "$T/blast.err" $N
check_analyze mqtt "$cap" $N
check_analyze "mqtt --proto --port" "$cap" $N --proto mqtt --port "$MQ_PORT"
dec="tcp.port==$MQ_PORT,mqtt"
tshark_clean "$cap" "$dec" mqtt
expect_eq "tshark PUBLISH" "$(tshark_count "$cap" "$dec" "tcp.dstport==$MQ_PORT" mqtt.msgtype 3)" $N
expect_eq "tshark PUBACK" "$(tshark_count "$cap" "$dec" "tcp.srcport==$MQ_PORT" mqtt.msgtype 4)" $N

log "== MQTT 5 QoS 2 over WebSocket with --pcap"
run_blast 60 --target "ws://127.0.0.1:$MQ_WS_PORT/mqtt" --mqtt-version 5 --qos 2 --conns 2 \
	--messages 1000 --pcap "$T/mqtt-ws.pcapng" --report "$T/mqtt-ws.json" --quiet
expect_rc 0
expect_json "$T/mqtt-ws.json" acked == 1000
check_wire "mqtt over ws" "$T/blast.err" 1000
check_analyze "mqtt over ws" "$T/mqtt-ws.pcapng" 1000

log "== tcpdump of mosquitto_pub -q 1 -l"
NL=321
seq 1 $NL | sed 's/^/line /' >"$T/lines"
# docs/wire.md's tcpdump line (Capture and analyze), with this broker's port.
tcpdump -i lo -B 131072 -w "$T/pub.pcap" "tcp port $MQ_PORT" 2>"$T/tcpdump.err" &
TD_PID=$!
track $TD_PID
wait_until 5 grep -q listening "$T/tcpdump.err" || die "tcpdump did not start: $(cat "$T/tcpdump.err")"
timeout 30 mosquitto_pub -p "$MQ_PORT" -q 1 -t pcap/test -l <"$T/lines" || fail "mosquitto_pub failed"
sleep 1
stop_pid $TD_PID
tcpdump_drops
check_analyze "tcpdump of mosquitto_pub" "$T/pub.pcap" $NL

# tcpdump_blast WHAT N TCPDUMP-FLAGS...: tcpdump on lo with those flags
# while blast sends N QoS 1 messages; leaves the capture in $T/td.pcap and
# sets TD_DROPPED to what tcpdump says the kernel dropped.
tcpdump_blast() {
	local what=$1 n=$2
	shift 2
	tcpdump -i lo "$@" -w "$T/td.pcap" "tcp port $MQ_PORT" 2>"$T/tcpdump.err" &
	TD_PID=$!
	track $TD_PID
	wait_until 5 grep -q listening "$T/tcpdump.err" || die "tcpdump did not start: $(cat "$T/tcpdump.err")"
	run_blast 60 --target "127.0.0.1:$MQ_PORT" --qos 1 --conns 4 --messages "$n" --quiet
	expect_rc 0
	sleep 1
	stop_pid $TD_PID
	TD_DROPPED=$(sed -n 's/^\([0-9]*\) packets dropped by kernel/\1/p' "$T/tcpdump.err")
	[ -n "$TD_DROPPED" ] || die "$what: tcpdump did not say what it dropped: $(cat "$T/tcpdump.err")"
	log "$what: tcpdump dropped $TD_DROPPED packets"
}

log "== docs/wire.md's tcpdump line under a fast client: nothing dropped, exact counts"
B=200000
tcpdump_blast "docs/wire.md's line" $B -B 131072
[ "$TD_DROPPED" -eq 0 ] || fail "docs/wire.md's tcpdump line dropped $TD_DROPPED packets"
check_analyze "docs/wire.md's tcpdump line" "$T/td.pcap" $B

log "== a capture that drops: the witness says so, or is exact"
# --immediate-mode's TPACKET_V2 ring drops under this load (measured: 77,643
# of 480,426 packets). Whatever it dropped, analyze either warns and exits
# 1, or (only pure ACKs lost) gives the exact counts and exits 0: never
# wrong counts with exit 0.
tcpdump_blast "immediate mode" $B --immediate-mode
rc=0
"$BLAST" analyze "$T/td.pcap" >"$T/td.out" 2>"$T/td.err" || rc=$?
msg=$(grep '^messages' "$T/td.out")
if [ "$rc" -eq 0 ]; then
	[ "$(field "$msg" requests)" = $B ] && [ "$(field "$msg" acks)" = $B ] ||
		fail "immediate mode: exit 0 with $msg after $TD_DROPPED drops"
	[ -s "$T/td.err" ] && fail "immediate mode: exit 0 with warnings: $(cat "$T/td.err")"
else
	[ "$rc" -eq 1 ] || fail "immediate mode: analyze exit $rc, want 0 or 1"
	[ "$TD_DROPPED" -gt 0 ] || fail "immediate mode: warnings without drops: $(cat "$T/td.err")"
	grep -q '^blast: analyze: warning: ' "$T/td.err" || fail "immediate mode: exit 1 without a warning"
fi
log "immediate mode: exit $rc, $msg; $(tr '\n' ' ' <"$T/td.err")"

log "== partial captures: packets lost, cut short, nothing matching"
# Ten of the client's data segments taken out of the run's capture: the
# broker acknowledged bytes the capture lacks (gaps), and its PUBACKs of
# the PUBLISHes in them remain (unmatched acks).
lost=$(tshark -r "$cap" -Y "tcp.dstport==$MQ_PORT && tcp.len>0" -T fields -e frame.number 2>/dev/null |
	sed -n '100,109p' | tr '\n' ' ')
[ -n "$lost" ] || die "no client data segments in $cap"
editcap "$cap" "$T/holes.pcapng" $lost 2>/dev/null || die "editcap failed"
analyze_partial "packets taken out" "$T/holes.pcapng" "gaps: TCP bytes a peer acknowledged"
grep -q "warning: .* acks matched no request" "$T/partial.err" ||
	fail "packets taken out: no unmatched-acks warning: $(cat "$T/partial.err")"
size=$(stat -c %s "$cap")
head -c $((size - 100)) "$cap" >"$T/cut.pcapng"
analyze_partial "truncated" "$T/cut.pcapng" "the file is damaged (truncated"
got=$(field "$(grep '^messages' "$T/partial.out")" requests)
[ "${got:-0}" -gt $((N / 2)) ] || fail "truncated: only ${got:-0} requests of what came before the cut"
analyze_partial "--port of no flow" "$cap" "no TCP flow to --port 9" --port 9
analyze_partial "--proto of no flow" "$cap" "carried a request or an ack as --proto kafka" --proto kafka
cp "$cap" "$T/bad.pcapng"
# The first packet block's length (after the 28-byte SHB and 32-byte IDB):
# nothing readable, so nothing to show.
printf '\x0d\x00\x00\x00' | dd of="$T/bad.pcapng" bs=1 seek=64 conv=notrunc 2>/dev/null
"$BLAST" analyze "$T/bad.pcapng" >"$T/bad.out" 2>"$T/bad.err"
rc=$?
[ "$rc" -eq 2 ] || fail "corrupt capture: exit $rc, want 2"
[ "$(wc -l <"$T/bad.err")" -eq 1 ] || fail "corrupt capture: stderr is not one line: $(cat "$T/bad.err")"
[ -s "$T/bad.out" ] && fail "corrupt capture: printed a table anyway"
grep -q "block length" "$T/bad.err" || fail "corrupt capture: $(cat "$T/bad.err")"

log "== --pcap-max-bytes"
run_blast 60 --target "127.0.0.1:$MQ_PORT" --qos 1 --conns 2 --messages $N --pcap "$T/small.pcapng" \
	--pcap-max-bytes 40k --quiet
expect_rc 0
size=$(stat -c %s "$T/small.pcapng")
[ "$size" -le 40000 ] || fail "--pcap-max-bytes 40k: file is $size bytes"
[ "$size" -gt 20000 ] || fail "--pcap-max-bytes 40k: file is only $size bytes"
grep -q "reached --pcap-max-bytes 40000; capture stopped writing" "$T/blast.err" ||
	fail "--pcap-max-bytes: not said: $(cat "$T/blast.err")"
# The packets it kept out are drops the file records.
analyze_partial "--pcap-max-bytes capture" "$T/small.pcapng" "packets dropped ([1-9][0-9]* by the capture"
grep -q -- "--pcap $T/small.pcapng: warning: the file records" "$T/blast.err" ||
	fail "--pcap-max-bytes: the run does not warn: $(cat "$T/blast.err")"
stop_mosquitto

log "== Kafka acks=1 run with --pcap"
start_kafka_mock 1 "t:4" || die "cannot start the Kafka mock"
KPORT=${KAFKA_BOOTSTRAP##*:}
cap=$T/kafka.pcapng
report=$T/kafka.json
run_blast 60 --proto kafka --target "$KAFKA_BOOTSTRAP" --topic t --acks 1 --conns 2 \
	--messages $N --pcap "$cap" --report "$report" --quiet
expect_rc 0
expect_json "$report" sent == $N
expect_json "$report" acked == $N
check_wire kafka "$T/blast.err" $N
check_analyze kafka "$cap" $N
frames=$(cat "$T/frames")
reqs=$(field "$frames" requests)
dec="tcp.port==$KPORT,kafka"
tshark_clean "$cap" "$dec" kafka
[ "${reqs:-0}" -gt 0 ] || fail "kafka: no Produce request frames in analyze"
expect_eq "tshark Produce requests" "$(tshark_count "$cap" "$dec" "tcp.dstport==$KPORT" kafka.api_key 0)" "$reqs"
expect_eq "tshark Produce responses" "$(tshark_count "$cap" "$dec" "tcp.srcport==$KPORT" kafka.api_key 0)" "$reqs"
expect_eq "analyze Produce responses" "$(field "$frames" acks)" "$reqs"

log "== tcpdump of librdkafka's producer"
RK=$REPO/.output/bench/rdkafka_producer
[ -x "$RK" ] || die "$RK not built (run make)"
M=3000
tcpdump -i lo -B 131072 -w "$T/rk.pcap" "tcp port $KPORT" 2>"$T/tcpdump.err" &
TD_PID=$!
track $TD_PID
wait_until 5 grep -q listening "$T/tcpdump.err" || die "tcpdump did not start: $(cat "$T/tcpdump.err")"
timeout 60 "$RK" --bootstrap "$KAFKA_BOOTSTRAP" --topic t --messages $M --payload-size 64 --acks 1 \
	>"$T/rk.out" 2>"$T/rk.err" || fail "rdkafka_producer failed: $(cat "$T/rk.err")"
grep -q "delivered=$M " "$T/rk.out" || fail "rdkafka_producer: $(cat "$T/rk.out")"
sleep 1
stop_pid $TD_PID
tcpdump_drops
check_analyze "tcpdump of librdkafka" "$T/rk.pcap" $M --port "$KPORT"
stop_kafka_mock

log "== WebSocket fan-out run with --pcap (libwebsockets mirror)"
start_lws_mirror || die "cannot start libwebsockets-test-server"
report=$T/ws.json
W=300
run_blast 60 --proto ws --target "ws://127.0.0.1:$LWS_PORT/" --ws-subprotocol lws-mirror-protocol \
	--publishers 1 --listeners 3 --messages $W --payload-size 58 --rate 2000 \
	--pcap "$T/ws.pcapng" --report "$report" --quiet
expect_rc 0
expect_json "$report" sent == $W
expect_json "$report" received == $((W * 4))
line=$(grep -- '--pcap .*: wire requests' "$T/blast.err")
expect_eq "ws run wire requests" "$(field "$line" requests)" $W
expect_eq "ws run wire receipts" "$(field "$line" acks)" $((W * 4))
expect_eq "ws run wire unparsed" "$(field "$line" unparsed)" 0
pass
