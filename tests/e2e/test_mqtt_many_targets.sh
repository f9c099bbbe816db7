#!/usr/bin/env bash
# Many connections over many brokers and worker processes, and the open
# files limit that sizes the workers; four real mosquittos on free ports:
# 1. 3,000 connections, 3 workers, the 4 brokers as --target: every
#    connection up, 750 logins in each broker's log (connections take the
#    targets in turn, whichever worker holds them); QoS 1, 6,000 messages:
#    all acked, sent = acked + failed + unacked; the report says when the
#    last worker had all its connections up (startup.to_all_conns_ms, not
#    before the first worker's to_schedule_ms). One worker holding 3,000
#    connections with --keepalive 2 for 5 s: none dropped (its scan, a
#    slice at a time, still pings each within mosquitto's 3 s).
# 2. Under a 200 open files limit (hard and soft): --workers 2 for 1,000
#    connections is one clear line naming the workers needed (6) and exit
#    2; without --workers blast takes as many as the sockets need and all
#    1,000 connect; more than 64 workers' worth is refused.
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
skip_unless_cmd python3 prlimit
[ -x /usr/sbin/mosquitto ] || skip "/usr/sbin/mosquitto not installed"
require_blast

N_BROKERS=4
TARGETS=()
LOGS=()
for ((i = 0; i < N_BROKERS; i++)); do
	MQ_DIR='' MQ_PORT=''
	start_mosquitto "max_inflight_messages 0" || die "cannot start mosquitto $i"
	TARGETS+=(--target "127.0.0.1:$MQ_PORT")
	LOGS+=("$MQ_LOG")
done

# logins_each WANT: every broker's log holds WANT blast logins.
logins_each() {
	local l n
	sleep 0.3 # let the brokers log the last ones
	for l in "${LOGS[@]}"; do
		n=$(grep -c 'New client connected from .* as blast-' "$l")
		[ "$n" -eq "$1" ] || fail "$(basename "$(dirname "$l")"): $n blast logins, want $1"
	done
}

# 1. Connections across targets and workers, QoS 1 over all of them.
r=$T/qos1.json
run_blast 60 "${TARGETS[@]}" --conns 3000 --workers 3 --qos 1 --inflight 4 --messages 6000 \
	--report "$r" --quiet
[ "$BLAST_RC" -eq 0 ] || fail "blast exited $BLAST_RC: $(blast_why "$r")"
if [ -s "$r" ]; then
	expect_json "$r" conns_ok == 3000
	expect_json "$r" conns_failed == 0
	expect_json "$r" sent == 6000
	expect_json "$r" acked == 6000
	expect_json "$r" failed == 0
	expect_json "$r" unacked == 0
	expect_json "$r" errors eq '{}'
	check_accounting "$r"
	first=$(json_get "$r" startup.to_schedule_ms)
	all=$(json_get "$r" startup.to_all_conns_ms) || fail "report has no startup.to_all_conns_ms"
	python3 -c "import sys; sys.exit(0 if 0 < $first <= ${all:-0} < 60000 else 1)" ||
		fail "startup: to_schedule_ms $first, to_all_conns_ms ${all:-none}: want 0 < first <= all"
	grep -q 'all tried [0-9.]* s after launch' "$T/blast.out" ||
		fail "summary does not say when all connections were tried: $(grep connections "$T/blast.out")"
else
	fail "no report written"
fi
logins_each 750

# One worker holding 3,000 connections scans them a slice at a time: with
# --keepalive 2 each must still ping within mosquitto's 3 s, or be dropped.
r=$T/keepalive.json
run_blast 60 "${TARGETS[@]}" --conns 3000 --workers 1 --keepalive 2 --messages 0 --duration 5s \
	--report "$r" --quiet
[ "$BLAST_RC" -eq 0 ] || fail "keepalive run: blast exited $BLAST_RC: $(blast_why "$r")"
if [ -s "$r" ]; then
	expect_json "$r" conns_ok == 3000
	expect_json "$r" conns_dropped == 0
	expect_json "$r" errors eq '{}'
else
	fail "no report written by the keepalive run"
fi

# 2. The open files limit sizes the workers.
# run_limited ARGS...: blast under a 200 open files limit, soft and hard.
run_limited() {
	timeout -k 5 60 prlimit --nofile=200:200 "$BLAST" "$@" >"$T/blast.out" 2>"$T/blast.err"
	BLAST_RC=$?
}
run_limited "${TARGETS[@]}" --conns 1000 --workers 2 --messages 0 --duration 1s --quiet
[ "$BLAST_RC" -eq 2 ] || fail "--workers 2 for 1000 conns under 200 files: exit $BLAST_RC, want 2"
[ "$(wc -l <"$T/blast.err")" -eq 1 ] || fail "want one line, got: $(cat "$T/blast.err")"
grep -q -- '--workers 6 or more' "$T/blast.err" || fail "no advice in: $(cat "$T/blast.err")"

r=$T/limited.json
run_limited "${TARGETS[@]}" --conns 1000 --messages 0 --duration 1s --report "$r" --quiet
[ "$BLAST_RC" -eq 0 ] || fail "default workers under 200 files: exit $BLAST_RC: $(blast_why "$r")"
if [ -s "$r" ]; then
	expect_json "$r" conns_ok == 1000
	expect_json "$r" errors eq '{}'
else
	fail "no report written under 200 files"
fi

run_limited "${TARGETS[@]}" --conns 20000 --messages 0 --duration 1s --quiet
[ "$BLAST_RC" -eq 2 ] || fail "20000 conns under 200 files: exit $BLAST_RC, want 2"
grep -q 'more than 64 workers' "$T/blast.err" || fail "want 'more than 64 workers': $(cat "$T/blast.err")"
pass
