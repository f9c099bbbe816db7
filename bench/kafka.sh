#!/usr/bin/env bash
# Kafka producer bench: blast against librdkafka's own producer
# (.output/bench/rdkafka_producer), both into librdkafka's mock cluster
# (.output/tools/kafka_mock: 1 broker, one topic with 4 partitions).
#
# Workloads (WORKLOADS, default "1 all": the acks setting of each): 100-byte
# payloads, NULL key, batch size 64 KiB, linger 5 ms, no compression,
# MESSAGES (default 2,000,000) records per run. REPEAT (default 5)
# alternating rounds of librdkafka then blast; each run gets a fresh mock
# cluster, so data the mock retains from one run never weighs on the next.
#
# Figures per run: msg/s is the client's own (records acknowledged per
# second: librdkafka from its first produce call to its last delivery
# report, blast its JSON `rate`); MB/s is payload bytes (100 B a record, no
# framing) per second, in 10^6 B; cpu_s is client user+sys (librdkafka:
# getrusage of the process, its threads included; blast: /usr/bin/time,
# its worker processes included); msg/cpu_s = acknowledged / cpu_s; cores
# = cpu_s / client wall time; mock_core = the mock process's CPU (from
# /proc/PID/stat) over the client's wall time. The mock is one process
# whose cluster thread does all broker work: near 1 core it is the
# bottleneck, and msg/s then measures the mock, not the client.
#
# Each round runs blast PROBE_PAIRS (2) times and blast --probe (the eBPF
# wire witness on lo; needs root, else that row says why) as often, in
# mirrored order (blast probe probe blast, the next round probe blast blast
# probe), so both see the same machine, and a machine that slows down
# during the round weighs on both alike: the probe ratio is the mean of
# the round's --probe rates over the mean of its plain ones. (With one run
# of each, single rounds went from 0.74 to 0.89 on a quiet machine.)
#
# Rows show each figure's median over the rounds; ratios (blast/librdkafka)
# are the median of the rounds' ratios, which noise on a shared machine
# moves least; each round's ratios and their minimum are printed too.
# Targets, per workload:
#   blast >= 2 x librdkafka's messages per client CPU second
#   blast >= librdkafka's messages/s
#   blast --probe >= 0.90 x blast's messages/s (the probe costs <= 10%)
#
# Knobs (environment): MESSAGES, REPEAT, WORKLOADS, RUN_TIMEOUT (s per run),
# BLAST_INFLIGHT (default 5), BLAST, KAFKA_MOCK, PARTITIONS (default 4),
# PROBE (1; 0 leaves the --probe runs out), PROBE_PAIRS (2).
# Needs: make (blast, .output/bench/rdkafka_producer,
# .output/tools/kafka_mock); Debian packages librdkafka-dev, python3,
# time (/usr/bin/time).
# R_* figures are read back by name (${!v}), which shellcheck cannot see.
# shellcheck disable=SC2034
set -u
cd "$(dirname "$0")/.." || exit 1
. bench/lib.sh

OUT=${OUT:-.output}
BLAST=${BLAST:-./blast}
RKP=$OUT/bench/rdkafka_producer
KAFKA_MOCK=${KAFKA_MOCK:-$OUT/tools/kafka_mock}
MESSAGES=${MESSAGES:-2000000}
REPEAT=${REPEAT:-5}
WORKLOADS=${WORKLOADS:-1 all}
RUN_TIMEOUT=${RUN_TIMEOUT:-60}
BLAST_INFLIGHT=${BLAST_INFLIGHT:-5}
PARTITIONS=${PARTITIONS:-4}
PROBE=${PROBE:-1}
PROBE_PAIRS=${PROBE_PAIRS:-2}
PAYLOAD=100
BATCH=65536
LINGER=5
TOPIC=bench
# Mock CPU share from which a run counts as mock-bound.
MOCK_BOUND=${MOCK_BOUND:-0.9}
HZ=$(getconf CLK_TCK)

TMP=$(mktemp -d /tmp/blast-kbench.XXXXXX)
PIDS=()
mkfifo "$TMP/mock.in" || exit 1
# Read-write, so opening never blocks and the mock never sees EOF.
exec 7<>"$TMP/mock.in"

