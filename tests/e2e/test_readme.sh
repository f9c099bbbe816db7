#!/usr/bin/env bash
# Every blast command README.md shows in a fenced block runs, so that an
# example can never go stale; so do those of the pages README hands whole
# sections to (DOCS below), after README's. Each is taken as a shell reads it (the
# README's quoting, continuation lines joined) and run in one scratch
# directory, in README order (a `blast analyze run.pcapng` reads the
# capture an earlier example wrote), with two kinds of change only:
#   - its addresses point at servers started here on free loopback ports:
#     127.0.0.1:1883 (and no --target) a mosquitto, ws://127.0.0.1:8080/mqtt
#     its websockets listener, 127.0.0.1:9092 librdkafka's mock cluster
#     (topics blast and packet_data), ws://127.0.0.1:7681/ libwebsockets'
#     mirror, ws://127.0.0.1:808[123]/mqtt three bridged mosquittos;
#   - it is made short: --duration at most 1 s, --rate at most 2,000/s,
#     --messages at most 20,000, --conns at most 50, --publishers,
#     --subscribers and --listeners at most 100, --trial-duration 1 s, and
#     a limit search gets --ceiling 500 and --search-timeout 30s unless
#     it sets them.
# Files the examples read (telemetry.jsonl) are made in that directory
# first. Each must exit 0, and a JSON report it writes must account for every
# message (sent = acked + failed + unacked). An address the map does not
# know is a failure. A command that cannot run here is marked in README by
# a comment line right above it, "# not run by tests/e2e/test_readme.sh:
# REASON"; the test lists them, and fails on a mark with no command under
# it. No command at all is a failure too.
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
skip_unless_root # --probe and --pcap examples
skip_unless_cmd python3
[ -x /usr/sbin/mosquitto ] || skip "/usr/sbin/mosquitto not installed"
require_blast
require_kafka_tools

MARK='# not run by tests/e2e/test_readme.sh:'
DOCS=(README.md docs/fanout.md docs/wire.md)

# README's commands: LINE, REASON, WORDS (apart by the byte 0x1f), REASON empty when it runs,
# WORDS the rewritten arguments after "blast", shell-quoted. Addresses come
# from the environment (see below); a bad mark or address ends in "!ERROR".
extract() {
	(cd "$REPO" && python3 - "$MARK" "${DOCS[@]}") <<'EOF'
import os, re, shlex, sys

mark = sys.argv[1]
addr = {
    "127.0.0.1:1883": "127.0.0.1:" + os.environ["MQ_PORT"],
    "ws://127.0.0.1:8080/mqtt": "ws://127.0.0.1:%s/mqtt" % os.environ["MQ_WS_PORT"],
    "127.0.0.1:9092": os.environ["KAFKA_BOOTSTRAP"],
    "ws://127.0.0.1:7681/": "ws://127.0.0.1:%s/" % os.environ["LWS_PORT"],
}
for i in (1, 2, 3):
    addr["ws://127.0.0.1:808%d/mqtt" % i] = "ws://127.0.0.1:%s/mqtt" % os.environ["NODE%d_WS" % i]
caps = {"--rate": 2000, "--messages": 20000, "--conns": 50, "--publishers": 100,
        "--subscribers": 100, "--listeners": 100}
units = {"ms": 1e-3, "s": 1, "m": 60, "h": 3600}

def number(v):
    m = re.fullmatch(r"(\d+)([kKmMgG]?)", v)
    if not m:
        return None
    return int(m.group(1)) * {"": 1, "k": 10**3, "m": 10**6, "g": 10**9}[m.group(2).lower()]

def seconds(v):
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m|h)", v)
    return float(m.group(1)) * units[m.group(2)] if m else None

def rewrite(args):
    out, i = [], 0
    has = {a for a in args if a.startswith("--")}
    while i < len(args):
        a = args[i]
        v = args[i + 1] if i + 1 < len(args) else None
        if a in ("--target", "--listen-target") and v is not None:
            if v not in addr:
                raise ValueError("address %s is not one the test starts a server for" % v)
            out += [a, addr[v]]
            i += 2
            continue
        if a in caps and v is not None and number(v) is not None:
            out += [a, str(min(number(v), caps[a]))]
            i += 2
            continue
        if a == "--duration" and v is not None and (seconds(v) or 0) > 1:
            out += [a, "1s"]
            i += 2
            continue
        if a == "--trial-duration" and v is not None:
            out += [a, "1s"]
            i += 2
            continue
        out.append(a)
        i += 1
    if out and out[0] not in ("analyze", "merge", "agent", "dashboard"):
        if "--target" not in has:
            out += ["--target", addr["127.0.0.1:1883"]]
        if "--find-limit" in has:
            out += [] if "--ceiling" in has else ["--ceiling", "500"]
            out += [] if "--search-timeout" in has else ["--search-timeout", "30s"]
    return out

