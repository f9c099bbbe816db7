#!/usr/bin/env bash
# --find-limit against a broker slowed to a rate we can compute: mosquitto
# runs in a network namespace this test creates, reached over a veth pair
# whose host side sends through a token bucket (tc tbf). What crosses the
# bucket per QoS 1 message, 1,200-byte payload: the PUBLISH (1,214 bytes of
# MQTT), its share of the segments' headers (Ethernet, IP, TCP with
# timestamps: 66 bytes per segment of at most 1,448 bytes: 55), and the
# pure ACK the client's kernel sends for the broker's PUBACK (66): 1,335
# bytes. So the bucket's rate bounds the message rate at RATE / 8 / 1335
# msg/s, and the limit the search finds must be within 15% of that. The
# namespace and the veth pair are removed on any exit. Traffic stays on this
# machine: a private /30 between the two ends.
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"

skip_unless_root
require_blast
for c in ip tc /usr/sbin/mosquitto; do
	command -v "$c" >/dev/null || die "$c not installed (scripts/install-deps.sh)"
done

TBF_BITS=8000000 # 1,000,000 bytes/s
PAYLOAD=1200
WIRE_BYTES=1335
EXPECT=$((TBF_BITS / 8 / WIRE_BYTES)) # 749 msg/s

# Only the host -> broker direction is shaped: that is where the PUBLISHes go.
start_shaped_broker_netns lim "$TBF_BITS" "max_queued_messages 0"

log "tbf $TBF_BITS bit/s, $PAYLOAD-byte QoS 1 payloads: expect about $EXPECT msg/s"
run_blast 240 --target "$BROKER_IP:1883" --qos 1 --conns 10 --payload-size "$PAYLOAD" \
	--find-limit --rate 200 --trial-duration 2s --drain-timeout 2s --report "$T/r.json"
cat "$T/blast.out"
tail -n 3 "$T/blast.err"
expect_rc 0
found=$(json_get "$T/r.json" limit.rate) || die "report has no limit.rate: $(blast_why "$T/r.json")"
expect_json "$T/r.json" limit.confirmed eq true
expect_json "$T/r.json" limit.latency_us.count -gt 0
check_accounting "$T/r.json"
log "found $found msg/s, expected $EXPECT"
if ! python3 -c "import sys; f, e = float(sys.argv[1]), float(sys.argv[2]); sys.exit(abs(f - e) > 0.15 * e)" \
	"$found" "$EXPECT"; then
	fail "limit $found msg/s is not within 15% of $EXPECT msg/s"
fi
# The trials above the limit failed for falling behind, not for errors.
python3 - "$T/r.json" "$EXPECT" <<'EOF' || fail "trials: see above"
import json, sys
r = json.load(open(sys.argv[1]))
exp = float(sys.argv[2])
bad = [t for t in r["trials"] if t["offered"] > 1.2 * exp and t["pass"]]
if bad:
    print("passed well above the bucket's rate:", bad); sys.exit(1)
if not any(t["offered"] > exp and not t["pass"] and "behind" in t["why"] for t in r["trials"]):
    print("no trial above the limit failed for falling behind"); sys.exit(1)
EOF
pass
