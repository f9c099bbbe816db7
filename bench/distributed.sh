#!/usr/bin/env bash
# What a distributed run costs: the coordinator's own work, and an
# agent's throughput under coordination (docs/bench-distributed.md).
#
# (a) A coordinator and AGENTS (100) agents simulated by bench/fake_agents
#     (one process, one control link each, the real protocol; the load is
#     not run, the seconds' histograms are drawn, the DONE reports are one
#     real report of `blast --shard 0/AGENTS` with its index set per
#     agent) for FAKE_SECONDS (10) seconds: the coordinator's merge work
#     per second (median, max; its own "control" figures, live_add and the
#     live line), its final merge of the reports, the control bytes and
#     messages it gets per agent per second, and its CPU for the run.
# (b) One real `blast agent` into the acking discard sink (bench/sink):
#     alone (blast run directly with the share an agent of three gets:
#     --shard 0/3 of 3x the connections and rate) against one of three
#     agents run by a coordinator (the merged rate / 3), alternating the
#     order, REPEAT (3) rounds of DURATION (5) s, the medians and the
#     median of the rounds' ratios. A fixed RATE (200000 msg/s) per agent
#     at QoS 1 over CONNS (4) connections, --workers 1: what three of them
#     on this machine can all keep.
#
# Knobs (environment): AGENTS, FAKE_SECONDS, REPEAT, DURATION, RATE,
# CONNS, BLAST (./blast), OUT (.output), MOSQUITTO.
# Needs: make blast, make .output/bench/sink .output/bench/fake_agents
# (make all), mosquitto, python3. About 90 s.
set -u
cd "$(dirname "$0")/.." || exit 1
. bench/lib.sh

OUT=${OUT:-.output}
BLAST=${BLAST:-./blast}
SINK=$OUT/bench/sink
FAKE=$OUT/bench/fake_agents
MOSQUITTO=${MOSQUITTO:-$(command -v mosquitto || echo /usr/sbin/mosquitto)}
AGENTS=${AGENTS:-100}
FAKE_SECONDS=${FAKE_SECONDS:-10}
REPEAT=${REPEAT:-3}
DURATION=${DURATION:-5}
RATE=${RATE:-200000}
CONNS=${CONNS:-4}

TMP=$(mktemp -d /tmp/blast-dist.XXXXXX)
PIDS=()
CHECKS=()
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

die() {
	echo "distributed.sh: $*" >&2
	exit 1
}

for b in "$SINK" "$FAKE" "$BLAST" "$MOSQUITTO"; do
	[ -x "$b" ] || die "$b not built or not installed (make all; mosquitto)"
done

# jfields FILE KEY...: the values, space-separated ("-" when absent).
jfields() {
	python3 - "$@" <<'EOF' 2>/dev/null
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except Exception:
    d = {}
out = []
for key in sys.argv[2:]:
    v = d
    for k in key.split('.'):
        v = v.get(k) if isinstance(v, dict) else None
    out.append('-' if v is None else str(v))
print(' '.join(out))
EOF
}

echo "# distributed bench, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) CPUs, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"

start_mosquitto || die "control mosquitto did not start"
CTL=mqtt://127.0.0.1:$MQ_PORT
start_sink sink --ack

# --- (a) the coordinator with AGENTS simulated agents ---
echo
echo "# (a) coordinator + $AGENTS simulated agents (bench/fake_agents), $FAKE_SECONDS s, QoS 1 flags of $AGENTS x 1000 msg/s"
# The report each fake agent sends with DONE: a real one of share 0/AGENTS.
timeout 60 "$BLAST" --target "127.0.0.1:$SINK_PORT" --conns "$AGENTS" --rate $((AGENTS * 1000)) \
	--shard "0/$AGENTS" --duration "${FAKE_SECONDS}s" --qos 1 --workers 1 --quiet \
	--report "$TMP/share0.json" >"$TMP/share0.out" 2>&1 ||
	die "the report run failed: $(tail -2 "$TMP/share0.out")"
timeout 120 "$FAKE" --control "$CTL" --agents "$AGENTS" --report "$TMP/share0.json" \
	--seconds "$FAKE_SECONDS" >"$TMP/fake.out" 2>"$TMP/fake.err" &
FAKE_PID=$!
PIDS+=("$FAKE_PID")
for _ in $(seq 300); do
	grep -q registered "$TMP/fake.err" && break
	kill -0 "$FAKE_PID" 2>/dev/null || break
	sleep 0.1
done
grep -q registered "$TMP/fake.err" || die "fake agents did not register: $(cat "$TMP/fake.err")"
cpu_time "$TMP/coord.cpu" timeout 120 "$BLAST" --control "$CTL" --agents "$AGENTS" \
	--target "127.0.0.1:$SINK_PORT" --conns "$AGENTS" --rate $((AGENTS * 1000)) \
	--duration "${FAKE_SECONDS}s" --qos 1 --report "$TMP/coord.json" >"$TMP/coord.out" 2>"$TMP/coord.err"
rc=$?
wait "$FAKE_PID"
frc=$?
keep=()
for p in "${PIDS[@]}"; do
	[ "$p" = "$FAKE_PID" ] || keep+=("$p")
done
PIDS=("${keep[@]}")
[ $rc -eq 0 ] && [ $frc -eq 0 ] ||
	die "coordinator exited $rc, fake agents $frc: $(tail -3 "$TMP/coord.err") $(tail -2 "$TMP/fake.err")"
read -r med max mean secs fin bps bpsr rep mps run_s reports <<<"$(jfields "$TMP/coord.json" \
	control.merge_us_median control.merge_us_max control.merge_us_mean control.merge_seconds \
	control.final_merge_ms control.bytes_in_per_agent_s control.bytes_in_per_agent_s_without_reports \
	control.report_bytes_in control.messages_in_per_agent_s control.run_s merged.reports)"
