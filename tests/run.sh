#!/usr/bin/env bash
# Runs the unit tests (cmocka) and the integration tests (bats) and ends with
# one line "N passed, N failed".  Expects tests/setup.sh to have run and the
# binary and unit tests to be built (make check does both).
set -u
cd "$(dirname "$0")/.."
pass=0 fail=0
log=$(mktemp)
count() {
	pass=$((pass + $(grep -c '^ok ' "$log")))
	fail=$((fail + $(grep -c '^not ok ' "$log")))
}

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

echo "== integration tests"
bats --tap tests/integration >"$log" 2>&1
rc=$?
cat "$log"
count
if [ $rc -ne 0 ] && ! grep -q '^not ok ' "$log"; then fail=$((fail + 1)); fi
rm -f "$log"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
