#!/usr/bin/env bash
# --dashboard with --probe, against mosquitto (root: the probe's kernel
# programs): /api/now and /api/series carry the wire's latency next to the
# client's, per second and over the run; once the run is over the seconds'
# wire counts add up to the JSON report's wire latency count, and the
# run's wire percentiles equal the report's; headless Chromium shows the
# wire numbers and draws their lines.
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
skip_unless_root
skip_unless_cmd python3 curl chromium
[ -x /usr/sbin/mosquitto ] || skip "/usr/sbin/mosquitto not installed"
require_blast
start_mosquitto || die "mosquitto did not start"

dash_start probe --target "mqtt://127.0.0.1:$MQ_PORT" --conns 2 --qos 1 --rate 300 --duration 4s \
	--probe --report "$T/probe.json" --dashboard-linger 30s
wait_until 10 sh -c "curl -sf '$DASH_URL/api/now' | grep -q '\"now\".*\"wire\":{\"count\"'" ||
	fail "no wire figures in /api/now during the run"
dash_done 30 || fail "the run never ended"
[ -s "$T/probe.json" ] || fail "no report while the dashboard lingers"
check_accounting "$T/probe.json"
dash_api /api/series >"$T/series.json" || fail "GET /api/series failed"
dash_api /api/now >"$T/now.json" || fail "GET /api/now failed"
out=$(python3 - "$T/probe.json" "$T/series.json" "$T/now.json" <<'PY'
import json, sys
r, s, n = (json.load(open(p)) for p in sys.argv[1:4])
bad = []
w = r.get("wire")
if not w or w.get("source") != "probe":
    print("the report has no probe wire figures"); sys.exit(1)
lat = w["latency_us"]
rows = [x.get("wire") for x in s["rows"]]
if None in rows:
    bad.append("a second without wire figures")
else:
    total = sum(x["count"] for x in rows)
    if total != lat["count"]:
        bad.append(f"the seconds' wire counts add up to {total}, the report's {lat['count']}")
    if sum(1 for x in rows if x["count"]) < 2:
        bad.append("fewer than two seconds with wire latencies")
    for x in rows:
        if x["count"] and not 0 < x["p50_us"] <= x["p99_us"] <= x["p999_us"] <= x["max_us"]:
            bad.append(f"second's wire percentiles out of order: {x}")
for d, name in ((s, "/api/series"), (n, "/api/now")):
    t = d.get("wire")
    if not t:
        bad.append(f"{name}: no run wire figures"); continue
    if t["count"] != lat["count"]:
        bad.append(f"{name}: wire count {t['count']} != report {lat['count']}")
    for k in ("p50", "p90", "p99", "p999", "max"):
        if abs(t[k + "_us"] - lat[k]) > 0.051:
            bad.append(f"{name}: wire {k} {t[k + '_us']} != report {lat[k]}")
if lat["count"] != r["acked"]:
    bad.append(f"wire latencies {lat['count']} != acked {r['acked']}")
if "trials" in n:
    bad.append("trials served without --find-limit")
print("; ".join(bad)); sys.exit(1 if bad else 0)
PY
) || fail "dashboard vs report: $out"
dash_dom "$T/page.dom" || fail "chromium --dump-dom of the dashboard failed"
grep -q '<div id="wirebox">' "$T/page.dom" || fail "the page hides the wire figures"
grep -q 'id="wlat">[0-9.]* / [0-9.]* / [0-9.]*<' "$T/page.dom" ||
	fail "the page shows no wire percentiles: $(grep -o 'id="wlat">[^<]*' "$T/page.dom")"
grep -q 'wire p99</span>' "$T/page.dom" || fail "the latency chart has no wire p99 line"
[ "$(grep -o '<polyline' "$T/page.dom" | wc -l)" -ge 10 ] || fail "the page drew too few lines"
grep -q '<div id="limit" hidden' "$T/page.dom" || fail "the page shows a limit search"
dash_end
rc=$?
[ "$rc" -eq 0 ] || fail "the run exited $rc"
pass
