#!/usr/bin/env bash
# Logins and client certificates over TLS, against one mosquitto with a
# password file and no anonymous access:
# - mqtts://: --username/--password accepted, a wrong password refused
#   (CONNACK not authorized); --tokens-file, one login per connection, one
#   token missing from the password file refused alone.
# - wss://: QoS 0 and 2 delivered and accounted (QoS 1 in test_ws_tls.sh),
#   --tokens-file there too;
#   a wss listener that requires a client certificate: given, accepted;
#   missing, refused and named.
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
skip_unless_cmd mosquitto_passwd mosquitto_sub python3 openssl
[ -x /usr/sbin/mosquitto ] || skip "/usr/sbin/mosquitto not installed"
require_blast

PKI=$T/pki
make_test_pki "$PKI" || die "cannot make test certificates"
CONNS=20
MISSING=token-0007
TOKENS=$T/tokens.txt
PASSWD=$T/passwd
for ((i = 0; i < CONNS; i++)); do printf 'token-%04d\n' "$i"; done >"$TOKENS"
{ grep -vx "$MISSING" "$TOKENS" | sed 's/$/:s3cret/'; echo "alice:wonder"; } >"$PASSWD"
mosquitto_passwd -U "$PASSWD" || die "mosquitto_passwd -U failed"
chmod 644 "$PASSWD"
P_TLS=$(free_port) P_WSS=$(free_port) P_WSS_MTLS=$(free_port)
mapfile -t lines < <(tls_listener "$P_TLS" "$PKI" server)
# Websockets listeners bind "lo", not 127.0.0.1 (tests/lib/ws.sh).
start_mosquitto "allow_anonymous false" "password_file $PASSWD" "${lines[@]}" \
	"listener $P_WSS lo" "protocol websockets" "cafile $PKI/ca.pem" \
	"certfile $PKI/server.pem" "keyfile $PKI/server.key" \
	"listener $P_WSS_MTLS lo" "protocol websockets" "cafile $PKI/ca.pem" \
	"certfile $PKI/server.pem" "keyfile $PKI/server.key" "require_certificate true" ||
	die "cannot start mosquitto"
for p in "$P_TLS" "$P_WSS" "$P_WSS_MTLS"; do
	wait_until 5 port_open "$p" || die "mosquitto TLS listener $p not up"
done
CA=(--cacert "$PKI/ca.pem")

log "== mqtts://: --username/--password, right and wrong"
r=$T/pw.json
run_blast 60 --target "mqtts://localhost:$P_TLS" "${CA[@]}" --username alice --password wonder \
	--conns 2 --qos 1 --messages 200 --report "$r" --quiet
[ "$BLAST_RC" -eq 0 ] || fail "password: blast exited $BLAST_RC: $(blast_why "$r")"
expect_json "$r" acked == 200
expect_json "$r" errors eq '{}'
check_accounting "$r"
grep -q "as blast-[0-9]*-0 (p2, c1, k60, u'alice')" "$MQ_LOG" || fail "the broker did not log alice in"
r=$T/pw-wrong.json
run_blast 30 --target "mqtts://localhost:$P_TLS" "${CA[@]}" --username alice --password nope \
	--qos 1 --messages 5 --report "$r" --quiet
[ "$BLAST_RC" -eq 1 ] || fail "wrong password: exit $BLAST_RC, want 1"
expect_json "$r" errors eq '{"connack:not_authorized": 1}'
check_accounting "$r"

# tokens_case TARGET VERSION: every token logs in but the missing one.
tokens_case() {
	local target=$1 v=$2 r
	r=$T/tokens-$v-${1%%:*}.json
	run_blast 60 --target "$target" "${CA[@]}" --conns $CONNS --tokens-file "$TOKENS" \
		--password s3cret --mqtt-version "$v" --messages 0 --duration 1s --report "$r" --quiet
	expect_rc 1
	expect_json "$r" conns_ok == $((CONNS - 1))
	expect_json "$r" conns_failed == 1
	expect_json "$r" errors eq '{"connack:not_authorized": 1}'
	expect_json "$r" handshake_us.tls_full.count -ge 1
	check_accounting "$r"
}
log "== mqtts://: --tokens-file"
tokens_case "mqtts://localhost:$P_TLS" 5
log "== wss://: --tokens-file"
tokens_case "wss://localhost:$P_WSS/mqtt" 3.1.1

# --inflight 20: mosquitto's receive maximum (max_inflight_messages 20);
# past it, a QoS 2 PUBLISH is refused and the connection dropped.
log "== wss://: QoS 0 and 2 delivered and accounted (QoS 1: test_ws_tls.sh)"
SUB_PUB_ARGS=(-u alice -P wonder) # start_sub's probe publisher logs in too
for qos in 0 2; do
	sub=$T/sub-$qos.txt
	start_sub "$sub" -u alice -P wonder -t 'blast/#' -q "$qos" || die "qos $qos: subscriber not ready"
	r=$T/wss-$qos.json
	run_blast 60 --target "wss://localhost:$P_WSS/mqtt" "${CA[@]}" --username alice \
		--password wonder --conns 2 --qos "$qos" --inflight 20 --messages 300 --payload-size 40 \
		--report "$r" --quiet
	[ "$BLAST_RC" -eq 0 ] || fail "wss qos $qos: blast exited $BLAST_RC: $(blast_why "$r")"
	wait_sub_count "$sub" 300 15
	check_marked_payloads "$sub" 300 2 40
	expect_json "$r" acked == 300
	expect_json "$r" errors eq '{}'
	expect_json "$r" handshake_us.ws_upgrade.count == 2
	check_accounting "$r"
	stop_pid "$SUB_PID"
done

log "== wss:// requiring a client certificate: given, and missing"
r=$T/wss-mtls.json
run_blast 60 --target "wss://localhost:$P_WSS_MTLS/mqtt" "${CA[@]}" --cert "$PKI/client.pem" \
	--cert-key "$PKI/client.key" --username alice --password wonder --qos 1 --messages 100 \
	--report "$r" --quiet
[ "$BLAST_RC" -eq 0 ] || fail "wss mtls: blast exited $BLAST_RC: $(blast_why "$r")"
expect_json "$r" acked == 100
check_accounting "$r"
r=$T/wss-mtls-refused.json
run_blast 30 --target "wss://localhost:$P_WSS_MTLS/mqtt" "${CA[@]}" --username alice \
	--password wonder --qos 1 --messages 5 --report "$r" --quiet
[ "$BLAST_RC" -eq 1 ] || fail "wss without a certificate: exit $BLAST_RC, want 1"
expect_json "$r" errors eq '{"tls_alert": 1}'
check_accounting "$r"
grep -q 'alert "certificate required"' "$T/blast.err" ||
	fail "wss without a certificate: not named: $(cat "$T/blast.err")"
pass
