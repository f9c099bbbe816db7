#!/usr/bin/env bash
# HTTP/1.1 bench: blast --proto http against wrk (Debian wrk 4.1) and
# Locust's FastHttpUser (Debian python3-locust), all against one nginx
# (`return 200`, keep-alive without a request limit) started here on a free
# loopback port, and blast alone into bench/http_sink.
#
# Sections (ROUNDS alternating rounds each, medians; ratios per round, then
# their median and minimum):
#   closed    blast --workers 1 vs wrk -t1, CONNS connections each, one
#             request in flight per connection, for DURATION.
#             Targets: blast >= wrk in requests/s, and >= 1.5 x wrk in
#             requests per client CPU second.
#   pipeline  the same with PIPELINE requests in flight per connection:
#             blast --pipeline PIPELINE vs wrk with bench/wrk_pipeline.lua.
#             Same targets.
#   open      RATE requests/s over CONNS connections: blast --rate (open
#             loop; corrected latency from each request's intended send
#             time, uncorrected from its actual send), wrk held near RATE
#             by bench/wrk_rate.lua (closed loop: wrk has no fixed rate and
#             wrk2, which has, is not packaged; its latency is from the
#             actual send, blast's uncorrected figure), Locust FastHttpUser
#             users at RATE/CONNS each (constant_throughput, bench/
#             locust_http.py, headless, PEER_PYTHON). Latency percentiles
#             side by side; target: blast >= 20 x Locust in requests per
#             client CPU second.
#   sink      blast --workers 1 --pipeline PIPELINE into bench/http_sink
#             (one thread): requests/s per worker; target >= 3 million.
#             wrk with the pipelining script beside it, for scale.
#   instr     (not in the default SECTIONS: slow) user-space instructions
#             per request under valgrind --tool=callgrind, closed loop into
#             bench/http_sink, blast (workers and parent) against wrk -t1:
#             the difference of two runs of different lengths (blast
#             INSTR_REQS and twice that; wrk 2 s and 6 s) over the
#             difference of their requests, so start-up cancels out.
#             Repeatable on a loaded machine, where times are not; kernel
#             work (system calls) is not counted.
#
# Figures per run: req = responses the client counted (blast: acked; wrk:
# its "requests"; Locust: its request count, failures must be 0); req/s =
# req / publishing time (blast's rate) or the tool's own figure (wrk's
# Requests/sec, Locust's Requests/s); cpu_s = client user+sys to the
# microsecond (bench/lib.sh cpu_time; an interpreter's start-up included);
# req/cpu_s = req / cpu_s; wakes/req = the client's voluntary context
# switches (sleeps) per request; srv_core = server CPU / client wall time.
#
# Knobs (environment): ROUNDS (3), CONNS (16), DURATION (5 s), PIPELINE
# (16), RATE (4000), SECTIONS ("closed pipeline open sink"; add instr),
# INSTR_REQS (20000: blast's shorter run, the longer is twice), BLAST
# (./blast), BLAST_BASE (unset; another blast build, say main's, run
# beside BLAST in every round of the closed, pipeline and sink sections,
# with its own rows and its ratios to BLAST), HTTP_SINK
# (.output/bench/http_sink), HTTP_SINK_BASE (unset; another http_sink
# build: the sink section also runs blast, and BLAST_BASE, into it every
# round, with the ratios), PEER_PYTHON (/usr/bin/python3), PACE_BATCH
# (auto: the open section also runs blast --pace-batch auto, 2 ms at 4000/s
# over 16 connections; or a width such as 1ms; empty: not).
# Needs: make (blast, bench binaries); Debian packages nginx,
# wrk, python3-locust (all in scripts/install-deps.sh).
# R_* figures are read back by name (${!v}), which shellcheck cannot see.
# shellcheck disable=SC2034
set -u
cd "$(dirname "$0")/.." || exit 1
. bench/lib.sh

