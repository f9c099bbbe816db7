#!/usr/bin/env bash
# `blast analyze --keylog`: TLS flows in a capture decrypted with the key
# log and matched as in the clear. Against mosquitto's TLS listener, one
# QoS 1 run per suite (TLS 1.3: AES-256-GCM with SHA-384, ChaCha20-Poly1305;
# TLS 1.2: ECDHE-RSA with AES-128-GCM, ChaCha20-Poly1305; AES-128-GCM under
# TLS 1.3 is tests/unit/test_tls_decrypt.c's, on RFC 8448's records), each
# with --pcap and --keylog:
#   - blast analyze --keylog counts requests and acks equal to the run's
#     acked, both flows decrypted, exit 0, and the run's own --pcap
#     analysis (which uses its --keylog) says the same; for the first suite
#     of each version tshark decrypts the capture with the key log and
#     counts the same PUBLISH and PUBACK;
#   - without --keylog, analyze names both flows as TLS-encrypted (exit 1,
#     the report's wire.tls.no_key 2) and counts nothing inside them.
# Bad input: a missing and a garbled key log are one line and exit 2; a key
# log of another run matches no flow (a warning, exit 1, the counts); a key
# log whose secrets are wrong fails to decrypt (a warning naming why).
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
skip_unless_root
skip_unless_cmd tshark openssl
[ -x /usr/sbin/mosquitto ] || skip "/usr/sbin/mosquitto not installed"
require_blast

N=200
start_tls_mosquitto

# analyze NAME WANT_RC ARGS...: blast analyze, output in $T/NAME.out/.err.
analyze() {
	local name=$1 want=$2 rc
	shift 2
	timeout 30 "$BLAST" analyze "$@" >"$T/$name.out" 2>"$T/$name.err"
	rc=$?
	[ "$rc" -eq "$want" ] ||
		fail "$name: blast analyze $* exited $rc, want $want: $(head -c 600 "$T/$name.err")"
}

# tshark_count CAP KEYS: "PUBLISH PUBACK", the MQTT packets tshark finds
# in the capture decrypted with the key log.
tshark_count() {
	tshark -r "$1" -o "tls.keylog_file:$2" -d "tcp.port==$P_TLS,tls" \
		-d "tls.port==$P_TLS,mqtt" -Y mqtt -T fields -e mqtt.msgtype 2>/dev/null |
		tr ',' '\n' | awk '$1 == 3 { p++ } $1 == 4 { a++ } END { print p + 0, a + 0 }'
}

for c in "1.3 TLS_AES_256_GCM_SHA384 tshark" "1.3 TLS_CHACHA20_POLY1305_SHA256 -" \
	"1.2 ECDHE-RSA-AES128-GCM-SHA256 tshark" "1.2 ECDHE-RSA-CHACHA20-POLY1305 -"; do
	read -r v suite ts <<<"$c"
	flag=--ciphersuites
	[ "$v" = 1.3 ] || flag=--ciphers
	d=$T/$suite
	mkdir -p "$d"
	run_blast 30 --target "mqtts://127.0.0.1:$P_TLS" --cacert "$PKI/ca.pem" --conns 2 --qos 1 \
		--messages $N --tls-version "$v" "$flag" "$suite" --pcap "$d/cap.pcapng" \
		--keylog "$d/keys.log" --report "$d/run.json" --quiet
	[ "$BLAST_RC" -eq 0 ] || { fail "$suite: blast exited $BLAST_RC: $(blast_why "$d/run.json")"; continue; }
	check_accounting "$d/run.json"
	pub=$N ack=$N
	if [ "$ts" = tshark ]; then
		read -r pub ack < <(tshark_count "$d/cap.pcapng" "$d/keys.log")
		[ "$pub" = $N ] && [ "$ack" = $N ] ||
			fail "$suite: tshark PUBLISH $pub PUBACK $ack, want $N each"
	fi
	analyze "$suite" 0 "$d/cap.pcapng" --keylog "$d/keys.log" --report "$d/an.json" \
		--html "$d/an.html"
	# The run's own reading of its capture (with its own key log) and analyze's.
	check_analysis "$suite" "$d/run.json" "$d/an.json" run.acked=$N run.wire.source=pcap \
		run.wire.requests=$N run.wire.acks=$N run.wire.tls.decrypted=2 \
		an.wire.requests="$pub" an.wire.acks="$ack" an.wire.unmatched=0 an.wire.unparsed=0 \
		an.wire.tls.flows=2 an.wire.tls.decrypted=2 an.wire.tls.no_key=0 an.wire.tls.failed=0 \
		an.capture.flows_by_proto.mqtt=2 an.flows.0.tls=decrypted an.flows.1.tls=decrypted
	[ "$(grep -c '<td>mqtt over TLS, decrypted</td>' "$d/an.html")" = 2 ] ||
		fail "$suite: the page does not show both flows decrypted"
	grep -q "^tls          2 flows: decrypted 2  no key 0  failed 0" "$T/$suite.out" ||
		fail "$suite: no tls line in the table: $(cat "$T/$suite.out")"
	log "$suite: run acked $N in ${BLAST_SECS}s, tshark $pub/$ack"
