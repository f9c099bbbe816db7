#!/usr/bin/env bash
# --proto http against the kind of service people load-test: a small Flask
# app (Debian python3-flask, tests/tools/http_flask_app.py) on Werkzeug,
# which closes the connection after every response, so blast reopens a
# connection per request. Closed loop (avalanche: requests back to back)
# and closed loop with --think-time (tsunami: each connection pauses after
# every answer). Each run's counts must equal the server's own: requests
# the app saw == blast's sent == acked + failed + unacked, the app's /ping
# count == acked, every answer a 200 "PONG".
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
skip_unless_cmd python3 curl
/usr/bin/python3 -c 'import flask' 2>/dev/null ||
	skip "python3-flask not installed (scripts/install-deps.sh)"
require_blast

# start_flask: the app on a free port; sets FL_PORT, FL_PID.
start_flask() {
	/usr/bin/python3 "$REPO/tests/tools/http_flask_app.py" >"$T/flask.out" 2>"$T/flask.err" </dev/null &
	FL_PID=$!
	track "$FL_PID"
	FL_PORT=$(server_port "$T/flask.out" "$FL_PID") ||
		die "Flask app did not start: $(tail -3 "$T/flask.err")"
}

# counts: the app's own "ping requests" (GET /metrics, not counted itself).
counts() {
	curl -sf --max-time 5 "http://127.0.0.1:$FL_PORT/metrics" |
		python3 -c "import json, sys; m = json.load(sys.stdin); print(m['ping'], m['requests'])"
}

# check_run WHAT REPORT BEFORE: the run against the app's counts before it
# (BEFORE: "ping requests"). One interpreter for every check: each start
# costs.
check_run() {
	local what=$1 r=$2 before=$3 after out
	[ -s "$r" ] || { fail "$what: no report written: $(blast_why)"; return; }
	after=$(counts) || { fail "$what: no /metrics"; return; }
	# shellcheck disable=SC2086 # two counts each, split on purpose
	out=$(python3 - "$r" $before $after <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
ping0, req0, ping1, req1 = map(int, sys.argv[2:])
bad = []
def eq(name, got, want):
    if got != want:
        bad.append(f"{name} {got!r}, want {want!r}")
s, a, f, u = (r[k] for k in ("sent", "acked", "failed", "unacked"))
eq("sent = acked + failed + unacked:", s, a + f + u)
eq("proto", r["proto"], "http")
eq("exit_status", r["exit_status"], 0)
eq("failed", f, 0)
eq("unacked", u, 0)
eq("errors", r["errors"], {})
eq("blast's sent vs the requests the app saw:", s, req1 - req0)
eq("blast's acked vs the pings the app answered:", a, ping1 - ping0)
h = r["http"]
eq("http.status", h["status"], {"http:200": a})
eq("http.body_bytes", h["body_bytes"], 4 * a)
# Werkzeug closes every connection after its answer.
eq("http.server_closed", h["server_closed"], a)
print("; ".join(bad) if bad else f"sent {s}, acked {a}; the app counted {req1 - req0} requests, {ping1 - ping0} pings")
sys.exit(1 if bad else 0)
PY
	) || { fail "$what: $out"; return; }
	log "$what: $out; ${BLAST_SECS}s"
	RUN_SENT=$(json_get "$r" sent)
}

start_flask
URL=http://127.0.0.1:$FL_PORT/ping

# Avalanche: 4 connections, 400 requests as fast as the app answers.
before=$(counts) || die "no /metrics from the app"
run_blast 30 --proto http --target "$URL" --conns 4 --workers 1 --messages 400 --quiet \
	--report "$T/avalanche.json"
expect_rc 0
check_run avalanche "$T/avalanche.json" "$before"
[ "${RUN_SENT:-}" = 400 ] || fail "avalanche: sent ${RUN_SENT:-?}, want 400"

# Tsunami: 8 connections, each waiting 50 ms after every answer, for 2 s:
# at most 8 x 2 s / 50 ms = 320 requests, and at least a third of that.
before=$(counts) || die "no /metrics from the app"
run_blast 30 --proto http --target "$URL" --conns 8 --workers 1 --think-time 50ms \
	--duration 2s --quiet --report "$T/tsunami.json"
expect_rc 0
check_run tsunami "$T/tsunami.json" "$before"
[ "${RUN_SENT:-0}" -le 320 ] && [ "${RUN_SENT:-0}" -ge 100 ] ||
	fail "tsunami: sent ${RUN_SENT:-?}, want 100..320 (8 connections, 50 ms think time, 2 s)"
pass
