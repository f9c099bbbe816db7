# Sourced by tests/lib.sh.

# ---- nats-server: its MQTT listener speaks MQTT 3.1.1 only ----------------
NATS_PID='' NATS_MQTT_PORT='' NATS_DIR=''

# start_nats_mqtt: nats-server on loopback with JetStream (its MQTT support
# needs it, and a server_name) and an MQTT listener. Exports NATS_MQTT_PORT,
# NATS_PID, NATS_DIR (its config, store and log). Returns 1 if the MQTT port
# does not open within 15 s. Arguments are more lines for the mqtt block
# (a tls { ... } block).
start_nats_mqtt() {
	local port extra
	extra=$(printf '%s\n' "$@")
	[ -x /usr/sbin/nats-server ] || { echo "nats-server not installed" >&2; return 1; }
	port=$(free_port) || return 1
	NATS_MQTT_PORT=$(free_port) || return 1
	NATS_DIR=$(mktemp -d "$T/nats.XXXXXX") || return 1
	cat >"$NATS_DIR/nats.conf" <<CONF
server_name: blast_test
listen: 127.0.0.1:$port
jetstream { store_dir: "$NATS_DIR/js", max_memory_store: 67108864, max_file_store: 268435456 }
mqtt {
listen: 127.0.0.1:$NATS_MQTT_PORT
$extra
}
CONF
	/usr/sbin/nats-server -c "$NATS_DIR/nats.conf" >"$NATS_DIR/log" 2>&1 </dev/null &
	NATS_PID=$!
	track "$NATS_PID"
	export NATS_MQTT_PORT NATS_PID NATS_DIR
	wait_until 15 port_open "$NATS_MQTT_PORT" && return 0
	echo "nats-server's MQTT listener not open on $NATS_MQTT_PORT:" >&2
	tail -n 5 "$NATS_DIR/log" >&2
	stop_pid "$NATS_PID"
	NATS_PID=
	return 1
}
