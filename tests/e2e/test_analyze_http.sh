#!/usr/bin/env bash
# The capture witness on HTTP/1.1: blast --proto http against nginx writes
# its own capture (--pcap), pipelined (--pipeline 8) over 3 connections
# that nginx closes after every 700 answers (keepalive_requests): the
# requests already written behind the 700th are never answered, and blast
# reopens and resends them (http.retried), so each is on the wire twice:
# once unanswered on the closed connection, once answered on the new one.
# `blast analyze` must pair every response with its request, in order per
# connection:
#   - wire requests == the run's sent + retried, wire acks == its acked,
#     the requests left without an answer (pending) == its failed +
#     retried, nothing unmatched or unparsed, and the same figures as the
#     run's own analysis of its capture (the "wire" object of its report);
#   - one flow row per connection that carried requests, the rows adding
#     up to the totals, every ack timed;
#   - tshark's HTTP dissector counts the same requests per client port and
#     the same responses.
# A plain GET is told from a WebSocket upgrade by its fields: with no
# --proto, the flows are recognised as http.
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
skip_unless_root
skip_unless_cmd tshark python3
require_blast

N=3000
start_nginx 'keepalive_requests 700;' 'location = /ping { return 200 "PONG"; }' ||
	die "cannot start nginx"

run_blast 30 --proto http --target "http://127.0.0.1:$NG_PORT/ping" --conns 3 --workers 1 \
	--pipeline 8 --messages "$N" --pcap "$T/run.pcapng" --report "$T/run.json" --quiet
expect_json "$T/run.json" sent == "$N"
expect_json "$T/run.json" http.server_closed -ge 3
check_accounting "$T/run.json"

timeout 60 "$BLAST" analyze "$T/run.pcapng" --report "$T/analyze.json" \
	>"$T/analyze.out" 2>"$T/analyze.err" ||
	fail "blast analyze exited $?: $(cat "$T/analyze.err")"
grep -q "http [1-9]" "$T/analyze.out" || fail "no flow recognised as http: $(grep flows "$T/analyze.out")"

# tshark: requests per client port, responses per client port.
tshark -r "$T/run.pcapng" -d "tcp.port==$NG_PORT,http" -Y 'http.request || http.response' \
	-T fields -e tcp.srcport -e tcp.dstport -e http.request.method -e http.response.code \
	>"$T/tshark.tsv" 2>"$T/tshark.err" || fail "tshark failed: $(tail -2 "$T/tshark.err")"

out=$(python3 - "$T/run.json" "$T/analyze.json" "$T/tshark.tsv" "$NG_PORT" "$N" <<'PYEOF'
import json, sys
from collections import Counter
run_p, an_p, ts_p, port, n = sys.argv[1:]
run, an = json.load(open(run_p)), json.load(open(an_p))
bad = []
def eq(name, got, want):
    if got != want:
        bad.append(f"{name}: got {got!r}, want {want!r}")
w, flows = an["wire"], an["flows"]
eq("the run's sent", run["sent"], int(n))
retried = run["http"]["retried"]
if not retried:
    bad.append("nothing retried: the closes should have left pipelined requests to resend")
eq("wire.requests vs the run's sent + retried", w["requests"], run["sent"] + retried)
eq("wire.acks vs the run's acked", w["acks"], run["acked"])
eq("capture.pending vs the run's failed + retried", an["capture"]["pending"], run["failed"] + retried)
eq("the run's error kinds", sorted(run["errors"]), ["conn_closed"] if run["failed"] else [])
eq("wire.unmatched", w["unmatched"], 0)
eq("wire.unparsed", w["unparsed"], 0)
own = run["wire"]
eq("the run's own wire.source", own["source"], "pcap")
for k in ("requests", "acks", "unmatched", "unparsed", "latency_us"):
    eq(f"wire.{k} vs the run's own analysis", w[k], own[k])
busy = [f for f in flows if f["requests"]]
eq("sum of flow requests", sum(f["requests"] for f in flows), w["requests"])
eq("sum of flow acks", sum(f["acks"] for f in flows), w["acks"])
if len(busy) < 6:  # 3 connections, each closed by nginx at least once
    bad.append(f"{len(busy)} flows carried requests, want 3 connections reopened: at least 6")
req, resp = Counter(), Counter()
for line in open(ts_p):
    sp, dp, meth, code = (line.rstrip("\n").split("\t") + ["", "", "", ""])[:4]
    if meth:
        req[sp] += len(meth.split(","))
    if code:
        resp[dp] += len(code.split(","))
eq("tshark's requests", sum(req.values()), int(n) + retried)
eq("tshark's responses", sum(resp.values()), run["acked"])
for f in busy:
    c = f["client"].rsplit(":", 1)[1]
    eq(f"{c} proto", f["proto"], "http")
    eq(f"{c} server", f["server"], f"127.0.0.1:{port}")
    eq(f"{c} timed", f["timed"], f["acks"])
    eq(f"{c} requests vs tshark", f["requests"], req.get(c, 0))
    eq(f"{c} acks vs tshark's responses", f["acks"], resp.get(c, 0))
    if not 0 < f["p50_us"] <= f["p99_us"]:
        bad.append(f"{c}: p50 {f['p50_us']} p99 {f['p99_us']}")
print("\n".join(bad))
sys.exit(1 if bad else 0)
PYEOF
) || fail "$out"
log "analyze: $(grep '^messages' "$T/analyze.out")"
pass
