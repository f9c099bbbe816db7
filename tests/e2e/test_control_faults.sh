#!/usr/bin/env bash
# Faults around a distributed run (docs/distributed.md), on loopback with a
# control mosquitto and a target mosquitto:
# - clocks: each agent's offset is measured before GO and shown, carried
#   into the merged report; --max-clock-offset below it warns in one line;
# - versions: a registration of another blast version (its bytes written
#   here by hand, as the control protocol's table says) is refused with a
#   line and a bye, and does not count toward --agents; an agent told bye
#   says so;
# - malformed control messages (published with mosquitto_pub to the
#   agents' and the coordinator's topics) are counted, nothing crashes;
# - SIGINT at the coordinator: every agent's run drains (stop reason
#   "signal"), the merged counts add up;
# - a coordinator stopped (SIGSTOP) or killed (SIGKILL): every agent stops
#   its run within --heartbeat-timeout (by the missing heartbeat, or the
#   coordinator's Will), keeps its report locally and says where; no run is
#   left behind, the agents stay; killed before GO: the agents drop the
#   assignment;
# - a control broker that is down: one line and exit status 2 for an agent
#   and a coordinator.
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
. tests/lib/mosquitto.sh
skip_unless_cmd mosquitto_sub mosquitto_pub bc
[ -x /usr/sbin/mosquitto ] || skip "/usr/sbin/mosquitto not installed"
require_blast

start_mosquitto || die "cannot start the target mosquitto"
TARGET=$MQ_PORT
MQ_PORT='' MQ_DIR=''
start_mosquitto || die "cannot start the control mosquitto"
CTL=$MQ_PORT
URL="mqtt://127.0.0.1:$CTL"
VERSION=$("$BLAST" --version | awk '{ print $2 }')

pub() { mosquitto_pub -h 127.0.0.1 -p "$CTL" "$@" || fail "mosquitto_pub $*"; }
# Seconds since $1 (date +%s.%N), as a number bc compares.
since() { echo "$(date +%s.%N) - $1" | bc; }
# The report an agent kept, named on its stderr after $2 lines.
kept_report() { tail -n +"$2" "$T/$1.err" | sed -n 's/.*its report is kept in \(.*\)$/\1/p' | head -n 1; }
# Every agent has no child left (no run behind it) and is still there.
agents_alone() {
	local pid
	for pid in "${agents[@]}"; do
		kill -0 "$pid" 2>/dev/null || { fail "agent $pid is gone"; continue; }
		[ -z "$(pgrep -P "$pid")" ] || fail "agent $pid still has a run: $(pgrep -a -P "$pid")"
	done
}

agents=()
start_agent() {
	"$BLAST" agent --control "$URL" --name "$1" >"$T/$1.out" 2>"$T/$1.err" &
	agents+=($!)
	track "${agents[-1]}"
	wait_until 10 grep -q registered "$T/$1.err" || fail "agent $1 did not register: $(cat "$T/$1.err")"
}
start_agent a1
start_agent a2

# An agent of another version: its retained registration, byte for byte
# ("BLCP", version 1, type 1, name, blast version, cores).
printf 'BLCP\001\001\000\003old\000\015blast 0.0-old\000\000\000\001' >"$T/old.reg"
pub -r -t blast/ctl/agent/old -f "$T/old.reg"
MQ_PORT=$CTL start_sub "$T/old.out" -t blast/ctl/to/old || die "subscriber not ready"

# --agents 3: the coordinator waits for a third, and meanwhile gets garbage.
"$BLAST" --control "$URL" --agents 3 --agents-timeout 60 --target "127.0.0.1:$TARGET" --conns 3 \
	--qos 1 --rate 300 --messages 600 --topic 'flt/{conn}' --report "$T/run.json" \
	>"$T/run.out" 2>"$T/run.err" &
