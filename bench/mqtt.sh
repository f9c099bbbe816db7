#!/usr/bin/env bash
# MQTT benchmarks: blast against the reference sender (refsend), all on
# loopback, in one go:
#   (a) QoS 0 and QoS 1 (20-byte payloads) into bench/sink (--ack for QoS 1)
#   (b) the same into mosquitto, started here on a free port
#   (c) 10,000 idle connections held by blast: time to establish, RSS/conn
# then the targets as PASS/MISS lines. Everything started here is stopped
# here (trap on EXIT, by PID); every run is under `timeout`.
#
# Knobs (environment): SINK_MSGS (100000000), BROKER_MSGS (3000000),
# IDLE_CONNS (10000), REPEAT (5 alternating rounds, the machine is noisy),
# RUN_TIMEOUT (60 s), BLAST (./blast), OUT (.output), MOSQUITTO.
#
# Needs: make all (bench binaries), make blast for the blast rows,
# Debian packages mosquitto, python3, time (/usr/bin/time), iproute2 (ss).
set -u
cd "$(dirname "$0")/.." || exit 1
. bench/lib.sh

OUT=${OUT:-.output}
BLAST=${BLAST:-./blast}
SINK=$OUT/bench/sink
REFSEND=$OUT/bench/refsend
MOSQUITTO=${MOSQUITTO:-$(command -v mosquitto || echo /usr/sbin/mosquitto)}
SINK_MSGS=${SINK_MSGS:-100000000}
BROKER_MSGS=${BROKER_MSGS:-3000000}
IDLE_CONNS=${IDLE_CONNS:-10000}
REPEAT=${REPEAT:-5}
RUN_TIMEOUT=${RUN_TIMEOUT:-60}
PAYLOAD=20
TOPIC=bench/t
HZ=$(getconf CLK_TCK)

TMP=$(mktemp -d /tmp/blast-bench.XXXXXX)
PIDS=()

trap bench_cleanup EXIT
trap 'exit 130' INT TERM

die() {
	echo "mqtt.sh: $*" >&2
	exit 1
}

for b in "$SINK" "$REFSEND"; do
	[ -x "$b" ] || die "$b not built (run make)"
done
[ -x /usr/bin/time ] || die "/usr/bin/time missing (Debian package: time)"
command -v python3 >/dev/null || die "python3 missing"
# Sockets: 10,000 connections on each side plus listeners.
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"

have_blast=1
[ -x "$BLAST" ] || have_blast=0

# ---- helpers ----

# Measures one run of CMD... against server SPID on PORT, then sets:
#   R_WALL   seconds from launch to exit
#   R_SRV    server cores over that time
#   R_DRAIN  messages / seconds from launch until the server closed the
#            connection: the same yardstick for every client (a QoS 0
#            sender's own clock stops while megabytes still sit in socket
#            buffers)
# measure SPID PORT MSGS CMD...
measure() {
	local spid=$1 port=$2 n=$3 t0 t1 t2 c0 c1
	shift 3
	c0=$(cpu_ticks "$spid")
	t0=$(now)
	"$@"
	M_RC=$?
	t1=$(now)
	t2=$(server_drained "$port")
	c1=$(cpu_ticks "$spid")
	R_WALL=$(calc "$t1 - $t0")
	R_SRV=$(calc "($c1 - $c0) / $HZ / ($t2 - $t0)")
	R_DRAIN=$(calc "$n / ($t2 - $t0)")
}

# One measured run of either client. Sets R_* above plus R_RATE (the
# client's own figure: acked/s), R_CPU (client CPU s), R_KEY (what is
# compared: R_DRAIN at QoS 0, R_RATE at QoS 1), R_NOTE ("" when fine).
# run_refsend SERVER_PID PORT QOS MSGS
run_refsend() {
	local spid=$1 port=$2 qos=$3 n=$4 line
	measure "$spid" "$port" "$n" timeout -k 5 $((RUN_TIMEOUT + 10)) "$REFSEND" \
		--port "$port" --qos "$qos" --payload-size $PAYLOAD --messages "$n" \
		--topic $TOPIC --timeout "$RUN_TIMEOUT" >"$TMP/refsend.out" 2>"$TMP/refsend.err"
	line=$(cat "$TMP/refsend.out")
	R_RATE=$(field "$line" rate)
	R_CPU=$(field "$line" cpu_s)
	R_NOTE=""
	if [ $M_RC -ne 0 ] || [ -z "$R_RATE" ]; then
		R_NOTE="refsend failed (exit $M_RC): $(tail -1 "$TMP/refsend.err")"
	fi
	R_KEY=$R_RATE
	[ "$qos" = 0 ] && R_KEY=$R_DRAIN
}

