#!/usr/bin/env bash
# A clean close over WebSocket ends the WebSocket session, then the TLS
# one: blast's capture (--pcap, with --keylog decrypted by tshark) shows on
# every connection exactly one close frame from blast (code 1000, after
# MQTT's DISCONNECT when there is one), and over TLS blast's close_notify
# after it, in that order; the server's answering close frame is not
# counted as an error (errors {}; libwebsockets answers every close,
# mosquitto, done at the DISCONNECT, may not) and the run is accounted.
# Four ways:
#   - MQTT over ws:// and over wss:// into mosquitto's websockets
#     listeners (plain, and TLS with the test's certificate);
#   - --proto ws over ws:// and over wss:// through libwebsockets' test
#     server (its mirror protocol; --ssl for wss, with its bundled 1024-bit
#     key at OpenSSL security level 0 on the server side, --insecure here).
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
skip_unless_root
skip_unless_cmd tshark openssl
[ -x /usr/sbin/mosquitto ] || skip "/usr/sbin/mosquitto not installed"
[ -x /usr/bin/libwebsockets-test-server ] || skip "libwebsockets-test-server not installed"
require_blast

PKI=$T/pki
make_test_pki "$PKI" || die "cannot make test certificates"
P_WS=$(free_port)
P_WSS=$(free_port)
while [ "$P_WSS" = "$P_WS" ]; do P_WSS=$(free_port); done
# Websockets listeners bind "lo", not 127.0.0.1 (tests/lib/ws.sh).
start_mosquitto "listener $P_WS lo" "protocol websockets" \
	"listener $P_WSS lo" "protocol websockets" "cafile $PKI/ca.pem" \
	"certfile $PKI/server.pem" "keyfile $PKI/server.key" || die "cannot start mosquitto"
wait_until 5 port_open "$P_WS" && wait_until 5 port_open "$P_WSS" || die "websockets listeners not up"

start_lws_mirror || die "libwebsockets' test server not up"
P_LWS=$LWS_PORT
start_lws_mirror --ssl || die "libwebsockets' test server with --ssl not up"
P_LWSS=$LWS_PORT

# closes CAP PORT TLS(0|1) [KEYS]: per WebSocket connection blast opened
# (tcp.stream with an upgrade request), one line "STREAM CLOSES CODE CLOSE_AT NOTIFY_AT DISCONNECT_AT": blast's
# close frames on it, the first one's code, and the frame numbers (and,
# within one frame, record order) of blast's first close frame, its
# close_notify and its MQTT DISCONNECT (0: none).
closes() {
	local cap=$1 port=$2 tls=$3 keys=${4:-} d=()
	if [ "$tls" = 1 ]; then
		d=(-o "tls.keylog_file:$keys" -d "tcp.port==$port,tls" -d "tls.port==$port,http")
	else
		d=(-d "tcp.port==$port,http")
	fi
	tshark -r "$cap" "${d[@]}" -Y "tcp.dstport == $port" -T fields -e tcp.stream \
		-e frame.number -e websocket.opcode -e websocket.payload.close.status_code \
		-e tls.record.content_type -e tls.alert_message.desc -e data.data -e http.request.method \
		-E separator=';' 2>"$T/tshark.err" | python3 -c '
import sys
st = {}
for line in sys.stdin:
    s, fr, ops, code, ctypes, alert, data, get = (line.rstrip("\n").split(";") + [""] * 8)[:8]
    e = st.setdefault(s, {"closes": 0, "code": "-", "close": 0, "notify": 0, "disc": 0, "ws": 0})
    fr = int(fr)
    e["ws"] |= get == "GET"
    ops = [o for o in ops.split(",") if o]
    n = ops.count("8")
    if n:
        e["closes"] += n
        if not e["close"]:
            e["close"], e["code"] = fr, code.split(",")[0] or "-"
    # Within one frame: the close frame rides in a record before the alert
    # when the alert is the last record and an application record precedes it.
    if "0" in alert.split(",") and not e["notify"]:
        ct = [c for c in ctypes.split(",") if c]
        e["notify"] = fr + (0.5 if ct and ct[-1] == "21" and "23" in ct[:-1] else 0)
    # MQTT DISCONNECT (e0 00) in a binary frame; within one frame, before
    # the close frame when a binary frame precedes the first close.
    if "e000" in data.split(",") and not e["disc"]:
        e["disc"] = fr - (0.5 if "8" in ops and "2" in ops[:ops.index("8")] else 0)
for s, e in sorted(st.items(), key=lambda kv: int(kv[0])):
    if not e["ws"]:
        continue  # not blast: the test probing the port before the run
    print(s, e["closes"], e["code"], e["close"], e["notify"], e["disc"])
'
}

