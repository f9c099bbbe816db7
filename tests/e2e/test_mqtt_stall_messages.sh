#!/usr/bin/env bash
# A --messages run without --duration whose broker stops answering must
# still end: mosquitto is frozen (SIGSTOP) half a second into a QoS 1 run
# far too long to finish by then; its windows fill, no ack frees them, and
# after --drain-timeout (1 s) with nothing moving blast stops publishing
# (stop_reason acks_stalled), counts what was in flight unacked and the
# rest of --messages not_sent, and exits 1. mosquitto is continued
# (SIGCONT) however the test ends.
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"

require_blast
start_mosquitto || die "mosquitto did not start"
trap 'rc=$?; kill -CONT "$MQ_PID" 2>/dev/null; (exit $rc); _cleanup' EXIT

r=$T/r.json
t0=$(date +%s.%N)
"$BLAST" --target "127.0.0.1:$MQ_PORT" --qos 1 --conns 2 --inflight 8 --rate 2000 \
	--messages 1000000 --drain-timeout 1s --report "$r" --quiet >"$T/blast.out" \
	2>"$T/blast.err" &
pid=$!
track "$pid"
sleep 0.5
kill -STOP "$MQ_PID"
wait_until 15 eval '! kill -0 "$pid" 2>/dev/null' || fail "blast still running 15 s after the freeze"
wait "$pid"
rc=$?
secs=$(echo "$(date +%s.%N) - $t0" | bc)
kill -CONT "$MQ_PID"
log "exit $rc in ${secs}s; $(grep '^status' "$T/blast.out")"
[ "$rc" -eq 1 ] || fail "exit status $rc, want 1: $(cat "$T/blast.err")"
expect_json "$r" stop_reason eq acks_stalled
expect_json "$r" unacked -gt 0
expect_json "$r" acked -gt 0
check_accounting "$r"
python3 - "$r" <<'PY' || fail "the budget does not add up"
import json, sys
r = json.load(open(sys.argv[1]))
sys.exit(0 if r["sent"] + r["not_sent"] == 1000000 else 1)
PY
pass
