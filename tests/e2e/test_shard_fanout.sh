#!/usr/bin/env bash
# An MQTT fan-out run split 3 ways on one machine (--shard I/3, --start-at)
# against mosquitto, then `blast merge`: every share's subscribers count
# every share's publishers' messages (whole-run marker numbers, one run id),
# each share expects the whole run's messages on its own subscribers
# (missing 0 per share), and the merge says what one unsplit run of the same
# flags says: the same expected and received, missing 0, duplicates 0, one
# end-to-end latency per receipt, sent = acked + failed + unacked. The chat
# case (every connection publishes and subscribes) likewise; a shared
# subscription ($share) adds up to one receipt per message. Refused with
# one line and exit status 2: a --proto ws run at --shard, and a fan-out
# report merged with a publishing one.
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
. tests/lib/mosquitto.sh
skip_unless_cmd python3
[ -x /usr/sbin/mosquitto ] || skip "/usr/sbin/mosquitto not installed"
require_blast

start_mosquitto "max_inflight_messages 100" || die "cannot start mosquitto"
M=900 S=3 K=3

# split_run NAME MAXRC FLAGS...: the run split 3 ways, started together,
# each share exiting MAXRC or less; NAME's reports are $T/NAME{0,1,2}.json,
# merged into $T/NAME-m.json.
split_run() {
	local name=$1 maxrc=$2 pids=() i rc
	shift 2
	local at=$(( $(date +%s) + 3 ))
	for i in 0 1 2; do
		"$BLAST" --target "127.0.0.1:$MQ_PORT" --shard "$i/3" --start-at "$at" "$@" --quiet \
			--report "$T/$name$i.json" >"$T/$name$i.out" 2>"$T/$name$i.err" &
		pids+=($!)
		track "${pids[-1]}"
	done
	for i in 0 1 2; do
		rc=0
		wait "${pids[$i]}" || rc=$?
		[ "$rc" -le "$maxrc" ] || fail "$name shard $i exited $rc ($(head -2 "$T/$name$i.err"))"
		check_accounting "$T/$name$i.json"
	done
	"$BLAST" merge "$T/${name}0.json" "$T/${name}1.json" "$T/${name}2.json" --report "$T/$name-m.json" \
		--csv "$T/$name-m.csv" >"$T/$name-m.out" 2>"$T/$name-m.err" ||
		fail "$name merge exited $?: $(head -3 "$T/$name-m.err")"
	check_accounting "$T/$name-m.json"
}

# same_as_one WHOLE MERGED: the merge's fan-out figures are the unsplit run's.
same_as_one() {
	local k
	for k in sent expected received missing duplicates e2e_latency_us.count; do
		expect_json "$2" "$k" == "$(json_get "$1" "$k")"
	done
	expect_json "$2" missing == 0
	expect_json "$2" duplicates == 0
}

flags=(--publishers $S --subscribers $K --qos 1 --sub-qos 1 --messages $M --rate 900
	--topic 'fo/{conn}' --sub-topic 'fo/#' --client-id 'fo-{conn}' --payload-size 64)
run_blast 60 --target "127.0.0.1:$MQ_PORT" "${flags[@]}" --quiet --report "$T/one.json"
expect_rc 0
expect_json "$T/one.json" expected == $((M * K))
expect_json "$T/one.json" received == $((M * K))
split_run fo 0 "${flags[@]}"
# Each share: a third of the messages, one subscriber that expects and
# receives every share's messages.
for i in 0 1 2; do
	expect_json "$T/fo$i.json" sent == $((M / 3))
	expect_json "$T/fo$i.json" config.subscribers == 1
	expect_json "$T/fo$i.json" expected == $M
	expect_json "$T/fo$i.json" received == $M
	expect_json "$T/fo$i.json" missing == 0
	expect_json "$T/fo$i.json" exact.fanout.owed == $((M / 3 * K))
done
same_as_one "$T/one.json" "$T/fo-m.json"
expect_json "$T/fo-m.json" merged.shards == 3
expect_json "$T/fo-m.json" config.subscribers == $K
grep -q '^fan-out  *expected 2700  received 2700  missing 0' "$T/fo-m.out" ||
	fail "merge summary: $(grep fan-out "$T/fo-m.out")"
# The merged seconds carry the receipts: their sum is the run's.
got=$(python3 -c "
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
print(sum(int(r['received']) for r in rows), rows[-1]['missing'])" "$T/fo-m.csv")
[ "$got" = "$((M * K)) 0" ] || fail "merged csv: received, last missing = $got"
# Client ids: the whole run's {conn} numbers, each once.
ids=$(grep -o 'New client connected from [^ ]* as fo-[0-9]*' "$MQ_LOG" | sed 's/.* as //' | sort -u | wc -l)
[ "$ids" -eq $((S + K)) ] || fail "$ids distinct client ids, want $((S + K))"

# The chat case: every connection publishes and subscribes.
chat=(--chat --publishers $S --subscribers $K --qos 1 --sub-qos 1 --messages $M --rate 900
	--topic 'ch/{conn}' --sub-topic 'ch/#' --payload-size 64)
run_blast 60 --target "127.0.0.1:$MQ_PORT" "${chat[@]}" --quiet --report "$T/chat1.json"
expect_rc 0
expect_json "$T/chat1.json" received == $((M * (S + K)))
split_run ch 0 "${chat[@]}"
same_as_one "$T/chat1.json" "$T/ch-m.json"
expect_json "$T/ch-m.json" config.chat eq true

# A shared subscription: the broker picks a member on any share, so a
# share's own figures are estimates (it may exit 1), the merge exact.
shared=(--publishers $S --subscribers $K --qos 1 --sub-qos 1 --messages $M --rate 900
	--topic 'sh/{conn}' --sub-topic '$share/g/sh/#' --drain-timeout 3s)
split_run sh 1 "${shared[@]}"
expect_json "$T/sh-m.json" expected == $M
expect_json "$T/sh-m.json" received == $M
expect_json "$T/sh-m.json" missing == 0

# A fan-out report and a publishing one do not merge: one line, status 2.
run_blast 30 --target "127.0.0.1:$MQ_PORT" --conns 1 --messages 10 --topic 'pub/x' --quiet --report "$T/pub.json"
expect_rc 0
rc=0
"$BLAST" merge "$T/fo0.json" "$T/pub.json" >/dev/null 2>"$T/mix.err" || rc=$?
[ "$rc" -eq 2 ] && [ "$(wc -l <"$T/mix.err")" -eq 1 ] && grep -q 'do not merge' "$T/mix.err" ||
	fail "fan-out + publishing merge: exit $rc, $(cat "$T/mix.err")"

# WebSocket listeners: not split yet, one line.
run_blast 10 --proto ws --target "127.0.0.1:$MQ_PORT" --listeners 3 --shard 0/3
expect_rc 2
[ "$(wc -l <"$T/blast.err")" -eq 1 ] && grep -q 'cannot be split between machines yet' "$T/blast.err" ||
	fail "ws --shard: $(cat "$T/blast.err")"
pass
