#!/usr/bin/env bash
# MQTT over TLS into nats-server's MQTT listener (a second TLS server
# implementation: Go's crypto/tls), certificates made here: QoS 1
# delivered and accounted, TLS handshakes counted; the wrong-host
# certificate named there too, and plaintext sent to the TLS port.
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
skip_unless_cmd openssl
require_blast
[ -x /usr/sbin/nats-server ] || die "nats-server not installed (scripts/install-deps.sh installs it)"

PKI=$T/pki
make_test_pki "$PKI" || die "cannot make test certificates"
start_nats_mqtt "tls { cert_file: \"$PKI/server.pem\", key_file: \"$PKI/server.key\" }" ||
	die "cannot start nats-server"

r=$T/nats.json
run_blast 60 --target "mqtts://127.0.0.1:$NATS_MQTT_PORT" --cacert "$PKI/ca.pem" --conns 2 \
	--qos 1 --messages 400 --report "$r" --quiet
[ "$BLAST_RC" -eq 0 ] || fail "nats: blast exited $BLAST_RC: $(blast_why "$r")"
expect_json "$r" acked == 400
expect_json "$r" errors eq '{}'
expect_json "$r" handshake_us.tls_full.count == 2
expect_json "$r" handshake_us.protocol.count == 2
check_accounting "$r"

r=$T/nats-host.json
run_blast 30 --target "mqtts://127.0.0.1:$NATS_MQTT_PORT" --cacert "$PKI/ca.pem" \
	--sni other.example --messages 5 --report "$r" --quiet
[ "$BLAST_RC" -ne 0 ] || fail "wrong host: blast exited 0"
expect_json "$r" errors.tls_hostname == 1
grep -q 'not for this host' "$T/blast.err" || fail "wrong host: $(cat "$T/blast.err")"

# Plaintext MQTT to the TLS port: Go's server closes it without a word.
r=$T/nats-plain.json
run_blast 30 --target "127.0.0.1:$NATS_MQTT_PORT" --messages 5 --report "$r" --quiet
[ "$BLAST_RC" -eq 1 ] || fail "plaintext to TLS: exit $BLAST_RC, want 1"
expect_json "$r" errors eq '{"tls_server_plain_client": 1}'
check_accounting "$r"
grep -q 'a TLS port; use mqtts://HOST:PORT' "$T/blast.err" || fail "plaintext: $(cat "$T/blast.err")"
pass
