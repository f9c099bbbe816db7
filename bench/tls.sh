#!/usr/bin/env bash
# TLS bench: what TLS costs blast, against one mosquitto (Debian) with a
# plaintext and a TLS listener and against the discard sink (bench/sink.c,
# plaintext and with its own TLS), all on free loopback ports, the
# certificates (RSA 2048, a CA and a server) made here (tests/lib/tls.sh).
# REPEAT alternating rounds; rows are medians, ratios the medians of the
# rounds' ratios. docs/bench-tls.md explains the figures and the targets.
#
# 1. Handshakes into mosquitto's TLS listener, per second: blast --churn
#    (QoS 0: connect, handshake, CONNECT, one PUBLISH, DISCONNECT; HS_CONNS
#    connections at a time, one worker per core) against `openssl s_time`
#    (one handshake at a time, nothing sent) on the same listener. Full
#    handshakes in TLS 1.3 (blast --tls-resume off, s_time -new); resumed
#    ones in TLS 1.2 by session id (blast --tls-resume id, s_time -reuse:
#    s_time resumes session ids only); and blast's TLS 1.3 tickets (the
#    default). Beside each: the client's and mosquitto's CPU per handshake,
#    and the arithmetic of the limits: mosquitto's one-thread ceiling
#    (1000 / its ms per handshake) and the machine's total-CPU ceiling
#    (cores * 1000 / (blast's + mosquitto's ms per handshake)), each as a
#    multiple of s_time's rate, and which one binds. Per server key (KEY:
#    rsa = RSA-2048, ec = ECDSA P-256; "rsa ec" alternates both in each
#    round). Then TLS 1.3 resumption by psk_ke (blast --tls-resume psk: no
#    ECDHE on resumption, no forward secrecy for resumed sessions) against a
#    second mosquitto whose OpenSSL allows it (OPENSSL_CONF: Options =
#    AllowNoDHEKEX, Groups = P-256), beside full handshakes and tickets
#    (psk_dhe_ke) on that same broker (blast --groups P-256 there).
#    Targets: blast >= 3x s_time, full and resumed; tickets >= 3x full.
# 2. Publishing into mosquitto, QoS 0 and QoS 1, CONNS connections, over
#    plaintext and TLS 1.3: msg/s (QoS 1: acked / publish time; QoS 0:
#    messages / launch -> mosquitto closed the last connection), blast's
#    CPU per message, and what TLS adds to it next to `openssl speed -evp
#    aes-128-gcm` for the run's mean record size (the cipher's own cost of
#    the same bytes on this CPU). Target: TLS >= 95% of plaintext.
# 3. Into the discard sink, one connection, one worker, QoS 0 and QoS 1
#    (the sink acks; with the default window of 64 and with 1024):
#    messages per second of blast CPU (per core), TLS beside plaintext.
#
# Knobs (environment): REPEAT (5), KEY ("rsa": the server key, or "ec",
# or "rsa ec"), PSK (1: the psk_ke part of 1; 0: none), HS_CONNS (16),
# HS_MSGS (2000: handshakes per blast run), STIME (3: seconds per s_time run), CONNS (4), MESSAGES
# (200000: QoS 1 into mosquitto), Q0_MESSAGES (1000000), SINK_MSGS
# (5000000), PARTS ("hs pub sink"), BLAST (./blast), OUT (.output).
# Needs: make all (blast, bench/sink); Debian packages mosquitto, openssl.
set -u
cd "$(dirname "$0")/.." || exit 1
. bench/lib.sh
. tests/lib/tls.sh

OUT=${OUT:-.output}
BLAST=${BLAST:-./blast}
SINK=$OUT/bench/sink
MOSQUITTO=${MOSQUITTO:-/usr/sbin/mosquitto}
REPEAT=${REPEAT:-5}
HS_CONNS=${HS_CONNS:-16}
HS_MSGS=${HS_MSGS:-2000}
STIME=${STIME:-3}
CONNS=${CONNS:-4}
MESSAGES=${MESSAGES:-200000}
Q0_MESSAGES=${Q0_MESSAGES:-1000000}
SINK_MSGS=${SINK_MSGS:-5000000}
PARTS=${PARTS:-hs pub sink}
KEY=${KEY:-rsa}
PSK=${PSK:-1}
CORES=$(nproc)
TMP=$(mktemp -d /tmp/blast-tlsbench.XXXXXX)
PIDS=()
CHECKS=()
declare -A RUNS
FIELDS="rate cpu mq rec bytes"
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

