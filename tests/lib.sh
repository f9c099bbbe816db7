# Shared helpers for tests/e2e/test_*.sh. Source it first thing:
#
#	. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
#
# It moves to the repository root, makes a private temp dir ($T), and traps
# EXIT, INT, TERM and HUP so that every process the test started (brokers,
# subscribers, blast) is stopped however the test ends. Exit statuses follow
# tests/run.sh: 0 pass, 1 fail, 77 skip.
#
# A test calls `fail "why"` for each broken expectation (it goes on, so one
# run shows every problem), `die "why"` when going on makes no sense, and
# ends with `pass`, which exits 0 only if nothing failed.

set -u -o pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO" || exit 1
BLAST=${BLAST:-$REPO/blast}
TEST_NAME=$(basename "$0" .sh)
T=$(mktemp -d "${TMPDIR:-/tmp}/blast-$TEST_NAME.XXXXXX") || exit 1
chmod 755 "$T" # mosquitto may drop privileges; it must read configs here

TEST_FAILED=0
_PIDS=()         # every background process started through lib.sh
MQ_PORT='' MQ_PID='' MQ_DIR='' MQ_CONF='' MQ_LOG=''

log() { printf '%s\n' "$*"; }

fail() {
	printf 'FAIL: %s\n' "$*"
	TEST_FAILED=1
}

die() {
	fail "$@"
	exit 1
}

skip() {
	printf 'SKIP: %s\n' "$*"
	exit 77
}

# Ends a test: exit 0 if no fail() was called, else 1.
pass() {
	if [ "$TEST_FAILED" -ne 0 ]; then
		echo "$TEST_NAME: FAILED"
		exit 1
	fi
	echo "$TEST_NAME: ok"
	exit 0
}

skip_unless_root() { [ "$(id -u)" -eq 0 ] || skip "needs root"; }

skip_unless_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || skip "$c not installed"
	done
}

# ./blast is a build product: a missing one is a failure, not a skip.
require_blast() {
	[ -x "$BLAST" ] || die "$BLAST not built (run make)"
}

# Registers a background process for the cleanup trap.
track() { _PIDS+=("$1"); }

