#!/usr/bin/env bash
# `blast analyze --report / --html / --against` against real servers. For
# a QoS 1 MQTT run (private mosquitto) and a Kafka acks=1 run (librdkafka's
# mock cluster), each writing its own capture with --pcap and watched by
# --probe as well:
#   - the analyze JSON's wire requests and acks equal the run's acked and
#     the probe's requests and acks (client, probe, capture: one count), its
#     wire latency equals the one the run wrote for its capture, there is
#     one flow row per --conns connection and the rows add up to the totals;
#   - tshark counts, per client port, the same PUBLISH / PUBACK (Kafka:
#     Produce records / responses) as each flow row;
#   - --against: "client" holds the run's figures and client_minus_wire_us
#     equals the run's uncorrected pXX minus the wire's pXX, in the JSON,
#     the table and the page.
# A partial capture (packets taken out with editcap) exits 1; its JSON says
# complete false with the same warnings as stderr, and its page shows them
# before any figure.
# Then bad input: a missing capture, a missing, non-JSON or figure-less
# --against report, and wrong flags each give one line on stderr and exit
# 2; an unwritable --report exits 1.
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
skip_unless_root
skip_unless_cmd tshark editcap python3
# tshark's display filter for segments not sent before.
FIRST_SENT='!tcp.analysis.retransmission && !tcp.analysis.fast_retransmission && !tcp.analysis.spurious_retransmission'
[ -x /usr/sbin/mosquitto ] || skip "/usr/sbin/mosquitto not installed"
require_blast
require_kafka_tools

N=3000
CONNS=3

# analyze WHAT ARGS...: blast analyze, output in $T/analyze.out and .err.
analyze() {
	local what=$1
	shift
	timeout 60 "$BLAST" analyze "$@" >"$T/analyze.out" 2>"$T/analyze.err" ||
		fail "$what: blast analyze $* exited $?: $(cat "$T/analyze.err")"
}

# check_analysis WHAT RUN.json ANALYZE.json CONNS PORT PROTO TSHARK.tsv:
# the analysis against the run's report and tshark's counts per client
# port (TSV: port, requests, acks).
check_analysis() {
	local out
	out=$(python3 - "$@" <<'PYEOF'
import json, sys
what, run_p, an_p, conns, port, proto, ts_p = sys.argv[1:]
run, an = json.load(open(run_p)), json.load(open(an_p))
bad = []
def eq(name, got, want):
    if got != want:
        bad.append(f"{name}: got {got!r}, want {want!r}")
w, flows = an["wire"], an["flows"]
eq("wire.requests vs the run's acked", w["requests"], run["acked"])
eq("wire.acks vs the run's acked", w["acks"], run["acked"])
eq("wire.unmatched", w["unmatched"], 0)
eq("wire.unparsed", w["unparsed"], 0)
eq("capture.pending", an["capture"]["pending"], 0)
# The same capture analysed by the run and by analyze: the same wire.
eq("wire.latency_us vs the run's", w["latency_us"], run["wire_pcap"]["latency_us"])
# The probe watched the same run: the same counts.
probe = run["wire"]
eq("the run's wire.source", probe["source"], "probe")
for k in ("requests", "acks", "flows", "unmatched", "unparsed"):
    eq(f"wire.{k} vs the probe's", w[k], probe[k])
eq("wire.flows", w["flows"], int(conns))
eq("flow rows", len(flows), int(conns))
eq("sum of flow requests", sum(f["requests"] for f in flows), w["requests"])
eq("sum of flow acks", sum(f["acks"] for f in flows), w["acks"])
eq("distinct clients", len({f["client"] for f in flows}), int(conns))
# Without --against there is nothing to subtract from.
eq("client_minus_wire_us without --against", "client_minus_wire_us" in w, False)
eq("client without --against", "client" in an, False)
tshark = {}
for line in open(ts_p):
    p, req, ack = line.split()
    tshark[p] = (int(req), int(ack))
eq("tshark's client ports", sorted(tshark), sorted(f["client"].rsplit(":", 1)[1] for f in flows))
for f in flows:
    c = f["client"]
    eq(f"{c} server", f["server"], f"127.0.0.1:{port}")
    eq(f"{c} proto", f["proto"], proto)
    eq(f"{c} timed", f["timed"], f["acks"])
    if not 0 < f["p50_us"] <= f["p99_us"]:
        bad.append(f"{c}: p50 {f['p50_us']} p99 {f['p99_us']}")
    eq(f"{c} requests vs tshark", f["requests"], tshark.get(c.rsplit(":", 1)[1], (None,))[0])
    eq(f"{c} acks vs tshark", f["acks"], tshark.get(c.rsplit(":", 1)[1], (0, None))[1])
print("\n".join(f"{what}: {b}" for b in bad))
sys.exit(1 if bad else 0)
PYEOF
	) || fail "$out"
}

