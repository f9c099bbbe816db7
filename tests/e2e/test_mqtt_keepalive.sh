#!/usr/bin/env bash
# Keepalive: connections that publish nothing still send PINGREQ in time.
# mosquitto drops a client silent for 1.5 x keepalive, so with --keepalive 1
# any connection blast forgot would be gone well within an 8 s hold (mosquitto
# 2.0 checks keepalives on a timer of a few seconds, not at once).
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
skip_unless_cmd python3
[ -x /usr/sbin/mosquitto ] || skip "/usr/sbin/mosquitto not installed"
require_blast

start_mosquitto || die "cannot start mosquitto"
r=$T/report.json
run_blast 30 --target "127.0.0.1:$MQ_PORT" --conns 50 --keepalive 1 --messages 0 \
	--duration 8s --report "$r" --quiet
expect_rc 0
expect_json "$r" conns_ok == 50
expect_json "$r" conns_dropped == 0
expect_json "$r" errors_total == 0
expect_json "$r" sent == 0
check_accounting "$r"
# The broker saw no timeouts either.
if grep -q "exceeded timeout" "$MQ_LOG"; then
	fail "mosquitto timed out clients: $(grep -m1 'exceeded timeout' "$MQ_LOG")"
fi
pass
