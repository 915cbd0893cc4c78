#!/usr/bin/env bash
# Runs the unit tests (cmocka), the fuzz harnesses over their seed corpora
# (tests/fuzz) and the integration tests (bats) and ends with one line
# "N passed, N failed".  Expects tests/setup.sh to have run and the binary,
# unit tests and replay binaries to be built (make check does both).
set -u
cd "$(dirname "$0")/.."
pass=0 fail=0
log=$(mktemp)
count() {
	pass=$((pass + $(grep -c '^ok ' "$log")))
	fail=$((fail + $(grep -c '^not ok ' "$log")))
}

# scan-build and cppcheck (below) take a minute or more of CPU: they run
# meanwhile at the lowest priority, and their result is counted at the end.
analyze_log=$(mktemp)
nice -n 19 make -s analyze >"$analyze_log" 2>&1 &
analyze_pid=$!

echo "== unit tests"
for t in tests/unit/test_*; do
	case $t in *.c) continue ;; esac
	[ -x "$t" ] || continue
	CMOCKA_MESSAGE_OUTPUT=TAP "$t" >"$log" 2>&1
	rc=$?
	sed "s|^|$(basename "$t"): |" "$log" | grep -v '^[^:]*: #' || true
	count
	# A crash before any result line still counts as a failure.
	if [ $rc -ne 0 ] && ! grep -q '^not ok ' "$log"; then fail=$((fail + 1)); fi
done

echo "== fuzz corpus replay"
n=0
for t in tests/fuzz/build/replay-*; do
	[ -x "$t" ] || continue
	n=$((n + 1))
	"$t" -n "$n" "tests/fuzz/corpus/${t##*/replay-}" >"$log" 2>&1
	rc=$?
	grep -E '^(not )?ok ' "$log" || true
	# What the sanitizer or the failed property said.
	if [ $rc -ne 0 ]; then sed 's/^/# /' "$log"; fi
	count
	if [ $rc -ne 0 ] && ! grep -q '^not ok ' "$log"; then fail=$((fail + 1)); fi
done

echo "== integration tests"
# Two lanes of test files at once (most of a test's time is waiting for
# containers), each with ports of its own (KC_LANE, helpers.bash); the
# files that restart the engine (zz_*) run alone after both.  Each lane's
# files are listed by what they took, the longest first, so the two end
# together.
lane_a="security upgrade cluster kor build dispatch states roles"
lane_b="snapshot instance faults adopt routes pool backup backup_s3"
run_lane() { # LANE PORTS FILES... (PORTS: the lane's half of the test ports, or "")
	local out=$log.$1 ports=$2
	shift 2
	KC_LANE=$ports bats --tap --timing "${@/#/tests/integration/}" >"$out" 2>&1
	echo $? >"$out.rc"
}
listed=" $lane_a $lane_b "
for f in tests/integration/*.bats; do
	b=${f##*/}
	b=${b%.bats}
	case $b in zz_*) continue ;; esac
	# A file no lane names runs in the first, so none is ever left out.
	case $listed in *" $b "*) ;; *) lane_a="$lane_a $b" ;; esac
done
run_lane 0 0 $(printf '%s.bats ' $lane_a) &
pa=$!
run_lane 1 1 $(printf '%s.bats ' $lane_b) &
pb=$!
wait "$pa" "$pb"
run_lane 2 "" $(cd tests/integration && ls zz_*.bats)
for lane in 0 1 2; do
	cat "$log.$lane"
	cp "$log.$lane" "$log"
	count
	if [ "$(cat "$log.$lane.rc")" -ne 0 ] && ! grep -q '^not ok ' "$log"; then fail=$((fail + 1)); fi
	rm -f "$log.$lane" "$log.$lane.rc"
done

echo "== static analysis"
# scan-build and cppcheck over the product's sources: one result.
if wait "$analyze_pid"; then
	echo "ok 1 make analyze: scan-build and cppcheck find nothing"
	pass=$((pass + 1))
else
	echo "not ok 1 make analyze: a finding or a failure, below"
	sed 's/^/# /' "$analyze_log"
	fail=$((fail + 1))
fi
rm -f "$log" "$analyze_log"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