[ "$reports" = "$AGENTS" ] || die "the coordinator merged $reports reports, not $AGENTS"
cpu=$(awk '{ printf "%.3f", $1 + $2 }' "$TMP/coord.cpu")
printf '%-44s %s\n' "merge work per second (median, mean, max)" \
	"$(printf '%.0f us, %.0f us, %.0f us over %s s' "$med" "$mean" "$max" "$secs")"
printf '%-44s %s\n' "per agent second added" "$(printf '%.1f us' "$(calc "$med / $AGENTS")")"
printf '%-44s %s\n' "final merge of the $AGENTS reports" "$(printf '%.1f ms (%.1f KiB each)' "$fin" \
	"$(calc "$rep / $AGENTS / 1024")")"
printf '%-44s %s\n' "control in per agent per second" "$(printf '%.0f B (%.0f B without the reports), %.1f messages' \
	"$bps" "$bpsr" "$mps")"
printf '%-44s %s\n' "coordinator CPU (user+sys), all its work" "$(printf '%.3f s in %.1f s: %.2f%% of a core' \
	"$cpu" "$run_s" "$(calc "$cpu / $run_s * 100")")"
check "$(calc "$max < 100000")" "the coordinator keeps up with $AGENTS agents: merge < 0.1 s in every second" \
	"$(printf 'max %.1f ms' "$(calc "$max / 1000")")"

# --- (b) one real agent alone and as one of three ---
echo
echo "# (b) one agent into the acking sink: alone (blast --shard 0/3 directly) vs one of 3 agents;"
echo "#     $RATE msg/s QoS 1 over $CONNS connections each, --workers 1, $DURATION s, $REPEAT rounds alternating"
for n in a1 a2 a3; do
	"$BLAST" agent --control "$CTL" --name "$n" >"$TMP/$n.out" 2>"$TMP/$n.err" &
	PIDS+=("$!")
done
for _ in $(seq 100); do
	[ "$(cat "$TMP"/a?.err 2>/dev/null | grep -c registered)" -ge 3 ] && break
	sleep 0.1
done
[ "$(cat "$TMP"/a?.err | grep -c registered)" -ge 3 ] || die "agents did not register: $(cat "$TMP"/a?.err)"
RUN=(--target "127.0.0.1:$SINK_PORT" --conns $((CONNS * 3)) --rate $((RATE * 3)) --qos 1 --workers 1
	--duration "${DURATION}s")

# one KIND: R_RATE (msg/s acked per agent), R_P99 (corrected, ms), or R_NOTE.
one() {
	local rc f
	R_RATE="" R_P99="" R_NOTE=""
	f=$TMP/$1.json
	rm -f "$f"
	if [ "$1" = alone ]; then
		timeout 60 "$BLAST" "${RUN[@]}" --shard 0/3 --quiet --report "$f" >"$TMP/$1.out" 2>&1
	else
		timeout 90 "$BLAST" --control "$CTL" --agents 3 "${RUN[@]}" --quiet --report "$f" \
			>"$TMP/$1.out" 2>&1
	fi
	rc=$?
	read -r rate p99 acked sent <<<"$(jfields "$f" rate latency_us.p99 acked sent)"
	if [ $rc -ne 0 ] || [ "$rate" = - ]; then
		R_NOTE="$1 exited $rc: $(grep -v '^$' "$TMP/$1.out" | tail -1)"
		return
	fi
	[ "$1" = trio ] && rate=$(calc "$rate / 3")
	R_RATE=$rate
	R_P99=$(calc "$p99 / 1000")
}

declare -A FIG=() P99=()
RATIOS=""
NOTES=""
for i in $(seq "$REPEAT"); do
	order="alone trio"
	[ $((i % 2)) = 0 ] && order="trio alone"
	unset got
	declare -A got=()
	for kind in $order; do
		one "$kind"
		if [ -n "$R_NOTE" ]; then
			NOTES+=" [$R_NOTE]"
			continue
		fi
		FIG[$kind]+=" $R_RATE"
		P99[$kind]+=" $R_P99"
		got[$kind]=$R_RATE
	done
	[ -n "${got[alone]:-}" ] && [ -n "${got[trio]:-}" ] &&
		RATIOS+=" $(calc "${got[trio]} / ${got[alone]}")"
done
printf '%-24s %14s %10s  %s\n' "" "msg/s/agent" "p99 ms" "rounds (msg/s)"
for kind in alone trio; do
	l=${FIG[$kind]:-}
	if [ -z "${l// /}" ]; then
		printf '%-24s %14s %10s  %s\n' "$kind" - - "no figure"
		continue
	fi
	label="alone"
	[ "$kind" = trio ] && label="one of 3 agents"
	# shellcheck disable=SC2086 # lists on purpose
	printf '%-24s %14.0f %10.2f  %s\n' "$label" "$(median $l)" "$(median ${P99[$kind]})" \
		"$(for v in $l; do printf '%.0f ' "$v"; done)"
done
if [ -n "${RATIOS// /}" ]; then
	# shellcheck disable=SC2086
	r=$(median $RATIOS)
	printf '%-24s %14.3f            %s\n' "ratio (one of 3 / alone)" "$r" "$(for v in $RATIOS; do printf '%.3f ' "$v"; done)"
	check "$(calc "$r >= 0.97")" "one of 3 agents keeps >= 0.97 of its rate alone" "$(printf '%.3f' "$r")"
fi
[ -n "$NOTES" ] && echo "failed runs:$NOTES"

echo
echo "# targets"
printf '%s\n' "${CHECKS[@]}"