BLAST=${BLAST:-./blast}
HTTP_SINK=${HTTP_SINK:-.output/bench/http_sink}
HTTP_SINK_BASE=${HTTP_SINK_BASE:-}
PEER_PYTHON=${PEER_PYTHON:-/usr/bin/python3}
NGINX=/usr/sbin/nginx
ROUNDS=${ROUNDS:-3}
CONNS=${CONNS:-16}
DURATION=${DURATION:-5}
PIPELINE=${PIPELINE:-16}
RATE=${RATE:-4000}
PACE_BATCH=${PACE_BATCH-auto}
SECTIONS=${SECTIONS:-closed pipeline open sink}
INSTR_REQS=${INSTR_REQS:-20000}
HZ=$(getconf CLK_TCK)

TMP=$(mktemp -d /tmp/blast-httpbench.XXXXXX)
chmod 755 "$TMP"
PIDS=()
CHECKS=()

trap bench_cleanup EXIT
trap 'exit 130' INT TERM

die() {
	echo "http.sh: $*" >&2
	exit 1
}

for v in ROUNDS CONNS DURATION PIPELINE RATE INSTR_REQS; do
	case ${!v} in '' | *[!0-9]*) die "$v must be a whole number, not '${!v}'" ;; esac
	[ "${!v}" -gt 0 ] || die "$v must be > 0"
done
[ -x "$NGINX" ] || die "$NGINX missing (Debian package nginx)"
command -v wrk >/dev/null || die "wrk missing (Debian package wrk)"
[ -x "$HTTP_SINK" ] || die "$HTTP_SINK not built (run make)"
[ -z "$HTTP_SINK_BASE" ] || [ -x "$HTTP_SINK_BASE" ] || die "HTTP_SINK_BASE $HTTP_SINK_BASE is not an executable"
[ -x "$BLAST" ] || die "$BLAST not built (run make)"
BLAST_BASE=${BLAST_BASE:-}
[ -z "$BLAST_BASE" ] || [ -x "$BLAST_BASE" ] || die "BLAST_BASE $BLAST_BASE is not an executable"
# blast's side waits for its HTTP protocol; until then its rows say so.
BLAST_NOTE=""
"$BLAST" --help 2>&1 | grep -q -- '--pipeline' ||
	BLAST_NOTE="this blast has no --proto http"
LOCUST_NOTE=""
"$PEER_PYTHON" -c 'import locust' 2>/dev/null ||
	LOCUST_NOTE="$PEER_PYTHON cannot import locust (Debian package python3-locust)"
# The per-connection gap that holds wrk near RATE (whole milliseconds).
GAP_MS=$(calc "int($CONNS * 1000 / $RATE + 0.5)")
[ "$GAP_MS" -ge 1 ] || die "RATE $RATE over $CONNS connections leaves wrk under 1 ms between requests"

# start_nginx: one worker, `return 200 "OK"`, keep-alive with no request
# limit (nginx closes after 1000 requests by default, which wrk and blast
# would both pay for in reconnects). Sets NG_PORT, NG_PID.
start_nginx() {
	local i
	NG_PORT=$(free_port)
	mkdir -p "$TMP/ng/tmp"
	{
		echo "worker_processes 1;"
		echo "pid $TMP/ng/nginx.pid;"
		echo "error_log $TMP/ng/error.log warn;"
		[ "$(id -u)" -eq 0 ] && echo "user root;"
		echo "events { worker_connections 4096; }"
		echo "http {"
		echo "  access_log off;"
		for d in client_body proxy fastcgi uwsgi scgi; do
			echo "  ${d}_temp_path $TMP/ng/tmp/$d;"
		done
		echo "  keepalive_requests 4000000000;"
		echo "  keepalive_timeout 300s;"
		echo "  server {"
		echo "    listen 127.0.0.1:$NG_PORT;"
		echo "    location / { default_type text/plain; return 200 \"OK\"; }"
		echo "  }"
		echo "}"
	} >"$TMP/ng/nginx.conf"
	"$NGINX" -p "$TMP/ng" -c "$TMP/ng/nginx.conf" -g 'daemon off;' >"$TMP/ng/stderr" 2>&1 &
	NG_PID=$!
	PIDS+=("$NG_PID")
	for i in $(seq 50); do
		(exec 3<>"/dev/tcp/127.0.0.1/$NG_PORT") 2>/dev/null && return 0
		kill -0 "$NG_PID" 2>/dev/null || break
		sleep 0.1
	done
	die "nginx did not start: $(tail -3 "$TMP/ng/stderr" "$TMP/ng/error.log" 2>/dev/null)"
}

