#!/usr/bin/env bash
# The main job, end to end: install what blast needs, build it, start a
# private mosquitto on a free loopback port, blast it with 1,000 connections
# for 10 s at QoS 1 with the wire probe on, print the summary and the JSON
# report (kept with an HTML page in /tmp/blast-demo, or DEMO_OUT), stop the
# broker. SKIP_DEPS=1 skips the install.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${SKIP_DEPS:-}" != 1 ]; then
	bash scripts/install-deps.sh
fi
make -j"$(nproc)" blast

dir=$(mktemp -d /tmp/blast-demo.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$dir/mosquitto.conf" <<CONF
listener $port 127.0.0.1
allow_anonymous true
persistence false
max_connections -1
max_inflight_messages 0
max_queued_messages 0
log_dest stderr
CONF
/usr/sbin/mosquitto -c "$dir/mosquitto.conf" 2>"$dir/mosquitto.log" &
broker=$!
cleanup() {
	kill "$broker" 2>/dev/null && wait "$broker" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT
for _ in $(seq 50); do
	(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
	sleep 0.1
done

echo "mosquitto (pid $broker) on 127.0.0.1:$port"
set +e
out=${DEMO_OUT:-/tmp/blast-demo}
mkdir -p "$out"
./blast --proto mqtt --target "127.0.0.1:$port" --conns 1000 --ramp 5000 \
	--rate 20000 --duration 10s --qos 1 --probe \
	--report "$out/report.json" --html "$out/report.html"
status=$?
set -e
echo "--- report ($out/report.json; charts in $out/report.html) ---"
python3 -m json.tool "$out/report.json"
exit $status
