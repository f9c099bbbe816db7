#!/usr/bin/env bash
# TLS bench: what TLS costs blast against one mosquitto (Debian) with a
# plaintext and a TLS listener on free loopback ports, certificates made
# here with openssl (tests/lib/tls.sh).
#
# 1. Publishing: CONNS connections publish MESSAGES at QoS 1 as fast as
#    acks come (window --inflight 64), over plaintext and over TLS
#    (mqtts://, TLS 1.3, verified). Figure: acked msg/s (the report's
#    "rate"); the ratio TLS / plaintext. mosquitto is the bottleneck
#    (one thread), so the ratio says what TLS costs the broker and blast
#    together, not blast alone.
# 2. Handshakes: --churn with CHURN connections, each open publishing one
#    QoS 1 message and closing, CHURN_MSGS opens in all: connections per
#    second with every handshake full (--tls-resume off) and with tickets
#    resumed (the default); the ratio resumed / full.
# REPEAT alternating rounds; rows are medians, ratios medians of the
# rounds' ratios.
#
# Knobs (environment): MESSAGES (200000), CONNS (4), CHURN (4),
# CHURN_MSGS (2000), REPEAT (5), BLAST (./blast).
# Needs: make blast; Debian packages mosquitto and openssl.
set -u
cd "$(dirname "$0")/.." || exit 1
. bench/lib.sh
. tests/lib/tls.sh

BLAST=${BLAST:-./blast}
MOSQUITTO=${MOSQUITTO:-/usr/sbin/mosquitto}
MESSAGES=${MESSAGES:-200000}
CONNS=${CONNS:-4}
CHURN=${CHURN:-4}
CHURN_MSGS=${CHURN_MSGS:-2000}
REPEAT=${REPEAT:-5}
TMP=$(mktemp -d /tmp/blast-tlsbench.XXXXXX)
PIDS=()
CHECKS=()
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

die() {
	echo "tls.sh: $*" >&2
	exit 1
}
[ -x "$BLAST" ] || die "$BLAST not built (run make)"
[ -x "$MOSQUITTO" ] || die "$MOSQUITTO not installed"
make_test_pki "$TMP/pki" || die "cannot make certificates"

P_TLS=$(free_port)
mapfile -t tls_lines < <(tls_listener "$P_TLS" "$TMP/pki" server)
start_mosquitto "${tls_lines[@]}" || die "mosquitto not up"

TLS=(--target "mqtts://localhost:$P_TLS" --cacert "$TMP/pki/ca.pem")
PLAIN=(--target "127.0.0.1:$MQ_PORT")

# one NAME ARGS...: a run's figure into R (msg/s, or connections/s with
# --churn), "" when it failed.
one() {
	local name=$1 r=$TMP/$1.json
	shift
	R=
	timeout 120 "$BLAST" "$@" --report "$r" --quiet >"$TMP/$name.out" 2>"$TMP/$name.err" ||
		{ echo "  $name failed: $(head -c 200 "$TMP/$name.err")" >&2; return; }
	case " $* " in
	*" --churn "*) R=$(calc "$(jget "$r" conns_ok) / $(jget "$r" duration_s)") ;;
	*) R=$(jget "$r" rate) ;;
	esac
}

pub=() tls=() pub_ratio=() full=() resumed=() hs_ratio=()
for round in $(seq "$REPEAT"); do
	one plain "${PLAIN[@]}" --qos 1 --conns "$CONNS" --messages "$MESSAGES"
	p=$R
	one tls "${TLS[@]}" --qos 1 --conns "$CONNS" --messages "$MESSAGES"
	t=$R
	one full "${TLS[@]}" --tls-resume off --churn --qos 1 --conns "$CHURN" --messages "$CHURN_MSGS"
	f=$R
	one resumed "${TLS[@]}" --churn --qos 1 --conns "$CHURN" --messages "$CHURN_MSGS"
	s=$R
	echo "round $round: plain $p msg/s, tls $t msg/s; handshakes full $f/s, resumed $s/s"
	if [ -n "$p" ] && [ -n "$t" ]; then
		pub+=("$p") tls+=("$t") pub_ratio+=("$(calc "$t / $p")")
	fi
	if [ -n "$f" ] && [ -n "$s" ]; then
		full+=("$f") resumed+=("$s") hs_ratio+=("$(calc "$s / $f")")
	fi
done
[ ${#pub_ratio[@]} -gt 0 ] || die "no good publishing round"
echo
printf '%-34s %12s\n' "QoS 1 publish, plaintext (msg/s)" "$(median "${pub[@]}")"
printf '%-34s %12s\n' "QoS 1 publish, TLS 1.3 (msg/s)" "$(median "${tls[@]}")"
printf '%-34s %12.3f\n' "ratio TLS / plaintext" "$(median "${pub_ratio[@]}")"
if [ ${#hs_ratio[@]} -gt 0 ]; then
	printf '%-34s %12s\n' "churn, full handshakes (conn/s)" "$(median "${full[@]}")"
	printf '%-34s %12s\n' "churn, resumed (conn/s)" "$(median "${resumed[@]}")"
	printf '%-34s %12.3f\n' "ratio resumed / full" "$(median "${hs_ratio[@]}")"
fi