coord=$!
track "$coord"
wait_until 20 grep -q 'agent old runs' "$T/run.err" || fail "no refusal of old: $(cat "$T/run.err")"
printf 'BLCP\001\177' >"$T/unknown-type"
pub -t blast/ctl/agent/junk -m 'not a control message'
pub -t blast/ctl/hb/a1 -f "$T/unknown-type"
pub -t blast/ctl/from/a1 -m 'BLCP'
pub -t blast/ctl/to/a1 -m garbage
pub -t blast/ctl/to/a2 -f "$T/unknown-type"
pub -t blast/ctl/coord/junk -m 'BLCP'   # where coordinators' Wills come: every agent
wait_until 10 grep -q 'control message refused (1 so far)' "$T/a1.err" ||
	fail "a1 did not count the garbage: $(cat "$T/a1.err")"
start_agent a3
wait "$coord"
rc=$?
[ "$rc" -eq 0 ] || fail "coordinator exited $rc: $(cat "$T/run.err")"
line="blast: agent old runs blast 0.0-old, this is blast $VERSION: refused"
[ "$(grep -cxF "$line" "$T/run.err")" -eq 1 ] || fail "want once '$line': $(cat "$T/run.err")"
wait_until 5 grep -q "^blast/ctl/to/old 424c4350010800" "$T/old.out" || fail "no bye to old: $(cat "$T/old.out")"
grep '^blast/ctl/to/old' "$T/old.out" | cut -d' ' -f2 | xxd -r -p | grep -q 'refused: you run blast 0.0-old' ||
	fail "the bye to old does not say why"
for n in a1 a2 a3; do
	grep -Eq "^blast: agent $n: clock offset [+-][0-9]+\.[0-9]{2} ms \(± [0-9]+\.[0-9]{2} ms\)$" "$T/run.err" ||
		fail "no clock line for $n: $(cat "$T/run.err")"
done
grep -q 'beyond --max-clock-offset' "$T/run.err" && fail "a clock warning on one machine's clock"
grep -qx 'blast: 3 control message(s) refused as malformed' "$T/run.err" ||
	fail "coordinator's count of garbage: $(grep refused "$T/run.err")"
for n in a1 a2; do
	kill -0 "${agents[${n#a} - 1]}" 2>/dev/null || fail "agent $n died of garbage"
	grep -q 'control message refused (2 so far)' "$T/$n.err" || fail "$n counted: $(grep refused "$T/$n.err")"
done
expect_json "$T/run.json" sent == 600
expect_json "$T/run.json" merged.reports == 3
expect_json "$T/run.json" max_clock_offset_ms == 10
check_accounting "$T/run.json"
python3 - "$T/run.json" <<'EOF' || fail "agents in the report"
import json, sys
r = json.load(open(sys.argv[1]))
a = r["agents"]
assert [x["name"] for x in a] == ["a1", "a2", "a3"], a
for x in a:
    # One machine, one clock: what is measured is the exchange's asymmetry.
    assert x["clock_samples"] == 8 and abs(x["clock_offset_ms"]) < 2, x
    assert 0 <= x["clock_uncertainty_ms"] < 10 and not x["clock_beyond_max"], x
    assert not x["lost"] and x["exit_status"] == 0, x
print("offsets (ms):", ", ".join(f'{x["name"]} {x["clock_offset_ms"]:+.3f} ± {x["clock_uncertainty_ms"]:.3f}' for x in a))
EOF
pub -r -t blast/ctl/agent/old -n # the old registration cleared

# An agent told bye by a coordinator (here by hand: c9, "refused: test")
# says so; it was not c9's agent, so it stays as it was.
printf 'BLCP\001\010\000\002c9\000\015refused: test' >"$T/bye"
pub -t blast/ctl/to/a1 -f "$T/bye"
wait_until 5 grep -q 'coordinator c9 says: refused: test' "$T/a1.err" || fail "a1 on a bye: $(cat "$T/a1.err")"

# A bound below what one clock measures against itself: one line, and the report says so.
run_blast 60 --control "$URL" --agents 3 --max-clock-offset 0 --target "127.0.0.1:$TARGET" --conns 3 \
	--qos 1 --rate 300 --messages 300 --topic 'flt/{conn}' --report "$T/bound.json"
expect_rc 0
[ "$(grep -c 'beyond --max-clock-offset 0 ms' "$T/blast.err")" -eq 1 ] ||
	fail "no one-line clock warning: $(cat "$T/blast.err")"
expect_json "$T/bound.json" max_clock_offset_ms == 0
python3 -c 'import json, sys; sys.exit(not all(a["clock_beyond_max"] for a in json.load(open(sys.argv[1]))["agents"]))' \
	"$T/bound.json" || fail "the report does not mark the agents beyond the bound"
