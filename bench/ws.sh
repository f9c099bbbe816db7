#!/usr/bin/env bash
# WebSocket fan-out bench: blast --proto ws against the WebSocket clients
# people script such tests with: Python's websockets library (Debian
# python3-websockets, bench/ws_peer.py) and the npm ws package (Debian
# node-ws, bench/ws_peer.js; skipped with a note when absent), all against
# one libwebsockets test server (Debian libwebsockets-test-server,
# lws-mirror-protocol: every message goes to every client, the sender
# included) started here on a free loopback port.
#
# The same work for each: PUBLISHERS connections push MESSAGES messages in
# all (as fast as each client goes, text frames of PAYLOAD bytes), LISTENERS
# more connections only listen, and every connection counts its receipts
# (expected MESSAGES x (PUBLISHERS + LISTENERS)) and times each one end to
# end by the send timestamp in its payload. PAYLOAD is 58 or 122 so masked
# frames (payload + 6) tile the mirror's 4096-byte reads; a frame that
# straddles one comes back split (README, WebSocket).
#
# Figures per run: msg/s = MESSAGES / (first send -> last receipt);
# rcpt/s the same for receipts; p50/p99 end to end over every receipt;
# cpu_s client user+sys to the microsecond (bench/lib.sh cpu_time;
# blast's workers included, a peer's interpreter start included);
# msg/cpu_s = MESSAGES / cpu_s;
# srv_core = the mirror's CPU (/proc/PID/stat) over the client's wall time.
# REPEAT alternating rounds (the peers, then blast); rows are medians.
# Ratios are per round (blast against the peers of the same round), then
# their median and minimum. Target: blast >= 25 x each peer's messages per
# client CPU second in every round (the minimum over the rounds); a round
# where a run failed (the mirror drops messages now and then, see
# tests/e2e) has no ratio, and the count of such rounds is printed.
#
# On a busy machine the mirror drops messages now and then (what one read
# brings past its ring), for any client: such a run measures nothing, and
# is run again, up to RETRY times; the repeats are counted and printed.
#
# Knobs (environment): MESSAGES (100000), PUBLISHERS (2), LISTENERS (1),
# PAYLOAD (58), REPEAT (5), RUN_TIMEOUT (60 s), RETRY (2), BLAST (./blast),
# PEER_PYTHON (/usr/bin/python3: Debian's, which has python3-websockets),
# NODE_PATH_WS (/usr/share/nodejs, where node-ws puts ws).
# Needs: make blast; Debian packages libwebsockets-test-server,
# python3-websockets, python3; node-ws for the npm ws row.
# R_* figures are read back by name (${!v}), which shellcheck cannot see.
# shellcheck disable=SC2034
set -u
cd "$(dirname "$0")/.." || exit 1
. bench/lib.sh

BLAST=${BLAST:-./blast}
PEER_PYTHON=${PEER_PYTHON:-/usr/bin/python3}
LWS=/usr/bin/libwebsockets-test-server
LWS_RESOURCES=/usr/share/libwebsockets-test-server
MESSAGES=${MESSAGES:-100000}
PUBLISHERS=${PUBLISHERS:-2}
LISTENERS=${LISTENERS:-1}
PAYLOAD=${PAYLOAD:-58}
REPEAT=${REPEAT:-5}
RUN_TIMEOUT=${RUN_TIMEOUT:-60}
RETRY=${RETRY:-2}
HZ=$(getconf CLK_TCK)

TMP=$(mktemp -d /tmp/blast-wsbench.XXXXXX)
PIDS=()

trap bench_cleanup EXIT
trap 'exit 130' INT TERM

die() {
	echo "ws.sh: $*" >&2
	exit 1
}

for v in MESSAGES PUBLISHERS LISTENERS PAYLOAD REPEAT RUN_TIMEOUT RETRY; do
	case ${!v} in '' | *[!0-9]*) die "$v must be a whole number, not '${!v}'" ;; esac
done
[ "$MESSAGES" -gt 0 ] && [ "$PUBLISHERS" -gt 0 ] && [ "$REPEAT" -gt 0 ] ||
	die "MESSAGES, PUBLISHERS and REPEAT must be > 0"
