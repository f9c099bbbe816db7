#!/usr/bin/env bash
# MQTT fan-out in chat mode (--chat) over TCP on one mosquitto: S
# publishers and K subscribers, every connection subscribed to blast/#
# (publishers too: 3.1.1 and 5 without no-local deliver a client's own
# messages), so each message is expected on S + K connections. (Without
# --chat publishers do not subscribe: test_mqtt_fanin.sh.) Checked for
# subscriptions at QoS 0, 1 and 2 (3.1.1 and 5, one and two workers):
# received = expected = M x (S + K),
# missing = 0, duplicates = 0, one end-to-end latency per receipt, and the
# accounting. Every delivery (at the lower of the two QoS) is answered:
# mosquitto's debug log shows as many PUBACKs (QoS 1), or PUBRECs and
# PUBCOMPs (QoS 2), from blast's connections as receipts. A TCP mosquitto_sub is the independent witness: it sees M messages
# (-R: not the retained ones), each with blast's 32-byte fan-out marker
# (BLST conn seq, FANO run sent_ns) and no (conn, seq) twice. The first run
# leaves retained messages behind; the next runs' subscribers get them at
# SUBACK, and must not count them (another run id). A filter matching one
# publisher's topic only expects that publisher's messages, as many as the
# witness saw on that topic, x (S + K). MQTT 5 over WebSocket at QoS 2.
# Overlapping filters: duplicates counted apart (MQTT 5), not failures.
# A --steps ladder: every row whole.
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
skip_unless_cmd mosquitto_sub mosquitto_pub python3
[ -x /usr/sbin/mosquitto ] || skip "/usr/sbin/mosquitto not installed"
require_blast

M=1000 S=2 K=3
start_mosquitto_ws "max_inflight_messages 100" "log_type debug" || die "cannot start mosquitto"

# acks_from_blast KIND: how many KIND packets blast's connections sent so far.
acks_from_blast() {
	grep -c "Received $1 from blast-" "$MQ_LOG" || true
}

# check_witness SUBFILE N: N messages, each with a fan-out marker whose
# connection matches its topic blast/{conn}, one run id, no seq twice.
check_witness() {
	local out
	if ! out=$(python3 - "$1" "$2" "$S" <<'EOF'
import struct, sys
n, pubs = int(sys.argv[2]), int(sys.argv[3])
seen, runs, bad, count = set(), set(), [], 0
for line in open(sys.argv[1]):
    if line.startswith("blast-probe/"):
        continue
    count += 1
    topic, _, hx = line.rstrip("\n").partition(" ")
    p = bytes.fromhex(hx)
    if len(p) < 32:
        bad.append(f"{topic}: {len(p)} bytes"); continue
    magic, conn, seq, tag, run, sent = struct.unpack_from("<4sIQ4sIQ", p)
    if magic != b"BLST" or tag != b"FANO":
        bad.append(f"{topic}: no fan-out marker: {hx[:64]}"); continue
    if conn >= pubs or topic != f"blast/{conn}":
        bad.append(f"{topic}: marker conn {conn}")
    if seq in seen:
        bad.append(f"seq {seq} twice")
    seen.add(seq)
    runs.add(run)
if count != n:
    bad.insert(0, f"{count} messages, want {n}")
if len(runs) > 1:
    bad.append(f"{len(runs)} run ids")
if bad:
    print("; ".join(bad[:5])); sys.exit(1)
EOF
	); then
		fail "witness: $out"
	fi
}

i=0
for args in "--qos 0 --sub-qos 0 --retain" "--qos 1 --sub-qos 1 --workers 2" \
	"--qos 1 --sub-qos 2 --mqtt-version 5" "--qos 2 --sub-qos 2 --mqtt-version 5 --inflight 20" \
	"--qos 2 --sub-qos 2 --inflight 20"; do
	i=$((i + 1))
	pubacks=$(acks_from_blast PUBACK) pubrecs=$(acks_from_blast PUBREC)
	pubcomps=$(acks_from_blast PUBCOMP)
	sub=$T/witness$i.txt
	start_sub "$sub" -t 'blast/#' -q 1 -R || die "run $i: witness not ready"
	r=$T/fanout$i.json
	want=$((M * (S + K)))
	# shellcheck disable=SC2086
	run_blast 60 --chat --target "127.0.0.1:$MQ_PORT" --publishers $S --subscribers $K \
		--sub-topic 'blast/#' --messages $M --payload-size 48 --report "$r" --quiet $args
	[ "$BLAST_RC" -eq 0 ] || fail "run $i ($args): blast exited $BLAST_RC: $(blast_why "$r")"
	expect_json "$r" sent == $M
	expect_json "$r" acked == $M
	expect_json "$r" conns_ok == $((S + K))
	expect_json "$r" expected == $want
	expect_json "$r" received == $want
	expect_json "$r" missing == 0
	expect_json "$r" duplicates == 0
	expect_json "$r" e2e_latency_us.count == $want
	awk -v a="$(json_get "$r" e2e_latency_us.max)" -v b="$(json_get "$r" batch_s)" \
		'BEGIN { exit !(a > 0 && b > 0) }' || fail "run $i: no end-to-end time"
	expect_json "$r" errors eq '{}'
	expect_json "$r" config.subscribers == $K
	expect_json "$r" config.chat eq true
	check_accounting "$r"
	# The delivery QoS is the lower of the publish's and the subscription's.
	pq=$(json_get "$r" config.qos) sq=$(json_get "$r" config.sub_qos)
	dq=$((pq < sq ? pq : sq))
	got="$(($(acks_from_blast PUBACK) - pubacks)) $(($(acks_from_blast PUBREC) - pubrecs))"
	got="$got $(($(acks_from_blast PUBCOMP) - pubcomps))"
	case $dq in
	0) exp="0 0 0" ;;
	1) exp="$want 0 0" ;;
	2) exp="0 $want $want" ;;
	esac
	[ "$got" = "$exp" ] || fail "run $i ($args): PUBACK PUBREC PUBCOMP from blast = $got, want $exp"
	wait_sub_count "$sub" $M 10
	check_witness "$sub" $M
	stop_pid "$SUB_PID"
