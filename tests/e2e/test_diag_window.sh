#!/usr/bin/env bash
# Self-diagnosis, client: window. Against the acking sink (it answers at
# once), --inflight 1 on two connections allows a few tens of thousands of
# messages a second at most; --rate asks for more, so sends wait for acks
# to free a window. The verdict must say so, in every output.
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"

require_blast
start_sink --ack

run_blast 30 --target "127.0.0.1:$SINK_PORT" --qos 1 --conns 2 --inflight 1 --rate 100000 \
	--duration 2s --report "$T/r.json" --csv "$T/r.csv" --html "$T/r.html"
cat "$T/blast.out"
expect_json "$T/r.json" diagnosis.bottleneck eq "client: window"
expect_json "$T/r.json" diagnosis.send_late_us.count -gt 0
expect_json "$T/r.json" diagnosis.window_wait_us.count -gt 0
expect_json "$T/r.json" diagnosis.io_uring.submits -gt 0
grep -q '^bottleneck: client: window (' "$T/blast.out" || fail "summary has no bottleneck line"
head -1 "$T/r.csv" | grep -q ',cpu_pct,send_late_mean_us,window_wait_mean_us,socket_wait_mean_us$' ||
	fail "CSV lacks the self-diagnosis columns: $(head -1 "$T/r.csv")"
grep -q 'id="diagnosis"' "$T/r.html" || fail "HTML has no diagnosis section"
python3 tests/tools/check_html.py parse "$T/r.html" || fail "HTML is not well-formed"
check_accounting "$T/r.json"
pass
