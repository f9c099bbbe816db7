# Sourced by tests/lib.sh: the acking sink, mosquitto, and a subscriber.

# start_sink [ARGS]...: bench/sink (the acking discard MQTT server) on a
# free port of 127.0.0.1, with ARGS (--ack, --threads N). Exports SINK_PORT
# and SINK_PID.
start_sink() {
	local sink=$REPO/.output/bench/sink
	[ -x "$sink" ] || die "$sink not built (run make)"
	"$sink" --port 0 "$@" >"$T/sink.out" 2>"$T/sink.err" &
	SINK_PID=$!
	track "$SINK_PID"
	wait_until 5 grep -q '^port=' "$T/sink.out" || die "sink did not start: $(cat "$T/sink.err")"
	SINK_PORT=$(sed -n 's/^port=//p' "$T/sink.out")
	export SINK_PORT SINK_PID
}

# mosquitto_common_conf LOG: the config lines every test broker shares: no
# persistence, unlimited queues, a log file at LOG.
mosquitto_common_conf() {
	echo "persistence false"
	echo "max_queued_messages 0"
	echo "log_dest file $1"
	echo "log_type error"
	echo "log_type warning"
	echo "log_type notice"
	echo "log_type information"
	# As root, mosquitto switches to user "mosquitto" unless told to
	# stay; it then could not write the log in our temp dir.
	echo "user $(id -un)"
}

# start_mosquitto [config line]...: a private broker on a free port (or on
# $MQ_PORT when restarting). Writes $MQ_DIR/mosquitto.conf with the listener,
# allow_anonymous true (unless a given line sets allow_anonymous), no
# persistence, unlimited queues (so a slow subscriber never loses QoS 1/2
# messages to max_queued_messages) and a log file, then the given lines.
# Exports MQ_PORT, MQ_PID, MQ_DIR, MQ_CONF, MQ_LOG. Returns 1 if the port
# does not accept connections within 5 s.
start_mosquitto() {
	local port line anon=1
	port=${MQ_PORT:-}
	[ -n "$port" ] || port=$(free_port) || return 1
	MQ_DIR=${MQ_DIR:-$(mktemp -d "$T/mosquitto.XXXXXX")}
	chmod 755 "$MQ_DIR"
	MQ_CONF=$MQ_DIR/mosquitto.conf
	MQ_LOG=$MQ_DIR/mosquitto.log
	for line in "$@"; do
		case $line in allow_anonymous*) anon=0 ;; esac
	done
	{
		echo "listener $port 127.0.0.1"
		[ $anon -eq 1 ] && echo "allow_anonymous true"
		mosquitto_common_conf "$MQ_LOG"
		for line in "$@"; do echo "$line"; done
	} >"$MQ_CONF"
	_start_mosquitto_conf "$port"
}

# Starts /usr/sbin/mosquitto on the existing $MQ_CONF and waits for $1.
_start_mosquitto_conf() {
	local port=$1
	/usr/sbin/mosquitto -c "$MQ_CONF" >>"$MQ_DIR/stderr" 2>&1 &
	MQ_PID=$!
	track "$MQ_PID"
	MQ_PORT=$port
	export MQ_PORT MQ_PID MQ_DIR MQ_CONF MQ_LOG
	local i
	for ((i = 0; i < 50; i++)); do
		if ! kill -0 "$MQ_PID" 2>/dev/null; then
			wait "$MQ_PID" 2>/dev/null
			echo "mosquitto exited at start:" >&2
			tail -n 5 "$MQ_DIR/stderr" "$MQ_LOG" >&2 2>/dev/null
			MQ_PID=
			return 1
		fi
		port_open "$port" && return 0
		sleep 0.1
	done
	echo "mosquitto not accepting on 127.0.0.1:$port after 5 s" >&2
	stop_pid "$MQ_PID"
	MQ_PID=
	return 1
}

# Stops the broker (SIGTERM, then SIGKILL after 3 s) and reaps it.
stop_mosquitto() {
	stop_pid "$MQ_PID" 3
	MQ_PID=
}

# Kills the broker without letting it say goodbye.
kill9_mosquitto() {
	[ -n "$MQ_PID" ] || return 0
	kill -KILL "$MQ_PID" 2>/dev/null
	wait "$MQ_PID" 2>/dev/null
	MQ_PID=
}

# Same config, same port. Waits up to 5 s for the old listener to go.
restart_mosquitto() {
	[ -n "$MQ_CONF" ] || { echo "restart_mosquitto: no broker was started" >&2; return 1; }
	stop_mosquitto
	wait_until 5 eval '! port_open "$MQ_PORT"' || return 1
	_start_mosquitto_conf "$MQ_PORT"
}

# Number of "New client connected" lines in the broker log so far.
mosquitto_connects() {
	grep -c 'New client connected from' "$MQ_LOG" 2>/dev/null || true
}

# start_sub OUTFILE [mosquitto_sub args]...: a subscriber on this broker
# printing one "TOPIC HEXPAYLOAD" line per message, also subscribed to the
# probe topic blast-probe/#. Returns once a probe message published to the
# broker comes back (so the subscription is in place), or 1 after 5 s.
# Sets SUB_PID. Probe lines start with "blast-probe/": filter them out.
start_sub() {
	local out=$1 i
	shift
	mosquitto_sub -h 127.0.0.1 -p "$MQ_PORT" -t 'blast-probe/#' -F '%t %x' "$@" \
		>"$out" 2>"$out.err" &
	SUB_PID=$!
	track "$SUB_PID"
	for ((i = 0; i < 25; i++)); do
		mosquitto_pub -h 127.0.0.1 -p "$MQ_PORT" -t "blast-probe/$i" -m ready \
			"${SUB_PUB_ARGS[@]+"${SUB_PUB_ARGS[@]}"}" 2>/dev/null
		if wait_until 0.2 grep -q '^blast-probe/' "$out"; then
			return 0
		fi
		kill -0 "$SUB_PID" 2>/dev/null || break
	done
	echo "subscriber not ready after 5 s:" >&2
	cat "$out.err" >&2
	return 1
}

# Lines of OUTFILE that are messages, not probes.
sub_messages() { grep -v '^blast-probe/' "$1" || true; }
sub_count() { sub_messages "$1" | wc -l; }