done

# MQTT 5 over WebSocket, QoS 2 both ways: the same figures.
r=$T/fanout-ws5.json
run_blast 60 --chat --target "ws://127.0.0.1:$MQ_WS_PORT/mqtt" --mqtt-version 5 --publishers $S \
	--subscribers $K --sub-qos 2 --qos 2 --inflight 20 --messages $M --report "$r" --quiet
[ "$BLAST_RC" -eq 0 ] || fail "ws, mqtt 5: blast exited $BLAST_RC: $(blast_why "$r")"
expect_json "$r" acked == $M
expect_json "$r" expected == $((M * (S + K)))
expect_json "$r" received == $((M * (S + K)))
expect_json "$r" missing == 0
expect_json "$r" duplicates == 0
expect_json "$r" errors eq '{}'
check_accounting "$r"

# Overlapping filters: MQTT 5 lets a broker deliver a message once per
# matching subscription, and mosquitto does (to 3.1.1 clients it sends one
# copy). Receipts after the first are duplicates, counted apart, and the
# run is still clean.
for v in 5 3.1.1; do
	[ "$v" = 5 ] && dups=$((M * (S + K))) || dups=0
	r=$T/fanout-overlap-$v.json
	run_blast 60 --chat --target "127.0.0.1:$MQ_PORT" --mqtt-version $v --publishers $S \
		--subscribers $K --sub-topic 'blast/#' --sub-topic 'blast/+' --sub-qos 1 --qos 1 \
		--messages $M --report "$r" --quiet
	[ "$BLAST_RC" -eq 0 ] || fail "overlap, mqtt $v: blast exited $BLAST_RC: $(blast_why "$r")"
	expect_json "$r" expected == $((M * (S + K)))
	expect_json "$r" received == $((M * (S + K)))
	expect_json "$r" missing == 0
	expect_json "$r" duplicates == $dups
	expect_json "$r" e2e_latency_us.count == $((M * (S + K)))
	expect_json "$r" config.sub_topics eq '["blast/#", "blast/+"]'
	check_accounting "$r"
done

# Only blast/1 matches: the messages publisher 1 sent, on every connection.
sub=$T/witness-one.txt
start_sub "$sub" -t 'blast/#' -q 1 -R || die "witness not ready"
r=$T/fanout-one.json
run_blast 60 --chat --target "127.0.0.1:$MQ_PORT" --publishers $S --subscribers $K \
	--sub-topic blast/1 --sub-qos 1 --qos 1 --messages $M --payload-size 40 --report "$r" --quiet
[ "$BLAST_RC" -eq 0 ] || fail "blast/1: blast exited $BLAST_RC: $(blast_why "$r")"
wait_sub_count "$sub" $M 10
on1=$(sub_messages "$sub" | grep -c '^blast/1 ')
[ "$on1" -gt 0 ] && [ "$on1" -lt $M ] || fail "witness saw $on1 of $M messages on blast/1"
expect_json "$r" expected == $((on1 * (S + K)))
expect_json "$r" received == $((on1 * (S + K)))
expect_json "$r" missing == 0
check_accounting "$r"
stop_pid "$SUB_PID"

# The ladder: one row per step, each complete.
r=$T/fanout-steps.json
run_blast 60 --chat --target "127.0.0.1:$MQ_PORT" --publishers $S --subscribers $K --sub-qos 1 \
	--qos 1 --steps 10,100,500 --report "$r" --quiet
[ "$BLAST_RC" -eq 0 ] || fail "steps: blast exited $BLAST_RC: $(blast_why "$r")"
expect_json "$r" sent == 610
expect_json "$r" received == $((610 * (S + K)))
for k in 0 1 2; do
	b=$(json_get "$r" "steps" | python3 -c "import json,sys; print(json.load(sys.stdin)[$k]['batch'])")
	got=$(json_get "$r" "steps" | python3 -c "import json,sys; s=json.load(sys.stdin)[$k]; print(s['received'], s['expected'], s['missing'])")
	[ "$got" = "$((b * (S + K))) $((b * (S + K))) 0" ] || fail "step $b: received expected missing = $got"
done
pass
