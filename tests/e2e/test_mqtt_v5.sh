#!/usr/bin/env bash
# --mqtt-version 5 at QoS 1 and 2: mosquitto accepts the MQTT 5 sessions
# (its log says p5), an MQTT 5 subscriber gets every message intact, and
# the report counts them all as acknowledged.
#
# The subscriber takes QoS 1 even for QoS 2 publishes: mosquitto_sub 2.0.11
# in MQTT 5 at QoS 2 drops out with "A network protocol error occurred"
# after about 20 messages of a burst (its client library's receive-maximum
# accounting; mosquitto_pub -V mqttv5 -q 2 -l does the same to it). Between
# blast and the broker the flow stays QoS 2 (PUBREC/PUBREL/PUBCOMP), which
# is what this test is about; at QoS 1 over loopback nothing is redelivered,
# so the counts stay exact.
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
skip_unless_cmd mosquitto_sub mosquitto_pub python3
[ -x /usr/sbin/mosquitto ] || skip "/usr/sbin/mosquitto not installed"
require_blast

N=1000
CONNS=4
start_mosquitto || die "cannot start mosquitto"
# shellcheck disable=SC2034 # read by start_sub
SUB_PUB_ARGS=(-V mqttv5)

for qos in 1 2; do
	log "== mqtt 5, qos $qos"
	sub=$T/sub-$qos.txt
	start_sub "$sub" -V mqttv5 -t 'blast/#' -q 1 || die "subscriber not ready"
	r=$T/report-$qos.json
	v5_before=$(grep -c 'New client connected from .* as blast-.*(p5,' "$MQ_LOG")
	run_blast 60 --target "127.0.0.1:$MQ_PORT" --mqtt-version 5 --conns $CONNS --qos "$qos" \
		--messages $N --payload-size 32 --report "$r" --quiet
	[ "$BLAST_RC" -eq 0 ] || fail "qos $qos: blast exited $BLAST_RC: $(blast_why "$r")"
	wait_sub_count "$sub" $N "$([ "$BLAST_RC" -eq 0 ] && echo 15 || echo 3)"
	check_marked_payloads "$sub" $N $CONNS 32
	v5=$(($(grep -c 'New client connected from .* as blast-.*(p5,' "$MQ_LOG") - v5_before))
	[ "$v5" -eq $CONNS ] || fail "qos $qos: broker logged $v5 MQTT 5 logins by blast, want $CONNS"
	if [ -s "$r" ]; then
		expect_json "$r" sent == $N
		expect_json "$r" acked == $N
		expect_json "$r" failed == 0
		expect_json "$r" unacked == 0
		expect_json "$r" conns_ok == $CONNS
		expect_json "$r" conns_failed == 0
		expect_json "$r" errors eq '{}'
		expect_json "$r" latency_us.count == $N
		check_accounting "$r"
	else
		fail "qos $qos: no report written"
	fi
	stop_pid "$SUB_PID"
done
pass
