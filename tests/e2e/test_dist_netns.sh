#!/usr/bin/env bash
# A distributed run across network namespaces: three `blast agent`s, each
# in a namespace of its own with a veth to a bridge, a control mosquitto
# and the coordinator in another, the servers in a fourth (10.201.0.0/24,
# inside these namespaces only). For a QoS 1 MQTT run into mosquitto, a
# Kafka run into librdkafka's mock cluster (its advertised 127.0.0.1:PORT
# relayed to the servers' namespace from each agent's) and an HTTP run
# into nginx on three ports (its flags from a --config file the coordinator
# reads; connection {conn} to target {conn} % 3, as on one machine):
# - counts: the merged report's = the sum of the agents' own reports (kept
#   by --reports-dir) = the coordinator's live lines added up = what the
#   server saw (a subscriber's count, the records read back, nginx's access
#   log lines);
# - histogram: the merged report's = `blast merge` of the agents' reports,
#   bucket for bucket; HdrHistogram's Java HistogramLogProcessor reading
#   the agents' hlogs together, and its JS port reading the merged hlog,
#   find the merged percentiles;
# - shares: each agent ran a third of --rate and of --conns (Kafka: of the
#   topic's partitions);
# - the MQTT chat case (--chat): each agent's subscribers count every
#   agent's messages; merged receipts = publishes x receivers, missing 0;
# - T0: each agent's schedule anchor (exact.publish_start_ms) and its first
#   send (exact.first_send_ms; Kafka's after --linger) are within 5 ms of
#   the T0 the coordinator sent with GO, and no second before T0 sent
#   anything.
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
skip_unless_root
skip_unless_cmd python3 java node socat mosquitto_sub
[ -x /usr/sbin/mosquitto ] || skip "/usr/sbin/mosquitto not installed"
[ -f /usr/share/java/hdrhistogram.jar ] || skip "libhdrhistogram-java not installed"
[ -f tests/node/node_modules/hdr-histogram-js/package.json ] ||
	skip "hdr-histogram-js not installed (scripts/install-deps.sh)"
require_blast
require_kafka_tools

AGENTS=(a1 a2 a3)
lan_start d ctl=10.201.0.2 srv=10.201.0.3 a1=10.201.0.11 a2=10.201.0.12 a3=10.201.0.13
CTL=${LAN_IP[ctl]} SRV=${LAN_IP[srv]}

lan_mosquitto ctl
lan_mosquitto srv
for n in "${AGENTS[@]}"; do
	lan_port_open "$n" "$CTL" 1883 || die "$n cannot reach the control broker on $CTL"
	lan_port_open "$n" "$SRV" 1883 || die "$n cannot reach the target broker on $SRV"
done

# The subscriber that counts what the target broker delivered.
in_lan srv mosquitto_sub -h 127.0.0.1 -p 1883 -q 1 -t 'dn/#' -t 'probe/#' -F '%t' \
	>"$T/sub.out" 2>"$T/sub.err" &
track $!
for i in $(seq 25); do
	in_lan srv mosquitto_pub -h 127.0.0.1 -p 1883 -t "probe/$i" -m x 2>/dev/null
	wait_until 0.2 grep -q '^probe/' "$T/sub.out" && break
done
grep -q '^probe/' "$T/sub.out" || die "subscriber not ready: $(cat "$T/sub.err")"

for n in "${AGENTS[@]}"; do
	mkdir -p "$T/keep-$n"
	in_lan "$n" "$BLAST" agent --control "mqtt://$CTL:1883" --name "$n" --reports-dir "$T/keep-$n" \
		>"$T/$n.out" 2>"$T/$n.err" &
	track $!
done
wait_until 15 eval 'grep -q registered "$T/a1.err" && grep -q registered "$T/a2.err" && grep -q registered "$T/a3.err"' ||
	die "agents did not register: $(cat "$T"/a?.err)"

