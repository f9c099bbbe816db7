#!/usr/bin/env bash
# TLS under WebSocket (wss://): MQTT over wss into mosquitto's TLS
# websockets listener (verified against the test's own CA, QoS 1
# delivered and accounted, the TLS handshake timed), a verification
# failure named there too, and --proto ws over wss through
# libwebsockets' test server with --ssl (its bundled 1024-bit key needs a
# lower OpenSSL security level on the server side, and --insecure here).
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
skip_unless_cmd mosquitto_sub mosquitto_pub python3 openssl
[ -x /usr/sbin/mosquitto ] || skip "/usr/sbin/mosquitto not installed"
require_blast

PKI=$T/pki
make_test_pki "$PKI" || die "cannot make test certificates"
P_WSS=$(free_port) P_WSS_EXP=$(free_port)
# Websockets listeners bind "lo", not 127.0.0.1 (tests/lib/ws.sh).
start_mosquitto "listener $P_WSS lo" "protocol websockets" "cafile $PKI/ca.pem" \
	"certfile $PKI/server.pem" "keyfile $PKI/server.key" \
	"listener $P_WSS_EXP lo" "protocol websockets" "cafile $PKI/ca.pem" \
	"certfile $PKI/expired.pem" "keyfile $PKI/expired.key" || die "cannot start mosquitto"
wait_until 5 port_open "$P_WSS" || die "wss listener not up"
N=600

log "== MQTT over wss://, QoS 1"
sub=$T/sub.txt
start_sub "$sub" -t 'blast/#' -q 1 || die "subscriber not ready"
r=$T/wss.json
run_blast 60 --target "wss://localhost:$P_WSS/mqtt" --cacert "$PKI/ca.pem" --conns 3 --qos 1 \
	--messages $N --payload-size 40 --report "$r" --quiet
[ "$BLAST_RC" -eq 0 ] || fail "wss: blast exited $BLAST_RC: $(blast_why "$r")"
wait_sub_count "$sub" $N 15
check_marked_payloads "$sub" $N 3 40
expect_json "$r" acked == $N
expect_json "$r" errors eq '{}'
expect_json "$r" handshake_us.tls_full.count == 3
expect_json "$r" handshake_us.ws_upgrade.count == 3
expect_json "$r" handshake_us.protocol.count == 3
check_accounting "$r"
grep -q "^   ws upgrade " "$T/blast.out" || fail "summary has no 'ws upgrade' row: $(cat "$T/blast.out")"
stop_pid "$SUB_PID"

log "== wss:// with an expired certificate"
r=$T/wss-expired.json
run_blast 30 --target "wss://127.0.0.1:$P_WSS_EXP/mqtt" --cacert "$PKI/ca.pem" --messages 5 \
	--report "$r" --quiet
[ "$BLAST_RC" -ne 0 ] || fail "wss expired: blast exited 0"
expect_json "$r" errors.tls_verify -ge 1
grep -q 'certificate has expired' "$T/blast.err" || fail "wss expired: $(cat "$T/blast.err")"

log "== the reverse mistake: ws:// to the wss listener"
r=$T/ws-plain.json
run_blast 30 --target "ws://127.0.0.1:$P_WSS/mqtt" --messages 5 --report "$r" --quiet
[ "$BLAST_RC" -eq 1 ] || fail "ws:// to wss: exit $BLAST_RC, want 1"
expect_json "$r" errors eq '{"tls_server_plain_client": 1}'
check_accounting "$r"
grep -q "^blast: 127.0.0.1:$P_WSS .*a TLS port; use wss://HOST:PORT/PATH" "$T/blast.err" ||
	fail "ws:// to wss: no line naming it: $(cat "$T/blast.err")"

log "== --proto ws over wss:// (libwebsockets' mirror with --ssl)"
if [ -x /usr/bin/libwebsockets-test-server ]; then
	start_lws_mirror --ssl || die "libwebsockets' test server with --ssl not up"
	# The mirror drops what a lagging client's ring cannot hold; decrypting,
	# it lags sooner on a loaded machine: a gentler rate than the plain test.
	r=$T/ws-mirror.json
	run_blast 60 --proto ws --target "wss://127.0.0.1:$LWS_PORT/" --insecure \
		--ws-subprotocol lws-mirror-protocol --publishers 1 --listeners 2 --messages 300 \
		--payload-size 58 --rate 500 --report "$r" --quiet
	[ "$BLAST_RC" -eq 0 ] || fail "ws mirror over TLS: blast exited $BLAST_RC: $(blast_why "$r")"
	expect_json "$r" sent == 300
	expect_json "$r" received == 900
	expect_json "$r" missing == 0
	expect_json "$r" duplicates == 0
	expect_json "$r" handshake_us.tls_full.count == 3
	expect_json "$r" handshake_us.ws_upgrade.count == 3
	check_accounting "$r"
	stop_pid "$LWS_PID"
else
	fail "libwebsockets-test-server not installed (scripts/install-deps.sh installs it)"
fi
pass