n = 0
for path in sys.argv[2:]:
    text = open(path).read().split("\n")
    fenced, pending = False, None
    i = 0
    while i < len(text):
        line = text[i]
        if line.lstrip().startswith("```"):
            fenced = not fenced
            if not fenced and pending:
                print("%s:%d\x1f\x1f!ERROR mark with no command under it" % (path, pending[0]))
                pending = None
            i += 1
            continue
        if not fenced:
            i += 1
            continue
        stripped = line.strip()
        if stripped.startswith(mark):
            pending = (i + 1, stripped[len(mark):].strip() or "no reason given")
            i += 1
            continue
        cmd = re.sub(r"^\$ ", "", stripped)
        if not re.match(r"blast (-|analyze |merge |agent |dashboard )", cmd):
            i += 1
            continue
        start = i
        while cmd.endswith("\\") and i + 1 < len(text):
            i += 1
            cmd = cmd[:-1] + " " + text[i].strip()
        reason = pending[1] if pending else ""
        pending = None
        try:
            words = shlex.split(cmd, comments=True)[1:]
            words = words if reason else rewrite(words)
            print("%s:%d\x1f%s\x1f%s" % (path, start + 1, reason, shlex.join(words)))
        except ValueError as e:
            print("%s:%d\x1f\x1f!ERROR %s" % (path, start + 1, e))
        n += 1
        i += 1
if n == 0:
    print("README.md:0\x1f\x1f!ERROR no blast command in README's fenced blocks")
EOF
}

start_mosquitto_ws "max_inflight_messages 100" || die "cannot start mosquitto"
start_kafka_mock 1 "blast:4" "packet_data:4" || die "cannot start the Kafka mock"
start_lws_mirror || die "cannot start libwebsockets-test-server"
start_mosquitto_cluster 3 "max_inflight_messages 100" || die "cannot start the mosquitto cluster"
export LWS_PORT

extract >"$T/commands.tsv" || die "cannot read README's commands"
work=$T/work
mkdir -p "$work"
# The files README's examples read, made here as a user would.
for i in 1 2 3; do
	printf '{"device":"d%d","temp":%d.5,"ok":true}\n' "$i" $((20 + i))
done >"$work/telemetry.jsonl"
ran=0 marked=0
while IFS=$'\x1f' read -r line reason words; do
	case $words in
	'!ERROR'*) fail "$line: ${words#!ERROR }"; continue ;;
	esac
	if [ -n "$reason" ]; then
		marked=$((marked + 1))
		log "$line: not run here: $reason"
		continue
	fi
	eval "args=($words)" # the README's quoting, as a shell reads it
	ran=$((ran + 1))
	quiet=(--quiet)
	case ${args[0]} in analyze | merge) quiet=() ;; esac
	t0=$(date +%s.%N)
	(cd "$work" && exec timeout -k 5 120 "$BLAST" "${args[@]}" "${quiet[@]+"${quiet[@]}"}") \
		</dev/null >"$T/cmd.out" 2>"$T/cmd.err" &
	pid=$!
	track "$pid"
	wait "$pid"
	rc=$?
	secs=$(printf '%.1f' "$(echo "$(date +%s.%N) - $t0" | bc)")
	if [ "$rc" -ne 0 ]; then
		fail "$line: exit $rc: blast $words: $(tail -n 3 "$T/cmd.err" | tr '\n' ' ')"
		continue
	fi
	log "$line: ok in ${secs}s: blast $words"
	for ((k = 0; k < ${#args[@]} - 1; k++)); do
		[ "${args[k]}" = --report ] && [ "${args[0]}" != analyze ] &&
			check_accounting "$work/${args[k + 1]}"
	done
done <"$T/commands.tsv"
[ "$ran" -gt 0 ] || fail "no README command ran"
log "$ran README commands ran, $marked marked as not run here"
pass
