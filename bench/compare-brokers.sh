#!/usr/bin/env bash
# Which broker takes the most? Starts each broker Debian offers on loopback
# (free ports, private directories), runs blast's limit search on each for
# fixed workloads, and writes a markdown table and an SVG bar chart:
#
#   mosquitto                 MQTT 3.1.1
#   nats-server               MQTT (needs JetStream and a server_name)
#   rabbitmq-server           MQTT plugin (rabbitmq_mqtt), foreground node
#   kafka mock                librdkafka's mock cluster (tests/tools/kafka_mock.c)
#
# Workloads: QoS 0 and QoS 1 (Kafka: acks 0 and acks 1), 100 and 1,000
# connections, 64-byte payloads. Each search: blast --find-limit, trials
# from --rate START, short trials of 1 s, a confirming trial of
# TRIAL_DURATION, at most SEARCH_TIMEOUT, and a latency SLO (--slo $SLO,
# default p99=100ms: the rate a broker takes while still answering in
# time). Everything started here is
# stopped here by PID (trap on EXIT), epmd included when RabbitMQ started
# one on the port given to it.
#
# Knobs (environment): SLO (p99=100ms), TRIAL_DURATION (5s), SEARCH_TIMEOUT (45s), START
# (2000 msg/s), CEILING (500000 msg/s), BROKERS ("mosquitto nats rabbitmq
# kafka"), OUTDIR (.output/compare), BLAST (./blast).
# Output: $OUTDIR/compare.md, $OUTDIR/compare.svg, one JSON report per search.
set -u
cd "$(dirname "$0")/.." || exit 1

BLAST=${BLAST:-./blast}
OUT=${OUT:-.output}
OUTDIR=${OUTDIR:-$OUT/compare}
KAFKA_MOCK=${KAFKA_MOCK:-$OUT/tools/kafka_mock}
TRIAL_DURATION=${TRIAL_DURATION:-5s}
SEARCH_TIMEOUT=${SEARCH_TIMEOUT:-45s}
START=${START:-2000}
CEILING=${CEILING:-500000}
SLO=${SLO:-p99=100ms}
BROKERS=${BROKERS:-mosquitto nats rabbitmq kafka}
PAYLOAD=64
PY=/usr/bin/python3

TMP=$(mktemp -d /tmp/blast-compare.XXXXXX)
chmod 755 "$TMP"
PIDS=()
KAFKA_FD=''

log() { printf '%s\n' "$*" >&2; }
die() { log "compare-brokers: $*"; exit 1; }

