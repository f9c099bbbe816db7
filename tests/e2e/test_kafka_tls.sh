#!/usr/bin/env bash
# Kafka over TLS against librdkafka's mock cluster (2 brokers, topics t and
# u with 4 partitions each) behind socat TLS terminators (tests/lib/kafka.sh,
# start_kafka_ns: inside a namespace of the test's own, every address
# the mock advertises is a TLS listener). blast produces with --tls and
# with kafka+ssl:// targets: every record acked and accounted, one full
# TLS handshake per connection (bootstrap's aside) and no protocol stage
# without SASL; kcat reads the records back over TLS in the same
# namespace, and librdkafka's consumer reads them back over plaintext and
# checks every value. Then what must fail with one line and no run: TLS to
# a plaintext port, plaintext to a TLS port, a certificate from a CA not
# given, and SASL asked of a broker that offers none (the mock).
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
skip_unless_cmd socat kcat openssl ip python3
skip_unless_root
require_blast
require_kafka_tools

PKI=$T/pki
make_test_pki "$PKI" || die "cannot make test certificates"
start_kafka_mock 2 "t:4" "u:4" || die "cannot start the Kafka mock"
start_kafka_ns tls --tls "$PKI"
# blast runs inside the namespace, where the advertised addresses are TLS.
blast_in_kafka_ns
N=1000
CONNS=3
CA=(--cacert "$PKI/ca.pem")

# One line on stderr matching RE, exit 2 (refused before the run), no report.
expect_refused() { # WHAT RE
	[ "$BLAST_RC" -eq 2 ] || fail "$1: exit $BLAST_RC, want 2: $(head -c 300 "$T/blast.err")"
	[ "$(wc -l <"$T/blast.err")" -eq 1 ] || fail "$1: want one line: $(cat "$T/blast.err")"
	grep -qE -e "$2" "$T/blast.err" || fail "$1: no line matching /$2/: $(cat "$T/blast.err")"
}

log "== --tls and kafka+ssl://: every record acked, one TLS handshake per connection"
for topic in t u; do
	r=$T/tls-$topic.json
	how=(--target "$KAFKA_BOOTSTRAP" --tls)
	[ $topic = t ] || how=(--target "kafka+ssl://$KAFKA_BOOTSTRAP")
	run_blast 60 --proto kafka "${how[@]}" "${CA[@]}" --topic $topic --conns $CONNS \
		--messages $N --payload-size 32 --report "$r" --quiet
	[ "$BLAST_RC" -eq 0 ] || fail "${how[*]}: blast exited $BLAST_RC: $(blast_why "$r")"
	expect_json "$r" sent == $N
	expect_json "$r" acked == $N
	expect_json "$r" errors eq '{}'
	expect_json "$r" config.tls eq true
	expect_json "$r" config.sasl_mechanism eq none
	conns=$(json_get "$r" conns_ok)
	[ "${conns:-0}" -ge $CONNS ] || fail "${how[*]}: conns_ok $conns, want >= $CONNS"
	expect_json "$r" handshake_us.tcp_connect.count == "$conns"
	expect_json "$r" handshake_us.tls_full.count == "$conns"
	expect_json "$r" handshake_us.protocol.count == 0
	check_accounting "$r"
done

log "== kcat reads them back over TLS; librdkafka's consumer checks every value"
for topic in t u; do
	k=$T/kcat-$topic.txt
	in_kafka_ns timeout 30 kcat -b "$KAFKA_BOOTSTRAP" -X security.protocol=ssl \
		-X "ssl.ca.location=$PKI/ca.pem" -C -t $topic -o beginning -e -q -f '%p %o %S\n' \
		>"$k" 2>"$T/kcat.err" || fail "kcat over TLS failed: $(tail -n 3 "$T/kcat.err")"
	[ "$(wc -l <"$k")" -eq $N ] || fail "kcat over TLS read $(wc -l <"$k") records of $topic, want $N"
	awk '$3 != 32' "$k" | head -n 3 | grep . && fail "kcat: values of $topic not 32 bytes"
	kafka_consume $topic $N 5 >"$T/records-$topic.txt" || fail "consumer reported errors (bad CRC?)"
	check_kafka_records "$T/records-$topic.txt" count=$N size=32
done

log "== TLS to the mock's plaintext port, from outside the namespace"
BLAST=$BLAST_OUTSIDE run_blast 20 --proto kafka --target "kafka+ssl://$KAFKA_BOOTSTRAP" "${CA[@]}" \
	--topic t --messages 10
expect_refused "TLS to plaintext" "^blast: $KAFKA_BOOTSTRAP: .*TLS handshake.*is it a TLS port"

log "== plaintext to a TLS port"
run_blast 20 --proto kafka --target "$KAFKA_BOOTSTRAP" --topic t --messages 10
expect_refused "plaintext to TLS" "^blast: $KAFKA_BOOTSTRAP: no Kafka answer to ApiVersions.*is it a TLS port"

log "== a certificate from a CA blast was not given"
run_blast 20 --proto kafka --target "kafka+ssl://$KAFKA_BOOTSTRAP" --topic t --messages 10
expect_refused "unknown CA" "^blast: $KAFKA_BOOTSTRAP: certificate verification failed: "

log "== SASL asked of a broker that offers none (librdkafka's mock has no SASL)"
run_blast 20 --proto kafka --target "kafka+ssl://$KAFKA_BOOTSTRAP" "${CA[@]}" --topic t \
	--messages 10 --sasl-mechanism SCRAM-SHA-256 --sasl-username u --sasl-password p
expect_refused "SASL to the mock" "^blast: $KAFKA_BOOTSTRAP: the broker offers no SASL"

pass
