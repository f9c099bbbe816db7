#!/usr/bin/env bash
# A client certificate per connection (--cert-dir, --cert-list), as
# platforms that give each device its own identity want. mosquitto
# requires a certificate and takes its CN as the username
# (use_identity_as_username); its ACL lets user dev-I publish only under
# devices/dev-I/. So connection {conn} publishing to devices/dev-{conn}/t
# is accepted only with dev-{conn}'s certificate: a wrong pairing (a list
# in another order) is refused (MQTT 5: PUBACK "not authorized"), and a
# resumed session must carry its own device's identity (--churn with
# tickets and with TLS 1.2 session ids). Bad files: one line, exit 2,
# before any connection.
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
skip_unless_cmd mosquitto_sub mosquitto_pub python3 openssl
[ -x /usr/sbin/mosquitto ] || skip "/usr/sbin/mosquitto not installed"
require_blast

PKI=$T/pki
DEV=$T/devices
make_test_pki "$PKI" || die "cannot make test certificates"
make_device_certs "$PKI" "$DEV" 4 || die "cannot make device certificates"
# Anonymous clients (the test's subscriber, on the plaintext listener)
# read everything; each device writes under its own name only.
printf '%s\n' "topic read #" "topic write blast-probe/#" "pattern write devices/%u/#" >"$T/acl"
P_DEV=$(free_port)
mapfile -t lines < <(tls_listener "$P_DEV" "$PKI" server "require_certificate true" \
	"use_identity_as_username true")
start_mosquitto "acl_file $T/acl" "${lines[@]}" || die "cannot start mosquitto"
wait_until 5 port_open "$P_DEV" || die "TLS listener not up"
COMMON=(--target "mqtts://localhost:$P_DEV" --cacert "$PKI/ca.pem" --mqtt-version 5 --qos 1
	--topic 'devices/dev-{conn}/t' --client-id 'dev-{conn}' --payload-size 40)

log "== --cert-dir: connection {conn} is device dev-{conn}"
sub=$T/sub.txt
start_sub "$sub" -t 'devices/#' -q 1 || die "subscriber not ready"
r=$T/dir.json
run_blast 60 "${COMMON[@]}" --cert-dir "$DEV" --conns 4 --messages 400 --report "$r" --quiet
[ "$BLAST_RC" -eq 0 ] || fail "--cert-dir: blast exited $BLAST_RC: $(blast_why "$r")"
expect_json "$r" acked == 400
expect_json "$r" errors eq '{}'
expect_json "$r" conns_ok == 4
check_accounting "$r"
wait_sub_count "$sub" 400 15
[ "$(sub_count "$sub")" -eq 400 ] || fail "--cert-dir: the subscriber got $(sub_count "$sub") of 400"
for i in 0 1 2 3; do
	grep -q "^devices/dev-$i/t " "$sub" || fail "--cert-dir: nothing on devices/dev-$i/t"
done
grep -q "New client connected .* as dev-3 .*u'dev-3'" "$MQ_LOG" ||
	fail "the broker did not see dev-3 as user dev-3: $(grep 'as dev-3' "$MQ_LOG" | head -2)"
stop_pid "$SUB_PID"

log "== --cert-list: the same pairs listed; in the wrong order they are refused"
printf '%s\n' "# device certificates" "dev-0.crt dev-0.key" "" "dev-1.crt   dev-1.key" \
	"$DEV/dev-2.crt $DEV/dev-2.key" "dev-3.crt dev-3.key" >"$DEV/list"