trap bench_cleanup EXIT
trap 'exit 130' INT TERM

die() {
	echo "kafka.sh: $*" >&2
	exit 1
}

[ -x "$RKP" ] || die "$RKP not built (run make; Debian package librdkafka-dev)"
[ -x "$KAFKA_MOCK" ] || die "$KAFKA_MOCK not built (run make; it is tests/tools/kafka_mock.c)"
[ -x /usr/bin/time ] || die "/usr/bin/time missing (Debian package: time)"
command -v python3 >/dev/null || die "python3 missing"
case $MESSAGES in '' | *[!0-9]*) die "MESSAGES must be a number" ;; esac
case $PROBE_PAIRS in '' | *[!0-9]* | 0) die "PROBE_PAIRS must be a number > 0" ;; esac
[ "$MESSAGES" -gt 0 ] || die "MESSAGES must be > 0"

# blast_state: 1 runs blast; otherwise the note every blast row shows.
blast_state=1
[ -x "$BLAST" ] || blast_state="blast not built (make blast)"
# probe_state: 1 runs blast --probe too; otherwise why not.
probe_state=1
[ "$PROBE" = 1 ] || probe_state="PROBE=$PROBE"
[ "$probe_state" = 1 ] && [ "$(id -u)" != 0 ] && probe_state="--probe needs root"

# ---- helpers ----

# start_mock: a fresh mock cluster; sets MOCK_PID, MOCK_BOOT (HOST:PORT,...).
# Takes the bootstrap list from the `bootstrap=` line on stdout or from the
# --port-file (a bare port or HOST:PORT,...), whichever shows up first.
start_mock() {
	local i line host port
	rm -f "$TMP/mock.port"
	# kafka_mock exits on stdin EOF: its stdin is a FIFO this shell holds
	# open (fd 7) for as long as it runs.
	"$KAFKA_MOCK" --brokers 1 --topic "$TOPIC:$PARTITIONS" --port-file "$TMP/mock.port" \
		<&7 >"$TMP/mock.out" 2>"$TMP/mock.err" &
	MOCK_PID=$!
	PIDS+=("$MOCK_PID")
	MOCK_BOOT=""
	for i in $(seq 100); do
		MOCK_BOOT=$(sed -n 's/^bootstrap=//p' "$TMP/mock.out" | head -1)
		if [ -z "$MOCK_BOOT" ] && [ -s "$TMP/mock.port" ]; then
			line=$(head -1 "$TMP/mock.port" | sed 's/^bootstrap=//')
			case $line in
			*:*) MOCK_BOOT=$line ;;
			*[!0-9]* | '') ;;
			*) MOCK_BOOT=127.0.0.1:$line ;;
			esac
		fi
		if [ -n "$MOCK_BOOT" ]; then
			host=${MOCK_BOOT%%,*}
			port=${host##*:}
			host=${host%:*}
			(exec 3<>"/dev/tcp/$host/$port") 2>/dev/null && return 0
		fi
		kill -0 "$MOCK_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "kafka_mock did not start: $(tail -3 "$TMP/mock.err")" >&2
	stop_pid "$MOCK_PID"
	return 1
}

