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

# Every blast JSON report the test wrote into $T (however blast was run)
# against docs/report.schema.json: a report that drifts from its documented
# shape fails the test that wrote it. Debian's python3-jsonschema, hence
# /usr/bin/python3.
check_reports() {
	local out files=()
	mapfile -t files < <(find "$T" -maxdepth 3 -type f -name '*.json' 2>/dev/null)
	[ ${#files[@]} -gt 0 ] || return 0
	out=$(/usr/bin/python3 "$REPO/tests/tools/check_report.py" "${files[@]}" 2>&1) ||
		fail "report schema (docs/report.schema.json): $(head -n 20 <<<"$out")"
}

# Ends a test: exit 0 if no fail() was called and every report it wrote
# matches the schema, else 1.
pass() {
	check_reports
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

# expect_jsons FILE KEY OP VALUE [KEY OP VALUE]...: expect_json for many
# keys with one Python start (on a loaded machine each start costs about
# half a second); one fail() per key that is missing or off.
expect_jsons() {
	local file=$1 out line
	shift
	out=$(python3 - "$file" "$@" <<'EOF'
import json, sys
try:
    r = json.load(open(sys.argv[1]))
except (OSError, ValueError) as e:
    print(f"cannot read report {sys.argv[1]}: {e}"); sys.exit(0)
def get(v, path):
    while path:
        if isinstance(v, dict) and path in v:
            return v[path]
        head, _, path = path.partition(".")
        if not isinstance(v, dict) or head not in v:
            raise KeyError
        v = v[head]
    return v
a = sys.argv[2:]
for key, op, want in zip(a[0::3], a[1::3], a[2::3]):
    try:
        got = get(r, key)
    except KeyError:
        print(f"report has no {key} (want {op} {want})"); continue
    if isinstance(got, (dict, list, bool)) or got is None:
        shown = json.dumps(got, sort_keys=True)
    elif isinstance(got, float) and got.is_integer():
        shown = str(int(got))
    else:
        shown = str(got)
    if op == "eq":
        ok = shown == want
    else:
        try:
            g, w = float(shown), float(want)
        except ValueError:
            ok = False
        else:
            ok = {"==": g == w, "!=": g != w, "-gt": g > w, "-ge": g >= w,
                  "-lt": g < w, "-le": g <= w}.get(op, False)
    if not ok:
        print(f"report {key} = {shown}, want {op} {want}")
EOF
	)
	[ -z "$out" ] && return 0
	while IFS= read -r line; do fail "$line"; done <<<"$out"
	return 1
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

# Brokers and servers, by kind.
for _lib in mosquitto kafka ws nats netns tls nginx dashboard; do
	. "$REPO/tests/lib/$_lib.sh"
done
unset _lib
