# Sourced by tests/lib.sh: certificates for TLS tests, made with openssl
# in the test's temp dir.

# make_test_pki DIR: a CA (ca.pem), and certificates it signs, each NAME.pem
# with NAME.key: server (localhost and 127.0.0.1), client (for mTLS),
# expired (the server's names, expired in 2020) and wronghost (other.example).
make_test_pki() {
	local d=$1
	mkdir -p "$d/db" && touch "$d/db/index.txt" && echo 1000 >"$d/db/serial" || return 1
	cat >"$d/ca.cnf" <<CNF
[ ca ]
default_ca = test
[ test ]
database = $d/db/index.txt
new_certs_dir = $d/db
serial = $d/db/serial
default_md = sha256
policy = any
copy_extensions = copy
unique_subject = no
[ any ]
commonName = supplied
CNF
	if ! { openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/ca.key" -out "$d/ca.pem" -days 30 \
		-subj "/CN=blast test CA" >>"$d/openssl.log" 2>&1 &&
		_pki_cert "$d" server localhost "DNS:localhost,IP:127.0.0.1" &&
		_pki_cert "$d" client blast-client "DNS:blast-client" &&
		_pki_cert "$d" wronghost other.example "DNS:other.example" &&
		_pki_cert "$d" expired localhost "DNS:localhost,IP:127.0.0.1" \
			-startdate 20200101000000Z -enddate 20200102000000Z; }; then
		tail -n 5 "$d/openssl.log" >&2 # what openssl said, for the test's failure
		return 1
	fi
}

# make_ec_server_cert DIR: DIR/server-ec.pem with server-ec.key, the server's
# names on an ECDSA P-256 key (for ECDHE-ECDSA suites), signed by DIR's CA.
make_ec_server_cert() {
	PKI_NEWKEY=ec PKI_KEYOPT=ec_paramgen_curve:P-256 \
		_pki_cert "$1" server-ec localhost "DNS:localhost,IP:127.0.0.1"
}

# _pki_cert DIR NAME CN SAN [openssl ca dates]: NAME.pem signed by the CA,
# on an RSA-2048 key unless PKI_NEWKEY (and PKI_KEYOPT) say otherwise.
_pki_cert() {
	local d=$1 name=$2 cn=$3 san=$4
	shift 4
	local dates=("$@") keyopt=()
	[ ${#dates[@]} -gt 0 ] || dates=(-days 30)
	[ -z "${PKI_KEYOPT:-}" ] || keyopt=(-pkeyopt "$PKI_KEYOPT")
	openssl req -newkey "${PKI_NEWKEY:-rsa:2048}" "${keyopt[@]}" -nodes -keyout "$d/$name.key" -out "$d/$name.csr" \
		-subj "/CN=$cn" -addext "subjectAltName=$san" >>"$d/openssl.log" 2>&1 &&
		openssl ca -batch -config "$d/ca.cnf" -cert "$d/ca.pem" -keyfile "$d/ca.key" \
			-in "$d/$name.csr" -out "$d/$name.pem" "${dates[@]}" >>"$d/openssl.log" 2>&1
}

# tls_listener PORT DIR CERTNAME [lines]...: mosquitto config lines for a
# TLS listener on 127.0.0.1:PORT serving CERTNAME.pem, trusting DIR/ca.pem.
tls_listener() {
	local port=$1 d=$2 name=$3
	shift 3
	printf '%s\n' "listener $port 127.0.0.1" "cafile $d/ca.pem" "certfile $d/$name.pem" \
		"keyfile $d/$name.key" "$@"
}

# start_tls_mosquitto: the test's PKI in $T/pki (PKI) and a mosquitto with
# one TLS listener on a free port (P_TLS) serving the PKI's server cert.
start_tls_mosquitto() {
	local lines
	PKI=$T/pki
	make_test_pki "$PKI" || die "cannot make test certificates"
	P_TLS=$(free_port)
	mapfile -t lines < <(tls_listener "$P_TLS" "$PKI" server)
	start_mosquitto "${lines[@]}" || die "cannot start mosquitto"
	wait_until 5 port_open "$P_TLS" || die "TLS listener not up"
}

# make_device_certs PKI DIR N: N client certificates signed by PKI's CA, one
# per device, as DIR/dev-I.crt with DIR/dev-I.key (CN dev-I), I = 0..N-1.
make_device_certs() {
	local pki=$1 dir=$2 n=$3 i
	mkdir -p "$dir" || return 1
	for ((i = 0; i < n; i++)); do
		_pki_cert "$pki" "dev-$i" "dev-$i" "DNS:dev-$i" || return 1
		mv "$pki/dev-$i.pem" "$dir/dev-$i.crt" && mv "$pki/dev-$i.key" "$dir/dev-$i.key" ||
			return 1
	done
}

# check_analysis NAME RUN.json AN.json KEY=VALUE...: dotted keys (list
# indexes too) into a run's report ("run.", "-" for none) or a `blast
# analyze` report ("an."); every mismatch named in one failure.
check_analysis() {
	local out
	out=$(python3 - "$@" <<'PYEOF'
import json, sys
name, run_p, an_p, *want = sys.argv[1:]
docs = {"run": json.load(open(run_p)) if run_p != "-" else {}, "an": json.load(open(an_p))}
bad = []
for kv in want:
    k, v = kv.split("=", 1)
    cur = docs
    for part in k.split("."):
        if isinstance(cur, list) and part.isdigit() and int(part) < len(cur):
            cur = cur[int(part)]
        else:
            cur = cur.get(part) if isinstance(cur, dict) else None
    if str(cur) != v:
        bad.append(f"{k} = {cur}, want {v}")
if bad:
    print(f"{name}: " + "; ".join(bad))
    sys.exit(1)
PYEOF
	) || fail "$out"
}

# openssl_sys_conf FILE SETTING...: an OpenSSL config (for OPENSSL_CONF)
# whose system default applies SETTING ("Options = AllowNoDHEKEX") to every
# TLS context the process makes: how a test sets a server's or blast's
# TLS defaults without a flag of their own.
openssl_sys_conf() {
	local f=$1
	shift
	printf '%s\n' "openssl_conf = init" "[init]" "ssl_conf = ssl" "[ssl]" "system_default = sys" \
		"[sys]" "$@" >"$f"
}
