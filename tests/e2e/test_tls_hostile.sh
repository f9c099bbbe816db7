#!/usr/bin/env bash
# Hostile TLS servers, each a real TLS stack:
# 1. close_notify mid-run: socat terminates TLS in front of mosquitto's
#    plaintext port; the broker is stopped mid-run, so socat closes each
#    TLS session (close_notify, then FIN). Every connection is counted
#    lost under tls_close_notify, nothing hangs, and the accounting holds;
#    with --reconnect, blast reconnects once the broker is back.
# 2. Garbage after ServerHello: a relay in front of mosquitto's TLS
#    listener passes the server's first record, then random bytes. The
#    handshake fails as a TLS handshake failure (not "a plaintext port").
# 3. A stall mid-handshake: the same relay passes the first record and
#    then nothing; the handshake timeout (10 s) ends it, named.
# 4. Plaintext MQTT to a server that answers it with a TLS alert:
#    tls_server_plain_client, with the scheme to use.
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
skip_unless_cmd python3 openssl socat
[ -x /usr/sbin/mosquitto ] || skip "/usr/sbin/mosquitto not installed"
require_blast

start_tls_mosquitto

log "== garbage after ServerHello"
RELAY_PORT=$(free_port)
start_relay() { # MODE: garbage or stall
python3 - "$RELAY_PORT" "$P_TLS" "$1" <<'PY' >"$T/relay.out" 2>"$T/relay.err" &
import os, socket, sys, threading, time
lport, sport, mode = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", lport)); ls.listen(16)
def pump(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d: break
            b.sendall(d)
    except OSError:
        pass
def serve(c):
    s = socket.create_connection(("127.0.0.1", sport))
    threading.Thread(target=pump, args=(c, s), daemon=True).start()
    buf = b""
    while len(buf) < 5 or len(buf) < 5 + (buf[3] << 8 | buf[4]):
        d = s.recv(65536)
        if not d: return
        buf += d
    n = 5 + (buf[3] << 8 | buf[4])
    # The ServerHello record, then garbage or nothing.
    c.sendall(buf[:n] + (os.urandom(200) if mode == "garbage" else b""))
    time.sleep(30)
end = time.time() + 60
ls.settimeout(1)
while time.time() < end:
    try:
        c, _ = ls.accept()
    except socket.timeout:
        continue
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
RELAY_PID=$!
track "$RELAY_PID"
wait_until 5 port_open "$RELAY_PORT" || die "relay not up"
}
start_relay garbage
r=$T/garbage.json
run_blast 30 --target "mqtts://localhost:$RELAY_PORT" --cacert "$PKI/ca.pem" --messages 5 \
	--report "$r" --quiet
[ "$BLAST_RC" -ne 0 ] || fail "garbage: blast exited 0"
[ "$BLAST_SECS" ] && [ "$(echo "$BLAST_SECS < 10" | bc)" = 1 ] || fail "garbage: took ${BLAST_SECS}s"
expect_json "$r" errors.tls_handshake == 1
expect_json "$r" conns_failed == 1
check_accounting "$r"
grep -q '^blast: TLS to localhost:[0-9]*: handshake failed: ' "$T/blast.err" ||
	fail "garbage: no handshake failure line: $(cat "$T/blast.err")"
stop_pid "$RELAY_PID"

log "== a stall after ServerHello"
RELAY_PORT=$(free_port)
start_relay stall
r=$T/stall.json
run_blast 30 --target "mqtts://localhost:$RELAY_PORT" --cacert "$PKI/ca.pem" --messages 5 \
	--report "$r" --quiet
[ "$BLAST_RC" -ne 0 ] || fail "stall: blast exited 0"
expect_json "$r" errors.tls_handshake_timeout == 1
grep -q '^blast: TLS to localhost:[0-9]*: the handshake stalled' "$T/blast.err" ||
	fail "stall: no line saying the handshake stalled: $(cat "$T/blast.err")"
check_accounting "$r"
stop_pid "$RELAY_PID"

log "== plaintext to a TLS server that answers it with an alert"
# OpenSSL's and Go's servers close without a word (test_mqtt_tls.sh);
# others answer the plaintext with a fatal protocol_version alert record.
P_ALERT=$(free_port)
python3 - "$P_ALERT" <<'PY' 2>"$T/alert.err" &
import socket, sys, time
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", int(sys.argv[1]))); ls.listen(16); ls.settimeout(1)
end = time.time() + 60
while time.time() < end:
    try:
        c, _ = ls.accept()
    except socket.timeout:
        continue
    c.recv(4096)
    c.sendall(bytes([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x46]))
    time.sleep(0.2); c.close()
PY
ALERT_PID=$!
track "$ALERT_PID"
wait_until 5 port_open "$P_ALERT" || die "alert server not up"
r=$T/alert.json
run_blast 30 --target "127.0.0.1:$P_ALERT" --messages 5 --report "$r" --quiet
[ "$BLAST_RC" -eq 1 ] || fail "alert: exit $BLAST_RC, want 1"
expect_json "$r" errors eq '{"tls_server_plain_client": 1}'
check_accounting "$r"
grep -q "^blast: 127.0.0.1:$P_ALERT answered in TLS (an alert): a TLS port; use mqtts://" "$T/blast.err" ||
	fail "alert: no line naming it: $(cat "$T/blast.err")"
stop_pid "$ALERT_PID"

log "== close_notify mid-run (socat terminating TLS, the broker stopped)"
P_TERM=$(free_port)
socat "OPENSSL-LISTEN:$P_TERM,bind=127.0.0.1,reuseaddr,fork,cert=$PKI/server.pem,key=$PKI/server.key,verify=0" \
	"TCP:127.0.0.1:$MQ_PORT" 2>"$T/socat.err" &
SOCAT_PID=$!
track "$SOCAT_PID"
wait_until 5 port_open "$P_TERM" || die "socat not up"
# blast_bg SECS ARGS...: blast in the background for SECS at most (BPID).
blast_bg() {
	local secs=$1
	shift
	timeout "$secs" "$BLAST" --target "mqtts://localhost:$P_TERM" --cacert "$PKI/ca.pem" \
		--conns 3 --qos 1 --rate 300 "$@" --quiet >"$T/blast.out" 2>"$T/blast.err" &
	BPID=$!
	track "$BPID"
}
r=$T/notify.json
blast_bg 30 --duration 6s --report "$r"
sleep 2
stop_mosquitto
wait "$BPID"
BLAST_RC=$?
[ "$BLAST_RC" -ne 0 ] || fail "close_notify: blast exited 0"
[ "$BLAST_RC" -ne 124 ] || fail "close_notify: blast hung"
expect_json "$r" conns_ok == 3
expect_json "$r" conns_dropped == 3
expect_json "$r" errors.tls_close_notify == 3
expect_json "$r" acked -gt 100
check_accounting "$r"
[ "$(grep -c 'the server ended the TLS session (close_notify)' "$T/blast.err")" -eq 1 ] ||
	fail "close_notify: want one line naming it: $(cat "$T/blast.err")"

log "== close_notify mid-run with --reconnect: back once the broker is"
restart_mosquitto || die "cannot restart mosquitto"
r=$T/notify-reconnect.json
blast_bg 40 --duration 8s --reconnect --report "$r"
sleep 2
stop_mosquitto
sleep 1
restart_mosquitto || die "cannot restart mosquitto"
wait "$BPID"
BLAST_RC=$?
[ "$BLAST_RC" -ne 124 ] || fail "close_notify, --reconnect: blast hung"
expect_json "$r" errors.tls_close_notify -ge 3
expect_json "$r" reconnects -ge 3
expect_json "$r" conns_ok -ge 6
expect_json "$r" acked -gt 300
check_accounting "$r"
stop_pid "$SOCAT_PID"
pass
