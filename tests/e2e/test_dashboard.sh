#!/usr/bin/env bash
# --dashboard: the live page blast serves while it runs, against mosquitto.
# - a run: /api/now read twice during it shows the counts growing; once it
#   is over, /api/series' seconds add up to the JSON report and /api/now's
#   final figures equal it; the page renders the figures in headless
#   Chromium, and /report is the final HTML report;
# - POST /api/stop without the token is refused (403); with it the run
#   drains and stops early with the stop reason of Ctrl-C ("signal"), every
#   message accounted for;
# - a port in use, a bad address (also a distributed run's coordinator's):
#   one line, exit 2, no run.
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
skip_unless_cmd python3 curl chromium
[ -x /usr/sbin/mosquitto ] || skip "/usr/sbin/mosquitto not installed"
require_blast
start_mosquitto || die "mosquitto did not start"

api() { dash_api "$@"; }
field() { python3 -c 'import json,sys; v=json.load(sys.stdin)
for k in sys.argv[1].split("."): v=v[k]
print(v)' "$1"; }

# 1. A run of 4 s: counts grow, the end equals the report.
dash_start run --target "mqtt://127.0.0.1:$MQ_PORT" --conns 4 --rate 400 --duration 4s \
	--qos 1 --report "$T/run.json" --dashboard-linger 20s
wait_until 5 sh -c "curl -sf '$DASH_URL/api/now' | grep -q '\"now\"'" || fail "no second in /api/now"
a=$(api /api/now | field total.sent) || fail "GET /api/now failed"
sleep 1.5
b=$(api /api/now | field total.sent) || fail "GET /api/now failed"
[ "${a:-0}" -lt "${b:-0}" ] 2>/dev/null || fail "sent did not grow between two reads: $a then $b"
[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$DASH_URL/api/stop")" = 403 ] ||
	fail "POST /api/stop without a token was not refused with 403"
[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'X-Blast-Token: 0123' "$DASH_URL/api/stop")" = 403 ] ||
	fail "POST /api/stop with a wrong token was not refused with 403"
wait_until 10 sh -c "curl -sf '$DASH_URL/api/now' | grep -q '\"done\":true'" || fail "run never done"
[ -s "$T/run.json" ] || fail "no report while the dashboard lingers"
check_accounting "$T/run.json"
expect_json "$T/run.json" stop_reason eq duration
api /api/series >"$T/series.json" || fail "GET /api/series failed"
api /api/now >"$T/now.json" || fail "GET /api/now failed"
out=$(python3 - "$T/run.json" "$T/series.json" "$T/now.json" <<'PY'
import json, sys
r, s, n = (json.load(open(p)) for p in sys.argv[1:4])
bad = []
for k in ("sent", "acked", "failed"):
    rows = sum(x[k] for x in s["rows"])
    if rows != r[k]: bad.append(f"series {k} {rows} != report {r[k]}")
    if n["total"][k] != r[k]: bad.append(f"now total.{k} {n['total'][k]} != report {r[k]}")
for k in ("sent", "acked", "failed", "unacked"):
    if n["final"][k] != r[k]: bad.append(f"final.{k} {n['final'][k]} != report {r[k]}")
if n["final"]["stop_reason"] != r["stop_reason"]: bad.append("stop reason differs")
if r["sent"] == 0: bad.append("nothing sent")
print("; ".join(bad)); sys.exit(1 if bad else 0)
PY
) || fail "dashboard vs report: $out"
api /report >"$T/report.html" || fail "GET /report failed"
grep -q '<svg' "$T/report.html" || fail "/report is not the final HTML report"
# The page in Chromium: its script fetched the series and filled the numbers.
ud=$(mktemp -d "$T/chrome.XXXXXX")
timeout -k 5 60 chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
	--disable-component-update --disable-sync --no-first-run --user-data-dir="$ud" \
	--virtual-time-budget=3000 --dump-dom "$DASH_URL/" >"$T/page.dom" 2>>"$T/chromium.err" ||
	fail "chromium --dump-dom of the dashboard failed"
sent=$(python3 -c 'import json,sys; print(format(json.load(open(sys.argv[1]))["sent"], ","))' "$T/run.json")
grep -q "id=\"sent\">$sent<" "$T/page.dom" || fail "the page does not show sent $sent"
grep -q '<polyline' "$T/page.dom" || fail "the page drew no chart"
grep -q 'finished (duration)' "$T/page.dom" || fail "the page does not say the run finished"
grep -q 'iframe src="/report"' "$T/page.dom" || fail "the page does not show the final report"
kill -INT "$DASH_PID"
wait_until 5 sh -c "! kill -0 $DASH_PID 2>/dev/null" || fail "Ctrl-C did not end the lingering"
wait "$DASH_PID"
rc=$?
[ "$rc" -eq 0 ] || fail "the run exited $rc"

# 2. POST /api/stop with the token drains a 30 s run early, like Ctrl-C.
dash_start stop --target "mqtt://127.0.0.1:$MQ_PORT" --conns 2 --rate 200 --duration 30s \
	--qos 1 --report "$T/stop.json" --dashboard-linger 500ms
wait_until 5 sh -c "curl -sf '$DASH_URL/api/now' | grep -q '\"now\"'" || fail "no second in /api/now"
[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "X-Blast-Token: $DASH_TOKEN" \
	"$DASH_URL/api/stop")" = 200 ] || fail "POST /api/stop with the token was not accepted"
t0=$(date +%s)
wait_until 12 sh -c "! kill -0 $DASH_PID 2>/dev/null" || fail "the run did not stop"
wait "$DASH_PID"
[ $(($(date +%s) - t0)) -lt 12 ] || fail "the run did not stop early"
check_accounting "$T/stop.json"
expect_json "$T/stop.json" stop_reason eq signal
expect_json "$T/stop.json" sent -gt 0

# 3. Bad input: a port in use, a bad address; one line, exit 2, no run.
port=$MQ_PORT
"$BLAST" --dashboard "127.0.0.1:$port" --target "mqtt://127.0.0.1:$MQ_PORT" --duration 1s \
	>"$T/busy.out" 2>"$T/busy.err"
rc=$?
[ "$rc" -eq 2 ] || fail "a port in use: exit $rc, want 2"
[ "$(wc -l <"$T/busy.err")" -eq 1 ] && grep -q "cannot listen: Address already in use" "$T/busy.err" ||
	fail "a port in use: $(cat "$T/busy.err")"
for bad in 127.0.0.1:70000 300.1.2.3:8080 localhost:x ''; do
	"$BLAST" --dashboard "$bad" --target "mqtt://127.0.0.1:$MQ_PORT" --duration 1s \
		>"$T/bad.out" 2>"$T/bad.err"
	rc=$?
	[ "$rc" -eq 2 ] || fail "--dashboard '$bad': exit $rc, want 2"
	[ "$(wc -l <"$T/bad.err")" -eq 1 ] || fail "--dashboard '$bad': $(cat "$T/bad.err")"
	grep -q 'dashboard' "$T/bad.err" || fail "--dashboard '$bad': $(cat "$T/bad.err")"
done
# A distributed run's coordinator takes --dashboard (tests/e2e/
# test_dashboard_control.sh); a bad address is one line before any link.
"$BLAST" --control "mqtt://127.0.0.1:$MQ_PORT" --agents 1 --dashboard 300.1.2.3:8080 --duration 1s \
	>"$T/coord.out" 2>"$T/coord.err"
rc=$?
[ "$rc" -eq 2 ] && [ "$(wc -l <"$T/coord.err")" -eq 1 ] && grep -q 'dashboard' "$T/coord.err" ||
	fail "coordinator with a bad --dashboard: exit $rc: $(cat "$T/coord.err")"
pass
