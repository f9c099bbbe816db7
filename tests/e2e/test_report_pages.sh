#!/usr/bin/env bash
# The pages a reader meets, for the runs that are easy to misread, against
# real servers (mosquitto, libwebsockets' mirror), each also opened in
# headless Chromium (rendered, not blank):
# - a failed run (mosquitto refusing every client): the status first and
#   FAILED, the errors by reason next, no latency figure without a sample,
#   the accounting not green; the summary's second line says FAILED;
# - fan-out, MQTT --subscribers and --proto ws: received, expected, missing
#   and end-to-end latency in the cards, the charts and the CSV, whose
#   columns add up to the JSON report;
# - --find-limit: the SLO and loss criteria stated, a rule per trial in the
#   time charts, one trial numbering (JSON, page, summary), n/a for wire
#   figures without --probe, the search's settings in the configuration;
# - MQTT over WebSocket says so in the summary and on the page;
# - a probed run (root): the wire section and curve.
# Every time chart ends with the run. Every JSON report written here is
# checked against docs/report.schema.json by pass() (tests/lib.sh).
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
skip_unless_cmd python3 chromium
[ -x /usr/sbin/mosquitto ] || skip "/usr/sbin/mosquitto not installed"
require_blast

facts() { python3 tests/tools/check_page_facts.py "$@" 2>&1; }

