#!/usr/bin/env bash
# `blast analyze --keylog` under the suites beyond AES-GCM and ChaCha20
# (test_analyze_tls.sh has those): TLS 1.3 AES-128-CCM and AES-128-CCM-8;
# TLS 1.2 AES-CCM and AES-CCM-8 (RSA), ECDHE-ECDSA AES-CCM (a P-256 server
# key on a second listener), and AES-CBC with HMAC-SHA1, -SHA256 and
# -SHA384, both with encrypt_then_mac (RFC 7366, what OpenSSL agrees to by
# default) and, with blast's OpenSSL told not to offer it, MAC then encrypt.
# Against mosquitto's TLS listeners opened to these suites (`ciphers`,
# `ciphers_tls1.3`), one QoS 1 run per suite with --pcap and --keylog:
#   - tshark shows the suite and whether encrypt_then_mac was agreed, as
#     asked, and decrypting the capture with the key log counts PUBLISH and
#     PUBACK equal to the run's acked;
#   - blast analyze --keylog counts the same requests and acks, both flows
#     decrypted, nothing unparsed, exit 0, and the run's own --pcap reading
#     says the same.
# Bad records: a CBC capture read with wrong secrets fails on the MAC (with
# encrypt_then_mac) or on padding or MAC (MAC then encrypt), named in the
# warning, exit 1, nothing counted.
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
skip_unless_root
skip_unless_cmd tshark openssl
[ -x /usr/sbin/mosquitto ] || skip "/usr/sbin/mosquitto not installed"
require_blast

N=200
PKI=$T/pki
make_test_pki "$PKI" && make_ec_server_cert "$PKI" || die "cannot make test certificates"
P_RSA=$(free_port)
P_EC=$(free_port)
while [ "$P_EC" = "$P_RSA" ]; do P_EC=$(free_port); done
suites13=TLS_AES_128_CCM_SHA256:TLS_AES_128_CCM_8_SHA256:TLS_AES_128_GCM_SHA256
open=("ciphers ALL" "ciphers_tls1.3 $suites13")
mapfile -t lines < <(tls_listener "$P_RSA" "$PKI" server "${open[@]}"
	tls_listener "$P_EC" "$PKI" server-ec "${open[@]}")
start_mosquitto "${lines[@]}" || die "cannot start mosquitto"
wait_until 5 port_open "$P_RSA" && wait_until 5 port_open "$P_EC" || die "TLS listeners not up"

# An OpenSSL config under which blast does not offer encrypt_then_mac.
openssl_sys_conf "$T/no-etm.cnf" "Options = -EncryptThenMac"

# tshark_read CAP KEYS PORT: "SUITES ETM PUBLISH PUBACK": the ServerHellos'
# suites (hex, sorted, unique), how many agreed to encrypt_then_mac (type
# 22), and the MQTT packets tshark finds decrypting with the key log.
tshark_read() {
	local suites etm counts
	suites=$(tshark -r "$1" -d "tcp.port==$3,tls" -Y "tls.handshake.type == 2" -T fields \
		-e tls.handshake.ciphersuite 2>/dev/null | sort -u | tr '\n' ',' | sed 's/,$//')
	etm=$(tshark -r "$1" -d "tcp.port==$3,tls" -Y "tls.handshake.type == 2 && tls.handshake.extension.type == 22" \
		-T fields -e frame.number 2>/dev/null | wc -l)
	counts=$(tshark -r "$1" -o "tls.keylog_file:$2" -d "tcp.port==$3,tls" -d "tls.port==$3,mqtt" \
		-Y mqtt -T fields -e mqtt.msgtype 2>/dev/null |
		tr ',' '\n' | awk '$1 == 3 { p++ } $1 == 4 { a++ } END { print p + 0, a + 0 }')
	echo "${suites:-none} $etm $counts"
}