die() {
	echo "tls.sh: $*" >&2
	exit 1
}
part() {
	case " $PARTS " in *" $1 "*) return 0 ;; esac
	return 1
}
[ -x "$BLAST" ] || die "$BLAST not built (run make)"
[ -x "$MOSQUITTO" ] || die "$MOSQUITTO not installed"
command -v openssl >/dev/null || die "openssl not installed"
for k in $KEY; do
	case $k in rsa | ec) ;; *) die "KEY: rsa, ec or \"rsa ec\", not $k" ;; esac
done
make_test_pki "$TMP/pki" || die "cannot make certificates"
PKI=$TMP/pki
make_ec_server_cert "$PKI" || die "cannot make the ECDSA certificate"
# cert_of KEY: the PKI's certificate name for that server key.
cert_of() { if [ "$1" = ec ]; then echo server-ec; else echo server; fi; }

# One TLS listener per server key (P_rsa, P_ec); the first key's serves
# the publishing part.
tls_lines=()
declare -A P_KEY
for k in $KEY; do
	P_KEY[$k]=$(free_port)
	mapfile -t -O "${#tls_lines[@]}" tls_lines < <(tls_listener "${P_KEY[$k]}" "$PKI" "$(cert_of "$k")")
done
FIRST_KEY=${KEY%% *}
P_TLS=${P_KEY[$FIRST_KEY]}
start_mosquitto "${tls_lines[@]}" || die "mosquitto not up"
MQ_MAIN_PID=$MQ_PID
TLS=(--target "mqtts://localhost:$P_TLS" --cacert "$PKI/ca.pem")
PLAIN=(--target "127.0.0.1:$MQ_PORT")
# The psk_ke broker: its own process, for its own OpenSSL config.
declare -A PP_KEY
if part hs && [ "$PSK" = 1 ]; then
	printf '%s\n' "openssl_conf = init" "[init]" "ssl_conf = ssl" "[ssl]" "system_default = sys" \
		"[sys]" "Options = AllowNoDHEKEX" "Groups = P-256" >"$TMP/psk.cnf"
	psk_lines=()
	for k in $KEY; do
		PP_KEY[$k]=$(free_port)
		mapfile -t -O "${#psk_lines[@]}" psk_lines < <(tls_listener "${PP_KEY[$k]}" "$PKI" "$(cert_of "$k")")
	done
	mkdir -p "$TMP/psk"
	save_port=$MQ_PORT psk_conf=$TMP/psk.cnf psk_tmp=$TMP/psk
	TMP=$psk_tmp OPENSSL_CONF=$psk_conf start_mosquitto "${psk_lines[@]}" || die "psk mosquitto not up"
	MQ_PSK_PID=$MQ_PID
	MQ_PID=$MQ_MAIN_PID MQ_PORT=$save_port
fi

# blast_run NAME ARGS...: one blast run; sets R_TIME (user sys wall), the
# report in $TMP/NAME.json, or R_NOTE.
blast_run() {
	local name=$1
	shift
	R_NOTE=
	rm -f "$TMP/$name.json"
	if ! cpu_time "$TMP/$name.cpu" timeout -k 5 180 "$BLAST" "$@" --report "$TMP/$name.json" \
		--quiet >"$TMP/$name.out" 2>"$TMP/$name.err"; then
		R_NOTE="failed: $(head -c 200 "$TMP/$name.err")"
		return 1
	fi
	[ "$(jget "$TMP/$name.json" accounting_ok)" = True ] || { R_NOTE="accounting broken"; return 1; }
	read -r u s w <"$TMP/$name.cpu"
	R_TIME="$u $s $w"
}

