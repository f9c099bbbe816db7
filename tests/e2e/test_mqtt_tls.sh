#!/usr/bin/env bash
# MQTT over TLS (mqtts://) against a real mosquitto with TLS listeners and
# certificates made here with openssl: QoS 0/1/2 delivered and accounted,
# handshakes counted by stage, session resumption counted as resumed, mTLS
# required and refused, each verification failure named, --insecure, a
# TLS 1.2 handshake (the client's second flight), a version refused, the
# key log, a plaintext port and a server that stalls mid-handshake, and
# bad TLS flags refused before any connection.
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
skip_unless_cmd mosquitto_sub mosquitto_pub python3 openssl
[ -x /usr/sbin/mosquitto ] || skip "/usr/sbin/mosquitto not installed"
require_blast

PKI=$T/pki
make_test_pki "$PKI" || die "cannot make test certificates"
P_TLS=$(free_port) P_MTLS=$(free_port) P_EXP=$(free_port) P_WRONG=$(free_port) P_13=$(free_port)
mapfile -t lines < <(
	tls_listener "$P_TLS" "$PKI" server
	tls_listener "$P_MTLS" "$PKI" server "require_certificate true"
	tls_listener "$P_EXP" "$PKI" expired
	tls_listener "$P_WRONG" "$PKI" wronghost
	tls_listener "$P_13" "$PKI" server "tls_version tlsv1.3"
)
start_mosquitto "max_inflight_messages 100" "${lines[@]}" || die "cannot start mosquitto"
for p in "$P_TLS" "$P_MTLS" "$P_EXP" "$P_WRONG" "$P_13"; do
	wait_until 5 port_open "$p" || die "mosquitto TLS listener $p not up"
done
CA=(--cacert "$PKI/ca.pem")
N=600
CONNS=3

# A run that failed on TLS: exit non-zero, reason counted, one line saying it.
expect_tls_failure() { # WHAT REASON LINE-REGEX REPORT
	local what=$1 reason=$2 re=$3 r=$4
	[ "$BLAST_RC" -ne 0 ] || fail "$what: blast exited 0"
	[ "$BLAST_RC" -ne 2 ] || fail "$what: refused as usage: $(head -c 300 "$T/blast.err")"
	[ -s "$r" ] || { fail "$what: no report"; return; }
	expect_json "$r" "errors.$reason" -ge 1 || log "$what: errors $(json_get "$r" errors)"
	expect_json "$r" conns_ok == 0
	check_accounting "$r"
	grep -qE -e "$re" "$T/blast.err" ||
		fail "$what: no line matching /$re/ on stderr: $(head -c 300 "$T/blast.err")"
	[ "$(grep -c '^blast: TLS to ' "$T/blast.err")" -eq 1 ] ||
		fail "$what: want exactly one 'blast: TLS to' line: $(cat "$T/blast.err")"
}

log "== QoS 0, 1, 2 over TLS: delivered, accounted, handshakes by stage"
for qos in 0 1 2; do
	sub=$T/sub-$qos.txt
	start_sub "$sub" -t 'blast/#' -q "$qos" || die "qos $qos: subscriber not ready"
	r=$T/qos$qos.json
	run_blast 60 --target "mqtts://localhost:$P_TLS" "${CA[@]}" --conns $CONNS --qos "$qos" \
		--messages $N --payload-size 40 --report "$r" --quiet
	[ "$BLAST_RC" -eq 0 ] || fail "qos $qos: blast exited $BLAST_RC: $(blast_why "$r")"
	wait_sub_count "$sub" $N 15
	check_marked_payloads "$sub" $N $CONNS 40
	expect_json "$r" sent == $N
	expect_json "$r" acked == $N
	expect_json "$r" errors eq '{}'
	expect_json "$r" conns_ok == $CONNS
	expect_json "$r" handshake_us.tcp_connect.count == $CONNS
	expect_json "$r" handshake_us.tls_full.count == $CONNS
	expect_json "$r" handshake_us.protocol.count == $CONNS
	[ "$qos" -eq 0 ] || expect_json "$r" latency_us.count == $N
	check_accounting "$r"
	stop_pid "$SUB_PID"
done
grep -q "tls full" "$T/blast.out" || fail "summary has no 'tls full' row: $(cat "$T/blast.out")"

log "== big messages: sends of several records, every byte delivered"
# 40,000-byte payloads span three records each, and a send holds several:
# the records are written over the send's own plaintext (tls_bio.c), so
# the subscriber must get every byte as it was.
python3 -c 'import sys; sys.stdout.write("".join(chr(48 + i % 43) for i in range(40000)) + "\n")' \
	>"$T/big.txt"
