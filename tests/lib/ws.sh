# Sourced by tests/lib.sh.

# ---- WebSocket fixtures: real servers (lws mirror, mosquitto websockets) --
# Binding quirk: libwebsockets 4.1.6 (Debian), used by both
# libwebsockets-test-server and mosquitto's websockets listener, binds to
# every interface when given the address "127.0.0.1" (it treats it as an
# interface name and, IPv6 on, falls back to ::). Given the interface name
# "lo" it binds [::ffff:127.0.0.1] only. So websockets listeners below say
# "lo", never 127.0.0.1.

LWS_PORT='' LWS_PID='' LWS_LOG=''
LWS_RESOURCES=/usr/share/libwebsockets-test-server

# start_lws_mirror: libwebsockets' test server on a free loopback port,
# headless (it only serves its test pages from $LWS_RESOURCES). Its
# "lws-mirror-protocol" relays every message to EVERY client joined to the
# same mirror instance, the sender included (instance: the URL's ?mirror=NAME,
# default ""; the path is ignored), always as a TEXT frame (binary in, text
# out), and relays per read chunk: a frame that straddles the server's
# 4096-byte read is relayed as two messages. So keep frames a divisor of
# 4096 (client payload 26, 58 or 122 bytes: masked frame = payload + 6) to
# get one relayed message per message sent. Exports LWS_PORT, LWS_PID,
# LWS_LOG. Returns 1 if the port is not open within 5 s. Arguments go to
# the server: --ssl serves TLS with its bundled certificate, which is
# below OpenSSL 3's default security level (so the server gets a config
# that allows it).
start_lws_mirror() {
	local i conf=()
	[ -x /usr/bin/libwebsockets-test-server ] || { echo "libwebsockets-test-server not installed" >&2; return 1; }
	LWS_PORT=$(free_port) || return 1
	LWS_LOG=$(mktemp "$T/lws.XXXXXX.log") || return 1
	if [ "${1:-}" = --ssl ]; then
		openssl_sys_conf "$T/lws-openssl.cnf" "CipherString = DEFAULT@SECLEVEL=0"
		conf=("OPENSSL_CONF=$T/lws-openssl.cnf")
	fi
	env "${conf[@]}" /usr/bin/libwebsockets-test-server -p "$LWS_PORT" -i lo -r "$LWS_RESOURCES/" "$@" \
		>"$LWS_LOG" 2>&1 </dev/null &
	LWS_PID=$!
	track "$LWS_PID"
	export LWS_PORT LWS_PID LWS_LOG
	for ((i = 0; i < 50; i++)); do
		port_open "$LWS_PORT" && return 0
		kill -0 "$LWS_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "libwebsockets-test-server not listening on $LWS_PORT:" >&2
	tail -n 5 "$LWS_LOG" >&2
	stop_pid "$LWS_PID"
	LWS_PID=
	return 1
}

# start_mosquitto_ws [config line]...: start_mosquitto (TCP listener on
# MQ_PORT, same defaults, the given lines) plus a websockets listener on
# MQ_WS_PORT (loopback only, see above). mosquitto answers an upgrade that
# asks for subprotocol "mqtt" or "mqttv3.1"; with none the upgrade succeeds
# but MQTT bytes are ignored (no CONNACK); with any other it drops the
# connection. The path is ignored. Exports MQ_PORT, MQ_WS_PORT, MQ_PID,
# MQ_DIR, MQ_CONF, MQ_LOG. Returns 1 unless both ports open within 5 s.
start_mosquitto_ws() {
	MQ_WS_PORT=$(free_port) || return 1
	export MQ_WS_PORT
	# Global options go before the second listener: after it,
	# listener-scoped ones would apply to the websockets listener only.
	start_mosquitto "$@" "listener $MQ_WS_PORT lo" "protocol websockets" || return 1
	wait_until 5 port_open "$MQ_WS_PORT" && return 0
	echo "mosquitto websockets listener not open on $MQ_WS_PORT:" >&2
	tail -n 5 "$MQ_LOG" >&2
	return 1
}