# The nginx worker's PID (the master only forks it): whose CPU is served.
nginx_worker() {
	pgrep -P "$NG_PID" | head -1
}

# us VALUE: wrk's "1.23ms" / "456.00us" / "1.02s" in microseconds.
us() {
	awk -v v="$1" 'BEGIN {
		n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
		if (u == "s") n *= 1e6; else if (u == "ms") n *= 1e3; else if (u == "m") n *= 6e7
		printf "%.0f", n }'
}

# measure SERVER_PID CMD...: runs CMD under cpu_time; sets R_CPU, R_SRV, M_RC.
measure() {
	local srv=$1 c0 c1 t0 t1
	shift
	rm -f "$TMP/time" "$TMP/time.csw"
	c0=$(cpu_ticks "$srv")
	t0=$(now)
	cpu_time "$TMP/time" timeout -k 5 $((DURATION + 60)) "$@" >"$TMP/run.out" 2>"$TMP/run.err"
	M_RC=$?
	t1=$(now)
	c1=$(cpu_ticks "$srv")
	R_SRV=$(calc "($c1 - $c0) / $HZ / ($t1 - $t0)")
	R_CPU=$(awk 'NF >= 2 { printf "%.4f", $1 + $2 }' "$TMP/time" 2>/dev/null)
}

errline() {
	grep -v '^$' "$1" 2>/dev/null | tail -1
}

# The run's figures, reset before each run.
reset_r() {
	R_REQ="" R_RATE="" R_CPU="" R_PERCPU="" R_WAKES="" R_SRV="" R_NOTE=""
	R_P50="" R_P99="" R_P999="" R_U50="" R_U99="" R_U999=""
}

finish_r() {
	if [ -z "$R_NOTE" ] && { [ -z "$R_REQ" ] || [ -z "$R_CPU" ]; }; then
		R_NOTE="no figures"
	fi
	if [ -n "$R_NOTE" ]; then
		R_RATE=""
		return
	fi
	R_PERCPU=$(calc "$R_REQ / ($R_CPU > 0 ? $R_CPU : 0.001)")
	# Sleeps the client took (voluntary context switches) per request.
	[ -s "$TMP/time.csw" ] && R_WAKES=$(calc "$(cat "$TMP/time.csw") / ($R_REQ > 0 ? $R_REQ : 1)")
}

# run_wrk SERVER_PID URL [SCRIPT ARG]: wrk -t1 for DURATION.
run_wrk() {
	local srv=$1 url=$2 script=${3:-} arg=${4:-} err
	local cmd=(wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency --timeout 10s)
	reset_r
	[ -n "$script" ] && cmd+=(-s "$script")
	cmd+=("$url")
	[ -n "$arg" ] && cmd+=(-- "$arg")
	measure "$srv" "${cmd[@]}"
	R_REQ=$(sed -n 's/^ *\([0-9]*\) requests in .*/\1/p' "$TMP/run.out")
	R_RATE=$(sed -n 's/^Requests\/sec: *//p' "$TMP/run.out")
	R_P50=$(us "$(awk '$1 == "50%" { print $2 }' "$TMP/run.out")")
	R_P99=$(us "$(awk '$1 == "99%" { print $2 }' "$TMP/run.out")")
	err=$(grep -E '^ *(Socket errors|Non-2xx)' "$TMP/run.out" | tr -s ' ' | tr '\n' ';')
	if [ "$M_RC" != 0 ] || [ -z "$R_REQ" ]; then
		R_NOTE="wrk exit $M_RC: $(errline "$TMP/run.err")"
	elif [ -n "$err" ]; then
		R_NOTE="wrk:$err"
	fi
	finish_r
}

