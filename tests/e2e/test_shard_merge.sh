#!/usr/bin/env bash
# A run split 3 ways (--shard I/3, --start-at), then `blast merge`:
# - MQTT QoS 1 against mosquitto: the shards' {conn} ranges are disjoint,
#   merged counts are the sum of the shards and what a subscriber got from
#   the broker; the merged histogram is the histogram of all samples
#   (the shards' per-second hlogs read together by HdrHistogram's Java
#   HistogramLogProcessor give the same percentiles), and its seconds add
#   up by the wall clock;
# - Kafka against librdkafka's mock cluster: each shard its own partitions,
#   the merged acked count is what a consumer reads back;
# - bad input to merge: mixed versions, a garbled file, a shard twice: one
#   line each and exit status 2.
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
. tests/lib/mosquitto.sh
. tests/lib/kafka.sh
skip_unless_cmd python3 java mosquitto_sub
[ -f /usr/share/java/hdrhistogram.jar ] || skip "libhdrhistogram-java not installed"
[ -x /usr/sbin/mosquitto ] || skip "/usr/sbin/mosquitto not installed"
require_blast

start_mosquitto || die "cannot start mosquitto"
start_sub "$T/sub.out" -t 'shard/#' -q 1 || die "subscriber not ready"

# --start-at 2 s ahead: every shard's schedule starts at the same instant.
at=$(( $(date +%s) + 2 ))
pids=()
for i in 0 1 2; do
	"$BLAST" --target "127.0.0.1:$MQ_PORT" --shard "$i/3" --start-at "$at" --conns 7 --qos 1 \
		--rate 1500 --messages 4000 --topic 'shard/{conn}' --client-id 'sh-{conn}' --quiet \
		--report "$T/s$i.json" --hlog "$T/s$i.hlog" >"$T/s$i.out" 2>"$T/s$i.err" &
	pids+=($!)
	track "${pids[-1]}"
done
for i in 0 1 2; do
	wait "${pids[$i]}" || fail "shard $i exited $? ($(head -2 "$T/s$i.err"))"
	check_accounting "$T/s$i.json"
done
# Shares: 7 connections as 3+2+2, 4000 messages as 1334+1333+1333.
expect_json "$T/s0.json" config.conns == 3
expect_json "$T/s1.json" config.conns == 2
expect_json "$T/s2.json" sent == 1333
expect_json "$T/s0.json" sent == 1334
expect_json "$T/s1.json" shard.whole.conns == 7
# --start-at: every shard's schedule began at that instant.
for i in 0 1 2; do
	ms=$(json_get "$T/s$i.json" exact.publish_start_ms)
	[ "$(echo "d = $ms - $at * 1000; d < 5 && d > -5" | bc)" = 1 ] ||
		fail "shard $i started publishing at $ms ms, not at --start-at $at"
done
# Their client ids were disjoint: every {conn} 0..6 connected once.
out=$(grep -o 'New client connected from [^ ]* as sh-[0-9]*' "$MQ_LOG" | sed 's/.* as //' | sort | tr '\n' ' ')
[ "$out" = "sh-0 sh-1 sh-2 sh-3 sh-4 sh-5 sh-6 " ] || fail "client ids connected: $out"

"$BLAST" merge "$T/s0.json" "$T/s1.json" "$T/s2.json" --report "$T/m.json" --csv "$T/m.csv" \
	--hlog "$T/m.hlog" --html "$T/m.html" >"$T/merge.out" 2>"$T/merge.err" ||
	fail "merge exited $?: $(head -3 "$T/merge.err")"
expect_json "$T/m.json" sent == 4000
expect_json "$T/m.json" acked == 4000
expect_json "$T/m.json" merged.reports == 3
check_accounting "$T/m.json"
out=$(python3 tests/tools/check_html.py parse "$T/m.html" 2>&1) || fail "merged html: $out"
wait_until 10 eval '[ "$(sub_count "$T/sub.out")" -ge 4000 ]'
[ "$(sub_count "$T/sub.out")" -eq 4000 ] || fail "the broker delivered $(sub_count "$T/sub.out"), not 4000"

# The merged histogram is all samples': its counts are the shards' summed
# bucket by bucket (checked in Python from the JSON), and its percentiles
# are those HdrHistogram's Java tools find in the shards' hlogs together.
cat "$T/s0.hlog" >"$T/all.hlog"
grep -hv '^[#"]' "$T/s1.hlog" "$T/s2.hlog" >>"$T/all.hlog"
timeout 120 java -cp /usr/share/java/hdrhistogram.jar org.HdrHistogram.HistogramLogProcessor \
	-i "$T/all.hlog" -csv -o "$T/java" >"$T/java.log" 2>&1 || fail "HistogramLogProcessor: $(tail -2 "$T/java.log")"
timeout 120 java -cp /usr/share/java/hdrhistogram.jar org.HdrHistogram.HistogramLogProcessor \
	-i "$T/m.hlog" -csv -o "$T/javam" >"$T/javam.log" 2>&1 || fail "HistogramLogProcessor (merged): $(tail -2 "$T/javam.log")"