# hs_blast NAME RESUME [ARGS]...: handshakes per second (R_rate), blast's
# and mosquitto's CPU per handshake in ms (R_cpu, R_mq), into the broker
# HS_PID listening on HS_PORT.
hs_blast() {
	local name=$1 resume=$2 m0 m1 n full res
	shift 2
	R_rate= R_cpu= R_mq= R_rec= R_bytes=
	m0=$(cpu_ticks "$HS_PID")
	blast_run "$name" --target "mqtts://localhost:$HS_PORT" --cacert "$PKI/ca.pem" --churn \
		--qos 0 --conns "$HS_CONNS" --workers "$CORES" --messages "$HS_MSGS" \
		--tls-resume "$resume" "$@" || return
	m1=$(cpu_ticks "$HS_PID")
	full=$(jget "$TMP/$name.json" handshake_us.tls_full.count)
	res=$(jget "$TMP/$name.json" handshake_us.tls_resumed.count)
	n=$((full + res))
	# Resuming must resume (the first connection of each worker is full).
	if [ "$resume" != off ] && [ "$res" -lt $((n * 9 / 10)) ]; then
		R_NOTE="only $res of $n handshakes resumed"
		return
	fi
	set -- $R_TIME
	R_rate=$(calc "$n / $(jget "$TMP/$name.json" duration_s)")
	R_cpu=$(calc "($1 + $2) * 1000 / $n")
	R_mq=$(calc "($m1 - $m0) * 1000 / $(getconf CLK_TCK) / $n")
}

# hs_stime NAME ARGS...: openssl s_time for STIME seconds, the same figures.
hs_stime() {
	local name=$1 m0 m1 n
	shift
	R_rate= R_cpu= R_mq= R_rec= R_bytes= R_NOTE=
	m0=$(cpu_ticks "$HS_PID")
	cpu_time "$TMP/$name.cpu" timeout -k 5 $((STIME + 60)) openssl s_time \
		-connect "127.0.0.1:$HS_PORT" -CAfile "$PKI/ca.pem" -verify 2 -time "$STIME" "$@" \
		>"$TMP/$name.out" 2>&1
	m1=$(cpu_ticks "$HS_PID")
	n=$(sed -n 's/^\([0-9]*\) connections in [0-9]* real seconds.*/\1/p' "$TMP/$name.out" | tail -1)
	if [ -z "$n" ] || [ "$n" -eq 0 ] || grep -q ':error:' "$TMP/$name.out"; then
		R_NOTE="s_time failed: $(grep -m1 -i error "$TMP/$name.out" | head -c 200)"
		return
	fi
	read -r u s w <"$TMP/$name.cpu"
	R_rate=$(calc "$n / $w")
	R_cpu=$(calc "($u + $s) * 1000 / $n")
	R_mq=$(calc "($m1 - $m0) * 1000 / $(getconf CLK_TCK) / $n")
}

# pub NAME PORT QOS MSGS ARGS...: publishing; R_rate msg/s, R_cpu blast's
# CPU ns per message, R_mq the server's (mosquitto's; "" for the sink),
# R_rec the mean TLS record (bytes), R_bytes wire bytes per message. QoS 0
# is timed to the server's close (PORT).
pub() {
	local name=$1 port=$2 qos=$3 msgs=$4 t0 t1 rec m0 m1
	shift 4
	R_rate= R_cpu= R_mq= R_rec= R_bytes=
	m0=$(cpu_ticks "$MQ_PID")
	t0=$(now)
	blast_run "$name" "$@" --qos "$qos" --messages "$msgs" || return
	t1=$(server_drained "$port")
	m1=$(cpu_ticks "$MQ_PID")
	case " $* " in
	*" 127.0.0.1:$MQ_PORT "* | *":$P_TLS "*)
		R_mq=$(calc "($m1 - $m0) * 1e9 / $(getconf CLK_TCK) / $msgs") ;;
	esac
	set -- $R_TIME
	if [ "$qos" = 0 ]; then
		R_rate=$(calc "$msgs / ($t1 - $t0)")
	else
		R_rate=$(jget "$TMP/$name.json" rate)
	fi
	R_cpu=$(calc "($1 + $2) * 1e9 / $msgs")
	R_bytes=$(calc "$(jget "$TMP/$name.json" bytes_out) / $msgs")
	rec=$(jget "$TMP/$name.json" tls_records_out)
	[ -n "$rec" ] && R_rec=$(calc "$(jget "$TMP/$name.json" bytes_out) / $rec")
}