# run_blast SERVER_PID PORT QOS MSGS
run_blast() {
	local spid=$1 port=$2 qos=$3 n=$4 acked
	rm -f "$TMP/blast.json"
	# /usr/bin/time: user+sys of blast and every worker it waited for.
	measure "$spid" "$port" "$n" /usr/bin/time -f '%U %S' -o "$TMP/blast.time" \
		timeout -k 5 $((RUN_TIMEOUT + 10)) "$BLAST" --proto mqtt \
		--target "127.0.0.1:$port" --conns 1 --workers 1 --qos "$qos" \
		--payload-size $PAYLOAD --topic $TOPIC --messages "$n" --inflight 65535 \
		--report "$TMP/blast.json" --quiet >"$TMP/blast.out" 2>"$TMP/blast.err"
	R_RATE=$(jget "$TMP/blast.json" rate)
	R_CPU=$(awk 'NF == 2 { printf "%.3f", $1 + $2 }' "$TMP/blast.time" 2>/dev/null)
	R_NOTE=""
	acked=$(jget "$TMP/blast.json" acked)
	if [ $M_RC -ne 0 ] || [ -z "$R_RATE" ]; then
		R_NOTE="blast failed (exit $M_RC): $(grep -v '^$' "$TMP/blast.err" | tail -1)"
	elif [ "$acked" != "$n" ]; then
		R_NOTE="acked $acked of $n"
	fi
	R_KEY=$R_RATE
	[ "$qos" = 0 ] && R_KEY=$R_DRAIN
}

# Best run of each tool, by R_KEY (noise only ever slows a run down).
declare -A BEST
best_reset() {
	local f
	for f in KEY RATE DRAIN CPU WALL SRV NOTE; do BEST[$1.$f]=""; done
}
# best_take TOOL: folds the run just made (R_*) into TOOL's best.
best_take() {
	local t=$1
	[ -n "$R_NOTE" ] && BEST[$t.NOTE]=$R_NOTE
	[ -z "$R_RATE" ] && return
	if [ -z "${BEST[$t.KEY]}" ] || [ "$(calc "$R_KEY > ${BEST[$t.KEY]}")" = 1 ]; then
		BEST[$t.KEY]=$R_KEY BEST[$t.RATE]=$R_RATE BEST[$t.DRAIN]=$R_DRAIN
		BEST[$t.CPU]=$R_CPU BEST[$t.WALL]=$R_WALL BEST[$t.SRV]=$R_SRV
	fi
}
# best_load TOOL: sets B_* from TOOL's best.
best_load() {
	B_KEY=${BEST[$1.KEY]} B_RATE=${BEST[$1.RATE]} B_DRAIN=${BEST[$1.DRAIN]}
	B_CPU=${BEST[$1.CPU]} B_WALL=${BEST[$1.WALL]} B_SRV=${BEST[$1.SRV]} B_NOTE=${BEST[$1.NOTE]}
}

fmt_row() {
	printf '%-16s %-8s %12s %12s %8s %8s %8s %7s  %s\n' "$@"
}

header() {
	fmt_row case client "own msg/s" "drain msg/s" cpu_s cores srv_core ratio note
}

# row CASE TOOL RATIO: prints B_* as one line.
row() {
	if [ -z "$B_RATE" ]; then
		fmt_row "$1" "$2" - - - - - - "$B_NOTE"
		return
	fi
	fmt_row "$1" "$2" "$(printf '%.0f' "$B_RATE")" "$(printf '%.0f' "$B_DRAIN")" \
		"$B_CPU" "$(printf '%.2f' "$(calc "$B_CPU / $B_WALL")")" \
		"$(printf '%.2f' "$B_SRV")" \
		"$(if [ -n "$3" ]; then printf '%.3f' "$3"; else echo -; fi)" \
		"$B_NOTE"
}

CHECKS=()