free_port() {
	$PY -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() {
	local port=$1 secs=$2 pid=$3 i
	for ((i = 0; i < secs * 10; i++)); do
		port_open "$port" && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# The PID of whatever listens on 127.0.0.1:PORT (ss), or nothing.
listener_pid() {
	ss -Hltnp "sport = :$1" 2>/dev/null | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -1
}

stop_pid() {
	local pid=$1 i
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

cleanup() {
	local p
	trap - EXIT INT TERM
	[ -n "$KAFKA_FD" ] && exec {KAFKA_FD}>&-
	for p in "${PIDS[@]+"${PIDS[@]}"}"; do stop_pid "$p"; done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

forget() {
	local keep=() p
	for p in "${PIDS[@]+"${PIDS[@]}"}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	PIDS=("${keep[@]+"${keep[@]}"}")
}

# ---- brokers: each start_X sets TARGET (host:port) and STOP_PIDS ----

start_mosquitto() {
	local port dir=$TMP/mosquitto
	port=$(free_port)
	mkdir -p "$dir" && chmod 755 "$dir"
	cat >"$dir/mosquitto.conf" <<EOF
listener $port 127.0.0.1
allow_anonymous true
persistence false
max_queued_messages 0
user $(id -un)
EOF
	/usr/sbin/mosquitto -c "$dir/mosquitto.conf" >"$dir/log" 2>&1 &
	PIDS+=($!)
	STOP_PIDS=($!)
	wait_port "$port" 10 "$!" || { log "mosquitto did not start: $(tail -3 "$dir/log")"; return 1; }
	TARGET=127.0.0.1:$port
	VERSION=$(/usr/sbin/mosquitto -h 2>/dev/null | sed -n '1s/.*version \([0-9.]*\).*/\1/p')
}

start_nats() {
	local port mport dir=$TMP/nats
	command -v nats-server >/dev/null || { log "nats-server not installed"; return 1; }
	port=$(free_port)
	mport=$(free_port)
	mkdir -p "$dir"
	cat >"$dir/nats.conf" <<EOF
server_name: blast_compare
listen: 127.0.0.1:$port
jetstream { store_dir: "$dir/js", max_memory_store: 268435456, max_file_store: 1073741824 }
mqtt { listen: 127.0.0.1:$mport }
EOF
	nats-server -c "$dir/nats.conf" >"$dir/log" 2>&1 &
	PIDS+=($!)
	STOP_PIDS=($!)
	wait_port "$mport" 15 "$!" || { log "nats-server did not start: $(tail -3 "$dir/log")"; return 1; }
	TARGET=127.0.0.1:$mport
	VERSION=$(nats-server --version 2>/dev/null | sed 's/^nats-server: v//')
}

# A RabbitMQ node of our own: its own name, directories, ports and epmd
# port, run in the foreground (no service), as this user.
start_rabbitmq() {
	local dir=$TMP/rabbitmq amqp mport dist epmd pid beam epmd_pid
	[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || { log "rabbitmq-server not installed"; return 1; }
	amqp=$(free_port) mport=$(free_port) dist=$(free_port) epmd=$(free_port)
	mkdir -p "$dir"
	cat >"$dir/rabbitmq.conf" <<EOF
listeners.tcp.default = 127.0.0.1:$amqp
mqtt.listeners.tcp.default = 127.0.0.1:$mport
mqtt.allow_anonymous = true
loopback_users = none
log.console = false
log.file.level = warning
EOF
	echo '[rabbitmq_mqtt].' >"$dir/enabled_plugins"
	(
		export HOME=$dir RABBITMQ_NODENAME=blastcmp$$@localhost RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
			RABBITMQ_NODE_PORT=$amqp RABBITMQ_DIST_PORT=$dist \
			RABBITMQ_CONFIG_FILE=$dir/rabbitmq RABBITMQ_ENABLED_PLUGINS_FILE=$dir/enabled_plugins \
			RABBITMQ_MNESIA_BASE=$dir/mnesia RABBITMQ_LOG_BASE=$dir/log \
			RABBITMQ_PID_FILE=$dir/rabbitmq.pid RABBITMQ_ADVANCED_CONFIG_FILE=$dir/advanced.config \
			RABBITMQ_CONF_ENV_FILE=$dir/rabbitmq-env.conf \
			RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}" \
			ERL_EPMD_PORT=$epmd ERL_EPMD_ADDRESS=127.0.0.1
		exec /usr/lib/rabbitmq/bin/rabbitmq-server
	) >"$dir/out" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	STOP_PIDS=("$pid")
	wait_port "$mport" 90 "$pid" || { log "rabbitmq did not start: $(tail -5 "$dir/out")"; return 1; }
	# The node itself (beam.smp, the wrapper's child) and the epmd it
	# started on our port: stopped by PID, node first.
	beam=$(listener_pid "$mport")
	epmd_pid=$(listener_pid "$epmd")
	[ -n "$beam" ] && STOP_PIDS=("$beam" "${STOP_PIDS[@]}") && PIDS+=("$beam")
	[ -n "$epmd_pid" ] && STOP_PIDS+=("$epmd_pid") && PIDS+=("$epmd_pid")
	TARGET=127.0.0.1:$mport
	VERSION=$(dpkg-query -W -f='${Version}' rabbitmq-server 2>/dev/null | sed 's/-.*//')
}

start_kafka() {
	local dir=$TMP/kafka i
	[ -x "$KAFKA_MOCK" ] || { log "$KAFKA_MOCK not built (make)"; return 1; }
	mkdir -p "$dir"
	mkfifo "$dir/in"
	"$KAFKA_MOCK" --brokers 1 --topic compare:4 <"$dir/in" >"$dir/out" 2>"$dir/err" &
	PIDS+=($!)
	STOP_PIDS=($!)
	exec {KAFKA_FD}>"$dir/in"
	TARGET=''
	for ((i = 0; i < 50; i++)); do
		TARGET=$(sed -n '1s/^bootstrap=//p' "$dir/out")
		[ -n "$TARGET" ] && break
		sleep 0.1
	done
	TARGET=${TARGET%%,*}
	[ -n "$TARGET" ] || { log "kafka_mock did not start: $(tail -3 "$dir/err")"; return 1; }
	VERSION="librdkafka $(dpkg-query -W -f='${Version}' librdkafka-dev 2>/dev/null | sed 's/-.*//')"
}

stop_broker() {
	local p
	if [ -n "$KAFKA_FD" ]; then
		exec {KAFKA_FD}>&-
		KAFKA_FD=''
	fi
	for p in "${STOP_PIDS[@]+"${STOP_PIDS[@]}"}"; do
		stop_pid "$p"
		forget "$p"
	done
	STOP_PIDS=()
}

# ---- searches ----

[ -x "$BLAST" ] || die "$BLAST not built (make)"
mkdir -p "$OUTDIR" || die "cannot create $OUTDIR"
ROWS=$OUTDIR/rows.tsv
: >"$ROWS"
t_all=$(date +%s)

for broker in $BROKERS; do
	STOP_PIDS=() VERSION='' TARGET=''
	log "== $broker: starting"
	if ! "start_$broker"; then
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$broker" "-" "-" "-" "not started" "" "" "" >>"$ROWS"
		stop_broker
		continue
	fi
	for qos in 0 1; do
		for conns in 100 1000; do
			name=$broker-q$qos-c$conns
			args=(--target "$TARGET" --conns "$conns" --payload-size "$PAYLOAD" --find-limit
			      --slo "$SLO" --rate "$START" --ceiling "$CEILING" --trial-duration "$TRIAL_DURATION"
			      --search-timeout "$SEARCH_TIMEOUT" --drain-timeout 2s --quiet
			      --report "$OUTDIR/$name.json")
			if [ "$broker" = kafka ]; then
				args=(--proto kafka --topic compare --acks "$qos" "${args[@]}")
			else
				args+=(--qos "$qos")
			fi
			log "== $name: blast ${args[*]}"
			timeout 300 "$BLAST" "${args[@]}" >"$OUTDIR/$name.out" 2>"$OUTDIR/$name.err"
			rc=$?
			$PY - "$OUTDIR/$name.json" "$broker" "$VERSION" "$qos" "$conns" "$rc" >>"$ROWS" <<'EOF'
import json, sys
path, broker, version, qos, conns, rc = sys.argv[1:]
try:
    r = json.load(open(path))
except (OSError, ValueError):
    print(f"{broker}\t{version}\t{qos}\t{conns}\tno report (exit {rc})\t\t\t")
    sys.exit()
lim = r.get("limit")
ended = r.get("search", {}).get("ended", "?")
n = len(r.get("trials", []))
if not lim:
    print(f"{broker}\t{version}\t{qos}\t{conns}\tnone ({ended})\t\t\t{n}")
else:
    l = lim["latency_us"]
    note = "" if lim.get("confirmed") else " (unconfirmed)"
    if ended == "ceiling":
        note = " (ceiling)"
    print(f"{broker}\t{version}\t{qos}\t{conns}\t{lim['rate']:.0f}{note}\t{l['p50']:.0f}\t{l['p99']:.0f}\t{n}")
EOF
			tail -n 1 "$ROWS" >&2
		done
	done
	stop_broker
done
t_total=$(($(date +%s) - t_all))

# ---- the table and the chart ----
$PY - "$ROWS" "$OUTDIR/compare.md" "$OUTDIR/compare.svg" "$t_total" "$TRIAL_DURATION" "$SLO" <<'EOF'
import sys, html
rows_path, md_path, svg_path, total, trial, slo = sys.argv[1:]
rows = [l.rstrip("\n").split("\t") for l in open(rows_path) if l.strip()]
with open(md_path, "w") as f:
    f.write("| broker | version | QoS (Kafka: acks) | connections | limit msg/s | p50 us | p99 us | trials |\n")
    f.write("| --- | --- | --- | --- | ---: | ---: | ---: | ---: |\n")
    for r in rows:
        f.write("| " + " | ".join(r) + " |\n")
    f.write(f"\n64-byte payloads, SLO {slo}; confirming trials of {trial}; {total} s in all.\n")

# Grouped bars: one group per workload, one bar per broker, on a log
# scale (the brokers differ by orders of magnitude), each bar labelled.
import math
def num(s):
    try:
        return float(s.split()[0])
    except (ValueError, IndexError):
        return 0.0
brokers = []
for r in rows:
    if r[0] not in brokers:
        brokers.append(r[0])
work = [("0", "100"), ("0", "1000"), ("1", "100"), ("1", "1000")]
val = {(r[0], r[2], r[3]): num(r[4]) for r in rows if len(r) > 4}
lo_exp = 2
hi_exp = max(3, math.ceil(math.log10(max(list(val.values()) + [1000]))))
colors = ["#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2"]
W, H, left, bottom, top_pad = 800, 380, 70, 60, 40
plot_w, plot_h = W - left - 20, H - bottom - top_pad
gw = plot_w / len(work)
bw = gw * 0.8 / max(1, len(brokers))
def ypos(v):
    if v <= 10 ** lo_exp:
        return top_pad + plot_h
    return top_pad + plot_h - plot_h * (math.log10(v) - lo_exp) / (hi_exp - lo_exp)
def short(v):
    return f"{v/1e6:.1f}M" if v >= 1e6 else f"{v/1e3:.0f}k" if v >= 1e4 else f"{v/1e3:.1f}k" if v >= 1e3 else f"{v:.0f}"
out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="11">',
       f'<rect width="{W}" height="{H}" fill="white"/>',
       f'<text x="{W/2}" y="20" text-anchor="middle" font-size="14">blast --find-limit: highest sustained msg/s '
       f'(64-byte payloads, {html.escape(slo)}; log scale)</text>']
for e in range(lo_exp, hi_exp + 1):
    y = ypos(10 ** e)
    out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{W-20}" y2="{y:.1f}" stroke="#ddd"/>')
    out.append(f'<text x="{left-5}" y="{y+4:.1f}" text-anchor="end">{10**e:,}</text>')
for gi, (q, c) in enumerate(work):
    x0 = left + gi * gw + gw * 0.1
    for bi, b in enumerate(brokers):
        v = val.get((b, q, c), 0)
        x = x0 + bi * bw
        y = ypos(v)
        h = top_pad + plot_h - y
        out.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bw-2:.1f}" height="{h:.1f}" fill="{colors[bi % len(colors)]}">'
                   f'<title>{html.escape(b)} QoS {q}, {c} conns: {v:,.0f} msg/s</title></rect>')
        out.append(f'<text x="{x + (bw-2)/2:.1f}" y="{y-3:.1f}" text-anchor="middle" font-size="9">'
                   f'{short(v) if v else "none"}</text>')
    out.append(f'<text x="{left + gi*gw + gw/2:.1f}" y="{H-bottom+18}" text-anchor="middle">QoS {q}, {c} conns</text>')
for bi, b in enumerate(brokers):
    x = left + bi * 130
    out.append(f'<rect x="{x}" y="{H-22}" width="12" height="12" fill="{colors[bi % len(colors)]}"/>')
    out.append(f'<text x="{x+16}" y="{H-12}">{html.escape(b)}</text>')
out.append("</svg>")
open(svg_path, "w").write("\n".join(out) + "\n")
EOF
cat "$OUTDIR/compare.md"
log "wrote $OUTDIR/compare.md and $OUTDIR/compare.svg"
