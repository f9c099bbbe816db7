#!/usr/bin/env bash
# --proto http's ways of sending, against nginx: --pipeline (requests in
# flight per connection), --think-time (a pause after each answer),
# --no-keepalive (a connection per request), HEAD (answers without a
# body), an open-loop --rate (also with --pace-batch), a body from
# --payload-size (POST), and
# https:// through nginx's ssl listener with the test's CA. Every run: each request answered and counted, nothing lost,
# sent = acked + failed + unacked.
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
skip_unless_cmd python3 openssl
require_blast

PKI=$T/pki
make_test_pki "$PKI" || die "cannot make test certificates"
P_TLS=$(free_port)
# nginx answers a POST to a static location with 405; "return" reads no
# body. What nginx saw of each POST goes to post.log.
NG_HTTP_LINES="log_format post '\$request_method \$content_length \$content_type \$request_uri';"
start_nginx 'keepalive_requests 100000;' \
	'location = /ping { return 200 "PONG"; }' \
	'location = /nagle { tcp_nodelay off; return 200 "PONG"; }' \
	'location = /ten { keepalive_requests 10; return 200 "ten"; }' \
	'location = /brief { keepalive_timeout 1s; return 200 "brief"; }' \
	"location = /post { client_max_body_size 1m; access_log $T/post.log post; return 200 \"got\"; }" \
	"listen 127.0.0.1:$P_TLS ssl;" \
	"ssl_certificate $PKI/server.pem;" \
	"ssl_certificate_key $PKI/server.key;" ||
	die "cannot start nginx"
printf 'hello from a static file\n' >"$NG_DIR/www/static.txt"
STATIC_LEN=$(stat -c %s "$NG_DIR/www/static.txt")
URL=http://127.0.0.1:$NG_PORT

# ran REPORT N WHAT [KEY OP VALUE]...: N requests all answered 200.
ran() {
	local r=$1 n=$2 what=$3
	shift 3
	[ -s "$r" ] || { fail "$what: no report written"; return; }
	log "$what: ${BLAST_SECS}s"
	expect_jsons "$r" proto eq http sent == "$n" acked == "$n" failed == 0 unacked == 0 \
		errors eq '{}' http.status.http:200 == "$n" conns_dropped == 0 exit_status == 0 "$@"
	check_accounting "$r"
}

run_blast 20 --proto http --target "$URL/ping" --conns 2 --pipeline 16 --messages 4000 \
	--quiet --report "$T/pipe.json"
ran "$T/pipe.json" 4000 "--pipeline 16" http.body_bytes == 16000 config.inflight == 16
# nginx sets TCP_NODELAY: as root (segment stamps), blast's reads show it
# sending answers unacked, and it gets quick ACKs only until that is seen
# (60 to 90; about 1,000 when every read that left answers outstanding got
# one).
if [ "$(id -u)" -eq 0 ]; then
	expect_jsons "$T/pipe.json" diagnosis.quick_acks.peers_sending_unacked == 2 \
		diagnosis.quick_acks.sent -le 300
fi

# A server that sets no TCP_NODELAY holds each answer behind the last until
# it is ACKed: pipelined, every window would wait 40 ms for blast's delayed
# ACK (20,000 requests over 4 connections: 12 s) without the quick ACKs
# blast sends it (engine/quickack.c), also once it has seen that nginx
# with TCP_NODELAY needs none.
run_blast 30 --proto http --target "$URL/nagle" --conns 4 --pipeline 16 --messages 20000 \
	--quiet --report "$T/nagle.json"
ran "$T/nagle.json" 20000 "--pipeline 16, tcp_nodelay off"
[ "$(echo "$BLAST_SECS < 6" | bc)" = 1 ] || fail "--pipeline 16 into tcp_nodelay off took ${BLAST_SECS}s: held by delayed ACKs"
# At least one per window of 16 that came in more than one read.
expect_json "$T/nagle.json" diagnosis.quick_acks.sent -ge 1250

