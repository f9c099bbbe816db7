#!/usr/bin/env bash
# blast against the tools people use today, on the same broker, in one run:
#
#   MQTT, one mosquitto started here on a free loopback port, QoS 1, PAYLOAD
#   bytes to topic bench/t, CONNS connections each:
#     blast          --qos 1 --conns CONNS --workers 1 --messages MQTT_MESSAGES,
#                    its default window (--inflight 64), and again with 1024
#     mosquitto_pub  CONNS processes, each `-q 1 -l` over MQTT_MESSAGES/CONNS lines
#     Locust         paho-mqtt users (bench/locust_mqtt.py), CONNS users,
#                    headless for LOCUST_SECS, each publish timed to its PUBACK
#     Tsung          ts_mqtt, CONNS users, each publishing MQTT_MESSAGES/CONNS
#                    at QoS 1 (scenario written here)
#   Kafka, librdkafka's mock cluster (.output/tools/kafka_mock, 1 broker,
#   topic bench with 4 partitions, a fresh cluster per run), acks all,
#   KAFKA_MESSAGES records of PAYLOAD bytes:
#     blast          --proto kafka --conns 1 --workers 1
#     confluent_kafka  a Python producer (bench/confluent_producer.py)
#     kcat           -P -l over a file of KAFKA_MESSAGES lines
#
# Per run: msg/s is each tool's own figure where it has one (blast: acked /
# duration; Locust: its Requests/s; Tsung: published / its longest session;
# confluent_kafka: delivered / first produce -> last delivery report) and
# messages / wall time for the tools that print none (mosquitto_pub, kcat).
# cpu_s is the tool's user+sys from /usr/bin/time (children included; an
# interpreter's or Erlang VM's start-up counts too); msg/cpu_s = messages
# acked / cpu_s; broker_core = broker CPU (/proc/PID/stat) / the tool's wall
# time. Latency is what the tool itself reports: blast, Locust and
# confluent_kafka give percentiles (Locust rounds them to whole ms), Tsung
# only a mean and a maximum, mosquitto_pub and kcat nothing. The wire
# column holds blast's --probe figures when this blast has --probe.
# ROUNDS alternating rounds (every tool once per round); rows are medians,
# ratios (against blast with its default window) the median of the rounds'
# ratios.
#
# Knobs (environment): ROUNDS (3), CONNS (4), PAYLOAD (64), MQTT_MESSAGES
# (200000), LOCUST_SECS (10), KAFKA_MESSAGES (1000000), RUN_TIMEOUT (90 s),
# BLAST (./blast), PEER_PYTHON (/usr/bin/python3).
# Needs: make (blast, .output/tools/kafka_mock); Debian packages mosquitto,
# mosquitto-clients, python3-locust, python3-paho-mqtt, python3-confluent-kafka,
# kcat, time (all in scripts/install-deps.sh), and tsung, which this script
# installs when missing (as root; INSTALL_TSUNG=0 to not). A tool that is
# missing gets a row saying so. About 3 minutes with the defaults.
# R_* figures are read back by name (${!v}), which shellcheck cannot see.
# shellcheck disable=SC2034
set -u
cd "$(dirname "$0")/.." || exit 1
. bench/lib.sh

BLAST=${BLAST:-./blast}
PEER_PYTHON=${PEER_PYTHON:-/usr/bin/python3}
KAFKA_MOCK=${KAFKA_MOCK:-.output/tools/kafka_mock}
MOSQUITTO=/usr/sbin/mosquitto
ROUNDS=${ROUNDS:-3}
CONNS=${CONNS:-4}
PAYLOAD=${PAYLOAD:-64}
MQTT_MESSAGES=${MQTT_MESSAGES:-200000}
LOCUST_SECS=${LOCUST_SECS:-10}
KAFKA_MESSAGES=${KAFKA_MESSAGES:-1000000}
RUN_TIMEOUT=${RUN_TIMEOUT:-90}
BLAST_INFLIGHT=64
TOPIC=bench/t
KTOPIC=bench
HZ=$(getconf CLK_TCK)

TMP=$(mktemp -d /tmp/blast-peers.XXXXXX)
chmod 755 "$TMP"
PIDS=()

