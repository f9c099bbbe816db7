#!/usr/bin/env bash
# The live page of distributed runs, against a control mosquitto, a target
# mosquitto and 2 real `blast agent` processes on loopback:
# - the coordinator with --dashboard: a row per agent appears (running,
#   with its rate), the merged counts grow, and at the end /api/series and
#   /api/now's final figures equal the merged JSON report; POST /api/stop
#   without the token is 403, with it every agent drains (stop reason
#   "signal", every message accounted for), as Ctrl-C at a coordinator
#   without a page does;
# - `blast dashboard`: the agents listed; POST /api/run without the token
#   403, with bad values 400 and one line; a run started through the API
#   completes and its report (--reports DIR) equals the figures shown;
# - in headless Chromium (puppeteer-core): the agents on the page, a run
#   started from the page's form, the chart growing, the end figures equal
#   to the JSON, and a POST without the token refused;
# - an agent lost mid-run: its row says lost, partial seconds are listed;
# - the target killed mid-run: the errors by reason show while it runs and
#   equal the merged report's at the end;
# - --probe through the agents: the page's wire latency per second adds up
#   to the merged report's wire count;
# - bad input to `blast dashboard`: one line, exit status 2.
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
. tests/lib/mosquitto.sh
skip_unless_cmd python3 curl node chromium
[ -x /usr/sbin/mosquitto ] || skip "/usr/sbin/mosquitto not installed"
[ -f tests/node/node_modules/puppeteer-core/package.json ] ||
	skip "puppeteer-core not in tests/node (run scripts/install-deps.sh)"
require_blast

start_mosquitto || die "cannot start the target mosquitto"
TARGET=$MQ_PORT
MQ_PORT='' MQ_DIR=''
start_mosquitto || die "cannot start the control mosquitto"
CTL=$MQ_PORT

agents=()
for n in a1 a2; do
	"$BLAST" agent --control "mqtt://127.0.0.1:$CTL" --name "$n" >"$T/$n.out" 2>"$T/$n.err" &
	agents+=($!)
	track $!
done
wait_until 15 eval 'grep -q registered "$T/a1.err" && grep -q registered "$T/a2.err"' ||
	fail "agents did not register: $(cat "$T"/a*.err)"

