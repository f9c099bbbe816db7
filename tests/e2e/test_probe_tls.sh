#!/usr/bin/env bash
# --probe over TLS: the probe cannot read MQTT inside TLS records. blast
# says so in one line, the probe parses nothing (no requests, no acks, each
# direction of each flow given up as unparsed at its first byte) and still
# counts what TCP shows: flows, the very bytes blast wrote and read,
# segments and a smoothed RTT.
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
skip_unless_root
skip_unless_cmd python3 bpftool openssl
[ -x /usr/sbin/mosquitto ] || skip "/usr/sbin/mosquitto not installed"
require_blast

start_tls_mosquitto

r=$T/probe.json
run_blast 60 --target "mqtts://127.0.0.1:$P_TLS" --cacert "$PKI/ca.pem" --conns 2 --qos 1 \
	--messages 500 --probe --report "$r" --quiet
[ "$BLAST_RC" -eq 0 ] || fail "blast exited $BLAST_RC: $(blast_why "$r")"
[ "$(grep -c 'probe cannot read messages inside it' "$T/blast.err")" -eq 1 ] ||
	fail "want one line saying the probe cannot read inside TLS: $(cat "$T/blast.err")"
expect_json "$r" acked == 500
expect_json "$r" wire.source eq probe
expect_json "$r" wire.flows == 2
expect_json "$r" wire.requests == 0
expect_json "$r" wire.acks == 0
expect_json "$r" wire.unparsed == 4
expect_json "$r" wire.bytes_out == "$(json_get "$r" bytes_out)"
expect_json "$r" wire.bytes_in == "$(json_get "$r" bytes_in)"
expect_json "$r" wire.segments_out -gt 0
expect_json "$r" wire.segments_in -gt 0
expect_json "$r" wire.retransmits -ge 0 # counted (none expected on loopback)
expect_json "$r" wire.srtt_us_mean -gt 0
check_accounting "$r"
pass
