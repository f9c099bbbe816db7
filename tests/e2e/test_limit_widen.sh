#!/usr/bin/env bash
# --find-limit and blast's own limits: each rate trial carries the run's
# verdict on its bottleneck, and a failure that is blast's own is not
# called the broker's.
#  1. mosquitto with --inflight 1 on one connection at 200,000 msg/s: one
#     message in flight cannot reach that rate (it would take a 5 us round
#     trip), so the first trial fails on its window; the search reruns it
#     with a wider --inflight, and the answer says the window was widened.
#  2. The acking discard sink (bench/sink.c) on one connection at
#     200,000,000 msg/s: far more than one worker can send, and one
#     connection cannot take a second worker, so after widening the window
#     the search reports client-bound, with the evidence, not a limit of the
#     sink.
# Every trial: its verdict in JSON and the table, sent = acked + failed +
# unacked.
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
require_blast

# check_trials FILE: every trial judged, with its settings, and accounted.
check_trials() {
	local out
	out=$(python3 - "$1" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
names = {"broker", "client: cpu", "client: window", "client: socket buffer", "network"}
bad = []
for i, t in enumerate(r.get("trials", [])):
    missing = [k for k in ("bottleneck", "evidence", "inflight", "workers", "rerun_with",
                           "client_bound") if k not in t]
    if missing:
        bad.append(f"trial {i} lacks {missing}")
        continue
    if t["bottleneck"] not in names or not t["evidence"]:
        bad.append(f"trial {i}: bottleneck {t['bottleneck']!r}, evidence {t['evidence']!r}")
    if t["sent"] != t["acked"] + t["failed"] + t["unacked"]:
        bad.append(f"trial {i}: sent {t['sent']} != acked + failed + unacked")
    if t["rerun_with"] and (t["pass"] or not t["bottleneck"].startswith("client: ")):
        bad.append(f"trial {i}: rerun with {t['rerun_with']} after {t['why']}, {t['bottleneck']}")
if not r.get("trials"):
    bad.append("no trials")
print("; ".join(bad))
sys.exit(1 if bad else 0)
EOF
	) || fail "$(basename "$1"): $out"
}

# 1. A window too small, widened.
start_mosquitto || die "cannot start mosquitto"
run_blast 120 --target "127.0.0.1:$MQ_PORT" --qos 1 --conns 1 --inflight 1 --find-limit \
	--rate 200000 --ceiling 200000 --trial-duration 1s --search-timeout 90s --report "$T/win.json"
sed -n '/^limit search/,$p' "$T/blast.out"
check_trials "$T/win.json"
out=$(python3 - "$T/win.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
t = r["trials"]
bad = []
# The first window rerun: from 1 to 4, the same rate next. (A busy
# machine may first rerun a trial unchanged: "the same settings".)
w = [i for i, x in enumerate(t) if x["rerun_with"] and x["rerun_with"].startswith("--inflight")]
if t[0]["inflight"] != 1 or t[0]["pass"]:
    bad.append(f"trial 0 at --inflight {t[0]['inflight']}: {t[0]['why']}")
if not w:
    bad.append("no trial was rerun with a wider window")
elif t[w[0]]["bottleneck"] != "client: window" or t[w[0]]["rerun_with"] != "--inflight 4":
    bad.append(f"trial {w[0]}: {t[w[0]]['bottleneck']}, rerun with {t[w[0]]['rerun_with']!r}")
for i, (a, b) in enumerate(zip(t, t[1:])):
    if not a["rerun_with"]:
        continue
    want = int(a["rerun_with"].split()[-1]) if a["rerun_with"].startswith("--inflight") else a["inflight"]
    if b["offered"] != a["offered"] or b["inflight"] != want:
        bad.append(f"trial {i} rerun with {a['rerun_with']}: trial {i + 1} ran {b['offered']} msg/s at --inflight {b['inflight']}")
lim = r["limit"]
if lim is not None and (lim["inflight"] <= 1 or lim["inflight"] != t[lim["trial"] - 1]["inflight"]):
    bad.append(f"the answer ran at --inflight {lim['inflight']}")
print("; ".join(bad))
sys.exit(1 if bad else 0)
EOF
) || fail "widening: $out"
# The answer (when one held on this machine) says the window was widened.
if [ "$(json_get "$T/win.json" limit)" != null ]; then
	grep -q '^widened: [0-9]* trial(s) failed on blast.s own window or CPU and ran again; the answer ran with --inflight [0-9]* .*(the search began with --inflight 1 ' "$T/blast.out" ||
		fail "stdout does not say the window was widened"
else
	log "no rate held with a widened window on this machine (search ended: $(json_get "$T/win.json" search.ended))"
fi
grep -q '^ *[0-9]* .* 1  *1  client: window  *FAIL: .*; rerun with --inflight 4$' "$T/blast.out" ||
	fail "the table has no row with the window, the verdict and the rerun"
stop_mosquitto

# 2. Blast cannot go further: one connection, one worker, a sink that
# acks at once.
start_sink --ack
run_blast 180 --target "127.0.0.1:$SINK_PORT" --qos 1 --conns 1 --find-limit --rate 200000000 \
	--ceiling 200000000 --trial-duration 1s --search-timeout 120s --report "$T/cpu.json" \
	--html "$T/cpu.html"
sed -n '/^limit search/,$p' "$T/blast.out"
expect_rc 0
check_trials "$T/cpu.json"
expect_json "$T/cpu.json" limit.client_bound eq true
expect_json "$T/cpu.json" limit.workers == 1
out=$(python3 - "$T/cpu.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
lim, t = r["limit"], r["trials"]
b = lim["bound"]
bad = []
if not b or not b["bottleneck"].startswith("client: "):
    bad.append(f"bound {b}")
elif "blast cannot go further" not in b["evidence"] or not b["says"].startswith(
        f"client-bound at {t[lim['trial'] - 1]['offered']} msg/s: "):
    bad.append(f"bound says {b['says']!r}")
elif not t[b["trial"] - 1]["client_bound"] or t[b["trial"] - 1]["offered"] <= t[lim["trial"] - 1]["offered"]:
    bad.append(f"bound trial {b['trial']} is not a client-bound failure above the answer")
if t[0]["offered"] != 200000000 or t[0]["pass"]:
    bad.append("the first trial, 200 M msg/s from one worker, passed")
print("; ".join(bad))
sys.exit(1 if bad else 0)
EOF
) || fail "client-bound: $out"
grep -q '^limit: client-bound at [0-9]* msg/s, blast.s limit and not the broker.s (trial ' "$T/blast.out" ||
	fail "stdout's limit line does not say client-bound"
grep -q '^client-bound at [0-9]* msg/s: .*blast cannot go further: .*(trial [0-9]* failed at [0-9]* msg/s, client: ' "$T/blast.out" ||
	fail "stdout has no client-bound line with its evidence"
grep -q 'client-bound at [0-9]* msg/s: ' "$T/cpu.html" || fail "HTML does not say client-bound"
python3 tests/tools/check_html.py parse "$T/cpu.html" || fail "HTML is not well-formed"
check_accounting "$T/cpu.json"
pass
