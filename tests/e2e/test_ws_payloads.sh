#!/usr/bin/env bash
# --proto ws payloads other than filler, through libwebsockets' mirror,
# with a recording client (tests/tools/ws_witness.py) joined to the mirror
# as the witness of what went over the wire:
# 1. --payload-proto TagData (text and --binary frames): every message is
#    blast's 44-byte header (BLWS, run, seq, send time) then a protobuf
#    message that protoc (Google's decoder) decodes into the values the
#    generators promise; blast's own receipts are all there.
# 2. --payload-file: every message is the header then one of the file's
#    lines, the lines used in turn (by each worker: M is a multiple of 4
#    lines x 2 publishers).
# Paced (--rate) so that each message reaches the mirror in a read of its
# own: the mirror relays what one 4,096-byte read holds (see
# start_lws_mirror), and these messages vary in size.
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
skip_unless_cmd python3 protoc
[ -x /usr/bin/libwebsockets-test-server ] || skip "libwebsockets-test-server not installed"
require_blast

start_lws_mirror || die "cannot start libwebsockets-test-server"
URL="ws://127.0.0.1:$LWS_PORT/"
M=64 S=2 K=1

# start_witness OUT: the recording client, joined before blast publishes.
start_witness() {
	python3 "$REPO/tests/tools/ws_witness.py" --port "$LWS_PORT" --out "$1" --count $M \
		--secs 30 >"$1.ready" 2>"$1.err" &
	WIT_PID=$!
	track "$WIT_PID"
	wait_until 5 grep -q ready "$1.ready" || die "witness not ready: $(cat "$1.err")"
}

# check_headers OUT: M messages, each with blast's header, one run id, no
# sequence number twice; writes each body (after the header) to OUT.bodies
# as hex.
check_headers() {
	local out
	if ! out=$(python3 - "$1" $M <<'PY'
import sys
path, n = sys.argv[1], int(sys.argv[2])
runs, seqs, bad, bodies = set(), set(), [], []
for line in open(path):
    p = bytes.fromhex(line.strip())
    if len(p) < 44 or p[:4] != b"BLWS":
        bad.append(f"no header: {p[:60]!r}"); continue
    runs.add(p[4:12])
    seq = int(p[12:28], 16)
    if seq in seqs:
        bad.append(f"seq {seq} twice")
    seqs.add(seq)
    bodies.append(p[44:].hex())
if len(bodies) != n:
    bad.insert(0, f"{len(bodies)} messages, want {n}")
if len(runs) > 1:
    bad.append(f"{len(runs)} run ids")
open(path + ".bodies", "w").write("\n".join(bodies) + "\n")
if bad:
    print("; ".join(bad[:5])); sys.exit(1)
PY
	); then
		fail "witness $1: $out"
		return 1
	fi
}

for frames in "" "--binary"; do
	what="protobuf ${frames:-text}"
	wit=$T/proto${frames}.hex
	start_witness "$wit"
	r=$T/proto${frames}.json
	t0=$(date +%s)
	# shellcheck disable=SC2086
	run_blast 60 --proto ws --target "$URL" --ws-subprotocol lws-mirror-protocol \
		--publishers $S --listeners $K --messages $M --rate 300 $frames \
		--payload-proto TagData --field distance=uniform:0:5 --field battery_low=bernoulli:1 \
		--field timestamp=now --field detached=false --report "$r" --quiet
	[ "$BLAST_RC" -eq 0 ] || fail "$what: blast exited $BLAST_RC: $(blast_why "$r")"
	expect_json "$r" sent == $M
	expect_json "$r" received == $((M * (S + K)))
	expect_json "$r" missing == 0
	check_accounting "$r"
	wait "$WIT_PID" 2>/dev/null
	check_headers "$wit" || continue
	python3 - "$wit.bodies" "$t0" "$REPO/proto" <<'PY' || fail "$what: bodies do not decode to the promised values"
import re, subprocess, sys, time
bodies, t0, pdir = sys.argv[1], int(sys.argv[2]), sys.argv[3]
bad = []
for hx in open(bodies):
    body = bytes.fromhex(hx.strip())
    p = subprocess.run(["protoc", "--decode=TagData", "-I" + pdir, "-I/usr/include",
                        pdir + "/tagdata.proto"], input=body, capture_output=True)
    if p.returncode:
        bad.append(f"protoc cannot decode {hx.strip()}: {p.stderr.decode().strip()}"); continue
    text = p.stdout.decode()
    def field(name):
        m = re.search(r"^\s*%s: (\S+)" % name, text, re.M)
        return m.group(1) if m else None
    d = field("distance")
    if d is None or not (0.0 <= float(d) < 5.0):
        bad.append("distance %s not in [0, 5)" % d)
    if field("battery_low") != "true":
        bad.append("battery_low %s" % field("battery_low"))
    sec = field("seconds")
    if sec is None or not (t0 - 5 <= int(sec) <= time.time() + 5):
        bad.append("timestamp seconds %s not now" % sec)
if bad:
    print(f"{len(bad)} problems: " + "; ".join(bad[:3])); sys.exit(1)
PY
done

# --payload-file: 4 lines of JSON telemetry, used in turn.
lines=$T/lines.txt
printf '%s\n' '{"id":1,"t":20.5}' '{"id":2,"t":21.25,"ok":true}' '{"id":3}' \
	'{"id":4,"t":-3,"tags":["a","b"]}' >"$lines"
wit=$T/lines.hex
start_witness "$wit"
r=$T/lines.json
run_blast 60 --proto ws --target "$URL" --ws-subprotocol lws-mirror-protocol \
	--publishers $S --listeners $K --messages $M --rate 300 --payload-file "$lines" \
	--report "$r" --quiet
[ "$BLAST_RC" -eq 0 ] || fail "payload-file: blast exited $BLAST_RC: $(blast_why "$r")"
expect_json "$r" sent == $M
expect_json "$r" received == $((M * (S + K)))
check_accounting "$r"
wait "$WIT_PID" 2>/dev/null
if check_headers "$wit"; then
	python3 - "$wit.bodies" "$lines" $M <<'PY' || fail "payload-file: bodies are not the lines in turn"
import collections, sys
bodies = [bytes.fromhex(l.strip()) for l in open(sys.argv[1]) if l.strip()]
lines = open(sys.argv[2], "rb").read().split(b"\n")[:-1]
n = int(sys.argv[3])
want = collections.Counter(lines[i % len(lines)] for i in range(n))
got = collections.Counter(bodies)
if got != want:
    print(f"got {dict(got)}, want {dict(want)}"); sys.exit(1)
PY
fi
kill -0 "$LWS_PID" 2>/dev/null || fail "libwebsockets-test-server died"
pass