# ratio_of A B: appends rate(A)/rate(B) of this round to RATIO[A/B].
declare -A RATIO
ratio_of() {
	local a=${RUN_RATE[$1]:-} b=${RUN_RATE[$2]:-}
	[ -n "$a" ] && [ -n "$b" ] && RATIO[$1/$2]+=" $(calc "$a / $b")"
}
declare -A RUN_RATE
one() {
	local name=$1 fn=$2
	shift 2
	"$fn" "$name" "$@"
	runs_take "$name"
	RUN_RATE[$name]=$R_rate
	[ -n "$R_NOTE" ] && { echo "  $name: $R_NOTE" >&2; RUN_RATE[$name]=; }
	return 0
}

# gcm_ns CIPHER BYTES_PER_MSG RECORD: the cipher's ns for one message's
# bytes when sealed in records of RECORD bytes (openssl speed -evp, 1 s).
gcm_ns() {
	local rec kbs
	rec=$(printf '%.0f' "$3")
	kbs=$(openssl speed -seconds 1 -bytes "$rec" -evp "$1" 2>/dev/null |
		awk 'NF == 2 && $2 ~ /k$/ { sub(/k$/, "", $2); v = $2 } END { print v }')
	[ -n "$kbs" ] && calc "$2 / ($kbs * 1000) * 1e9"
}
# cipher_of PORT: the TLS 1.3 suite blast gets there (blast offers
# AES-128-GCM first; a server may prefer its own order), as openssl speed
# names its cipher.
cipher_of() {
	local s
	s=$(echo | timeout 10 openssl s_client -connect "127.0.0.1:$1" -CAfile "$PKI/ca.pem" \
		-ciphersuites TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256 \
		2>/dev/null | sed -n 's/.*Cipher is //p' | head -1)
	case $s in
	TLS_AES_256_GCM*) echo aes-256-gcm ;;
	TLS_CHACHA20*) echo chacha20-poly1305 ;;
	*) echo aes-128-gcm ;;
	esac
}

if part sink; then
	[ -x "$SINK" ] || die "$SINK not built (run make all)"
	start_sink s0 && S0=$SINK_PORT
	start_sink s1 --ack && S1=$SINK_PORT
	start_sink t0 --tls-cert "$PKI/server.pem" --tls-key "$PKI/server.key" && T0=$SINK_PORT
	start_sink t1 --ack --tls-cert "$PKI/server.pem" --tls-key "$PKI/server.key" && T1=$SINK_PORT
fi

MQ_CIPHER=$(cipher_of "$P_TLS")
part sink && SINK_CIPHER=$(cipher_of "$T0")
echo "# $(uptime)"
echo "# $CORES cores; $(openssl version); $("$MOSQUITTO" -h 2>/dev/null | head -1)"
for round in $(seq "$REPEAT"); do
	RUN_RATE=()
	if part hs; then
		for k in $KEY; do
			HS_PORT=${P_KEY[$k]} HS_PID=$MQ_MAIN_PID
			one "st_full_$k" hs_stime -new
			one "b_full_$k" hs_blast off
			one "b_tick_$k" hs_blast ticket
			one "st_res_$k" hs_stime -reuse -tls1_2
			one "b_id_$k" hs_blast id --tls-version 1.2
			ratio_of "b_full_$k" "st_full_$k"
			ratio_of "b_id_$k" "st_res_$k"
			ratio_of "b_tick_$k" "b_full_$k"
			[ "$PSK" = 1 ] || continue
			HS_PORT=${PP_KEY[$k]} HS_PID=$MQ_PSK_PID
			one "p_full_$k" hs_blast off --groups P-256
			one "p_tick_$k" hs_blast ticket --groups P-256
			one "p_psk_$k" hs_blast psk --groups P-256
			ratio_of "p_tick_$k" "p_full_$k"
			ratio_of "p_psk_$k" "p_full_$k"
		done
	fi
	if part pub; then
		for q in 1 0; do
			m=$MESSAGES
			[ $q = 0 ] && m=$Q0_MESSAGES
			one "p$q" pub "$MQ_PORT" $q "$m" "${PLAIN[@]}" --conns "$CONNS"
			one "t$q" pub "$P_TLS" $q "$m" "${TLS[@]}" --conns "$CONNS"
			ratio_of "t$q" "p$q"
		done
	fi
	if part sink; then
		for q in 0 1; do
			p=S$q t=T$q
			one "sp$q" pub "${!p}" $q "$SINK_MSGS" --target "127.0.0.1:${!p}" --conns 1 --workers 1
			one "st$q" pub "${!t}" $q "$SINK_MSGS" --target "mqtts://localhost:${!t}" \
				--cacert "$PKI/ca.pem" --conns 1 --workers 1
			ratio_of "st$q" "sp$q"
		done
		# A deep window: bigger sends, so bigger records.
		one sp1d pub "$S1" 1 "$SINK_MSGS" --target "127.0.0.1:$S1" --conns 1 --workers 1 --inflight 1024
		one st1d pub "$T1" 1 "$SINK_MSGS" --target "mqtts://localhost:$T1" --cacert "$PKI/ca.pem" \
			--conns 1 --workers 1 --inflight 1024
		ratio_of st1d sp1d
	fi
	echo "round $round done ($(uptime | sed 's/.*load/load/'))"