# run_blast SERVER_PID URL [FLAGS...]: blast --workers 1 for DURATION.
run_blast() {
	local srv=$1 url=$2 failed
	shift 2
	reset_r
	if [ -n "$BLAST_NOTE" ]; then
		R_NOTE=$BLAST_NOTE
		return
	fi
	rm -f "$TMP/blast.json"
	measure "$srv" "$BLAST" --proto http --target "$url" --conns "$CONNS" --workers 1 \
		--duration "${DURATION}s" --report "$TMP/blast.json" --quiet "$@"
	R_REQ=$(jget "$TMP/blast.json" acked)
	R_RATE=$(jget "$TMP/blast.json" rate)
	failed=$(jget "$TMP/blast.json" failed)
	R_P50=$(jget "$TMP/blast.json" latency_us.p50)
	R_P99=$(jget "$TMP/blast.json" latency_us.p99)
	R_P999=$(jget "$TMP/blast.json" latency_us.p999)
	R_U50=$(jget "$TMP/blast.json" latency_uncorrected_us.p50)
	R_U99=$(jget "$TMP/blast.json" latency_uncorrected_us.p99)
	R_U999=$(jget "$TMP/blast.json" latency_uncorrected_us.p999)
	if [ -z "$R_REQ" ]; then
		R_NOTE="blast exit $M_RC: $(errline "$TMP/run.err")"
	elif [ "$failed" != 0 ]; then
		R_NOTE="blast: $failed requests failed: $(errline "$TMP/run.err")"
	fi
	finish_r
}

# run_locust SERVER_PID URL: CONNS FastHttpUser users at RATE/CONNS each.
run_locust() {
	local srv=$1 url=$2 line fails
	reset_r
	if [ -n "$LOCUST_NOTE" ]; then
		R_NOTE=$LOCUST_NOTE
		return
	fi
	rm -f "$TMP"/locust_*.csv
	measure "$srv" env HTTP_USER_RATE="$(calc "$RATE / $CONNS")" "$PEER_PYTHON" -m locust \
		-f bench/locust_http.py --headless -u "$CONNS" -r $((CONNS * 10)) \
		-t "${DURATION}s" --stop-timeout 5 --host "$url" --csv "$TMP/locust" \
		--only-summary --loglevel WARNING
	# The "GET /" row: count, failures, Requests/s, 50%, 99%, 99.9% (ms).
	line=$(python3 - "$TMP/locust_stats.csv" <<'EOF' 2>/dev/null
import csv, sys
for row in csv.DictReader(open(sys.argv[1])):
    if row["Name"] == "GET /":
        print(row["Request Count"], row["Failure Count"], row["Requests/s"],
              float(row["50%"]) * 1000, float(row["99%"]) * 1000, float(row["99.9%"]) * 1000)
EOF
	)
	read -r R_REQ fails R_RATE R_P50 R_P99 R_P999 <<<"$line"
	if [ -z "$line" ]; then
		R_NOTE="locust exit $M_RC, no stats CSV: $(errline "$TMP/run.err")"
	elif [ "$fails" != 0 ]; then
		R_NOTE="locust: $fails requests failed"
	fi
	finish_r
}

declare -A RUNS
FIELDS="REQ RATE CPU PERCPU WAKES SRV P50 P99 P999 U50 U99 U999"

fmt_row() {
	printf '%-40s %11s %9s %11s %9s %8s %9s %9s %9s  %s\n' "$@"
}

# num FMT CLIENT FIELD: the median, formatted; "-" when there is none.
num() {
	local v
	v=$(runs_median "$2" "$3")
	# shellcheck disable=SC2059 # the format is the caller's
	if [ -z "$v" ]; then echo -; else printf "$1" "$v"; fi
}

# row CLIENT LABEL
row() {
	local n note=${RUNS[$1.NOTE]:-}
	n=${RUNS[$1.N]:-0}
	if [ "$n" = 0 ]; then
		fmt_row "$2" - - - - - - - - "${note:-no run}"
		return
	fi
	[ "$n" -lt "$ROUNDS" ] && note="$n of $ROUNDS runs good${note:+; last failure: $note}"
	fmt_row "$2" "$(num %.0f "$1" RATE)" "$(num %.4f "$1" CPU)" "$(num %.0f "$1" PERCPU)" \
		"$(num %.3f "$1" WAKES)" \
		"$(num %.2f "$1" SRV)" "$(num %.0f "$1" P50)" "$(num %.0f "$1" P99)" \
		"$(num %.0f "$1" P999)" "$note"
}

