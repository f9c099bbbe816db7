#!/usr/bin/env bash
# The coordinator and its agents on loopback: a control mosquitto, a target
# mosquitto, 3 `blast agent` processes and `blast --control --agents 3`:
# - the run is split 3 ways, started at one T0, and merged exactly:
#   merged counts = the sum of the agents' = what a subscriber got from the
#   broker, the merged report says 3 reports and the coordinator's own
#   work (control messages in, merge time);
# - the MQTT chat case (--chat: every connection publishes and subscribes)
#   split 3 ways: merged receipts = publishes x receivers, missing 0;
# - --proto ws fan-out (publishers and listeners against libwebsockets'
#   mirror server) likewise;
# - --agents NAME,NAME: those agents, in that order; a name missing or
#   given twice: one line, exit status 2;
# - an agent killed mid-run (SIGKILL) is lost at once by its Will, its run
#   ends with it: the coordinator names it, merges the others and exits 1;
# - bad input: too few agents in --agents-timeout, --control without
#   --agents, a bad run flag: one line, exit status 2, no agent runs.
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
. tests/lib/mosquitto.sh
skip_unless_cmd mosquitto_sub
[ -x /usr/sbin/mosquitto ] || skip "/usr/sbin/mosquitto not installed"
[ -x /usr/bin/libwebsockets-test-server ] || skip "libwebsockets-test-server not installed"
require_blast

start_mosquitto || die "cannot start the target mosquitto"
TARGET=$MQ_PORT
target_log=$MQ_LOG
start_sub "$T/sub.out" -t 'ctl-run/#' -q 1 || die "subscriber not ready"
# The control broker: a second mosquitto.
saved=("$MQ_PORT" "$MQ_PID" "$MQ_DIR")
MQ_PORT='' MQ_DIR=''
start_mosquitto || die "cannot start the control mosquitto"
CTL=$MQ_PORT

agents=()
declare -A mark=()
for n in a1 a2 a3; do
	mkdir "$T/tmp-$n" # each agent's temporary files go to its TMPDIR
	TMPDIR="$T/tmp-$n" "$BLAST" agent --control "mqtt://127.0.0.1:$CTL" --name "$n" >"$T/$n.out" 2>"$T/$n.err" &
	agents+=($!)
	track "${agents[-1]}"
done
wait_until 10 eval 'grep -q registered "$T/a1.err" && grep -q registered "$T/a2.err" && grep -q registered "$T/a3.err"' ||
	fail "agents did not register: $(cat "$T"/a*.err)"

run_blast 60 --control "mqtt://127.0.0.1:$CTL" --agents 3 --target "127.0.0.1:$TARGET" --conns 6 \
	--qos 1 --rate 1500 --messages 3000 --topic 'ctl-run/{conn}' --client-id 'ctl-{conn}' \
	--report "$T/m.json" --csv "$T/m.csv"
expect_rc 0
[ "$BLAST_RC" -eq 0 ] || log "$(cat "$T/blast.err")"
expect_json "$T/m.json" sent == 3000
expect_json "$T/m.json" acked == 3000
expect_json "$T/m.json" merged.reports == 3
expect_json "$T/m.json" merged.shards == 3
# The coordinator's own work: 3 agents' seconds and beats came in, merged.
expect_json "$T/m.json" control.agents == 3
expect_json "$T/m.json" control.messages_in -ge 9
expect_json "$T/m.json" control.report_bytes_in -ge 3000
expect_json "$T/m.json" control.merge_seconds -ge 1
grep -q '^blast: control: 3 agents, .* KiB/s in per agent' "$T/blast.err" ||
	fail "no control line: $(tail -3 "$T/blast.err")"
check_accounting "$T/m.json"
wait_until 10 eval '[ "$(sub_count "$T/sub.out")" -ge 3000 ]'
[ "$(sub_count "$T/sub.out")" -eq 3000 ] || fail "the broker delivered $(sub_count "$T/sub.out"), not 3000"
out=$(grep -o 'New client connected from [^ ]* as ctl-[0-9]*' "$target_log" | sed 's/.* as //' | sort | tr '\n' ' ')
[ "$out" = "ctl-0 ctl-1 ctl-2 ctl-3 ctl-4 ctl-5 " ] || fail "client ids connected: $out"
grep -q 'start at' "$T/blast.err" || fail "no T0 line: $(cat "$T/blast.err")"
for n in a1 a2 a3; do # each share's connections were up before GO
	grep -q 'connected, ready in' "$T/$n.err" || fail "$n never said its share was connected: $(cat "$T/$n.err")"
done
# The live line: the agents' seconds added up as they came, every message once.
live=$(grep -o '^\[[0-9:]*\] agents 3/3 | sent [0-9]*' "$T/blast.err" | sed 's/.* sent //' | paste -sd+ | bc)
[ "${live:-0}" -eq 3000 ] || fail "the live lines sent $live in all, not 3000: $(grep agents "$T/blast.err")"

for n in a1 a2 a3; do # a finished share leaves nothing behind
	left=$(ls -A "$T/tmp-$n")
	[ -z "$left" ] || fail "$n left files in its TMPDIR: $left"
