#!/usr/bin/env bash
# What pacing costs blast and how well it keeps time: QoS 1 into a private
# mosquitto over 10 connections at 2,000 and 50,000 msg/s, with one worker
# and with the default count, in alternating rounds (the machine is shared
# and noisy), medians. From blast's JSON report: the cores its workers kept
# busy while publishing (diagnosis.cpu.cores), how late sends left against
# their schedule (diagnosis.send_late_us), the share sent a little ahead in
# a batch, and corrected against uncorrected latency (their gap is what
# late sends add). Beside them, the whole process from outside (wait4):
# user + system CPU over the wall time, connecting and teardown included.
# Targets: 50,000 msg/s at most 0.15 of a core; send lateness p99 under
# 100 us at both rates. Beside blast, in the same rounds, the reference
# paced sender (refsend --rate) at both rates: blast's and its CPU, user
# and system apart, show what of blast's cost is the kernel's per segment.
#
# Each run also gives its wakes per message: the loop's turns (each at most
# one io_uring_enter) over the messages sent, and the whole process's
# voluntary context switches over them (comparable with any binary).
# PACE_BATCHES adds one-worker runs with wider paced batches (--pace-batch),
# and BLAST_OLD one-worker runs of another build (say, main's), both in
# the same alternating rounds.
#
# Knobs (environment): REPEAT (5 rounds), DURATION (3s), BLAST (./blast),
# PACE_BATCHES ("1ms"; "" for none), BLAST_OLD (none),
# REFSEND (.output/bench/refsend), MOSQUITTO.
set -u
cd "$(dirname "$0")/.." || exit 1
. bench/lib.sh

BLAST=${BLAST:-./blast}
REFSEND=${REFSEND:-.output/bench/refsend}
MOSQUITTO=${MOSQUITTO:-$(command -v mosquitto || echo /usr/sbin/mosquitto)}
REPEAT=${REPEAT:-5}
PACE_BATCHES=${PACE_BATCHES-1ms}
BLAST_OLD=${BLAST_OLD:-}
DURATION=${DURATION:-3s}
TMP=$(mktemp -d /tmp/blast-bench-pacing.XXXXXX)
PIDS=()
CHECKS=()
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

die() {
	echo "pacing.sh: $*" >&2
	exit 1
}

[ -x "$BLAST" ] || die "$BLAST not built (run make)"
start_mosquitto

# run RATE WORKERS: one run; prints its figures in FIGS order, or fails.
# WORKERS: 1, default, old (BLAST_OLD, one worker) or 1@T (--pace-batch T).
run() {
	local extra=() r="$TMP/r.json" bin=$BLAST
	case $2 in
	default) ;;
	old) bin=$BLAST_OLD extra=(--workers 1) ;;
	1@*) extra=(--workers 1 --pace-batch "${2#1@}") ;;
	*) extra=(--workers "$2") ;;
	esac
	rm -f "$r"
	cpu_time "$TMP/time" timeout -k 5 60 "$bin" --target "127.0.0.1:$MQ_PORT" --conns 10 \
		--qos 1 --rate "$1" --duration "$DURATION" --report "$r" --quiet "${extra[@]}" \
		>"$TMP/out" 2>"$TMP/err" || die "$1 msg/s: $bin exited $?: $(head -3 "$TMP/err")"
	[ "$(jget "$r" accounting_ok)" = True ] || die "$1 msg/s: accounting does not add up"
	[ "$(jget "$r" unacked)" = 0 ] || die "$1 msg/s: $(jget "$r" unacked) unacked"
	python3 - "$r" "$TMP/time" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
csw = int(open(sys.argv[2] + ".csw").read())
d = r["diagnosis"]
user, sys_, wall = map(float, open(sys.argv[2]).read().split())
late = d["send_late_us"]
c = d["cpu"]
pub = max(c["publish_s"], 1e-9)
turns = d["io_uring"].get("turns")
sent = max(r["sent"], 1)
print("%.3f %.3f %.1f %.1f %.1f %.1f %.1f %.1f %.1f %.4f %.4f %.3f %s %.3f %.2f" % (
    c["cores"], (user + sys_) / wall, late["p50"], late["p99"],
    100.0 * d["sent_ahead"] / max(late["count"], 1),
    r["latency_us"]["p50"], r["latency_uncorrected_us"]["p50"],
    r["latency_us"]["p99"], r["latency_uncorrected_us"]["p99"],
    c["user_s"] / pub, c["sys_s"] / pub,
    1e6 * (c["user_s"] + c["sys_s"]) / max(r["acked"], 1),
    "%.3f" % (turns / sent) if turns is not None else "-", csw / sent,
    1e6 * (user + sys_) / max(r["acked"], 1)))
EOF
}

# run_ref RATE: the reference paced sender (bench/refsend.c --rate: one
# thread, one send() per message, batches like blast's) over the same 10
# connections for as long; prints its cores, user and system, while pacing.
run_ref() {
	local secs line
	secs=$(calc "${DURATION%s}")
	line=$("$REFSEND" --port "$MQ_PORT" --qos 1 --payload-size 20 --conns 10 --rate "$1" \
		--messages "$(printf '%.0f' "$(calc "$1 * $secs")")" --timeout 60 2>"$TMP/err") ||
		die "refsend --rate $1 failed: $(head -3 "$TMP/err")"
	python3 - "$line" <<'EOF'
import sys
f = dict(kv.split("=") for kv in sys.argv[1].split())
secs = float(f["seconds"])
u, s = float(f["pace_user_s"]), float(f["pace_sys_s"])
print("%.3f %.4f %.4f %.3f" % ((u + s) / secs, u / secs, s / secs,
                            1e6 * (u + s) / max(int(f["acked"]), 1)))
EOF
}