trap bench_cleanup EXIT
trap 'exit 130' INT TERM

die() {
	echo "vs-peers.sh: $*" >&2
	exit 1
}

for v in ROUNDS CONNS PAYLOAD MQTT_MESSAGES LOCUST_SECS KAFKA_MESSAGES RUN_TIMEOUT; do
	case ${!v} in '' | *[!0-9]*) die "$v must be a whole number, not '${!v}'" ;; esac
	[ "${!v}" -gt 0 ] || die "$v must be > 0"
done
[ $((MQTT_MESSAGES % CONNS)) = 0 ] || die "MQTT_MESSAGES ($MQTT_MESSAGES) must be a multiple of CONNS ($CONNS)"
[ -x "$BLAST" ] || die "$BLAST not built (run make)"
[ -x /usr/bin/time ] || die "/usr/bin/time missing (Debian package: time)"
[ -x "$MOSQUITTO" ] || die "$MOSQUITTO missing (Debian package: mosquitto)"
command -v python3 >/dev/null || die "python3 missing"


# blast --probe (the wire witness) when this blast has it.
PROBE=()
"$BLAST" --help 2>&1 | grep -q -- '--probe' && PROBE=(--probe)

# What each peer needs; "" when it can run, else why not.
declare -A MISSING
py_has() { "$PEER_PYTHON" -c "import $1" 2>/dev/null; }
MISSING[mosquitto_pub]=""
command -v mosquitto_pub >/dev/null || MISSING[mosquitto_pub]="not installed (Debian package mosquitto-clients)"
MISSING[locust]=""
py_has locust && py_has paho.mqtt.client ||
	MISSING[locust]="not importable by $PEER_PYTHON (Debian packages python3-locust, python3-paho-mqtt)"
MISSING[tsung]=""
have_tsung() { command -v tsung >/dev/null && [ -x /usr/bin/epmd ]; }
# Tsung pulls Erlang, gnuplot, matplotlib and numpy (hundreds of MB), too much for
# scripts/install-deps.sh (CI never runs benches): installed here, as root,
# unless INSTALL_TSUNG=0. gnuplot-nox satisfies its gnuplot without Qt.
if ! have_tsung && [ "${INSTALL_TSUNG:-1}" = 1 ] && [ "$(id -u)" = 0 ]; then
	echo "# installing tsung (apt-get install --no-install-recommends tsung gnuplot-nox) ..." >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends tsung gnuplot-nox \
		>"$TMP/apt.log" 2>&1 || echo "# tsung install failed: $(tail -1 "$TMP/apt.log")" >&2
fi
have_tsung || MISSING[tsung]="not installed (Debian package tsung; INSTALL_TSUNG=1 as root installs it)"
MISSING[confluent_kafka]=""
py_has confluent_kafka ||
	MISSING[confluent_kafka]="not importable by $PEER_PYTHON (Debian package python3-confluent-kafka)"
MISSING[kcat]=""
command -v kcat >/dev/null || MISSING[kcat]="not installed (Debian package kcat)"
MISSING[blast_kafka]=""
[ -x "$KAFKA_MOCK" ] || MISSING[blast_kafka]="$KAFKA_MOCK not built (run make)"
for t in confluent_kafka kcat; do
	[ -n "${MISSING[$t]}" ] || MISSING[$t]=${MISSING[blast_kafka]}
done

# ---- servers ----


# The mock exits on stdin EOF: its stdin is a FIFO this shell holds open.
mkfifo "$TMP/mock.in" || exit 1
exec 7<>"$TMP/mock.in"