r=$T/list.json
run_blast 60 "${COMMON[@]}" --cert-list "$DEV/list" --conns 4 --messages 200 --report "$r" --quiet
[ "$BLAST_RC" -eq 0 ] || fail "--cert-list: blast exited $BLAST_RC: $(blast_why "$r")"
expect_json "$r" acked == 200
expect_json "$r" errors eq '{}'
check_accounting "$r"
printf '%s\n' "dev-1.crt dev-1.key" "dev-0.crt dev-0.key" >"$DEV/swapped"
r=$T/swapped.json
run_blast 60 "${COMMON[@]}" --cert-list "$DEV/swapped" --conns 2 --messages 20 --report "$r" --quiet
[ "$BLAST_RC" -ne 0 ] || fail "swapped identities: blast exited 0"
expect_json "$r" acked == 0
expect_json "$r" failed == 20
expect_json "$r" errors.puback:not_authorized -ge 1
check_accounting "$r"

log "== resumed sessions keep each device's identity"
for mode in ticket id; do
	extra=()
	[ "$mode" = id ] && extra=(--tls-version 1.2)
	r=$T/churn-$mode.json
	run_blast 60 "${COMMON[@]}" --cert-dir "$DEV" --conns 4 --workers 1 --churn --messages 40 \
		--tls-resume "$mode" "${extra[@]}" --report "$r" --quiet
	[ "$BLAST_RC" -eq 0 ] || fail "churn $mode: blast exited $BLAST_RC: $(blast_why "$r")"
	expect_json "$r" acked == 40
	expect_json "$r" errors eq '{}'
	expect_json "$r" conns_ok == 40
	expect_json "$r" handshake_us.tls_full.count == 4
	expect_json "$r" handshake_us.tls_resumed.count == 36
	check_accounting "$r"
done

log "== bad certificate files: one line, exit 2, no connection"
before=$(mosquitto_connects)
bad() { # WANT-REGEX ARGS...
	local re=$1
	shift
	run_blast 10 --target "mqtts://localhost:$P_DEV" --cacert "$PKI/ca.pem" "$@" --messages 1 --quiet
	[ "$BLAST_RC" -eq 2 ] || fail "blast $*: exit $BLAST_RC, want 2"
	[ "$(wc -l <"$T/blast.err")" -eq 1 ] || fail "blast $*: want one line: $(cat "$T/blast.err")"
	grep -qE -e "$re" "$T/blast.err" || fail "blast $*: /$re/ not in: $(cat "$T/blast.err")"
}
mkdir -p "$T/nokey" "$T/empty" "$T/mismatch"
cp "$DEV/dev-0.crt" "$DEV/dev-0.key" "$DEV/dev-1.crt" "$T/nokey/"
bad "--cert-dir $T/nokey: $T/nokey/dev-1.key: No such file" --cert-dir "$T/nokey"
bad "--cert-dir $T/empty: no NAME.crt files" --cert-dir "$T/empty"
bad "--cert-dir $T/nope: No such file" --cert-dir "$T/nope"
cp "$DEV/dev-0.crt" "$T/mismatch/a.crt" && cp "$DEV/dev-1.key" "$T/mismatch/a.key"
bad "--cert-dir $T/mismatch: the key $T/mismatch/a.key does not match the certificate" \
	--cert-dir "$T/mismatch"
echo "not a key" >"$T/mismatch/b.key" && cp "$DEV/dev-0.crt" "$T/mismatch/b.crt"
printf '%s\n' "a.crt b.key" >"$T/mismatch/list-junk"
bad "--cert-list $T/mismatch/list-junk line 1: $T/mismatch/b.key: not a PEM private key" \
	--cert-list "$T/mismatch/list-junk"
printf '%s\n' "# nothing" "dev-0.crt" >"$DEV/one-field"
bad "--cert-list $DEV/one-field line 2: want \"CERT KEY\"" --cert-list "$DEV/one-field"
printf '%s\n' "dev-0.crt dev-9.key" >"$DEV/missing"
bad "--cert-list $DEV/missing line 1: $DEV/dev-9.key: No such file" --cert-list "$DEV/missing"
bad "--cert-list $T/nope: No such file" --cert-list "$T/nope"
bad "one source of client certificates" --cert-dir "$DEV" --cert-list "$DEV/list"
[ "$(mosquitto_connects)" -eq "$before" ] || fail "bad files: a connection reached the broker"
pass
