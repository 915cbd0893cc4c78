#!/usr/bin/env bash
# make bench: every benchmark in turn, then one table of their results:
# measure, korcluster, baseline (measured in the same run), ratio, goal, and
# whether it is met.  BENCH="instances upgrade" runs only those.
set -uo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
BENCH_TABLE=$(mktemp /tmp/korcluster-bench-table.XXXXXX)
export BENCH_TABLE
trap 'rm -f "$BENCH_TABLE"' EXIT
rc=0
for b in ${BENCH:-instances snapshot upgrade pool backup}; do
	echo "== bench/$b.sh"
	if ! "$REPO/bench/$b.sh"; then
		echo "bench/$b.sh failed"
		printf '%s\t%s\t-\t-\t-\tfailed\n' "bench/$b.sh" "did not finish" >>"$BENCH_TABLE"
		rc=1
	fi
done
echo
python3 - "$BENCH_TABLE" <<'PY'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
head = ["measure", "korcluster", "baseline", "ratio", "goal", "met"]
w = [max(len(r[i]) for r in rows + [head]) for i in range(6)]
fmt = "  ".join("%%-%ds" % n for n in w)
print(fmt % tuple(head))
print(fmt % tuple("-" * n for n in w))
for r in rows:
    print(fmt % tuple(r))
goals = [r for r in rows if r[4] != "-"]
print("\n%d of %d goals met" % (sum(r[5] == "met" for r in goals), len(goals)))
PY
exit $rc