# One measured run of CLIENT (rdkafka | blast | probe: blast --probe) with acks ACKS against a
# fresh mock. Sets R_RATE (acked/s), R_MBS, R_CPU, R_PERCPU (acked per CPU
# s), R_CORES, R_MOCK (mock cores over the client's wall time), R_NOTE (""
# when the run is good). run_one CLIENT ACKS
run_one() {
	local client=$1 acks=$2 c0 c1 t0 t1 rc line acked wall extra=()
	R_RATE="" R_MBS="" R_CPU="" R_PERCPU="" R_CORES="" R_MOCK="" R_NOTE=""
	if ! start_mock; then
		R_NOTE="kafka_mock did not start"
		return
	fi
	rm -f "$TMP/blast.json" "$TMP/blast.time"
	c0=$(cpu_ticks "$MOCK_PID")
	t0=$(now)
	if [ "$client" = rdkafka ]; then
		timeout -k 5 $((RUN_TIMEOUT + 10)) "$RKP" --bootstrap "$MOCK_BOOT" --topic $TOPIC \
			--messages "$MESSAGES" --payload-size $PAYLOAD --acks "$acks" \
			--batch-size $BATCH --linger $LINGER --compression none \
			--timeout "$RUN_TIMEOUT" >"$TMP/rkp.out" 2>"$TMP/rkp.err" 7<&-
	else
		[ "$client" = probe ] && extra=(--probe)
		# /usr/bin/time: user+sys of blast and every worker it waited for.
		/usr/bin/time -f '%U %S' -o "$TMP/blast.time" \
			timeout -k 5 $((RUN_TIMEOUT + 10)) "$BLAST" --proto kafka \
			--target "${MOCK_BOOT%%,*}" --topic $TOPIC --messages "$MESSAGES" \
			--payload-size $PAYLOAD --acks "$acks" --batch-size $BATCH \
			--linger $LINGER --conns 1 --workers 1 --inflight "$BLAST_INFLIGHT" \
			--report "$TMP/blast.json" --quiet "${extra[@]}" >"$TMP/blast.out" 2>"$TMP/blast.err" 7<&-
	fi
	rc=$?
	t1=$(now)
	c1=$(cpu_ticks "$MOCK_PID")
	stop_pid "$MOCK_PID"
	wall=$(calc "$t1 - $t0")
	R_MOCK=$(calc "($c1 - $c0) / $HZ / $wall")

	if [ "$client" = rdkafka ]; then
		line=$(cat "$TMP/rkp.out")
		R_RATE=$(field "$line" rate)
		R_CPU=$(field "$line" cpu_s)
		acked=$(field "$line" delivered)
		if [ $rc -ne 0 ] || [ -z "$R_RATE" ]; then
			R_NOTE="rdkafka_producer failed (exit $rc): $(grep -v '^$' "$TMP/rkp.err" | tail -1)"
		fi
	else
		R_RATE=$(jget "$TMP/blast.json" rate)
		R_CPU=$(awk 'NF == 2 { printf "%.3f", $1 + $2 }' "$TMP/blast.time" 2>/dev/null)
		acked=$(jget "$TMP/blast.json" acked)
		if [ $rc -ne 0 ] && grep -qi 'kafka.*not supported' "$TMP/blast.err" 2>/dev/null; then
			R_NOTE="blast: kafka not supported yet"
		elif [ $rc -ne 0 ] || [ -z "$R_RATE" ]; then
			R_NOTE="blast${extra[*]:+ ${extra[*]}} failed (exit $rc): $(grep -v '^$' "$TMP/blast.err" | tail -1)"
		fi
	fi
	if [ -z "$R_NOTE" ] && [ "$acked" != "$MESSAGES" ]; then
		R_NOTE="acked $acked of $MESSAGES"
	fi
	if [ -n "$R_NOTE" ]; then
		R_RATE=""
		return
	fi
	R_MBS=$(calc "$R_RATE * $PAYLOAD / 1e6")
	R_PERCPU=$(calc "$acked / ($R_CPU > 0 ? $R_CPU : 1e-9)")
	R_CORES=$(calc "$R_CPU / $wall")
}

# Per-client figures of the good runs (bench/lib.sh runs_take).
declare -A RUNS
FIELDS="RATE MBS CPU PERCPU CORES MOCK"
runs_reset() {
	local f
	for f in $FIELDS NOTE N; do RUNS[$1.$f]=""; done
}

fmt_row() {
	printf '%-8s %-10s %11s %8s %8s %11s %6s %9s  %s\n' "$@"
}

header() {
	fmt_row acks client "msg/s" "MB/s" cpu_s "msg/cpu_s" cores mock_core note
}

