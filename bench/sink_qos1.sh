#!/usr/bin/env bash
# Into the acking discard sink, one connection, one blast worker: blast
# against the reference sender (refsend), alternating, REPEAT rounds, the
# medians and the median of the rounds' ratios. The focused part of
# bench/mqtt.sh (a), quicker to repeat.
#
#   QoS 1: acks/s, each client's own figure (blast: acked / publish time,
#          every ack matched by packet id and timed).
#   QoS 0: drain msg/s, messages / (launch -> the sink closed the
#          connection after DISCONNECT), the same yardstick for both.
#
# Knobs (environment): MSGS (100000000), REPEAT (3), QOS ("1 0"),
# RUN_TIMEOUT (60 s), BLAST (./blast), BLAST_BASE (another blast build,
# e.g. one of main, run in the same rounds as a third client: before and
# after in one run), OUT (.output).
#
# Needs: make all (bench/sink, bench/refsend), make blast, python3, ss.
set -u
cd "$(dirname "$0")/.." || exit 1
. bench/lib.sh

OUT=${OUT:-.output}
BLAST=${BLAST:-./blast}
BLAST_BASE=${BLAST_BASE:-}
SINK=$OUT/bench/sink
REFSEND=$OUT/bench/refsend
MSGS=${MSGS:-100000000}
REPEAT=${REPEAT:-3}
QOS=${QOS:-1 0}
RUN_TIMEOUT=${RUN_TIMEOUT:-60}
PAYLOAD=20
TOPIC=bench/t

TMP=$(mktemp -d /tmp/blast-sinkq.XXXXXX)
PIDS=()
CHECKS=()
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

die() {
	echo "sink_qos1.sh: $*" >&2
	exit 1
}

for b in "$SINK" "$REFSEND" "$BLAST" ${BLAST_BASE:+"$BLAST_BASE"}; do
	[ -x "$b" ] || die "$b not built (run make all)"
done

# run CLIENT PORT QOS: sets R_KEY (the compared figure) and R_CPU (the
# client's user + sys seconds, its workers' included), or R_NOTE.
run() {
	local client=$1 port=$2 qos=$3 t0 t2 rc acked rate
	R_KEY="" R_CPU="" R_NOTE=""
	rm -f "$TMP/r.json"
	t0=$(now)
	if [ "$client" = refsend ]; then
		cpu_time "$TMP/r.cpu" timeout -k 5 $((RUN_TIMEOUT + 10)) "$REFSEND" --port "$port" --qos "$qos" \
			--payload-size $PAYLOAD --messages "$MSGS" --topic $TOPIC \
			--timeout "$RUN_TIMEOUT" >"$TMP/r.out" 2>"$TMP/r.err"
		rc=$?
		rate=$(field "$(cat "$TMP/r.out")" rate)
		acked=$(field "$(cat "$TMP/r.out")" acked)
		# QoS 0 has no acks: refsend counts its messages sent.
		[ "$qos" = 0 ] && acked=$(field "$(cat "$TMP/r.out")" messages)
	else
		local bin=$BLAST
		[ "$client" = base ] && bin=$BLAST_BASE
		cpu_time "$TMP/r.cpu" timeout -k 5 $((RUN_TIMEOUT + 10)) "$bin" --proto mqtt --target "127.0.0.1:$port" \
			--conns 1 --workers 1 --qos "$qos" --payload-size $PAYLOAD --topic $TOPIC \
			--messages "$MSGS" --inflight 65535 --report "$TMP/r.json" --quiet \
			>"$TMP/r.out" 2>"$TMP/r.err"
		rc=$?
		rate=$(jget "$TMP/r.json" rate)
		acked=$(jget "$TMP/r.json" acked)
	fi
	t2=$(server_drained "$port")
	R_CPU=$(awk '{ printf "%.3f", $1 + $2 }' "$TMP/r.cpu" 2>/dev/null)
	if [ $rc -ne 0 ] || [ -z "$rate" ]; then
		R_NOTE="$client failed (exit $rc): $(grep -v '^$' "$TMP/r.err" | tail -1)"
	elif [ "$acked" != "$MSGS" ]; then
		R_NOTE="$client acked $acked of $MSGS"
	elif [ "$qos" = 1 ]; then
		R_KEY=$rate
	else
		R_KEY=$(calc "$MSGS / ($t2 - $t0)")
	fi
}

CLIENTS="refsend blast"
[ -n "$BLAST_BASE" ] && CLIENTS="refsend base blast"

echo "# sink bench, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) CPUs, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# $MSGS messages of $PAYLOAD B, 1 connection, blast --workers 1 --inflight 65535;"
echo "# $REPEAT alternating rounds ($CLIENTS); figures are medians, ratio the median of the rounds' ratios"
echo "# QoS 1: acks/s (client's own figure); QoS 0: messages / (launch -> sink drained)"
echo "# cpu_s: the client's user + sys seconds for the run (median): what noise moves least"
[ -n "$BLAST_BASE" ] && echo "# base: $BLAST_BASE"
printf '%-6s %-8s %14s %8s %7s  %s\n' qos client "msg/s" "x ref" cpu_s "rounds (msg/s)"

start_sink s0
S0_PORT=$SINK_PORT
start_sink s1 --ack
S1_PORT=$SINK_PORT

for qos in $QOS; do
	port=$S0_PORT
	[ "$qos" = 1 ] && port=$S1_PORT
	declare -A FIG=() RAT=() NOTE=() CPU=()
	for i in $(seq "$REPEAT"); do
		ref=""
		for cl in $CLIENTS; do
			run "$cl" "$port" "$qos"
			if [ -n "$R_NOTE" ]; then
				NOTE[$cl]=$R_NOTE
				continue
			fi
			FIG[$cl]+=" $R_KEY"
			CPU[$cl]+=" $R_CPU"
			if [ "$cl" = refsend ]; then
				ref=$R_KEY
			elif [ -n "$ref" ]; then
				RAT[$cl]+=" $(calc "$R_KEY / $ref")"
			fi
		done
	done
	for cl in $CLIENTS; do
		l=${FIG[$cl]:-}
		if [ -z "${l// /}" ]; then
			printf '%-6s %-8s %14s %8s %7s  %s\n' "$qos" "$cl" - - - "${NOTE[$cl]:-no figure}"
			continue
		fi
		# shellcheck disable=SC2086 # lists on purpose
		m=$(median $l)
		r=-
		[ -n "${RAT[$cl]:-}" ] && r=$(printf '%.3f' "$(median ${RAT[$cl]})")
		printf '%-6s %-8s %14.0f %8s %7s  %s\n' "$qos" "$cl" "$m" "$r" "$(median ${CPU[$cl]})" \
			"$(for v in $l; do printf '%.1fM ' "$(calc "$v / 1e6")"; done)${NOTE[$cl]:-}"
		[ "$cl" = blast ] && [ "$qos" = 1 ] &&
			check "$(calc "$m >= 50000000")" "QoS 1 into the sink >= 50M acks/s, one worker" \
				"$(printf '%.1fM, %s x refsend' "$(calc "$m / 1e6")" "$r")"
		[ "$cl" = blast ] && [ "$qos" = 0 ] && [ "$r" != - ] &&
			check "$(calc "$r >= 1")" "QoS 0 into the sink >= refsend" "$r x"
	done
	unset FIG RAT NOTE CPU
done

echo
echo "# targets"
printf '%s\n' "${CHECKS[@]}"