# start_mosquitto_cluster N [config line]...: N (2..9) bridged mosquitto
# brokers, each with a TCP and a websockets listener on loopback. Star:
# node 1 is the hub, with one bridge per other node, "topic # both Q"
# (Q = $MQ_BRIDGE_QOS, default 1), try_private on (MQTT 3.1.1 bridge bit,
# so a node never sends a bridge its own messages back, and the hub never
# returns a message to the bridge it came from). A message published on any
# node reaches every node's subscribers exactly once: leaf -> hub -> other
# leaves. The given lines go into every node's config (global options).
# Exports CLUSTER_N, NODEi_TCP, NODEi_WS, NODEi_PID, NODEi_LOG (i = 1..N),
# and arrays NODE_TCP, NODE_WS, NODE_PID, NODE_LOG (index 1..N; arrays do
# not reach child processes). Returns once a probe published on every node
# has reached every other node (bridges up), or 1 after 15 s.
start_mosquitto_cluster() {
	local n=$1 i j dir conf qos=${MQ_BRIDGE_QOS:-1} line
	shift
	[ "$n" -ge 2 ] && [ "$n" -le 9 ] || { echo "start_mosquitto_cluster: N must be 2..9" >&2; return 1; }
	CLUSTER_N=$n
	NODE_TCP=() NODE_WS=() NODE_PID=() NODE_LOG=() NODE_DIR=()
	for ((i = 1; i <= n; i++)); do
		NODE_TCP[i]=$(free_port) || return 1
		NODE_WS[i]=$(free_port) || return 1
		NODE_DIR[i]=$(mktemp -d "$T/node$i.XXXXXX") || return 1
		chmod 755 "${NODE_DIR[i]}"
		NODE_LOG[i]=${NODE_DIR[i]}/mosquitto.log
	done
	for ((i = 1; i <= n; i++)); do
		dir=${NODE_DIR[i]}
		conf=$dir/mosquitto.conf
		{
			echo "allow_anonymous true"
			mosquitto_common_conf "${NODE_LOG[i]}"
			for line in "$@"; do echo "$line"; done
			echo "listener ${NODE_TCP[i]} 127.0.0.1"
			echo "listener ${NODE_WS[i]} lo"
			echo "protocol websockets"
			if [ "$i" -eq 1 ]; then
				for ((j = 2; j <= n; j++)); do
					echo "connection hub-to-node$j"
					echo "address 127.0.0.1:${NODE_TCP[j]}"
					echo "topic # both $qos"
					echo "bridge_protocol_version mqttv311"
					echo "try_private true"
					echo "cleansession true"
					echo "notifications false"
					echo "restart_timeout 1"
					echo "keepalive_interval 10"
				done
			fi
		} >"$conf"
	done
	# Leaves first, so the hub's bridges connect at once.
	for ((i = n; i >= 1; i--)); do
		/usr/sbin/mosquitto -c "${NODE_DIR[i]}/mosquitto.conf" >>"${NODE_DIR[i]}/stderr" 2>&1 &
		NODE_PID[i]=$!
		track "${NODE_PID[i]}"
	done
	for ((i = 1; i <= n; i++)); do
		export "NODE${i}_TCP=${NODE_TCP[i]}" "NODE${i}_WS=${NODE_WS[i]}" \
			"NODE${i}_PID=${NODE_PID[i]}" "NODE${i}_LOG=${NODE_LOG[i]}"
		# Expanded now: wait_until's own loop variable is also i.
		if ! wait_until 5 eval "port_open ${NODE_TCP[i]} && port_open ${NODE_WS[i]}"; then
			echo "cluster node $i not listening:" >&2
			tail -n 5 "${NODE_DIR[i]}/stderr" "${NODE_LOG[i]}" >&2 2>/dev/null
			return 1
		fi
	done
	export CLUSTER_N
	_cluster_wait_bridges 15
}