done

# num FMT V: V printed with FMT, or "-" when there is none.
num() {
	if [ -z "$2" ] || [ "$2" = - ]; then
		printf -- '-'
	else
		printf "$1" "$2"
	fi
}
med() {
	local v
	v=$(runs_median "$1" "$2")
	printf '%s' "${v:--}"
}
rmed() {
	local l=${RATIO[$1]:-}
	[ -z "${l// /}" ] && { printf -- '-'; return; }
	# shellcheck disable=SC2086 # a list on purpose
	median $l
}
echo
# limits WHAT BLAST STIME: the arithmetic of what bounds blast's rate
# against s_time's: CPU per handshake (blast's, mosquitto's under blast,
# s_time's and mosquitto's under s_time), mosquitto's one-thread ceiling
# and the machine's total-CPU ceiling, as conn/s and as multiples of
# s_time's rate, which binds, and where blast got.
limits() {
	local what=$1 b=$2 s=$3 bc bm sc sm sr br one tot sq
	bc=$(med "$b" cpu) bm=$(med "$b" mq) sc=$(med "$s" cpu) sm=$(med "$s" mq)
	sr=$(med "$s" rate) br=$(med "$b" rate)
	for v in "$bc" "$bm" "$sc" "$sm" "$sr" "$br"; do [ "$v" = - ] && return; done
	one=$(calc "1000 / $bm")
	tot=$(calc "$CORES * 1000 / ($bc + $bm)")
	echo "$what: ms per handshake: blast $bc + mosquitto $bm; s_time $sc + mosquitto $sm (one at a time: $(printf '%.0f' "$sr") conn/s)"
	printf '  mosquitto one-thread ceiling 1000/%s = %.0f conn/s = x%.2f s_time\n' "$bm" "$one" \
		"$(calc "$one / $sr")"
	printf '  %s-core total-CPU ceiling %s*1000/(%s+%s) = %.0f conn/s = x%.2f s_time\n' "$CORES" \
		"$CORES" "$bc" "$bm" "$tot" "$(calc "$tot / $sr")"
	# s_time keeps one handshake going: on an idle machine its rate is
	# 1000 / (its ms + mosquitto's ms); against that rate the ceilings do
	# not move with the load.
	sq=$(calc "1000 / ($sc + $sm)")
	printf '  against s_time on an idle machine, 1000/(%s+%s) = %.0f conn/s: one-thread ceiling x%.2f, %s-core ceiling x%.2f; 3x needs %.1f cores at this CPU per handshake\n' \
		"$sc" "$sm" "$sq" "$(calc "$one / $sq")" "$CORES" "$(calc "$tot / $sq")" \
		"$(calc "3 * $sq * ($bc + $bm) / 1000")"
	if [ "$(calc "$one <= $tot")" = 1 ]; then
		printf '  binds: mosquitto'"'"'s one thread (x%.2f); blast got %.0f conn/s = x%.2f s_time = %.0f%% of it; 3x s_time needs %.0f conn/s\n' \
			"$(calc "$one / $sr")" "$br" "$(calc "$br / $sr")" "$(calc "100 * $br / $one")" "$(calc "3 * $sr")"
	else
		printf '  binds: the machine'"'"'s %s cores (x%.2f); blast got %.0f conn/s = x%.2f s_time = %.0f%% of it; 3x s_time needs %.0f conn/s\n' \
			"$CORES" "$(calc "$tot / $sr")" "$br" "$(calc "$br / $sr")" "$(calc "100 * $br / $tot")" "$(calc "3 * $sr")"
	fi
}
# resume_limits WHAT RESUMED FULL: how many times the full rate the
# resumed one is when both run at mosquitto's one-thread ceiling (its ms
# per full handshake over its ms per resumed one) and when both run at the
# machine's total-CPU ceiling (blast's and mosquitto's together), beside
# what blast got (below the ceilings, as on a loaded machine, the ratio of
# the rates is the scheduler's).
resume_limits() {
	local what=$1 r=$2 f=$3 rc rm fc fm
	rc=$(med "$r" cpu) rm=$(med "$r" mq) fc=$(med "$f" cpu) fm=$(med "$f" mq)
	for v in "$rc" "$rm" "$fc" "$fm"; do [ "$v" = - ] && return; done
	printf '%s: ms per handshake full %s + %s, resumed %s + %s (blast + mosquitto): resumed/full x%.2f when both are at mosquitto'"'"'s one-thread ceiling, x%.2f at the total-CPU one; got x%s\n' \
		"$what" "$fc" "$fm" "$rc" "$rm" "$(calc "$fm / $rm")" "$(calc "($fc + $fm) / ($rc + $rm)")" \
		"$(rmed "$r/$f")"
}
if part hs; then
	for k in $KEY; do
		kn="RSA-2048"
		[ "$k" = ec ] && kn="ECDSA P-256"
		echo "# handshakes into mosquitto's TLS listener, $kn server key (blast: $HS_CONNS connections, $CORES workers, --churn --qos 0)"
		printf '%-44s %10s %14s %14s\n' case "conn/s" "client ms/hs" "mosq ms/hs"
		rows=("st_full_$k:s_time -new (TLS 1.3, full)" "b_full_$k:blast --tls-resume off (full)"
			"b_tick_$k:blast tickets (TLS 1.3, resumed)" "st_res_$k:s_time -reuse -tls1_2 (id)"
			"b_id_$k:blast --tls-resume id (TLS 1.2)")
		[ "$PSK" = 1 ] && rows+=("p_full_$k:psk broker: blast full (P-256)"
			"p_tick_$k:psk broker: blast tickets (psk_dhe_ke)"
			"p_psk_$k:psk broker: blast --tls-resume psk (psk_ke)")
		for c in "${rows[@]}"; do
			r=${c%%:*}
			printf '%-44s %10s %14s %14s %s\n' "${c#*:}" "$(num %.1f "$(med "$r" rate)")" \
				"$(num %.3f "$(med "$r" cpu)")" "$(num %.3f "$(med "$r" mq)")" "${RUNS[$r.NOTE]:-}"
		done
		r=$(rmed "b_full_$k/st_full_$k")
		check "$(calc "${r/-/0} >= 3")" "$k key: full handshakes/s: blast >= 3x openssl s_time" "x$r"
		r=$(rmed "b_id_$k/st_res_$k")
		check "$(calc "${r/-/0} >= 3")" "$k key: resumed handshakes/s (TLS 1.2 ids): blast >= 3x openssl s_time" "x$r"
		r=$(rmed "b_tick_$k/b_full_$k")
		check "$(calc "${r/-/0} >= 3")" "$k key: blast: resumed (tickets) >= 3x full handshakes/s" "x$r"
		if [ "$PSK" = 1 ]; then
			r=$(rmed "p_psk_$k/p_full_$k")
			check "$(calc "${r/-/0} >= 3")" "$k key: blast: resumed (tickets, psk_ke) >= 3x full handshakes/s" "x$r"
			echo "$k key, psk broker: tickets (psk_dhe_ke) x$(rmed "p_tick_$k/p_full_$k") full"
		fi
		limits "$k key, full" "b_full_$k" "st_full_$k"
		limits "$k key, resumed (TLS 1.2 ids)" "b_id_$k" "st_res_$k"
		resume_limits "$k key, tickets (psk_dhe_ke)" "b_tick_$k" "b_full_$k"
		if [ "$PSK" = 1 ]; then
			resume_limits "$k key, psk broker, tickets (psk_dhe_ke)" "p_tick_$k" "p_full_$k"
			resume_limits "$k key, psk broker, --tls-resume psk (psk_ke)" "p_psk_$k" "p_full_$k"
		fi
		echo
	done
