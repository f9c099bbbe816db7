#!/usr/bin/env bash
# Installs every Debian 12 package blast needs to build, test, fuzz and
# bench. Idempotent: run it as often as you like. Needs root (or sudo).
#
# It never leaves a mosquitto or nginx system service running: the tests
# start their own servers on free ports. Package installs are told not to
# start services (a temporary policy-rc.d, unless one exists already), and
# if a mosquitto or nginx daemon appeared during this run anyway, it is
# stopped by the PID in /run/mosquitto/mosquitto.pid or /run/nginx.pid.
set -euo pipefail

PACKAGES=(
	# build
	build-essential make gcc pkg-config
	liburing-dev libbpf-dev libelf-dev zlib1g-dev libpcap-dev
	libprotobuf-c-dev protobuf-c-compiler protobuf-compiler libprotobuf-dev libssl-dev libmicrohttpd-dev
	librdkafka-dev kcat
	# Kafka SASL tests: Cyrus SASL's PLAIN and SCRAM server mechanisms
	# (tests/tools/kafka_sasl_gate.c)
	libsasl2-dev libsasl2-modules
	# BPF objects and skeletons, libFuzzer runtime, sanitizers
	clang llvm libclang-rt-14-dev bpftool
	# a second compiler for the BPF verifier budget (make check loads both builds)
	clang-16
	# tests and benches
	iproute2 openssl mosquitto mosquitto-clients bc python3 procps psmisc coreutils util-linux time xxd
	libwebsockets-test-server python3-websockets
	# --proto http's server (tests/lib/nginx.sh starts its own, in the foreground)
	nginx
	# TLS tests: a TLS terminator that closes mid-run (tests/e2e/test_tls_hostile.sh),
	# and in front of the Kafka mock (tests/e2e/test_kafka_tls.sh, test_kafka_sasl.sh)
	socat
	# every JSON report the tests write is checked against docs/report.schema.json
	python3-jsonschema
	# bench/vs-peers.sh's peers (Tsung, with Erlang, gnuplot and matplotlib,
	# is installed by that bench itself when it runs, not here)
	python3-paho-mqtt python3-locust python3-confluent-kafka
	# bench/ws.sh's second peer, the npm ws package
	node-ws
	# capture tests: a second opinion on blast's pcapng, and captures of other clients
	tshark tcpdump
	# reports: HdrHistogram's JS (npm, below) and Java readers for --hlog, a browser for --html
	nodejs chromium default-jre-headless libhdrhistogram-java
	# HTTP: Flask as a server of the tests, wrk as bench/http.sh's peer
	python3-flask wrk
	# bench/compare-brokers.sh: more brokers, run in the foreground on free ports
	nats-server rabbitmq-server
	# tests/e2e/test_deploy.sh: the manifests' YAML, the playbook's syntax
	# (ansible-core: ansible-playbook alone, 8 MB; the full ansible is 259 MB)
	python3-yaml ansible-core
)
# A nodejs that bundles npm (nodesource's) conflicts with Debian's npm.
command -v npm >/dev/null 2>&1 || PACKAGES+=(npm)

