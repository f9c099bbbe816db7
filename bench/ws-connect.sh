#!/usr/bin/env bash
# Why MQTT over WebSocket connects take ~100 ms against mosquitto and TCP
# ones a fraction of a millisecond. Connect latency (blast's connect_latency_us
# p50: TCP connect to CONNACK; for --proto ws, to the 101) of CONNS
# connections opened at --ramp 40/s, one worker, for:
#   blast mqtt/tcp  -> mosquitto's TCP listener
#   blast mqtt/ws   -> mosquitto's websockets listener (same broker)
#   paho mqtt/ws    -> the same listener (bench/ws_connect_paho.py)
#   blast ws        -> libwebsockets' own test server (upgrade only)
# REPEAT alternating rounds; rows are medians. If paho waits as long as
# blast on mosquitto's websockets listener while blast's upgrade to
# libwebsockets' server takes well under a millisecond, the wait is the
# broker's: mosquitto 2.0 services its websockets connections once per
# turn of its main loop, whose epoll_wait times out after 100 ms when the
# websockets listener is on (src/mux_epoll.c), so each upgrade waits for
# that turn.
# Knobs: CONNS (20), REPEAT (3), BLAST (./blast).
# Needs: make blast; Debian mosquitto, libwebsockets-test-server,
# python3-paho-mqtt.
set -u
cd "$(dirname "$0")/.." || exit 1
. bench/lib.sh

BLAST=${BLAST:-./blast}
MOSQUITTO=${MOSQUITTO:-/usr/sbin/mosquitto}
CONNS=${CONNS:-20}
REPEAT=${REPEAT:-3}
TMP=$(mktemp -d)
PIDS=()
CHECKS=()
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

start_mosquitto || exit 1
stop_pid "$MQ_PID"
WS_PORT=$(free_port)
# libwebsockets binds every interface for "127.0.0.1"; "lo" is loopback only.
printf 'listener %s lo\nprotocol websockets\n' "$WS_PORT" >>"$TMP/mosquitto.conf"
"$MOSQUITTO" -c "$TMP/mosquitto.conf" >"$TMP/mosquitto.stderr" 2>&1 &
PIDS+=("$!")
LWS_PORT=$(free_port)
/usr/bin/libwebsockets-test-server -p "$LWS_PORT" -i lo \
	-r /usr/share/libwebsockets-test-server/ >"$TMP/lws.log" 2>&1 </dev/null &
PIDS+=("$!")
sleep 1

declare -A P50
blast_p50() { # NAME ARGS...
	local name=$1
	shift
	"$BLAST" "$@" --ramp 40 --messages 0 --duration 1s --workers 1 --quiet \
		--report "$TMP/r.json" >/dev/null 2>&1
	P50[$name]+=" $(jget "$TMP/r.json" connect_latency_us.p50)"
}
for ((r = 1; r <= REPEAT; r++)); do
	blast_p50 "blast mqtt/tcp" --target "127.0.0.1:$MQ_PORT" --conns "$CONNS"
	blast_p50 "blast mqtt/ws" --target "ws://127.0.0.1:$WS_PORT/" --conns "$CONNS"
	P50["paho mqtt/ws"]+=" $(field "$(/usr/bin/python3 bench/ws_connect_paho.py "$WS_PORT" "$CONNS")" p50_us)"
	blast_p50 "blast ws (lws)" --proto ws --target "ws://127.0.0.1:$LWS_PORT/" \
		--ws-subprotocol lws-mirror-protocol --publishers "$CONNS" --listeners 0
done
printf '%-18s %14s\n' client "connect p50 us"
for k in "blast mqtt/tcp" "blast mqtt/ws" "paho mqtt/ws" "blast ws (lws)"; do
	# shellcheck disable=SC2086 # a list on purpose
	printf '%-18s %14.1f\n' "$k" "$(median ${P50[$k]})"
done