# ratios A B FIELD: per round A/B of FIELD (rounds where both ran), into
# X_LIST; X_MED and X_MIN their median and minimum ("" when none).
ratios() {
	local i a b
	X_LIST="" X_MED="" X_MIN=""
	for i in $(seq "$ROUNDS"); do
		a=${ROUND[$1.$i.$3]:-}
		b=${ROUND[$2.$i.$3]:-}
		[ -n "$a" ] && [ -n "$b" ] && X_LIST+=" $(calc "$a / ($b > 0 ? $b : 1e-9)")"
	done
	[ -z "${X_LIST// /}" ] && return
	# shellcheck disable=SC2086 # a list on purpose
	X_MED=$(median $X_LIST)
	# shellcheck disable=SC2086
	X_MIN=$(printf '%s\n' $X_LIST | sort -g | head -1)
}

# target LABEL A B FIELD MIN: a PASS/MISS line on the minimum over rounds.
target() {
	ratios "$2" "$3" "$4"
	if [ -z "$X_MIN" ]; then
		check_skip "$1" "no round with both runs good (${RUNS[$2.NOTE]:-}${RUNS[$3.NOTE]:-})"
		return
	fi
	check "$(calc "$X_MIN >= $5")" "$1" \
		"$(printf 'min x%.2f, median x%.2f over %d rounds' "$X_MIN" "$X_MED" "$(echo "$X_LIST" | wc -w)")"
}

declare -A ROUND
# take CLIENT ROUND: folds the run just made into RUNS and ROUND.
take() {
	runs_take "$1"
	[ -z "$R_NOTE" ] || return
	ROUND[$1.$2.RATE]=$R_RATE
	ROUND[$1.$2.PERCPU]=$R_PERCPU
}

# base_run KEY ROUND SERVER_PID URL [FLAGS...]: with BLAST_BASE, the base
# build's run of the round, folded in as KEY.
base_run() {
	local key=$1 i=$2
	shift 2
	[ -n "$BLAST_BASE" ] || return 0
	BLAST=$BLAST_BASE run_blast "$@"
	take "$key" "$i"
}

# base_rows KEY NEW LABEL: the base build's row and this build's ratios to it.
base_rows() {
	[ -n "$BLAST_BASE" ] || return 0
	row "$1" "$3"
	ratios "$2" "$1" RATE
	[ -n "$X_MED" ] && printf '# this build / BLAST_BASE: req/s median x%.2f (min x%.2f)' "$X_MED" "$X_MIN"
	ratios "$2" "$1" PERCPU
	[ -n "$X_MED" ] && printf ', req/cpu_s median x%.2f (min x%.2f)' "$X_MED" "$X_MIN"
	echo
}

# start_sink_http [BINARY]: bench/http_sink (one thread; or BINARY) on a
# free port; sets SINK_PORT, SINK_PID.
start_sink_http() {
	local i
	rm -f "$TMP/sink.out"
	"${1:-$HTTP_SINK}" --port 0 >"$TMP/sink.out" 2>"$TMP/sink.err" &
	SINK_PID=$!
	PIDS+=("$SINK_PID")
	for i in $(seq 50); do
		SINK_PORT=$(sed -n 's/^port=//p' "$TMP/sink.out" 2>/dev/null)
		[ -n "$SINK_PORT" ] && return 0
		sleep 0.1
	done
	die "http_sink did not start: $(cat "$TMP/sink.err")"
}