out=$(python3 - "$T/java" "$T/javam" "$T/m.json" "$T/m.csv" "$T/s0.json" "$T/s1.json" "$T/s2.json" <<'PY'
import csv, json, sys
def last(path):
    rows = [r for r in csv.reader(l for l in open(path) if not l.startswith("#"))]
    return dict(zip(rows[0], rows[-1]))
j, jm = last(sys.argv[1]), last(sys.argv[2])
m = json.load(open(sys.argv[3]))
shards = [json.load(open(p)) for p in sys.argv[5:]]
bad = []
lat = m["latency_us"]
if int(j["Total_Count"]) != lat["count"] or int(jm["Total_Count"]) != lat["count"]:
    bad.append(f"counts: Java {j['Total_Count']} / {jm['Total_Count']}, merged {lat['count']}")
for col, key in (("Total_50%", "p50"), ("Total_90%", "p90"), ("Total_99%", "p99"), ("Total_99.9%", "p999")):
    ours = lat[key] / 1000
    if j[col] != jm[col]:
        bad.append(f"{col}: shards' hlogs {j[col]} ms, merged hlog {jm[col]} ms")
    if abs(float(j[col]) - ours) > ours / 1024 + 0.0011:
        bad.append(f"{col}: Java {j[col]} ms, merged report {ours} ms")
if lat["max"] != max(s["latency_us"]["max"] for s in shards):
    bad.append("merged max is not the shards' max")
if lat["min"] != min(s["latency_us"]["min"] for s in shards):
    bad.append("merged min is not the shards' min")
rows = list(csv.DictReader(open(sys.argv[4])))
for col in ("sent", "acked"):
    if sum(int(r[col]) for r in rows) != m[col]:
        bad.append(f"merged CSV's {col} does not add up to {m[col]}")
if sum(int(r["latency_count"]) for r in rows) != lat["count"]:
    bad.append("merged CSV's latency_count does not add up")
# Seconds by the wall clock: as many rows as distinct seconds of the shards.
secs = {(s0["start_ms"] + 500) // 1000 for s in shards for s0 in s["exact"]["seconds"]}
if len(rows) != len(secs):
    bad.append(f"{len(rows)} merged rows for {len(secs)} wall-clock seconds")
print("; ".join(bad) if bad else f"{lat['count']} samples, p99 {lat['p99']} us, {len(rows)} seconds, Java agrees")
sys.exit(1 if bad else 0)
PY
) || fail "merged histogram: $out"
log "$out"

# Bad input to merge: one line each, exit status 2.
merge_bad() {
	local want=$1
	shift
	"$BLAST" merge "$@" >"$T/bad.out" 2>"$T/bad.err"
	local rc=$?
	[ "$rc" -eq 2 ] || fail "merge $*: exit $rc, want 2"
	[ "$(wc -l <"$T/bad.err")" -eq 1 ] || fail "merge $*: $(wc -l <"$T/bad.err") lines on stderr"
	grep -q "$want" "$T/bad.err" || fail "merge $*: '$(cat "$T/bad.err")' does not say '$want'"
}
sed 's/"version": "blast [^"]*"/"version": "blast 0.0-other"/' "$T/s1.json" >"$T/other.json"
merge_bad 'runs of different versions do not merge' "$T/s0.json" "$T/other.json"
head -c 3000 "$T/s2.json" >"$T/garbled.json"
merge_bad 'not a blast report' "$T/s0.json" "$T/garbled.json"
merge_bad 'is given twice' "$T/s0.json" "$T/s0.json"
merge_bad 'no report to merge'
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d["exact"]["seconds"][0]["hdr"]="AAAA"; json.dump(d,open(sys.argv[2],"w"))' \
	"$T/s1.json" "$T/badhist.json"
merge_bad "histogram is damaged" "$T/s0.json" "$T/badhist.json"

# --start-at in the past, a bad --shard: one line, exit status 2.
run_blast 10 --target "127.0.0.1:$MQ_PORT" --start-at 2001-01-01T00:00:00Z --messages 1
expect_rc 2
grep -q 'in the past' "$T/blast.err" || fail "--start-at in the past: $(cat "$T/blast.err")"
run_blast 10 --target "127.0.0.1:$MQ_PORT" --shard 3/3 --messages 3
expect_rc 2
run_blast 10 --target "127.0.0.1:$MQ_PORT" --shards 3 --messages 3
expect_rc 2
grep -q 'JOB_COMPLETION_INDEX' "$T/blast.err" || fail "--shards without the index: $(cat "$T/blast.err")"
stop_mosquitto

# Kafka: 3 shards by $JOB_COMPLETION_INDEX over a 6-partition topic.
start_kafka_mock 1 "kshard:6" || die "cannot start the Kafka mock"
pids=()
for i in 0 1 2; do
	JOB_COMPLETION_INDEX=$i "$BLAST" --proto kafka --target "$KAFKA_BOOTSTRAP" --topic kshard \
		--shards 3 --rate 3000 --messages 3000 --quiet --report "$T/k$i.json" \
		>"$T/k$i.out" 2>"$T/k$i.err" &
	pids+=($!)
	track "${pids[-1]}"
done
for i in 0 1 2; do
	wait "${pids[$i]}" || fail "kafka shard $i exited $? ($(head -2 "$T/k$i.err"))"
	expect_json "$T/k$i.json" sent == 1000
	expect_json "$T/k$i.json" config.partitions_given == 2
done
"$BLAST" merge "$T/k0.json" "$T/k1.json" "$T/k2.json" --report "$T/km.json" >"$T/kmerge.out" \
	2>"$T/kmerge.err" || fail "kafka merge exited $?: $(head -3 "$T/kmerge.err")"
expect_json "$T/km.json" acked == 3000
check_accounting "$T/km.json"
kafka_consume kshard 3000 10 >"$T/kafka.out" || fail "consumer reported errors"
check_kafka_records "$T/kafka.out" count=3000 partitions=6
merge_bad 'runs of different protocols do not merge' "$T/k0.json" "$T/s1.json"
pass