done

# The chat case through the agents: every connection of every agent
# publishes and subscribes; each agent's subscribers count every agent's
# messages, so the merged receipts are publishes x receivers (3 + 3).
run_blast 90 --control "mqtt://127.0.0.1:$CTL" --agents 3 --target "127.0.0.1:$TARGET" --chat \
	--publishers 3 --subscribers 3 --qos 1 --sub-qos 1 --rate 900 --messages 900 \
	--topic 'ctl-chat/{conn}' --sub-topic 'ctl-chat/#' --client-id 'chat-{conn}' --report "$T/chat.json"
expect_rc 0
[ "$BLAST_RC" -eq 0 ] || log "$(cat "$T/blast.err")"
check_accounting "$T/chat.json"
expect_json "$T/chat.json" sent == 900
expect_json "$T/chat.json" acked == 900
expect_json "$T/chat.json" merged.shards == 3
expect_json "$T/chat.json" config.chat eq true
expect_json "$T/chat.json" expected == 5400
expect_json "$T/chat.json" received == 5400
expect_json "$T/chat.json" missing == 0
expect_json "$T/chat.json" duplicates == 0
expect_json "$T/chat.json" e2e_latency_us.count == 5400
# The end-to-end latencies cross agents: each agent's clock offset is reported.
python3 -c '
import json, sys
a = json.load(open(sys.argv[1]))["agents"]
sys.exit(not (len(a) == 3 and all(isinstance(x["clock_offset_ms"], (int, float)) for x in a)))' \
	"$T/chat.json" || fail "chat: agents[].clock_offset_ms missing"
out=$(grep -o 'New client connected from [^ ]* as chat-[0-9]*' "$target_log" | sed 's/.* as //' | sort | tr '\n' ' ')
[ "$out" = "chat-0 chat-1 chat-2 chat-3 chat-4 chat-5 " ] || fail "chat client ids connected: $out"

# WebSocket fan-out through the agents: libwebsockets' mirror relays every
# message to every connection, so each agent's publisher and listener count
# every agent's messages: merged receipts = publishes x receivers (3 + 3).
start_lws_mirror || die "cannot start libwebsockets-test-server"
run_blast 90 --control "mqtt://127.0.0.1:$CTL" --agents 3 --proto ws \
	--target "ws://127.0.0.1:$LWS_PORT/" --ws-subprotocol lws-mirror-protocol --publishers 3 \
	--listeners 3 --messages 300 --rate 600 --payload-size 58 --report "$T/ws.json"
expect_rc 0
[ "$BLAST_RC" -eq 0 ] || log "$(cat "$T/blast.err")"
check_accounting "$T/ws.json"
expect_json "$T/ws.json" proto eq ws
expect_json "$T/ws.json" sent == 300
expect_json "$T/ws.json" merged.shards == 3
expect_json "$T/ws.json" config.publishers == 3
expect_json "$T/ws.json" config.listeners == 3
expect_json "$T/ws.json" expected == 1800
expect_json "$T/ws.json" received == 1800
expect_json "$T/ws.json" missing == 0
expect_json "$T/ws.json" duplicates == 0
expect_json "$T/ws.json" e2e_latency_us.count == 1800

# --agents NAME,NAME: those agents, share i to the i-th named; a2 idle.
for n in a1 a2 a3; do mark[$n]=$(($(wc -l <"$T/$n.err") + 1)); done
run_blast 60 --control "mqtt://127.0.0.1:$CTL" --agents a3,a1 --target "127.0.0.1:$TARGET" --conns 4 \
	--qos 1 --rate 400 --messages 400 --topic 'ctl-named/{conn}' --report "$T/named.json"
expect_rc 0
expect_json "$T/named.json" merged.reports == 2
expect_json "$T/named.json" acked == 400
grep -q 'waiting for agents a3,a1' "$T/blast.err" || fail "named: $(head -3 "$T/blast.err")"
tail -n +"${mark[a3]}" "$T/a3.err" | grep -q 'assigned, share 0/2' || fail "a3 not share 0/2: $(cat "$T/a3.err")"
tail -n +"${mark[a1]}" "$T/a1.err" | grep -q 'assigned, share 1/2' || fail "a1 not share 1/2: $(cat "$T/a1.err")"
! tail -n +"${mark[a2]}" "$T/a2.err" | grep -q assigned || fail "a2 got a share: $(cat "$T/a2.err")"
run_blast 20 --control "mqtt://127.0.0.1:$CTL" --agents a1,nobody --agents-timeout 2 \
	--target "127.0.0.1:$TARGET" --conns 4
expect_rc 2
grep -q -- '--agents a1,nobody: 1 of them registered' "$T/blast.err" || fail "named, missing: $(cat "$T/blast.err")"
for v in a1,a1 'a1,,a2' 'a/1'; do
	run_blast 20 --control "mqtt://127.0.0.1:$CTL" --agents "$v" --target "127.0.0.1:$TARGET" --conns 4
	expect_rc 2
	[ "$(wc -l <"$T/blast.err")" -eq 1 ] || fail "--agents $v: $(cat "$T/blast.err")"
