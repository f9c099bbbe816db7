#!/usr/bin/env bash
# Keepalive: connections that publish nothing still send PINGREQ in time.
# mosquitto drops a client silent for 1.5 x keepalive, so with --keepalive 1
# any connection blast forgot would be gone well within an 8 s hold (mosquitto
# 2.0 checks keepalives on a timer of a few seconds, not at once).
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
skip_unless_cmd python3
[ -x /usr/sbin/mosquitto ] || skip "/usr/sbin/mosquitto not installed"
require_blast

start_mosquitto "log_type all" || die "cannot start mosquitto"
r=$T/report.json
run_blast 30 --target "127.0.0.1:$MQ_PORT" --conns 50 --keepalive 1 --messages 0 \
	--duration 8s --report "$r" --quiet
expect_rc 0
expect_json "$r" conns_ok == 50
expect_json "$r" conns_dropped == 0
expect_json "$r" errors_total == 0
expect_json "$r" sent == 0
check_accounting "$r"

# Subscribers that only receive, and every connection through a 5 s drain
# that waits for receipts that never come (4 expected per message, 2
# subscribers): each keeps pinging.
r=$T/drain.json
run_blast 30 --target "127.0.0.1:$MQ_PORT" --subscribers 2 --conns 1 --messages 10 --rate 100 \
	--fanout 4 --drain-timeout 5s --keepalive 1 --report "$r" --quiet
expect_json "$r" conns_ok == 3
expect_json "$r" conns_dropped == 0
expect_json "$r" received == 20
expect_json "$r" missing == 20
check_accounting "$r"
ids=$(grep -o 'as blast-[0-9]*-[0-9]*' "$MQ_LOG" | sort -u | cut -d' ' -f2)
[ "$(echo "$ids" | wc -l)" -eq 53 ] || fail "mosquitto's log names $(echo "$ids" | wc -l) clients, want 53"
for id in $ids; do
	n=$(grep -c "Received PINGREQ from $id\$" "$MQ_LOG")
	[ "$n" -ge 5 ] || fail "$id sent $n PINGREQ over a run of 8 s and one of 5 s at keepalive 1"
done
# The broker saw no timeouts either.
if grep -q "exceeded timeout" "$MQ_LOG"; then
	fail "mosquitto timed out clients: $(grep -m1 'exceeded timeout' "$MQ_LOG")"
fi
pass
