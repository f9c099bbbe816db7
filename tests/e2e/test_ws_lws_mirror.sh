#!/usr/bin/env bash
# --proto ws against libwebsockets' test server. lws-mirror-protocol relays
# every message to every client joined to the mirror, the sender included,
# so with S publishers and K listeners on the one node each message is
# received S + K times: received = expected = M x (S + K), nothing missing
# or duplicated, one e2e latency sample per receipt. Text and --binary
# frames (the mirror relays both as text frames: blast must not insist on
# UTF-8). Payloads of 58 and 122 bytes make 64- and 128-byte masked frames,
# which tile the mirror's 4096-byte reads: a frame straddling a read
# boundary is relayed as two messages (see start_lws_mirror).
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
skip_unless_cmd python3
[ -x /usr/bin/libwebsockets-test-server ] || skip "libwebsockets-test-server not installed"
require_blast

start_lws_mirror || die "cannot start libwebsockets-test-server"
URL="ws://127.0.0.1:$LWS_PORT/"
M=300

for case in "1 1 58" "3 1 58" "3 2 122" "2 3 58 --binary"; do
	set -- $case
	S=$1 K=$2 size=$3
	shift 3
	want=$((M * (S + K)))
	what="S=$S K=$K size=$size $*"
	r=$T/mirror-$S-$K-$size$#.json
	run_blast 60 --proto ws --target "$URL" --ws-subprotocol lws-mirror-protocol \
		--publishers "$S" --listeners "$K" --messages $M --payload-size "$size" "$@" \
		--rate 2000 --report "$r" --quiet
	[ "$BLAST_RC" -eq 0 ] || fail "$what: blast exited $BLAST_RC: $(blast_why "$r")"
	[ -s "$r" ] || { fail "$what: no report"; continue; }
	expect_json "$r" proto eq ws
	expect_json "$r" sent == $M
	expect_json "$r" expected == $want
	expect_json "$r" received == $want
	expect_json "$r" missing == 0
	expect_json "$r" duplicates == 0
	expect_json "$r" e2e_latency_us.count == $want
	expect_json "$r" conns_ok == $((S + K))
	expect_json "$r" conns_failed == 0
	expect_json "$r" conns_dropped == 0
	check_accounting "$r"
done
kill -0 "$LWS_PID" 2>/dev/null || fail "libwebsockets-test-server died"
pass
