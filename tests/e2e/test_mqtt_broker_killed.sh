#!/usr/bin/env bash
# The broker dies under load.
#  1. Without --reconnect: kill -9 the broker 2 s into a 30 s run. blast
#     must notice and end on its own within ~5 s, exit 1, count the dropped
#     connections, and keep its accounting straight.
#  2. With --reconnect: stop the broker 2 s in, start it again on the same
#     port 2 s later; publishing must resume (a subscriber started after the
#     restart receives blast's messages, and the report counts reconnects).
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
skip_unless_cmd mosquitto_sub mosquitto_pub python3
[ -x /usr/sbin/mosquitto ] || skip "/usr/sbin/mosquitto not installed"
require_blast

CONNS=4

# Starts blast in the background (not through run_blast: the test acts
# while it runs). Sets BPID.
blast_bg() {
	"$BLAST" "$@" >"$T/blast.out" 2>"$T/blast.err" &
	BPID=$!
	track "$BPID"
}

# Waits up to $1 s for blast to exit; sets BLAST_RC (124 if it had to be
# killed) and returns 1 in that case.
blast_wait() {
	if ! wait_until "$1" eval '! kill -0 "$BPID" 2>/dev/null'; then
		kill -KILL "$BPID" 2>/dev/null
		wait "$BPID" 2>/dev/null
		BLAST_RC=124
		return 1
	fi
	wait "$BPID"
	BLAST_RC=$?
}

log "== part 1: kill -9 the broker, no --reconnect"
start_mosquitto || die "cannot start mosquitto"
r=$T/report-killed.json
blast_bg --target "127.0.0.1:$MQ_PORT" --conns $CONNS --qos 1 --rate 2000 --duration 30s \
	--report "$r" --quiet
sleep 2
kill -0 "$BPID" 2>/dev/null || die "blast ended before the broker was killed: $(tail -n 3 "$T/blast.err")"
kill9_mosquitto
t_kill=$(date +%s.%N)
if blast_wait 6; then
	secs=$(echo "$(date +%s.%N) - $t_kill" | bc)
	log "blast ended $(printf '%.1f' "$secs") s after the kill, exit $BLAST_RC"
else
	fail "blast still running 6 s after the broker was killed (killed it)"
fi
expect_rc 1
if [ -s "$r" ]; then
	expect_json "$r" conns_ok == $CONNS
	expect_json "$r" conns_dropped == $CONNS
	expect_json "$r" sent -gt 0
	expect_json "$r" acked -gt 0
	expect_json "$r" stop_reason eq all_connections_lost
	expect_json "$r" exit_status == 1
	check_accounting "$r"
else
	fail "part 1: no report written: $(tail -n 3 "$T/blast.err")"
fi

log "== part 2: stop the broker, restart it 2 s later, --reconnect"
# A second broker: new port, new directory and config.
MQ_PORT='' MQ_DIR='' MQ_CONF=''
start_mosquitto || die "cannot start mosquitto"
r=$T/report-reconnect.json
blast_bg --target "127.0.0.1:$MQ_PORT" --conns $CONNS --qos 1 --rate 1000 --duration 8s \
	--reconnect --report "$r" --quiet
sleep 2
kill -0 "$BPID" 2>/dev/null || die "blast ended before the broker was stopped: $(tail -n 3 "$T/blast.err")"
stop_mosquitto
sleep 2
_start_mosquitto_conf "$MQ_PORT" || die "cannot restart mosquitto on port $MQ_PORT"
# Counts what blast publishes from now on.
sub=$T/sub-after-restart.txt
start_sub "$sub" -t 'blast/#' -q 1 || die "subscriber not ready after the restart"
# 8 s run + drain (5 s) + slack.
blast_wait 12 || fail "blast still running 12 s after the restart (killed it)"
sleep 0.5
after=$(sub_count "$sub")
log "after the restart: subscriber got $after messages, blast exit $BLAST_RC"
# ~4 s left at 1000/s: well over 500 unless publishing did not resume.
[ "$after" -ge 500 ] || fail "only $after messages arrived after the restart, want >= 500"
# The run lost connections: 1, not 0, not a crash.
expect_rc 1
if [ -s "$r" ]; then
	expect_json "$r" reconnects -ge $CONNS
	expect_json "$r" conns_ok -ge $((2 * CONNS))
	expect_json "$r" conns_dropped -ge $CONNS
	expect_json "$r" acked -ge "$after"
	expect_json "$r" stop_reason eq duration
	check_accounting "$r"
else
	fail "part 2: no report written: $(tail -n 3 "$T/blast.err")"
fi
pass
