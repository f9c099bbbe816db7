#!/usr/bin/env bash
# MQTT fan-out over WebSocket across three bridged mosquittos (a star: node
# 1 bridges "topic # both 1" to nodes 2 and 3; see start_mosquitto_cluster).
# S publishers on leaf node 2 publish M QoS 1 messages in all (two bridge
# hops to node 3: 2 -> 1 -> 3); K subscribers on each of the three nodes,
# all subscribed to blast/# at QoS 1 (the publishers do not subscribe: no
# --chat). The bridges deliver each message to every node exactly once, so
# each of the 3K subscribers receives each message once: received =
# expected = M x 3K, nothing missing or duplicated.
# (--subscribers, like --listeners, is per node: the --target and each
# --listen-target.) A TCP mosquitto_sub on each node sees exactly M.
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
skip_unless_cmd mosquitto_sub mosquitto_pub python3
[ -x /usr/sbin/mosquitto ] || skip "/usr/sbin/mosquitto not installed"
require_blast

M=600 S=2 K=2 NODES=3
start_mosquitto_cluster $NODES "max_inflight_messages 100" || die "cannot start the cluster"
for i in 1 2 3; do
	MQ_PORT=${NODE_TCP[i]} start_sub "$T/tcp-sub$i.txt" -t 'blast/#' -q 1 ||
		die "subscriber on node $i not ready"
	sub_pid[i]=$SUB_PID
done

want=$((M * NODES * K))
r=$T/cluster.json
run_blast 90 --proto mqtt --transport ws --target "ws://127.0.0.1:${NODE_WS[2]}/mqtt" \
	--listen-target "ws://127.0.0.1:${NODE_WS[1]}/mqtt" --listen-target "ws://127.0.0.1:${NODE_WS[3]}/mqtt" \
	--publishers $S --subscribers $K --sub-topic 'blast/#' --sub-qos 1 \
	--qos 1 --messages $M --payload-size 64 --rate 2000 --report "$r" --quiet
[ "$BLAST_RC" -eq 0 ] || fail "blast exited $BLAST_RC: $(blast_why "$r")"
[ -s "$r" ] || die "no report"
expect_json "$r" sent == $M
expect_json "$r" acked == $M
expect_json "$r" expected == $want
expect_json "$r" received == $want
expect_json "$r" missing == 0
expect_json "$r" duplicates == 0
expect_json "$r" e2e_latency_us.count == $want
check_accounting "$r"
for i in 1 2 3; do
	wait_sub_count "$T/tcp-sub$i.txt" $M 10
	got=$(sub_count "$T/tcp-sub$i.txt")
	[ "$got" -eq $M ] || fail "TCP subscriber on node $i got $got messages, want $M"
	dups=$(sub_messages "$T/tcp-sub$i.txt" | sort | uniq -d | wc -l)
	[ "$dups" -eq 0 ] || fail "TCP subscriber on node $i got $dups messages twice"
	stop_pid "${sub_pid[i]}"
done
pass