# start_mock: a fresh mock cluster; sets MOCK_PID, MOCK_BOOT (HOST:PORT).
start_mock() {
	local i host port
	"$KAFKA_MOCK" --brokers 1 --topic "$KTOPIC:4" <&7 >"$TMP/mock.out" 2>"$TMP/mock.err" &
	MOCK_PID=$!
	PIDS+=("$MOCK_PID")
	for i in $(seq 100); do
		MOCK_BOOT=$(sed -n 's/^bootstrap=//p' "$TMP/mock.out" | head -1)
		MOCK_BOOT=${MOCK_BOOT%%,*}
		if [ -n "$MOCK_BOOT" ]; then
			host=${MOCK_BOOT%:*} port=${MOCK_BOOT##*:}
			(exec 3<>"/dev/tcp/$host/$port") 2>/dev/null && return 0
		fi
		kill -0 "$MOCK_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "kafka_mock did not start: $(tail -3 "$TMP/mock.err")" >&2
	stop_pid "$MOCK_PID"
	return 1
}

# Tsung's Erlang nodes find each other through epmd: one of our own on a
# private port, stopped by PID at the end, not a system-wide daemon.
EPMD_PID=""
start_epmd() {
	local i
	EPMD_PORT=$(free_port)
	/usr/bin/epmd -port "$EPMD_PORT" -address 127.0.0.1 >"$TMP/epmd.log" 2>&1 </dev/null &
	EPMD_PID=$!
	PIDS+=("$EPMD_PID")
	for i in $(seq 50); do
		(exec 3<>"/dev/tcp/127.0.0.1/$EPMD_PORT") 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# ---- inputs ----

LINE=$(head -c "$PAYLOAD" /dev/zero | tr '\0' x)
yes "$LINE" | head -n $((MQTT_MESSAGES / CONNS)) >"$TMP/mqtt.lines"
yes "$LINE" | head -n "$KAFKA_MESSAGES" >"$TMP/kafka.lines"

# tsung_xml FILE PORT: CONNS users started at once (static users: an
# arrival phase draws Poisson arrivals and may start fewer), each one
# connection publishing MQTT_MESSAGES/CONNS QoS 1 messages back to back.
# The keepalive outlasts the run: Tsung 1.7.0's ts_mqtt sends PINGREQ every
# keepalive seconds whatever the traffic, and when the PINGRESP arrives in
# the same read as the PUBACK a user waits for, the PUBACK stays in its
# buffer unparsed until more data comes, which it never does: the user
# hangs (seen here with keepalive 1 s: two users stopped after about 4,400
# publishes each, one PUBACK outstanding each, until the load ended).
tsung_xml() {
	cat >"$1" <<EOF
<?xml version="1.0"?>
<!DOCTYPE tsung SYSTEM "/usr/share/tsung/tsung-1.0.dtd">
<tsung loglevel="warning" version="1.0" dumptraffic="false">
  <clients>
    <client host="localhost" use_controller_vm="true" maxusers="$((CONNS + 10))"/>
  </clients>
  <servers>
    <server host="127.0.0.1" port="$2" type="tcp"/>
  </servers>
  <load duration="$RUN_TIMEOUT" unit="second">
$(for i in $(seq "$CONNS"); do echo '    <user session="pub" start_time="0" unit="second"/>'; done)
  </load>
  <sessions>
    <session name="pub" probability="100" type="ts_mqtt">
      <request><mqtt type="connect" clean_start="true" keepalive="$((RUN_TIMEOUT + 60))"/></request>
      <for from="1" to="$((MQTT_MESSAGES / CONNS))" incr="1" var="i">
        <request><mqtt type="publish" topic="$TOPIC" qos="1">$LINE</mqtt></request>
      </for>
      <request><mqtt type="disconnect"/></request>
    </session>
  </sessions>
</tsung>
EOF
}

# ---- one measured run ----

# measure BROKER_PID CMD...: runs CMD under /usr/bin/time (stdout
# $TMP/run.out, stderr $TMP/run.err). Sets M_RC, M_WALL, M_CPU, M_BROKER.
measure() {
	local bpid=$1 c0 c1 t0 t1
	shift
	rm -f "$TMP/time"
	c0=$(cpu_ticks "$bpid")
	t0=$(now)
	/usr/bin/time -f '%U %S' -o "$TMP/time" timeout -k 5 "$RUN_TIMEOUT" "$@" \
		>"$TMP/run.out" 2>"$TMP/run.err" 7<&-
	M_RC=$?
	t1=$(now)
	c1=$(cpu_ticks "$bpid")
	M_WALL=$(calc "$t1 - $t0")
	M_BROKER=$(calc "($c1 - $c0) / $HZ / $M_WALL")
	M_CPU=$(awk 'NF == 2 { printf "%.3f", $1 + $2 }' "$TMP/time" 2>/dev/null)
}

errline() {
	grep -v '^$' "$1" 2>/dev/null | grep -v 'os_mon' | tail -1 | cut -c1-160
}

# blast_lat FILE: "p50 p99" of the report's latency (us), then the wire's
# when the report has a probe figure ("- -" otherwise).
blast_lat() {
	python3 - "$1" <<'EOF' 2>/dev/null
import json, sys
r = json.load(open(sys.argv[1]))
l = r.get("latency_us", {})
out = [l.get("p50", "-"), l.get("p99", "-")]
w = None
for v in (r.get("wire"), r.get("wire_probe")):
    if isinstance(v, dict):
        for c in (v.get("probe"), v):
            if isinstance(c, dict) and isinstance(c.get("latency_us"), dict) \
                    and c["latency_us"].get("count"):
                w = c["latency_us"]
                break
    if w:
        break
out += [w.get("p50", "-"), w.get("p99", "-")] if w else ["-", "-"]
print(*out)
EOF
}

# Each run_TOOL sets R_MSGS (acked), R_RATE, R_L1, R_L2 (latency figures in
# us: p50 and p99, or mean and max for Tsung; "" when the tool reports
# none), R_W1, R_W2 (wire p50, p99) and R_NOTE ("" when every message was
# acked), after measure (M_*).
run_blast_mqtt() {
	measure "$MQ_PID" "$BLAST" --proto mqtt --target "127.0.0.1:$MQ_PORT" --qos 1 \
		--conns "$CONNS" --workers 1 --messages "$MQTT_MESSAGES" --payload-size "$PAYLOAD" \
		--inflight "$BLAST_INFLIGHT" \
		--topic "$TOPIC" "${PROBE[@]}" --report "$TMP/blast.json" --quiet
	R_MSGS=$(jget "$TMP/blast.json" acked)
	R_RATE=$(jget "$TMP/blast.json" rate)
	read -r R_L1 R_L2 R_W1 R_W2 <<<"$(blast_lat "$TMP/blast.json")"
	[ "$M_RC" = 0 ] && [ "$R_MSGS" = "$MQTT_MESSAGES" ] ||
		R_NOTE="blast exit $M_RC, acked ${R_MSGS:-?} of $MQTT_MESSAGES: $(errline "$TMP/run.err")"
}
# The same with a deep window: what blast does when asked for throughput.
run_blast_mqtt_deep() {
	BLAST_INFLIGHT=1024 run_blast_mqtt
}

run_mosquitto_pub() {
	# CONNS publishers at once; the group's CPU is the shell's children.
	measure "$MQ_PID" bash -c '
		pids=()
		for i in $(seq "$1"); do
			mosquitto_pub -h 127.0.0.1 -p "$2" -q 1 -t "$3" -i "mpub-$$-$i" -l <"$4" & pids+=($!)
		done
		rc=0
		for p in "${pids[@]}"; do wait "$p" || rc=1; done
		exit $rc' mpub "$CONNS" "$MQ_PORT" "$TOPIC" "$TMP/mqtt.lines"
	R_MSGS=$MQTT_MESSAGES
	R_RATE=$(calc "$MQTT_MESSAGES / $M_WALL")
	R_L1="" R_L2=""
	[ "$M_RC" = 0 ] || R_NOTE="mosquitto_pub exit $M_RC: $(errline "$TMP/run.err")"
}

run_locust() {
	local line
	rm -f "$TMP"/locust_*.csv
	measure "$MQ_PID" env MQTT_PAYLOAD="$PAYLOAD" MQTT_TOPIC="$TOPIC" "$PEER_PYTHON" -m locust \
		-f bench/locust_mqtt.py --headless -u "$CONNS" -r $((CONNS * 10)) -t "${LOCUST_SECS}s" \
		--stop-timeout 5 --host "127.0.0.1:$MQ_PORT" --csv "$TMP/locust" --only-summary \
		--loglevel WARNING
	# The "publish qos1" row: count, failures, Requests/s, 50%, 99% (ms).
	line=$(python3 - "$TMP/locust_stats.csv" <<'EOF' 2>/dev/null
import csv, sys
for row in csv.DictReader(open(sys.argv[1])):
    if row["Name"] == "publish qos1":
        print(row["Request Count"], row["Failure Count"], row["Requests/s"],
              float(row["50%"]) * 1000, float(row["99%"]) * 1000)
EOF
	)
	read -r R_MSGS fails R_RATE R_L1 R_L2 <<<"$line"
	if [ -z "$line" ]; then
		R_NOTE="locust exit $M_RC, no stats CSV: $(errline "$TMP/run.err")"
	elif [ "$fails" != 0 ]; then
		R_NOTE="locust: $fails publishes failed"
	fi
}

run_tsung() {
	local log pub acked smax mean max errs
	mkdir -p "$TMP/tsung.$ROUND"
	tsung_xml "$TMP/tsung.xml" "$MQ_PORT"
	measure "$MQ_PID" env ERL_EPMD_PORT="$EPMD_PORT" HOME="$TMP" tsung -f "$TMP/tsung.xml" \
		-l "$TMP/tsung.$ROUND" -n -w 0 -i "blast$$r$ROUND" -I 127.0.0.1 start
	log=$(find "$TMP/tsung.$ROUND" -name tsung.log | head -1)
	# tsung.log dumps every 10 s: counters "stats: NAME INTERVAL TOTAL",
	# samples "stats: NAME COUNT MEAN SD MAX MIN MEAN_BEFORE COUNT_BEFORE"
	# (ms; COUNT and MEAN of this interval only).
	pub=$(awk '$2 == "mqtt_published" { v = $4 } END { print v }' "$log" 2>/dev/null)
	acked=$(awk '$2 == "mqtt_server_pubacked" { v = $4 } END { print v }' "$log" 2>/dev/null)
	smax=$(awk '$2 == "session" { v = $6 } END { print v }' "$log" 2>/dev/null)
	# Mean over every interval, weighted by its count; the largest max.
	read -r mean max <<<"$(awk '$2 == "request" && $3 > 0 { n += $3; s += $3 * $4 }
		$2 == "request" && $6 > mx { mx = $6 } END { if (n) print s / n, mx }' "$log" 2>/dev/null)"
	R_MSGS=$acked
	if [ -z "$log" ] || [ -z "$acked" ] || [ -z "$smax" ]; then
		R_NOTE="tsung exit $M_RC, no MQTT figures in its log: $(errline "$TMP/run.err")"
		return
	fi
	R_RATE=$(calc "$acked / ($smax / 1000)")
	R_L1=$(calc "$mean * 1000") R_L2=$(calc "$max * 1000")
	# Errors are counters named error_* (a timeout, a closed connection).
	errs=$(awk '$2 ~ /^error_/ { v[$2] = $4 } END { for (k in v) printf "%s %s=%s", s, k, v[k]; s = "," }' \
		"$log" 2>/dev/null)
	[ "$acked" = "$MQTT_MESSAGES" ] && [ "$pub" = "$MQTT_MESSAGES" ] ||
		R_NOTE="tsung exit $M_RC after $(printf '%.0f' "$M_WALL") s: published ${pub:-?}, PUBACKed $acked of $MQTT_MESSAGES${errs:+; errors$errs}"
}

run_blast_kafka() {
	measure "$MOCK_PID" "$BLAST" --proto kafka --target "$MOCK_BOOT" --topic "$KTOPIC" --acks all \
		--conns 1 --workers 1 --messages "$KAFKA_MESSAGES" --payload-size "$PAYLOAD" \
		"${PROBE[@]}" --report "$TMP/blast.json" --quiet
	R_MSGS=$(jget "$TMP/blast.json" acked)
	R_RATE=$(jget "$TMP/blast.json" rate)
	read -r R_L1 R_L2 R_W1 R_W2 <<<"$(blast_lat "$TMP/blast.json")"
	[ "$M_RC" = 0 ] && [ "$R_MSGS" = "$KAFKA_MESSAGES" ] ||
		R_NOTE="blast exit $M_RC, acked ${R_MSGS:-?} of $KAFKA_MESSAGES: $(errline "$TMP/run.err")"
}

run_confluent_kafka() {
	local line
	measure "$MOCK_PID" "$PEER_PYTHON" bench/confluent_producer.py --bootstrap "$MOCK_BOOT" \
		--topic "$KTOPIC" --messages "$KAFKA_MESSAGES" --payload-size "$PAYLOAD" --acks all \
		--timeout $((RUN_TIMEOUT - 10))
	line=$(tail -1 "$TMP/run.out")
	R_MSGS=$(field "$line" delivered)
	R_RATE=$(field "$line" rate)
	R_L1=$(field "$line" p50_us) R_L2=$(field "$line" p99_us)
	[ "$M_RC" = 0 ] && [ "$R_MSGS" = "$KAFKA_MESSAGES" ] ||
		R_NOTE="confluent_producer.py exit $M_RC: ${line:-$(errline "$TMP/run.err")}"
}

run_kcat() {
	measure "$MOCK_PID" kcat -P -b "$MOCK_BOOT" -t "$KTOPIC" -X acks=all -l "$TMP/kafka.lines"
	R_MSGS=$KAFKA_MESSAGES
	R_RATE=$(calc "$KAFKA_MESSAGES / $M_WALL")
	R_L1="" R_L2=""
	# kcat prints "% Delivery failed" (and still may exit 0) when records fail.
	if [ "$M_RC" != 0 ] || grep -qi 'fail' "$TMP/run.err"; then
		R_NOTE="kcat exit $M_RC: $(errline "$TMP/run.err")"
	fi
}

# ---- rounds ----

# Per-tool figures of the good runs (bench/lib.sh runs_take).
declare -A RUNS
FIELDS="RATE CPU PERCPU CORE BROKER L1 L2 W1 W2"
# take TOOL: the measured run's CPU figures, then runs_take.
take() {
	if [ -z "$R_NOTE" ]; then
		R_CPU=$M_CPU
		R_PERCPU=$(calc "$R_MSGS / ($M_CPU > 0 ? $M_CPU : 0.001)")
		R_CORE=$(calc "$M_CPU / $M_WALL")
		R_BROKER=$M_BROKER
	fi
	runs_take "$1"
}
med() {
	runs_median "$@"
}

# one TOOL FUNCTION: a run of TOOL unless it is missing; ratios against
# this round's blast run of the same broker (B_RATE, B_PERCPU).
declare -A RATIO
one() {
	local t=$1
	[ -n "${MISSING[$t]:-}" ] && return
	R_NOTE="" R_RATE="" R_W1="" R_W2="" R_MSGS=""
	"$2"
	take "$t"
	if [ -z "$R_NOTE" ]; then
		case $t in
		blast_mqtt_deep) ;;
		blast_*) B_RATE=$R_RATE B_PERCPU=$R_PERCPU ;;
		*)
			if [ -n "$B_RATE" ]; then
				RATIO[$t.RATE]+=" $(calc "$B_RATE / $R_RATE")"
				RATIO[$t.PERCPU]+=" $(calc "$B_PERCPU / $R_PERCPU")"
			fi
			;;
		esac
	fi
}