sub=$T/sub-big.txt
start_sub "$sub" -t 'blast/#' -q 1 || die "big: subscriber not ready"
r=$T/big.json
run_blast 60 --target "mqtts://localhost:$P_TLS" "${CA[@]}" --conns 2 --qos 1 --messages 40 \
	--payload-file "$T/big.txt" --report "$r" --quiet
[ "$BLAST_RC" -eq 0 ] || fail "big: blast exited $BLAST_RC: $(blast_why "$r")"
wait_sub_count "$sub" 40 15
expect_json "$r" acked == 40
expect_json "$r" tls_records_out -ge 98 # 1.6 MB in records of at most 16 KiB
python3 - "$sub" "$T/big.txt" <<'EOF' || fail "big: payloads not delivered intact"
import sys
want = open(sys.argv[2], "rb").read().rstrip(b"\n").hex()
got = [l.split(" ", 1)[1].strip() for l in open(sys.argv[1]) if l.startswith("blast/")]
bad = sum(g != want for g in got)
print(f"{len(got)} payloads, {bad} not as sent", file=sys.stderr)
sys.exit(len(got) != 40 or bad != 0)
EOF
check_accounting "$r"
stop_pid "$SUB_PID"

log "== resumption: --churn reconnects resume the worker's sessions"
# The first connections open together (no session yet): full handshakes;
# every reconnect after them resumes one of the tickets the server gave.
r=$T/resume.json
run_blast 60 --target "mqtts://127.0.0.1:$P_TLS" "${CA[@]}" --conns 2 --workers 1 --churn \
	--qos 1 --messages 40 --report "$r" --quiet
[ "$BLAST_RC" -eq 0 ] || fail "churn: blast exited $BLAST_RC: $(blast_why "$r")"
expect_json "$r" acked == 40
expect_json "$r" conns_ok == 40
expect_json "$r" handshake_us.tls_full.count == 2
expect_json "$r" handshake_us.tls_resumed.count == 38
check_accounting "$r"
r=$T/resume-off.json
run_blast 60 --target "mqtts://127.0.0.1:$P_TLS" "${CA[@]}" --conns 2 --workers 1 --churn \
	--qos 1 --messages 20 --tls-resume off --report "$r" --quiet
[ "$BLAST_RC" -eq 0 ] || fail "resume off: blast exited $BLAST_RC: $(blast_why "$r")"
expect_json "$r" handshake_us.tls_resumed.count == 0
expect_json "$r" handshake_us.tls_full.count == 20

log "== TLS 1.2 (the client's second flight), with session ids, and the key log"
r=$T/tls12.json
run_blast 60 --target "mqtts://127.0.0.1:$P_TLS" "${CA[@]}" --tls-version 1.2 --tls-resume id \
	--conns 2 --workers 1 --churn --qos 1 --messages 20 --keylog "$T/keys.log" --report "$r" --quiet
[ "$BLAST_RC" -eq 0 ] || fail "tls 1.2: blast exited $BLAST_RC: $(blast_why "$r")"
expect_json "$r" acked == 20
expect_json "$r" handshake_us.tls_full.count == 2
expect_json "$r" handshake_us.tls_resumed.count == 18
[ "$(grep -c '^CLIENT_RANDOM ' "$T/keys.log")" -ge 20 ] ||
	fail "key log: want a CLIENT_RANDOM line per TLS 1.2 connection: $(wc -l <"$T/keys.log")"
SSLKEYLOGFILE=$T/env-keys.log run_blast 30 --target "mqtts://127.0.0.1:$P_TLS" "${CA[@]}" \
	--messages 5 --qos 1 --quiet
grep -q '^CLIENT_HANDSHAKE_TRAFFIC_SECRET ' "$T/env-keys.log" 2>/dev/null ||
	fail "SSLKEYLOGFILE: no TLS 1.3 secrets written"

log "== mTLS: required by the listener, given and refused"
r=$T/mtls.json
run_blast 60 --target "mqtts://127.0.0.1:$P_MTLS" "${CA[@]}" --cert "$PKI/client.pem" \
	--cert-key "$PKI/client.key" --qos 1 --messages 50 --report "$r" --quiet
[ "$BLAST_RC" -eq 0 ] || fail "mtls: blast exited $BLAST_RC: $(blast_why "$r")"
expect_json "$r" acked == 50
r=$T/mtls-refused.json
run_blast 30 --target "mqtts://127.0.0.1:$P_MTLS" "${CA[@]}" --qos 1 --messages 5 --report "$r" --quiet
expect_tls_failure "mtls without a certificate" tls_alert 'alert "certificate required"' "$r"

