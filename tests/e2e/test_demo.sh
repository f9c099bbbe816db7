#!/usr/bin/env bash
# README's first command, as printed (less the install): scripts/demo.sh
# starts its own mosquitto, blasts it with 1,000 QoS 1 connections for 10 s
# with --probe and writes the report. The run must pass, its summary must
# show the wire line, and the wire's counts must equal the client's.
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
skip_unless_root
skip_unless_cmd python3
[ -x /usr/sbin/mosquitto ] || skip "/usr/sbin/mosquitto not installed"
require_blast

out=$T/demo
SKIP_DEPS=1 DEMO_OUT=$out timeout -k 5 120 bash scripts/demo.sh >"$T/demo.out" 2>"$T/demo.err" ||
	fail "scripts/demo.sh exited $?"
r=$out/report.json
[ -s "$r" ] || die "no report at $r"
grep -q '^wire (probe)  requests [0-9]' "$T/demo.out" || fail "the summary has no wire line"
grep -q 'running without the wire probe' "$T/demo.err" && fail "the probe did not load: $(cat "$T/demo.err")"
expect_json "$r" stop_reason eq duration
expect_json "$r" conns_ok == 1000
sent=$(json_get "$r" sent) || die "report has no sent"
expect_json "$r" acked == "$sent"
expect_json "$r" failed == 0
expect_json "$r" unacked == 0
check_wire "$r" sent acked 1000
# Start-up: launch -> schedule includes the probe's load and 1,000 connects.
python3 - "$r" <<'PY' || fail "startup figures: $(json_get "$r" startup)"
import json, sys
s = json.load(open(sys.argv[1]))["startup"]
ok = 0 < s["to_schedule_ms"] < 60000 and s["setup_user_ms"] >= 0 and s["setup_sys_ms"] >= 0
sys.exit(0 if ok else 1)
PY
[ -s "$out/report.html" ] || fail "no HTML page"
pass