fi
if part pub; then
	echo "# publishing into mosquitto, $CONNS connections (QoS 1: $MESSAGES, QoS 0: $Q0_MESSAGES messages)"
	printf '%-22s %12s %12s %12s %10s %10s\n' case "msg/s" "blast ns/msg" "mosq ns/msg" "B/msg" "record B"
	for q in 1 0; do
		for c in "p$q:QoS $q plaintext" "t$q:QoS $q TLS 1.3"; do
			k=${c%%:*}
			printf '%-22s %12s %12s %12s %10s %10s %s\n' "${c#*:}" "$(num %.0f "$(med "$k" rate)")" \
				"$(num %.1f "$(med "$k" cpu)")" "$(num %.0f "$(med "$k" mq)")" \
				"$(num %.1f "$(med "$k" bytes)")" "$(num %.0f "$(med "$k" rec)")" "${RUNS[$k.NOTE]:-}"
		done
	done
	echo "the suite mosquitto picks (its own order first): $MQ_CIPHER"
	for q in 1 0; do
		r=$(rmed "t$q/p$q")
		check "$(calc "${r/-/0} >= 0.95")" "QoS $q into mosquitto: TLS >= 95% of plaintext msg/s" "$r"
		tc=$(med "t$q" cpu) pc=$(med "p$q" cpu) rec=$(med "t$q" rec) pb=$(med "p$q" bytes)
		if [ "$tc" != - ] && [ "$pc" != - ] && [ "$rec" != - ]; then
			echo "QoS $q: TLS adds $(calc "$tc - $pc") ns of blast CPU per message; $MQ_CIPHER alone on $pb B in ${rec%.*} B records: $(gcm_ns "$MQ_CIPHER" "$pb" "$rec") ns (openssl speed -evp $MQ_CIPHER; aes-128-gcm: $(gcm_ns aes-128-gcm "$pb" "$rec") ns)"
		fi
	done
	echo