# Pipelined requests behind the answer with which nginx ends a connection
# (keepalive_requests 10) are never answered (nor processed): the
# connection reopens and blast resends them there (http.retried), so none
# fails.
run_blast 20 --proto http --target "$URL/ten" --conns 1 --pipeline 4 --messages 400 \
	--quiet --report "$T/pipeclose.json"
r=$T/pipeclose.json
log "--pipeline 4 with closes: ${BLAST_SECS}s"
expect_jsons "$r" sent == 400 acked == 400 failed == 0 unacked == 0 errors eq '{}' \
	http.server_closed -ge 40 http.retried -gt 0 conns_dropped == 0
check_accounting "$r"
out=$(python3 - "$r" 2>&1 <<'PY2'
import json, sys
r = json.load(open(sys.argv[1]))
h = r["http"]
# At most the three requests behind each closing answer are resent (a
# resent one answered on the next connection is not resent again).
assert r["acked"] == h["status"]["http:200"] == h["responses"], "acked != 200s"
assert h["retried"] <= 3 * h["server_closed"], f"retried {h['retried']} > 3 per close"
PY2
) || fail "--pipeline 4 with closes: $(tail -n 1 <<<"$out")"

# Each request on its own connection: nginx answers "Connection: close"
# to blast's, and blast opens the next one.
run_blast 20 --proto http --target "$URL/ping" --conns 2 --no-keepalive --messages 200 \
	--quiet --report "$T/nokeep.json"
ran "$T/nokeep.json" 200 "--no-keepalive" http.server_closed == 200 conns_ok -ge 200 \
	conns_failed == 0

# --think-time: 2 connections, 5 requests each with a 100 ms pause after
# every answer, so at least 4 pauses (0.4 s) pass before the last request.
run_blast 20 --proto http --target "$URL/ping" --conns 2 --think-time 100ms --messages 10 \
	--quiet --report "$T/think.json"
ran "$T/think.json" 10 "--think-time 100ms" publish_s -ge 0.4 publish_s -lt 5

run_blast 20 --proto http --method HEAD --target "$URL/static.txt" --conns 2 --messages 300 \
	--quiet --report "$T/head.json"
ran "$T/head.json" 300 "HEAD" http.body_bytes == 0

# Open loop: 2000 requests a second for 2 s, latency from each one's
# scheduled time.
run_blast 20 --proto http --target "$URL/ping" --conns 4 --rate 2000 --duration 2s \
	--quiet --report "$T/rate.json"
r=$T/rate.json
expect_jsons "$r" failed == 0 unacked == 0 errors eq '{}' http.class.2xx -ge 3800 \
	sent -ge 3800 exit_status == 0
check_accounting "$r"

# The same with 2 ms paced batches: four requests a wake, each on its own
# connection (one in flight each), so well under one loop turn a request.
run_blast 20 --proto http --target "$URL/ping" --conns 4 --rate 2000 --duration 2s \
	--pace-batch 2ms --quiet --report "$T/batch.json"
r=$T/batch.json
expect_jsons "$r" failed == 0 unacked == 0 errors eq '{}' sent -ge 3800 exit_status == 0 \
	config.pace_batch_us == 2000
check_accounting "$r"
turns=$(json_get "$r" diagnosis.io_uring.turns)
sent=$(json_get "$r" sent)
[ "$(python3 -c "print(int($turns < 0.6 * $sent))")" = 1 ] ||
	fail "--pace-batch 2ms: $turns loop turns for $sent requests, want under 0.6 a request"

# --pace-batch auto from the rate: 2000/s over 4 connections is a request
# every 500 us, 8 of them 4 ms, but half a connection's interval (2 ms) is
# 1 ms: two requests a wake, each on its own connection.
run_blast 20 --proto http --target "$URL/ping" --conns 4 --rate 2000 --duration 2s \
	--pace-batch auto --quiet --report "$T/auto.json"