# row ACKS CLIENT: medians of CLIENT's good runs, or its note.
row() {
	local n
	n=$(echo "${RUNS[$2.RATE]}" | wc -w)
	if [ "$n" = 0 ]; then
		fmt_row "$1" "$2" - - - - - - "${RUNS[$2.NOTE]:-no run}"
		return
	fi
	local note=${RUNS[$2.NOTE]}
	[ "$n" -lt "$REPEAT" ] && note="$n of $REPEAT runs good${note:+; last failure: $note}"
	fmt_row "$1" "$2" "$(printf '%.0f' "$(runs_median "$2" RATE)")" \
		"$(printf '%.1f' "$(runs_median "$2" MBS)")" \
		"$(printf '%.3f' "$(runs_median "$2" CPU)")" \
		"$(printf '%.0f' "$(runs_median "$2" PERCPU)")" \
		"$(printf '%.2f' "$(runs_median "$2" CORES)")" \
		"$(printf '%.2f' "$(runs_median "$2" MOCK)")" \
		"$note"
}

CHECKS=()
NOTES=()

# list_fmt VALUES...: "x1.23 x1.19 ..." (each round's ratio, in order).
list_fmt() {
	local v out=""
	for v in "$@"; do out+=" $(printf 'x%.3f' "$v")"; done
	echo "${out# }"
}

# min_of VALUES...
min_of() {
	printf '%s\n' "$@" | sort -g | head -1
}

# mean VALUES...
mean() {
	printf '%s\n' "$@" | awk '{ s += $1 } END { printf "%.6f", s / NR }'
}

# probe_order ROUND: the blast and blast --probe runs of a round, PROBE_PAIRS
# of each, mirrored (blast probe probe blast; the next round probe blast
# blast probe), so a machine that speeds up or slows down during the round
# weighs on both sides alike.
probe_order() {
	local k out="" a=blast b=probe
	if [ "$probe_state" != 1 ]; then
		echo blast
		return
	fi
	[ $(($1 % 2)) = 0 ] && a=probe b=blast
	for k in $(seq "$PROBE_PAIRS"); do
		if [ $((k % 2)) = 1 ]; then out+=" $a $b"; else out+=" $b $a"; fi
	done
	echo "${out# }"
}

