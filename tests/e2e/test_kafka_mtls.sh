#!/usr/bin/env bash
# Kafka over TLS 1.3 with a client certificate the terminators require
# (socat verify=1): the client's last handshake flight (Certificate,
# CertificateVerify, Finished) is owed when the first produce is built.
# The chain sent is made long (the leaf, then the CA 100 times: about
# 80 kB) and the one produce of 7000 small records nearly fills its send
# buffer: sealed behind that flight, the records would not all fit the
# buffer's room, and the produce's tail would never leave (no ack, all
# 7000 unacked). Every record must be acked.
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
skip_unless_cmd socat openssl ip python3
skip_unless_root
require_blast
require_kafka_tools

PKI=$T/pki
make_test_pki "$PKI" || die "cannot make test certificates"
for i in $(seq 100); do cat "$PKI/ca.pem"; done | cat "$PKI/client.pem" - >"$T/chain.pem"
start_kafka_mock 1 "w:8" || die "cannot start the Kafka mock"
start_kafka_ns mtls --tls "$PKI" --mtls
blast_in_kafka_ns
CA=(--cacert "$PKI/ca.pem")

log "== no client certificate: refused by the terminator"
run_blast 20 --proto kafka --target "kafka+ssl://$KAFKA_BOOTSTRAP" "${CA[@]}" --topic w \
	--messages 10 --tls-version 1.3
[ "$BLAST_RC" -ne 0 ] || fail "no client certificate: blast exited 0"

log "== a long chain, produces filling their buffer: every record acked"
for n in 1 7000; do
	r=$T/mtls-$n.json
	run_blast 30 --proto kafka --target "kafka+ssl://$KAFKA_BOOTSTRAP" "${CA[@]}" \
		--cert "$T/chain.pem" --cert-key "$PKI/client.key" --tls-version 1.3 --topic w \
		--conns 1 --messages $n --payload-size 32 --batch-size 65536 --linger 50 \
		--report "$r" --quiet
	[ "$BLAST_RC" -eq 0 ] || fail "$n messages: blast exited $BLAST_RC: $(blast_why "$r")"
	expect_json "$r" sent == $n
	expect_json "$r" acked == $n
	expect_json "$r" errors eq '{}'
	expect_json "$r" handshake_us.tls_full.count == 1
	check_accounting "$r"
done

pass