# check_against WHAT RUN.json ANALYZE.json RUN_PATH: the client figures and
# client - wire per percentile, from the two JSONs.
check_against() {
	local out
	out=$(python3 - "$@" <<'PYEOF'
import json, sys
what, run_p, an_p, against = sys.argv[1:]
run, an = json.load(open(run_p)), json.load(open(an_p))
bad = []
w, c = an["wire"], an.get("client", {})
client = run["latency_uncorrected_us"]
if an.get("against") != against:
    bad.append(f"against: {an.get('against')!r}")
for k in ("proto", "sent", "acked", "peak_conns"):
    if c.get(k) != run[k]:
        bad.append(f"client.{k}: {c.get(k)!r}, the run's {run[k]!r}")
diff = w.get("client_minus_wire_us", {})
for k in ("min", "p50", "p90", "p99", "p999", "max"):
    if c.get("latency_us", {}).get(k) != client[k]:
        bad.append(f"client.latency_us.{k}: {c.get('latency_us', {}).get(k)}, the run's {client[k]}")
    if k not in diff:
        bad.append(f"no wire.client_minus_wire_us.{k}")
        continue
    # Three decimals each: exact to the last one.
    want = client[k] - w["latency_us"][k]
    if abs(diff[k] - want) >= 0.0005:
        bad.append(f"client_minus_wire_us.{k} {diff[k]}, want {client[k]} - {w['latency_us'][k]} = {want:.3f}")
# A --pcap run already compares its client with the same capture.
if diff != run["wire_pcap"]["client_minus_wire_us"]:
    bad.append(f"client_minus_wire_us {diff} != the run's {run['wire_pcap']['client_minus_wire_us']}")
print("\n".join(f"{what}: {b}" for b in bad))
sys.exit(1 if bad else 0)
PYEOF
	) || fail "$out"
}

# The summary's "client - wire" row from --against is the one the run
# printed for its own capture (after the probe's).
check_against_table() {
	local mine theirs
	mine=$(grep '^  client - wire' "$T/analyze.out")
	theirs=$(sed -n '/^wire (pcap)/,$p' "$2" | grep '^  client - wire' | head -1)
	[ -n "$mine" ] || fail "$1: analyze --against printed no client - wire row"
	[ "$mine" = "$theirs" ] || fail "$1: client - wire row '$mine', the run printed '$theirs'"
}

# check_html WHAT FILE CONNS: one flow row per connection, the wire row,
# and the client - wire row with --against.
check_html() {
	local rows
	rows=$(sed -n '/<section id="flows">/,/<\/section>/p' "$2" | grep -c '^<tr><td>127\.0\.0\.1:')
	[ "$rows" -eq "$3" ] || fail "$1: $rows flow rows in the page, want $3"
	grep -q '<tr><td>wire (pcap)</td>' "$2" || fail "$1: no wire row in the page"
	grep -q '<tr><td>client - wire (pcap)</td>' "$2" || fail "$1: no client - wire row in the page"
	grep -q '<svg id="chart-distribution"' "$2" || fail "$1: no latency chart in the page"
}

log "== MQTT QoS 1, $CONNS connections, --pcap and --probe"
start_mosquitto || die "cannot start mosquitto"
run_blast 60 --target "127.0.0.1:$MQ_PORT" --qos 1 --conns $CONNS --messages $N \
	--pcap "$T/mqtt.pcapng" --probe --report "$T/mqtt-run.json"
