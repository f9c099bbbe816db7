#!/usr/bin/env bash
# Receipts are timed by the kernel, so the loop's batched waits (qos 0
# runs: up to 1 ms with --rx-stamps read, see worker.c BATCH_NS; 10 ms with
# segment stamps) add nothing to the latencies. A sparse paced run (one
# message every 5 ms) makes the loop sleep its whole batched wait after
# each send while the relays arrive within tens of microseconds: timed by
# the loop, every receipt would take about a millisecond; timed by the
# stamp, the end-to-end p50 is the loopback round trip through the relay.
# Checked on libwebsockets' mirror (--proto ws) and on mosquitto (MQTT
# fan-out subscribers), with every receipt accounted for, in both modes
# (segment where root can load the filter).
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
skip_unless_cmd python3
skip_unless_cmd mosquitto
[ -x /usr/bin/libwebsockets-test-server ] || skip "libwebsockets-test-server not installed"
require_blast

M=300
# Far below the 1 ms a loop-timed receipt would show, far above a loopback
# relay on a busy machine (about 50 us).
P50_MAX_US=400

MODES=(read)
[ "$(id -u)" -eq 0 ] && MODES+=(segment)

start_lws_mirror || die "cannot start libwebsockets-test-server"
start_mosquitto || die "cannot start mosquitto"
for mode in "${MODES[@]}"; do
	r=$T/ws-$mode.json
	run_blast 60 --proto ws --target "ws://127.0.0.1:$LWS_PORT/" --ws-subprotocol lws-mirror-protocol \
		--publishers 1 --listeners 1 --messages $M --payload-size 58 --rate 200 --workers 1 \
		--rx-stamps "$mode" --report "$r" --quiet
	[ "$BLAST_RC" -eq 0 ] || fail "ws $mode: blast exited $BLAST_RC: $(blast_why "$r")"
	expect_json "$r" received == $((2 * M))
	expect_json "$r" e2e_latency_us.count == $((2 * M))
	expect_json "$r" rx_timed_by.$mode == $((2 * M))
	check_accounting "$r"
	expect_between "$r" e2e_latency_us.p50 $P50_MAX_US "ws mirror, $mode stamps"

	r=$T/mqtt-$mode.json
	run_blast 60 --target "127.0.0.1:$MQ_PORT" --publishers 1 --subscribers 1 --sub-topic 'blast/#' \
		--messages $M --payload-size 48 --rate 200 --workers 1 --rx-stamps "$mode" \
		--report "$r" --quiet
	[ "$BLAST_RC" -eq 0 ] || fail "mqtt $mode: blast exited $BLAST_RC: $(blast_why "$r")"
	expect_json "$r" received == $M
	expect_json "$r" e2e_latency_us.count == $M
	expect_json "$r" rx_timed_by.$mode == $M
	check_accounting "$r"
	expect_between "$r" e2e_latency_us.p50 $P50_MAX_US "mqtt fan-out, $mode stamps"
done
pass