start_nginx
NGW=$(nginx_worker)
[ -n "$NGW" ] || die "no nginx worker process"
NG_URL="http://127.0.0.1:$NG_PORT/"
echo "# blast HTTP/1.1 bench, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) CPUs, $(uname -r), load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# nginx $("$NGINX" -v 2>&1 | sed 's/.*\///') (1 worker, return 200), wrk $(dpkg-query -W -f '${Version}' wrk 2>/dev/null),"
echo "# Locust $(dpkg-query -W -f '${Version}' python3-locust 2>/dev/null) FastHttpUser; $CONNS connections, ${DURATION} s a run, $ROUNDS alternating rounds, medians."
echo "# req/s: responses per second; cpu_s: client user+sys; srv_core: server CPU / client wall time;"
echo "# p50/p99/p999 us: blast corrected (from the intended send), wrk and Locust from the actual send"
echo "# (Locust rounds to whole ms; wrk prints no 99.9%)."
[ -n "$BLAST_NOTE" ] && echo "# blast: $BLAST_NOTE; its rows are empty"

has() {
	case " $SECTIONS " in *" $1 "*) return 0 ;; esac
	return 1
}

if has closed; then
	echo
	echo "## closed loop, 1 request in flight per connection, vs nginx"
	fmt_row client "req/s" cpu_s "req/cpu_s" wakes/req srv_core p50 p99 p999 note
	for i in $(seq "$ROUNDS"); do
		run_wrk "$NGW" "$NG_URL"
		take c_wrk "$i"
		run_blast "$NGW" "$NG_URL"
		take c_blast "$i"
		base_run c_base "$i" "$NGW" "$NG_URL"
	done
	row c_wrk "wrk -t1"
	row c_blast "blast --workers 1"
	base_rows c_base c_blast "BLAST_BASE --workers 1"
	target "closed loop: blast >= wrk in requests/s" c_blast c_wrk RATE 1
	target "closed loop: blast >= 1.5 x wrk in requests per client CPU s" c_blast c_wrk PERCPU 1.5
fi

if has pipeline; then
	echo
	echo "## closed loop, $PIPELINE requests in flight per connection (pipelined), vs nginx"
	fmt_row client "req/s" cpu_s "req/cpu_s" wakes/req srv_core p50 p99 p999 note
	for i in $(seq "$ROUNDS"); do
		run_wrk "$NGW" "$NG_URL" bench/wrk_pipeline.lua "$PIPELINE"
		take p_wrk "$i"
		run_blast "$NGW" "$NG_URL" --pipeline "$PIPELINE"
		take p_blast "$i"
		base_run p_base "$i" "$NGW" "$NG_URL" --pipeline "$PIPELINE"
	done
	row p_wrk "wrk -t1 wrk_pipeline.lua $PIPELINE"
	row p_blast "blast --pipeline $PIPELINE"
	base_rows p_base p_blast "BLAST_BASE --pipeline $PIPELINE"
	target "pipelined: blast >= wrk in requests/s" p_blast p_wrk RATE 1
	target "pipelined: blast >= 1.5 x wrk in requests per client CPU s" p_blast p_wrk PERCPU 1.5
fi