[ -x "$BLAST" ] || die "$BLAST not built (run make)"
[ -x "$LWS" ] || die "$LWS missing (Debian package libwebsockets-test-server)"
"$PEER_PYTHON" -c 'import websockets' 2>/dev/null ||
	die "$PEER_PYTHON cannot import websockets (Debian package python3-websockets)"

# The npm ws package, from Debian's node-ws (or NODE_PATH_WS): a second
# peer when present.
NODE_PATH_WS=${NODE_PATH_WS:-/usr/share/nodejs}
PEERS=(python)
NODE_NOTE=""
if ! command -v node >/dev/null; then
	NODE_NOTE="node not installed (Debian packages nodejs, node-ws)"
elif ! NODE_PATH=$NODE_PATH_WS node -e 'require("ws")' 2>/dev/null; then
	NODE_NOTE="npm ws not found under $NODE_PATH_WS (Debian package node-ws)"
else
	PEERS+=(node)
fi

# start_mirror: as tests/lib.sh's start_lws_mirror. The interface name
# "lo", not 127.0.0.1: lws 4.1.6 would take the address for an interface
# name and bind every interface. Sets LWS_PORT, LWS_PID.
start_mirror() {
	local i
	LWS_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	"$LWS" -p "$LWS_PORT" -i lo -r "$LWS_RESOURCES/" >"$TMP/lws.log" 2>&1 </dev/null &
	LWS_PID=$!
	PIDS+=("$LWS_PID")
	for i in $(seq 50); do
		(exec 3<>"/dev/tcp/127.0.0.1/$LWS_PORT") 2>/dev/null && return 0
		kill -0 "$LWS_PID" 2>/dev/null || break
		sleep 0.1
	done
	die "libwebsockets-test-server did not start: $(tail -3 "$TMP/lws.log")"
}

EXPECTED=$((MESSAGES * (PUBLISHERS + LISTENERS)))
BLAST_TIMED=

# One measured run of CLIENT (python | node | blast). Sets R_RATE (msg/s), R_RCPT
# (receipts/s), R_P50, R_P99 (us), R_CPU, R_PERCPU, R_SRV, R_NOTE (""
# when every expected receipt arrived). run_one CLIENT
run_one() {
	local client=$1 c0 c1 t0 t1 rc line batch recv
	R_RATE="" R_RCPT="" R_P50="" R_P99="" R_CPU="" R_PERCPU="" R_SRV="" R_NOTE=""
	rm -f "$TMP/blast.json" "$TMP/time"
	c0=$(cpu_ticks "$LWS_PID")
	t0=$(now)
	if [ "$client" != blast ]; then
		local cmd=("$PEER_PYTHON" bench/ws_peer.py)
		[ "$client" = node ] && cmd=(env NODE_PATH="$NODE_PATH_WS" node bench/ws_peer.js)
		cpu_time "$TMP/time" timeout -k 5 $((RUN_TIMEOUT + 10)) \
			"${cmd[@]}" --url "ws://127.0.0.1:$LWS_PORT/" \
			--subprotocol lws-mirror-protocol --publishers "$PUBLISHERS" \
			--listeners "$LISTENERS" --messages "$MESSAGES" --payload-size "$PAYLOAD" \
			--timeout "$RUN_TIMEOUT" >"$TMP/peer.out" 2>"$TMP/peer.err"
	else
		# One worker: the peer is one process on one core too.
		cpu_time "$TMP/time" timeout -k 5 $((RUN_TIMEOUT + 10)) \
			"$BLAST" --proto ws --target "ws://127.0.0.1:$LWS_PORT/" \
			--ws-subprotocol lws-mirror-protocol --publishers "$PUBLISHERS" \
			--listeners "$LISTENERS" --messages "$MESSAGES" --payload-size "$PAYLOAD" \
			--workers 1 --drain-timeout "${RUN_TIMEOUT}s" --report "$TMP/blast.json" \
			--quiet >"$TMP/blast.out" 2>"$TMP/blast.err"
	fi
	rc=$?
	t1=$(now)
	c1=$(cpu_ticks "$LWS_PID")
	R_SRV=$(calc "($c1 - $c0) / $HZ / ($t1 - $t0)")
	R_CPU=$(awk 'NF >= 2 { printf "%.4f", $1 + $2 }' "$TMP/time" 2>/dev/null)
	if [ "$client" != blast ]; then
		line=$(tail -1 "$TMP/peer.out")
		batch=$(field "$line" batch_s)
		recv=$(field "$line" received)
		R_P50=$(field "$line" p50_us)
		R_P99=$(field "$line" p99_us)
		if [ -z "$batch" ]; then
			R_NOTE="$client peer failed (exit $rc): $(grep -v '^$' "$TMP/peer.err" | tail -1)"
		fi
	else
		batch=$(jget "$TMP/blast.json" batch_s)
		recv=$(jget "$TMP/blast.json" received)
		R_P50=$(jget "$TMP/blast.json" e2e_latency_us.p50)
		R_P99=$(jget "$TMP/blast.json" e2e_latency_us.p99)
		BLAST_TIMED="by segment $(jget "$TMP/blast.json" rx_timed_by.segment), by read $(jget "$TMP/blast.json" rx_timed_by.read), by loop $(jget "$TMP/blast.json" rx_timed_by.loop)"
		if [ -z "$batch" ]; then
			R_NOTE="blast failed (exit $rc): $(grep -v '^$' "$TMP/blast.err" | tail -1)"
		fi
	fi
	if [ -z "$R_NOTE" ] && [ "$recv" != "$EXPECTED" ]; then
		R_NOTE="$client received $recv of $EXPECTED"
	fi
	if [ -n "$R_NOTE" ] || [ -z "$R_CPU" ]; then
		R_NOTE=${R_NOTE:-no CPU figure}
		R_RATE=""
		return
	fi
	R_RATE=$(calc "$MESSAGES / $batch")
	R_RCPT=$(calc "$recv / $batch")
	R_PERCPU=$(calc "$MESSAGES / ($R_CPU > 0 ? $R_CPU : 0.001)")
}

