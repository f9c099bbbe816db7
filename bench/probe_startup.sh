#!/usr/bin/env bash
# What --probe costs before the first message: blast is launched for one
# QoS 1 message on one connection to a private mosquitto, with and without
# --probe, in alternating rounds (the machine is shared and noisy), medians.
# From blast's JSON report ("startup"): the wall time from its launch to the
# start of the publishing schedule, when the first message is due, and the
# parent's system CPU until it forks the workers (where --probe loads its
# programs, creates their maps and attaches them). Beside them, the whole
# process from outside (wait4): wall, which also holds the detaching of the
# programs at the end, and system CPU of blast and its workers.
# Target: --probe's launch-to-schedule under 100 ms.
#
# Knobs (environment): REPEAT (9 rounds), BLAST (./blast), MOSQUITTO.
# Needs root for --probe.
set -u
cd "$(dirname "$0")/.." || exit 1
. bench/lib.sh

BLAST=${BLAST:-./blast}
MOSQUITTO=${MOSQUITTO:-$(command -v mosquitto || echo /usr/sbin/mosquitto)}
REPEAT=${REPEAT:-9}
TMP=$(mktemp -d /tmp/blast-bench-startup.XXXXXX)
PIDS=()
CHECKS=()
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

die() {
	echo "probe_startup.sh: $*" >&2
	exit 1
}

[ -x "$BLAST" ] || die "$BLAST not built (run make)"
[ "$(id -u)" -eq 0 ] || die "--probe needs root"
start_mosquitto

# run WITNESS: one run; prints "to_schedule setup_sys process_wall process_sys"
# in ms, or fails.
run() {
	local extra=()
	[ "$1" = probe ] && extra=(--probe)
	cpu_time "$TMP/time" timeout -k 5 30 "$BLAST" --target "127.0.0.1:$MQ_PORT" --conns 1 \
		--qos 1 --messages 1 --report "$TMP/r.json" --quiet "${extra[@]}" \
		>"$TMP/out" 2>"$TMP/err" || die "$1: blast exited $?: $(head -3 "$TMP/err")"
	[ "$(jget "$TMP/r.json" acked)" = 1 ] || die "$1: the message was not acked"
	if [ "$1" = probe ]; then
		[ "$(jget "$TMP/r.json" wire.source)" = probe ] || die "probe: no wire figures: $(head -3 "$TMP/err")"
	fi
	echo "$(jget "$TMP/r.json" startup.to_schedule_ms) $(jget "$TMP/r.json" startup.setup_sys_ms)" \
		"$(awk '{ printf "%.3f %.3f", $3 * 1e3, $2 * 1e3 }' "$TMP/time")"
}

FIGS="sched setup_sys wall sys"
declare -A L
for i in $(seq "$REPEAT"); do
	if [ $((i % 2)) -eq 1 ]; then order="none probe"; else order="probe none"; fi
	for w in $order; do
		line=$(run "$w") || exit 1
		read -r -a v <<<"$line"
		k=0
		for f in $FIGS; do
			L[$w.$f]+=" ${v[$k]}"
			k=$((k + 1))
		done
	done
done

echo "blast --conns 1 --qos 1 --messages 1 to mosquitto, $REPEAT alternating rounds, medians (ms)"
printf '%-8s %20s %16s %16s %16s\n' witness "launch->schedule" "setup sys CPU" "process wall" "process sys"
for w in none probe; do
	row=()
	for f in $FIGS; do
		# shellcheck disable=SC2086 # a list on purpose
		row+=("$(median ${L[$w.$f]})")
	done
	printf '%-8s %20.1f %16.1f %16.1f %16.1f\n' "$w" "${row[@]}"
	[ "$w" = probe ] && sched=${row[0]}
done
check "$(awk "BEGIN { print ($sched < 100) ? 1 : 0 }")" "--probe: launch to first message due under 100 ms" "${sched} ms"
printf '%s\n' "${CHECKS[@]}"
