#!/usr/bin/env bash
# The report files, checked the way their readers meet them, on a real run
# against mosquitto (a connection ramp, then 3 s at 2,000 msg/s, QoS 1):
# - --csv: a header and a row per second of the run, whose columns add up
#   to the JSON report's totals (also when a frozen broker leaves messages
#   unacked at the drain timeout);
# - --hlog: read back by HdrHistogram's own JavaScript port (hdr-histogram-js,
#   HistogramLogReader): an interval per CSV row with the same counts and
#   percentiles, and together the run's percentiles; and by the original
#   Java HdrHistogram's HistogramLogProcessor;
# - --html: well-formed to a parser, then opened in headless Chromium: every
#   chart is an <svg> in the DOM with a drawn path, the screenshot is not
#   blank, and the topic's markup characters arrive escaped;
# - the live line: a ramp bar while connecting, elapsed / total after; none
#   with --quiet.
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
skip_unless_cmd python3 node chromium java
[ -f /usr/share/java/hdrhistogram.jar ] || skip "libhdrhistogram-java not installed"
[ -x /usr/sbin/mosquitto ] || skip "/usr/sbin/mosquitto not installed"
[ -f tests/node/node_modules/hdr-histogram-js/package.json ] ||
	skip "hdr-histogram-js not in tests/node (run scripts/install-deps.sh)"
require_blast

start_mosquitto || die "cannot start mosquitto"

topic='blast/<b>&"x"/{conn}'
run_blast 60 --target "127.0.0.1:$MQ_PORT" --conns 4 --ramp 2 --qos 1 --rate 2000 \
	--duration 3s --topic "$topic" --report "$T/run.json" --csv "$T/run.csv" \
	--hlog "$T/run.hlog" --html "$T/run.html"
expect_rc 0
check_accounting "$T/run.json"
# Every message due was sent (a loaded machine may leave a few due at the
# very end unsent: not_sent), and every one sent was acked.
sent=$(json_get "$T/run.json" sent)
[ "$((sent + $(json_get "$T/run.json" not_sent)))" -eq 6000 ] || fail "sent + not_sent != 6000"
[ "$sent" -ge 5500 ] || fail "only $sent of 6000 messages sent"
expect_json "$T/run.json" acked == "$sent"
for f in run.csv run.hlog run.html; do
	[ -s "$T/$f" ] || fail "$f not written"
	[ ! -e "$T/$f.tmp" ] || fail "$f.tmp left behind"
done

# check_csv CSV JSON [rate]: a row per second, adding up to the report;
# with a rate, whole seconds of publishing ran at it.
check_csv() {
	python3 - "$@" <<'PY'
import csv, json, math, sys
rows = list(csv.DictReader(open(sys.argv[1])))
rep = json.load(open(sys.argv[2]))
bad = []
if not rows:
    print("no rows"); sys.exit(1)
t = [float(r["time_s"]) for r in rows]
# Whole seconds from the run's start, then the last, shorter one.
for i, v in enumerate(t[:-1]):
    if abs(v - (i + 1)) > 1e-6:
        bad.append(f"row {i + 1} at {v} s, want {i + 1} s")
if len(rows) != math.ceil(t[-1] - 1e-9):
    bad.append(f"{len(rows)} rows for a {t[-1]} s run")
for col, key in (("sent", "sent"), ("acked", "acked"), ("failed", "failed"), ("unacked", "unacked")):
    s = sum(int(r[col]) for r in rows)
    if s != rep[key]:
        bad.append(f"column {col} sums to {s}, the report says {rep[key]}")
n = sum(int(r["latency_count"]) for r in rows)
if n != rep["latency_us"]["count"]:
    bad.append(f"latency_count sums to {n}, the report counts {rep['latency_us']['count']}")
up = [int(r["conns_up"]) for r in rows]
if len(sys.argv) > 3 and (up[0] >= 4 or max(up) != 4):
    bad.append(f"conns_up {up}: want the ramp (under 4 after 1 s), then 4")
# Whole seconds of publishing (neighbours publishing too) run at --rate.
if len(sys.argv) > 3:
    rate = int(sys.argv[3])
    pub = [i for i, r in enumerate(rows) if int(r["sent"]) > 0]
    mid = [int(rows[i]["sent"]) for i in pub[1:-1] if float(rows[i]["interval_s"]) == 1]
    if not mid or not 0.75 * rate <= sum(mid) / len(mid) <= 1.25 * rate:
        bad.append(f"whole seconds of publishing sent {mid}, want about {rate} each")
for r in rows:
    if int(r["latency_count"]) and not (0 < float(r["p50_us"]) <= float(r["p99_us"]) <= float(r["max_us"])):
        bad.append(f"row at {r['time_s']} s: percentiles out of order")
print("; ".join(bad) if bad else f"{len(rows)} rows over {t[-1]} s")
sys.exit(1 if bad else 0)
PY
}