# hdr-histogram-js and puppeteer-core, pinned by tests/node/package-lock.json, into tests/node
# (project-local, never global). Skipped when already there.
install_node_tools() {
	local dir
	dir="$(cd "$(dirname "$0")/.." && pwd)/tests/node"
	[ -f "$dir/node_modules/hdr-histogram-js/package.json" ] &&
		[ -f "$dir/node_modules/puppeteer-core/package.json" ] && return 0
	echo "install-deps: npm ci in tests/node"
	(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
}

SUDO=
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || { echo "install-deps: run as root (no sudo here)" >&2; exit 1; }
	SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive

MQ_PIDFILE=/run/mosquitto/mosquitto.pid
NGINX_PIDFILE=/run/nginx.pid

# daemon_pid PIDFILE COMM: the PID in PIDFILE if that process is COMM.
daemon_pid() {
	local pid
	[ -r "$1" ] || return 1
	pid=$(cat "$1" 2>/dev/null) || return 1
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	[ "$(cat /proc/"$pid"/comm 2>/dev/null)" = "$2" ] || return 1
	echo "$pid"
}
mosquitto_daemon_pid() { daemon_pid "$MQ_PIDFILE" mosquitto; }
nginx_daemon_pid() { daemon_pid "$NGINX_PIDFILE" nginx; }

# Which packages are missing? Skip apt entirely when none are.
missing=()
for p in "${PACKAGES[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$status" = "install ok installed" ] || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: all ${#PACKAGES[@]} packages already installed"
	install_node_tools
	exit 0
fi
echo "install-deps: installing ${missing[*]}"

before_pid=$(mosquitto_daemon_pid || true)
before_nginx=$(nginx_daemon_pid || true)
# Services of the other brokers (and RabbitMQ's epmd) that run before the
# install, so that only those the install started are stopped after it.
SERVICES=(nats-server rabbitmq-server epmd.socket epmd nginx)
services_active() {
	local s
	command -v systemctl >/dev/null && [ -d /run/systemd/system ] || return 0
	for s in "${SERVICES[@]}"; do
		systemctl is-active --quiet "$s" 2>/dev/null && echo "$s"
	done
	return 0
}
before_services=$(services_active)

# Keep maintainer scripts from starting services (invoke-rc.d and
# deb-systemd-invoke honour policy-rc.d). Only ours is removed afterwards.
policy=/usr/sbin/policy-rc.d
made_policy=
cleanup() {
	if [ -n "$made_policy" ]; then
		$SUDO rm -f "$policy"
	fi
}
trap cleanup EXIT
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\n# temporary, from blast scripts/install-deps.sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
	$SUDO chmod 755 "$policy"
	made_policy=1
fi

# wireshark-common asks whether non-root users may capture: no (and no prompt).
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections

# A fresh container has no package lists; retry once for a flaky mirror.
$SUDO apt-get update -q || { sleep 5; $SUDO apt-get update -q; }
# --no-install-recommends is safe for all of these: nothing we use lives in a
# recommended package (mosquitto-clients and bpftool pull what they need).
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"

cleanup
made_policy=

# Stop a daemon only if this install started it.
after_pid=$(mosquitto_daemon_pid || true)
if [ -n "$after_pid" ] && [ "$after_pid" != "$before_pid" ]; then
	echo "install-deps: stopping the mosquitto service the install started (pid $after_pid)"
	$SUDO systemctl disable mosquitto >/dev/null 2>&1 || true
	$SUDO kill "$after_pid"
	for _ in $(seq 50); do
		[ -d /proc/"$after_pid" ] || break
		sleep 0.1
	done
fi

after_nginx=$(nginx_daemon_pid || true)
if [ -n "$after_nginx" ] && [ "$after_nginx" != "$before_nginx" ]; then
	echo "install-deps: stopping the nginx service the install started (pid $after_nginx)"
	$SUDO systemctl disable nginx >/dev/null 2>&1 || true
	$SUDO kill -QUIT "$after_nginx" # graceful: the master takes its workers along
	for _ in $(seq 50); do
		[ -d /proc/"$after_nginx" ] || break
		sleep 0.1
	done
fi

for s in $(services_active); do
	if ! grep -qx "$s" <<<"$before_services"; then
		echo "install-deps: stopping the $s service the install started"
		$SUDO systemctl stop "$s" >/dev/null 2>&1 || true
		$SUDO systemctl disable "$s" >/dev/null 2>&1 || true
	fi
done

# Fail loudly if something is still missing, naming it.
still=()
for p in "${PACKAGES[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$status" = "install ok installed" ] || still+=("$p")
done
if [ ${#still[@]} -ne 0 ]; then
	echo "install-deps: not installed: ${still[*]}" >&2
	exit 1
fi
install_node_tools
echo "install-deps: done"
