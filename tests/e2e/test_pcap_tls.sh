#!/usr/bin/env bash
# --pcap with --keylog over TLS: tshark decrypts blast's capture with the
# key log blast wrote and counts exactly the PUBLISH and PUBACK packets
# blast counted (sent, acked), and a CONNECT/CONNACK per connection; blast's
# own reading of the capture, decrypted with the same key log, counts them too.
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
skip_unless_root
skip_unless_cmd tshark openssl mosquitto_sub
[ -x /usr/sbin/mosquitto ] || skip "/usr/sbin/mosquitto not installed"
require_blast

start_tls_mosquitto

r=$T/pcap.json
run_blast 60 --target "mqtts://127.0.0.1:$P_TLS" --cacert "$PKI/ca.pem" --conns 2 --qos 1 \
	--messages 300 --pcap "$T/tls.pcapng" --keylog "$T/keys.log" --report "$r" --quiet
[ "$BLAST_RC" -eq 0 ] || fail "blast exited $BLAST_RC: $(blast_why "$r")"
expect_json "$r" acked == 300
check_accounting "$r"
expect_json "$r" wire.requests == 300
expect_json "$r" wire.tls.decrypted == 2
[ -s "$T/keys.log" ] || die "no key log written"
tshark -r "$T/tls.pcapng" -o "tls.keylog_file:$T/keys.log" -d "tcp.port==$P_TLS,tls" \
	-d "tls.port==$P_TLS,mqtt" -Y mqtt -T fields -e mqtt.msgtype 2>"$T/tshark.err" |
	tr ',' '\n' | sort | uniq -c >"$T/types.txt"
count() { awk -v t="$1" '$2 == t { print $1 }' "$T/types.txt"; }
[ "$(count 3)" = 300 ] || fail "tshark PUBLISH $(count 3), want 300: $(cat "$T/types.txt" "$T/tshark.err")"
[ "$(count 4)" = 300 ] || fail "tshark PUBACK $(count 4), want 300"
[ "$(count 1)" = 2 ] || fail "tshark CONNECT $(count 1), want 2"
[ "$(count 2)" = 2 ] || fail "tshark CONNACK $(count 2), want 2"
pass
