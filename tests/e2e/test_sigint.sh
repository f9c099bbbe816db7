#!/usr/bin/env bash
# SIGINT mid-run: blast stops publishing, drains, writes its report and
# exits within ~6 s, with its accounting straight.
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
skip_unless_cmd python3
[ -x /usr/sbin/mosquitto ] || skip "/usr/sbin/mosquitto not installed"
require_blast

start_mosquitto || die "cannot start mosquitto"
r=$T/report.json
# Started directly (no timeout wrapper) so the signal goes to blast itself.
"$BLAST" --target "127.0.0.1:$MQ_PORT" --conns 4 --qos 1 --rate 2000 --duration 30s \
	--report "$r" --quiet >"$T/blast.out" 2>"$T/blast.err" &
BPID=$!
track "$BPID"
sleep 3
kill -0 "$BPID" 2>/dev/null || die "blast ended before SIGINT: $(tail -n 3 "$T/blast.err")"
kill -INT "$BPID"
t0=$(date +%s.%N)
if wait_until 6 eval '! kill -0 "$BPID" 2>/dev/null'; then
	wait "$BPID"
	rc=$?
	log "blast exited $rc, $(printf '%.1f' "$(echo "$(date +%s.%N) - $t0" | bc)") s after SIGINT"
	# Stopped on request with a live broker: nothing failed.
	[ "$rc" -eq 0 ] || fail "blast exited $rc after SIGINT, want 0"
else
	fail "blast still running 6 s after SIGINT"
	kill -KILL "$BPID" 2>/dev/null
	wait "$BPID" 2>/dev/null
fi
if [ -s "$r" ]; then
	expect_json "$r" stop_reason eq signal
	expect_json "$r" sent -gt 0
	expect_json "$r" acked -gt 0
	expect_json "$r" failed == 0
	expect_json "$r" unacked == 0
	expect_json "$r" conns_dropped == 0
	check_accounting "$r"
	d=$(json_get "$r" duration_s)
	# Stopped at ~3 s of 30: the report must not claim the full duration.
	python3 -c "import sys; sys.exit(0 if 2 <= float('$d') <= 10 else 1)" ||
		fail "report duration_s = $d, want about 3"
else
	fail "no report written after SIGINT"
fi
pass