run_blast 10 --control "$URL" --agents 3 --max-clock-offset 5s --conns 3
expect_rc 2

# SIGINT at the coordinator: the agents' runs drain and report, the counts add up.
"$BLAST" --control "$URL" --agents 3 --target "127.0.0.1:$TARGET" --conns 3 --qos 1 --rate 300 \
	--duration 60s --topic 'flt/{conn}' --report "$T/int.json" >"$T/int.out" 2>"$T/int.err" &
coord=$!
track "$coord"
wait_until 20 eval '[ "$(grep -c "agents 3/3 | sent [1-9]" "$T/int.err")" -ge 2 ]' ||
	fail "the run did not start: $(cat "$T/int.err")"
kill -INT "$coord"
t_int=$(date +%s.%N)
wait "$coord"
rc=$?
secs=$(since "$t_int")
[ "$rc" -eq 0 ] || fail "interrupted coordinator exited $rc: $(cat "$T/int.err")"
[ "$(echo "$secs < 20" | bc)" = 1 ] || fail "SIGINT took $secs s to end the run"
grep -q 'interrupted: the agents stop' "$T/int.err" || fail "no interrupt line: $(cat "$T/int.err")"
expect_json "$T/int.json" stop_reason eq signal
expect_json "$T/int.json" merged.reports == 3
check_accounting "$T/int.json"
sent=$(json_get "$T/int.json" sent)
acked=$(json_get "$T/int.json" acked)
[ "$sent" -gt 0 ] && [ "$sent" -lt 18000 ] && [ "$sent" -eq "$acked" ] || fail "interrupted run: sent $sent acked $acked"
for n in a1 a2 a3; do
	grep -q 'coordinator blast-coord-[0-9]* says: stop' "$T/$n.err" || fail "$n was not told to stop"
done
agents_alone
log "SIGINT: the run ended in $secs s, sent $sent acked $acked"

# The coordinator frozen (SIGSTOP: its connection stays, no Will): each
# agent stops its run within --heartbeat-timeout and keeps its report.
# Then killed (SIGKILL): its Will ends the run at once.
for how in STOP KILL; do
	declare -A mark=()
	for n in a1 a2 a3; do mark[$n]=$(($(wc -l <"$T/$n.err") + 1)); done
	"$BLAST" --control "$URL" --agents 3 --heartbeat-timeout 2s --target "127.0.0.1:$TARGET" --conns 3 \
		--qos 1 --rate 300 --duration 60s --topic 'flt/{conn}' >"$T/$how.out" 2>"$T/$how.err" &
	coord=$!
	track "$coord"
	wait_until 20 grep -q 'agents 3/3 | sent [1-9]' "$T/$how.err" || fail "$how: no run: $(cat "$T/$how.err")"
	kill -"$how" "$coord"
	t_kill=$(date +%s.%N)
	want='no heartbeat for 2.0 s'
	[ "$how" = KILL ] && want='its Will came'
	for n in a1 a2 a3; do
		wait_until 10 eval 'tail -n +"${mark[$n]}" "$T/$n.err" | grep -q "is gone ($want): stopping run"' ||
			fail "$how: $n did not stop its run: $(tail -n +"${mark[$n]}" "$T/$n.err")"
	done
	secs=$(since "$t_kill")
	[ "$(echo "$secs < 3.5" | bc)" = 1 ] || fail "$how: the agents stopped after $secs s (timeout 2 s)"
	for n in a1 a2 a3; do
		wait_until 20 eval '[ -n "$(kept_report "$n" "${mark[$n]}")" ]' ||
			fail "$how: $n kept no report: $(tail -n +"${mark[$n]}" "$T/$n.err")"
		f=$(kept_report "$n" "${mark[$n]}")
		[ -n "$f" ] && [ -f "$f" ] || continue
		mv "$f" "$T/kept-$how-$n.json" # validated against the schema by pass
		expect_json "$T/kept-$how-$n.json" stop_reason eq signal
		check_accounting "$T/kept-$how-$n.json"
	done
	log "SIG$how: the agents stopped their runs ${secs} s after"
	agents_alone
	{ kill -KILL "$coord" && kill -CONT "$coord" && wait "$coord"; } 2>/dev/null
	unset mark
