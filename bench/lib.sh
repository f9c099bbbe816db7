# Helpers shared by the bench scripts (sourced). The caller defines PIDS
# (processes to stop on exit) and CHECKS (the PASS/MISS lines).

# utime + stime of a process, in clock ticks.
cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0
}

# cpu_time OUT CMD...: runs CMD and writes "user sys wall" (seconds, to the
# microsecond; CPU of it and every descendant it waited for) into OUT: what
# /usr/bin/time gives, without its 10 ms rounding, which is a sixth of a
# run that takes 0.06 s. Exits as CMD did. OUT.csw gets the voluntary
# context switches of the same processes: how often they slept and woke.
cpu_time() {
	python3 - "$@" <<'EOF'
import os, sys, time
out, cmd = sys.argv[1], sys.argv[2:]
t0 = time.monotonic()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(cmd[0], cmd)
    finally:
        os._exit(127)
_, status, ru = os.wait4(pid, 0)
wall = time.monotonic() - t0
with open(out, "w") as f:
    f.write("%.6f %.6f %.6f\n" % (ru.ru_utime, ru.ru_stime, wall))
with open(out + ".csw", "w") as f:
    f.write("%d\n" % ru.ru_nvcsw)
sys.exit(os.waitstatus_to_exitcode(status))
EOF
}

now() {
	date +%s.%N
}

# calc EXPR: floating point via awk.
calc() {
	awk "BEGIN { printf \"%s\", ($1) }" 2>/dev/null
}

# jget FILE KEY[.SUB]: one number from blast's JSON report; "" if absent.
jget() {
	python3 - "$1" "$2" <<'EOF' 2>/dev/null
import json, sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2].split('.'):
    v = v[k]
print(v)
EOF
}

# field LINE KEY: KEY=value out of a "k=v k=v" line.
field() {
	echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"
}

# stop_pid PID: TERM, then wait (bounded); forgets it for cleanup.
stop_pid() {
	local i keep=()
	for i in "${PIDS[@]}"; do
		[ "$i" = "$1" ] || keep+=("$i")
	done
	PIDS=("${keep[@]}")
	kill -TERM "$1" 2>/dev/null
	for i in $(seq 50); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# Per-client figures of the good runs: RUNS[CLIENT.FIELD] is a space-
# separated list for each FIELD in FIELDS, RUNS[CLIENT.NOTE] the last
# failure, RUNS[CLIENT.N] the good runs. The caller declares RUNS (declare
# -A) and FIELDS.
# runs_take CLIENT: folds the run just made (R_FIELD, R_NOTE) in; an empty
# or "-" figure is left out.
runs_take() {
	local t=$1 f v
	if [ -n "$R_NOTE" ]; then
		RUNS[$t.NOTE]=$R_NOTE
		return
	fi
	for f in $FIELDS; do
		v=R_$f
		[ -n "${!v}" ] && [ "${!v}" != - ] && RUNS[$t.$f]+=" ${!v}"
	done
	RUNS[$t.N]=$((${RUNS[$t.N]:-0} + 1))
}

# runs_median CLIENT FIELD: "" when CLIENT has no good run.
runs_median() {
	local l=${RUNS[$1.$2]:-}
	[ -z "${l// /}" ] && return
	# shellcheck disable=SC2086 # a list on purpose
	median $l
}

# check OK LABEL FIGURE
check() {
	if [ "$1" = 1 ]; then
		CHECKS+=("PASS  $2: $3")
	else
		CHECKS+=("MISS  $2: $3")
	fi
}

check_skip() {
	CHECKS+=("SKIP  $1: $2")
}

# bench_cleanup: what every bench does on exit: TERM each process in PIDS,
# reap them, run the script's bench_cleanup_extra if it defines one, and
# remove $TMP. Install with: trap bench_cleanup EXIT; trap 'exit 130' INT TERM
bench_cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${PIDS[@]}"; do
		wait "$p" 2>/dev/null
	done
	if declare -F bench_cleanup_extra >/dev/null; then
		bench_cleanup_extra
	fi
	rm -rf "$TMP"
}

# free_port: a TCP port on 127.0.0.1 nothing listens on right now.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_mosquitto [LINE]...: sets MQ_PORT, MQ_PID; LINEs join the config
# (another listener, say). Config per mosquitto.conf(5):
# max_inflight_messages 0 removes the inflight cap (and the Receive
# Maximum it would announce to MQTT 5 clients), so a deep client window
# is accepted; max_queued_messages 0 never drops queued QoS 1.
start_mosquitto() {
	local i
	MQ_PORT=$(free_port)
	{
		# As root, mosquitto drops to user 'mosquitto' before opening
		# the log file, which then cannot be written in our temp dir.
		[ "$(id -u)" -eq 0 ] && echo "user root"
		echo "listener $MQ_PORT 127.0.0.1"
		echo "allow_anonymous true"
		echo "max_inflight_messages 0"
		echo "max_queued_messages 0"
		echo "persistence false"
		echo "log_dest file $TMP/mosquitto.log"
		echo "log_type error"
		echo "log_type warning"
		echo "connection_messages false"
		[ $# -eq 0 ] || printf '%s\n' "$@"
	} >"$TMP/mosquitto.conf"
	"$MOSQUITTO" -c "$TMP/mosquitto.conf" >"$TMP/mosquitto.stderr" 2>&1 &
	MQ_PID=$!
	PIDS+=("$MQ_PID")
	for i in $(seq 50); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$MQ_PORT") 2>/dev/null; then
			return 0
		fi
		kill -0 "$MQ_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "mosquitto did not start: $(cat "$TMP/mosquitto.stderr" "$TMP/mosquitto.log" 2>/dev/null)" >&2
	return 1
}

# start_sink NAME ARGS...: the discard sink ($SINK, bench/sink.c) on a free
# port; sets SINK_PORT, SINK_PID.
start_sink() {
	local name=$1 i
	shift
	"$SINK" --port 0 "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
	SINK_PID=$!
	PIDS+=("$SINK_PID")
	for i in $(seq 50); do
		SINK_PORT=$(sed -n 's/^port=//p' "$TMP/$name.out" 2>/dev/null)
		[ -n "$SINK_PORT" ] && return 0
		sleep 0.1
	done
	die "sink did not start: $(cat "$TMP/$name.err")"
}

# server_drained PORT: waits (at most 10 s) until the server side holds no
# open connection on PORT any more, i.e. it has read everything up to the
# client's DISCONNECT or EOF and closed; prints that time. Called after the
# client exited, so the polling costs the run nothing.
server_drained() {
	local i
	for i in $(seq 1000); do
		[ -z "$(ss -Htn state established state close-wait "( sport = :$1 )" 2>/dev/null)" ] &&
			break
		sleep 0.01
	done
	now
}
