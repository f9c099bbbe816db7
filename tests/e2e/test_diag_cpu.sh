#!/usr/bin/env bash
# Self-diagnosis, client: cpu. One worker pinned to core 0 with a busy loop
# pinned there too gets half that core; asked for more messages a second
# than it can send on half a core (QoS 0 to the sink: no window; half a core
# sends about 25 M/s here, so 8 M/s was kept on a quiet machine), it falls
# behind with its connections free. The busy loop is ended by PID on any exit.
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"

require_blast
skip_unless_cmd taskset
[ "$(nproc)" -ge 2 ] || skip "needs 2 cores: the sink runs on the other"
start_sink --threads 1
taskset -p -c 1 "$SINK_PID" >/dev/null || die "cannot pin the sink"
taskset -c 0 bash -c 'while :; do :; done' &
track $!

# blast (this shell's child) inherits core 0.
taskset -p -c 0 $$ >/dev/null || die "cannot pin this shell"
run_blast 30 --workers 1 --target "127.0.0.1:$SINK_PORT" --qos 0 --conns 4 \
	--rate 200000000 --duration 2s --report "$T/r.json"
tail -n 3 "$T/blast.out"
expect_json "$T/r.json" diagnosis.bottleneck eq "client: cpu"
waiting=$(json_get "$T/r.json" diagnosis.cpu.busiest_waiting_pct)
python3 -c "import sys; sys.exit(float(sys.argv[1]) <= 10)" "$waiting" || fail "the worker waited for a CPU only $waiting% of the time"
pass