FIGS="cores proc late50 late99 ahead c50 u50 c99 u99 user sys permsg turns csw procmsg"
REF_FIGS="cores user sys permsg"
CASES="2000/1 2000/default 50000/1 50000/default"
for b in $PACE_BATCHES; do CASES+=" 2000/1@$b 50000/1@$b"; done
[ -n "$BLAST_OLD" ] && CASES+=" 2000/old 50000/old"
REF_RATES=""
[ -x "$REFSEND" ] && REF_RATES="2000 50000"
declare -A L
for i in $(seq "$REPEAT"); do
	order="$CASES"
	for r in $REF_RATES; do order+=" $r/refsend"; done
	# shellcheck disable=SC2086 # a list on purpose
	[ $((i % 2)) -eq 0 ] && order=$(printf '%s\n' $order | tac)
	for c in $order; do
		figs=$FIGS
		if [ "${c#*/}" = refsend ]; then
			line=$(run_ref "${c%/*}") || exit 1
			figs=$REF_FIGS
		else
			line=$(run "${c%/*}" "${c#*/}") || exit 1
		fi
		read -r -a v <<<"$line"
		k=0
		for f in $figs; do
			L[$c.$f]+=" ${v[$k]}"
			k=$((k + 1))
		done
	done
done

echo "blast --conns 10 --qos 1 --rate R --duration $DURATION to mosquitto, $REPEAT alternating rounds, medians"
printf '%-7s %-10s %7s %7s %9s %9s %7s %17s %17s %7s %7s %7s\n' msg/s workers cores "proc" \
	"late p50" "late p99" ahead "p50 corr/uncorr" "p99 corr/uncorr" turns csw "proc"
printf '%-7s %-10s %7s %7s %9s %9s %7s %17s %17s %7s %7s %7s\n' "" "" "" "" us us % us us /msg /msg us/msg
for c in $CASES; do
	declare -A m=()
	for f in $FIGS; do
		if [ "$f" = turns ] && [ "${c#*/}" = old ]; then
			m[$f]=- # an older build may not count its turns
			continue
		fi
		# shellcheck disable=SC2086 # a list on purpose
		m[$f]=$(median ${L[$c.$f]})
	done
	[ "${m[turns]}" = - ] || m[turns]=$(printf '%.3f' "${m[turns]}")
	printf '%-7s %-10s %7.3f %7.3f %9.1f %9.1f %7.1f %8.1f/%-8.1f %8.1f/%-8.1f %7s %7.3f %7.2f\n' \
		"${c%/*}" "${c#*/}" "${m[cores]}" "${m[proc]}" "${m[late50]}" "${m[late99]}" "${m[ahead]}" \
		"${m[c50]}" "${m[u50]}" "${m[c99]}" "${m[u99]}" "${m[turns]}" "${m[csw]}" "${m[procmsg]}"
	check "$(calc "${m[late99]} < 100 ? 1 : 0")" "${c%/*} msg/s, ${c#*/} workers: send lateness p99 under 100 us" \
		"${m[late99]} us"
	if [ "${c%/*}" = 50000 ]; then
		check "$(calc "${m[cores]} <= 0.15 ? 1 : 0")" "50000 msg/s, ${c#*/} workers: at most 0.15 of a core" \
			"${m[cores]} cores"
	fi
done
echo "cores: the workers' user + system CPU while publishing over its length; proc: the whole"
echo "process (connecting, teardown, the parent) over its wall time. turns/msg: the workers'"
echo "loop turns (each at most one io_uring_enter) per message sent; csw/msg: the process's"
echo "voluntary context switches (its sleeps, each ending in a wake) per message; proc us/msg:"
echo "the process's CPU per acked message. workers 1@T: one worker, --pace-batch T;"
echo "old: one worker of BLAST_OLD${BLAST_OLD:+ ($BLAST_OLD)}."
echo
echo "where the CPU goes (cores while publishing, user + system; CPU per acked message; medians)"
printf '%-7s %-26s %7s %7s %7s %7s\n' msg/s sender cores user system us/msg
for rate in 2000 50000; do
	bs=""
	for b in $PACE_BATCHES; do bs+=" $rate/1@$b"; done
	for c in $rate/1 $bs $rate/default $rate/old $rate/refsend; do
		[ -n "${L[$c.cores]:-}" ] || continue
		name="blast --workers ${c#*/}"
		[ "${c#*/}" = default ] && name="blast (default workers)"
		[ "${c#*/}" = old ] && name="BLAST_OLD --workers 1"
		case ${c#*/} in 1@*) name="blast -w 1 --pace-batch ${c#*/1@}" ;; esac
		[ "${c#*/}" = refsend ] && name="refsend --rate (reference)"
		# shellcheck disable=SC2086 # lists on purpose
		printf '%-7s %-26s %7.3f %7.3f %7.3f %7.2f\n' "$rate" "$name" "$(median ${L[$c.cores]})" \
			"$(median ${L[$c.user]})" "$(median ${L[$c.sys]})" "$(median ${L[$c.permsg]})"
	done
done
[ -n "$REF_RATES" ] || echo "(refsend not built: $REFSEND; make builds it)"
echo "refsend --rate: one thread, one send() per message and one recv() per connection with acks"
echo "due, batched as blast batches: what the kernel's per-segment work costs any sender."
printf '%s\n' "${CHECKS[@]}"
