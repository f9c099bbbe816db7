#!/usr/bin/env bash
# WebSocket failures, against tests/tools/ws_bad_server.py, for --proto ws
# and for MQTT over WebSocket:
#  - the upgrade answered "HTTP/1.1 400 Bad Request": blast exits non-zero
#    (1 or 2, not a hang or a crash), names 400 in its output, and the report
#    counts errors."upgrade_refused:400" once per connection;
#  - a close frame with code 1001 after F frames: the report counts
#    errors."ws_close:1001" per connection, blast answers the close and
#    does not hang;
#  - the TCP connection dropped (reset) after F frames: counted as dropped
#    (or, for MQTT, failed) connections, blast exits 1 within the limit;
#  - the publishers closed while a listener stays up: the run ends.
# F is 5 for --proto ws (mid-run, after some messages). For MQTT it is 1:
# the server never answers CONNECT, so a client sends nothing more; the
# close or reset comes while blast waits for CONNACK.
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
skip_unless_cmd python3
require_blast

CONNS=2
for flavour in ws mqtt; do
	case $flavour in
	ws)
		args=(--proto ws --ws-subprotocol lws-mirror-protocol --publishers "$CONNS"
			--listeners 0 --messages 50 --payload-size 58 --drain-timeout 2s)
		frames=5
		;;
	mqtt)
		args=(--proto mqtt --transport ws --conns "$CONNS" --qos 1 --messages 50)
		frames=1
		;;
	esac
	set -- "${args[@]}"

	start_ws_bad_server 400 || die "cannot start the 400 server"
	r=$T/$flavour-400.json
	# Not --quiet: the 400 must show in what a user sees (stderr, or the
	# summary's error table on stdout).
	run_blast 30 "$@" --target "ws://127.0.0.1:$WSB_PORT/" --report "$r"
	case $BLAST_RC in
	1 | 2) ;;
	*) fail "$flavour, 400: blast exited $BLAST_RC, want 1 or 2" ;;
	esac
	grep -q 400 "$T/blast.err" "$T/blast.out" ||
		fail "$flavour, 400: neither stderr nor stdout names 400: $(blast_why "$r")"
	if [ -s "$r" ]; then
		expect_json "$r" "errors.upgrade_refused:400" == $CONNS
		expect_json "$r" conns_failed == $CONNS
		expect_json "$r" conns_ok == 0
	elif [ "$BLAST_RC" -ne 2 ]; then
		fail "$flavour, 400: no report"
	fi
	stop_pid "$WSB_PID"

	start_ws_bad_server close --frames "$frames" --code 1001 --reason "server going away" ||
		die "cannot start the close server"
	r=$T/$flavour-close.json
	run_blast 30 "$@" --target "ws://127.0.0.1:$WSB_PORT/" --report "$r" --quiet
	[ "$BLAST_RC" -eq 1 ] || fail "$flavour, close 1001: blast exited $BLAST_RC, want 1"
	[ -s "$r" ] || { fail "$flavour, close 1001: no report"; continue; }
	if [ "$flavour" = ws ]; then
		expect_json "$r" "errors.ws_close:1001" == $CONNS
		expect_json "$r" conns_ok == $CONNS
	else
		# A failed MQTT connection may be retried: at least one each.
		expect_json "$r" "errors.ws_close:1001" -ge $CONNS
		check_accounting "$r"
	fi
	# blast answered the close (RFC 6455 5.5.1) on every connection.
	[ "$(grep -o 'client answered close' "$WSB_LOG" | wc -l)" -ge $CONNS ] ||
		fail "$flavour, close 1001: blast did not answer every close: $(tr '\n' ' ' <"$WSB_LOG")"
	stop_pid "$WSB_PID"

	start_ws_bad_server drop --frames "$frames" || die "cannot start the drop server"
	r=$T/$flavour-drop.json
	run_blast 30 "$@" --target "ws://127.0.0.1:$WSB_PORT/" --report "$r" --quiet
	[ "$BLAST_RC" -eq 1 ] || fail "$flavour, drop: blast exited $BLAST_RC, want 1"
	[ -s "$r" ] || { fail "$flavour, drop: no report"; continue; }
	if [ "$flavour" = ws ]; then
		expect_json "$r" conns_dropped == $CONNS
		expect_json "$r" conns_ok == $CONNS
	else
		n=$(($(json_get "$r" conns_dropped) + $(json_get "$r" conns_failed)))
		[ "$n" -ge $CONNS ] || fail "mqtt, drop: $n connections dropped or failed, want >= $CONNS"
		check_accounting "$r"
	fi
	stop_pid "$WSB_PID"
done

# Publishers closed mid-run while a listener stays up (it sends no frames,
# so the server never closes it): the publishers' messages can never be
# sent, and the run ends (all_connections_lost) instead of waiting forever.
start_ws_bad_server close --frames 5 --code 1001 || die "cannot start the close server"
r=$T/ws-publishers-gone.json
run_blast 30 --proto ws --target "ws://127.0.0.1:$WSB_PORT/" --publishers 2 --listeners 1 \
	--messages 1000 --rate 200 --drain-timeout 1s --report "$r" --quiet
[ "$BLAST_RC" -eq 1 ] || fail "publishers gone: blast exited $BLAST_RC, want 1"
[ "$(echo "$BLAST_SECS < 15" | bc)" -eq 1 ] || fail "publishers gone: blast took ${BLAST_SECS}s"
expect_json "$r" stop_reason eq all_connections_lost
expect_json "$r" "errors.ws_close:1001" == 2
expect_json "$r" sent -lt 1000
check_accounting "$r"
stop_pid "$WSB_PID"
pass