# case_pair CASE SERVER_PID PORT QOS MSGS: REPEAT rounds of refsend then
# blast, so both see the same machine at about the same time. Rows show each
# tool's best run; the ratio is the median of the rounds' blast/refsend
# ratios (PAIR_RATIO), which noise on a shared machine moves least.
# Sets PAIR_REF, PAIR_BLAST (best R_KEY), PAIR_RATIO, PAIR_BLAST_CORES.
case_pair() {
	local name=$1 spid=$2 port=$3 qos=$4 n=$5 i ref ratios=()
	PAIR_REF="" PAIR_BLAST="" PAIR_BLAST_CORES="" PAIR_RATIO=""
	best_reset refsend
	best_reset blast
	for i in $(seq "$REPEAT"); do
		run_refsend "$spid" "$port" "$qos" "$n"
		best_take refsend
		ref=""
		[ -z "$R_NOTE" ] && ref=$R_KEY
		[ $have_blast = 0 ] && continue
		run_blast "$spid" "$port" "$qos" "$n"
		best_take blast
		[ -z "$R_NOTE" ] && [ -n "$ref" ] && ratios+=("$(calc "$R_KEY / $ref")")
	done
	best_load refsend
	[ -z "$B_NOTE" ] && PAIR_REF=$B_KEY
	row "$name" refsend ""
	if [ $have_blast = 0 ]; then
		B_RATE="" B_NOTE="blast not built (make blast)"
		row "$name" blast ""
		return
	fi
	best_load blast
	[ ${#ratios[@]} -gt 0 ] && PAIR_RATIO=$(median "${ratios[@]}")
	row "$name" blast "$PAIR_RATIO"
	if [ -z "$B_NOTE" ]; then
		PAIR_BLAST=$B_KEY
		PAIR_BLAST_CORES=$(calc "$B_CPU / $B_WALL")
	fi
}

echo "# blast MQTT bench, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) CPUs, $(uname -r)"
echo "# payload $PAYLOAD B, topic $TOPIC, 1 connection, blast --workers 1 --inflight 65535;"
echo "# $REPEAT alternating rounds; rows show each tool's best, ratio is the median of the rounds' ratios. own msg/s: the client's figure (acked/s; QoS 0 counts a send as acked)."
echo "# drain msg/s: messages / (launch -> server closed the connection after DISCONNECT)."
echo "# ratio (blast / refsend) and targets use drain msg/s at QoS 0, own msg/s at QoS 1."
echo "# cores: client CPU s / client wall s; srv_core: server CPU share until drained."
header

# ---- (a) into the sink ----
start_sink sink0
S0_PID=$SINK_PID S0_PORT=$SINK_PORT
start_sink sink1 --ack
S1_PID=$SINK_PID S1_PORT=$SINK_PORT

for qos in 0 1; do
	if [ $qos = 0 ]; then pid=$S0_PID port=$S0_PORT; else pid=$S1_PID port=$S1_PORT; fi
	case_pair "sink qos$qos" "$pid" "$port" $qos "$SINK_MSGS"
	if [ -n "$PAIR_BLAST" ]; then
		check "$(calc "$PAIR_BLAST >= 25000000")" "into sink QoS $qos >= 25M msg/s, one worker" \
			"$(calc "$PAIR_BLAST / 1e6" | awk '{ printf "%.1fM msg/s", $1 }')"
	else
		check_skip "into sink QoS $qos >= 25M msg/s, one worker" "no blast figure"
	fi
done

# ---- (b) into mosquitto ----
if [ -x "$MOSQUITTO" ] && start_mosquitto; then
	for qos in 0 1; do
		case_pair "mosquitto qos$qos" "$MQ_PID" "$MQ_PORT" $qos "$BROKER_MSGS"
		label="vs mosquitto QoS $qos: >= 0.95 x refsend, <= 0.25 core"
		[ $qos = 1 ] && label="vs mosquitto QoS 1 acks, --inflight 65535: >= 0.95 x refsend, <= 0.25 core"
		if [ -n "$PAIR_RATIO" ]; then
			r=$PAIR_RATIO
			check "$(calc "$r >= 0.95 && $PAIR_BLAST_CORES <= 0.25")" "$label" \
				"$(printf '%.3f x, %.2f core' "$r" "$PAIR_BLAST_CORES")"
		else
			check_skip "$label" "no blast or refsend figure"
		fi
	done
	stop_pid "$MQ_PID"
	if [ -s "$TMP/mosquitto.log" ]; then
		echo "# mosquitto log (errors, warnings):"
		sed 's/^/#   /' "$TMP/mosquitto.log" | tail -5
	fi
else
	echo "# mosquitto rows skipped: $MOSQUITTO not runnable"
fi

# ---- (c) idle connections held by blast ----
echo
echo "# $IDLE_CONNS idle connections (blast --messages 0, no --ramp: as fast as accepted) into a 2-thread sink"
if [ $have_blast = 0 ]; then
	echo "idle conns: blast not built (make blast)"
	check_skip "$IDLE_CONNS conns in <= 3 s" "blast not built"
	check_skip "<= 4 KiB RSS per idle connection" "blast not built"
else
	start_sink sinkc --threads 2
	# Baseline with the same worker count: what blast costs with no
	# connections to speak of, so the marginal figure is per connection.
	timeout -k 5 30 "$BLAST" --proto mqtt --target "127.0.0.1:$SINK_PORT" --conns 2 \
		--workers 2 --messages 0 --duration 1s --report "$TMP/base.json" \
		--quiet >/dev/null 2>"$TMP/base.err"
	base_rss=$(jget "$TMP/base.json" rss_bytes)

	t0=$(now)
	timeout -k 5 $((RUN_TIMEOUT + 10)) "$BLAST" --proto mqtt --target "127.0.0.1:$SINK_PORT" \
		--conns "$IDLE_CONNS" --workers 2 --messages 0 --duration 5s \
		--report "$TMP/conns.json" --quiet >/dev/null 2>"$TMP/conns.err" &
	bpid=$!
	PIDS+=("$bpid")
	# Watch the server side: established TCP connections on the sink's port.
	est_s=""
	while kill -0 "$bpid" 2>/dev/null; do
		n=$(ss -Htn state established "( sport = :$SINK_PORT )" 2>/dev/null | wc -l)
		if [ "$n" -ge "$IDLE_CONNS" ]; then
			est_s=$(calc "$(now) - $t0")
			break
		fi
		sleep 0.05
	done
	wait "$bpid"
	rc=$?
	conns_ok=$(jget "$TMP/conns.json" conns_ok)
	rss=$(jget "$TMP/conns.json" rss_bytes)
	cmax=$(jget "$TMP/conns.json" connect_latency_us.max)
	cp50=$(jget "$TMP/conns.json" connect_latency_us.p50)
	if [ -z "$conns_ok" ]; then
		echo "idle conns: blast failed (exit $rc): $(grep -v '^$' "$TMP/conns.err" | tail -1)"
		check_skip "$IDLE_CONNS conns in <= 3 s" "blast failed"
		check_skip "<= 4 KiB RSS per idle connection" "blast failed"
	else
		echo "conns_ok $conns_ok of $IDLE_CONNS (exit $rc)"
		echo "all TCP-established at the sink after ${est_s:-never} s from launch (ss, 50 ms polls)"
		echo "connect latency (TCP connect -> CONNACK): p50 ${cp50} us, max ${cmax} us"
		per=$(calc "$rss / ($conns_ok > 0 ? $conns_ok : 1)")
		echo "blast RSS ${rss} B = $(printf '%.0f' "$per") B/conn overall"
		if [ -n "$base_rss" ] && [ "$conns_ok" -gt 2 ]; then
			marg=$(calc "($rss - $base_rss) / ($conns_ok - 2)")
			echo "baseline RSS (2 conns, 2 workers) ${base_rss} B: marginal $(printf '%.0f' "$marg") B/conn"
		fi
		if [ -n "$est_s" ] && [ "$conns_ok" -ge "$IDLE_CONNS" ]; then
			# The later of the two views: kernel handshake and CONNACK.
			secs=$(calc "($est_s > $cmax / 1e6) ? $est_s : $cmax / 1e6")
			check "$(calc "$secs <= 3")" "$IDLE_CONNS conns in <= 3 s" "$(printf '%.2f s' "$secs")"
		else
			check 0 "$IDLE_CONNS conns in <= 3 s" "only ${conns_ok} connected"
		fi
		check "$(calc "$per <= 4096")" "<= 4 KiB RSS per idle connection (total RSS / conns)" \
			"$(printf '%.0f B' "$per")"
	fi
	stop_pid "$SINK_PID"
fi

stop_pid "$S0_PID"
stop_pid "$S1_PID"
echo
echo "# sink totals:"
for s in sink0 sink1 sinkc; do
	[ -s "$TMP/$s.err" ] && echo "#   $s: $(tail -1 "$TMP/$s.err")"
done
echo
echo "# targets"
for c in "${CHECKS[@]}"; do
	echo "$c"
done
