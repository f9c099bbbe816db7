#!/usr/bin/env bash
# Self-diagnosis, broker. mosquitto is stopped (SIGSTOP) a second into the
# run and stays stopped past its end: acks stop, windows fill, the backlog
# is never sent. The client's windows are full, but the broker is why:
# whole seconds pass with messages in flight and no ack. The broker is
# continued (SIGCONT) however the test ends, before it is stopped.
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"

require_blast
start_mosquitto || die "mosquitto did not start"
trap 'rc=$?; kill -CONT "$MQ_PID" 2>/dev/null; (exit $rc); _cleanup' EXIT

"$BLAST" --target "127.0.0.1:$MQ_PORT" --qos 1 --conns 2 --rate 1000 --duration 3s \
	--drain-timeout 1500ms --report "$T/r.json" >"$T/blast.out" 2>"$T/blast.err" &
pid=$!
track "$pid"
sleep 1
kill -STOP "$MQ_PID"
wait "$pid"
kill -CONT "$MQ_PID"
tail -n 3 "$T/blast.out"
expect_json "$T/r.json" diagnosis.bottleneck eq broker
expect_json "$T/r.json" diagnosis.longest_ack_stall_s -ge 1
pass
