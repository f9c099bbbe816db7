#!/usr/bin/env bash
# --find-limit on real servers, with short trials:
#  - an SLO no broker can meet (p99=1us): every rate down to 1 msg/s fails,
#    one clear stderr line, exit 1, "limit": null;
#  - connections against mosquitto started with 200 open files (its
#    listener, log and stdio take a few): the most connections held is
#    under 200 and every trial above 200 fails;
#  - a ceiling: Kafka (librdkafka's mock) and WebSocket fan-out
#    (libwebsockets' mirror) both pass up to it, and say it was the ceiling.
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
require_blast
require_kafka_tools

# Checks the trials array against the table's contract.
check_trials() {
	local r=$1 out
	out=$(python3 - "$r" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
bad = []
keys = ("offered", "achieved", "acked_rate", "duration_s", "sent", "acked", "failed", "unacked",
        "not_sent", "p50_us", "p99_us", "p999_us", "retransmits", "pass", "why")
for i, t in enumerate(r.get("trials", [])):
    missing = [k for k in keys if k not in t]
    if missing:
        bad.append(f"trial {i} lacks {missing}")
    elif t["sent"] != t["acked"] + t["failed"] + t["unacked"]:
        bad.append(f"trial {i}: sent != acked + failed + unacked")
    elif t["pass"] != (t["why"] == "ok"):
        bad.append(f"trial {i}: pass {t['pass']} but why {t['why']!r}")
if not r.get("trials"):
    bad.append("no trials")
print("; ".join(bad))
sys.exit(1 if bad else 0)
EOF
	) || fail "$(basename "$r"): $out"
}

# 1. Nothing passes.
start_mosquitto || die "cannot start mosquitto"
run_blast 60 --target "127.0.0.1:$MQ_PORT" --qos 1 --find-limit --slo p99=1us --rate 10 \
	--trial-duration 1s --quiet --report "$T/none.json"
expect_rc 1
[ "$(wc -l <"$T/blast.err")" -eq 1 ] || fail "want one stderr line, got: $(cat "$T/blast.err")"
grep -q '^blast: --find-limit: no rate passed: even 1 msg/s failed (p99 .* > 1.0us)$' "$T/blast.err" ||
	fail "stderr does not say no rate passed: $(cat "$T/blast.err")"
grep -q '^limit: none found' "$T/blast.out" || fail "stdout does not say none found"
expect_json "$T/none.json" limit eq null
expect_json "$T/none.json" search.ended eq no_rate_passed
[ "$(json_get "$T/none.json" trials | python3 -c 'import json,sys; print([t["offered"] for t in json.load(sys.stdin)])')" = "[10, 10, 5, 2, 1]" ] ||
	fail "trials ran at $(json_get "$T/none.json" trials), want 10, 10, 5, 2, 1 msg/s (the first failure twice)"
check_trials "$T/none.json"
stop_mosquitto

# 2. Connections: mosquitto can open 200 files. (Its max_connections
# option is not enforced by Debian 12's mosquitto 2.0.11.)
MQ_PORT='' MQ_DIR=''
ulimit -S -n 200
start_mosquitto || die "cannot start mosquitto"
ulimit -S -n "$(ulimit -H -n)"
run_blast 120 --target "127.0.0.1:$MQ_PORT" --find-limit conns --conns 40 --trial-duration 1s \
	--drain-timeout 1s --report "$T/conns.json"
cat "$T/blast.out" | tail -n 12
expect_rc 0
expect_json "$T/conns.json" limit.mode eq conns
expect_json "$T/conns.json" limit.conns -lt 200
expect_json "$T/conns.json" limit.conns -ge 150
expect_json "$T/conns.json" limit.latency_us.count -gt 0
python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
f = [t for t in r["trials"] if t["offered"] >= 200]
sys.exit(0 if f and not any(t["pass"] for t in f) and r["limit"]["rate"] > 0 else 1)' "$T/conns.json" ||
	fail "a trial of 200 connections or more passed, none ran, or no connect rate"
check_trials "$T/conns.json"
stop_mosquitto

# 3. Kafka up to a ceiling.
start_kafka_mock 1 "lim:2" || die "cannot start the Kafka mock"
run_blast 120 --proto kafka --target "$KAFKA_BOOTSTRAP" --topic lim --find-limit --rate 500 \
	--ceiling 2000 --trial-duration 1s --report "$T/kafka.json"
expect_rc 0
expect_json "$T/kafka.json" limit.rate == 2000
expect_json "$T/kafka.json" limit.confirmed eq true
expect_json "$T/kafka.json" search.ended eq ceiling
expect_json "$T/kafka.json" limit.latency_us.count -gt 0
grep -q '^limit: 2000 msg/s sustained .*(the --ceiling' "$T/blast.out" || fail "stdout has no limit line"
check_trials "$T/kafka.json"
check_accounting "$T/kafka.json"
stop_kafka_mock

# 4. WebSocket fan-out up to a ceiling: every receipt must arrive.
start_lws_mirror || die "cannot start libwebsockets-test-server"
run_blast 120 --proto ws --target "ws://127.0.0.1:$LWS_PORT/" --ws-subprotocol lws-mirror-protocol \
	--publishers 2 --listeners 1 --payload-size 58 --find-limit --rate 100 --ceiling 400 \
	--trial-duration 1s --report "$T/ws.json"
expect_rc 0
expect_json "$T/ws.json" limit.rate == 400
expect_json "$T/ws.json" missing == 0
expect_json "$T/ws.json" limit.latency_us.count -gt 0
check_trials "$T/ws.json"
pass
