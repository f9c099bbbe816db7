#!/usr/bin/env bash
# MQTT publishers and subscribers apart (the default), against a real
# mosquitto on a free loopback port:
# 1. The examples of docs/fanout.md (README's "MQTT fan-out" points there),
#    run as printed with only
#    the port changed: fan-in (1,000 publishers -> 1 subscriber), fan-out
#    (1 -> 1,000), two shared-subscription groups, and --chat. Each exits
#    0 with received = expected by the page's rules, nothing missing or
#    duplicated, one end-to-end latency per receipt, sent = acked + failed
#    + unacked.
# 2. mosquitto's subscribe log: the fan-in run's only subscription is its
#    subscriber's (publishers do not subscribe); --chat adds the publishers'.
# 3. An independent mosquitto_sub sees the fan-in run's messages, all of
#    them, from all 1,000 publishers.
# 4. One shared group, MQTT 3.1.1 and 5: each message once in all.
# 5. A plain filter beside a shared one (MQTT 5): a message both match is
#    expected on every subscriber and its shared copy is a duplicate; the
#    rest once each.
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
skip_unless_cmd mosquitto_sub mosquitto_pub python3
[ -x /usr/sbin/mosquitto ] || skip "/usr/sbin/mosquitto not installed"
require_blast

start_mosquitto "max_inflight_messages 100" "log_type subscribe" || die "cannot start mosquitto"

# Subscriptions mosquitto logged for blast's clients so far ("TIME:
# CLIENT QOS FILTER"; mosquitto_sub's are not blast-*).
subscriptions() {
	grep -cE '^[0-9]+: blast-[0-9]+-[0-9]+ [0-2] ' "$MQ_LOG" || true
}

# The page's examples: LABEL<TAB>ARGS (shell words, one line) per "# LABEL:"
# comment followed by a blast command in its sh blocks.
python3 - docs/fanout.md >"$T/examples.txt" <<'EOF' || die "cannot read docs/fanout.md's examples"
import re, sys
sec = open(sys.argv[1]).read()
for block in re.findall(r"```sh\n(.*?)```", sec, re.S):
    label = None
    for line in block.replace("\\\n", " ").splitlines():
        m = re.match(r"# ([a-z-]+):", line)
        if m:
            label = m.group(1)
        elif line.startswith("blast ") and label:
            print(label + "\t" + " ".join(line.split()[1:]))
            label = None
EOF
for want in fan-in fan-out shared chat; do
	grep -q "^$want	" "$T/examples.txt" || fail "docs/fanout.md has no '# $want:' example"
done

# check_clean REPORT WHAT EXPECTED: a run with every receipt in.
check_clean() {
	local r=$1 what=$2 want=$3
	[ "$BLAST_RC" -eq 0 ] || fail "$what: blast exited $BLAST_RC: $(blast_why "$r")"
	expect_json "$r" expected == "$want"
	expect_json "$r" received == "$want"
	expect_json "$r" missing == 0
	expect_json "$r" e2e_latency_us.count == "$want"
	expect_json "$r" errors eq '{}'
	check_accounting "$r"
}

while IFS=$'\t' read -r label words; do
	eval "args=($words)" # the page's quoting, as a shell reads it
	args=("${args[@]/127.0.0.1:1883/127.0.0.1:$MQ_PORT}")
	r=$T/readme-$label.json
	subs_before=$(subscriptions)
	[ "$label" = fan-in ] && { start_sub "$T/witness.txt" -t 'blast/#' -q 1 -R || die "witness not ready"; }
	run_blast 120 "${args[@]}" --report "$r" --quiet
	case $label in
	fan-in) want=10000 subs=1 ;;
	fan-out) want=$((100 * 1000)) subs=1000 ;;
	shared) want=$((2 * 5000)) subs=8 ;;
	chat) want=$((5000 * (4 + 16))) subs=20 ;;
	*) fail "docs/fanout.md example '$label' is not checked here"; continue ;;
	esac
	check_clean "$r" "docs/fanout.md $label" $want
	expect_json "$r" duplicates == 0
	expect_json "$r" acked == "$(json_get "$r" sent)"
	got=$(($(subscriptions) - subs_before))
	[ "$got" -eq $subs ] || fail "docs/fanout.md $label: mosquitto logged $got subscriptions, want $subs"
	log "docs/fanout.md $label: $(json_get "$r" received) receipts, e2e p50 $(json_get "$r" e2e_latency_us.p50) us"
	[ "$label" = fan-in ] || continue
	# The fan-in run as a third party saw it: every message, each publisher's.
	wait_sub_count "$T/witness.txt" $want 10
	got=$(sub_count "$T/witness.txt")
	[ "$got" -eq $want ] || fail "fan-in witness saw $got messages, want $want"
	topics=$(sub_messages "$T/witness.txt" | cut -d' ' -f1 | sort -u | wc -l)
	[ "$topics" -eq 1000 ] || fail "fan-in witness saw $topics publishers' topics, want 1000"
	stop_pid "$SUB_PID"
done <"$T/examples.txt"

# One group: each message reaches one of the 3 subscribers, once in all.
M=2000
for v in 3.1.1 5; do
	r=$T/share1-$v.json
	run_blast 60 --target "127.0.0.1:$MQ_PORT" --mqtt-version $v --publishers 2 --subscribers 3 \
		--sub-topic '$share/workers/blast/#' --qos 1 --sub-qos 1 --messages $M --report "$r" --quiet
	check_clean "$r" "one group, mqtt $v" $M
	expect_json "$r" duplicates == 0
	expect_json "$r" config.share_groups == 1
	expect_json "$r" config.chat eq false
done

# blast/1 to every subscriber, and everything to a group as well: messages
# on blast/1 are expected 4 times (their shared copy lands on one of the
# 4, a duplicate), the others once. The witness counts blast/1.
start_sub "$T/witness-mixed.txt" -t 'blast/#' -q 1 -R || die "witness not ready"
r=$T/mixed.json
run_blast 60 --target "127.0.0.1:$MQ_PORT" --mqtt-version 5 --publishers 2 --subscribers 4 \
	--sub-topic blast/1 --sub-topic '$share/g/blast/#' --qos 1 --sub-qos 1 --messages $M \
	--report "$r" --quiet
wait_sub_count "$T/witness-mixed.txt" $M 10
on1=$(sub_messages "$T/witness-mixed.txt" | grep -c '^blast/1 ')
[ "$on1" -gt 0 ] && [ "$on1" -lt $M ] || fail "mixed: witness saw $on1 of $M on blast/1"
check_clean "$r" "plain and shared" $((on1 * 4 + M - on1))
expect_json "$r" duplicates == "$on1"
stop_pid "$SUB_PID"
pass
