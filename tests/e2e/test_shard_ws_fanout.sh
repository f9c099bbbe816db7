#!/usr/bin/env bash
# A --proto ws fan-out run (publishers and listeners) split 3 ways on one
# machine (--shard I/3, --start-at) against libwebsockets' mirror server,
# which relays every message to every connection, then `blast merge`:
# every share's connections count every share's messages (sequence numbers
# unique across the shares, one run id, wall-clock send times), each share
# expects the whole run's messages on its own connections (missing 0 per
# share) and owes its publishes x every connection of the run
# (exact.fanout.owed), and the merge says what one unsplit run of the same
# flags says: the same expected and received, missing 0, duplicates 0, one
# end-to-end latency per receipt, sent = acked + failed + unacked. A ws
# share and an MQTT share do not merge (one line, exit status 2). Small
# loads: the mirror drops messages when pressed (bench/ws.sh).
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
skip_unless_cmd python3
[ -x /usr/bin/libwebsockets-test-server ] || skip "libwebsockets-test-server not installed"
require_blast

start_lws_mirror || die "cannot start libwebsockets-test-server"
URL="ws://127.0.0.1:$LWS_PORT/"
M=300 S=3 K=3
flags=(--proto ws --target "$URL" --ws-subprotocol lws-mirror-protocol --publishers $S
	--listeners $K --messages $M --rate 600 --payload-size 58 --drain-timeout 5s)

run_blast 60 "${flags[@]}" --quiet --report "$T/one.json"
expect_rc 0
expect_json "$T/one.json" expected == $((M * (S + K)))
expect_json "$T/one.json" received == $((M * (S + K)))
expect_json "$T/one.json" exact.fanout.owed == $((M * (S + K)))

at=$(( $(date +%s) + 3 ))
pids=()
for i in 0 1 2; do
	"$BLAST" "${flags[@]}" --shard "$i/3" --start-at "$at" --quiet --report "$T/ws$i.json" \
		>"$T/ws$i.out" 2>"$T/ws$i.err" &
	pids+=($!)
	track "${pids[-1]}"
done
for i in 0 1 2; do
	rc=0
	wait "${pids[$i]}" || rc=$?
	[ "$rc" -eq 0 ] || fail "ws shard $i exited $rc ($(head -2 "$T/ws$i.err"))"
	check_accounting "$T/ws$i.json"
	# A third of the messages; one publisher and one listener, each
	# receiving every share's messages.
	expect_json "$T/ws$i.json" sent == $((M / 3))
	expect_json "$T/ws$i.json" config.publishers == 1
	expect_json "$T/ws$i.json" config.listeners == 1
	expect_json "$T/ws$i.json" expected == $((M * 2))
	expect_json "$T/ws$i.json" received == $((M * 2))
	expect_json "$T/ws$i.json" missing == 0
	expect_json "$T/ws$i.json" exact.fanout.receivers_whole == $((S + K))
	expect_json "$T/ws$i.json" exact.fanout.owed == $((M / 3 * (S + K)))
done
"$BLAST" merge "$T/ws0.json" "$T/ws1.json" "$T/ws2.json" --report "$T/m.json" --csv "$T/m.csv" \
	--html "$T/m.html" >"$T/m.out" 2>"$T/m.err" || fail "merge exited $?: $(head -3 "$T/m.err")"
check_accounting "$T/m.json"
for k in sent expected received missing duplicates e2e_latency_us.count; do
	expect_json "$T/m.json" "$k" == "$(json_get "$T/one.json" "$k")"
done
expect_json "$T/m.json" missing == 0
expect_json "$T/m.json" duplicates == 0
expect_json "$T/m.json" merged.shards == 3
expect_json "$T/m.json" config.publishers == $S
expect_json "$T/m.json" config.listeners == $K
grep -q "^fan-out  *expected $((M * (S + K)))  received $((M * (S + K)))  missing 0" "$T/m.out" ||
	fail "merge summary: $(grep fan-out "$T/m.out")"
grep -q "$S publisher(s), $K listener(s)" "$T/m.out" || fail "merge header: $(head -1 "$T/m.out")"
grep -q 'listeners per node' "$T/m.html" || fail "merged page without its listeners"
# The merged seconds carry the receipts: their sum is the run's.
got=$(python3 -c "
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
print(sum(int(r['received']) for r in rows), rows[-1]['missing'])" "$T/m.csv")
[ "$got" = "$((M * (S + K))) 0" ] || fail "merged csv: received, last missing = $got"

# Reports of different protocols do not merge: one line, status 2.
sed 's/"proto": *"ws"/"proto":"mqtt"/' "$T/ws1.json" >"$T/mq1.json"
grep -q '"proto":"mqtt"' "$T/mq1.json" || fail "could not make an mqtt report"
rc=0
"$BLAST" merge "$T/ws0.json" "$T/mq1.json" >/dev/null 2>"$T/mix.err" || rc=$?
[ "$rc" -eq 2 ] && [ "$(wc -l <"$T/mix.err")" -eq 1 ] && grep -q 'do not merge' "$T/mix.err" ||
	fail "ws + mqtt merge: exit $rc, $(cat "$T/mix.err")"
kill -0 "$LWS_PID" 2>/dev/null || fail "libwebsockets-test-server died"
pass