if has open; then
	echo
	echo "## $RATE requests/s over $CONNS connections, vs nginx"
	echo "# blast --rate: open loop; wrk: closed loop held near the rate by a ${GAP_MS} ms gap"
	echo "# per connection after each answer (bench/wrk_rate.lua; wrk2 is not packaged);"
	echo "# Locust: FastHttpUser, constant_throughput $(calc "$RATE / $CONNS") per user."
	fmt_row client "req/s" cpu_s "req/cpu_s" wakes/req srv_core p50 p99 p999 note
	for i in $(seq "$ROUNDS"); do
		run_locust "$NGW" "http://127.0.0.1:$NG_PORT"
		take o_locust "$i"
		run_wrk "$NGW" "$NG_URL" bench/wrk_rate.lua "$GAP_MS"
		take o_wrk "$i"
		run_blast "$NGW" "$NG_URL" --rate "$RATE"
		take o_blast "$i"
		[ -n "$R_NOTE" ] || RUNS[o_blastu.N]=$((${RUNS[o_blastu.N]:-0} + 1))
		for f in RATE CPU PERCPU WAKES SRV; do
			v=R_$f
			[ -n "${!v}" ] && RUNS[o_blastu.$f]+=" ${!v}"
		done
		[ -n "$R_U50" ] && RUNS[o_blastu.P50]+=" $R_U50" RUNS[o_blastu.P99]+=" $R_U99" \
			RUNS[o_blastu.P999]+=" $R_U999"
		if [ -n "$PACE_BATCH" ]; then
			run_blast "$NGW" "$NG_URL" --rate "$RATE" --pace-batch "$PACE_BATCH"
			take o_blastb "$i"
		fi
	done
	row o_locust "Locust FastHttpUser"
	row o_wrk "wrk -t1 wrk_rate.lua $GAP_MS (closed)"
	row o_blast "blast --rate $RATE, corrected"
	row o_blastu "blast --rate $RATE, uncorrected"
	[ -n "$PACE_BATCH" ] && row o_blastb "blast --rate $RATE --pace-batch $PACE_BATCH"
	line="# client CPU per request, us (medians):"
	for c in o_locust:Locust o_wrk:wrk o_blast:blast o_blastb:"blast --pace-batch $PACE_BATCH"; do
		v=$(runs_median "${c%%:*}" PERCPU)
		[ -n "$v" ] && line+=" ${c#*:} $(calc "1e6 / ($v > 0 ? $v : 1e-9)" | xargs printf '%.1f'),"
	done
	echo "${line%,}"
	target "fixed rate: blast >= 20 x Locust FastHttpUser in requests per client CPU s" \
		o_blast o_locust PERCPU 20
	[ -n "$PACE_BATCH" ] &&
		target "fixed rate, --pace-batch $PACE_BATCH: blast >= 20 x Locust FastHttpUser in requests per client CPU s" \
			o_blastb o_locust PERCPU 20
fi

if has sink; then
	echo
	echo "## into bench/http_sink (1 thread), $PIPELINE requests in flight per connection"
	if [ -n "$HTTP_SINK_BASE" ]; then
		start_sink_http "$HTTP_SINK_BASE"
		SB_PID=$SINK_PID SB_URL="http://127.0.0.1:$SINK_PORT/"
	fi
	start_sink_http
	SINK_URL="http://127.0.0.1:$SINK_PORT/"
	fmt_row client "req/s" cpu_s "req/cpu_s" wakes/req srv_core p50 p99 p999 note
	for i in $(seq "$ROUNDS"); do
		run_wrk "$SINK_PID" "$SINK_URL" bench/wrk_pipeline.lua "$PIPELINE"
		take s_wrk "$i"
		run_blast "$SINK_PID" "$SINK_URL" --pipeline "$PIPELINE"
		take s_blast "$i"
		base_run s_base "$i" "$SINK_PID" "$SINK_URL" --pipeline "$PIPELINE"
		[ -n "$HTTP_SINK_BASE" ] || continue
		run_blast "$SB_PID" "$SB_URL" --pipeline "$PIPELINE"
		take s_sb "$i"
		base_run s_bsb "$i" "$SB_PID" "$SB_URL" --pipeline "$PIPELINE"
	done
	row s_wrk "wrk -t1 wrk_pipeline.lua $PIPELINE"
	row s_blast "blast --pipeline $PIPELINE"
	base_rows s_base s_blast "BLAST_BASE --pipeline $PIPELINE"
	if [ -n "$HTTP_SINK_BASE" ]; then
		row s_sb "blast into HTTP_SINK_BASE"
		ratios s_blast s_sb RATE
		[ -n "$X_MED" ] && printf '# HTTP_SINK / HTTP_SINK_BASE (this build): req/s median x%.2f (min x%.2f)\n' "$X_MED" "$X_MIN"
		if [ -n "$BLAST_BASE" ]; then
			row s_bsb "BLAST_BASE into HTTP_SINK_BASE"
			ratios s_blast s_bsb RATE
			[ -n "$X_MED" ] && printf '# this build into HTTP_SINK / BLAST_BASE into HTTP_SINK_BASE: req/s median x%.2f (min x%.2f)\n' "$X_MED" "$X_MIN"
		fi
		stop_pid "$SB_PID"
	fi
	label="http_sink: blast >= 3,000,000 requests/s per worker"
	v=$(runs_median s_blast RATE)
	if [ -n "$v" ]; then
		check "$(calc "$v >= 3000000")" "$label" "$(printf '%.0f median over %d runs' "$v" "${RUNS[s_blast.N]}")"
	else
		check_skip "$label" "${RUNS[s_blast.NOTE]:-no good run}"
	fi
	stop_pid "$SINK_PID"
