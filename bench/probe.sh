#!/usr/bin/env bash
# What the second witness costs: blast's maximum messages/s with no witness,
# with --probe (eBPF programs on lo) and with --pcap (a packet capture), in
# alternating rounds of one run (the machine is shared and noisy), medians,
# the median of each round's ratio to the unwitnessed run (ratio, which the
# targets use) and the ratio of the medians (med/med). Next to each
# run's rate: the client's p50 (uncorrected: actual send -> ack) and the
# wire's p50 (request leaving -> ack arriving), whose difference is what
# the client itself adds.
#
# Cases: QoS 1 MQTT into mosquitto (one connection, --inflight 65535, 20-byte
# payloads, as bench/mqtt.sh) and Kafka acks=1 into librdkafka's mock
# cluster (100-byte records, 4 partitions, batch 64 KiB). Targets: --probe
# costs at most 10% of the rate, --pcap at most 25%. A blast without --pcap
# in its --help prints n/a in that column.
#
# Knobs (environment): REPEAT (7 rounds), SECS (3 s per run), RUN_TIMEOUT
# (60 s), CASES ("mqtt kafka"), BLAST (./blast), OUT (.output), MOSQUITTO.
# Needs root for --probe.
# "bpf ns/msg": the probe programs' own run time per acked message, from one
# more --probe run per case with kernel.bpf_stats_enabled on (restored
# after) and sampled while it runs: a view of the cost that the neighbours'
# noise cannot fake as easily. The rounds themselves run without stats: the
# stats and their sampling cost the rate several percent.
set -u
cd "$(dirname "$0")/.." || exit 1
. bench/lib.sh

OUT=${OUT:-.output}
BLAST=${BLAST:-./blast}
MOSQUITTO=${MOSQUITTO:-$(command -v mosquitto || echo /usr/sbin/mosquitto)}
KAFKA_MOCK=$OUT/tools/kafka_mock
REPEAT=${REPEAT:-7}
CASES=${CASES:-mqtt kafka}
SECS=${SECS:-3}
RUN_TIMEOUT=${RUN_TIMEOUT:-60}

TMP=$(mktemp -d /tmp/blast-bench-probe.XXXXXX)
# The capture goes to memory (tmpfs) by default, so the figure is the
# capture's own cost and not the disk's write-back (a Kafka run writes about
# 1 GB/s); PCAP_DIR=/some/disk measures the two together.
PCAP_DIR=${PCAP_DIR:-/dev/shm}
[ -d "$PCAP_DIR" ] && [ -w "$PCAP_DIR" ] || PCAP_DIR=$TMP
PIDS=()
CHECKS=()
KMOCK_FD=

bench_cleanup_extra() {
	rm -f "$PCAP_DIR/blast-bench-probe-$$.pcapng"
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

die() {
	echo "probe.sh: $*" >&2
	exit 1
}

[ -x "$BLAST" ] || die "$BLAST not built (run make)"
[ -x "$KAFKA_MOCK" ] || die "$KAFKA_MOCK not built (run make)"
command -v python3 >/dev/null || die "python3 missing"
[ "$(id -u)" -eq 0 ] || die "--probe needs root"
HAVE_PCAP=0
"$BLAST" --help 2>/dev/null | grep -q -- '--pcap' && HAVE_PCAP=1


# A private mosquitto on a free port: MQ_PORT.
MQ_PORT=$(free_port)
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 0\nuser %s\n' \
	"$MQ_PORT" "$(id -un)" >"$TMP/mosquitto.conf"
"$MOSQUITTO" -c "$TMP/mosquitto.conf" >"$TMP/mosquitto.log" 2>&1 &
PIDS+=($!)

# A mock Kafka cluster (1 broker, topic t with 4 partitions): KAFKA.
mkfifo "$TMP/kin"
"$KAFKA_MOCK" --brokers 1 --topic t:4 <"$TMP/kin" >"$TMP/kout" 2>"$TMP/kerr" &
PIDS+=($!)
exec {KMOCK_FD}>"$TMP/kin"
KAFKA=
for _ in $(seq 50); do
	KAFKA=$(sed -n '1s/^bootstrap=//p' "$TMP/kout")
	[ -n "$KAFKA" ] && break
	sleep 0.1
done
KAFKA=${KAFKA%%,*}
[ -n "$KAFKA" ] || die "kafka_mock did not start: $(cat "$TMP/kerr")"
for _ in $(seq 50); do
	(exec 3<>"/dev/tcp/127.0.0.1/$MQ_PORT") 2>/dev/null && break
	sleep 0.1
done

case_args() {
	case $1 in
	mqtt) echo "--target 127.0.0.1:$MQ_PORT --qos 1 --conns 1 --workers 1 --inflight 65535 --payload-size 20" ;;
	kafka) echo "--proto kafka --target $KAFKA --topic t --acks 1 --conns 1 --workers 1 --payload-size 100 --batch-size 65536" ;;
	esac
}

witness_args() {
	case $1 in
	none) ;;
	probe) echo "--probe" ;;
	pcap) echo "--pcap $PCAP_DIR/blast-bench-probe-$$.pcapng" ;;
	esac
}

# BPF run time of the probe's programs so far, in ns (kernel.bpf_stats_enabled).
# Plain text and awk: a sampler must not take the CPU it measures.
bpf_ns() {
	bpftool prog show 2>/dev/null | awk '/ name wp_/ { for (i = 1; i < NF; i++) if ($i == "run_time_ns") s += $(i + 1) }
		END { print s + 0 }'
}

