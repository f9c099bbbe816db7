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
#     median of the rounds' ratios; p99 latency and the client's CPU
#     (blast alone; agent a1 with its run, from /proc). A fixed RATE
#     (200000 msg/s) per agent at QoS 1 over CONNS (4) connections,
#     --workers 1: what three of them on this machine can all keep.
# (c) At full speed (no --rate): blast directly against the same run as
#     one agent under a coordinator (--agents 1): what coordination (the
#     agent's loop, its seconds file, the control link) takes from the
#     maximum rate, with no neighbour agent sharing the cores.
#
# Knobs (environment): AGENTS, FAKE_SECONDS, REPEAT, DURATION, RATE,
# CONNS, BLAST (./blast), OUT (.output), MOSQUITTO.
# Needs: make blast, make .output/bench/sink .output/bench/fake_agents
# (make all), mosquitto, python3. About 2.5 min.
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
if [ $rc -ne 0 ] || [ $frc -ne 0 ]; then
	die "coordinator exited $rc, fake agents $frc: $(tail -3 "$TMP/coord.err") $(tail -2 "$TMP/fake.err")"
fi
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

# --- (b), (c): one real agent alone and under a coordinator ---
AGENT_PIDS=()
for n in a1 a2 a3; do
	"$BLAST" agent --control "$CTL" --name "$n" >"$TMP/$n.out" 2>"$TMP/$n.err" &
	PIDS+=("$!")
	AGENT_PIDS+=("$!")
done
A1_PID=${AGENT_PIDS[0]}
HZ=$(getconf CLK_TCK)
# agent_cpu: a1's CPU seconds so far, its runs' (children it waited for)
# included. The coordinator picks agents by name: a1 is always share 0.
agent_cpu() {
	awk -v hz="$HZ" '{ printf "%.3f", ($14 + $15 + $16 + $17) / hz }' "/proc/$A1_PID/stat"
}
for _ in $(seq 100); do
	[ "$(cat "$TMP"/a?.err 2>/dev/null | grep -c registered)" -ge 3 ] && break
	sleep 0.1
done
[ "$(cat "$TMP"/a?.err | grep -c registered)" -ge 3 ] || die "agents did not register: $(cat "$TMP"/a?.err)"

# one KIND N FLAGS...: KIND alone (blast directly, share 0 of N) or coord
# (N agents under a coordinator, FLAGS their whole run). Sets R_RATE
# (msg/s acked per agent), R_P99 (corrected, ms), R_CPU (the client's
# user + sys seconds: blast alone, or agent a1 with its run), R_NS (that
# CPU per message it sent: a coordinated run's acked / N), or R_NOTE.
one() {
	local kind=$1 n=$2 rc f c0 rate p99 acked sent
	shift 2
	R_RATE="" R_P99="" R_CPU="" R_NS="" R_NOTE=""
	f=$TMP/$kind.json
	rm -f "$f"
	if [ "$kind" = alone ]; then
		local shard=()
		[ "$n" -gt 1 ] && shard=(--shard "0/$n")
		cpu_time "$TMP/alone.cpu" timeout 60 "$BLAST" "$@" "${shard[@]}" --quiet --report "$f" \
			>"$TMP/$kind.out" 2>&1
		rc=$?
		R_CPU=$(awk '{ printf "%.3f", $1 + $2 }' "$TMP/alone.cpu")
	else
		c0=$(agent_cpu)
		timeout 90 "$BLAST" --control "$CTL" --agents "$n" "$@" --quiet --report "$f" \
			>"$TMP/$kind.out" 2>&1
		rc=$?
		# a1 sends DONE once its run was reaped: its CPU is in.
		R_CPU=$(calc "$(agent_cpu) - $c0")
	fi
	read -r rate p99 acked sent <<<"$(jfields "$f" rate latency_us.p99 acked sent)"
	if [ $rc -ne 0 ] || [ "$rate" = - ]; then
		R_NOTE="$kind exited $rc: $(grep -v '^$' "$TMP/$kind.out" | tail -1)"
		return
	fi
	if [ "$acked" != "$sent" ]; then
		R_NOTE="$kind acked $acked of $sent"
		return
	fi
	R_RATE=$rate
	[ "$kind" = coord ] && R_RATE=$(calc "$rate / $n") # the merged run's, per agent
	R_P99=$(calc "$p99 / 1000")
	local per=$acked
	[ "$kind" = coord ] && per=$(calc "$acked / $n")
	R_NS=$(calc "$R_CPU * 1e9 / $per")
}