# page NAME [ID...]: NAME.html parses, renders in Chromium with the chart
# ids given, and its screenshot (kept as NAME.png) is not blank.
page() {
	local name=$1 ud out
	shift
	out=$(python3 tests/tools/check_html.py parse "$T/$name.html" 2>&1) || fail "$name.html: $out"
	ud=$(mktemp -d "$T/chrome.XXXXXX")
	timeout -k 5 90 chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
		--disable-component-update --disable-sync --no-first-run --user-data-dir="$ud" \
		--dump-dom "file://$T/$name.html" >"$T/$name.dom" 2>>"$T/chromium.err" ||
		fail "$name: chromium --dump-dom failed"
	if [ $# -gt 0 ]; then
		out=$(python3 tests/tools/check_html.py dom "$T/$name.dom" "$@" 2>&1) || fail "$name rendered: $out"
	fi
	timeout -k 5 90 chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
		--disable-component-update --disable-sync --no-first-run --user-data-dir="$ud" \
		--hide-scrollbars --window-size=1100,1400 --screenshot="$T/$name.png" \
		"file://$T/$name.html" >/dev/null 2>>"$T/chromium.err" || fail "$name: chromium --screenshot failed"
	out=$(python3 tests/tools/check_html.py png "$T/$name.png" 2>&1) || fail "$name screenshot: $out"
}

# run NAME ARGS...: blast ARGS with every report file, as NAME.*
run() {
	local name=$1
	shift
	run_blast 120 "$@" --report "$T/$name.json" --csv "$T/$name.csv" --html "$T/$name.html"
	cp "$T/blast.out" "$T/$name.out"
}

start_mosquitto || die "cannot start mosquitto"

# A normal run: the time axis ends where the run ended.
run normal --target "127.0.0.1:$MQ_PORT" --conns 2 --qos 1 --rate 500 --duration 2s --quiet
expect_rc 0
check_accounting "$T/normal.json"
out=$(facts axis "$T/normal.html" "$T/normal.csv") || fail "normal: $out"
grep -q '^status       OK (exit status 0): every message sent was acked$' "$T/normal.out" ||
	fail "normal: no OK status line: $(sed -n 2p "$T/normal.out")"
grep -q '^rate         [0-9.]* msg/s acked over [0-9.]* s of publishing (target 500 msg/s)$' \
	"$T/normal.out" || fail "normal: rate line: $(grep '^rate' "$T/normal.out")"
grep -q 'timed by' "$T/normal.out" && fail "normal: 'timed by' jargon in the summary"
page normal chart-throughput chart-latency chart-connections chart-inflight
# The schema describes every field, and a field it does not know fails.
out=$(/usr/bin/python3 tests/tools/check_report.py --schema 2>&1) || fail "schema: $out"
python3 -c 'import json, sys
r = json.load(open(sys.argv[1])); r["undocumented"] = 1; r["latency_us"]["p42"] = 0
json.dump(r, open(sys.argv[2], "w"))' "$T/normal.json" "$T/extra.json.bad"
out=$(/usr/bin/python3 tests/tools/check_report.py "$T/extra.json.bad" 2>&1) &&
	fail "a report with undocumented fields passed the schema"
grep -q "'undocumented' was unexpected" <<<"$out" && grep -q "'p42' was unexpected" <<<"$out" ||
	fail "the schema check did not name the undocumented fields: $out"

# Fan-out over MQTT: 2 publishers, 3 subscribers.
run fanout --target "127.0.0.1:$MQ_PORT" --publishers 2 --subscribers 3 --sub-topic 'blast/#' \
	--qos 1 --rate 400 --duration 2s --quiet
expect_rc 0
expect_json "$T/fanout.json" missing == 0
out=$(facts fanout "$T/fanout.html" "$T/fanout.csv" "$T/fanout.json") || fail "fanout: $out"
page fanout chart-receipts chart-e2e

# A failed run: mosquitto refuses every client (CONNACK not authorized).
stop_mosquitto
start_mosquitto "allow_anonymous false" || die "cannot start mosquitto without anonymous"
run failed --target "127.0.0.1:$MQ_PORT" --conns 3 --qos 1 --rate 200 --duration 1s --quiet
expect_rc 1
expect_json "$T/failed.json" errors.connack:not_authorized == 3
out=$(facts failed "$T/failed.html" "$T/failed.out") || fail "failed: $out"
page failed
stop_mosquitto

# --find-limit, short trials, no probe.
start_mosquitto || die "cannot restart mosquitto"
run limit --target "127.0.0.1:$MQ_PORT" --qos 1 --find-limit --slo p99=200ms --rate 200 \
	--ceiling 800 --trial-duration 1s --quiet
[ "$BLAST_RC" -le 1 ] || fail "limit: blast exited $BLAST_RC"
out=$(facts limit "$T/limit.html" "$T/limit.json" "$T/limit.out") || fail "limit: $out"
page limit chart-trials chart-throughput

# MQTT over WebSocket says so.
stop_mosquitto
start_mosquitto_ws || die "cannot start mosquitto with websockets"
run mqttws --target "ws://127.0.0.1:$MQ_WS_PORT/mqtt" --conns 2 --qos 1 --messages 200 --quiet
expect_rc 0
head -1 "$T/mqttws.out" | grep -q '^blast [^ ]*  mqtt 3.1.1 over WebSocket  qos 1  ->' ||
	fail "mqtt over ws: header $(head -1 "$T/mqttws.out")"
grep -q 'mqtt 3.1.1 qos 1 over WebSocket' "$T/mqttws.html" || fail "mqtt over ws: the page does not say WebSocket"

# Fan-out over --proto ws: libwebsockets' mirror relays every message to
# every client, so 1 publisher + 2 listeners expect 3 receipts a message.
start_lws_mirror || die "cannot start libwebsockets-test-server"
run ws --proto ws --target "ws://127.0.0.1:$LWS_PORT/" --ws-subprotocol lws-mirror-protocol \
	--publishers 1 --listeners 2 --payload-size 58 --rate 200 --duration 1s --quiet
expect_rc 0
head -1 "$T/ws.out" | grep -q '^blast [^ ]*  WebSocket  ' || fail "ws: header $(head -1 "$T/ws.out")"
out=$(facts fanout "$T/ws.html" "$T/ws.csv" "$T/ws.json") || fail "ws: $out"
page ws chart-receipts chart-e2e

# A probed run: the wire's section and curve.
if [ "$(id -u)" -eq 0 ]; then
	run probed --target "127.0.0.1:$MQ_PORT" --conns 2 --qos 1 --rate 500 --duration 1s --probe --quiet
	expect_rc 0
	grep -q '<section id="wire">' "$T/probed.html" || fail "probed: no wire section"
	grep -q '>wire (probe)</text>' "$T/probed.html" || fail "probed: no wire curve in the distribution"
	page probed chart-distribution
else
	log "not root: the probed page is not checked here (tests/e2e/test_probe.sh needs root too)"
fi
pass
