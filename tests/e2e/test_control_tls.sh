#!/usr/bin/env bash
# The control link over TLS with credentials: a control mosquitto whose
# listeners want a user and password (mosquitto_passwd), its TLS listener
# also a client certificate, and a target mosquitto:
# - 2 agents on mqtts://USER:PASS@HOST:PORT with --control-cacert,
#   --control-cert, --control-key; the coordinator with --control-username
#   and the password from $BLAST_CONTROL_PASSWORD: a QoS 1 run, counts
#   exact, the password in no line;
# - `blast dashboard` over mqtts:// lists the agents and runs one from
#   POST /api/run (the coordinator in it uses the dashboard's TLS and user);
# - failures, each one line naming the control broker, exit status 2 and
#   nothing left running: a certificate not trusted (no --control-cacert),
#   the wrong host name, mqtts:// on the plaintext port, mqtt:// on the
#   TLS port, a wrong password (CONNACK refused), no client certificate,
#   a CA file missing, a key not the certificate's;
#   and bad flags (--control-cert without --control-key, --control-cacert
#   on mqtt://).
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
. tests/lib/mosquitto.sh
skip_unless_cmd mosquitto_passwd
[ -x /usr/sbin/mosquitto ] || skip "/usr/sbin/mosquitto not installed"
require_blast

PKI=$T/pki
make_test_pki "$PKI" || die "cannot make test certificates"
start_mosquitto || die "cannot start the target mosquitto"
TARGET=$MQ_PORT
start_sub "$T/sub.out" -t 'ctltls/#' -q 1 || die "subscriber not ready"

# The control broker: its plaintext listener and a TLS one, both with
# passwords; the TLS one wants a client certificate too.
mosquitto_passwd -b -c "$T/passwd" ctl 's3cret:pw' >/dev/null 2>&1 || die "mosquitto_passwd failed"
chmod 644 "$T/passwd"
CTL_TLS=$(free_port)
CTL_WRONG=$(free_port) # serves a certificate for other.example
mapfile -t lines < <(tls_listener "$CTL_TLS" "$PKI" server "require_certificate true"
	tls_listener "$CTL_WRONG" "$PKI" wronghost)
MQ_PORT='' MQ_DIR=''
start_mosquitto "allow_anonymous false" "password_file $T/passwd" "${lines[@]}" ||
	die "cannot start the control mosquitto"
CTL=$MQ_PORT
wait_until 5 eval 'port_open "$CTL_TLS" && port_open "$CTL_WRONG"' || die "the control TLS listener is not up"
TLS_FLAGS=(--control-cacert "$PKI/ca.pem" --control-cert "$PKI/client.pem" --control-key "$PKI/client.key")
# The password's ':' written %3A in the URL.
URL_AUTH="mqtts://ctl:s3cret%3Apw@127.0.0.1:$CTL_TLS"

agents=()
for n in t1 t2; do
	"$BLAST" agent --control "$URL_AUTH" "${TLS_FLAGS[@]}" --name "$n" >"$T/$n.out" 2>"$T/$n.err" &
	agents+=($!)
	track $!
done
wait_until 15 eval 'grep -q registered "$T/t1.err" && grep -q registered "$T/t2.err"' ||
	fail "agents did not register over TLS: $(cat "$T"/t*.err)"
grep -q "registered on mqtts://127.0.0.1:$CTL_TLS\$" "$T/t1.err" || fail "agent line: $(cat "$T/t1.err")"

BLAST_CONTROL_PASSWORD='s3cret:pw' run_blast 60 --control "mqtts://127.0.0.1:$CTL_TLS" \
	--control-username ctl "${TLS_FLAGS[@]}" --agents 2 --target "127.0.0.1:$TARGET" --conns 4 \
	--qos 1 --rate 1000 --messages 2000 --topic 'ctltls/{conn}' --client-id 'ctltls-{conn}' \
	--report "$T/m.json"
expect_rc 0
[ "$BLAST_RC" -eq 0 ] || log "$(cat "$T/blast.err")"
expect_json "$T/m.json" sent == 2000
expect_json "$T/m.json" acked == 2000
expect_json "$T/m.json" merged.reports == 2
check_accounting "$T/m.json"
wait_until 10 eval '[ "$(sub_count "$T/sub.out")" -ge 2000 ]'
[ "$(sub_count "$T/sub.out")" -eq 2000 ] || fail "the broker delivered $(sub_count "$T/sub.out"), not 2000"
! grep -q 's3cret' "$T/blast.err" "$T/t1.err" "$T/t2.err" "$T/m.json" || fail "the password shows in a line or the report"

# blast dashboard over mqtts://: the agents listed, a run from the API.
BLAST_CONTROL_PASSWORD='s3cret:pw' "$BLAST" dashboard --control "mqtts://ctl@127.0.0.1:$CTL_TLS" \
	"${TLS_FLAGS[@]}" --listen 127.0.0.1:0 --reports "$T" >"$T/dash.out" 2>"$T/dash.err" &
