#!/usr/bin/env bash
# Keep-alive limits against nginx (keepalive_requests 7): nginx answers the
# 7th request of a connection with "Connection: close" and closes it; the
# requests pipelined behind that answer were never processed, so blast
# resends them (GET is idempotent) on the reopened connection. With
# --pipeline 16 and --pipeline 1, 2000 GETs: every one answered 200, none
# failed, retried > 0 when pipelined, sent = acked + failed + unacked, and
# nginx's access log holds exactly `acked` requests (none processed twice).
# A pipelined POST run shows the rule for non-idempotent methods: nothing
# is resent, the unanswered POSTs fail (conn_closed), and the access log
# still equals acked.
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
skip_unless_cmd python3
require_blast

N=2000
NG_DIR=$(mktemp -d "$T/nginx.XXXXXX")
ACCESS=$NG_DIR/access.log
start_nginx 'keepalive_requests 7;' "access_log $ACCESS;" \
	'location = /ping { return 200 "PONG"; }' || die "cannot start nginx"
URL=http://127.0.0.1:$NG_PORT/ping

# logged: requests nginx has logged since the log was emptied (it writes
# each line when the request ends; wait for the count to settle).
logged() {
	local n=-1 m i
	for ((i = 0; i < 20; i++)); do
		m=$(wc -l <"$ACCESS")
		[ "$m" = "$n" ] && break
		n=$m
		sleep 0.2
	done
	echo "$n"
}

# keepalive PIPELINE: N GETs, all answered, none lost to the closes.
keepalive() {
	local p=$1 r=$T/ka$1.json
	: >"$ACCESS"
	run_blast 60 --proto http --target "$URL" --conns 4 --pipeline "$p" --messages "$N" \
		--quiet --report "$r"
	[ -s "$r" ] || { fail "--pipeline $p: no report"; return; }
	log "--pipeline $p: ${BLAST_SECS}s, retried $(json_get "$r" http.retried)"
	expect_jsons "$r" sent == "$N" acked == "$N" failed == 0 unacked == 0 errors eq '{}' \
		http.status.http:200 == "$N" http.responses == "$N" latency_us.count == "$N" \
		conns_dropped == 0 exit_status == 0
	expect_json "$r" http.server_closed -ge $((N / 7 - 4))
	check_accounting "$r"
	local n
	n=$(logged)
	[ "$n" = "$N" ] || fail "--pipeline $p: nginx logged $n requests, blast counted $N acked"
}

keepalive 16
expect_json "$T/ka16.json" http.retried -gt 0
keepalive 1
expect_json "$T/ka1.json" http.retried == 0

# POST is not idempotent: what nginx left unanswered fails, nothing resent.
: >"$ACCESS"
run_blast 60 --proto http --method POST --payload-size 10 --target "$URL" --conns 2 \
	--pipeline 16 --messages "$N" --quiet --report "$T/post.json"
r=$T/post.json
[ -s "$r" ] || die "POST: no report"
expect_jsons "$r" sent == "$N" unacked == 0 http.retried == 0 failed -gt 0 \
	errors.conn_closed -gt 0 conns_dropped == 0
check_accounting "$r"
acked=$(json_get "$r" acked)
n=$(logged)
[ "$n" = "$acked" ] || fail "POST: nginx logged $n requests, blast counted $acked acked"
log "POST --pipeline 16: acked $acked, failed $(json_get "$r" failed)"
pass
