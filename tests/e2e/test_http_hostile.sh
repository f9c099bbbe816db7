#!/usr/bin/env bash
# --proto http against servers that misbehave (tests/tools/http_bad_server.py
# playing them): each run must end on its own within its bound, exit 1 with
# one clear reason (in errors, or the status line for what never came), and
# account for every request: sent = acked + failed + unacked, sent equal to
# the requests the server read.
#   silent     never answers: with --messages alone the run still ends once
#              nothing moved for the drain timeout (stop_reason acks_stalled),
#              the requests in flight unacked, the rest never sent
#   nolength   a 200 with neither length nor close: its body never ends,
#              the request is unacked at the drain timeout
#   huge       Content-Length: 10 GB, over --max-body: failed, too large
#   badchunk   a chunk size that is not hexadecimal: failed, protocol error
#   reset      a reset in the middle of a body: failed, connection reset
#   oneeach    one answer per connection, then a clean close (FIN): the GETs
#              pipelined behind it are resent on the next connection, each
#              at most 3 times, then failed (http_retries_exhausted)
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
skip_unless_cmd python3
require_blast

# bad_server MODE: the misbehaving server on a free port; sets BS_PORT,
# BS_PID, BS_LOG (one "requests=N" line per request head it read).
bad_server() {
	BS_LOG=$T/bad_$1.log
	python3 "$REPO/tests/tools/http_bad_server.py" --mode "$1" >"$T/bad_$1.out" \
		2>"$BS_LOG" </dev/null &
	BS_PID=$!
	track "$BS_PID"
	BS_PORT=$(server_port "$T/bad_$1.out" "$BS_PID") ||
		die "http_bad_server --mode $1 did not start: $(tail -3 "$BS_LOG")"
}

# server_requests: the request heads the server read.
server_requests() {
	sed -n 's/^requests=//p' "$BS_LOG" | tail -1
}

# hostile MODE ERROR_KEY TEXT BLAST_FLAGS...: one run against MODE;
# ERROR_KEY must be the report's only error (every request failed with it),
# or "" for none (every request unacked); TEXT must be in the summary.
hostile() {
	local mode=$1 key=$2 text=$3 r=$T/$1.json sent out
	shift 3
	bad_server "$mode"
	run_blast 15 --proto http --target "http://127.0.0.1:$BS_PORT/" --conns 2 --workers 1 \
		--drain-timeout 1s --report "$r" "$@"
	[ -s "$r" ] || { fail "$mode: no report: $(blast_why)"; stop_pid "$BS_PID"; return; }
	log "$mode: exit $BLAST_RC in ${BLAST_SECS}s; $(grep '^status' "$T/blast.out")"
	expect_rc 1
	# One interpreter for every check of the report: each start costs.
	out=$(python3 - "$r" "$key" <<'PY'
import json, sys
r, key = json.load(open(sys.argv[1])), sys.argv[2]
bad = []
s, a, f, u = (r[k] for k in ("sent", "acked", "failed", "unacked"))
if s != a + f + u:
    bad.append(f"sent {s} != acked {a} + failed {f} + unacked {u}")
if s <= 0 or a != 0:
    bad.append(f"sent {s}, acked {a}: want some sent, none acked")
want_err = {key: s} if key else {}
if r["errors"] != want_err:
    bad.append(f"errors {r['errors']}, want {want_err}")
if (f, u) != ((s, 0) if key else (0, s)):
    bad.append(f"failed {f}, unacked {u}: want every request " + ("failed" if key else "unacked"))
print("; ".join(bad) if bad else f"sent={s}")
sys.exit(1 if bad else 0)
PY
	) || fail "$mode: $out"
	sent=${out#sent=}
	wait_until 5 eval '[ "$(server_requests)" = "$sent" ]' ||
		fail "$mode: blast sent $sent requests, the server read $(server_requests)"
	grep -q "$text" "$T/blast.out" || fail "$mode: no '$text' in the summary: $(head -5 "$T/blast.out")"
	stop_pid "$BS_PID"
}

# What never comes: --messages alone must still end. The two requests in
# flight are never answered, so the other 8 can never go out: publishing
# stops once nothing moved for the drain timeout (1 s), then the close.
hostile silent "" "^status .* publishing stopped: nothing moved for the drain timeout, 8 messages never sent" \
	--messages 10
[ "$(json_get "$T/silent.json" stop_reason)" = acks_stalled ] ||
	fail "silent: stop_reason $(json_get "$T/silent.json" stop_reason), want acks_stalled"
[ "$(json_get "$T/silent.json" not_sent)" = 8 ] ||
	fail "silent: not_sent $(json_get "$T/silent.json" not_sent), want 8 (10 less the 2 in flight)"
# 1 s stall + at most 1 s of close + start-up, well under run_blast's 15 s.
[ "$(echo "$BLAST_SECS < 6" | bc)" = 1 ] || fail "silent: took ${BLAST_SECS}s, want under 6 s"
hostile nolength "" "^status .* unacked at the drain timeout" --duration 1s
# What comes wrong: each request fails on its own connection, which reopens.
hostile huge frame_too_large "^  frame_too_large " --messages 6
hostile badchunk protocol_error "^  protocol_error " --messages 6
hostile reset conn_reset "^  conn_reset " --messages 6

# One answer per connection, 8 GETs pipelined on one connection: the k-th
# is answered on the k-th connection after k-1 resends, so GETs 1-4 are
# acked (0+1+2+3 resends), 5-8 are resent 3 times each and then fail:
# retried = 7 + 6 + 5 = 18, the server answered 4.
bad_server oneeach
r=$T/oneeach.json
run_blast 15 --proto http --target "http://127.0.0.1:$BS_PORT/" --conns 1 --workers 1 \
	--pipeline 8 --messages 8 --drain-timeout 2s --report "$r"
log "oneeach: exit $BLAST_RC in ${BLAST_SECS}s; $(grep '^status' "$T/blast.out")"
expect_rc 1
expect_jsons "$r" sent == 8 acked == 4 failed == 4 unacked == 0 http.retried == 18 \
	errors.http_retries_exhausted == 4 errors_total == 4 http.server_closed == 4 \
	conns_dropped == 0
check_accounting "$r"
wait_until 5 eval '[ "$(server_requests)" = 4 ]' ||
	fail "oneeach: the server answered $(server_requests) requests, want 4"
grep -q "^  http_retries_exhausted " "$T/blast.out" ||
	fail "oneeach: no http_retries_exhausted in the summary: $(cat "$T/blast.out")"
stop_pid "$BS_PID"
pass