done

# A coordinator killed between its assignment and GO (it waits for a3's
# ready, a3 frozen): a1 and a2 drop the assignment on its Will and are
# free for the next run.
declare -A mark=()
for n in a1 a2; do mark[$n]=$(($(wc -l <"$T/$n.err") + 1)); done
kill -STOP "${agents[2]}"
"$BLAST" --control "$URL" --agents 3 --target "127.0.0.1:$TARGET" --conns 3 --qos 1 --rate 300 \
	--duration 5s --topic 'flt/{conn}' >"$T/prego.out" 2>"$T/prego.err" &
coord=$!
track "$coord"
wait_until 10 eval 'tail -n +"${mark[a1]}" "$T/a1.err" | grep -q assigned' || fail "pre-GO: a1 not assigned: $(cat "$T/prego.err")"
kill -KILL "$coord"
for n in a1 a2; do
	wait_until 5 eval 'tail -n +"${mark[$n]}" "$T/$n.err" | grep -q "dropped before its start: its coordinator.s Will came"' ||
		fail "pre-GO: $n kept the assignment: $(tail -n +"${mark[$n]}" "$T/$n.err")"
done
kill -CONT "${agents[2]}"
agents_alone
unset mark

# The control broker killed mid-run: the coordinator says so in one line
# and exits 3; each agent stops its run, keeps its report, and exits 3 (no
# retry: its supervisor restarts it).
declare -A mark=()
for n in a1 a2 a3; do mark[$n]=$(($(wc -l <"$T/$n.err") + 1)); done
"$BLAST" --control "$URL" --agents 3 --target "127.0.0.1:$TARGET" --conns 3 --qos 1 --rate 300 \
	--duration 60s --topic 'flt/{conn}' >"$T/gone.out" 2>"$T/gone.err" &
coord=$!
track "$coord"
wait_until 20 grep -q 'agents 3/3 | sent [1-9]' "$T/gone.err" || fail "no run: $(cat "$T/gone.err")"
kill9_mosquitto
t_kill=$(date +%s.%N)
wait "$coord"
rc=$?
[ "$rc" -eq 3 ] || fail "coordinator without its control broker exited $rc"
[ "$(grep -c "the control link to $URL broke" "$T/gone.err")" -eq 1 ] ||
	fail "coordinator without its control broker: $(cat "$T/gone.err")"
for i in 0 1 2; do
	n=a$((i + 1))
	wait "${agents[$i]}"
	rc=$?
	[ "$rc" -eq 3 ] || fail "$n without its control broker exited $rc"
	f=$(kept_report "$n" "${mark[$n]}")
	if [ -n "$f" ] && [ -f "$f" ]; then
		mv "$f" "$T/kept-gone-$n.json"
		expect_json "$T/kept-gone-$n.json" stop_reason eq signal
	else
		fail "$n kept no report: $(tail -n +"${mark[$n]}" "$T/$n.err")"
	fi
	grep -q 'control link .* is gone' "$T/$n.err" || fail "$n did not say its link is gone"
done
secs=$(since "$t_kill")
[ "$(echo "$secs < 15" | bc)" = 1 ] || fail "agents took $secs s to end without their control broker"
log "control broker killed: coordinator and agents out in $secs s"

# A control broker that is down: one line, exit status 2, no retry.
down=$(free_port)
for who in agent coordinator; do
	rc=0
	if [ "$who" = agent ]; then
		timeout 20 "$BLAST" agent --control "mqtt://127.0.0.1:$down" --name x >/dev/null 2>"$T/down.err" || rc=$?
	else
		timeout 20 "$BLAST" --control "mqtt://127.0.0.1:$down" --agents 1 --target "127.0.0.1:$TARGET" \
			--conns 1 >/dev/null 2>"$T/down.err" || rc=$?
	fi
	[ "$rc" -eq 2 ] && [ "$(wc -l <"$T/down.err")" -eq 1 ] && grep -q 'cannot connect' "$T/down.err" ||
		fail "$who with the control broker down: exit $rc, $(cat "$T/down.err")"
done
pass