r=$T/auto.json
expect_jsons "$r" failed == 0 unacked == 0 errors eq '{}' sent -ge 3800 exit_status == 0 \
	config.pace_batch_us == 1000 config.pace_batch_auto eq true
check_accounting "$r"
turns=$(json_get "$r" diagnosis.io_uring.turns)
sent=$(json_get "$r" sent)
[ "$(python3 -c "print(int($turns < 0.75 * $sent))")" = 1 ] ||
	fail "--pace-batch auto: $turns loop turns for $sent requests, want under 0.75 a request"

run_blast 20 --proto http --target "$URL/post?c={conn}&s={seq}" --payload-size 1000 --conns 2 \
	--messages 200 --quiet --report "$T/post.json"
ran "$T/post.json" 200 "POST 1000 bytes" http.body_bytes == 600
# nginx saw 200 POSTs of 1000 bytes with blast's default type, each with
# its own {seq} (0..199) and one of the two {conn} numbers.
out=$(python3 - "$T/post.log" 2>&1 <<'PY2'
import re, sys
lines = open(sys.argv[1]).read().split("\n")[:-1]
assert len(lines) == 200, f"{len(lines)} requests logged"
seqs, conns = set(), set()
for l in lines:
    m = re.fullmatch(r"POST 1000 application/octet-stream /post\?c=(\d+)&s=(\d+)", l)
    assert m, f"unexpected request: {l}"
    conns.add(int(m[1])); seqs.add(int(m[2]))
assert seqs == set(range(200)), "the {seq} values are not 0..199"
assert conns == {0, 1}, f"the {{conn}} values are {sorted(conns)}"
PY2
) || fail "POST as nginx saw it: $(tail -n 1 <<<"$out")"
grep -q "POST" "$T/blast.out" || fail "POST: the summary does not name the method"
out_min=$((200 * 1000))
expect_jsons "$T/post.json" bytes_out -ge "$out_min"

run_blast 20 --proto http --target "https://127.0.0.1:$P_TLS/static.txt" --cacert "$PKI/ca.pem" \
	--conns 2 --messages 400 --quiet --report "$T/tls.json"
ran "$T/tls.json" 400 "https" http.body_bytes == $((400 * STATIC_LEN)) \
	handshake_us.tls_full.count -ge 2

# nginx ends a TLS connection after 10 requests too: the answer that says
# so ends it, before the close_notify that follows.
run_blast 20 --proto http --target "https://127.0.0.1:$P_TLS/ten" --cacert "$PKI/ca.pem" \
	--conns 1 --messages 50 --quiet --report "$T/tlsten.json"
ran "$T/tlsten.json" 50 "https, keepalive_requests 10" http.server_closed == 5
# Pipelined over TLS: the requests behind each closing answer are resent.
run_blast 20 --proto http --target "https://127.0.0.1:$P_TLS/ten" --cacert "$PKI/ca.pem" \
	--conns 1 --pipeline 4 --messages 200 --quiet --report "$T/tlspipe.json"
ran "$T/tlspipe.json" 200 "https, --pipeline 4, keepalive_requests 10" \
	http.server_closed -ge 20 http.retried -gt 0

# An idle connection nginx closes (keepalive_timeout 1s, while blast
# thinks for 1.5 s) is reopened without a loss or an error.
run_blast 30 --proto http --target "$URL/brief" --conns 1 --think-time 1500ms --messages 3 \
	--quiet --report "$T/idle.json"
ran "$T/idle.json" 3 "idle close" http.server_closed == 2 reconnects == 2

# A name the certificate does not carry is refused by verification; the
# connection is not opened again (no --reconnect) and the run ends.
run_blast 20 --proto http --target "https://127.0.0.1:$P_TLS/ping" --cacert "$PKI/ca.pem" \
	--sni other.example --conns 1 --messages 10 --quiet --report "$T/tlsbad.json"
[ "$BLAST_RC" -ne 0 ] || fail "https with a wrong --sni: blast exited 0"
expect_jsons "$T/tlsbad.json" acked == 0 errors.tls_hostname -ge 1

pass