# coordinate TAG RUN_FLAGS...: the coordinator in the control namespace,
# the merged result in $T/TAG.{json,hlog,csv}; the agents' own reports
# and hlogs of this run in $T/keep-*/.
coordinate() {
	local tag=$1 pid
	shift
	rm -f "$T"/keep-*/*
	in_lan ctl timeout -k 5 90 "$BLAST" --control "mqtt://$CTL:1883" --agents 3 "$@" \
		--report "$T/$tag.json" --hlog "$T/$tag.hlog" --csv "$T/$tag.csv" \
		>"$T/$tag.out" 2>"$T/$tag.err" &
	pid=$!
	track "$pid"
	wait "$pid"
	COORD_RC=$?
	[ "$COORD_RC" -eq 0 ] || fail "$tag: the coordinator exited $COORD_RC: $(tail -n 5 "$T/$tag.err")"
}

# check_run TAG RATE CONNS PARTITIONS: the merged report against the
# agents' own (counts, shares, T0), `blast merge` of them, and HdrHistogram.
check_run() {
	local tag=$1 rate=$2 conns=$3 parts=$4 t0 out files=()
	t0=$(sed -n 's/.* agent(s) start at \([0-9.]*\)$/\1/p' "$T/$tag.err")
	[ -n "$t0" ] || { fail "$tag: the coordinator logged no T0: $(cat "$T/$tag.err")"; return 1; }
	for n in "${AGENTS[@]}"; do
		files+=("$(ls "$T/keep-$n/"*.json 2>/dev/null | head -1)")
		[ -s "${files[-1]}" ] || { fail "$tag: agent $n kept no report in $T/keep-$n"; return 1; }
		check_accounting "${files[-1]}"
	done
	check_accounting "$T/$tag.json"
	# The live lines: the agents' seconds as they came, every message once.
	out=$(grep -o '^\[[0-9:]*\] agents 3/3 | sent [0-9]*' "$T/$tag.err" | sed 's/.* sent //' | paste -sd+ | bc)
	[ "${out:-0}" = "$(json_get "$T/$tag.json" sent)" ] ||
		fail "$tag: the live lines sent $out in all: $(grep agents "$T/$tag.err")"
	"$BLAST" merge "${files[@]}" --report "$T/$tag-merge.json" >"$T/$tag-merge.out" \
		2>"$T/$tag-merge.err" || fail "$tag: blast merge exited $?: $(head -3 "$T/$tag-merge.err")"
	out=$(python3 - "$t0" "$rate" "$conns" "$parts" "$T/$tag.json" "$T/$tag-merge.json" "${files[@]}" <<'PY'
import json, sys
t0, rate, conns, parts = float(sys.argv[1]) * 1000, int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
m, bm = json.load(open(sys.argv[5])), json.load(open(sys.argv[6]))
agents = [json.load(open(p)) for p in sys.argv[7:]]
bad = []
for k in ("sent", "acked", "failed", "unacked", "not_sent"):
    s = sum(a.get(k, 0) for a in agents)
    if m.get(k, 0) != s or bm.get(k, 0) != s:
        bad.append(f"{k}: merged {m.get(k)}, blast merge {bm.get(k)}, the agents' sum {s}")
if m["errors"] != bm["errors"]:
    bad.append(f"errors: merged {m['errors']}, blast merge {bm['errors']}")
if m.get("merged", {}).get("reports") != 3:
    bad.append(f"merged.reports {m.get('merged')}")
# The whole histograms, bucket for bucket: the same V2 bytes, min and max.
for h in ("latency", "latency_uncorrected", "connect"):
    if m["exact"][h] != bm["exact"][h]:
        bad.append(f"exact.{h}: the coordinator's merge differs from blast merge's")
if m["latency_us"] != bm["latency_us"]:
    bad.append(f"latency_us: {m['latency_us']} vs blast merge {bm['latency_us']}")
if m["latency_us"]["count"] != sum(a["latency_us"]["count"] for a in agents):
    bad.append("latency count is not the agents' sum")
# Shares: a third each of --rate and of --conns (Kafka: of the partitions).
for i, a in enumerate(agents):
    c, sh = a["config"], a.get("shard", {})
    if (sh.get("index"), sh.get("count")) != (i, 3):
        bad.append(f"agent {i}: shard {sh}")
    if c["rate"] != rate // 3 + (i < rate % 3):
        bad.append(f"agent {i}: rate {c['rate']} of {rate}")
    if parts:
        if c.get("partitions_given") != parts // 3 + (i < parts % 3):
            bad.append(f"agent {i}: {c.get('partitions_given')} partitions of {parts}")
    elif c["conns"] != conns // 3 + (i < conns % 3):
        bad.append(f"agent {i}: {c['conns']} connections of {conns}")
    # T0: the schedule's anchor and the first send, within 5 ms of the GO's
    # (Kafka's first batch waits --linger for more records, by design).
    ex = a["exact"]
    for k, wait in (("publish_start_ms", 0), ("first_send_ms", c.get("linger_ms", 0))):
        if not -1 <= ex[k] - wait - t0 <= 5:
            bad.append(f"agent {i}: {k} {ex[k]:.3f} is {ex[k] - t0:+.3f} ms from T0 {t0:.0f}"
                       f"{f' (linger {wait} ms)' if wait else ''}")
    # Nothing went before T0: the seconds before it sent nothing.
    early = sum(x["sent"] for x in ex["seconds"] if x["start_ms"] < t0)
    if early:
        bad.append(f"agent {i}: {early} sent in the seconds before T0")
if m["exact"]["first_send_ms"] != min(a["exact"]["first_send_ms"] for a in agents):
    bad.append("the merged first_send_ms is not the agents' earliest")
lag = max(a["exact"]["first_send_ms"] - a["config"].get("linger_ms", 0) - t0 for a in agents)
print("; ".join(bad) if bad else
      f"sent {m['sent']} acked {m['acked']}, p99 {m['latency_us']['p99']} us, first sends "
      f"at most {lag:.3f} ms after T0 (+ linger), merged = blast merge = the agents' sum")
sys.exit(1 if bad else 0)
PY
	) || fail "$tag: $out"
	log "$tag: $out"
	# HdrHistogram's Java tools: the agents' hlogs read together give the
	# merged percentiles; its JS port reads the merged hlog as the CSV and
	# report say.
	cat "$T/keep-a1/"*.hlog >"$T/$tag-all.hlog"
	grep -hv '^[#"]' "$T/keep-a2/"*.hlog "$T/keep-a3/"*.hlog >>"$T/$tag-all.hlog"
	timeout 120 java -cp /usr/share/java/hdrhistogram.jar org.HdrHistogram.HistogramLogProcessor \
		-i "$T/$tag-all.hlog" -csv -o "$T/$tag-java" >"$T/$tag-java.log" 2>&1 ||
		fail "$tag: HistogramLogProcessor: $(tail -2 "$T/$tag-java.log")"
	out=$(python3 - "$T/$tag-java" "$T/$tag.json" <<'PY'
import csv, json, sys
rows = [r for r in csv.reader(l for l in open(sys.argv[1]) if not l.startswith("#"))]
j = dict(zip(rows[0], rows[-1]))
lat = json.load(open(sys.argv[2]))["latency_us"]
bad = []
if int(j["Total_Count"]) != lat["count"]:
    bad.append(f"count: Java {j['Total_Count']}, merged {lat['count']}")
for col, key in (("Total_50%", "p50"), ("Total_90%", "p90"), ("Total_99%", "p99"), ("Total_99.9%", "p999")):
    ours = lat[key] / 1000
    if abs(float(j[col]) - ours) > ours / 1024 + 0.0011:
        bad.append(f"{col}: Java {j[col]} ms, merged {ours} ms")
print("; ".join(bad) if bad else f"Java agrees on {lat['count']} samples")
sys.exit(1 if bad else 0)
PY
	) || fail "$tag: the agents' hlogs in Java: $out"
	out=$(node tests/node/check_hlog.js "$T/$tag.hlog" "$T/$tag.csv" "$T/$tag.json" 2>&1) ||
		fail "$tag: the merged hlog in JS: $out"
}

# (1) MQTT QoS 1 into mosquitto.
coordinate mqtt --target "$SRV:1883" --qos 1 --conns 6 --rate 1500 --messages 3000 \
	--topic 'dn/{conn}' --client-id 'dn-{conn}'
check_run mqtt 1500 6 0
expect_json "$T/mqtt.json" acked == 3000
wait_until 10 eval '[ "$(grep -c "^dn/" "$T/sub.out")" -ge 3000 ]'
got=$(grep -c '^dn/' "$T/sub.out")
[ "$got" -eq 3000 ] || fail "mqtt: the broker delivered $got, not 3000"
out=$(grep -o 'New client connected from [0-9.]*:[0-9]* as dn-[0-9]*' "$T/mq-srv/mosquitto.log" |
	sed 's/.* from \([0-9.]*\):[0-9]* as /\1 /' | sort -k2 | tr '\n' ' ')
want="10.201.0.11 dn-0 10.201.0.11 dn-1 10.201.0.12 dn-2 10.201.0.12 dn-3 10.201.0.13 dn-4 10.201.0.13 dn-5 "
[ "$out" = "$want" ] || fail "mqtt: client ids by agent address: $out"

# (1b) The MQTT chat case: every connection of every agent publishes and
# subscribes, so each agent's two connections receive all three agents'
# 900 messages (timed end to end across namespaces), and the merged
# receipts are 900 x 6.
coordinate chat --target "$SRV:1883" --chat --publishers 3 --subscribers 3 --qos 1 --sub-qos 1 \
	--rate 900 --messages 900 --topic 'dc/{conn}' --sub-topic 'dc/#' --client-id 'dc-{conn}'
check_run chat 900 6 0
expect_jsons "$T/chat.json" expected == 5400 received == 5400 missing == 0 duplicates == 0 \
	e2e_latency_us.count == 5400
for f in "$T"/keep-a?/*.json; do
	expect_jsons "$f" sent == 300 expected == 1800 received == 1800 missing == 0
done

# (2) Kafka into the mock cluster, in the servers' namespace. It advertises
# 127.0.0.1:PORT: a relay there on the LAN address, and one on each
# agent's loopback to it, make that address reach the broker from every
# agent.
KAFKA_IN_NS=${LAN_NS[srv]}
start_kafka_mock 1 "dk:6" || die "cannot start the Kafka mock"
KPORT=${KAFKA_BOOTSTRAP##*:}
in_lan srv socat "TCP-LISTEN:$KPORT,bind=$SRV,reuseaddr,fork" "TCP:127.0.0.1:$KPORT" 2>>"$T/socat.err" &
track $!
wait_until 5 lan_port_open srv "$SRV" "$KPORT" || die "no Kafka relay on $SRV:$KPORT"
for n in "${AGENTS[@]}"; do
	in_lan "$n" socat "TCP-LISTEN:$KPORT,bind=127.0.0.1,reuseaddr,fork" "TCP:$SRV:$KPORT" 2>>"$T/socat.err" &
	track $!
	wait_until 5 lan_port_open "$n" 127.0.0.1 "$KPORT" || die "no Kafka relay in $n"
done
coordinate kafka --proto kafka --target "$KAFKA_BOOTSTRAP" --topic dk --rate 3000 --messages 3000
check_run kafka 3000 1 6
expect_json "$T/kafka.json" acked == 3000
kafka_consume dk 3000 10 >"$T/kafka.records" || fail "kafka: the consumer reported errors"
check_kafka_records "$T/kafka.records" count=3000 partitions=6

# (3) HTTP into nginx on three ports (three targets), its access log one
# line a request: the client's address and the port it came to.
NG_NETNS=${LAN_NS[srv]} NG_ADDR=$SRV NG_PORT=8080
NG_HTTP_LINES='log_format dn "$remote_addr $server_port";'
start_nginx "listen $SRV:8081;" "listen $SRV:8082;" "access_log $T/access.log dn;" \
	'location = /ping { return 200 "PONG"; }' || die "cannot start nginx"
# The run's flags from a --config file: the coordinator reads it and the
# agents get its flags, not its path (a file their machines may not have).
printf '%s\n' 'proto http' "target http://$SRV:8080/ping" "target http://$SRV:8081/ping" \
	"target http://$SRV:8082/ping" 'conns = 6' '--rate 1500' >"$T/http.conf"
coordinate http --config "$T/http.conf" --messages 3000
check_run http 1500 6 0
for f in "$T"/keep-a?/*.json; do
	! json_get "$f" config.config_file >/dev/null || fail "http: an agent was given the --config path"
done
# The merge keeps --proto http's settings and its time to first byte.
expect_jsons "$T/http.json" acked == 3000 http.status.http:200 == 3000 http.ttfb_us.count == 3000 \
	http.ok_status eq 2xx,3xx config.http_method eq GET config.pipeline == 1
grep -q 'http:200 3000 (failed)' "$T/http.out" && fail "http: the merged summary calls 200 failed"
wait_until 5 eval '[ "$(wc -l <"$T/access.log")" -ge 3000 ]'
got=$(wc -l <"$T/access.log")
[ "$got" -eq 3000 ] || fail "http: nginx logged $got requests, not 3000"
out=$(awk '{ print $1 }' "$T/access.log" | sort | uniq -c | awk '{ print $2 "=" $1 }' | tr '\n' ' ')
[ "$out" = "10.201.0.11=1000 10.201.0.12=1000 10.201.0.13=1000 " ] ||
	fail "http: requests by agent address: $out"
# Connection {conn} goes to target {conn} % 3 as on one machine: agent 2's
# connections 2 and 3 to ports 8082 and 8080, no port left out.
out=$(sort -u "$T/access.log" | tr '\n' ' ')
want="10.201.0.11 8080 10.201.0.11 8081 10.201.0.12 8080 10.201.0.12 8082 10.201.0.13 8081 10.201.0.13 8082 "
[ "$out" = "$want" ] || fail "http: agents' connections by target port: $out"

# Bad input: a --reports-dir it cannot write is one line, exit status 2.
rc=0
"$BLAST" agent --control "mqtt://127.0.0.1:1" --reports-dir "$T/nowhere" 2>"$T/agent-bad.err" || rc=$?
[ "$rc" -eq 2 ] && [ "$(wc -l <"$T/agent-bad.err")" -eq 1 ] ||
	fail "agent --reports-dir nowhere: exit $rc, $(cat "$T/agent-bad.err")"
pass