# VERSION SUITE ID LISTENER ETM(1: agreed, 0: blast does not offer it)
cases=(
	"1.3 TLS_AES_128_CCM_SHA256 0x1304 rsa 0"
	"1.3 TLS_AES_128_CCM_8_SHA256 0x1305 rsa 0"
	"1.2 AES128-CCM 0xc09c rsa 0"
	"1.2 AES128-CCM8 0xc0a0 rsa 0"
	"1.2 ECDHE-ECDSA-AES128-CCM 0xc0ac ec 0"
	"1.2 ECDHE-RSA-AES128-SHA 0xc013 rsa 1"
	"1.2 ECDHE-RSA-AES256-SHA384 0xc028 rsa 1"
	"1.2 AES128-SHA256 0x003c rsa 1"
	"1.2 ECDHE-ECDSA-AES256-SHA 0xc00a ec 1"
	"1.2 ECDHE-RSA-AES128-SHA 0xc013 rsa 0"
	"1.2 ECDHE-RSA-AES256-SHA384 0xc028 rsa 0"
)
for c in "${cases[@]}"; do
	read -r v suite id which etm <<<"$c"
	name=$suite-etm$etm
	[ "$v" = 1.2 ] || name=$suite
	flag=--ciphersuites
	[ "$v" = 1.3 ] || flag=--ciphers
	port=$P_RSA
	[ "$which" = rsa ] || port=$P_EC
	conf=${OPENSSL_CONF:-}
	[ "$v" = 1.3 ] || [ "$etm" = 1 ] || conf=$T/no-etm.cnf
	d=$T/$name
	mkdir -p "$d"
	OPENSSL_CONF=$conf run_blast 60 --target "mqtts://127.0.0.1:$port" --cacert "$PKI/ca.pem" --conns 2 --qos 1 \
		--messages $N --tls-version "$v" "$flag" "$suite" --pcap "$d/cap.pcapng" \
		--keylog "$d/keys.log" --report "$d/run.json" --quiet
	[ "$BLAST_RC" -eq 0 ] || { fail "$name: blast exited $BLAST_RC: $(blast_why "$d/run.json")"; continue; }
	check_accounting "$d/run.json"
	read -r got_suite got_etm pub ack < <(tshark_read "$d/cap.pcapng" "$d/keys.log" "$port")
	[ "$got_suite" = "$id" ] || fail "$name: the ServerHellos chose $got_suite, want $id"
	want_etm=0
	[ "$etm" = 0 ] || want_etm=2
	[ "$got_etm" = "$want_etm" ] ||
		fail "$name: $got_etm ServerHellos agreed to encrypt_then_mac, want $want_etm"
	[ "$pub" = $N ] && [ "$ack" = $N ] || fail "$name: tshark PUBLISH $pub PUBACK $ack, want $N each"
	timeout 30 "$BLAST" analyze "$d/cap.pcapng" --keylog "$d/keys.log" --report "$d/an.json" \
		>"$d/an.out" 2>"$d/an.err" || fail "$name: blast analyze exited $?: $(head -c 600 "$d/an.err")"
	check_analysis "$name" "$d/run.json" "$d/an.json" run.acked=$N run.wire.requests=$N run.wire.acks=$N \
		run.wire.tls.decrypted=2 an.wire.requests="$pub" an.wire.acks="$ack" \
		an.wire.unmatched=0 an.wire.unparsed=0 an.wire.tls.flows=2 an.wire.tls.decrypted=2 \
		an.wire.tls.failed=0 an.flows.0.tls=decrypted an.flows.1.tls=decrypted
	log "$name: run acked $N in ${BLAST_SECS}s, tshark $pub/$ack, suite $got_suite, etm $got_etm"
done

# Wrong secrets (every secret's last digit changed) on CBC captures.
for c in "ECDHE-RSA-AES128-SHA-etm1 its MAC does not match" \
	"ECDHE-RSA-AES128-SHA-etm0 its (padding is bad|MAC does not match)"; do
	read -r name why <<<"$c"
	d=$T/$name
	sed -e 's/[0-9a-e]$/f/;t' -e 's/f$/0/' "$d/keys.log" >"$d/wrong.log"
	timeout 30 "$BLAST" analyze "$d/cap.pcapng" --keylog "$d/wrong.log" --report "$d/wrong.json" \
		>"$d/wrong.out" 2>"$d/wrong.err"
	rc=$?
	[ "$rc" -eq 1 ] || fail "$name, wrong secrets: exit $rc, want 1"
	grep -Eq "warning: 2 TLS flows could not be decrypted: .*the (client|server)'s record 1 does not decrypt with the logged keys: $why\)" \
		"$d/wrong.err" || fail "$name, wrong secrets: $(cat "$d/wrong.err")"
	check_analysis "$name" - "$d/wrong.json" an.wire.tls.failed=2 an.wire.requests=0 an.wire.acks=0
done
pass
