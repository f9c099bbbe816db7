#!/usr/bin/env bash
# Many MQTT connections held at once, and what each part of them costs.
#
#   bench/conns_500k.sh [COUNT]        (default 500000; 100000 runs in a minute)
#
# Everything runs in a network namespace of its own (its loopback, its
# socket counters and settings, nothing of the rest of the machine's
# traffic in them). Starts ceil(COUNT / PER_BROKER) mosquittos there, each
# on its own loopback address (127.0.1.1, 127.0.1.2, ...), then:
#   (1) blast opens COUNT connections across them (--messages 0) and holds
#       them HOLD long; while they are held: blast's workers' RSS, the
#       kernel's slab and TCP memory (/proc/meminfo, /proc/net/sockstat) and
#       the brokers' RSS, each against the same figure before the run;
#   (2) blast opens them again and sends QOS1_MSGS messages at QoS 1 across
#       all of them: nothing may be lost (sent = acked, no failure, no
#       unacked, every connection up);
# then prints what each part costs per connection, the time to open them
# all, how near each limit the run came (ports, open files, memory,
# conntrack, accept backlog), and PASS/MISS lines.
#
# The kernel settings the run needs (a wider ephemeral port range, a
# deeper accept and SYN backlog) are the namespace's; the two that are the
# machine's (the size of a new namespace's TCP hash table, the receive
# backlog) are set for the run and put back on exit. The namespace goes,
# as does every process started here (stopped by PID, also on failure).
# Needs root (ip netns) and iproute2. Reports: OUT/conns_500k/*.json.
#
# Knobs (environment): PER_BROKER (19000 connections per mosquitto, under
# its 20,000 open files), WORKERS (default: enough for 19,000 sockets each,
# at least 2), HOLD (30s: each worker holds its connections this long once
# they are up, longer than the last worker takes to catch up, so that the
# figures are read before any closes), QOS1_MSGS (COUNT: one per
# connection), INFLIGHT (4), DRAIN (120s: how long the QoS 1 run waits for
# the last acks), OPEN_TARGET_S (20), RUN_TIMEOUT (240 s + 1 s per 1,000
# connections, per blast run), BLAST (./blast), MOSQUITTO, OUT (.output).
set -u
cd "$(dirname "$0")/.." || exit 1
. bench/lib.sh

COUNT=${1:-500000}
BLAST=${BLAST:-./blast}
MOSQUITTO=${MOSQUITTO:-$(command -v mosquitto || echo /usr/sbin/mosquitto)}
PER_BROKER=${PER_BROKER:-19000}
HOLD=${HOLD:-30s}
QOS1_MSGS=${QOS1_MSGS:-$COUNT}
INFLIGHT=${INFLIGHT:-4}
DRAIN=${DRAIN:-120s}
OPEN_TARGET_S=${OPEN_TARGET_S:-20}
RUN_TIMEOUT=${RUN_TIMEOUT:-$((240 + COUNT / 1000))}
PAGE=$(getconf PAGESIZE)
HZ=$(getconf CLK_TCK)
NCPU=$(nproc)

TMP=$(mktemp -d /tmp/blast-conns.XXXXXX)
PIDS=()
CHECKS=()
BROKERS=()
declare -A SAVED=()

die() {
	echo "conns_500k.sh: $*" >&2
	exit 1
}

[[ $COUNT =~ ^[0-9]+$ ]] && [ "$COUNT" -ge 1000 ] && [ "$COUNT" -le 1000000 ] ||
	die "COUNT must be a number from 1000 to 1000000, not '$COUNT'"
[ -x "$BLAST" ] || die "$BLAST not built (run make)"
[ -x "$MOSQUITTO" ] || die "$MOSQUITTO missing (Debian package: mosquitto)"
command -v python3 >/dev/null || die "python3 missing"
[ "$(id -u)" -eq 0 ] || die "needs root: it makes a network namespace"
command -v ip >/dev/null || die "ip missing (Debian package: iproute2)"
OUT=${OUT:-.output}
KEEP=$OUT/conns_500k
mkdir -p "$KEEP" || die "cannot write $KEEP"

