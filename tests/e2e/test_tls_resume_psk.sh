#!/usr/bin/env bash
# --tls-resume psk: TLS 1.3 tickets resumed by psk_ke, without a key
# exchange. Against mosquitto whose OpenSSL allows psk_ke and has only
# P-256 (OPENSSL_CONF: Options = AllowNoDHEKEX, Groups = P-256), --churn
# runs with --pcap and --keylog; tshark reads the ServerHellos:
#   - psk: every resumed handshake's ServerHello has a pre_shared_key and
#     no key_share (psk_ke), every full one a key_share; the report's full
#     and resumed counts match them, the run is accounted, and blast's
#     reading of its own capture decrypts every flow;
#   - ticket, same server: every ServerHello has a key_share (psk_dhe_ke);
#   - psk against a server with X25519 (OpenSSL's defaults): resumption
#     still works, with an X25519 key_share, as with tickets.
# Bad input: psk with --tls-version 1.2 is one line, exit 2.
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
skip_unless_root
skip_unless_cmd tshark openssl
[ -x /usr/sbin/mosquitto ] || skip "/usr/sbin/mosquitto not installed"
require_blast

openssl_sys_conf "$T/psk.cnf" "Options = AllowNoDHEKEX" "Groups = P-256"
PKI=$T/pki
make_test_pki "$PKI" || die "cannot make test certificates"
P_PSK=$(free_port)
mapfile -t lines < <(tls_listener "$P_PSK" "$PKI" server)
OPENSSL_CONF=$T/psk.cnf start_mosquitto "${lines[@]}" || die "cannot start mosquitto"
wait_until 5 port_open "$P_PSK" || die "TLS listener not up"
# A second broker on OpenSSL's defaults (X25519 among its groups).
P_DEF=$(free_port)
while [ "$P_DEF" = "$P_PSK" ]; do P_DEF=$(free_port); done
mapfile -t lines < <(tls_listener "$P_DEF" "$PKI" server)
MQ_DIR= MQ_PORT= start_mosquitto "${lines[@]}" || die "cannot start the second mosquitto"
wait_until 5 port_open "$P_DEF" || die "second TLS listener not up"

N=40
# hellos CAP PORT: "ALL KEYSHARE PSK_ONLY": the ServerHellos, those with a
# key_share (51), those with a pre_shared_key (41) and no key_share.
hellos() {
	tshark -r "$1" -d "tcp.port==$2,tls" -Y "tls.handshake.type == 2" -T fields \
		-e tls.handshake.extension.type 2>/dev/null | awk -F, '
		{ ks = 0; psk = 0; for (i = 1; i <= NF; i++) { ks += $i == 51; psk += $i == 41 }
		  all++; if (ks) k++; if (psk && !ks) p++ }
		END { print all + 0, k + 0, p + 0 }'
}

# run NAME PORT RESUME: a churn run (N connections, one worker, P-256 for
# full handshakes), its full and resumed counts in FULL and RES.
run() {
	local name=$1 port=$2 resume=$3
	run_blast 60 --target "mqtts://localhost:$port" --cacert "$PKI/ca.pem" --churn --qos 0 \
		--conns 2 --workers 1 --messages $N --tls-resume "$resume" --groups P-256 \
		--pcap "$T/$name.pcapng" --keylog "$T/$name.keys" --report "$T/$name.json" --quiet
	[ "$BLAST_RC" -eq 0 ] || fail "$name: blast exited $BLAST_RC: $(blast_why "$T/$name.json")"
	check_accounting "$T/$name.json"
	FULL=$(json_get "$T/$name.json" handshake_us.tls_full.count)
	RES=$(json_get "$T/$name.json" handshake_us.tls_resumed.count)
	[ "$((FULL + RES))" = $N ] || fail "$name: $FULL full + $RES resumed handshakes, want $N"
	[ "$RES" -ge $((N / 2)) ] || fail "$name: only $RES of $N handshakes resumed"
}

run psk "$P_PSK" psk
read -r all ks psk < <(hellos "$T/psk.pcapng" "$P_PSK")
[ "$all" = $N ] || fail "psk: $all ServerHellos, want $N"
[ "$psk" = "$RES" ] || fail "psk: $psk ServerHellos resumed without a key_share, want $RES (resumed)"
[ "$ks" = "$FULL" ] || fail "psk: $ks ServerHellos with a key_share, want $FULL (full)"
expect_json "$T/psk.json" wire.tls.decrypted == $N
log "psk: $FULL full, $RES resumed; ServerHellos $all, key_share $ks, psk_ke $psk"

run ticket "$P_PSK" ticket
read -r all ks psk < <(hellos "$T/ticket.pcapng" "$P_PSK")
[ "$all" = $N ] && [ "$ks" = $N ] && [ "$psk" = 0 ] ||
	fail "ticket: ServerHellos $all, with a key_share $ks, psk_ke $psk; want $N, $N, 0"
log "ticket: $FULL full, $RES resumed; ServerHellos $all, key_share $ks"

run psk-x25519 "$P_DEF" psk
read -r all ks psk < <(hellos "$T/psk-x25519.pcapng" "$P_DEF")
[ "$all" = $N ] && [ "$ks" = $N ] && [ "$psk" = 0 ] ||
	fail "psk, server with X25519: ServerHellos $all, with a key_share $ks, psk_ke $psk; want $N, $N, 0"
groups=$(tshark -r "$T/psk-x25519.pcapng" -d "tcp.port==$P_DEF,tls" -Y "tls.handshake.type == 2" \
	-T fields -e tls.handshake.extensions_key_share_group 2>/dev/null | sort | uniq -c | awk '{ print $2 ":" $1 }' | tr '\n' ' ')
log "psk, server with X25519: $FULL full, $RES resumed; key_share groups $groups"
case $groups in *29:"$RES"*) ;; *) fail "psk, server with X25519: resumed key_share groups $groups, want 29 (X25519) x $RES" ;; esac

run_blast 10 --target "mqtts://localhost:$P_PSK" --cacert "$PKI/ca.pem" --tls-resume psk \
	--tls-version 1.2 --messages 1
[ "$BLAST_RC" -eq 2 ] || fail "psk with --tls-version 1.2: exit $BLAST_RC, want 2"
grep -qx "blast: --tls-resume psk: psk_ke resumes TLS 1.3 tickets (drop --tls-version 1.2, or use --tls-resume id)" \
	"$T/blast.err" || fail "psk with --tls-version 1.2: $(cat "$T/blast.err")"
pass
