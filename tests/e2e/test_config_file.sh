#!/usr/bin/env bash
# A run described in a file (--config): long flags one a line, comments,
# the command line's flags replacing the file's; the report keeps the
# file's text, so the run can be repeated from the report alone. A bad
# line is one error line naming file:line, exit 2, nothing sent.
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
skip_unless_cmd python3
require_blast

start_mosquitto || die "cannot start mosquitto"
conf=$T/run.conf
cat >"$conf" <<CONF
# QoS 1 against the test broker
--target 127.0.0.1:$MQ_PORT
conns 2
qos = 1
--messages=200
topic 'conf/{conn}'
quiet
CONF
r=$T/report.json
run_blast 30 --config "$conf" -c 4 --report "$r"
expect_rc 0
[ -s "$r" ] || die "no report: $(cat "$T/blast.err")"
expect_json "$r" sent == 200
expect_json "$r" acked == 200
expect_json "$r" conns_ok == 4 # the command line's -c 4 over the file's 2
expect_json "$r" config.conns == 4
expect_json "$r" config.qos == 1
expect_json "$r" config.topic eq "conf/{conn}"
expect_json "$r" config.config_file eq "$conf"
check_accounting "$r"
python3 - "$r" "$conf" <<'PY' || fail "the report's config_file_text is not the file"
import json, sys
r = json.load(open(sys.argv[1]))
sys.exit(r["config"]["config_file_text"] != open(sys.argv[2]).read())
PY
[ ! -s "$T/blast.err" ] || fail "quiet (from the file) still printed progress: $(head -2 "$T/blast.err")"

# A bad line: one line naming it, exit 2, no connection made.
printf 'conns 2\n# fine\nrate fast\n' >"$T/bad.conf"
run_blast 10 --config "$T/bad.conf" --target "127.0.0.1:$MQ_PORT"
expect_rc 2
[ "$(wc -l <"$T/blast.err")" -eq 1 ] || fail "want one error line: $(cat "$T/blast.err")"
grep -q "^blast: $T/bad.conf:3: --rate fast: not a number" "$T/blast.err" ||
	fail "the error does not name bad.conf:3: $(cat "$T/blast.err")"
[ ! -s "$T/blast.out" ] || fail "stdout not empty: $(cat "$T/blast.out")"
pass
