#!/usr/bin/env bash
# --churn: every message on a fresh connection (connect, publish, wait for
# the ack, disconnect), 10 at a time. 200 messages make 200 complete
# cycles: 200 accepted logins in the report and in the broker's log.
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
skip_unless_cmd python3
[ -x /usr/sbin/mosquitto ] || skip "/usr/sbin/mosquitto not installed"
require_blast

N=200
start_mosquitto || die "cannot start mosquitto"
r=$T/report.json
run_blast 60 --target "127.0.0.1:$MQ_PORT" --churn --conns 10 --messages $N --qos 1 \
	--report "$r" --quiet
[ "$BLAST_RC" -eq 0 ] || fail "blast exited $BLAST_RC: $(blast_why "$r")"
if [ -s "$r" ]; then
	expect_json "$r" sent == $N
	expect_json "$r" acked == $N
	expect_json "$r" failed == 0
	expect_json "$r" unacked == 0
	expect_json "$r" conns_ok == $N
	expect_json "$r" conns_failed == 0
	expect_json "$r" conns_dropped == 0
	expect_json "$r" errors eq '{}'
	check_accounting "$r"
else
	fail "no report written"
fi
sleep 0.3 # let the broker log the last goodbyes
logins=$(grep -c 'New client connected from .* as blast-' "$MQ_LOG")
byes=$(grep -c '^[0-9]*: Client blast-[^ ]* disconnected\.$' "$MQ_LOG")
log "broker log: $logins blast logins, $byes clean disconnects"
[ "$logins" -eq $N ] || fail "broker logged $logins blast logins, want $N"
[ "$byes" -eq $N ] || fail "broker logged $byes clean blast disconnects, want $N"
pass