# The CSV.
out=$(check_csv "$T/run.csv" "$T/run.json" 2000) || fail "csv: $out"
log "csv: $out"
[ "$(echo "$BLAST_SECS >= $(tail -1 "$T/run.csv" | cut -d, -f1)" | bc)" = 1 ] ||
	fail "the CSV covers more time than blast ran ($BLAST_SECS s)"

# The hlog, through HdrHistogram's reader.
grep -q '^#\[StartTime: ' "$T/run.hlog" || fail "hlog has no StartTime"
grep -q '^"StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"$' \
	"$T/run.hlog" || fail "hlog has no legend"
out=$(node tests/node/check_hlog.js "$T/run.hlog" "$T/run.csv" "$T/run.json" 2>&1) ||
	fail "hlog: $out"
log "$out"

# ...and by HdrHistogram's original Java implementation (Debian's
# libhdrhistogram-java): its HistogramLogProcessor's per-interval counts and
# whole-run percentiles (milliseconds, 3 decimals) against blast's.
out=$(timeout 120 java -cp /usr/share/java/hdrhistogram.jar org.HdrHistogram.HistogramLogProcessor \
	-i "$T/run.hlog" -csv -o "$T/java" 2>&1) || fail "HistogramLogProcessor failed: $out"
out=$(python3 - "$T/java" "$T/run.csv" "$T/run.json" <<'PY'
import csv, json, sys
rows = [r for r in csv.reader(l for l in open(sys.argv[1]) if not l.startswith("#"))]
head, rows = rows[0], rows[1:]
ours = list(csv.DictReader(open(sys.argv[2])))
rep = json.load(open(sys.argv[3]))["latency_us"]
bad = []
if len(rows) != len(ours):
    bad.append(f"Java read {len(rows)} intervals, the CSV has {len(ours)} rows")
for j, o in zip(rows, ours):
    if int(j[head.index("Int_Count")]) != int(o["latency_count"]):
        bad.append(f"at {o['time_s']} s Java counts {j[1]}, blast {o['latency_count']}")
last = rows[-1]
if int(last[head.index("Total_Count")]) != rep["count"]:
    bad.append(f"Java's total {last[head.index('Total_Count')]} != {rep['count']}")
for col, key in (("Total_50%", "p50"), ("Total_90%", "p90"), ("Total_99%", "p99"), ("Total_99.9%", "p999")):
    j_ms, b_ms = float(last[head.index(col)]), rep[key] / 1000
    # Same bucket: within 1/1024 of the value (3 significant digits), plus rounding.
    if abs(j_ms - b_ms) > b_ms / 1024 + 0.0011:
        bad.append(f"{col}: Java {j_ms} ms, blast {b_ms} ms")
print("; ".join(bad) if bad else
      f"HistogramLogProcessor: {len(rows)} intervals, {last[head.index('Total_Count')]} values, "
      f"p99 {last[head.index('Total_99%')]} ms")
sys.exit(1 if bad else 0)
PY
) || fail "Java reader: $out"
log "$out"