NOFILE=$(ulimit -Hn)
[ "$NOFILE" = unlimited ] && NOFILE=1048576
ulimit -n "$NOFILE" 2>/dev/null
N_BROKERS=$(((COUNT + PER_BROKER - 1) / PER_BROKER))
[ "$N_BROKERS" -le 64 ] || die "$N_BROKERS brokers needed, blast takes at most 64 targets: raise PER_BROKER"
WORKERS=${WORKERS:-$(((COUNT + 18999) / 19000))}
[ "$WORKERS" -ge 2 ] || WORKERS=2

# ---- the namespace, and the machine's settings put back on exit ----
NS=blast-conns-$$
IN=(ip netns exec "$NS")
sysctl_set() {
	local key=$1 want=$2 file=/proc/sys/${1//.//}
	[ -w "$file" ] || { echo "# $key: not writable here, left at $(cat "$file" 2>/dev/null)"; return; }
	SAVED[$key]=$(cat "$file")
	echo "$want" >"$file" 2>/dev/null || echo "# $key: could not set '$want'"
}
bench_cleanup_extra() {
	local k
	ip netns del "$NS" 2>/dev/null
	for k in "${!SAVED[@]}"; do
		echo "${SAVED[$k]}" >"/proc/sys/${k//.//}" 2>/dev/null
	done
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

# Every connection is two sockets in the TCP hash table; a new namespace
# gets one of its own, of this size (a power of two), so that lookups stay
# one or two deep. Loopback packets queue in the receive backlog.
ehash=262144
while [ "$ehash" -lt $((4 * COUNT)) ] && [ "$ehash" -lt 16777216 ]; do
	ehash=$((ehash * 2))
done
sysctl_set net.ipv4.tcp_child_ehash_entries "$ehash"
sysctl_set net.core.netdev_max_backlog 65536
ip netns add "$NS" || die "ip netns add $NS failed"
ip -n "$NS" link set lo up || die "cannot bring up lo in $NS"
# connect() picks a free local port per (source, destination) pair: the
# wider the range, the less it searches. The accept and SYN queues take
# bursts of CONNECT.
"${IN[@]}" sysctl -qw net.ipv4.ip_local_port_range="1024 65535" net.core.somaxconn=65535 \
	net.ipv4.tcp_max_syn_backlog=65535 || die "cannot set the namespace's sysctls"

# ---- brokers ----
# start_broker I: mosquitto on 127.0.1.I, its own config, two free ports:
# one for each run, so that the second never meets the first's TIME_WAIT
# sockets (a SYN that lands on one waits a retransmit: 1 s, then 3 s...).
# A port free to a plain bind may still be refused to mosquitto's listener
# (the last run's sockets): then two other ports, up to five times.
start_broker() {
	local i=$1 addr="127.0.1.$1" port port2 pid dir="$TMP/mq$1" k try
	mkdir -p "$dir"
	for try in 1 2 3 4 5; do
		read -r port port2 < <("${IN[@]}" python3 -c '
import socket, sys
s = [socket.socket() for _ in range(2)]
for x in s:
    x.bind((sys.argv[1], 0))
print(*(x.getsockname()[1] for x in s))' "$addr") || die "no free port on $addr"
		{
			[ "$(id -u)" -eq 0 ] && echo "user root"
			echo "listener $port $addr"
			echo "listener $port2 $addr"
			echo "allow_anonymous true"
			echo "max_connections -1"
			echo "max_inflight_messages 0"
			echo "max_queued_messages 0"
			echo "persistence false"
			echo "set_tcp_nodelay true"
			echo "connection_messages false"
			echo "log_dest file $dir/log"
			echo "log_type error"
			echo "log_type warning"
		} >"$dir/conf"
		"${IN[@]}" "$MOSQUITTO" -c "$dir/conf" >"$dir/stderr" 2>&1 &
		pid=$!
		PIDS+=("$pid")
		for k in $(seq 50); do
			if "${IN[@]}" bash -c "exec 3<>/dev/tcp/$addr/$port && exec 4<>/dev/tcp/$addr/$port2" \
				2>/dev/null; then
				BROKERS+=("$pid")
				TARGETS+=(--target "$addr:$port")
				TARGETS2+=(--target "$addr:$port2")
				return 0
			fi
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		stop_pid "$pid"
		cat "$dir/stderr" "$dir/log" 2>/dev/null | grep -q 'Address already in use' || break
		rm -f "$dir/log"
	done
	die "mosquitto on $addr:$port,$port2 did not start: $(tail -n 3 "$dir/stderr" "$dir/log" 2>/dev/null)"
}

# Sum of the brokers' resident memory, bytes.
brokers_rss() {
	local p s=0 kb
	for p in "${BROKERS[@]}"; do
		kb=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null)
		s=$((s + ${kb:-0}))
	done
	echo $((s * 1024))
}

# meminfo KEY: bytes.
meminfo() {
	awk -v k="$1:" '$1 == k { print $2 * 1024 }' /proc/meminfo
}

# sockstat FIELD: from the TCP line (inuse, orphan, tw, alloc, mem).
sockstat() {
	"${IN[@]}" awk -v f="$1" '$1 == "TCP:" { for (i = 2; i < NF; i += 2) if ($i == f) print $(i + 1) }' /proc/net/sockstat
}

# The namespace's TCP counters that say a handshake was lost or waited:
# "NAME=N ..." (absolute: the namespace began at 0).
tcp_drops() {
	"${IN[@]}" nstat -asz 2>/dev/null | awk '$1 ~ /^(TcpExtListenOverflows|TcpExtListenDrops|TcpExtTCPReqQFullDrop|TcpRetransSegs|TcpExtTCPTimeouts|TcpAttemptFails|TcpExtTCPAbortOnData)$/ { sub(/^Tcp(Ext)?/, "", $1); printf "%s=%s ", $1, $2 }'
}

conntrack() {
	"${IN[@]}" cat /proc/sys/net/netfilter/nf_conntrack_count 2>/dev/null || echo -
}

# CPU time, clock ticks: the brokers' (utime + stime) and the machine's
# busy time over all CPUs (/proc/stat: all but idle and iowait).
brokers_ticks() {
	local p s=0
	for p in "${BROKERS[@]}"; do
		s=$((s + $(cpu_ticks "$p")))
	done
	echo "$s"
}
# tree_ticks PID: the CPU of PID and every process under it, clock ticks.
tree_ticks() {
	local s c
	s=$(cpu_ticks "$1")
	for c in $(pgrep -P "$1"); do
		s=$((s + $(tree_ticks "$c")))
	done
	echo "$s"
}
busy_ticks() {
	awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat
}

# Figures of the machine now, as "slab tcpmem brokers avail inuse conntrack
# unreclaimable-slab".
snapshot() {
	echo "$(meminfo Slab) $(($(sockstat mem) * PAGE)) $(brokers_rss) $(meminfo MemAvailable)" \
		"$(sockstat inuse) $(conntrack) $(meminfo SUnreclaim)"
}

TARGETS=()
TARGETS2=()
t_b=$(now)
for ((i = 1; i <= N_BROKERS; i++)); do
	start_broker "$i"
done
echo "# $COUNT connections: $N_BROKERS mosquittos (127.0.1.1-$N_BROKERS, up to $PER_BROKER each)," \
	"blast --workers $WORKERS; brokers up in $(printf '%.1f' "$(calc "$(now) - $t_b")") s"
echo "# network namespace $NS: ip_local_port_range $("${IN[@]}" cat /proc/sys/net/ipv4/ip_local_port_range | tr '\t' ' ');" \
	"somaxconn $("${IN[@]}" cat /proc/sys/net/core/somaxconn); TCP hash $ehash; ulimit -n $NOFILE"

# blast's fixed cost: the same workers holding one connection each.
timeout -k 5 30 "${IN[@]}" "$BLAST" "${TARGETS[@]}" --conns "$WORKERS" --workers "$WORKERS" --messages 0 \
	--duration 1s --report "$TMP/base.json" --quiet >/dev/null 2>"$TMP/base.err"
base_rss=$(jget "$TMP/base.json" rss_bytes)

# ---- (1) open and hold ----
read -r slab0 tcpm0 mq0 avail0 inuse0 ct0 sun0 <<<"$(snapshot)"
mqt0=$(brokers_ticks)
busy0=$(busy_ticks)
t0=$(now)
cpu_time "$TMP/hold.cpu" timeout -k 5 "$RUN_TIMEOUT" "${IN[@]}" "$BLAST" "${TARGETS[@]}" --conns "$COUNT" \
	--workers "$WORKERS" --messages 0 --duration "$HOLD" --report "$TMP/hold.json" \
	>/dev/null 2>"$TMP/hold.err" &
bpid=$!
PIDS+=("$bpid")
# cpu_time's child, timeout: stopping it stops blast (cpu_time would not).
sleep 0.2
for p in $(pgrep -P "$bpid"); do PIDS+=("$p"); done
# blast's live line (each second) says when every connection is up. The
# watch forks once a turn (tail), not four times: its CPU is taken from
# the two the open needs.
seen_s=""
while kill -0 "$bpid" 2>/dev/null; do
	if [ -z "$seen_s" ] && [[ $(tail -c 300 "$TMP/hold.err") == *"conns $COUNT/$COUNT "* ]]; then
		seen_s=$(calc "$(now) - $t0")
		mqt1=$(brokers_ticks)
		busy1=$(busy_ticks)
		blt1=$(tree_ticks "$bpid")
		drops1=$(tcp_drops)
		sleep 1 # let the CONNACKs and the brokers' allocations settle
		read -r slab1 tcpm1 mq1 avail1 inuse1 ct1 sun1 <<<"$(snapshot)"
	fi
	sleep 0.2
done
wait "$bpid"
rc=$?
stop_pid "$bpid"
if [ -z "$seen_s" ]; then
	# Never all up: take what was there at the end, for the report.
	read -r slab1 tcpm1 mq1 avail1 inuse1 ct1 sun1 <<<"$(snapshot)"
	mqt1=$(brokers_ticks)
	busy1=$(busy_ticks)
fi
# blast's CPU in all (with the hold and the close), and until all were up.
read -r b_usr b_sys _ <"$TMP/hold.cpu" 2>/dev/null || b_usr=0 b_sys=0
b_open=$(calc "${blt1:-0} > 0 ? ${blt1:-0} / $HZ : $b_usr + $b_sys")
ok=$(jget "$TMP/hold.json" conns_ok)
failed=$(jget "$TMP/hold.json" conns_failed)
rss=$(jget "$TMP/hold.json" rss_bytes)
open_ms=$(jget "$TMP/hold.json" startup.to_all_conns_ms)
cp50=$(jget "$TMP/hold.json" connect_latency_us.p50)
cp99=$(jget "$TMP/hold.json" connect_latency_us.p99)
cmax=$(jget "$TMP/hold.json" connect_latency_us.max)

echo
echo "## (1) open $COUNT and hold $HOLD"
if [ -z "$ok" ]; then
	echo "blast failed (exit $rc): $(tr '\r' '\n' <"$TMP/hold.err" | grep -v '^$' | tail -2)"
	check 0 "$COUNT connections held" "blast failed (exit $rc)"
else
	echo "conns_ok $ok  failed $failed  (exit $rc)"
	echo "all open (CONNACK) after $(calc "${open_ms:-0} / 1000") s of blast's run" \
		"(the first worker's share after $(calc "$(jget "$TMP/hold.json" startup.to_schedule_ms) / 1000") s);" \
		"all up on blast's live line (once a second) ${seen_s:-never} s after launch"
	echo "connect latency (TCP connect -> CONNACK): p50 ${cp50} us, p99 ${cp99} us, max ${cmax} us"
	b_per=$(calc "($rss - ${base_rss:-0}) / ($ok - $WORKERS > 0 ? $ok - $WORKERS : 1)")
	echo "blast: workers' RSS $(calc "$rss / 1048576") MiB ($(printf '%.0f' "$(calc "$rss / $ok")") B/conn overall);" \
		"fixed ${WORKERS} workers x 1 conn $(calc "${base_rss:-0} / 1048576") MiB;" \
		"marginal $(printf '%.0f' "$b_per") B/conn"
	k_slab=$(calc "($slab1 - $slab0) / $ok")
	k_tcp=$(calc "($tcpm1 - $tcpm0) / $ok")
	echo "kernel (both ends of each connection): slab +$(calc "($slab1 - $slab0) / 1048576") MiB" \
		"= $(printf '%.0f' "$k_slab") B/conn ($(printf '%.0f' "$(calc "($sun1 - $sun0) / $ok")") of it unreclaimable); TCP buffers (sockstat mem) +$(calc "($tcpm1 - $tcpm0) / 1048576") MiB" \
		"= $(printf '%.0f' "$k_tcp") B/conn; sockets in use $inuse0 -> $inuse1"
	m_per=$(calc "($mq1 - $mq0) / $ok")
	echo "brokers: $N_BROKERS mosquittos' RSS $(calc "$mq0 / 1048576") -> $(calc "$mq1 / 1048576") MiB" \
		"= $(printf '%.0f' "$m_per") B/conn"
	all_per=$(calc "($avail0 - $avail1) / $ok")
	echo "machine: MemAvailable $(calc "$avail0 / 1073741824") -> $(calc "$avail1 / 1073741824") GiB" \
		"= $(printf '%.0f' "$all_per") B/conn in all (other processes on the machine move it too)"
	# The machine is shared: what the open cost in CPU, and what the
	# run's wall time would be with all the CPUs to itself.
	mq_cpu=$(calc "($mqt1 - $mqt0) / $HZ")
	ours=$(calc "$b_open + $mq_cpu")
	busy=$(calc "($busy1 - $busy0) / $HZ")
	echo "CPU until all were up: blast $(printf '%.1f' "$b_open") s" \
		"($(printf '%.0f' "$(calc "1e6 * $b_open / $ok")") us/conn; the whole run with the hold and the close:" \
		"user $(printf '%.1f' "$b_usr") s sys $(printf '%.1f' "$b_sys") s)," \
		"brokers $(printf '%.1f' "$mq_cpu") s ($(printf '%.0f' "$(calc "1e6 * $mq_cpu / $ok")") us/conn);" \
		"the machine was busy $(printf '%.1f' "$busy") s of $NCPU CPUs x ${seen_s:-?} s," \
		"$(printf '%.1f' "$(calc "$busy - $ours > 0 ? $busy - $ours : 0")") s of it others';" \
		"alone on $NCPU CPUs: about $(printf '%.1f' "$(calc "$ours / $NCPU")") s"
	secs=$(calc "${open_ms:-1e12} / 1000")
	check "$(calc "$ok >= $COUNT && $secs < $OPEN_TARGET_S")" \
		"$COUNT connections open in < $OPEN_TARGET_S s" "$ok open after $(printf '%.2f' "$secs") s"
fi

# ---- (2) QoS 1 across all of them ----
# The brokers first close what the last run left (at most 60 s).
t_w=$(now)
for ((i = 0; i < 600; i++)); do
	[ "$(sockstat inuse)" -le $((inuse0 + 100)) ] && break
	sleep 0.1
done
teardown_s=$(calc "$(now) - $t_w")
timeout -k 5 "$RUN_TIMEOUT" "${IN[@]}" "$BLAST" "${TARGETS2[@]}" --conns "$COUNT" --workers "$WORKERS" \
	--qos 1 --inflight "$INFLIGHT" --messages "$QOS1_MSGS" --payload-size 32 --drain-timeout "$DRAIN" \
	--report "$TMP/qos1.json" --quiet >/dev/null 2>"$TMP/qos1.err"
rc=$?
echo
echo "## (2) QoS 1: $QOS1_MSGS messages across the $COUNT connections (--inflight $INFLIGHT)"
echo "(the brokers had closed the last run's sockets $(printf '%.1f' "$teardown_s") s after it ended;" \
	"$(sockstat tw) in TIME_WAIT; this run connects to each broker's second port)"
q_ok=$(jget "$TMP/qos1.json" conns_ok)
if [ -z "$q_ok" ]; then
	echo "blast failed (exit $rc): $(grep -v '^$' "$TMP/qos1.err" | tail -2)"
	check 0 "QoS 1 across $COUNT connections, nothing lost" "blast failed (exit $rc)"
else
	sent=$(jget "$TMP/qos1.json" sent)
	acked=$(jget "$TMP/qos1.json" acked)
	qfail=$(jget "$TMP/qos1.json" failed)
	unacked=$(jget "$TMP/qos1.json" unacked)
	acct=$(jget "$TMP/qos1.json" accounting_ok)
	echo "conns_ok $q_ok; sent $sent acked $acked failed $qfail unacked $unacked (accounting $acct, exit $rc)"
	echo "publishing $(jget "$TMP/qos1.json" publish_s) s at $(printf '%.0f' "$(jget "$TMP/qos1.json" rate)") msg/s acked;" \
		"latency p50 $(jget "$TMP/qos1.json" latency_us.p50) us p99 $(jget "$TMP/qos1.json" latency_us.p99) us;" \
		"all open after $(calc "$(jget "$TMP/qos1.json" startup.to_all_conns_ms) / 1000") s"
	check "$(calc "$sent == $QOS1_MSGS && $acked == $sent && $qfail == 0 && $unacked == 0")" \
		"QoS 1 across $COUNT connections, nothing lost" "$acked of $QOS1_MSGS acked, $qfail failed, $unacked unacked"
	check "$(calc "$q_ok >= $COUNT")" "QoS 1 run: every connection up" \
		"$q_ok of $COUNT ($(jget "$TMP/qos1.json" errors))"
fi

# ---- how near each limit the run came ----
echo
echo "## limits (what breaks first)"
per_worker=$(((COUNT + WORKERS - 1) / WORKERS))
echo "open files: $per_worker sockets per blast worker, $((COUNT / N_BROKERS)) per mosquitto, of $NOFILE each" \
	"(ulimit -n, a hard limit here): $((NOFILE - 10)) x 64 workers = $(((NOFILE - 10) * 64)) connections at most," \
	"and one mosquitto per $((NOFILE - 10)) (64 targets: $(((NOFILE - 10) * 64)))"
read -r lo hi <<<"$(cat /proc/sys/net/ipv4/ip_local_port_range)"
echo "ports: $((hi - lo + 1)) local ports per (source, destination) pair; blast spreads loopback connections" \
	"over 8 source addresses, so $((COUNT / N_BROKERS / 8)) of them used per pair here"
if [ -n "${ok:-}" ] && [ "${ok:-0}" -gt 0 ]; then
	per_all=$(calc "($rss - ${base_rss:-0} + $slab1 - $slab0 + $tcpm1 - $tcpm0 + $mq1 - $mq0) / $ok")
	echo "memory: $(printf '%.0f' "$per_all") B per connection (blast + kernel + broker) against" \
		"$(calc "$avail0 / 1073741824") GiB available: about $(printf '%.0f' "$(calc "$avail0 / $per_all")") connections"
fi
echo "conntrack: $ct0 -> ${ct1:-?} entries of $("${IN[@]}" cat /proc/sys/net/netfilter/nf_conntrack_max 2>/dev/null || echo -)" \
	"(0: no rule tracks this namespace's loopback; with one, nf_conntrack_max is a limit)"
echo "handshakes lost or retried in the namespace (nstat): open ${drops1:-?}; both runs $(tcp_drops)"
# blast's handshakes in flight (engine/setup.c): 64 shared by the workers,
# or 64 x listeners / workers each, at most 16, when there are more listeners.
hs=$((64 * N_BROKERS / WORKERS))
[ "$hs" -gt 16 ] && hs=16
[ "$hs" -lt $((64 / WORKERS)) ] && hs=$((64 / WORKERS))
[ "$hs" -ge 1 ] || hs=1
echo "accept queue: mosquitto listens with a backlog of 100 (somaxconn caps it); each of blast's" \
	"$WORKERS workers keeps at most $hs handshakes in flight (64 x $N_BROKERS listeners / $WORKERS workers," \
	"at most 16; 64 shared by all with one listener), about $((hs * WORKERS / N_BROKERS > 0 ? hs * WORKERS / N_BROKERS : 1)) per listener"

cp "$TMP/hold.json" "$KEEP/hold.json" 2>/dev/null
cp "$TMP/qos1.json" "$KEEP/qos1.json" 2>/dev/null
echo "(blast's reports: $KEEP/hold.json, $KEEP/qos1.json)"
echo
printf '%s\n' "${CHECKS[@]}"