expect_rc 0
expect_json "$T/mqtt-run.json" acked == $N
cp "$T/blast.out" "$T/mqtt-run.out"
analyze mqtt "$T/mqtt.pcapng" --report "$T/mqtt.json"
# PUBLISH from each client port, PUBACK to it (a segment may carry many).
# A segment sent again (a tail-loss probe when the broker stalls under
# load) is dissected again by tshark; analyze takes it once.
tshark -r "$T/mqtt.pcapng" -d "tcp.port==$MQ_PORT,mqtt" -Y "mqtt && $FIRST_SENT" -T fields -e tcp.srcport \
	-e tcp.dstport -e mqtt.msgtype 2>/dev/null | python3 -c '
import sys, collections
port = sys.argv[1]
n = collections.defaultdict(lambda: [0, 0])
for line in sys.stdin:
    src, dst, types = line.split("\t")
    types = types.strip().split(",")
    if dst == port:
        n[src][0] += types.count("3")
    elif src == port:
        n[dst][1] += types.count("4")
for p, (r, a) in n.items():
    print(p, r, a)' "$MQ_PORT" >"$T/mqtt.tshark"
check_analysis mqtt "$T/mqtt-run.json" "$T/mqtt.json" $CONNS "$MQ_PORT" mqtt "$T/mqtt.tshark"
expect_json "$T/mqtt.json" capture.request_frames == $N
expect_json "$T/mqtt.json" capture.ack_frames == $N
# A whole capture says so: no gap, blast's own file records its drops (0).
expect_json "$T/mqtt.json" capture.complete eq true
expect_json "$T/mqtt.json" capture.gaps == 0
expect_json "$T/mqtt.json" capture.warnings eq "[]"
expect_json "$T/mqtt.json" capture.drops_recorded.capture == 0
expect_json "$T/mqtt.json" capture.read_error eq null

log "== a partial capture: the report and the page say so first"
editcap "$T/mqtt.pcapng" "$T/holes.pcapng" 300-340 2>/dev/null || die "editcap failed"
rc=0
"$BLAST" analyze "$T/holes.pcapng" --report "$T/holes.json" --html "$T/holes.html" \
	>/dev/null 2>"$T/holes.err" || rc=$?
[ "$rc" -eq 1 ] || fail "partial capture: exit $rc, want 1"
expect_json "$T/holes.json" capture.complete eq false
expect_json "$T/holes.json" capture.gaps -gt 0
kinds=$(python3 -c 'import json,sys; print(",".join(w["kind"] for w in json.load(open(sys.argv[1]))["capture"]["warnings"]))' "$T/holes.json")
[[ $kinds == *gaps* ]] || fail "partial capture: warnings in the report are '$kinds'"
[ "$(grep -c '^blast: analyze: warning:' "$T/holes.err")" -eq "$(tr ',' '\n' <<<"$kinds" | wc -l)" ] ||
	fail "partial capture: stderr and the report disagree: $(cat "$T/holes.err") / $kinds"
w=$(grep -n 'id="warnings"' "$T/holes.html" | cut -d: -f1)
c=$(grep -n 'id="capture"' "$T/holes.html" | cut -d: -f1)
[ -n "$w" ] && [ "$w" -lt "$c" ] || fail "partial capture: the page has no warnings before the figures"

log "== MQTT --against the run's report"
analyze "mqtt --against" "$T/mqtt.pcapng" --report "$T/mqtt-against.json" --html "$T/mqtt.html" \
	--against "$T/mqtt-run.json"
check_against mqtt "$T/mqtt-run.json" "$T/mqtt-against.json" "$T/mqtt-run.json"
check_against_table mqtt "$T/mqtt-run.out"
check_html mqtt "$T/mqtt.html" $CONNS
stop_mosquitto

