#!/usr/bin/env bash
# --probe's retransmissions, told apart. Two runs where we know the answer:
#
# 1. Loopback, nothing lost: mosquitto is paused (SIGSTOP) four times for
#    200 ms while blast publishes. Its kernel still receives, but with
#    nobody reading it delays its ACKs (40 ms), longer than the client's
#    probe timeout (2 RTT + 8 ms), so the client's kernel sends tail-loss
#    probes; the receiver had the data and says so (DSACK). Every
#    retransmission must be spurious, none real, and some must be probes.
#    The capture of the same run (--pcap) sees each one's DSACK: the same
#    count, all spurious.
# 2. Real loss: mosquitto in a network namespace of the test's own, the
#    host -> broker side of the veth through a tbf whose queue holds 6,000
#    bytes: 1,200-byte messages at 400/s overflow it and it drops. Real
#    retransmissions must show.
#
# Both check the total against the kernel's own count: the
# tcp:tcp_retransmit_skb events (sent, err=0) on the run's address and port
# (one per retransmitted skb: a probe is one segment, so the loopback run
# must match it exactly; over the veth an skb may carry several segments,
# which blast counts, so there it is a floor),
# taken in a tracefs instance of the test's own, there only while a run is
# (removed on any exit).
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
skip_unless_root
skip_unless_cmd python3 ip tc
[ -x /usr/sbin/mosquitto ] || skip "/usr/sbin/mosquitto not installed"
require_blast

TR=/sys/kernel/tracing
[ -d "$TR/instances" ] || mount -t tracefs tracefs "$TR" 2>/dev/null
[ -d "$TR/instances" ] || skip "no tracefs"
TI=$TR/instances/blast-retrans-$$
rm_instance() {
	[ -d "$TI" ] || return 0
	echo 0 >"$TI/events/tcp/tcp_retransmit_skb/enable"
	rmdir "$TI"
}
trap 'rc=$?; rm_instance; (exit $rc); _cleanup' EXIT

trace_on() {
	mkdir "$TI" || die "cannot make a tracefs instance"
	echo 1 >"$TI/events/tcp/tcp_retransmit_skb/enable" || die "cannot enable tcp_retransmit_skb"
}

# trace_count ADDR PORT: retransmissions the kernel sent on connections
# with that end (every namespace shows here: the address tells ours).
trace_count() {
	echo 0 >"$TI/events/tcp/tcp_retransmit_skb/enable"
	grep -E "(sport|dport)=$2 " "$TI/trace" | grep -F "addr=$1 " | grep -c 'err=0$'
	rm_instance
}

# check_split REPORT: the parts add up.
check_split() {
	python3 - "$1" "${2:-wire}" <<'EOF' || fail "$1: retransmission split: see above"
import json, sys
w = json.load(open(sys.argv[1]))[sys.argv[2]]
all_, real, spur = w["retransmits"], w["retransmits_real"], w["retransmits_spurious"]
if real + spur != all_:
    print(f"real {real} + spurious {spur} != retransmits {all_}"); sys.exit(1)
if w["retransmits_tlp"] + w["retransmits_dsack"] != spur:
    print(f"tlp + dsack != spurious {spur}: {w}"); sys.exit(1)
EOF
}

log "== loopback, nothing lost, the broker paused: probes, all spurious"
start_mosquitto || die "cannot start mosquitto"
r=$T/idle.json
trace_on
"$BLAST" --target "127.0.0.1:$MQ_PORT" --qos 1 --conns 4 --rate 200 --duration 3s --probe \
	--pcap "$T/idle.pcapng" --report "$r" --quiet >"$T/blast.out" 2>"$T/blast.err" &
BPID=$!
track "$BPID"
sleep 1
for _ in 1 2 3 4; do
	kill -STOP "$MQ_PID"
	sleep 0.2
	kill -CONT "$MQ_PID"
	sleep 0.2
done
wait "$BPID"
rc=$?
kernel=$(trace_count 127.0.0.1 "$MQ_PORT")
[ "$rc" -eq 0 ] || fail "idle: blast exited $rc: $(cat "$T/blast.err")"
grep -A1 '^wire (probe)'
log "kernel: $kernel retransmissions on port $MQ_PORT"
expect_json "$r" wire.retransmits == "$kernel"
expect_json "$r" wire.retransmits -gt 0
expect_json "$r" wire.retransmits_tlp -gt 0
expect_json "$r" wire.retransmits_real == 0
check_split "$r"
expect_json "$r" wire_pcap.retransmits == "$kernel"
expect_json "$r" wire_pcap.retransmits_dsack == "$kernel"
expect_json "$r" wire_pcap.retransmits_real == 0
check_split "$r" wire_pcap
grep -q 'retransmits real 0 spurious [1-9]' "$T/blast.out" ||
	fail "idle: the summary does not show them spurious: $(grep '^wire' "$T/blast.out")"
stop_mosquitto

log "== a lossy link (tbf dropping): real retransmissions"
start_shaped_broker_netns rtx 2000000 "max_queued_messages 0"
trap 'rc=$?; rm_instance; shaped_netns_cleanup; (exit $rc); _cleanup' EXIT
# A queue of 6,000 bytes: a burst of PUBLISHes overflows it.
tc qdisc replace dev "$VH" root tbf rate 2mbit burst 3000 limit 6000 || die "tc qdisc replace failed"
r=$T/loss.json
trace_on
run_blast 60 --target "$BROKER_IP:1883" --qos 1 --conns 10 --payload-size 1200 --rate 400 \
	--duration 4s --probe --report "$r" --quiet
kernel=$(trace_count "$BROKER_IP" 1883)
grep -A1 '^wire (probe)' "$T/blast.out"
log "kernel: $kernel retransmissions on port 1883; tbf: $(tc -s qdisc show dev "$VH" | grep -o 'dropped [0-9]*')"
[ "$BLAST_RC" -le 1 ] || fail "loss: blast exited $BLAST_RC: $(cat "$T/blast.err")"
[ "$kernel" -gt 0 ] || fail "loss: the kernel retransmitted nothing: is the tbf dropping?"
expect_json "$r" wire.retransmits -ge "$kernel"
expect_json "$r" wire.retransmits_real -gt 0
check_split "$r"
pass
