#!/usr/bin/env bash
# A connection with nothing to send still answers pings. The server
# (python3-websockets) pings every 0.3 s and drops a client whose pong is
# 0.6 s late, so a pong that waits for the next message would cost every
# idle connection: listeners, a connect-only run (--messages 0), and every
# connection through a drain that waits for receipts that never come.
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
skip_unless_cmd python3
require_blast

start_ws_ping_server --ping-interval 0.3 --ping-timeout 0.6 || die "cannot start the ping server"

# no_timeouts NAME REPORT: neither side saw a keepalive timeout.
no_timeouts() {
	if json_get "$2" "errors.ws_close:1011" >/dev/null; then
		fail "$1: the server closed connections for late pongs (ws_close:1011 = $(json_get "$2" "errors.ws_close:1011"))"
	fi
	expect_json "$2" conns_dropped == 0
	check_accounting "$2"
}

# Connect only: 1 publisher and 2 listeners hold 3 s (10 pings each).
r=$T/idle.json
run_blast 30 --proto ws --target "ws://127.0.0.1:$WSP_PORT/" --publishers 1 --listeners 2 \
	--messages 0 --duration 3s --report "$r" --quiet
[ -s "$r" ] || die "no report: $(cat "$T/blast.err")"
expect_rc 0
expect_json "$r" conns_ok == 3
expect_json "$r" errors_total == 0
no_timeouts "connect only" "$r"

# A drain of 2.5 s: each message is expected 5 times but reaches only the
# 3 connections, so the run waits out --drain-timeout with every
# connection silent (and the listeners silent from the start).
r=$T/drain.json
run_blast 30 --proto ws --target "ws://127.0.0.1:$WSP_PORT/" --publishers 1 --listeners 2 \
	--messages 20 --rate 100 --fanout 5 --drain-timeout 2500ms --report "$r" --quiet
[ -s "$r" ] || die "no report: $(cat "$T/blast.err")"
expect_json "$r" sent == 20
expect_json "$r" received -ge 40
expect_json "$r" missing -ge 1
no_timeouts "drain" "$r"
drain_s=$(json_get "$r" duration_s)
[ "$(echo "$drain_s >= 2.5" | bc)" = 1 ] || fail "the run lasted $drain_s s: the drain did not wait"

stop_pid "$WSP_PID"
if grep -q "code=1011" "$WSP_LOG"; then
	fail "the server dropped clients for late pongs: $(grep -m1 'code=1011' "$WSP_LOG")"
fi
pass