start_mosquitto || die "cannot start mosquitto"
if [ -z "${MISSING[tsung]}" ] && ! start_epmd; then
	MISSING[tsung]="could not start epmd on a private port: $(tail -1 "$TMP/epmd.log")"
fi

echo "# blast vs the tools people use, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) CPUs, $(uname -r)"
echo "# MQTT: mosquitto $(dpkg-query -W -f '${Version}' mosquitto 2>/dev/null) on 127.0.0.1:$MQ_PORT, QoS 1, $PAYLOAD B payloads, $CONNS connections per tool,"
echo "#   $MQTT_MESSAGES messages (Locust: as many as it manages in $LOCUST_SECS s)."
echo "# Kafka: librdkafka $(dpkg-query -W -f '${Version}' librdkafka1 2>/dev/null) mock cluster (fresh per run, 1 broker, 4 partitions), acks all, $KAFKA_MESSAGES records of $PAYLOAD B."
echo "# $ROUNDS alternating rounds; rows are medians. msg/s: the tool's own figure, or messages / wall time"
echo "#   (mosquitto_pub, kcat); cpu_s: tool user+sys incl. start-up; broker_core: broker CPU / tool wall time."
echo "# latency: what the tool reports, ms: p50/p99 (Tsung: mean/max; Locust: whole ms); wire: blast --probe p50/p99."
[ ${#PROBE[@]} = 0 ] && echo "# this blast has no --probe: the wire column is n/a."

for ROUND in $(seq "$ROUNDS"); do
	B_RATE=""
	one blast_mqtt_deep run_blast_mqtt_deep
	one blast_mqtt run_blast_mqtt
	one mosquitto_pub run_mosquitto_pub
	one locust run_locust
	one tsung run_tsung
	kill -0 "$MQ_PID" 2>/dev/null || die "mosquitto died: $(tail -3 "$TMP/mosquitto.log")"
	B_RATE=""
	for t in blast_kafka confluent_kafka kcat; do
		[ -n "${MISSING[$t]}" ] && continue
		if ! start_mock; then
			RUNS[$t.NOTE]="kafka_mock did not start"
			continue
		fi
		one "$t" "run_$t"
		stop_pid "$MOCK_PID"
	done
done
stop_pid "$MQ_PID"
[ -n "$EPMD_PID" ] && stop_pid "$EPMD_PID"

# ---- table ----

ms() {
	[ -z "$1" ] && { echo -; return; }
	awk -v u="$1" 'BEGIN { m = u / 1000; if (m >= 100) printf "%.0f", m; else if (m >= 1) printf "%.1f", m; else printf "%.3f", m }'
}

fmt_row() {
	printf '%-9s %-18s %10s %8s %10s %6s %7s  %-19s %-15s  %s\n' "$@"
}

row() {
	local broker=$1 t=$2 name=$3 n note lat wire
	note=${RUNS[$t.NOTE]:-}
	n=${RUNS[$t.N]:-0}
	if [ -n "${MISSING[$t]:-}" ] || [ "$n" = 0 ]; then
		fmt_row "$broker" "$name" - - - - - - - "${MISSING[$t]:-${note:-no run}}"
		return
	fi
	[ "$n" -lt "$ROUNDS" ] && note="$n of $ROUNDS runs good${note:+; last failure: $note}"
	case $t in
	mosquitto_pub | kcat) lat="none reported" ;;
	tsung) lat="mean $(ms "$(med "$t" L1)") max $(ms "$(med "$t" L2)")" ;;
	locust) lat="$(calc "$(med "$t" L1) / 1000") / $(calc "$(med "$t" L2) / 1000")" ;;
	*) lat="$(ms "$(med "$t" L1)") / $(ms "$(med "$t" L2)")" ;;
	esac
	wire=n/a
	if [ ${#PROBE[@]} -gt 0 ]; then
		case $t in blast_*) wire="$(ms "$(med "$t" W1)") / $(ms "$(med "$t" W2)")" ;; *) wire="-" ;; esac
	fi
	fmt_row "$broker" "$name" "$(printf '%.0f' "$(med "$t" RATE)")" "$(printf '%.3f' "$(med "$t" CPU)")" \
		"$(printf '%.0f' "$(med "$t" PERCPU)")" "$(printf '%.2f' "$(med "$t" CORE)")" \
		"$(printf '%.2f' "$(med "$t" BROKER)")" "$lat" "$wire" "$note"
}

echo
fmt_row broker tool "msg/s" cpu_s "msg/cpu_s" cores brk_core "latency ms (tool)" "wire ms" note
row mosquitto blast_mqtt "blast"
row mosquitto blast_mqtt_deep "blast inflight1024"
row mosquitto mosquitto_pub "mosquitto_pub"
row mosquitto locust "locust+paho"
row mosquitto tsung "tsung"
row kafka-mock blast_kafka "blast"
row kafka-mock confluent_kafka "confluent_kafka"
row kafka-mock kcat "kcat"

echo
echo "# blast / tool, median of the rounds' ratios (same broker, same round)"
for t in mosquitto_pub locust tsung confluent_kafka kcat; do
	l=${RATIO[$t.RATE]:-}
	if [ -z "${l// /}" ]; then
		printf '%-16s -\n' "$t"
		continue
	fi
	# shellcheck disable=SC2086 # lists on purpose
	printf '%-16s msg/s x%.1f   msg per client CPU s x%.1f\n' "$t" "$(median $l)" "$(median ${RATIO[$t.PERCPU]})"
done
