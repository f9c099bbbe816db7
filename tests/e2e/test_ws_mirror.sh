#!/usr/bin/env bash
# --proto ws against libwebsockets' own test server (lws-mirror-protocol
# relays every message to every connected client, the sender included):
# S publishers and K listeners all receive every message, so received =
# expected = messages x (S + K) with nothing missing or duplicated; the
# --steps ladder gives one such row per batch; every receipt is timed.
# (Under a burst of a few hundred messages the mirror itself drops some:
# blast reports them as missing; that case only checks the counts agree.)
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
skip_unless_cmd python3
LWS=/usr/bin/libwebsockets-test-server
[ -x $LWS ] || skip "$LWS not installed (Debian libwebsockets-test-server)"
require_blast

port=$(free_port)
$LWS --port="$port" >"$T/lws.log" 2>&1 &
LWS_PID=$!
track $LWS_PID
wait_until 5 port_open "$port" || die "libwebsockets-test-server did not listen on $port"

r=$T/single.json
run_blast 60 --proto ws --target "ws://127.0.0.1:$port/" --ws-subprotocol lws-mirror-protocol \
	--publishers 3 --listeners 2 --messages 200 --rate 2000 --report "$r" --quiet
[ "$BLAST_RC" -eq 0 ] || fail "blast exited $BLAST_RC: $(blast_why "$r")"
expect_json "$r" proto eq ws
expect_json "$r" sent == 200
expect_json "$r" acked == 200
expect_json "$r" expected == $((200 * (3 + 2)))
expect_json "$r" received == $((200 * (3 + 2)))
expect_json "$r" missing == 0
expect_json "$r" duplicates == 0
expect_json "$r" e2e_latency_us.count == $((200 * (3 + 2)))
check_accounting "$r"

# A burst: whatever the server drops, received + missing = expected and
# the exit status says something was missing.
r=$T/burst.json
run_blast 60 --proto ws --target "ws://127.0.0.1:$port/" --ws-subprotocol lws-mirror-protocol \
	--publishers 3 --listeners 2 --messages 600 --drain-timeout 2s --report "$r" --quiet
out=$(python3 - "$r" "$BLAST_RC" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
rc = int(sys.argv[2])
bad = []
if r["expected"] != 600 * 5:
    bad.append("expected %d" % r["expected"])
if r["received"] + r["missing"] != r["expected"]:
    bad.append("received %d + missing %d != expected %d" % (r["received"], r["missing"], r["expected"]))
if r["e2e_latency_us"]["count"] != r["received"]:
    bad.append("e2e count %d != received %d" % (r["e2e_latency_us"]["count"], r["received"]))
if (rc == 0) != (r["missing"] == 0):
    bad.append("exit %d with %d missing" % (rc, r["missing"]))
print("; ".join(bad))
PY
)
[ -z "$out" ] || fail "burst: $out"

# The ladder: one row per batch, each complete.
r=$T/steps.json
run_blast 60 --proto ws --target "ws://127.0.0.1:$port/" --ws-subprotocol lws-mirror-protocol \
	--publishers 2 --steps 10,50,100 --binary --report "$r" --quiet
[ "$BLAST_RC" -eq 0 ] || fail "ladder: blast exited $BLAST_RC: $(blast_why "$r")"
out=$(python3 - "$r" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
steps = r.get("steps", [])
bad = []
if [s["batch"] for s in steps] != [10, 50, 100]:
    bad.append("batches %s" % [s["batch"] for s in steps])
for s in steps:
    want = s["batch"] * 3
    if s["sent"] != s["batch"] or s["expected"] != want or s["received"] != want or s["missing"] or s["duplicates"]:
        bad.append("step %s" % s)
    if not (0 < s["p50_us"] <= s["p99_us"]):
        bad.append("step %d latencies %s %s" % (s["batch"], s["p50_us"], s["p99_us"]))
print("; ".join(bad))
PY
)
[ -z "$out" ] || fail "ladder: $out"
pass