# run_again CLIENT: run_one, and again (up to RETRY more times) while the
# run failed; REPEATED[CLIENT] counts the runs made again.
declare -A REPEATED
run_again() {
	local k
	run_one "$1"
	for k in $(seq "$RETRY"); do
		[ -z "$R_NOTE" ] && return
		REPEATED[$1]=$((${REPEATED[$1]:-0} + 1))
		echo "# $1: $R_NOTE; run again ($k of $RETRY)" >&2
		run_one "$1"
	done
}

# Per-client figures of the good runs (bench/lib.sh runs_take).
declare -A RUNS
FIELDS="RATE RCPT P50 P99 CPU PERCPU SRV"

fmt_row() {
	printf '%-30s %10s %10s %11s %11s %8s %11s %8s  %s\n' "$@"
}

# row CLIENT LABEL
row() {
	local n note=${RUNS[$1.NOTE]:-}
	n=$(echo "${RUNS[$1.RATE]:-}" | wc -w)
	if [ "$n" = 0 ]; then
		fmt_row "$2" - - - - - - - "${note:-no run}"
		return
	fi
	[ "$n" -lt "$REPEAT" ] && note="$n of $REPEAT runs good${note:+; last failure: $note}"
	fmt_row "$2" "$(printf '%.0f' "$(runs_median "$1" RATE)")" \
		"$(printf '%.0f' "$(runs_median "$1" RCPT)")" \
		"$(printf '%.0f' "$(runs_median "$1" P50)")" \
		"$(printf '%.0f' "$(runs_median "$1" P99)")" \
		"$(printf '%.4f' "$(runs_median "$1" CPU)")" \
		"$(printf '%.0f' "$(runs_median "$1" PERCPU)")" \
		"$(printf '%.2f' "$(runs_median "$1" SRV)")" "$note"
}

start_mirror
PEER_VER=$("$PEER_PYTHON" -c 'import websockets; print(websockets.__version__)' 2>/dev/null)
LWS_VER=$(dpkg-query -W -f '${Version}' libwebsockets-test-server 2>/dev/null)
echo "# blast WebSocket fan-out bench, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) CPUs, $(uname -r)"
echo "# libwebsockets-test-server $LWS_VER (lws-mirror-protocol) on 127.0.0.1:$LWS_PORT, one server for every run;"
echo "# $PUBLISHERS publisher(s) push $MESSAGES messages of $PAYLOAD B (text frames), $LISTENERS listener(s);"
echo "# every connection counts receipts: expected $EXPECTED. blast --workers 1 vs Python websockets $PEER_VER"
echo "# ($PEER_PYTHON bench/ws_peer.py, asyncio) and npm ws (node bench/ws_peer.js), no compression."
echo "# $REPEAT alternating rounds, medians; ratios per round, then their median and minimum."
echo "# msg/s: messages / (first send -> last receipt);"
echo "# p50/p99: end to end (payload timestamp -> receipt) over every receipt, us; cpu_s: client user+sys;"
echo "# srv_core: the mirror's CPU / client wall time."
fmt_row client "msg/s" "rcpt/s" "e2e p50 us" "e2e p99 us" cpu_s "msg/cpu_s" srv_core note

