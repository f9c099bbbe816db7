#!/usr/bin/env bash
# Subscribe only (--publishers 0): blast's subscribers count what
# publishers that are not blast deliver (mosquitto_pub here), per second
# and in all, and time end to end the messages whose payload starts with
# blast's fan-out marker (send time on the wall clock, CLOCK_REALTIME). A
# marked message claiming a send time in the future is counted but not
# timed. Then: nothing published at all is a failed run (exit 1, one line
# on stderr), and flags that pace or count sends are refused.
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
skip_unless_cmd python3 mosquitto_pub
require_blast

start_mosquitto "log_type all" || die "cannot start mosquitto"
SUBS=2 PLAIN=20 MARKED=5

# marked FILE [AHEAD_S]: a payload with blast's fan-out marker, sent now
# (or AHEAD_S seconds in the future), then some text.
marked() {
	python3 - "$1" "${2:-0}" <<'PY'
import struct, sys, time
sent = time.time_ns() + int(float(sys.argv[2]) * 1e9)
with open(sys.argv[1], "wb") as f:
    f.write(b"BLST" + struct.pack("<IQ", 7, 1) + b"FANO" + struct.pack("<IQ", 99, sent) + b"outside")
PY
}

r=$T/sub.json
# Not under timeout(1): the Ctrl-C below goes to blast alone. The run
# ends by itself after 25 s anyway.
"$BLAST" --target "127.0.0.1:$MQ_PORT" --publishers 0 --subscribers $SUBS \
	--sub-topic 'ext/#' --duration 25s --report "$r" >"$T/blast.out" 2>"$T/blast.err" &
bpid=$!
track "$bpid"
subscribed() { [ "$(grep -c 'Received SUBSCRIBE from blast-' "$MQ_LOG")" -ge $SUBS ]; }
wait_until 5 subscribed || die "blast's subscribers did not subscribe: $(tail -3 "$MQ_LOG")"
# One mosquitto_pub for the plain ones: a message per line.
seq 1 $PLAIN | sed "s/^/not blast's /" | mosquitto_pub -p "$MQ_PORT" -t ext/plain -l ||
	fail "mosquitto_pub -l failed"
for ((i = 0; i < MARKED; i++)); do
	marked "$T/m.bin"
	mosquitto_pub -p "$MQ_PORT" -t "ext/marked" -f "$T/m.bin" || fail "mosquitto_pub failed"
done
marked "$T/future.bin" 60
mosquitto_pub -p "$MQ_PORT" -t "ext/future" -f "$T/future.bin" || fail "mosquitto_pub failed"
mosquitto_pub -p "$MQ_PORT" -t "other/topic" -m "not subscribed" || fail "mosquitto_pub failed"
# Publishing takes as long as the machine makes it: stop the run (Ctrl-C)
# once the last delivery is in, seen by the broker.
delivered() { [ "$(grep -c 'Sending PUBLISH to blast-' "$MQ_LOG")" -ge $((SUBS * (PLAIN + MARKED + 1))) ]; }
wait_until 10 delivered || fail "mosquitto did not deliver everything: $(tail -3 "$MQ_LOG")"
sleep 0.5
kill -INT "$bpid"
wait "$bpid"
BLAST_RC=$?
[ "$BLAST_RC" -eq 0 ] || fail "blast exited $BLAST_RC: $(cat "$T/blast.err")"
[ -s "$r" ] || die "no report"
expect_json "$r" received == $((SUBS * (PLAIN + MARKED + 1)))
expect_json "$r" sent == 0
expect_json "$r" subscribe_only eq true
expect_json "$r" e2e_latency_us.count == $((SUBS * MARKED))
expect_between "$r" e2e_latency_us.p50 5000000 "end to end (python, then mosquitto_pub, then the broker)"
expect_between "$r" received_per_s 1000 "deliveries per second"
check_accounting "$r"
grep -q "received .* deliveries" "$T/blast.out" || fail "the summary does not show the deliveries"
grep -q "received [0-9]*/s" "$T/blast.err" || fail "the live line does not show deliveries per second"

# Nothing published: a run that measured nothing is not clean.
r=$T/none.json
run_blast 30 --target "127.0.0.1:$MQ_PORT" --publishers 0 --subscribers 1 --sub-topic 'none/#' \
	--duration 1s --report "$r" --quiet
expect_rc 1
grep -q "nothing was delivered" "$T/blast.err" || fail "no line says nothing was delivered"

# Sends' flags are refused, one line each.
for bad in "--rate 10" "--messages 5" "--chat" "--steps 1,2"; do
	# shellcheck disable=SC2086 # flag and value on purpose
	run_blast 10 --target "127.0.0.1:$MQ_PORT" --publishers 0 --subscribers 1 $bad
	expect_rc 2
	grep -q "cannot be used with --publishers 0" "$T/blast.err" ||
		fail "$bad: $(cat "$T/blast.err")"
done
pass