dash=$!
track "$dash"
wait_until 10 grep -q 'dashboard on http' "$T/dash.err" || fail "no dashboard line: $(cat "$T/dash.err")"
line=$(grep -o 'http://[0-9.:]*/#token=[0-9a-f]*' "$T/dash.err" | head -n1)
DASH_URL=${line%%/#*}
DASH_TOKEN=${line##*token=}
wait_until 10 sh -c "curl -sf '$DASH_URL/api/now' | grep -q '\"name\":\"t2\"'" ||
	fail "agents not listed: $(curl -sf "$DASH_URL/api/now")"
curl -sf "$DASH_URL/api/now" | grep -q s3cret && fail "the page shows the password"
code=$(curl -s -o "$T/post.out" -w '%{http_code}' --max-time 20 -X POST -H "X-Blast-Token: $DASH_TOKEN" \
	"$DASH_URL/api/run?agents=2&target=127.0.0.1:$TARGET&conns=2&rate=200&messages=400&qos=1&topic=ctltls-d/%7Bconn%7D")
[ "$code" = 202 ] || fail "POST /api/run: $code $(cat "$T/post.out")"
wait_until 40 sh -c "curl -sf '$DASH_URL/api/now' | grep -q '\"runs\":1,\"running\":false'" ||
	fail "the dashboard's run did not end: $(cat "$T/dash.err")"
expect_json "$T/run-1.json" acked == 400
check_accounting "$T/run-1.json"
kill -INT "$dash"
wait "$dash" || fail "blast dashboard exited $? on SIGINT"

# agent_fails WHAT WANT URL [flags]...: `blast agent` gives up with one
# line naming the control broker and WANT, exit status 2, and is gone.
agent_fails() {
	local what=$1 want=$2 rc=0
	shift 2
	timeout -k 5 30 "$BLAST" agent --name bad --control "$@" >/dev/null 2>"$T/bad.err" || rc=$?
	[ "$rc" -eq 2 ] || fail "$what: exit $rc, want 2: $(cat "$T/bad.err")"
	[ "$(wc -l <"$T/bad.err")" -eq 1 ] || fail "$what: not one line: $(cat "$T/bad.err")"
	grep -q -- "$want" "$T/bad.err" || fail "$what: no '$want' in: $(cat "$T/bad.err")"
	! grep -q 's3cret' "$T/bad.err" || fail "$what: the password shows: $(cat "$T/bad.err")"
	log "$what: $(cat "$T/bad.err")"
}
tls_port="control broker mqtts://127.0.0.1:$CTL_TLS"
agent_fails "untrusted certificate" "$tls_port: certificate verification failed" "$URL_AUTH" \
	--control-cert "$PKI/client.pem" --control-key "$PKI/client.key"
agent_fails "wrong host name" "control broker mqtts://127.0.0.1:$CTL_WRONG: certificate verification failed: .*mismatch" \
	"mqtts://ctl:s3cret%3Apw@127.0.0.1:$CTL_WRONG" "${TLS_FLAGS[@]}"
agent_fails "mqtts:// on a plaintext port" "control broker mqtts://127.0.0.1:$CTL: .*TLS" \
	"mqtts://ctl:s3cret%3Apw@127.0.0.1:$CTL" --control-cacert "$PKI/ca.pem"
agent_fails "mqtt:// on the TLS port" "control broker mqtt://127.0.0.1:$CTL_TLS: .*mqtts://" \
	"mqtt://ctl:s3cret%3Apw@127.0.0.1:$CTL_TLS"
agent_fails "wrong password" "$tls_port: CONNACK refused the control link: .*code 5" \
	"mqtts://ctl:wrong@127.0.0.1:$CTL_TLS" "${TLS_FLAGS[@]}"
agent_fails "no password (plaintext)" "control broker mqtt://127.0.0.1:$CTL: CONNACK refused" \
	"mqtt://127.0.0.1:$CTL"
agent_fails "no client certificate" "$tls_port: .*certificate" "$URL_AUTH" --control-cacert "$PKI/ca.pem"
agent_fails "no CA file" "$tls_port: --control-cacert $T/none.pem: no CA certificate read" "$URL_AUTH" \
	--control-cacert "$T/none.pem"
agent_fails "key of another certificate" "$tls_port: --control-key $PKI/server.key does not match --control-cert $PKI/client.pem" "$URL_AUTH" \
	--control-cacert "$PKI/ca.pem" --control-cert "$PKI/client.pem" --control-key "$PKI/server.key"
agent_fails "cert without key" "--control-cert and --control-key go together" "$URL_AUTH" \
	--control-cert "$PKI/client.pem"
agent_fails "cacert on mqtt://" "need an mqtts:// control URL" "mqtt://127.0.0.1:$CTL" \
	--control-cacert "$PKI/ca.pem"
agent_fails "password without user" "needs a user" "mqtt://127.0.0.1:$CTL" --control-password x

# The coordinator and blast dashboard with a wrong password: one line, 2.
run_blast 30 --control "mqtts://ctl:wrong@127.0.0.1:$CTL_TLS" "${TLS_FLAGS[@]}" --agents 2 \
	--target "127.0.0.1:$TARGET" --conns 2 --messages 10
expect_rc 2
[ "$(wc -l <"$T/blast.err")" -eq 1 ] && grep -q "$tls_port: CONNACK refused" "$T/blast.err" ||
	fail "coordinator, wrong password: $(cat "$T/blast.err")"
rc=0
timeout -k 5 30 "$BLAST" dashboard --control "mqtts://ctl:wrong@127.0.0.1:$CTL_TLS" "${TLS_FLAGS[@]}" \
	--listen 127.0.0.1:0 >/dev/null 2>"$T/dbad.err" || rc=$?
[ "$rc" -eq 2 ] && [ "$(wc -l <"$T/dbad.err")" -eq 1 ] && grep -q "$tls_port: CONNACK refused" "$T/dbad.err" ||
	fail "dashboard, wrong password: exit $rc, $(cat "$T/dbad.err")"
# The good agents are still there, and nothing of the failed ones runs.
for p in "${agents[@]}"; do kill -0 "$p" 2>/dev/null || fail "agent $p died"; done
! pgrep -f -- '--name bad' >/dev/null || fail "a failed agent is still running"
pass
