#!/usr/bin/env bash
# Does --find-limit find the broker's limit with blast's default window?
# The same search, twice per round against one private mosquitto: with the
# default --inflight (64 at QoS 1; the search widens it when a trial fails
# on blast's own window) and with a hand-picked deep window (--inflight
# 5000). Both: 4 connections, QoS 1, 64-byte payloads, --slo p99=50ms,
# short trials. Alternating order each round (the machine is shared and
# noisy), medians of the searches that answered (at least 2 of each).
# Target: the default search answers within 10% of the deep one (ratio of
# medians 0.90-1.10).
#
# Knobs (environment): ROUNDS (3 per search), TRIAL (--trial-duration, 2s),
# START (--rate the searches start from, 10000), BLAST (./blast), MOSQUITTO.
set -u
cd "$(dirname "$0")/.." || exit 1
. bench/lib.sh

BLAST=${BLAST:-./blast}
MOSQUITTO=${MOSQUITTO:-$(command -v mosquitto || echo /usr/sbin/mosquitto)}
ROUNDS=${ROUNDS:-3}
TRIAL=${TRIAL:-2s}
START=${START:-10000}
DEEP=5000
TMP=$(mktemp -d /tmp/blast-bench-limit.XXXXXX)
PIDS=()
CHECKS=()
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

# KEEP=DIR keeps every search's report, summary and progress lines.
bench_cleanup_extra() {
	[ -n "${KEEP:-}" ] && mkdir -p "$KEEP" && cp -r "$TMP"/. "$KEEP"/
}

die() {
	echo "limit_window.sh: $*" >&2
	exit 1
}

[ -x "$BLAST" ] || die "$BLAST not built (run make)"
start_mosquitto || die "cannot start mosquitto"

# search WHICH ROUND: one search; prints "rate inflight client_bound trials
# seconds" (rate 0 when no rate held).
search() {
	local extra=() t0 t1
	[ "$1" = deep ] && extra=(--inflight "$DEEP")
	t0=$(now)
	timeout -k 5 300 "$BLAST" --target "127.0.0.1:$MQ_PORT" --conns 4 --qos 1 --payload-size 64 \
		--find-limit --slo p99=50ms --rate "$START" --trial-duration "$TRIAL" \
		--search-timeout 150s --quiet --report "$TMP/$1.$2.json" "${extra[@]}" \
		>"$TMP/$1.$2.out" 2>"$TMP/$1.$2.err"
	local rc=$?
	t1=$(now)
	[ "$rc" -le 1 ] || die "$1: blast exited $rc: $(head -3 "$TMP/$1.$2.err")"
	python3 - "$TMP/$1.$2.json" "$(calc "$t1 - $t0")" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
lim = r.get("limit")
if lim:
    print(int(lim["rate"]), lim["inflight"], int(lim["client_bound"]), len(r["trials"]), sys.argv[2])
else:
    print(0, "-", 0, len(r["trials"]), sys.argv[2])
EOF
}

echo "--find-limit against mosquitto: 4 connections, QoS 1, 64-byte payloads, --slo p99=50ms,"
echo "--rate $START start, --trial-duration $TRIAL; default --inflight vs --inflight $DEEP, $ROUNDS alternating rounds"
printf '%-6s %-8s %10s %14s %13s %7s %8s\n' round search "limit/s" "answer's window" client-bound trials seconds
declare -A A
for i in $(seq "$ROUNDS"); do
	if [ $((i % 2)) -eq 1 ]; then order="default deep"; else order="deep default"; fi
	for w in $order; do
		line=$(search "$w" "$i") || exit 1
		read -r rate win cb trials secs <<<"$line"
		printf '%-6s %-8s %10s %14s %13s %7s %8.1f\n' "$i" "$w" "$rate" "$win" \
			"$([ "$cb" = 1 ] && echo yes || echo no)" "$trials" "$secs"
		# A search with no answer (every full-length trial failed: a busy
		# machine) is shown, and left out of the medians.
		[ "$rate" -gt 0 ] && A[$w]+=" $rate"
	done
done
n_def=$(wc -w <<<"${A[default]:-}")
n_deep=$(wc -w <<<"${A[deep]:-}")
if [ "$n_def" -lt 2 ] || [ "$n_deep" -lt 2 ]; then
	echo "answers: default window $n_def, --inflight $DEEP $n_deep of $ROUNDS searches"
	check 0 "--find-limit with the default window within 10% of --inflight $DEEP" \
		"fewer than 2 searches of each answered"
else
	# shellcheck disable=SC2086 # a list on purpose
	def=$(median ${A[default]})
	# shellcheck disable=SC2086
	deep=$(median ${A[deep]})
	ratio=$(calc "$def / $deep")
	printf 'median limit: default window %s msg/s (%s of %s answered), --inflight %s %s msg/s (%s of %s), ratio %.3f\n' \
		"$def" "$n_def" "$ROUNDS" "$DEEP" "$deep" "$n_deep" "$ROUNDS" "$ratio"
	check "$(awk "BEGIN { print ($ratio >= 0.9 && $ratio <= 1.1) ? 1 : 0 }")" \
		"--find-limit with the default window within 10% of --inflight $DEEP" "ratio $ratio"
fi
printf '%s\n' "${CHECKS[@]}"