# workload ACKS: REPEAT rounds of librdkafka then blast and blast --probe
# (which of the two first alternates), so all see the same machine at
# about the same time; then rows, ratios and checks.
workload() {
	local acks=$1 c i ref_rate ref_percpu order r_rate=() r_cpu=() r_probe=()
	local b_rates b_percpu p_rates
	local m label_cpu label_rate label_probe why
	runs_reset rdkafka
	runs_reset blast
	runs_reset probe
	for i in $(seq "$REPEAT"); do
		run_one rdkafka "$acks"
		runs_take rdkafka
		ref_rate=$R_RATE ref_percpu=$R_PERCPU
		[ "$blast_state" = 1 ] || continue
		order=$(probe_order "$i")
		b_rates=() b_percpu=() p_rates=()
		for c in $order; do
			run_one "$c" "$acks"
			runs_take "$c"
			if [ "$c" = probe ]; then
				[ -n "$R_RATE" ] && p_rates+=("$R_RATE")
				continue
			fi
			# Unsupported stays unsupported: no need to ask every round.
			[ "$R_NOTE" = "blast: kafka not supported yet" ] && blast_state=$R_NOTE
			[ "$blast_state" = 1 ] || break
			if [ -n "$R_RATE" ]; then
				b_rates+=("$R_RATE")
				b_percpu+=("$R_PERCPU")
			fi
		done
		if [ ${#b_rates[@]} -gt 0 ] && [ -n "$ref_rate" ]; then
			r_rate+=("$(calc "$(mean "${b_rates[@]}") / $ref_rate")")
			r_cpu+=("$(calc "$(mean "${b_percpu[@]}") / $ref_percpu")")
		fi
		if [ ${#b_rates[@]} -gt 0 ] && [ ${#p_rates[@]} -gt 0 ]; then
			r_probe+=("$(calc "$(mean "${p_rates[@]}") / $(mean "${b_rates[@]}")")")
		fi
	done
	row "$acks" rdkafka
	if [ "$blast_state" != 1 ] && [ -z "${RUNS[blast.RATE]// /}" ]; then
		fmt_row "$acks" blast - - - - - - "$blast_state"
	else
		row "$acks" blast
	fi
	if [ "$probe_state" != 1 ]; then
		fmt_row "$acks" "--probe" - - - - - - "$probe_state"
	else
		row "$acks" probe
	fi

	for c in rdkafka blast probe; do
		m=$(runs_median $c MOCK)
		if [ -n "$m" ] && [ "$(calc "$m >= $MOCK_BOUND")" = 1 ]; then
			NOTES+=("acks $acks: the mock used $(printf '%.2f' "$m") core while $c ran: it is the bottleneck, msg/s measures the mock")
		fi
	done

	label_cpu="acks $acks: blast >= 2 x librdkafka msg per client CPU s"
	label_rate="acks $acks: blast >= librdkafka msg/s"
	label_probe="acks $acks: blast --probe >= 0.90 x blast msg/s"
	if [ ${#r_rate[@]} -gt 0 ]; then
		PAIR_RATE=$(median "${r_rate[@]}")
		PAIR_CPU=$(median "${r_cpu[@]}")
		RATIOS+=("$(printf 'acks %-4s blast/librdkafka over %d rounds: msg/s x%.3f, msg per CPU s x%.3f (min x%.3f)' \
			"$acks" ${#r_rate[@]} "$PAIR_RATE" "$PAIR_CPU" "$(min_of "${r_cpu[@]}")")")
		RATIOS+=("          msg per CPU s by round: $(list_fmt "${r_cpu[@]}")")
		check "$(calc "$PAIR_CPU >= 2")" "$label_cpu" "$(printf 'x%.3f' "$PAIR_CPU")"
		check "$(calc "$PAIR_RATE >= 1")" "$label_rate" "$(printf 'x%.3f' "$PAIR_RATE")"
	else
		why="no pair of good runs"
		[ "$blast_state" != 1 ] && why=$blast_state
		RATIOS+=("acks $acks blast/librdkafka: - ($why)")
		check_skip "$label_cpu" "$why"
		check_skip "$label_rate" "$why"
	fi
	if [ ${#r_probe[@]} -gt 0 ]; then
		m=$(median "${r_probe[@]}")
		RATIOS+=("$(printf 'acks %-4s probe ratio (blast --probe msg/s / blast msg/s) over %d rounds: median x%.3f, min x%.3f' \
			"$acks" ${#r_probe[@]} "$m" "$(min_of "${r_probe[@]}")")")
		RATIOS+=("          by round: $(list_fmt "${r_probe[@]}")")
		check "$(calc "$m >= 0.90")" "$label_probe" "$(printf 'x%.3f' "$m")"
	else
		why="no pair of good runs"
		[ "$probe_state" != 1 ] && why=$probe_state
		RATIOS+=("acks $acks probe ratio: - ($why)")
		check_skip "$label_probe" "$why"
	fi
}

echo "# blast Kafka bench, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) CPUs, $(uname -r)"
echo "# $MESSAGES records of $PAYLOAD B, NULL key, batch $BATCH B, linger $LINGER ms, no compression;"
echo "# librdkafka $(dpkg-query -W -f '${Version} ' librdkafka1 2>/dev/null)producer (max.in.flight 1000000, queue holds all records)"
echo "# vs blast --conns 1 --workers 1 --inflight $BLAST_INFLIGHT (and the same with --probe); a fresh mock cluster ($KAFKA_MOCK, 1 broker, topic $TOPIC:$PARTITIONS) per run."
echo "# $REPEAT alternating rounds (blast and --probe $PROBE_PAIRS runs each per round, mirrored); rows are medians over the runs, ratios the median of the rounds' ratios."
echo "# msg/s: acked records/s (client's own clock); MB/s: payload 10^6 B/s; cores: client cpu_s / wall;"
echo "# mock_core: mock process CPU / client wall (~1 = the mock is the bottleneck); probe: blast --probe."
header
RATIOS=()
for acks in $WORKLOADS; do
	case $acks in
	0 | 1 | all) workload "$acks" ;;
	*) die "WORKLOADS: acks must be 0, 1 or all, not $acks" ;;
	esac
done
echo
echo "# ratios"
for r in "${RATIOS[@]}"; do
	echo "$r"
done
if [ ${#NOTES[@]} -gt 0 ]; then
	echo
	echo "# mock"
	for n in "${NOTES[@]}"; do
		echo "$n"
	done
fi
echo
echo "# targets"
printf '%s\n' "${CHECKS[@]}"