fi

# ir FILE...: the instructions (Ir) callgrind counted, summed over files.
ir() {
	awk '/^summary:/ { s += $2 } END { printf "%d", s }' "$@"
}

if has instr; then
	echo
	echo "## user-space instructions per request (valgrind --tool=callgrind), into bench/http_sink, $CONNS connections, closed loop"
	if ! command -v valgrind >/dev/null; then
		check_skip "instructions per request" "valgrind not installed (Debian package valgrind)"
	else
		start_sink_http
		SINK_URL="http://127.0.0.1:$SINK_PORT/"
		declare -A IR
		for k in 1 2; do
			rm -f "$TMP"/cg.*
			if [ -z "$BLAST_NOTE" ]; then
				timeout 600 valgrind --tool=callgrind --trace-children=yes \
					--callgrind-out-file="$TMP/cg.b.%p" "$BLAST" --proto http \
					--target "$SINK_URL" --conns "$CONNS" --workers 1 \
					--messages $((INSTR_REQS * k)) --quiet --report "$TMP/cg.json" \
					>/dev/null 2>"$TMP/cg.err"
				[ "$(jget "$TMP/cg.json" acked)" = $((INSTR_REQS * k)) ] &&
					IR[b$k]=$(ir "$TMP"/cg.b.*) IR[bn$k]=$((INSTR_REQS * k))
			fi
			timeout 600 valgrind --tool=callgrind --callgrind-out-file="$TMP/cg.w.%p" \
				wrk -t1 -c"$CONNS" -d$((4 * k - 2))s "$SINK_URL" >"$TMP/cg.wrk" 2>/dev/null
			IR[w$k]=$(ir "$TMP"/cg.w.*)
			IR[wn$k]=$(sed -n 's/^ *\([0-9]*\) requests in .*/\1/p' "$TMP/cg.wrk")
		done
		stop_pid "$SINK_PID"
		per_req() { # per_req PREFIX: marginal instructions per request
			local a=${IR[${1}1]:-} b=${IR[${1}2]:-} na=${IR[${1}n1]:-} nb=${IR[${1}n2]:-}
			[ -n "$a" ] && [ -n "$b" ] && [ -n "$na" ] && [ -n "$nb" ] && [ "$nb" -gt "$na" ] &&
				calc "($b - $a) / ($nb - $na)"
		}
		WI=$(per_req w)
		BI=$(per_req b)
		if [ -n "$WI" ]; then
			printf '%-34s %.0f instructions/request (%s and %s requests)\n' "wrk -t1" \
				"$WI" "${IR[wn1]}" "${IR[wn2]}"
		else
			printf '%-34s %s\n' "wrk -t1" "no figure: ${IR[wn1]:-?} requests in 2 s, ${IR[wn2]:-?} in 6 s"
		fi
		if [ -n "$BI" ]; then
			printf '%-34s %.0f instructions/request (%s and %s requests)\n' "blast --workers 1" \
				"$BI" "${IR[bn1]}" "${IR[bn2]}"
		else
			printf '%-34s %s\n' "blast --workers 1" "${BLAST_NOTE:-a run failed: $(errline "$TMP/cg.err")}"
		fi
		if [ -n "$WI" ] && [ -n "$BI" ]; then
			echo "# blast / wrk: $(printf 'x%.2f' "$(calc "$BI / $WI")") the instructions per request"
		fi
	fi
fi

kill -0 "$NG_PID" 2>/dev/null || die "nginx died: $(tail -3 "$TMP/ng/error.log")"
stop_pid "$NG_PID"
echo
echo "# load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# targets"
for c in "${CHECKS[@]}"; do
	echo "$c"
done
