#!/usr/bin/env bash
# The connection search over TLS: --find-limit conns against a mosquitto
# TLS listener that can open 50 files finds a count below that (every
# trial's connections made full or resumed handshakes), and a connect rate.
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
skip_unless_cmd python3 openssl
[ -x /usr/sbin/mosquitto ] || skip "/usr/sbin/mosquitto not installed"
require_blast

PKI=$T/pki
make_test_pki "$PKI" || die "cannot make test certificates"
P_TLS=$(free_port)
mapfile -t lines < <(tls_listener "$P_TLS" "$PKI" server)
ulimit -S -n 50
start_mosquitto "${lines[@]}" || die "cannot start mosquitto"
ulimit -S -n "$(ulimit -H -n)"
wait_until 5 port_open "$P_TLS" || die "TLS listener not up"

r=$T/conns.json
run_blast 120 --target "mqtts://127.0.0.1:$P_TLS" --cacert "$PKI/ca.pem" --find-limit conns \
	--conns 10 --trial-duration 500ms --drain-timeout 1s --report "$r"
tail -n 12 "$T/blast.out"
expect_rc 0
expect_json "$r" limit.mode eq conns
expect_json "$r" limit.conns -lt 50
expect_json "$r" limit.conns -ge 30
out=$(python3 - "$r" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
lim, cr = r["limit"], r["limit"].get("connect_rate")
trials = r["trials"]
bad = []
if not cr or cr["rate"] <= 0 or not cr["confirmed"]:
    bad.append(f"connect_rate {cr}")
over = [t for t in trials if t["stage"] == "conns" and t["offered"] >= 50]
if not over or any(t["pass"] for t in over):
    bad.append("no trial of 50 connections or more, or one passed")
print("; ".join(bad))
EOF
)
[ -z "$out" ] || fail "$out"
pass