# Probes every node pair until each node has seen a message from every
# other one, or SECS pass. Probe topics are blast-probe/cluster/FROM, which
# start_sub's readers already ignore.
_cluster_wait_bridges() {
	local secs=$1 n=$CLUSTER_N i j ok k pids=() files=() rc=1
	for ((i = 1; i <= n; i++)); do
		files[i]=$(mktemp "$T/cluster-probe$i.XXXXXX") || return 1
		mosquitto_sub -h 127.0.0.1 -p "${NODE_TCP[i]}" -t 'blast-probe/cluster/#' -F '%t' \
			>"${files[i]}" 2>/dev/null &
		pids[i]=$!
		track "${pids[i]}"
	done
	for ((k = 0; k < secs * 4; k++)); do
		for ((i = 1; i <= n; i++)); do
			mosquitto_pub -h 127.0.0.1 -p "${NODE_TCP[i]}" -t "blast-probe/cluster/$i" \
				-m ready 2>/dev/null
		done
		sleep 0.25
		ok=1
		for ((i = 1; i <= n && ok; i++)); do
			for ((j = 1; j <= n; j++)); do
				[ "$i" -eq "$j" ] && continue
				grep -qx "blast-probe/cluster/$j" "${files[i]}" || { ok=0; break; }
			done
		done
		[ "$ok" -eq 1 ] && { rc=0; break; }
	done
	for ((i = 1; i <= n; i++)); do stop_pid "${pids[i]}" 1; done
	[ "$rc" -eq 0 ] || {
		echo "cluster bridges not up after ${secs}s; hub log:" >&2
		tail -n 8 "${NODE_LOG[1]}" >&2
	}
	return "$rc"
}

WSB_PORT='' WSB_PID='' WSB_LOG=''

# start_ws_bad_server MODE [ws_bad_server.py options]...: one of
# server_port OUT PID: the port a test server prints ("port=N") into OUT,
# waited for up to 5 s while PID lives; nothing when it never comes.
server_port() {
	local i port
	for ((i = 0; i < 50; i++)); do
		port=$(sed -n 's/^port=//p' "$1")
		[ -n "$port" ] && { echo "$port"; return 0; }
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# tests/tools/ws_bad_server.py's misbehaving servers (400, close, drop) on
# a free loopback port. Exports WSB_PORT, WSB_PID, WSB_LOG (its stderr, one
# line per connection). Returns 1 if it does not print its port within 5 s.
start_ws_bad_server() {
	local mode=$1 out
	shift
	out=$(mktemp "$T/ws_bad.XXXXXX.out") || return 1
	WSB_LOG=${out%.out}.log
	python3 "$REPO/tests/tools/ws_bad_server.py" --mode "$mode" "$@" \
		>"$out" 2>"$WSB_LOG" </dev/null &
	WSB_PID=$!
	track "$WSB_PID"
	WSB_PORT=$(server_port "$out" "$WSB_PID")
	if [ -z "$WSB_PORT" ]; then
		echo "ws_bad_server --mode $mode did not start:" >&2
		cat "$WSB_LOG" >&2
		stop_pid "$WSB_PID"
		WSB_PID=
		return 1
	fi
	export WSB_PORT WSB_PID WSB_LOG
}

# start_ws_ping_server [--ping-interval S] [--ping-timeout S]: a WebSocket
# server (python3-websockets, tests/tools/ws_ping_server.py) that pings
# every client and closes one whose pong is late (code 1011), relaying
# every message to every client. Exports WSP_PORT, WSP_PID, WSP_LOG (one
# "closed code=C reason=R" line per closed connection). Returns 1 if it does
# not listen within 5 s.
start_ws_ping_server() {
	local out
	/usr/bin/python3 -c 'import websockets' 2>/dev/null ||
		{ echo "python3-websockets not installed" >&2; return 1; }
	out=$(mktemp "$T/ws_ping.XXXXXX.out") || return 1
	WSP_LOG=${out%.out}.log
	/usr/bin/python3 "$REPO/tests/tools/ws_ping_server.py" "$@" >"$out" 2>"$WSP_LOG" </dev/null &
	WSP_PID=$!
	track "$WSP_PID"
	WSP_PORT=$(server_port "$out" "$WSP_PID")
	if [ -z "$WSP_PORT" ]; then
		echo "ws_ping_server did not start:" >&2
		cat "$WSP_LOG" >&2
		stop_pid "$WSP_PID"
		WSP_PID=
		return 1
	fi
	export WSP_PORT WSP_PID WSP_LOG
}