# Stops one process by PID: SIGTERM, up to $2 s (default 3), then SIGKILL.
# Reaps it when it is our child. Returns at once if it is gone.
stop_pid() {
	local pid=$1 secs=${2:-3} i
	[ -n "$pid" ] || return 0
	kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < secs * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		# A zombie child still answers kill -0; reap it to see it gone.
		if [ "$(ps -o stat= -p "$pid" 2>/dev/null | cut -c1)" = Z ]; then
			break
		fi
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

_cleanup() {
	local rc=$? pid
	trap - EXIT INT TERM HUP
	for pid in "${_PIDS[@]+"${_PIDS[@]}"}"; do
		stop_pid "$pid" 2
	done
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; then
		# Context for the runner's log (it shows the last 60 lines).
		local f
		for f in "$T"/*.err "$T"/*.out "${MQ_LOG:-}"; do
			[ -n "$f" ] && [ -s "$f" ] || continue
			echo "--- tail $f"
			tail -n 8 "$f"
		done
	fi
	if [ "${KEEP_TMP:-}" = 1 ]; then
		echo "kept $T"
	else
		rm -rf "$T"
	fi
	exit "$rc"
}
trap _cleanup EXIT
trap 'echo "$TEST_NAME: interrupted"; exit 130' INT
trap 'echo "$TEST_NAME: terminated"; exit 143' TERM
trap 'exit 129' HUP

# Prints a TCP port on 127.0.0.1 that was free a moment ago (the kernel
# picks it: bind to port 0).
free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# True once something accepts TCP connections on 127.0.0.1:$1.
port_open() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# wait_until SECS CMD...: runs CMD every 0.1 s until it succeeds (0) or
# SECS seconds (may be fractional: 0.5) pass (1).
wait_until() {
	local tenths i
	tenths=$(echo "$1 * 10 / 1" | bc)
	shift
	for ((i = 0; i < tenths; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	"$@"
}

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
		echo "persistence false"
		echo "max_queued_messages 0"
		echo "log_dest file $MQ_LOG"
		echo "log_type error"
		echo "log_type warning"
		echo "log_type notice"
		echo "log_type information"
		# As root, mosquitto switches to user "mosquitto" unless told to
		# stay; it then could not write the log in our temp dir.
		echo "user $(id -un)"
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

# run_blast LIMIT_S ARGS...: runs ./blast ARGS in the background (so a
# signal to the test interrupts the wait at once), output to $T/blast.out
# and $T/blast.err, killed after LIMIT_S seconds. Sets BLAST_RC (124 if it
# had to be killed) and BLAST_SECS (wall time).
run_blast() {
	local limit=$1 t0 pid
	shift
	t0=$(date +%s.%N)
	timeout -k 5 "$limit" "$BLAST" "$@" >"$T/blast.out" 2>"$T/blast.err" &
	pid=$!
	track "$pid"
	wait "$pid"
	BLAST_RC=$?
	BLAST_SECS=$(echo "$(date +%s.%N) - $t0" | bc)
	[ "$BLAST_RC" -ne 124 ] || fail "blast still running after ${limit}s: blast $*"
}

# json_get FILE KEY: prints the value at KEY, a dotted path
# ("latency_us.p99"; a key holding dots or colons may be given whole:
# "errors.connack:not_authorized"). Objects and lists print as JSON,
# true/false/null as JSON. Returns 1 if a step is missing.
json_get() {
	python3 - "$1" "$2" <<'EOF'
import json, sys
try:
    with open(sys.argv[1]) as f:
        v = json.load(f)
except (OSError, ValueError) as e:
    print(f"json_get: {sys.argv[1]}: {e}", file=sys.stderr)
    sys.exit(2)
path = sys.argv[2]
while path:
    if isinstance(v, dict) and path in v:
        v, path = v[path], ""
        break
    head, _, rest = path.partition(".")
    if not isinstance(v, dict) or head not in v:
        sys.exit(1)
    v, path = v[head], rest
if isinstance(v, (dict, list, bool)) or v is None:
    print(json.dumps(v, sort_keys=True))
elif isinstance(v, float) and v.is_integer():
    print(int(v))
else:
    print(v)
EOF
}

# expect_json FILE KEY OP VALUE: one fail() if the report's KEY is missing,
# or not OP VALUE (OP: == != -gt -ge -lt -le, numbers; eq for strings).
expect_json() {
	local file=$1 key=$2 op=$3 want=$4 got
	if ! got=$(json_get "$file" "$key"); then
		fail "report has no $key (want $op $want)"
		return 1
	fi
	case $op in
	eq) [ "$got" = "$want" ] ;;
	==) [ "$got" -eq "$want" ] 2>/dev/null ;;
	!=) [ "$got" -ne "$want" ] 2>/dev/null ;;
	*) test "$got" "$op" "$want" 2>/dev/null ;;
	esac || { fail "report $key = $got, want $op $want"; return 1; }
}

# check_accounting FILE: the report's sent == acked + failed + unacked.
check_accounting() {
	local file=$1 out
	if ! out=$(python3 - "$file" <<'EOF'
import json, sys
try:
    r = json.load(open(sys.argv[1]))
except (OSError, ValueError) as e:
    print(f"cannot read report: {e}"); sys.exit(1)
missing = [k for k in ("sent", "acked", "failed", "unacked") if k not in r]
if missing:
    print("report lacks " + ", ".join(missing)); sys.exit(1)
s, a, f, u = (r[k] for k in ("sent", "acked", "failed", "unacked"))
if s != a + f + u:
    print(f"sent {s} != acked {a} + failed {f} + unacked {u} (= {a + f + u})"); sys.exit(1)
EOF
	); then
		fail "accounting in $(basename "$file"): $out"
		return 1
	fi
}

# expect_rc WANT: fail unless blast exited WANT ("nonzero" allowed).
# expect_between FILE KEY MAX WHAT: the report's KEY (a number) is above 0
# and below MAX; logs it.
expect_between() {
	local v
	v=$(json_get "$1" "$2") || { fail "$4: no $2"; return 1; }
	python3 -c "import sys; sys.exit(0 if 0 < float('$v') < $3 else 1)" ||
		{ fail "$4: $2 $v, want (0, $3)"; return 1; }
	log "$4: $2 $v"
}

expect_rc() {
	local want=$1
	if [ "$want" = nonzero ]; then
		[ "$BLAST_RC" -ne 0 ] || fail "blast exited 0, want non-zero"
	else
		[ "$BLAST_RC" -eq "$want" ] || fail "blast exited $BLAST_RC, want $want"
	fi
}

# check_marked_payloads SUBFILE N CONNS SIZE: the subscriber got exactly N
# messages from blast's sized payloads, each intact: SIZE bytes, the
# 16-byte marker (userspace/payload/marker.h: "BLST", u32 conn, u64 seq, little
# endian) naming a connection < CONNS that matches the topic blast/{conn},
# then blast's filler ('a' + i % 26 at byte i), and no (conn, seq) twice.
check_marked_payloads() {
	local out
	if ! out=$(python3 - "$1" "$2" "$3" "$4" <<'EOF2'
import struct, sys
n, conns, size = (int(a) for a in sys.argv[2:5])
seen, bad = set(), []
count = 0
for line in open(sys.argv[1]):
    if line.startswith("blast-probe/"):
        continue
    count += 1
    topic, _, hx = line.rstrip("\n").partition(" ")
    try:
        p = bytes.fromhex(hx)
    except ValueError:
        bad.append(f"not hex: {line.strip()!r}"); continue
    if len(p) != size:
        bad.append(f"{topic}: {len(p)} bytes, want {size}"); continue
    if size >= 16:
        magic, conn, seq = struct.unpack_from("<4sIQ", p)
        if magic != b"BLST":
            bad.append(f"{topic}: no marker: {hx}"); continue
        if conn >= conns or topic != f"blast/{conn}":
            bad.append(f"{topic}: marker conn {conn}"); continue
        if (conn, seq) in seen:
            bad.append(f"{topic}: duplicate conn {conn} seq {seq}")
        seen.add((conn, seq))
        filler = bytes(ord("a") + i % 26 for i in range(16, size))
        if p[16:] != filler:
            bad.append(f"{topic}: filler damaged: {hx}")
if count != n:
    bad.insert(0, f"received {count} messages, want {n}")
if bad:
    print("; ".join(bad[:5]) + (f" (+{len(bad) - 5} more)" if len(bad) > 5 else ""))
    sys.exit(1)
EOF2
	); then
		fail "payloads: $out"
		return 1
	fi
}

# check_line_payloads SUBFILE N LINESFILE: exactly N messages whose payloads,
# as a multiset, are LINESFILE's lines cycled N / lines times (N must be a
# multiple of the line count).
check_line_payloads() {
	local out
	if ! out=$(python3 - "$1" "$2" "$3" <<'EOF2'
import collections, sys
n, path = int(sys.argv[2]), sys.argv[3]
lines = open(path, "rb").read().split(b"\n")
if lines and lines[-1] == b"":
    lines.pop()
want = collections.Counter()
for i in range(n):
    want[lines[i % len(lines)]] += 1
got = collections.Counter()
for line in open(sys.argv[1]):
    if line.startswith("blast-probe/"):
        continue
    _, _, hx = line.rstrip("\n").partition(" ")
    got[bytes.fromhex(hx)] += 1
if got != want:
    extra = got - want
    short = want - got
    print(f"received {sum(got.values())} of {n}; unexpected {dict(list(extra.items())[:3])}; "
          f"missing {dict(list(short.items())[:3])}")
    sys.exit(1)
EOF2
	); then
		fail "payload lines: $out"
		return 1
	fi
}

# wait_sub_count SUBFILE N SECS: waits until the subscriber has N messages
# (or SECS pass), then a little more so extra (duplicate) messages show.
wait_sub_count() {
	local _f=$1 _n=$2
	wait_until "$3" eval '[ "$(sub_count "$_f")" -ge "$_n" ]'
	sleep 0.5
}

# blast_why [REPORT]: one line on why blast failed: its stderr, else the
# report's stop reason and errors.
blast_why() {
	local e
	e=$(tail -n 3 "$T/blast.err" 2>/dev/null | tr '\n' ' ')
	if [ -z "$e" ] && [ -n "${1:-}" ] && [ -s "$1" ]; then
		e="stop_reason $(json_get "$1" stop_reason), errors $(json_get "$1" errors)"
	fi
	printf '%s' "$e"
}

# ---- Kafka: a librdkafka mock cluster (tests/tools/kafka_mock.c) ----------
# No Apache Kafka broker installs from Debian, so Kafka tests run against
# librdkafka's mock cluster, driven through a fifo on its stdin, and read
# records back with tests/tools/kafka_consume.c (librdkafka's consumer).

KAFKA_TOOLS=$REPO/.output/tools
KAFKA_BOOTSTRAP='' KAFKA_BOOTSTRAPS='' KAFKA_MOCK_PID='' KAFKA_MOCK_DIR=''
_KAFKA_MOCK_FD=''

# The test helpers are build products (make): missing ones fail the test.
require_kafka_tools() {
	local t
	for t in kafka_mock kafka_consume; do
		[ -x "$KAFKA_TOOLS/$t" ] || die "$KAFKA_TOOLS/$t not built (run make)"
	done
}

# start_kafka_mock BROKERS [TOPIC:PARTITIONS[:RF]]...: a mock cluster of
# BROKERS brokers (ids 1..BROKERS) on loopback with these topics. Exports
# KAFKA_BOOTSTRAP (broker 1's HOST:PORT), KAFKA_BOOTSTRAPS (every broker,
# comma-separated), KAFKA_MOCK_PID and KAFKA_MOCK_DIR (its out and err
# files). Returns 1 if it does not print its addresses within 5 s.
start_kafka_mock() {
	local brokers=$1 spec args=() i
	shift
	require_kafka_tools
	for spec in "$@"; do args+=(--topic "$spec"); done
	KAFKA_MOCK_DIR=$(mktemp -d "$T/kafka_mock.XXXXXX") || return 1
	mkfifo "$KAFKA_MOCK_DIR/in" || return 1
	"$KAFKA_TOOLS/kafka_mock" --brokers "$brokers" "${args[@]+"${args[@]}"}" \
		<"$KAFKA_MOCK_DIR/in" >"$KAFKA_MOCK_DIR/out" 2>"$KAFKA_MOCK_DIR/err" &
	KAFKA_MOCK_PID=$!
	track "$KAFKA_MOCK_PID"
	# Opening the write end waits for the mock's shell to open the read
	# end (it does so before exec). Holding it keeps the mock alive; the
	# mock exits on EOF if this shell dies.
	exec {_KAFKA_MOCK_FD}>"$KAFKA_MOCK_DIR/in"
	for ((i = 0; i < 50; i++)); do
		KAFKA_BOOTSTRAPS=$(sed -n '1s/^bootstrap=//p' "$KAFKA_MOCK_DIR/out")
		[ -n "$KAFKA_BOOTSTRAPS" ] && break
		if ! kill -0 "$KAFKA_MOCK_PID" 2>/dev/null; then
			break
		fi
		sleep 0.1
	done
	if [ -z "$KAFKA_BOOTSTRAPS" ]; then
		echo "kafka_mock did not start:" >&2
		cat "$KAFKA_MOCK_DIR/err" >&2
		stop_kafka_mock
		return 1
	fi
	KAFKA_BOOTSTRAP=${KAFKA_BOOTSTRAPS%%,*}
	export KAFKA_BOOTSTRAP KAFKA_BOOTSTRAPS KAFKA_MOCK_PID KAFKA_MOCK_DIR
}

# kafka_mock_cmd "COMMAND ARGS": sends one command to the mock (see
# tests/tools/kafka_mock.c: leader, errors, broker_errors, clear_errors,
# broker_down, broker_up, rtt, create, topic_error, apiversion) and waits for
# its answer. An "error: ..." answer, or none within 5 s, is a fail() and
# returns 1.
kafka_mock_cmd() {
	local out=$KAFKA_MOCK_DIR/out n i ans=''
	[ -n "$_KAFKA_MOCK_FD" ] || { fail "kafka_mock_cmd $*: no mock running"; return 1; }
	# Count answers before sending, so a fast answer is not missed.
	n=$(wc -l <"$out")
	printf '%s\n' "$*" >&"$_KAFKA_MOCK_FD"
	for ((i = 0; i < 500; i++)); do
		if [ "$(wc -l <"$out")" -gt "$n" ]; then
			ans=$(sed -n "$((n + 1))p" "$out")
			break
		fi
		sleep 0.01
	done
	case $ans in
	ok) return 0 ;;
	'') fail "kafka_mock $*: no answer in 5 s" ;;
	*) fail "kafka_mock $*: $ans" ;;
	esac
	return 1
}

# Stops the mock: closes its stdin, then SIGTERM (SIGKILL after 3 s).
stop_kafka_mock() {
	if [ -n "$_KAFKA_MOCK_FD" ]; then
		exec {_KAFKA_MOCK_FD}>&-
		_KAFKA_MOCK_FD=''
	fi
	stop_pid "$KAFKA_MOCK_PID" 3
	KAFKA_MOCK_PID=''
}

# kafka_consume TOPIC N TIMEOUT > FILE: every record of TOPIC on the mock,
# one "PARTITION OFFSET KEY_HEX VALUE_HEX HEADERS" line each (see
# tests/tools/kafka_consume.c). Stops once it has N records and has reached
# the end of every partition (so extra records show), or after TIMEOUT
# seconds without a record; never runs longer than TIMEOUT + 60 s. Its
# stderr (errors, then "count=N") goes to $T/kafka_consume.err. Returns the
# consumer's status: 0, or 1 if librdkafka reported an error (bad CRC...).
kafka_consume() {
	local topic=$1 n=$2 secs=$3 pid rc
	"$KAFKA_TOOLS/kafka_consume" --bootstrap "$KAFKA_BOOTSTRAPS" --topic "$topic" \
		--count "$n" --timeout "$secs" --max-time $((secs + 60)) \
		2>>"$T/kafka_consume.err" &
	pid=$!
	track "$pid"
	wait "$pid"
	rc=$?
	[ "$rc" -eq 0 ] || echo "kafka_consume $topic: exit $rc: $(tail -n 3 "$T/kafka_consume.err" | tr '\n' ' ')" >&2
	return "$rc"
}

# check_kafka_records FILE KEY=VALUE...: checks kafka_consume output.
#   count=N        exactly N records
#   size=S         every value is S bytes: blast's marker ("BLST", u32 conn,
#                  u64 seq, little endian) then its filler ('a' + i % 26 at
#                  byte i), and no (conn, seq) twice
#   header=NAME=V  every record has header NAME with value V
#   partitions=P   records on every partition 0..P-1 and no other
#   murmur2=P      every record is on the partition Java's default
#                  partitioner picks for its key among P partitions:
#                  toPositive(murmur2(key)) % P (needs a non-null key)
#   key=TEMPLATE   every key is TEMPLATE with {seq} (marker seq) and
#                  {conn} (marker conn) expanded (needs size >= 16)
# One fail() naming the first few problems.
check_kafka_records() {
	local out
	if ! out=$(python3 - "$@" <<'EOF2'
import struct, sys

def murmur2(data):
    # org.apache.kafka.common.utils.Utils.murmur2, in 32-bit two's complement.
    m, r = 0x5bd1e995, 24
    length = len(data)
    h = (0x9747b28c ^ length) & 0xffffffff
    for i in range(0, length - length % 4, 4):
        k = data[i] | data[i + 1] << 8 | data[i + 2] << 16 | data[i + 3] << 24
        k = (k * m) & 0xffffffff
        k ^= k >> r
        k = (k * m) & 0xffffffff
        h = (h * m) & 0xffffffff
        h ^= k
    tail = length % 4
    base = length - tail
    if tail == 3:
        h ^= data[base + 2] << 16
    if tail >= 2:
        h ^= data[base + 1] << 8
    if tail >= 1:
        h ^= data[base]
        h = (h * m) & 0xffffffff
    h ^= h >> 13
    h = (h * m) & 0xffffffff
    h ^= h >> 15
    return h  # as unsigned; Java's toPositive is h & 0x7fffffff

path, opts = sys.argv[1], dict(a.split("=", 1) for a in sys.argv[2:])
bad, seen, parts, count = [], set(), set(), 0
size = int(opts["size"]) if "size" in opts else None
hname, _, hval = opts.get("header", "").partition("=")
filler = bytes(ord("a") + i % 26 for i in range(16, size)) if size else b""
for line in open(path):
    f = line.split()
    if len(f) != 5:
        bad.append(f"bad line {line.strip()!r}"); continue
    count += 1
    part, off, key, val, hdrs = int(f[0]), f[1], f[2], f[3], f[4]
    where = f"p{part}@{off}"
    parts.add(part)
    v = b"" if val == '""' else None if val == "-" else bytes.fromhex(val)
    k = b"" if key == '""' else None if key == "-" else bytes.fromhex(key)
    conn = seq = None
    if size is not None:
        if v is None or len(v) != size:
            bad.append(f"{where}: value {val[:40]}: not {size} bytes"); continue
        if size >= 16:
            magic, conn, seq = struct.unpack_from("<4sIQ", v)
            if magic != b"BLST":
                bad.append(f"{where}: no marker: {val[:40]}"); continue
            if (conn, seq) in seen:
                bad.append(f"{where}: duplicate conn {conn} seq {seq}")
            seen.add((conn, seq))
            if v[16:] != filler:
                bad.append(f"{where}: filler damaged: {val}")
    if hname:
        hs = {} if hdrs == "-" else dict(h.partition("=")[::2] for h in hdrs.split(";"))
        if hname not in hs:
            bad.append(f"{where}: no header {hname} (headers {hdrs})")
        elif hs[hname] != hval.encode().hex():
            bad.append(f"{where}: header {hname}={hs[hname]} (hex), want {hval!r}")
    if "key" in opts and seq is not None:
        want = opts["key"].replace("{seq}", str(seq)).replace("{conn}", str(conn)).encode()
        if k != want:
            bad.append(f"{where}: key {k!r}, want {want!r}")
    if "murmur2" in opts:
        if k is None:
            bad.append(f"{where}: null key"); continue
        want = (murmur2(k) & 0x7fffffff) % int(opts["murmur2"])
        if part != want:
            bad.append(f"{where}: key {k!r} on partition {part}, murmur2 says {want}")
if "count" in opts and count != int(opts["count"]):
    bad.insert(0, f"read back {count} records, want {opts['count']}")
if "partitions" in opts:
    want = set(range(int(opts["partitions"])))
    if parts != want:
        bad.insert(0, f"records on partitions {sorted(parts)}, want {sorted(want)}")
if bad:
    print("; ".join(bad[:5]) + (f" (+{len(bad) - 5} more)" if len(bad) > 5 else ""))
    sys.exit(1)
EOF2
	); then
		fail "records in $(basename "$1"): $out"
		return 1
	fi
}

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
# LWS_LOG. Returns 1 if the port is not open within 5 s.
start_lws_mirror() {
	local i
	[ -x /usr/bin/libwebsockets-test-server ] || { echo "libwebsockets-test-server not installed" >&2; return 1; }
	LWS_PORT=$(free_port) || return 1
	LWS_LOG=$(mktemp "$T/lws.XXXXXX.log") || return 1
	/usr/bin/libwebsockets-test-server -p "$LWS_PORT" -i lo -r "$LWS_RESOURCES/" \
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
			echo "persistence false"
			echo "max_queued_messages 0"
			echo "log_dest file ${NODE_LOG[i]}"
			echo "log_type error"
			echo "log_type warning"
			echo "log_type notice"
			echo "log_type information"
			echo "user $(id -un)"
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
# tests/tools/ws_bad_server.py's misbehaving servers (400, close, drop) on
# a free loopback port. Exports WSB_PORT, WSB_PID, WSB_LOG (its stderr, one
# line per connection). Returns 1 if it does not print its port within 5 s.
start_ws_bad_server() {
	local mode=$1 out i
	shift
	out=$(mktemp "$T/ws_bad.XXXXXX.out") || return 1
	WSB_LOG=${out%.out}.log
	python3 "$REPO/tests/tools/ws_bad_server.py" --mode "$mode" "$@" \
		>"$out" 2>"$WSB_LOG" </dev/null &
	WSB_PID=$!
	track "$WSB_PID"
	WSB_PORT=
	for ((i = 0; i < 50; i++)); do
		WSB_PORT=$(sed -n 's/^port=//p' "$out")
		[ -n "$WSB_PORT" ] && break
		kill -0 "$WSB_PID" 2>/dev/null || break
		sleep 0.1
	done
	if [ -z "$WSB_PORT" ]; then
		echo "ws_bad_server --mode $mode did not start:" >&2
		cat "$WSB_LOG" >&2
		stop_pid "$WSB_PID"
		WSB_PID=
		return 1
	fi
	export WSB_PORT WSB_PID WSB_LOG
}

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

# check_wire REPORT SENT_KEY ACKED_KEY FLOWS: the probe's counts in a run's
# JSON report equal the client's (keys into the report), every ack timed.
check_wire() {
	local r=$1 sent acked
	sent=$(json_get "$r" "$2") || { fail "report has no $2"; return; }
	acked=$(json_get "$r" "$3") || { fail "report has no $3"; return; }
	[ "$sent" -gt 0 ] || fail "$r: nothing sent"
	expect_json "$r" wire.source eq probe
	expect_json "$r" wire.requests == "$sent"
	expect_json "$r" wire.acks == "$acked"
	expect_json "$r" wire.latency_us.count == "$acked"
	expect_json "$r" wire.unparsed == 0
	expect_json "$r" wire.unmatched == 0
	expect_json "$r" wire.flows == "$4"
	expect_json "$r" wire.bytes_out -gt 0
	expect_json "$r" wire.segments_in -gt 0
	expect_json "$r" wire.srtt_us_max -gt 0
	local p50
	p50=$(json_get "$r" wire.latency_us.p50)
	python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) > 0 else 1)' "$p50" ||
		fail "$r: wire.latency_us.p50 = $p50, want > 0"
}

# bpf_prog_ids PID NAMES: ids of the BPF programs whose name matches the
# extended regex NAMES that PID and its children hold open (from their
# descriptors' fdinfo), so that programs other processes on the machine
# load and unload meanwhile never count.
bpf_prog_ids() {
	local p
	for p in "$1" $(pgrep -P "$1"); do
		grep -h '^prog_id:' /proc/"$p"/fdinfo/* 2>/dev/null | awk '{ print $2 }'
	done | sort -un | while read -r id; do
		bpftool prog show id "$id" 2>/dev/null | grep -qE "name ($2)( |$)" && echo "$id"
	done
}
