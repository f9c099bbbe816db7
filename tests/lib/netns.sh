# Sourced by tests/lib.sh: a broker behind a shaped link, in a namespace.

# start_shaped_broker_netns TAG TBF_BITS [MOSQUITTO_CONF_LINE...]: a network
# namespace of the test's own with a veth pair on a free /30 (a 10.x subnet
# no route here covers: a test host of this machine, nothing outside), the
# host -> broker direction shaped by tc tbf at TBF_BITS bit/s, and mosquitto
# listening inside on BROKER_IP:1883 with the given extra config lines.
# Exports NS, VH (the shaped host end), HOST_IP, BROKER_IP, NS_MQ_PID,
# NS_MQ_DIR. The namespace, the veth and the broker go on any exit.
start_shaped_broker_netns() {
	local tag=$1 bits=$2 net dir
	shift 2
	NS=b${tag}n$$ VH=b${tag}h$$ VN=b${tag}v$$ NS_MQ_PID=''
	for _ in $(seq 20); do
		net=10.$((RANDOM % 200 + 20)).$((RANDOM % 250)).$(((RANDOM % 60) * 4))
		ip route show | grep -q "^${net%.*}\." || break
	done
	HOST_IP=${net%.*}.$((${net##*.} + 1))
	BROKER_IP=${net%.*}.$((${net##*.} + 2))
	trap 'rc=$?; shaped_netns_cleanup; (exit $rc); _cleanup' EXIT
	ip netns add "$NS" || die "ip netns add failed"
	ip link add "$VH" type veth peer name "$VN" || die "ip link add veth failed"
	ip link set "$VN" netns "$NS" || die "cannot move $VN into $NS"
	ip addr add "$HOST_IP/30" dev "$VH" || die "ip addr add failed"
	ip link set "$VH" up
	ip -n "$NS" addr add "$BROKER_IP/30" dev "$VN" || die "ip addr add in $NS failed"
	ip -n "$NS" link set "$VN" up
	ip -n "$NS" link set lo up
	tc qdisc add dev "$VH" root tbf rate "${bits}bit" burst 10kb latency 50ms ||
		die "tc qdisc add tbf failed"
	dir=$(mktemp -d "$T/mq.XXXXXX")
	chmod 755 "$dir"
	printf '%s\n' "listener 1883 $BROKER_IP" "allow_anonymous true" "persistence false" \
		"log_dest file $dir/mosquitto.log" "user $(id -un)" "$@" >"$dir/mosquitto.conf"
	ip netns exec "$NS" /usr/sbin/mosquitto -c "$dir/mosquitto.conf" >"$dir/stderr" 2>&1 &
	NS_MQ_PID=$!
	NS_MQ_DIR=$dir
	track "$NS_MQ_PID"
	export NS VH HOST_IP BROKER_IP NS_MQ_PID NS_MQ_DIR
	wait_until 5 eval "(exec 3<>/dev/tcp/$BROKER_IP/1883) 2>/dev/null" ||
		die "mosquitto in $NS not listening on $BROKER_IP:1883: $(cat "$dir/stderr")"
}

shaped_netns_cleanup() {
	[ -n "${NS_MQ_PID:-}" ] && stop_pid "$NS_MQ_PID" 3
	[ -n "${NS:-}" ] && ip netns del "$NS" 2>/dev/null
	[ -n "${VH:-}" ] && ip link del "$VH" 2>/dev/null
	return 0
}

# ---- A LAN of namespaces: a bridge, and hosts on it --------------------
# lan_start TAG NAME=IP...: a namespace holding a bridge, and one
# namespace per NAME with a veth to that bridge and IP/24 on it. The
# addresses are on 10.201.0.0/24 (or what the IPs say), inside these
# namespaces only: nothing here routes anywhere else, and the host's own
# namespace gets no interface at all. in_lan NAME CMD... runs CMD there
# (its PID is CMD's: ip execs it); LAN_NS[NAME] and LAN_IP[NAME] name
# them; lan_port_open and lan_mosquitto below. On any exit the processes the test tracked are stopped, then
# whatever is left in the namespaces, then the namespaces go.
declare -gA LAN_NS=() LAN_IP=()
LAN_HUB=''

lan_start() {
	local tag=$1 spec name ip ns i=0
	shift
	LAN_HUB=l${tag}h$$
	trap 'rc=$?; lan_cleanup; (exit $rc); _cleanup' EXIT
	ip netns add "$LAN_HUB" || die "ip netns add $LAN_HUB failed"
	ip -n "$LAN_HUB" link add br0 type bridge || die "cannot add a bridge in $LAN_HUB"
	ip -n "$LAN_HUB" link set br0 up
	for spec in "$@"; do
		name=${spec%%=*} ip=${spec#*=}
		ns=l${tag}${name}$$
		i=$((i + 1))
		ip netns add "$ns" || die "ip netns add $ns failed"
		LAN_NS[$name]=$ns
		LAN_IP[$name]=$ip
		ip link add "p$i" netns "$LAN_HUB" type veth peer name eth0 netns "$ns" ||
			die "cannot add the veth of $name"
		ip -n "$LAN_HUB" link set "p$i" master br0 up
		ip -n "$ns" addr add "$ip/24" dev eth0 || die "ip addr add $ip in $ns failed"
		ip -n "$ns" link set eth0 up
		ip -n "$ns" link set lo up
	done
}

in_lan() {
	local name=$1
	shift
	ip netns exec "${LAN_NS[$name]}" "$@"
}

# lan_port_open NAME IP PORT: something accepts TCP on IP:PORT, seen from NAME.
lan_port_open() {
	in_lan "$1" bash -c "(exec 3<>/dev/tcp/$2/$3) 2>/dev/null"
}

# lan_mosquitto NAME: mosquitto in NAME's namespace on its address and its
# loopback, port 1883; its log is $T/mq-NAME/mosquitto.log.
lan_mosquitto() {
	local name=$1 dir=$T/mq-$1
	mkdir -p "$dir" && chmod 755 "$dir"
	{
		echo "listener 1883 ${LAN_IP[$name]}"
		echo "listener 1883 127.0.0.1"
		echo "allow_anonymous true"
		mosquitto_common_conf "$dir/mosquitto.log"
	} >"$dir/mosquitto.conf"
	in_lan "$name" /usr/sbin/mosquitto -c "$dir/mosquitto.conf" >"$dir/stderr" 2>&1 &
	track $!
	wait_until 5 lan_port_open "$name" "${LAN_IP[$name]}" 1883 ||
		die "mosquitto in $name not listening: $(cat "$dir/stderr")"
}

lan_cleanup() {
	local pid ns
	for pid in "${_PIDS[@]+"${_PIDS[@]}"}"; do
		stop_pid "$pid" 2
	done
	for ns in "${LAN_NS[@]}" $LAN_HUB; do
		# What the tracked ones left behind (socat's forks): ours, in our namespace.
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null
		done
		ip netns del "$ns" 2>/dev/null
	done
	return 0
}
