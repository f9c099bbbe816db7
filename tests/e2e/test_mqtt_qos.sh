#!/usr/bin/env bash
# Publishes N messages at QoS 0, 1 and 2 to a private mosquitto and checks,
# against a subscriber at the same QoS, that exactly N arrive intact, first
# with sized (marker-stamped) payloads, then with --payload-file lines; and
# that the report agrees: sent == acked == N, nothing failed or unacked.
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
skip_unless_cmd mosquitto_sub mosquitto_pub python3
[ -x /usr/sbin/mosquitto ] || skip "/usr/sbin/mosquitto not installed"
require_blast

N=1000
CONNS=4
# mosquitto 2.0.11 drops an MQTT 3.1.1 client with more than
# max_inflight_messages (default 20) QoS 2 messages awaiting PUBREL ("Bad
# socket read/write"), and 3.1.1 cannot tell the client that limit; blast's
# default --inflight is 64. This test is about delivery, not that limit.
start_mosquitto "max_inflight_messages 100" || die "cannot start mosquitto"

# Payload lines: JSON of different lengths, one with UTF-8, one longer
# than the marker. 5 lines; N is a multiple of 5 and of CONNS (and of any
# worker count up to CONNS), so each line must arrive N / 5 times however
# blast splits messages between workers.
LINES=$T/lines.jsonl
cat >"$LINES" <<'JSON'
{"id":1,"temp":21.5}
{"id":2,"name":"caf\u00e9","ok":true}
{"id":3,"note":"héllo wörld","tags":["a","b","c"],"nested":{"x":[1,2,3],"y":null}}
{}
{"id":5,"v":"0123456789012345678901234567890123456789"}
JSON

report_ok() { # REPORT QOS WHAT
	local r=$1 what="$3 (qos $2)"
	[ -s "$r" ] || { fail "$what: no report written"; return; }
	expect_json "$r" proto eq mqtt
	expect_json "$r" sent == "$N"
	expect_json "$r" acked == "$N"
	expect_json "$r" failed == 0
	expect_json "$r" unacked == 0
	expect_json "$r" not_sent == 0
	expect_json "$r" conns_ok == "$CONNS"
	expect_json "$r" conns_failed == 0
	expect_json "$r" conns_dropped == 0
	expect_json "$r" errors eq '{}'
	expect_json "$r" stop_reason eq messages
	expect_json "$r" exit_status == 0
	# Every acknowledged message has a latency sample at QoS 1 and 2.
	[ "$2" -eq 0 ] || expect_json "$r" latency_us.count == "$N"
	check_accounting "$r"
}

for qos in 0 1 2; do
	for kind in sized lines; do
		what="$kind payloads, qos $qos"
		log "== $what"
		sub=$T/sub-$qos-$kind.txt
		start_sub "$sub" -t 'blast/#' -q "$qos" || die "$what: subscriber not ready"
		report=$T/report-$qos-$kind.json
		if [ $kind = sized ]; then
			payload=(--payload-size 20)
		else
			payload=(--payload-file "$LINES")
		fi
		run_blast 60 --target "127.0.0.1:$MQ_PORT" --conns $CONNS --qos "$qos" \
			--messages $N "${payload[@]}" --report "$report" --quiet
		[ "$BLAST_RC" -eq 0 ] || fail "$what: blast exited $BLAST_RC: $(blast_why "$report")"
		wait_sub_count "$sub" $N "$([ "$BLAST_RC" -eq 0 ] && echo 15 || echo 3)"
		if [ $kind = sized ]; then
			check_marked_payloads "$sub" $N $CONNS 20
		else
			check_line_payloads "$sub" $N "$LINES"
		fi
		report_ok "$report" "$qos" "$kind payloads"
		stop_pid "$SUB_PID"
	done
done
pass
