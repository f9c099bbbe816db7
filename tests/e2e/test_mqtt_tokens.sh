#!/usr/bin/env bash
# 1,000 connections, each authenticating with its own --tokens-file line as
# username, against a broker with a password file and no anonymous access.
# One token (token-0500) is missing from the password file: that connection
# alone must be refused.
#
# mosquitto 2.0.11 refuses every bad login (unknown user, wrong password,
# username without password) with CONNACK return code 5, "not authorized"
# (MQTT 5: reason 0x87), never 4 (bad user name or password); and a user
# with no password is refused too, hence the common --password.
#
# Connect only (--messages 0), held for --duration 4s: the login outcome is
# what counts here.
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
skip_unless_cmd mosquitto_passwd python3
[ -x /usr/sbin/mosquitto ] || skip "/usr/sbin/mosquitto not installed"
require_blast

CONNS=1000
MISSING=token-0500
TOKENS=$T/tokens.txt
PASSWD=$T/passwd
for ((i = 0; i < CONNS; i++)); do printf 'token-%04d\n' "$i"; done >"$TOKENS"
# Plain "user:password" lines, hashed in place in one go (-U).
grep -vx "$MISSING" "$TOKENS" | sed 's/$/:s3cret/' >"$PASSWD"
mosquitto_passwd -U "$PASSWD" || die "mosquitto_passwd -U failed"
[ "$(wc -l <"$PASSWD")" -eq $((CONNS - 1)) ] || die "password file has $(wc -l <"$PASSWD") lines"
chmod 644 "$PASSWD"

start_mosquitto "allow_anonymous false" "password_file $PASSWD" || die "cannot start mosquitto"

# Sanity of the fixture itself, with mosquitto's own client.
mosquitto_pub -h 127.0.0.1 -p "$MQ_PORT" -u token-0001 -P s3cret -t blast/x -m hi ||
	die "a listed token cannot log in with mosquitto_pub"
if mosquitto_pub -h 127.0.0.1 -p "$MQ_PORT" -u "$MISSING" -P s3cret -t blast/x -m hi 2>/dev/null; then
	die "$MISSING logged in although it is not in the password file"
fi

tokens_case() { # VERSION CONNS
	local v=$1 n=$2 r=$T/report-v$1.json before after refused
	log "== mqtt $v, $n connections"
	before=$(mosquitto_connects)
	refused=$(grep -c 'disconnected, not authorised' "$MQ_LOG")
	run_blast 60 --target "127.0.0.1:$MQ_PORT" --conns "$n" --tokens-file "$TOKENS" \
		--password s3cret --mqtt-version "$v" --messages 0 --duration 4s --report "$r" --quiet
	# Something failed (one refused login): exit 1, not 0, 2 or a crash.
	expect_rc 1
	[ -s "$r" ] || { fail "v$v: no report written: $(tail -n 3 "$T/blast.err")"; return; }
	expect_json "$r" conns_ok == $((n - 1))
	expect_json "$r" conns_failed == 1
	expect_json "$r" errors eq '{"connack:not_authorized": 1}'
	expect_json "$r" exit_status == 1
	check_accounting "$r"
	sleep 0.3
	after=$(mosquitto_connects)
	[ $((after - before)) -eq $((n - 1)) ] ||
		fail "v$v: broker logged $((after - before)) logins, want $((n - 1))"
	refused=$(($(grep -c 'disconnected, not authorised' "$MQ_LOG") - refused))
	[ "$refused" -eq 1 ] || fail "v$v: broker logged $refused refusals, want 1"
}

tokens_case 3.1.1 $CONNS
# MQTT 5 sends reason code 0x87 instead; the report key is the same.
tokens_case 5 $CONNS
pass
