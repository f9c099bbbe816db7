#!/usr/bin/env bash
# Runs each test (a binary or a script), each under a time limit, and
# tallies exit codes: 0 pass, 77 skip, anything else fail. The last line is
# "N passed, N failed, N skipped". Exits 1 if anything failed. A passing
# test's "LIMITED: ..." lines (a check this machine cannot make) are shown.
set -u
limit=${TEST_TIMEOUT:-300}
pass=0 fail=0 skip=0
failed=()
for t in "$@"; do
	name=${t#./}
	start=$(date +%s.%N)
	timeout --kill-after=10 "$limit" "$t" >"/tmp/blast-test.$$.log" 2>&1
	rc=$?
	secs=$(printf '%.1f' "$(echo "$(date +%s.%N) - $start" | bc)")
	case $rc in
	0)
		pass=$((pass + 1)); printf 'PASS %s (%ss)\n' "$name" "$secs"
		# What a passing test could not check here, said in its own words.
		grep '^LIMITED:' "/tmp/blast-test.$$.log" | sed 's/^/    | /'
		;;
	77) skip=$((skip + 1)); printf 'SKIP %s: %s\n' "$name" "$(tail -1 /tmp/blast-test.$$.log)" ;;
	*)
		fail=$((fail + 1)); failed+=("$name")
		[ $rc -eq 124 ] && echo "(timed out after ${limit}s)" >>"/tmp/blast-test.$$.log"
		printf 'FAIL %s (exit %d, %ss)\n' "$name" "$rc" "$secs"
		sed 's/^/    | /' "/tmp/blast-test.$$.log" | tail -60
		;;
	esac
done
rm -f "/tmp/blast-test.$$.log"
[ ${#failed[@]} -gt 0 ] && printf 'failed: %s\n' "${failed[*]}"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
