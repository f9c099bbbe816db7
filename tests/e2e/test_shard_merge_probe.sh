#!/usr/bin/env bash
# The wire witness across shards: a QoS 1 run split 2 ways, each share
# with --probe (one after the other: each probe times its own run's
# flows), then `blast merge`: the merged wire figures are the shards'
# added up (requests, acks, flows; the wire latency histogram bucket by
# bucket, so its count is the sum and its percentiles lie between the
# shards'), the merged summary shows them beside the client's; a merge of
# a probed and an unprobed shard says its wire figures are the probed
# one's only.
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
. tests/lib/mosquitto.sh
skip_unless_root
skip_unless_cmd python3
[ -x /usr/sbin/mosquitto ] || skip "/usr/sbin/mosquitto not installed"
require_blast

start_mosquitto || die "cannot start mosquitto"
for i in 0 1; do
	run_blast 60 --target "127.0.0.1:$MQ_PORT" --shard "$i/2" --conns 4 --qos 1 --inflight 50 \
		--messages 6000 --topic 'wsh/{conn}' --probe --report "$T/p$i.json"
	expect_rc 0
	check_accounting "$T/p$i.json"
	expect_json "$T/p$i.json" wire.requests == 3000
done
"$BLAST" merge "$T/p0.json" "$T/p1.json" --report "$T/pm.json" >"$T/pm.out" 2>"$T/pm.err" ||
	fail "merge of probed shards: $(cat "$T/pm.err")"
check_accounting "$T/pm.json"
out=$(python3 - "$T/p0.json" "$T/p1.json" "$T/pm.json" <<'PY'
import json, sys
a, b, m = (json.load(open(p))["wire"] for p in sys.argv[1:4])
bad = []
for k in ("requests", "acks", "unmatched", "flows", "segments_out", "bytes_out"):
    if m[k] != a[k] + b[k]:
        bad.append(f"{k}: {m[k]} != {a[k]} + {b[k]}")
la, lb, lm = a["latency_us"], b["latency_us"], m["latency_us"]
if lm["count"] != la["count"] + lb["count"] or lm["count"] != 6000:
    bad.append(f"latency count {lm['count']} != {la['count']} + {lb['count']}")
for q in ("p50", "p99"):
    lo, hi = min(la[q], lb[q]), max(la[q], lb[q])
    if not lo * 0.99 <= lm[q] <= hi * 1.01:
        bad.append(f"merged {q} {lm[q]} outside the shards' {lo}..{hi}")
if m["source"] != "probe":
    bad.append(f"source {m['source']}")
print("; ".join(bad)); sys.exit(1 if bad else 0)
PY
) || fail "merged wire figures: $out"
grep -q '^wire (probe)' "$T/pm.out" || fail "the merged summary has no wire line: $(cat "$T/pm.out")"

# A probed and an unprobed shard: merged, with a line that the wire
# figures are the probed one's only.
run_blast 60 --target "127.0.0.1:$MQ_PORT" --shard 1/2 --conns 4 --qos 1 --messages 6000 \
	--topic 'wsh/{conn}' --report "$T/q1.json"
expect_rc 0
"$BLAST" merge "$T/p0.json" "$T/q1.json" --report "$T/qm.json" >"$T/qm.out" 2>"$T/qm.err" ||
	fail "merge of a probed and an unprobed shard: $(cat "$T/qm.err")"
grep -q '1 of 2 reports were probed' "$T/qm.err" || fail "no partial-wire line: $(cat "$T/qm.err")"
expect_json "$T/qm.json" wire.requests == 3000
pass
