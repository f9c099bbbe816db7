#!/usr/bin/env bash
# deploy/ checked as far as this machine can (docs/deploy.md):
# - every Kubernetes manifest and the playbook are YAML, the playbook passes
#   ansible-playbook --syntax-check, the unit passes systemd-analyze verify
#   and its offline exposure score stays at or below 2.0;
# - every blast command line in them is taken by blast: the coordinators'
#   flags by blast's whole parse (the coordinator checks a run's flags
#   before it reaches for its control broker), the Indexed Job's pods run
#   for real (smaller figures appended) at one --start-at, the merge Job
#   merges their reports, the agent commands start;
# - the unit's exact ExecStart (its env file's host and port replaced by a
#   loopback control broker, %H by a name) starts under the unit's
#   LimitNOFILE, registers (its retained BLCP message on
#   blast/ctl/agent/NAME), and on SIGTERM leaves and takes it back; so does
#   the agents Deployment's command, on the control broker ConfigMap's own
#   mosquitto.conf;
# - the image's runtime packages cover the libraries blast links.
# Not here: building the image (no registry), a cluster, systemd as PID 1.
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
. tests/lib/mosquitto.sh
skip_unless_cmd mosquitto_sub ansible-playbook ansible-inventory prlimit
[ -x /usr/sbin/mosquitto ] || skip "/usr/sbin/mosquitto not installed"
require_blast
PY=/usr/bin/python3 # Debian's python3-yaml
K8S=(deploy/k8s/*.yaml)
UNIT=deploy/systemd/blast-agent.service
ENVF=deploy/systemd/blast-agent.env

# YAML: manifests (with apiVersion, kind, metadata.name) and the playbook.
[ ${#K8S[@]} -ge 5 ] || fail "only ${#K8S[@]} manifests in deploy/k8s"
$PY tests/tools/deploy_argv.py "${K8S[@]}" --set JOB_COMPLETION_INDEX=0 >/dev/null || fail "deploy/k8s manifests do not load"
for f in deploy/ansible/*.yml; do
	$PY -c 'import sys, yaml; list(yaml.safe_load_all(open(sys.argv[1])))' "$f" || fail "$f: not YAML"
done
out=$(ansible-playbook --syntax-check -i deploy/ansible/inventory.ini deploy/ansible/blast.yml 2>&1) ||
	fail "ansible-playbook --syntax-check: $out"

# The unit: verified with blast and the env file where this tree has them.
grep -q '^LimitNOFILE=[0-9]' "$UNIT" || fail "$UNIT: no numeric LimitNOFILE"
if command -v systemd-analyze >/dev/null; then
	mkdir "$T/unit"
	sed "s|/usr/local/bin/blast|$BLAST|; s|/etc/default/blast-agent|$REPO/$ENVF|" "$UNIT" >"$T/unit/blast-agent.service"
	out=$(systemd-analyze verify "$T/unit/blast-agent.service" 2>&1)
	[ $? -eq 0 ] && [ -z "$out" ] || fail "systemd-analyze verify: $out"
	out=$(systemd-analyze security --offline=yes --threshold=20 "$T/unit/blast-agent.service" 2>&1) ||
		fail "the unit's exposure rose above 2.0: $(grep Overall <<<"$out")"
else
	log "LIMITED: systemd-analyze is not installed (Debian package systemd): the unit's syntax and hardening are not checked here; its ExecStart still is"
fi
[ -d /run/systemd/system ] ||
	log "LIMITED: systemd is not PID 1 here: the unit's sandbox is not exercised, its ExecStart runs outside it"

# The image: each library blast links directly comes from a package the
# runtime stage installs (apt brings those packages' own dependencies).
runtime=$(awk '/^FROM debian:12$/ {last = 1} last' deploy/Dockerfile)
needed=$(readelf -d "$BLAST" | awk '/\(NEEDED\)/ {gsub(/[][]/, "", $5); print $5}')
# By its multiarch directory and name (/lib is /usr/lib on Debian 12), all
# in one dpkg -S.
mapfile -t libs < <(ldd "$BLAST" | awk -v need="$needed" \
	'BEGIN {split(need, n, "\n"); for (i in n) want[n[i]] = 1} $3 ~ /^\// && ($1 in want) {print $3}')
[ "${#libs[@]}" -ge 5 ] || fail "found ${#libs[@]} libraries blast links directly: $needed"
pats=()
for lib in "${libs[@]}"; do
	pats+=("*/$(basename "$(dirname "$lib")")/$(basename "$lib")")
done
owners=$(dpkg -S "${pats[@]}" 2>/dev/null)
for lib in "${libs[@]}"; do
	tail=/$(basename "$(dirname "$lib")")/$(basename "$lib")
	pkg=$(awk -v t="$tail" 'substr($NF, length($NF) - length(t) + 1) == t {sub(/:.*/, "", $1); print $1; exit}' <<<"$owners")
	[ -n "$pkg" ] || { fail "blast links $lib, of no Debian package"; continue; }
	[ "$pkg" != libc6 ] || continue # in debian:12 already
	grep -qw -- "$pkg" <<<"$runtime" || fail "deploy/Dockerfile's runtime stage lacks $pkg ($lib)"
done

# The control broker: mosquitto on the ConfigMap's own mosquitto.conf,
# listening on a free loopback port instead of 1883 on every address.
CTL=$(free_port)
MQ_DIR=$(mktemp -d "$T/control.XXXXXX")
chmod 755 "$MQ_DIR"
MQ_CONF=$MQ_DIR/mosquitto.conf
MQ_LOG=$MQ_DIR/stderr
{
	$PY tests/tools/deploy_argv.py "${K8S[@]}" --conf mosquitto.conf | sed "s/^listener 1883 0.0.0.0$/listener $CTL 127.0.0.1/"
	echo "user $(id -un)"
} >"$MQ_CONF"
grep -q "^listener $CTL 127.0.0.1$" "$MQ_CONF" || fail "the ConfigMap's mosquitto.conf has no 'listener 1883 0.0.0.0'"
_start_mosquitto_conf "$CTL" || die "mosquitto does not start on the ConfigMap's mosquitto.conf"

# registration NAME: the retained registration (hex) a subscriber gets at
# once, if any (a retained message comes with the SUBACK: 1 s is plenty).
registration() {
	timeout 5 mosquitto_sub -p "$CTL" -t "blast/ctl/agent/$1" -C 1 -W 1 -F '%x' 2>/dev/null
}
# agent_lives TAG NAME CMD...: CMD (an agent) registers as NAME, and on
# SIGTERM ends within 3 s and takes its registration back.
agent_lives() {
	local tag=$1 name=$2 pid
	shift 2
	"$@" >"$T/$tag.out" 2>"$T/$tag.err" &
	pid=$!
	track "$pid"
	wait_until 5 grep -q "registered on" "$T/$tag.err" ||
		{ fail "$tag: the agent did not register: $(cat "$T/$tag.err")"; return; }
	reg=$(registration "$name")
	# "BLCP", version 1, then the type: register.
	[[ $reg == 424c435001* ]] || fail "$tag: blast/ctl/agent/$name holds '${reg:0:24}', not a BLCP message"
	cp "/proc/$pid/limits" "$T/$tag.limits"
	kill -TERM "$pid"
	wait_until 3 eval '! kill -0 '"$pid"' 2>/dev/null' || fail "$tag: the agent outlived SIGTERM by 3 s"
	wait "$pid"
	rc=$?
	[ "$rc" -eq 0 ] || fail "$tag: the agent exited $rc on SIGTERM"
	[ -z "$(registration "$name")" ] || fail "$tag: the registration stayed after the agent left"
}

# The unit's exact ExecStart: ${BLAST_CONTROL} from its env file with the
# host and port replaced, %H a name, blast from this tree; under the unit's
# LimitNOFILE (systemd refuses to start a unit whose limit is above
# fs.nr_open), or this shell's hard limit if that is lower and cannot be
# raised here.
exec_line=$(sed -n 's/^ExecStart=//p' "$UNIT")
control=$(sed -n 's/^BLAST_CONTROL=//p' "$ENVF" | sed -E "s#//[^/:]+:[0-9]+#//127.0.0.1:$CTL#")
nofile=$(sed -n 's/^LimitNOFILE=//p' "$UNIT")
[ "$control" = "mqtt://127.0.0.1:$CTL" ] || fail "$ENVF: BLAST_CONTROL is not mqtt://HOST:PORT"
read -r -a cmd <<<"$(sed "s|^/usr/local/bin/blast |$BLAST |; s|\${BLAST_CONTROL}|$control|; s|%H|unit-agent|" <<<"$exec_line")"
[ "${cmd[0]}" = "$BLAST" ] || fail "ExecStart does not start /usr/local/bin/blast: $exec_line"
[ "$nofile" -le "$(cat /proc/sys/fs/nr_open)" ] || fail "LimitNOFILE=$nofile is above fs.nr_open ($(cat /proc/sys/fs/nr_open))"
limit=$nofile
if ! prlimit --nofile="$nofile:$nofile" true 2>/dev/null; then
	limit=$(ulimit -Hn)
	log "LIMITED: this shell cannot raise its open-files limit to $nofile (no CAP_SYS_RESOURCE): the agent runs with $limit"
fi
agent_lives unit unit-agent prlimit --nofile="$limit:$limit" "${cmd[@]}"
[ "$(sed -n 's/^Max open files *\([0-9]*\).*/\1/p' "$T/unit.limits" 2>/dev/null)" = "$limit" ] ||
	fail "the agent ran with open files $(cat "$T/unit.limits" 2>/dev/null | grep 'open files'), not $limit"

# Every blast command of the manifests; cluster names become loopback ones.
START=$(($(date +%s) + 300))
argv_of() { # MANIFEST/CONTAINER [INDEX]: its argv, one per line
	$PY tests/tools/deploy_argv.py "${K8S[@]}" --set POD_NAME=pod-agent --set "START_AT=$START" \
		--set "JOB_COMPLETION_INDEX=${2:-0}" --replace "blast-control:1883=127.0.0.1:$CTL" \
		--replace "broker:1883=127.0.0.1:$CTL" --replace "/reports/=$T/reports/" |
		awk -F'\t' -v c="$1" '$1 == c {for (i = 2; i <= NF; i++) print $i; found = 1} END {exit !found}'
}
mkdir "$T/reports"
mapfile -t a < <(argv_of agents.yaml/agent) || fail "no agent container in agents.yaml"
agent_lives pod pod-agent "$BLAST" "${a[@]}"

# full_parse NAME ARGS: blast's whole parse of a run's flags, as the
# coordinator does it before it reaches for the control broker: on a closed
# control port, "cannot connect" is the only complaint a good set gets.
CLOSED=$(free_port)
full_parse() {
	local name=$1
	shift
	out=$("$BLAST" "$@" 2>&1 >/dev/null)
	[ $? -eq 2 ] && [ "$out" = "blast: --control: cannot connect to control broker mqtt://127.0.0.1:$CLOSED: Connection refused" ] ||
		fail "$name: blast refuses its flags: $out"
}
mapfile -t a < <(argv_of coordinator-job.yaml/coordinator) || fail "no coordinator in coordinator-job.yaml"
full_parse coordinator-job "${a[@]/127.0.0.1:$CTL/127.0.0.1:$CLOSED}"
# The playbook's coordinator: its argv as the playbook builds it, from the
# inventory's variables.
flags=$(ansible-inventory -i deploy/ansible/inventory.ini --host control.example.net |
	$PY -c 'import json, sys; print(json.load(sys.stdin)["blast_run_flags"])' | sed "s/[a-z.]*example.net:[0-9]*/127.0.0.1:$CTL/g")
read -r -a fl <<<"$flags"
[ ${#fl[@]} -gt 2 ] || fail "the inventory has no blast_run_flags"
grep -q "'--agents-timeout', '60s'" deploy/ansible/blast.yml || fail "the playbook's coordinator argv changed: update this test"
full_parse playbook-coordinator --control "mqtt://127.0.0.1:$CLOSED" --agents 3 --agents-timeout 60s "${fl[@]}" \
	--report "$T/p.json" --html "$T/p.html"
# A full parse that can fail: a share of nothing.
out=$("$BLAST" --control "mqtt://127.0.0.1:$CLOSED" --agents 3 "${fl[@]}" --conns 2 2>&1)
[ $? -eq 2 ] && grep -q 'cannot be split 3 ways' <<<"$out" || fail "a share of nothing passed: $out"

# The Indexed Job: its three pods' exact args, then smaller figures (the
# last of a repeated flag counts), all at one --start-at 2 s ahead, run in
# parallel against the control mosquitto (as good a target as any); each
# writes /reports/shard-$JOB_COMPLETION_INDEX.json. Its exact figures are
# parsed with --help appended (each flag and value, the split, the time).
for i in 0 1 2; do
	mapfile -t a < <(argv_of shards-job.yaml/shard "$i") || fail "no shard container in shards-job.yaml"
	out=$(JOB_COMPLETION_INDEX=$i "$BLAST" "${a[@]}" --help 2>&1 >/dev/null) || fail "shards-job index $i: $out"
	printf '%s\n' "${a[@]}" >"$T/shard$i.argv"
done
# The argv carry START (300 s ahead); the runs get one 2 s ahead, set just
# before they start (a --start-at more than 1 s past is refused).
old=$START
START=$(($(date +%s) + 2))
pids=()
for i in 0 1 2; do
	mapfile -t a <"$T/shard$i.argv"
	JOB_COMPLETION_INDEX=$i timeout -k 5 20 "$BLAST" "${a[@]/#$old/$START}" --conns 3 --rate 300 --messages 30 \
		--topic 'deploy/{conn}' >"$T/shard$i.out" 2>"$T/shard$i.err" &
	pids+=($!)
	track "${pids[-1]}"
done
for i in 0 1 2; do
	wait "${pids[$i]}" || fail "shard $i exited $?: $(cat "$T/shard$i.err")"
	[ -s "$T/reports/shard-$i.json" ] || fail "shard $i wrote no reports/shard-$i.json"
	# Its publishing began at --start-at, not when the pod came up.
	expect_jsons "$T/reports/shard-$i.json" shard.index == "$i" shard.count == 3 \
		exact.publish_start_ms -ge $((START * 1000)) exact.publish_start_ms -lt $((START * 1000 + 1000))
done
# The merge job on them.
mapfile -t a < <(argv_of merge-job.yaml/merge) || fail "no merge container in merge-job.yaml"
run_blast 20 "${a[@]}"
expect_rc 0
expect_jsons "$T/reports/all.json" sent == 30 acked == 30 merged.reports == 3 merged.shards == 3
check_accounting "$T/reports/all.json"
[ -s "$T/reports/all.html" ] || fail "the merge job wrote no all.html"

pass