done

# An agent killed mid-run (SIGKILL): lost at once by its Last Will, its
# seconds partial, the rest merged; its run ends with it (nothing left
# loading the target). A frozen agent (no Will, the heartbeat path) is in
# test_dashboard_control.sh.
"$BLAST" --control "mqtt://127.0.0.1:$CTL" --agents 3 --heartbeat-timeout 2s \
	--target "127.0.0.1:$TARGET" --conns 3 --qos 1 --rate 300 --duration 4s --topic 'ctl-run/{conn}' \
	--report "$T/lost.json" >"$T/lost.out" 2>"$T/lost.err" &
coord=$!
track "$coord"
wait_until 10 eval 'grep -q "run .* assigned" "$T/a3.err"' || fail "a3 got no run"
wait_until 10 eval 'grep -q "agents 3/3 | sent [1-9]" "$T/lost.err"' || fail "no run: $(cat "$T/lost.err")"
run3=$(pgrep -P "${agents[2]}")
kill -KILL "${agents[2]}"
t_kill=$(date +%s.%N)
wait_until 20 eval 'grep -q "agent a3 lost (its Last Will came)" "$T/lost.err"' || fail "a3 not named lost: $(cat "$T/lost.err")"
secs=$(echo "$(date +%s.%N) - $t_kill" | bc)
[ "$(echo "$secs < 2" | bc)" = 1 ] || fail "a3 named lost after $secs s (its Will)"
[ -n "$run3" ] && wait_until 5 eval '! kill -0 "$run3" 2>/dev/null' || fail "a3's run outlived it: ${run3:-none found}"
wait "$coord"
rc=$?
# What a SIGKILLed agent cannot clean up is in its TMPDIR, not in /tmp.
ls "$T/tmp-a3/blast-agent-${agents[2]}".* >/dev/null 2>&1 || fail "a3's files not in its TMPDIR: $(ls -A "$T/tmp-a3")"
! ls /tmp/blast-agent-"${agents[2]}".* >/dev/null 2>&1 || fail "a3 wrote into /tmp despite TMPDIR"
m3=$(($(wc -l <"$T/a3.err") + 1))
TMPDIR="$T/tmp-a3" "$BLAST" agent --control "mqtt://127.0.0.1:$CTL" --name a3 >>"$T/a3.err" 2>&1 &
agents[2]=$!
track "${agents[2]}"
wait_until 10 eval 'tail -n +"$m3" "$T/a3.err" | grep -q registered' || fail "a3 did not come back"
grep -q 'agents 2/3 .*(partial)' "$T/lost.err" || fail "no partial live line after a3 was lost"
[ "$rc" -eq 1 ] || fail "coordinator with a lost agent exited $rc, want 1"
expect_json "$T/lost.json" merged.reports == 2
check_accounting "$T/lost.json"

# Bad input: one line, exit status 2.
run_blast 20 --control "mqtt://127.0.0.1:$CTL" --agents 5 --agents-timeout 2 --target "127.0.0.1:$TARGET" --conns 5
expect_rc 2
grep -q 'agent(s) registered' "$T/blast.err" || fail "too few agents: $(cat "$T/blast.err")"
run_blast 20 --control "mqtt://127.0.0.1:$CTL" --conns 5
expect_rc 2
run_blast 20 --control="mqtt://127.0.0.1:$CTL" --agents=2 --conns 1 --target "127.0.0.1:$TARGET"
expect_rc 2
grep -q 'cannot be split 2 ways' "$T/blast.err" || fail "a share of nothing: $(cat "$T/blast.err")"
[ "$(wc -l <"$T/blast.err")" -eq 1 ] || fail "$(wc -l <"$T/blast.err") lines for a share of nothing"
# A share that cannot start (its target refuses): named, the others stand
# down, the run ends before GO with that share's status.
run_blast 40 --control "mqtt://127.0.0.1:$CTL" --agents 3 --target 127.0.0.1:1 --conns 3 --rate 100 --duration 2s
expect_rc 2
grep -q 'agent a[123] could not start its share (exit status 2' "$T/blast.err" || fail "target down: $(cat "$T/blast.err")"
! grep -q 'start at' "$T/blast.err" || fail "target down: GO was sent: $(cat "$T/blast.err")"
"$BLAST" agent --help >"$T/agent-help.out" 2>&1 || fail "blast agent --help exited $?"
grep -q 'usage: blast agent --control' "$T/agent-help.out" || fail "agent --help: $(cat "$T/agent-help.out")"
rc=0
"$BLAST" agent --control "mqtt://127.0.0.1:$CTL" --bogus 2>"$T/agent-bad.err" || rc=$?
[ "$rc" -eq 2 ] && [ "$(wc -l <"$T/agent-bad.err")" -eq 1 ] || fail "agent --bogus: exit $rc, $(cat "$T/agent-bad.err")"
log "$(grep agents "$T/lost.err")"
pass
