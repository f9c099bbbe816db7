#!/usr/bin/env bash
# --proto http against nginx (tests/lib/nginx.sh): a fixed answer, a static
# file, two --target paths taken in turn on one connection, a chunked
# answer (SSI), keep-alive connections nginx closes after
# 10 requests, and limit_req answering 503. Each run's report must count
# every request, by status, with its body bytes, and add up:
# sent = acked + failed + unacked.
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
skip_unless_cmd python3
require_blast

NG_HTTP_LINES='limit_req_zone $binary_remote_addr zone=one:1m rate=1r/m;'
start_nginx 'location = /ping { return 200 "PONG"; }' \
	'location = /ssi.html { ssi on; }' \
	'location = /ten { keepalive_requests 10; return 200 "ten"; }' \
	'location = /limited { limit_req zone=one nodelay; limit_req_status 503; }' ||
	die "cannot start nginx"
printf 'hello from a static file\n' >"$NG_DIR/www/static.txt"
printf 'ok\n' >"$NG_DIR/www/limited" # limit_req works on content, not on return
printf '<p>port <!--# echo var="server_port" --></p>\n' >"$NG_DIR/www/ssi.html"
URL=http://127.0.0.1:$NG_PORT

# What nginx itself sends for a path: the body's length, from curl-less
# Python (the SSI page's body is made by nginx, so measure it there).
body_len() {
	python3 - "$NG_PORT" "$1" <<'PY'
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=5)
c.request("GET", sys.argv[2])
r = c.getresponse()
print(len(r.read()))
PY
}

# all_ok REPORT N BODY WHAT: N requests, every one answered 200 with BODY
# bytes of body, nothing failed.
all_ok() {
	local r=$1 n=$2 body=$3 what=$4
	[ -s "$r" ] || { fail "$what: no report written"; return; }
	log "$what: ${BLAST_SECS}s"
	expect_jsons "$r" proto eq http sent == "$n" acked == "$n" failed == 0 unacked == 0 \
		errors eq '{}' http.responses == "$n" http.status.http:200 == "$n" \
		http.class.2xx == "$n" http.body_bytes == $((n * body)) latency_us.count == "$n" \
		http.ttfb_us.count == "$n" exit_status == 0
	check_accounting "$r"
}

run_blast 20 --proto http --target "$URL/ping" --conns 4 --messages 2000 --quiet \
	--report "$T/ping.json"
all_ok "$T/ping.json" 2000 4 "return 200 PONG"
expect_jsons "$T/ping.json" http.server_closed == 0 conns_ok == 4

run_blast 20 --proto http --target "$URL/static.txt" --conns 2 --messages 500 --quiet \
	--report "$T/static.json"
all_ok "$T/static.json" 500 "$(stat -c %s "$NG_DIR/www/static.txt")" "static file"

# Two --target URLs on the same server, one connection: its requests take
# the two paths in turn, 100 each (the body bytes tell them apart).
STATIC_LEN=$(stat -c %s "$NG_DIR/www/static.txt")
run_blast 20 --proto http --target "$URL/ping" --target "$URL/static.txt" --conns 1 \
	--pipeline 4 --messages 200 --quiet --report "$T/two.json"
expect_jsons "$T/two.json" acked == 200 failed == 0 http.body_bytes == $((100 * 4 + 100 * STATIC_LEN))
check_accounting "$T/two.json"

SSI_LEN=$(body_len /ssi.html) || die "cannot read /ssi.html from nginx"
run_blast 20 --proto http --target "$URL/ssi.html" --conns 2 --messages 300 --quiet \
	--report "$T/chunked.json"
all_ok "$T/chunked.json" 300 "$SSI_LEN" "chunked (SSI)"

# One connection, 200 requests: nginx ends it with "Connection: close" on
# every 10th answer; blast reopens it and loses nothing.
run_blast 20 --proto http --target "$URL/ten" --conns 1 --messages 200 --quiet \
	--report "$T/ten.json"
all_ok "$T/ten.json" 200 3 "keepalive_requests 10"
expect_jsons "$T/ten.json" http.server_closed == 20 conns_dropped == 0 conns_ok -ge 20

# limit_req at one request a minute: the first is let through, the other
# 49 get 503, which the default --ok-status (2xx,3xx) counts as failed.
run_blast 20 --proto http --target "$URL/limited" --conns 1 --messages 50 --quiet \
	--report "$T/limited.json"
r=$T/limited.json
expect_jsons "$r" sent == 50 acked == 1 failed == 49 unacked == 0 http.status.http:200 == 1 \
	http.status.http:503 == 49 errors.http:503 == 49 errors_total == 49 http.class.5xx == 49 \
	http.ok_status eq 2xx,3xx
check_accounting "$r"
[ "$BLAST_RC" -ne 0 ] || fail "503s counted as failed, yet blast exited 0"

# The same 503s accepted by --ok-status: acked, no errors.
run_blast 20 --proto http --target "$URL/limited" --conns 1 --messages 20 --quiet \
	--ok-status 2xx,503 --report "$T/ok503.json"
expect_jsons "$T/ok503.json" acked == 20 http.status.http:503 == 20 errors eq '{}'
check_accounting "$T/ok503.json"

pass