# answers CAP PORT TLS [KEYS]: close frames the server sent.
answers() {
	local cap=$1 port=$2 tls=$3 keys=${4:-} d=(-d "tcp.port==$port,http")
	[ "$tls" = 0 ] || d=(-o "tls.keylog_file:$keys" -d "tcp.port==$port,tls" -d "tls.port==$port,http")
	tshark -r "$cap" "${d[@]}" -Y "tcp.srcport == $port && websocket.opcode == 8" -T fields \
		-e frame.number 2>/dev/null | wc -l
}

# check_closes NAME CONNS TLS MQTT PORT: every connection has one close frame
# (1000) from blast, after its DISCONNECT (MQTT) and before its close_notify
# (TLS); without MQTT (libwebsockets), the server's answering close on
# each. ANSWERS: the server's close frames.
check_closes() {
	local name=$1 conns=$2 tls=$3 mqtt=$4 port=$5 n=0 s k code close notify disc
	while read -r s k code close notify disc; do
		n=$((n + 1))
		[ "$k" = 1 ] || fail "$name: connection $s: $k close frames from blast, want 1"
		[ "$code" = 1000 ] || fail "$name: connection $s: close code $code, want 1000"
		if [ "$tls" = 1 ]; then
			[ "$notify" != 0 ] || fail "$name: connection $s: no close_notify from blast"
			python3 -c "import sys; sys.exit(not (0 < $close <= $notify))" ||
				fail "$name: connection $s: close frame at $close, close_notify at $notify: want the frame first"
		fi
		if [ "$mqtt" = 1 ]; then
			python3 -c "import sys; sys.exit(not (0 < $disc < $close))" ||
				fail "$name: connection $s: DISCONNECT at $disc, close frame at $close"
		fi
	done <"$T/$name.closes"
	[ "$n" = "$conns" ] || fail "$name: $n connections in the capture, want $conns: $(cat "$T/tshark.err")"
	# libwebsockets answers each close (not counted as ws_close: errors
	# {}); mosquitto, done at the DISCONNECT, may close the TCP connection
	# without reading the close frame.
	n=$(answers "$T/$name.pcapng" "$port" "$tls" "$T/$name.keys")
	[ "$mqtt" = 1 ] || [ "$n" = "$conns" ] ||
		fail "$name: the server answered $n close frames, want $conns"
	ANSWERS=$n
}

for c in "mqtt-ws ws $P_WS 0" "mqtt-wss wss $P_WSS 1"; do
	read -r name scheme port tls <<<"$c"
	r=$T/$name.json
	ca=() keys=()
	[ "$tls" = 0 ] || ca=(--cacert "$PKI/ca.pem") keys=(--keylog "$T/$name.keys")
	run_blast 60 --target "$scheme://localhost:$port/mqtt" "${ca[@]}" --conns 3 \
		--qos 1 --messages 300 --pcap "$T/$name.pcapng" "${keys[@]}" --report "$r" --quiet
	[ "$BLAST_RC" -eq 0 ] || { fail "$name: blast exited $BLAST_RC: $(blast_why "$r")"; continue; }
	expect_json "$r" acked == 300
	expect_json "$r" errors eq '{}'
	check_accounting "$r"
	closes "$T/$name.pcapng" "$port" "$tls" "$T/$name.keys" >"$T/$name.closes"
	check_closes "$name" 3 "$tls" 1 "$port"
	log "$name: $(tr '\n' '|' <"$T/$name.closes") server closes $ANSWERS"
done

for c in "ws-mirror ws $P_LWS 0" "ws-mirror-tls wss $P_LWSS 1"; do
	read -r name scheme port tls <<<"$c"
	r=$T/$name.json
	ca=() keys=()
	[ "$tls" = 0 ] || ca=(--insecure) keys=(--keylog "$T/$name.keys")
	run_blast 60 --proto ws --target "$scheme://127.0.0.1:$port/" "${ca[@]}" \
		--ws-subprotocol lws-mirror-protocol --publishers 1 --listeners 1 --messages 100 \
		--payload-size 58 --rate 500 --pcap "$T/$name.pcapng" "${keys[@]}" --report "$r" --quiet
	[ "$BLAST_RC" -eq 0 ] || { fail "$name: blast exited $BLAST_RC: $(blast_why "$r")"; continue; }
	expect_json "$r" sent == 100
	expect_json "$r" errors eq '{}'
	closes "$T/$name.pcapng" "$port" "$tls" "$T/$name.keys" >"$T/$name.closes"
	check_closes "$name" 2 "$tls" 0 "$port"
	log "$name: $(tr '\n' '|' <"$T/$name.closes") server closes $ANSWERS"
done
pass