# dash_line NAME: DASH_URL and DASH_TOKEN from NAME.err's start-up line.
dash_line() {
	local line
	wait_until 10 grep -q 'dashboard on http' "$T/$1.err" || die "$1: no dashboard line: $(cat "$T/$1.err")"
	line=$(grep -o 'http://[0-9.:]*/#token=[0-9a-f]*' "$T/$1.err" | head -n1)
	DASH_URL=${line%%/#*}
	DASH_TOKEN=${line##*token=}
	[ ${#DASH_TOKEN} -eq 32 ] || die "$1: no token in: $line"
}
api() { curl -sf --max-time 5 "$DASH_URL$1"; }
post() { curl -s -o "$T/post.out" -w '%{http_code}' --max-time 20 -X POST "$@"; }
field() { python3 -c 'import json,sys; v=json.load(sys.stdin)
for k in sys.argv[1].split("."): v=v[int(k)] if isinstance(v, list) else v[k]
print(v)' "$1"; }
# check_end NOW SERIES REPORT: the page's end figures equal the report's.
check_end() {
	python3 - "$@" <<'PY'
import json, sys
n, s, r = (json.load(open(p)) for p in sys.argv[1:4])
bad = []
for k in ("sent", "acked", "failed", "unacked"):
    if n["final"][k] != r[k]: bad.append(f"final.{k} {n['final'][k]} != report {r[k]}")
for k in ("sent", "acked", "failed"):
    rows = sum(x[k] for x in s["rows"])
    if rows != r[k]: bad.append(f"series {k} {rows} != report {r[k]}")
if n["final"]["stop_reason"] != r["stop_reason"]: bad.append("stop reason differs")
if r["sent"] == 0: bad.append("nothing sent")
if sorted(a["name"] for a in n["agents"] if a["state"] != "lost") != ["a1", "a2"]: bad.append(f"agents {n['agents']}")
print("; ".join(bad)); sys.exit(1 if bad else 0)
PY
}

# 1. The coordinator's page: 2 agents, 4 s at 400/s.
"$BLAST" --control "mqtt://127.0.0.1:$CTL" --agents 2 --dashboard 127.0.0.1:0 --dashboard-linger 30s \
	--target "127.0.0.1:$TARGET" --conns 4 --qos 1 --rate 400 --duration 4s --report "$T/c.json" \
	>"$T/coord.out" 2>"$T/coord.err" &
coord=$!
track "$coord"
dash_line coord
wait_until 20 sh -c "curl -sf '$DASH_URL/api/now' | grep -q '\"state\":\"running\"'" ||
	fail "no agent row running: $(api /api/now)"
wait_until 10 sh -c "curl -sf '$DASH_URL/api/now' | grep -q '\"rate\":[1-9]'" || fail "no agent rate: $(api /api/now)"
a=$(api /api/now | field total.sent) || fail "GET /api/now failed"
sleep 1.5
b=$(api /api/now | field total.sent) || fail "GET /api/now failed"
[ "${a:-0}" -lt "${b:-0}" ] 2>/dev/null || fail "merged sent did not grow: $a then $b"
[ "$(api /api/now | field agents.0.name)" = a1 ] || fail "first agent row: $(api /api/now)"
[ "$(post "$DASH_URL/api/stop")" = 403 ] || fail "POST /api/stop without a token was not 403"
wait_until 30 sh -c "curl -sf '$DASH_URL/api/now' | grep -q '\"done\":true'" || fail "run never done: $(cat "$T/coord.err")"
[ -s "$T/c.json" ] || fail "no merged report while the page lingers"
api /api/now >"$T/c.now" && api /api/series >"$T/c.series" || fail "GET after the run failed"
out=$(check_end "$T/c.now" "$T/c.series" "$T/c.json") || fail "coordinator page vs report: $out"
expect_json "$T/c.json" stop_reason eq duration
expect_json "$T/c.json" merged.reports == 2
[ "$(field agents.1.state <"$T/c.now")" = finished ] || fail "agent a2 not finished: $(cat "$T/c.now")"
api /report >"$T/c.html" && grep -q '<svg' "$T/c.html" || fail "/report is not the merged HTML report"
kill -TERM "$coord"
wait "$coord"
rc=$?
[ "$rc" -eq 0 ] || fail "coordinator exited $rc"

# 2. POST /api/stop with the token: every agent drains, as Ctrl-C.
"$BLAST" --control "mqtt://127.0.0.1:$CTL" --agents 2 --dashboard 127.0.0.1:0 --dashboard-linger 1s \
	--target "127.0.0.1:$TARGET" --conns 4 --qos 1 --rate 400 --duration 60s --report "$T/s.json" \
	>"$T/stop.out" 2>"$T/stop.err" &
coord=$!
track "$coord"
dash_line stop
wait_until 20 sh -c "curl -sf '$DASH_URL/api/now' | grep -q '\"sent\":[1-9]'" || fail "nothing sent: $(api /api/now)"
t0=$(date +%s)
[ "$(post -H "X-Blast-Token: $DASH_TOKEN" "$DASH_URL/api/stop")" = 200 ] || fail "POST /api/stop with the token: $(cat "$T/post.out")"
wait_until 30 sh -c "! kill -0 $coord 2>/dev/null" || fail "coordinator still running after the stop"
wait "$coord"
[ $(( $(date +%s) - t0 )) -lt 20 ] || fail "the stop took $(( $(date +%s) - t0 )) s"
expect_json "$T/s.json" stop_reason eq signal
expect_json "$T/s.json" merged.reports == 2
check_accounting "$T/s.json"
grep -q 'stopped by the coordinator' "$T/a1.err" && grep -q 'stopped by the coordinator' "$T/a2.err" ||
	fail "the agents were not told to stop: $(cat "$T"/a*.err)"

# The same stop by Ctrl-C at a coordinator without a page.
"$BLAST" --control "mqtt://127.0.0.1:$CTL" --agents 2 --target "127.0.0.1:$TARGET" --conns 4 --qos 1 \
	--rate 400 --duration 60s --report "$T/i.json" >"$T/int.out" 2>"$T/int.err" &
coord=$!
track "$coord"
wait_until 20 grep -q 'agents 2/2 | sent [1-9]' "$T/int.err" || fail "nothing sent: $(cat "$T/int.err")"
kill -INT "$coord"
wait_until 30 sh -c "! kill -0 $coord 2>/dev/null" || fail "coordinator still running after SIGINT"
wait "$coord"
expect_json "$T/i.json" stop_reason eq signal
expect_json "$T/i.json" merged.reports == 2
check_accounting "$T/i.json"

# 3. blast dashboard: the agents listed, runs from the API.
mkdir -p "$T/rep"
"$BLAST" dashboard --control "mqtt://127.0.0.1:$CTL" --listen 127.0.0.1:0 --reports "$T/rep" \
	>"$T/dash.out" 2>"$T/dash.err" &
dash=$!
track "$dash"
dash_line dash
wait_until 10 sh -c "curl -sf '$DASH_URL/api/now' | grep -q '\"name\":\"a2\"'" || fail "agents not listed: $(api /api/now)"
[ "$(api /api/now | field control.running)" = False ] || fail "a run going at start: $(api /api/now)"
q="agents=2&target=127.0.0.1:$TARGET&conns=4&rate=400&duration=3s&qos=1"
[ "$(post "$DASH_URL/api/run?$q")" = 403 ] || fail "POST /api/run without the token was not 403"
for bad in "agents=2&target=127.0.0.1:$TARGET&conns=abc" "agents=2&target=127.0.0.1:$TARGET&conns=1" \
	"agents=0&target=127.0.0.1:$TARGET" "agents=2&target=127.0.0.1:$TARGET&duration=3x" \
	"agents=2&target=127.0.0.1:$TARGET&proto=smtp" "agents=2&target=" "agents=3&target=127.0.0.1:$TARGET"; do
	code=$(post -H "X-Blast-Token: $DASH_TOKEN" "$DASH_URL/api/run?$bad")
	[ "$code" = 400 ] && [ "$(wc -l <"$T/post.out")" -eq 1 ] ||
		fail "POST /api/run?$bad: $code, $(cat "$T/post.out")"
done
[ "$(post -H "X-Blast-Token: $DASH_TOKEN" "$DASH_URL/api/run?agents=2&target=127.0.0.1:$TARGET&conns=1")" = 400 ] &&
	grep -q 'cannot be split 2 ways' "$T/post.out" || fail "a share of nothing: $(cat "$T/post.out")"
[ "$(post -H "X-Blast-Token: $DASH_TOKEN" "$DASH_URL/api/run?$q")" = 202 ] || fail "POST /api/run: $(cat "$T/post.out")"
[ "$(post -H "X-Blast-Token: $DASH_TOKEN" "$DASH_URL/api/run?$q")" = 409 ] || fail "a second run while one goes: $(cat "$T/post.out")"
wait_until 40 sh -c "curl -sf '$DASH_URL/api/now' | grep -q '\"runs\":1,\"running\":false'" ||
	fail "the run did not end: $(api /api/now) $(cat "$T/dash.err")"
api /api/now >"$T/d.now" && api /api/series >"$T/d.series" || fail "GET after the run failed"
out=$(check_end "$T/d.now" "$T/d.series" "$T/rep/run-1.json") || fail "blast dashboard vs report: $out"
expect_json "$T/rep/run-1.json" stop_reason eq duration
check_accounting "$T/rep/run-1.json"

# 4. The page in Chromium: a second run from the form.
out=$(timeout -k 5 120 node tests/node/check_dashboard.js "$DASH_URL/#token=$DASH_TOKEN" \
	"127.0.0.1:$TARGET" 2 "$T/rep/run-2.json" 2>&1) || fail "in Chromium: $out"
check_accounting "$T/rep/run-2.json"
kill -INT "$dash"
wait "$dash"
rc=$?
[ "$rc" -eq 0 ] || fail "blast dashboard exited $rc on SIGINT"

# 5. An agent lost mid-run: its row says so, the seconds without its share
# are listed partial, the coordinator exits 1.
"$BLAST" --control "mqtt://127.0.0.1:$CTL" --agents 2 --heartbeat-timeout 2s --dashboard 127.0.0.1:0 \
	--dashboard-linger 1s --target "127.0.0.1:$TARGET" --conns 4 --qos 1 --rate 400 --duration 5s \
	>"$T/lost.out" 2>"$T/lost.err" &
coord=$!
track "$coord"
dash_line lost
wait_until 20 sh -c "curl -sf '$DASH_URL/api/now' | grep -q '\"sent\":[1-9]'" || fail "nothing sent: $(api /api/now)"
a2=${agents[1]}
kill -STOP "$a2"
wait_until 15 sh -c "curl -sf '$DASH_URL/api/now' | grep -q '\"name\":\"a2\"[^}]*\"state\":\"lost\"'" ||
	fail "a2 not shown lost: $(api /api/now)"
wait_until 20 sh -c "curl -sf '$DASH_URL/api/now' | grep -q '\"done\":true'" || fail "run never done"
api /api/now >"$T/lost.now" || fail "GET /api/now failed"
kill -CONT "$a2"
[ "$(field agents.1.partial <"$T/lost.now")" = True ] || fail "a2 not marked partial: $(cat "$T/lost.now")"
[ "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["partial"]))' "$T/lost.now")" -gt 0 ] ||
	fail "no partial second listed: $(cat "$T/lost.now")"
wait "$coord"
rc=$?
[ "$rc" -eq 1 ] || fail "coordinator with a lost agent exited $rc, want 1"

# 5b. Errors by reason, live: the target killed mid-run, the agents' errors
# come in their seconds; at the end they equal the merged report's.
saved_mq=("$MQ_PORT" "$MQ_PID")
MQ_PORT='' MQ_DIR=''
start_mosquitto || die "cannot start the mosquitto to kill"
"$BLAST" --control "mqtt://127.0.0.1:$CTL" --agents 2 --dashboard 127.0.0.1:0 --dashboard-linger 30s \
	--target "127.0.0.1:$MQ_PORT" --conns 4 --qos 1 --rate 400 --duration 6s --reconnect --report "$T/err.json" \
	>"$T/err.out" 2>"$T/err.err" &
coord=$!
track "$coord"
dash_line err
wait_until 20 sh -c "curl -sf '$DASH_URL/api/now' | grep -q '\"sent\":[1-9]'" || fail "nothing sent: $(api /api/now)"
stop_pid "$MQ_PID"
wait_until 10 sh -c "curl -sf '$DASH_URL/api/now' | grep -q '\"errors_by_reason\":{\"'" ||
	fail "no errors by reason while the run goes on: $(api /api/now)"
[ "$(api /api/now | field done)" = False ] || fail "the errors came only with the end"
wait_until 20 sh -c "curl -sf '$DASH_URL/api/now' | grep -q '\"done\":true'" || fail "run never done"
api /api/now >"$T/err.now" || fail "GET /api/now failed"
out=$(python3 - "$T/err.now" "$T/err.json" <<'PY'
import json, sys
n, r = (json.load(open(p)) for p in sys.argv[1:3])
page, rep = n["errors_by_reason"], r.get("errors", {})
bad = [f"{k}: page {v}, report {rep.get(k)}" for k, v in page.items() if rep.get(k) != v]
if not page: bad.append("no errors on the page")
print("; ".join(bad)); sys.exit(1 if bad else 0)
PY
) || fail "errors by reason, page against report: $out"
kill -INT "$coord"
wait "$coord"
MQ_PORT=${saved_mq[0]} MQ_PID=${saved_mq[1]}

# 5c. --probe through the agents (root): the page's wire latency per
# second adds up to the merged report's wire count, every request once.
if [ "$(id -u)" -eq 0 ]; then
	"$BLAST" --control "mqtt://127.0.0.1:$CTL" --agents 2 --dashboard 127.0.0.1:0 --dashboard-linger 30s \
		--target "127.0.0.1:$TARGET" --conns 4 --qos 1 --rate 400 --duration 3s --probe \
		--report "$T/wire.json" >"$T/wire.out" 2>"$T/wire.err" &
	coord=$!
	track "$coord"
	dash_line wire
	wait_until 40 sh -c "curl -sf '$DASH_URL/api/now' | grep -q '\"done\":true'" || fail "probed run never done"
	api /api/series >"$T/wire.series" || fail "GET /api/series failed"
	out=$(python3 - "$T/wire.series" "$T/wire.json" <<'PY'
import json, sys
s, r = (json.load(open(p)) for p in sys.argv[1:3])
rows = sum(x.get("wire", {}).get("count", 0) for x in s["rows"])
want = r["wire"]["latency_us"]["count"]
bad = []
if rows != want: bad.append(f"page's seconds {rows} != report's {want}")
if want != r["sent"]: bad.append(f"wire count {want} != sent {r['sent']}")
if s.get("wire", {}).get("count") != want: bad.append(f"page's total {s.get('wire')}")
print("; ".join(bad)); sys.exit(1 if bad else 0)
PY
	) || fail "probed run's wire on the page: $out"
	kill -INT "$coord"
	wait "$coord"
else
	log "not root: the probed distributed run is not checked here (tests/e2e/test_dashboard_probe.sh needs root too)"
fi

# 6. Bad input: one line, exit status 2.
for args in "--listen 127.0.0.1:0" "--control mqtt://127.0.0.1:$CTL --listen 127.0.0.1:$CTL" \
	"--control mqtt://127.0.0.1:$CTL --bogus 1" "--control mqtt://127.0.0.1:1 --listen 127.0.0.1:0"; do
	rc=0
	# shellcheck disable=SC2086
	timeout 20 "$BLAST" dashboard $args >/dev/null 2>"$T/bad.err" || rc=$?
	[ "$rc" -eq 2 ] && [ "$(wc -l <"$T/bad.err")" -eq 1 ] || fail "blast dashboard $args: exit $rc, $(cat "$T/bad.err")"
done
"$BLAST" dashboard --help | grep -q 'usage: blast dashboard --control' || fail "blast dashboard --help"
pass
