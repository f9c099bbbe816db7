# Sourced by tests/lib.sh.

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
	for t in kafka_mock kafka_consume kafka_sasl_gate; do
		[ -x "$KAFKA_TOOLS/$t" ] || die "$KAFKA_TOOLS/$t not built (run make)"
	done
}

# start_kafka_mock BROKERS [TOPIC:PARTITIONS[:RF]]...: a mock cluster of
# BROKERS brokers (ids 1..BROKERS) on loopback with these topics. Exports
# KAFKA_BOOTSTRAP (broker 1's HOST:PORT), KAFKA_BOOTSTRAPS (every broker,
# comma-separated), KAFKA_MOCK_PID and KAFKA_MOCK_DIR (its out and err
# files). Returns 1 if it does not print its addresses within 5 s. With
# KAFKA_IN_NS set, the mock (and kafka_consume) run in that network
# namespace, on its loopback.
start_kafka_mock() {
	local brokers=$1 spec args=() i
	shift
	require_kafka_tools
	for spec in "$@"; do args+=(--topic "$spec"); done
	KAFKA_MOCK_DIR=$(mktemp -d "$T/kafka_mock.XXXXXX") || return 1
	mkfifo "$KAFKA_MOCK_DIR/in" || return 1
	${KAFKA_IN_NS:+ip netns exec "$KAFKA_IN_NS"} \
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
	${KAFKA_IN_NS:+ip netns exec "$KAFKA_IN_NS"} \
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

# ---- Kafka over TLS and SASL, where the advertised addresses are -------
# The mock advertises each broker as 127.0.0.1:PORT of its plaintext
# listener. In a network namespace of the test's own, 127.0.0.1:PORT is
# instead a socat listener (TLS with the PKI's server certificate, or
# plain TCP) that hands each connection through a unix socket to this
# namespace: to a socat connected to the broker, or to kafka_sasl_gate
# (tests/tools/kafka_sasl_gate.c: Cyrus SASL's PLAIN and SCRAM carried in
# Kafka's SaslHandshake/SaslAuthenticate, then the broker's bytes). Inside
# the namespace every address the mock advertises (bootstrap and
# Metadata) speaks TLS and/or SASL, and clients run there (in_kafka_ns)
# need no address mapping.

KAFKA_NS='' _KAFKA_NS_ALL=''

# start_kafka_ns TAG [--tls PKI_DIR] [--mtls] [--sasl USER PASSWORD MECHS] [--forge]
# [--refuse-after N]: a
# namespace (KAFKA_NS, exported) in front of every broker of the running
# mock (KAFKA_BOOTSTRAPS). MECHS: the mechanisms the gate enables, space-
# separated; --mtls: the TLS terminators require a client certificate
# signed by PKI_DIR's CA; --forge: the gate changes SCRAM's server signature (an
# impostor); --refuse-after N: every authentication after the first N
# that succeeded is refused (counted per broker: each has its own gate).
# Every namespace goes on any exit; the processes are tracked.
start_kafka_ns() {
	local tag=$1 pki='' verify=verify=0 user='' pass='' mechs='' forge=() hp port sock front
	shift
	while [ $# -gt 0 ]; do
		case $1 in
		--tls) pki=$2; shift 2 ;;
		--mtls) verify="verify=1,cafile=$pki/ca.pem"; shift ;;
		--sasl) user=$2 pass=$3 mechs=$4; shift 4 ;;
		--forge) forge+=(--forge-signature); shift ;;
		--refuse-after) forge+=(--refuse-after "$2"); shift 2 ;;
		*) die "start_kafka_ns: $1?" ;;
		esac
	done
	KAFKA_NS=bk$tag$$
	_KAFKA_NS_ALL="$_KAFKA_NS_ALL $KAFKA_NS"
	trap 'rc=$?; for ns in $_KAFKA_NS_ALL; do ip netns del "$ns" 2>/dev/null; done; (exit $rc); _cleanup' EXIT
	ip netns add "$KAFKA_NS" || die "ip netns add failed"
	ip -n "$KAFKA_NS" link set lo up || die "cannot bring lo up in $KAFKA_NS"
	for hp in ${KAFKA_BOOTSTRAPS//,/ }; do
		port=${hp##*:}
		sock=$T/k$tag-$port.sock
		if [ -n "$user" ]; then
			"$KAFKA_TOOLS/kafka_sasl_gate" --listen "$sock" --upstream "$hp" --user "$user" \
				--password "$pass" --mechs "$mechs" "${forge[@]+"${forge[@]}"}" \
				>"$T/gate-$tag-$port.out" \
				2>>"$T/gate-$tag.err" &
		else
			socat "UNIX-LISTEN:$sock,fork" "TCP:$hp" 2>>"$T/socat-$tag.err" &
		fi
		track $!
		wait_until 5 test -S "$sock" || die "nothing listens on $sock"
		front="TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr,fork"
		[ -z "$pki" ] ||
			front="OPENSSL-LISTEN:$port,bind=127.0.0.1,reuseaddr,fork,cert=$pki/server.pem,key=$pki/server.key,$verify"
		ip netns exec "$KAFKA_NS" socat "$front" "UNIX-CONNECT:$sock" 2>>"$T/socat-$tag.err" &
		track $!
		wait_until 5 in_kafka_ns bash -c "(exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null" ||
			die "socat on $port in $KAFKA_NS not up: $(cat "$T/socat-$tag.err")"
	done
	export KAFKA_NS
}

# in_kafka_ns CMD...: runs CMD inside the namespace start_kafka_ns made last.
in_kafka_ns() {
	ip netns exec "$KAFKA_NS" "$@"
}

# blast_in_kafka_ns: makes run_blast run blast inside that namespace
# (BLAST_OUTSIDE keeps the plain path).
blast_in_kafka_ns() {
	BLAST_OUTSIDE=${BLAST_OUTSIDE:-$BLAST}
	printf '#!/bin/sh\nexec ip netns exec %s %s "$@"\n' "$KAFKA_NS" "$BLAST_OUTSIDE" \
		>"$T/blast-$KAFKA_NS"
	chmod +x "$T/blast-$KAFKA_NS"
	BLAST=$T/blast-$KAFKA_NS
}
