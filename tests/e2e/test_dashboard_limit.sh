#!/usr/bin/env bash
# --dashboard with --find-limit, against mosquitto: each trial shows in
# /api/now as it ends (read twice during the search, the count grows, and
# the search's answer is null until it is over); at the end the trials and
# the answer equal the JSON report's "trials" and "limit"; nothing
# wire-related is served without --probe; headless Chromium renders the
# trials table, one row per trial, the answer's marked, and the answer's
# line.
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
skip_unless_cmd python3 curl chromium
[ -x /usr/sbin/mosquitto ] || skip "/usr/sbin/mosquitto not installed"
require_blast
start_mosquitto || die "mosquitto did not start"

# Climbs 100, 200, 400, 800 msg/s in 1 s trials, then confirms 800 (the
# ceiling) for 2 s: about ten seconds in all.
dash_start limit --target "mqtt://127.0.0.1:$MQ_PORT" --conns 2 --qos 1 --find-limit --rate 100 \
	--ceiling 800 --trial-duration 2s --report "$T/limit.json" --dashboard-linger 30s

# trials_now: "COUNT DONE LIMIT" from /api/now.
trials_now() {
	dash_api /api/now | python3 -c 'import json,sys; d=json.load(sys.stdin)
print(len(d["trials"]), d["done"], d["limit"] is not None)'
}
wait_until 20 sh -c "curl -sf '$DASH_URL/api/now' | grep -q '\"trial\":1'" || fail "no trial in /api/now"
read -r a done1 lim1 <<<"$(trials_now)" || fail "GET /api/now failed"
[ "$done1" = False ] || fail "the search was over at the first read ($a trials): make it longer"
[ "$lim1" = False ] || fail "an answer before the search ended"
wait_until 20 sh -c "[ \"\$(curl -sf '$DASH_URL/api/now' | python3 -c 'import json,sys; print(len(json.load(sys.stdin)[\"trials\"]))')\" -gt $a ]" ||
	fail "the trials did not grow past $a"
read -r b _ _ <<<"$(trials_now)" || fail "GET /api/now failed"
[ "${b:-0}" -gt "${a:-0}" ] || fail "trials did not grow between two reads: $a then $b"
dash_done 40 || fail "the search never ended"
[ -s "$T/limit.json" ] || fail "no report while the dashboard lingers"
dash_api /api/now >"$T/now.json" || fail "GET /api/now failed"
dash_api /api/series >"$T/series.json" || fail "GET /api/series failed"
out=$(python3 - "$T/limit.json" "$T/now.json" "$T/series.json" <<'PY'
import json, sys
r, n, s = (json.load(open(p)) for p in sys.argv[1:4])
bad = []
for d, name in ((n, "/api/now"), (s, "/api/series")):
    if len(d["trials"]) != len(r["trials"]):
        bad.append(f"{name}: {len(d['trials'])} trials, the report {len(r['trials'])}")
    for a, b in zip(d["trials"], r["trials"]):
        for k, v in a.items():
            if k in b and b[k] != v:
                bad.append(f"{name} trial {a['trial']}: {k} {v!r} != report {b[k]!r}")
        if a["stage"] != "rate":
            bad.append(f"trial {a['trial']}: stage {a['stage']}")
    lim, rl = d["limit"], r["limit"]
    if not lim or not rl:
        bad.append(f"{name}: limit {lim}, the report's {rl}")
    else:
        for k in ("trial", "rate", "confirmed"):
            if lim[k] != rl[k]:
                bad.append(f"{name}: limit.{k} {lim[k]} != report {rl[k]}")
        if lim["ended"] != r["search"]["ended"]:
            bad.append(f"{name}: ended {lim['ended']} != {r['search']['ended']}")
        if f"{rl['rate']:.0f} msg/s" not in lim["says"]:
            bad.append(f"{name}: says {lim['says']!r}")
    if "wire" in d or any("wire" in x for x in d.get("rows", [])) or "wire" in d.get("now", {}):
        bad.append(f"{name}: wire figures without --probe")
if len(r["trials"]) < 3:
    bad.append(f"only {len(r['trials'])} trials")
print("; ".join(bad)); sys.exit(1 if bad else 0)
PY
) || fail "dashboard vs report: $out"
# The page: a row per trial, the answer's marked, and the answer's line.
dash_dom "$T/page.dom" || fail "chromium --dump-dom of the dashboard failed"
n=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["trials"]))' "$T/limit.json")
ans=$(python3 -c 'import json,sys; l=json.load(open(sys.argv[1]))["limit"]; print(l["trial"], int(l["rate"]))' \
	"$T/limit.json")
rows=$(grep -o '<tr class="trial[ a-z]*">' "$T/page.dom" | wc -l)
[ "$rows" -eq "$n" ] || fail "the page shows $rows trial rows, the report has $n"
grep -q "<tr class=\"trial answer\"><td>${ans% *}</td>" "$T/page.dom" ||
	fail "the page does not mark trial ${ans% *} as the answer"
grep -q "id=\"answer\">limit: ${ans#* } msg/s sustained" "$T/page.dom" ||
	fail "the page does not say the limit: $(grep -o 'id="answer">[^<]*' "$T/page.dom")"
grep -q '<div id="wirebox" hidden' "$T/page.dom" || fail "the page shows wire figures without --probe"
dash_end
rc=$?
[ "$rc" -eq 0 ] || fail "the search exited $rc"
pass
