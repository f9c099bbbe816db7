#!/usr/bin/env bash
# The open-loop schedule: --rate is kept, and a broker that stalls shows in
# the corrected latency (measured from each message's due time) while the
# uncorrected figure (from the actual send) hides most of it. That gap is
# coordinated omission, and blast must not hide it. --pace-batch: a wider
# paced batch keeps the rate with fewer loop turns than messages.
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
skip_unless_cmd python3 bc
[ -x /usr/sbin/mosquitto ] || skip "/usr/sbin/mosquitto not installed"
require_blast

start_mosquitto || die "cannot start mosquitto"

# 1. A healthy broker: 2,000 msg/s for 3 s is 6,000 messages, all acked.
r=$T/steady.json
run_blast 30 --target "127.0.0.1:$MQ_PORT" --conns 4 --qos 1 --rate 2000 --duration 3s \
	--report "$r" --quiet
expect_rc 0
expect_json "$r" sent == 6000
expect_json "$r" acked == 6000
expect_json "$r" not_sent == 0
check_accounting "$r"
rate=$(json_get "$r" rate)
[ "$(echo "$rate > 1900 && $rate < 2100" | bc)" = 1 ] || fail "rate $rate, want 2000 +- 5%"

# 2. The broker frozen for 1 s mid-run (SIGSTOP): at 1,000 msg/s with a
# window of 4 x 16, the window fills in 64 ms and the rest of the second's
# messages wait in blast's backlog. Their corrected latency counts that
# wait; their uncorrected latency starts only when they could be sent.
r=$T/stall.json
"$BLAST" --target "127.0.0.1:$MQ_PORT" --conns 4 --qos 1 --inflight 16 --rate 1000 \
	--duration 4s --report "$r" --quiet >"$T/stall.out" 2>"$T/stall.err" &
bpid=$!
track "$bpid"
sleep 1.5
kill -STOP "$MQ_PID"
sleep 1
kill -CONT "$MQ_PID"
wait_until 20 eval '! kill -0 "$bpid" 2>/dev/null' || fail "blast still running 20 s later"
wait "$bpid"
rc=$?
[ "$rc" -eq 0 ] || fail "blast exited $rc after a 1 s stall, want 0 (nothing was lost)"
expect_json "$r" sent == 4000
expect_json "$r" acked == 4000
check_accounting "$r"
c99=$(json_get "$r" latency_us.p99)
c90=$(json_get "$r" latency_us.p90)
u90=$(json_get "$r" latency_uncorrected_us.p90)
cmax=$(json_get "$r" latency_us.max)
log "stall: corrected p90 ${c90} us p99 ${c99} us max ${cmax} us; uncorrected p90 ${u90} us"
# About a quarter of the messages were due during or just after the stall.
[ "$(echo "$c90 > 300000" | bc)" = 1 ] || fail "corrected p90 $c90 us hides a 1 s stall"
[ "$(echo "$cmax > 800000" | bc)" = 1 ] || fail "corrected max $cmax us, want about 1 s"
[ "$(echo "$u90 < $c90 / 10" | bc)" = 1 ] || fail "uncorrected p90 $u90 us not far below corrected $c90 us"

# 3. --pace-batch 1ms at 2,000 msg/s: a message every 500 us, so a wake
# sends two or three; the rate and the accounting hold, and the loop turns
# (its wakes) are well under one per message (one per message with the
# default 200 us). Out of range: one line, exit 2.
r=$T/batch.json
run_blast 30 --target "127.0.0.1:$MQ_PORT" --conns 4 --qos 1 --rate 2000 --duration 2s \
	--pace-batch 1ms --report "$r" --quiet
expect_rc 0
expect_json "$r" sent == 4000
expect_json "$r" acked == 4000
expect_json "$r" config.pace_batch_us == 1000
check_accounting "$r"
turns=$(json_get "$r" diagnosis.io_uring.turns)
log "pace-batch 1ms: $turns loop turns for 4000 messages"
[ "$(echo "$turns < 0.75 * 4000" | bc)" = 1 ] || fail "$turns loop turns for 4000 messages, want under 3000"
"$BLAST" --target "127.0.0.1:$MQ_PORT" --rate 100 --pace-batch 11ms >"$T/big.out" 2>"$T/big.err"
rc=$?
[ "$rc" -eq 2 ] || fail "--pace-batch 11ms exited $rc, want 2"
[ "$(wc -l <"$T/big.err")" -eq 1 ] || fail "--pace-batch 11ms: want one line, got: $(cat "$T/big.err")"
pass
