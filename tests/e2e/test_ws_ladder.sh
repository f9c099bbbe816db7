#!/usr/bin/env bash
# The --steps ladder against the lws mirror: one row per batch (10, 100,
# 1000), each complete: sent = batch, expected = received = batch x (S + K),
# nothing missing, latencies ordered, and the totals are the sums of the
# rows. 58-byte payloads (64-byte frames, see start_lws_mirror) and one
# publisher: the mirror's ring holds 512 messages and a listener that falls
# that far behind loses them (the mirror throttles only the sender), so a
# 1000-message batch from several publishers at full speed may lose some
# by the server's doing, not blast's.
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
skip_unless_cmd python3
[ -x /usr/bin/libwebsockets-test-server ] || skip "libwebsockets-test-server not installed"
require_blast

start_lws_mirror || die "cannot start libwebsockets-test-server"
S=1 K=2
r=$T/ladder.json
run_blast 120 --proto ws --target "ws://127.0.0.1:$LWS_PORT/" --ws-subprotocol lws-mirror-protocol \
	--publishers $S --listeners $K --steps 10,100,1000 --payload-size 58 --report "$r" --quiet
[ "$BLAST_RC" -eq 0 ] || fail "ladder: blast exited $BLAST_RC: $(blast_why "$r")"
[ -s "$r" ] || die "no report"
out=$(python3 - "$r" $((S + K)) <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
fan = int(sys.argv[2])
steps = r.get("steps")
bad = []
if not isinstance(steps, list) or len(steps) != 3:
    print("steps: %r" % (steps,)); sys.exit()
for batch, s in zip((10, 100, 1000), steps):
    want = batch * fan
    for k in ("sent", "expected", "received", "total_s", "send_s", "p50_us", "p99_us"):
        if k not in s:
            bad.append("step %d has no %s" % (batch, k))
    if bad:
        continue
    if s["sent"] != batch or s["expected"] != want or s["received"] != want:
        bad.append("step %d: sent %d expected %d received %d, want %d %d %d"
                   % (batch, s["sent"], s["expected"], s["received"], batch, want, want))
    if s.get("missing", 0) or s.get("duplicates", 0):
        bad.append("step %d: missing %s duplicates %s" % (batch, s.get("missing"), s.get("duplicates")))
    if not (0 < s["p50_us"] <= s["p99_us"]):
        bad.append("step %d: p50 %s p99 %s" % (batch, s["p50_us"], s["p99_us"]))
    # Every receipt comes after the first send: total_s > 0 (a small batch
    # takes well under a millisecond, so it must not be rounded to 0).
    if not (0 <= s["send_s"] <= s["total_s"] and s["total_s"] > 0):
        bad.append("step %d: send_s %s total_s %s" % (batch, s["send_s"], s["total_s"]))
if not bad:
    tot = sum(s["expected"] for s in steps)
    if r.get("expected") != tot or r.get("received") != tot or r.get("missing") != 0:
        bad.append("totals expected %s received %s missing %s, want %d %d 0"
                   % (r.get("expected"), r.get("received"), r.get("missing"), tot, tot))
print("; ".join(bad))
PY
)
[ -z "$out" ] || fail "ladder: $out"
expect_json "$r" missing == 0
expect_json "$r" duplicates == 0
pass
