# Helpers shared by the bench scripts (sourced). The caller defines PIDS
# (processes to stop on exit) and CHECKS (the PASS/MISS lines).

# utime + stime of a process, in clock ticks.
cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0
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