# run CASE WITNESS ROUND [stats]: one run; prints "rate client_p50_us wire_p50_us
# bpf_ns_per_msg". With --probe, the programs' own CPU time is sampled while
# they are loaded (it includes whatever else crosses lo meanwhile).
run() {
	local r=$TMP/$1-$2-$3.json pid ns=0 last
	# shellcheck disable=SC2046
	timeout -k 5 "$RUN_TIMEOUT" "$BLAST" $(case_args "$1") $(witness_args "$2") \
		--duration "${SECS}s" --report "$r" --quiet >"$TMP/out" 2>"$TMP/err" &
	pid=$!
	if [ "$4" = stats ]; then
		while kill -0 "$pid" 2>/dev/null; do
			last=$(bpf_ns)
			[ "${last:-0}" -gt "$ns" ] && ns=$last
			sleep 0.5
		done
	fi
	wait "$pid" || echo "probe.sh: $1 $2: blast exited $?: $(head -3 "$TMP/err")" >&2
	rm -f "$PCAP_DIR/blast-bench-probe-$$.pcapng"
	local acked rate cp wp
	acked=$(jget "$r" acked)
	rate=$(jget "$r" rate)
	cp=$(jget "$r" latency_uncorrected_us.p50)
	wp=$(jget "$r" wire.latency_us.p50)
	echo "${rate:-0} ${cp:--} ${wp:--}" \
		"$([ "$4" = stats ] && [ "${acked:-0}" -gt 0 ] && calc "$ns / $acked" || echo -)"
}

WITNESSES=(none probe)
[ "$HAVE_PCAP" = 1 ] && WITNESSES+=(pcap)

STATS_WAS=$(sysctl -n kernel.bpf_stats_enabled 2>/dev/null || echo 0)
trap 'sysctl -qw kernel.bpf_stats_enabled="$STATS_WAS" 2>/dev/null; bench_cleanup' EXIT

printf '%-6s %-6s %12s %8s %8s %14s %12s %14s %12s\n' case witness "msg/s" ratio med/med "client p50 us" "wire p50 us" "client-wire us" "bpf ns/msg"
for c in $CASES; do
	declare -A RATES=() RATIOS=() CP50=() WP50=() BPFNS=()
	for ((k = 1; k <= REPEAT; k++)); do
		base=
		for w in "${WITNESSES[@]}"; do
			read -r rate cp wp _ <<<"$(run "$c" "$w" "$k" -)"
			RATES[$w]="${RATES[$w]:-} ${rate:-0}"
			[ "$cp" != - ] && CP50[$w]="${CP50[$w]:-} $cp"
			[ "$wp" != - ] && WP50[$w]="${WP50[$w]:-} $wp"
			if [ "$w" = none ]; then
				base=${rate:-0}
			elif [ -n "$base" ] && [ "$(calc "$base > 0")" = 1 ]; then
				RATIOS[$w]="${RATIOS[$w]:-} $(calc "${rate:-0} / $base")"
			fi
		done
	done
	sysctl -qw kernel.bpf_stats_enabled=1 2>/dev/null
	read -r _ _ _ bns <<<"$(run "$c" probe stats stats)"
	sysctl -qw kernel.bpf_stats_enabled="$STATS_WAS" 2>/dev/null
	[ "${bns:--}" != - ] && BPFNS[probe]=$bns
	for w in none probe pcap; do
		if [ "$w" = pcap ] && [ "$HAVE_PCAP" = 0 ]; then
			printf '%-6s %-6s %12s %8s %8s %14s %12s %14s %12s\n' "$c" "$w" n/a n/a n/a n/a n/a n/a -
			continue
		fi
		# shellcheck disable=SC2086
		rate=$(median ${RATES[$w]})
		ratio=-
		# shellcheck disable=SC2086
		[ "$w" != none ] && [ -n "${RATIOS[$w]:-}" ] && ratio=$(median ${RATIOS[$w]})
		cp=-; wp=-; diff=-
		# shellcheck disable=SC2086
		[ -n "${CP50[$w]:-}" ] && cp=$(median ${CP50[$w]})
		# shellcheck disable=SC2086
		[ -n "${WP50[$w]:-}" ] && wp=$(median ${WP50[$w]}) && diff=$(calc "$cp - $wp")
		bn=-
		# shellcheck disable=SC2086
		[ -n "${BPFNS[$w]:-}" ] && bn=$(printf '%.0f' "$(median ${BPFNS[$w]})")
		[ "$w" = none ] && base_med=$rate
		mm=-
		[ "$w" != none ] && [ "$(calc "${base_med:-0} > 0")" = 1 ] && mm=$(calc "$rate / $base_med")
		printf '%-6s %-6s %12.0f %8s %8s %14s %12s %14s %12s\n' "$c" "$w" "$rate" \
			"$([ "$ratio" = - ] && echo - || printf '%.3f' "$ratio")" \
			"$([ "$mm" = - ] && echo - || printf '%.3f' "$mm")" "$cp" "$wp" \
			"$([ "$diff" = - ] && echo - || printf '%.1f' "$diff")" "$bn"
		case $w in
		probe) [ "$ratio" != - ] && check "$(calc "$ratio >= 0.90")" "$c: --probe costs at most 10% of the rate" "ratio $(printf '%.3f' "$ratio")" ;;
		pcap) [ "$ratio" != - ] && check "$(calc "$ratio >= 0.75")" "$c: --pcap costs at most 25% of the rate" "ratio $(printf '%.3f' "$ratio")" ;;
		esac
	done
	[ "$HAVE_PCAP" = 0 ] && check_skip "$c: --pcap costs at most 25% of the rate" "blast has no --pcap"
	unset RATES RATIOS CP50 WP50 BPFNS
done
echo
printf '%s\n' "${CHECKS[@]}"