# The HTML: parsed, then rendered by Chromium.
out=$(python3 tests/tools/check_html.py parse "$T/run.html" 2>&1) || fail "html: $out"
grep -q 'blast/&lt;b&gt;&amp;&quot;x&quot;/{conn}' "$T/run.html" || fail "topic not escaped in the page"
grep -q 'blast/<b>' "$T/run.html" && fail "topic written as markup"
# How the ack times were taken, as the JSON counts them.
seg=$(json_get "$T/run.json" rx_timed_by.segment)
rd=$(json_get "$T/run.json" rx_timed_by.read)
grep -q "Arrival times taken: $seg by the TCP segment that completed the message, $rd by the kernel" \
	"$T/run.html" || fail "html: no 'Arrival times taken: $seg ... $rd' line"
chrome() {
	local ud
	ud=$(mktemp -d "$T/chrome.XXXXXX")
	timeout -k 5 90 chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
		--disable-component-update --disable-sync --no-first-run --user-data-dir="$ud" "$@" \
		2>>"$T/chromium.err"
}
chrome --dump-dom "file://$T/run.html" >"$T/dom.html" || fail "chromium --dump-dom failed"
out=$(python3 tests/tools/check_html.py dom "$T/dom.html" chart-throughput chart-latency \
	chart-distribution chart-connections 2>&1) || fail "rendered page: $out"
grep -q '&lt;b&gt;' "$T/dom.html" || fail "the topic's escaped text is not in the rendered DOM"
chrome --window-size=1100,2400 --screenshot="$T/shot.png" "file://$T/run.html" >/dev/null ||
	fail "chromium --screenshot failed"
out=$(python3 tests/tools/check_html.py png "$T/shot.png" 2>&1) || fail "screenshot: $out"
log "$out"

# The live line: a ramp bar, then elapsed / total.
grep -q '^\[ *[0-9.]*s\] connecting \[#*\.*\] ' "$T/blast.err" || fail "no ramp bar on stderr"
grep -q '^\[ *[0-9.]*s / [0-9.]*s\] .*conns 4/4 | sent [0-9]*/s acked [0-9]*/s' "$T/blast.err" ||
	fail "no elapsed / total progress line on stderr"
# A broker frozen until after the drain timeout: what was in flight ends
# unacked, in the run's last second, and the CSV still adds up.
"$BLAST" --target "127.0.0.1:$MQ_PORT" --conns 2 --qos 1 --inflight 8 --rate 500 --duration 2s \
	--drain-timeout 500ms --quiet --report "$T/stall.json" --csv "$T/stall.csv" \
	>"$T/stall.out" 2>"$T/stall.err" &
bpid=$!
track "$bpid"
sleep 1.2
kill -STOP "$MQ_PID"
wait_until 30 eval '! kill -0 "$bpid" 2>/dev/null' || fail "blast still running 30 s after the freeze"
kill -CONT "$MQ_PID"
wait "$bpid"
unacked=$(json_get "$T/stall.json" unacked)
[ "${unacked:-0}" -gt 0 ] || fail "no message left unacked by a frozen broker"
check_accounting "$T/stall.json"
out=$(check_csv "$T/stall.csv" "$T/stall.json") || fail "csv of the frozen run: $out"
log "frozen broker: $unacked unacked; csv: $out"

# ...and nothing at all with --quiet.
run_blast 30 --target "127.0.0.1:$MQ_PORT" --conns 2 --qos 1 --rate 500 --duration 1500ms --quiet \
	--csv "$T/quiet.csv"
expect_rc 0
[ ! -s "$T/blast.err" ] || fail "--quiet still printed: $(head -2 "$T/blast.err")"
[ "$(wc -l <"$T/quiet.csv")" -ge 3 ] || fail "quiet run's CSV has $(wc -l <"$T/quiet.csv") lines"
pass