log "== Kafka acks=1, 2 connections, --pcap and --probe"
start_kafka_mock 1 "t:4" || die "cannot start the Kafka mock"
KPORT=${KAFKA_BOOTSTRAP##*:}
run_blast 60 --proto kafka --target "$KAFKA_BOOTSTRAP" --topic t --acks 1 --conns 2 \
	--messages $N --pcap "$T/kafka.pcapng" --probe --report "$T/kafka-run.json"
expect_rc 0
expect_json "$T/kafka-run.json" acked == $N
cp "$T/blast.out" "$T/kafka-run.out"
analyze kafka "$T/kafka.pcapng" --report "$T/kafka.json"
# Records of each Produce request (last offset delta + 1 per batch), and
# the records of the requests whose response came back.
tshark -r "$T/kafka.pcapng" -d "tcp.port==$KPORT,kafka" -Y "kafka.api_key == 0 && $FIRST_SENT" -T fields \
	-e tcp.srcport -e tcp.dstport -e kafka.correlation_id -e kafka.batch_last_offset_delta \
	2>/dev/null | python3 -c '
import sys, collections
port = sys.argv[1]
req, acked = {}, collections.Counter()
rows = [l.rstrip("\n").split("\t") for l in sys.stdin]
for src, dst, corr, deltas in rows:
    if dst == port:
        for c in corr.split(","):
            req[(src, c)] = 0
        if len(corr.split(",")) != 1:
            print("several Produce requests in one segment: records not attributable"); sys.exit(1)
        req[(src, corr)] = sum(int(d) + 1 for d in deltas.split(",") if d)
for src, dst, corr, deltas in rows:
    if src == port:
        for c in corr.split(","):
            acked[dst] += req.get((dst, c), 0)
clients = {s for s, _ in req}
for p in clients:
    print(p, sum(v for (s, _), v in req.items() if s == p), acked[p])' "$KPORT" >"$T/kafka.tshark" ||
	fail "kafka tshark: $(cat "$T/kafka.tshark")"
check_analysis kafka "$T/kafka-run.json" "$T/kafka.json" 2 "$KPORT" kafka "$T/kafka.tshark"

log "== Kafka --against the run's report"
analyze "kafka --against" "$T/kafka.pcapng" --report "$T/kafka-against.json" --html "$T/kafka.html" \
	--against "$T/kafka-run.json"
check_against kafka "$T/kafka-run.json" "$T/kafka-against.json" "$T/kafka-run.json"
check_against_table kafka "$T/kafka-run.out"
check_html kafka "$T/kafka.html" 2
stop_kafka_mock

log "== bad input"
printf 'not json\n' >"$T/notjson.json"
printf '{"proto": "mqtt", "sent": 5, "acked": 5}\n' >"$T/nolatency.json"
# bad_input WHAT WANT_RC PATTERN ARGS...: exit WANT_RC, one stderr line
# matching PATTERN, no table.
bad_input() {
	local what=$1 want=$2 pattern=$3 rc
	shift 3
	timeout 30 "$BLAST" analyze "$@" >"$T/bad.out" 2>"$T/bad.err"
	rc=$?
	[ "$rc" -eq "$want" ] || fail "$what: exit $rc, want $want"
	[ "$(wc -l <"$T/bad.err")" -eq 1 ] || fail "$what: stderr is not one line: $(cat "$T/bad.err")"
	grep -q -- "$pattern" "$T/bad.err" || fail "$what: stderr '$(cat "$T/bad.err")' lacks '$pattern'"
	if [ "$want" -eq 2 ] && [ -s "$T/bad.out" ]; then
		fail "$what: printed a table anyway"
	fi
	log "$what: $(cat "$T/bad.err")"
}
cap=$T/kafka.pcapng
bad_input "missing capture" 2 "$T/none.pcapng: No such file" "$T/none.pcapng" --report "$T/x.json"
bad_input "missing report" 2 "against $T/none.json: No such file" "$cap" --against "$T/none.json"
bad_input "not JSON" 2 "not JSON: unexpected character at byte 0" "$cap" --against "$T/notjson.json"
bad_input "no client figures" 2 "no latency_uncorrected_us" "$cap" --against "$T/nolatency.json"
# An analysis is not a run report: it names no client protocol.
bad_input "an analysis as --against" 2 "no proto" "$cap" --against "$T/kafka.json"
bad_input "a directory" 2 "not a regular file" "$cap" --against "$T"
bad_input "--report without a file" 2 "missing value" "$cap" --report
bad_input "--against twice" 2 "--against given twice" "$cap" --against "$T/kafka-run.json" \
	--against "$T/kafka-run.json"
bad_input "unknown flag" 2 "--reprot: unknown option" "$cap" --reprot "$T/x.json"
bad_input "two captures" 2 "one file only" "$cap" "$cap"
bad_input "unwritable --report" 1 "cannot write --report $T/no/such/dir/a.json" "$cap" \
	--report "$T/no/such/dir/a.json"
[ -e "$T/x.json" ] && fail "a failed analysis wrote its --report"
pass