done

c13=$T/TLS_AES_256_GCM_SHA384
c12=$T/ECDHE-RSA-AES128-GCM-SHA256

# Without --keylog: the flows are named as encrypted, nothing is counted in them.
analyze nokeys 1 "$c13/cap.pcapng" --report "$T/nokeys.json"
grep -q "warning: 2 flows are TLS-encrypted and not read: 127.0.0.1:[0-9]* -> 127.0.0.1:$P_TLS, 127.0.0.1:[0-9]* -> 127.0.0.1:$P_TLS; give --keylog FILE" "$T/nokeys.err" ||
	fail "without --keylog: $(cat "$T/nokeys.err")"
check_analysis nokeys - "$T/nokeys.json" an.wire.requests=0 an.wire.tls.no_key=2 an.wire.tls.decrypted=0 \
	an.capture.complete=False an.capture.warnings.0.kind=tls_no_key an.flows.0.tls=no_key

# Bad key logs: one line, exit 2.
analyze missing 2 "$c13/cap.pcapng" --keylog "$T/none.log"
grep -qx "blast: analyze --keylog $T/none.log: No such file or directory" "$T/missing.err" ||
	fail "missing key log: $(cat "$T/missing.err")"
printf 'CLIENT_RANDOM 00 11\n' >"$T/garbled.log"
analyze garbled 2 "$c13/cap.pcapng" --keylog "$T/garbled.log"
grep -qx "blast: analyze --keylog $T/garbled.log: line 1 is not a key log line (LABEL <64 hex digits> <secret in hex>)" \
	"$T/garbled.err" || fail "garbled key log: $(cat "$T/garbled.err")"
for f in missing garbled; do
	[ "$(wc -l <"$T/$f.err")" -eq 1 ] || fail "$f: want one line: $(cat "$T/$f.err")"
	[ ! -s "$T/$f.out" ] || fail "$f: printed a table"
done

# Another run's key log matches no flow: a warning, the counts.
analyze other 1 "$c13/cap.pcapng" --keylog "$c12/keys.log" --report "$T/other.json"
grep -q "warning: 2 TLS flows have no key in the --keylog file, not decrypted: 127.0.0.1:" "$T/other.err" ||
	fail "key log of another run: $(cat "$T/other.err")"
check_analysis other - "$T/other.json" an.wire.tls.no_key=2 an.wire.requests=0

# The right client randoms with wrong secrets: named as failed, with why.
# Every secret's last digit changed.
sed -e 's/[0-9a-e]$/f/;t' -e 's/f$/0/' "$c12/keys.log" >"$T/wrong.log"
analyze wrong 1 "$c12/cap.pcapng" --keylog "$T/wrong.log" --report "$T/wrong.json"
grep -q "warning: 2 TLS flows could not be decrypted: 127.0.0.1:[0-9]* -> 127.0.0.1:$P_TLS (the .*'s record 1 does not decrypt with the logged keys: its tag does not match)" \
	"$T/wrong.err" || fail "wrong secrets: $(cat "$T/wrong.err")"
check_analysis wrong - "$T/wrong.json" an.wire.tls.failed=2 an.wire.requests=0
pass