log "== verification failures, named"
r=$T/expired.json
run_blast 30 --target "mqtts://127.0.0.1:$P_EXP" "${CA[@]}" --messages 5 --report "$r" --quiet
expect_tls_failure "expired" tls_verify 'certificate verification failed: certificate has expired' "$r"
r=$T/wronghost.json
run_blast 30 --target "mqtts://127.0.0.1:$P_WRONG" "${CA[@]}" --messages 5 --report "$r" --quiet
expect_tls_failure "wrong host" tls_hostname 'not for this host' "$r"
r=$T/untrusted.json
run_blast 30 --target "mqtts://127.0.0.1:$P_TLS" --messages 5 --report "$r" --quiet
expect_tls_failure "unknown CA" tls_verify 'certificate verification failed: self.signed' "$r"
r=$T/sni.json
run_blast 30 --target "mqtts://127.0.0.1:$P_TLS" "${CA[@]}" --sni other.example --messages 5 \
	--report "$r" --quiet
expect_tls_failure "--sni naming another host" tls_hostname 'not for this host' "$r"

log "== --insecure connects anyway"
for p in "$P_EXP" "$P_WRONG"; do
	r=$T/insecure-$p.json
	run_blast 30 --target "mqtts://127.0.0.1:$p" --insecure --qos 1 --messages 20 --report "$r" --quiet
	[ "$BLAST_RC" -eq 0 ] || fail "--insecure: blast exited $BLAST_RC: $(blast_why "$r")"
	expect_json "$r" acked == 20
done

log "== a version the server refuses"
r=$T/version.json
run_blast 30 --target "mqtts://127.0.0.1:$P_13" "${CA[@]}" --tls-version 1.2 --messages 5 \
	--report "$r" --quiet
expect_tls_failure "TLS 1.2 to a 1.3-only listener" tls_version 'protocol version' "$r"

log "== a plaintext MQTT port asked for TLS"
r=$T/plain.json
run_blast 30 --target "mqtts://127.0.0.1:$MQ_PORT" "${CA[@]}" --messages 5 --report "$r" --quiet
expect_tls_failure "plaintext port" tls_not_tls 'plaintext port' "$r"

log "== a server that accepts and says nothing: the handshake timeout"
STALL_PORT=$(free_port)
python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(16)
held = []
end = time.time() + 60
while time.time() < end:
    s.settimeout(1)
    try:
        c, _ = s.accept(); held.append(c)
    except socket.timeout:
        pass
' "$STALL_PORT" &
STALL_PID=$!
track "$STALL_PID"
wait_until 5 port_open "$STALL_PORT" || die "stalling server not up"
r=$T/stall.json
run_blast 40 --target "mqtts://127.0.0.1:$STALL_PORT" "${CA[@]}" --messages 5 --report "$r" --quiet
expect_tls_failure "stalled handshake" tls_handshake_timeout 'no answer to the ClientHello' "$r"
stop_pid "$STALL_PID"

log "== bad TLS flags: one line, exit 2, before any connection"
before=$(mosquitto_connects)
echo "not a certificate" >"$T/junk.pem"
bad() { # WANT-REGEX ARGS...
	local re=$1
	shift
	run_blast 10 "$@" --messages 1 --quiet
	[ "$BLAST_RC" -eq 2 ] || fail "blast $*: exit $BLAST_RC, want 2"
	[ "$(wc -l <"$T/blast.err")" -eq 1 ] || fail "blast $*: want one line: $(cat "$T/blast.err")"
	grep -qE -e "$re" "$T/blast.err" || fail "blast $*: /$re/ not in: $(cat "$T/blast.err")"
}
TGT=(--target "mqtts://127.0.0.1:$P_TLS")
bad '--cacert .*/nope.pem.*No such file' "${TGT[@]}" --cacert "$T/nope.pem"
bad '--cacert .*no CA certificate read' "${TGT[@]}" --cacert "$T/junk.pem"
bad '--cert .*not a PEM certificate' "${TGT[@]}" --cert "$T/junk.pem" --cert-key "$PKI/client.key"
bad 'does not match' "${TGT[@]}" --cert "$PKI/client.pem" --cert-key "$PKI/server.key"
bad '--cert and --cert-key go together' "${TGT[@]}" --cert "$PKI/client.pem"
bad '--tls-version 1.4' "${TGT[@]}" --tls-version 1.4
bad '--tls-resume id' "${TGT[@]}" --tls-resume id
bad '--ciphers' "${TGT[@]}" --ciphers NOPE-CIPHER
bad '--ciphersuites' "${TGT[@]}" --ciphersuites TLS_NOPE
bad '--groups' "${TGT[@]}" --groups nope
bad '--alpn' "${TGT[@]}" --alpn 'mqtt,'
bad '--cacert is for TLS targets' --target "127.0.0.1:$MQ_PORT" --cacert "$PKI/ca.pem"
bad 'either every target is TLS' "${TGT[@]}" --target "127.0.0.1:$MQ_PORT"
[ "$(mosquitto_connects)" -eq "$before" ] || fail "bad flags: a connection reached the broker"
pass