fi
if part sink; then
	echo "# into the discard sink, 1 connection, 1 worker, $SINK_MSGS messages"
	printf '%-40s %12s %14s %12s %10s\n' case "msg/s" "msg/s per core" "blast ns/msg" "record B"
	for q in 0 1 1d; do
		for c in "sp$q:QoS ${q/1d/1 --inflight 1024} plaintext" "st$q:QoS ${q/1d/1 --inflight 1024} TLS 1.3"; do
			k=${c%%:*}
			cpu=$(med "$k" cpu)
			pc=-
			[ "$cpu" != - ] && pc=$(calc "1e9 / $cpu")
			printf '%-40s %12s %14s %12s %10s %s\n' "${c#*:}" "$(num %.0f "$(med "$k" rate)")" \
				"$(num %.0f "$pc")" "$(num %.1f "$cpu")" "$(num %.0f "$(med "$k" rec)")" \
				"${RUNS[$k.NOTE]:-}"
		done
		tc=$(med "st$q" cpu) pc=$(med "sp$q" cpu) rec=$(med "st$q" rec) pb=$(med "sp$q" bytes)
		if [ "$tc" != - ] && [ "$pc" != - ] && [ "$rec" != - ]; then
			echo "QoS ${q/1d/1 --inflight 1024}: TLS/plaintext msg/s $(rmed "st$q/sp$q"); TLS adds $(calc "$tc - $pc") ns of blast CPU per message; $SINK_CIPHER alone on $pb B in ${rec%.*} B records: $(gcm_ns "$SINK_CIPHER" "$pb" "$rec") ns (openssl speed -evp $SINK_CIPHER)"
		fi
	done
	echo
fi
printf '%s\n' "${CHECKS[@]}"
echo "# $(uptime)"