# compare LABEL N FLAGS...: REPEAT rounds of alone and coord, the order
# alternating; the medians, and the median of the rounds' ratios.
compare() {
	local label=$1 n=$2 i kind order l r
	shift 2
	declare -A FIG=() P99=() CPU=() NS=() got=()
	local ratios="" notes=""
	for i in $(seq "$REPEAT"); do
		order="alone coord"
		[ $((i % 2)) = 0 ] && order="coord alone"
		got=()
		for kind in $order; do
			one "$kind" "$n" "$@"
			if [ -n "$R_NOTE" ]; then
				notes+=" [$R_NOTE]"
				continue
			fi
			FIG[$kind]+=" $R_RATE"
			P99[$kind]+=" $R_P99"
			CPU[$kind]+=" $R_CPU"
			NS[$kind]+=" $R_NS"
			got[$kind]=$R_RATE
		done
		if [ -n "${got[alone]:-}" ] && [ -n "${got[coord]:-}" ]; then
			ratios+=" $(calc "${got[coord]} / ${got[alone]}")"
		fi
	done
	printf '%-34s %14s %10s %8s %10s  %s\n' "" "msg/s/agent" "p99 ms" "cpu_s" "cpu ns/msg" "rounds (msg/s)"
	for kind in alone coord; do
		l=${FIG[$kind]:-}
		if [ -z "${l// /}" ]; then
			printf '%-34s %14s %10s %8s %10s  %s\n' "$kind" - - - - "no figure"
			continue
		fi
		# shellcheck disable=SC2086 # lists on purpose
		printf '%-34s %14.0f %10.2f %8.2f %10.1f  %s\n' "$([ "$kind" = alone ] && echo alone || echo "$label")" \
			"$(median $l)" "$(median ${P99[$kind]})" "$(median ${CPU[$kind]})" "$(median ${NS[$kind]})" \
			"$(for v in $l; do printf '%.0f ' "$v"; done)"
	done
	if [ -n "${ratios// /}" ]; then
		# shellcheck disable=SC2086
		r=$(median $ratios)
		printf '%-34s %14.3f                                %s\n' "ratio ($label / alone)" "$r" \
			"$(for v in $ratios; do printf '%.3f ' "$v"; done)"
		check "$(calc "$r >= 0.97")" "$label keeps >= 0.97 of its rate alone" "$(printf '%.3f' "$r")"
	else
		check 0 "$label against alone" "no ratio"
	fi
	if [ -n "$notes" ]; then
		echo "failed runs:$notes"
	fi
}

echo
echo "# (b) one agent into the acking sink: alone (blast --shard 0/3 directly) vs one of 3 agents;"
echo "#     $RATE msg/s QoS 1 over $CONNS connections each, --workers 1, $DURATION s, $REPEAT rounds alternating"
compare "one of 3 agents" 3 --target "127.0.0.1:$SINK_PORT" --conns $((CONNS * 3)) --rate $((RATE * 3)) \
	--qos 1 --workers 1 --duration "${DURATION}s"

# A coordinator takes the first N agents it hears of: a2 and a3 leave
# (clearing their registrations), so that the one agent is a1.
stop_pid "${AGENT_PIDS[1]}"
stop_pid "${AGENT_PIDS[2]}"
echo
echo "# (c) at full speed: blast directly vs the same run as 1 agent under a coordinator;"
echo "#     no --rate, QoS 1 over $CONNS connections, --inflight 1024, --workers 1, $DURATION s, $REPEAT rounds"
compare "1 agent, coordinated" 1 --target "127.0.0.1:$SINK_PORT" --conns "$CONNS" --inflight 1024 \
	--qos 1 --workers 1 --duration "${DURATION}s"

echo
echo "# targets"
printf '%s\n' "${CHECKS[@]}"