# Per round: each peer, then blast; ratios against this round's peers.
declare -A X
for i in $(seq "$REPEAT"); do
	declare -A REF=()
	for p in "${PEERS[@]}"; do
		run_again "$p"
		runs_take "$p"
		[ -n "$R_RATE" ] && REF[$p.RATE]=$R_RATE REF[$p.PERCPU]=$R_PERCPU
	done
	run_again blast
	runs_take blast
	for p in "${PEERS[@]}"; do
		if [ -n "$R_RATE" ] && [ -n "${REF[$p.RATE]:-}" ]; then
			x=$(calc "$R_PERCPU / ${REF[$p.PERCPU]}")
			X[$p.MSG]+=" $(calc "$R_RATE / ${REF[$p.RATE]}")"
			X[$p.CPU]+=" $x"
			X[$p.ROUNDS]+=" $(printf 'x%.2f' "$x")"
		else
			X[$p.ROUNDS]+=" -"
		fi
	done
	unset REF
	kill -0 "$LWS_PID" 2>/dev/null || die "libwebsockets-test-server died: $(tail -3 "$TMP/lws.log")"
done
NODE_VER=$(node --version 2>/dev/null)
WS_VER=$(NODE_PATH=$NODE_PATH_WS node -p 'require("ws/package.json").version' 2>/dev/null)
row python "python-websockets $PEER_VER"
if [ -n "$NODE_NOTE" ]; then
	fmt_row "npm ws" - - - - - - - "$NODE_NOTE"
else
	row node "npm ws $WS_VER (node $NODE_VER)"
fi
row blast "blast"
echo "# runs made again after a failed run: python ${REPEATED[python]:-0}, node ${REPEATED[node]:-0}, blast ${REPEATED[blast]:-0}"
echo "# blast's receipt times in its last run: ${BLAST_TIMED:-none} (--rx-stamps: segment needs root)"

CHECKS=()
TARGET=25
echo
echo "# ratios: blast / peer, per round (- : a run of that round failed), median, minimum"
for p in "${PEERS[@]}"; do
	name="Python websockets"
	[ "$p" = node ] && name="npm ws"
	label="blast >= $TARGET x $name in messages per client CPU s, every round"
	l=${X[$p.CPU]:-}
	if [ -n "${l// /}" ]; then
		n_good=$(echo "$l" | wc -w)
		# shellcheck disable=SC2086 # lists on purpose
		x_cpu=$(median $l)
		# shellcheck disable=SC2086
		x_min=$(printf '%s\n' $l | sort -g | head -1)
		# shellcheck disable=SC2086
		x_msg=$(median ${X[$p.MSG]})
		printf '%-18s msg per client CPU s by round:%s\n' "$name" "${X[$p.ROUNDS]}"
		printf '%-18s over %d of %d rounds: msg/s x%.2f; msg per client CPU s median x%.2f, min x%.2f\n' \
			"$name" "$n_good" "$REPEAT" "$x_msg" "$x_cpu" "$x_min"
		fig=$(printf 'min x%.2f, median x%.2f over %d rounds' "$x_min" "$x_cpu" "$n_good")
		[ "$n_good" -lt "$REPEAT" ] && fig+=" ($((REPEAT - n_good)) round(s) without a pair of good runs)"
		check "$(calc "$x_min >= $TARGET")" "$label" "$fig"
	else
		printf '%-18s no round with both runs good\n' "$name"
		check_skip "$label" "no pair of good runs"
	fi
done
stop_pid "$LWS_PID"
echo
echo "# targets"
for c in "${CHECKS[@]}"; do
	echo "$c"
done
