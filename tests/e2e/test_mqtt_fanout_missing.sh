#!/usr/bin/env bash
# MQTT fan-out when receipts cannot all arrive, against real mosquittos:
# 1. Subscriptions refused: mosquitto's dynamic security plugin (shipped
#    with Debian's mosquitto) with subscribe denied by default answers every
#    SUBSCRIBE with a failure code (3.1.1: 0x80; 5: 0x87 not_authorized).
#    The publishes still go through; blast counts each refusal by its code
#    (suback:failure, suback:not_authorized), names them on stderr, expects
#    every message on every subscriber, receives none: missing = expected,
#    exit status 1.
# 2. A --sub-topic that matches none of the published topics: expected 0,
#    received 0, one stderr line saying so, exit status 1.
# 3. --fanout larger than the broker can deliver: missing counted, exit 1.
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
skip_unless_cmd python3
[ -x /usr/sbin/mosquitto ] || skip "/usr/sbin/mosquitto not installed"
require_blast
dynsec=$(ls /usr/lib/*/mosquitto_dynamic_security.so 2>/dev/null | head -1)
[ -n "$dynsec" ] || die "mosquitto_dynamic_security.so not found (package mosquitto)"

M=300 S=2 K=2
N=$K # the subscribing connections: publishers do not subscribe (no --chat)

cat >"$T/dynsec.json" <<'EOF'
{"defaultACLAccess": {"publishClientSend": true, "publishClientReceive": true,
                      "subscribe": false, "unsubscribe": true},
 "clients": [], "groups": [], "roles": []}
EOF
start_mosquitto "plugin $dynsec" "plugin_opt_config_file $T/dynsec.json" ||
	die "cannot start mosquitto with dynamic security"
for v in 3.1.1 5; do
	[ "$v" = 5 ] && key=suback:not_authorized || key=suback:failure
	r=$T/refused-$v.json
	run_blast 60 --target "127.0.0.1:$MQ_PORT" --mqtt-version $v --publishers $S \
		--subscribers $K --sub-qos 1 --qos 1 --messages $M --drain-timeout 1s \
		--report "$r" --quiet
	expect_rc 1
	grep -q "refused $N subscription(s) to blast/#" "$T/blast.err" ||
		fail "mqtt $v: stderr does not name the refusals: $(cat "$T/blast.err")"
	expect_json "$r" "errors.$key" == $N
	expect_json "$r" errors_total == $N
	expect_json "$r" conns_ok == $((S + K))
	expect_json "$r" sent == $M
	expect_json "$r" acked == $M
	expect_json "$r" expected == $((M * N))
	expect_json "$r" received == 0
	expect_json "$r" missing == $((M * N))
	expect_json "$r" exit_status == 1
	check_accounting "$r"
done
stop_mosquitto

start_mosquitto || die "cannot start mosquitto"
r=$T/nomatch.json
run_blast 60 --target "127.0.0.1:$MQ_PORT" --publishers $S --subscribers $K \
	--sub-topic 'other/#' --messages $M --report "$r" --quiet
expect_rc 1
grep -q "sub-topic other/# matches none of the $M messages sent" "$T/blast.err" ||
	fail "no-match: stderr does not say so: $(cat "$T/blast.err")"
expect_json "$r" sent == $M
expect_json "$r" expected == 0
expect_json "$r" received == 0
expect_json "$r" missing == 0
expect_json "$r" errors eq '{}'
check_accounting "$r"

# Every subscriber receives every message once; asking for 2 more each
# leaves 2 x M missing.
r=$T/fanout.json
run_blast 60 --target "127.0.0.1:$MQ_PORT" --publishers $S --subscribers $K --sub-qos 1 \
	--qos 1 --fanout $((N + 2)) --messages $M --drain-timeout 1s --report "$r" --quiet
expect_rc 1
expect_json "$r" expected == $((M * (N + 2)))
expect_json "$r" received == $((M * N))
expect_json "$r" missing == $((M * 2))
expect_json "$r" duplicates == 0
check_accounting "$r"
pass
