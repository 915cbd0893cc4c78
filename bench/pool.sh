#!/usr/bin/env bash
# Benchmark: "new" taking an instance from the pool against "new" making
# one from scratch (its database, user, secrets and the template's setup),
# the two taking turns over BENCH_ROUNDS rounds (default 5) on one cluster
# of the sample app, after "pool --size" made that many ahead; medians.
# Run after tests/setup.sh and make.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
. "$REPO/bench/lib.sh"
if [ -x /usr/bin/docker ]; then DOCKER=/usr/bin/docker; else DOCKER=docker; fi
export KORCLUSTER_TEMPLATES=$REPO/templates
T=$(mktemp -d /tmp/korcluster-bench.XXXXXX)
NAME=bench$$
C=$T/c
BASE=${BENCH_PORT:-23000}
ROUNDS=${BENCH_ROUNDS:-5}
cleanup() {
	ids=$($DOCKER ps -aq --filter "label=korcluster.cluster=$NAME")
	[ -z "$ids" ] || $DOCKER rm -f $ids >/dev/null
	$DOCKER network rm "${NAME}_net" >/dev/null 2>&1 || true
	rm -rf "$T"
}
trap cleanup EXIT
now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc; }
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

"$REPO/cluster.sh" create "$C" --template sample --bind 127.0.0.1 "$NAME" >/dev/null
"$C/cluster.sh" boot >/dev/null
t0=$(now)
"$C/cluster.sh" pool --size "$ROUNDS" >/dev/null
fill=$(since "$t0")
: >"$T/scratch"
: >"$T/pooled"
for i in $(seq 1 "$ROUNDS"); do
	t0=$(now)
	"$C/cluster.sh" new --no-pool --port $((BASE + 2 * i)) "s$i" >"$T/out"
	since "$t0" >>"$T/scratch"
	t0=$(now)
	"$C/cluster.sh" new --port $((BASE + 2 * i + 1)) "p$i" >"$T/out"
	since "$t0" >>"$T/pooled"
	grep -q 'from the pool' "$T/out" || { echo "bench: p$i was not taken from the pool" >&2; exit 1; }
done
# Both kinds serve alike.
"$C/instances/p1/instance.sh" start >/dev/null
"$C/instances/s1/instance.sh" start >/dev/null
bench_note "pool: making $ROUNDS ahead" "$(printf '%.3f s' "$fill")"
bench_row "new from the pool (vs from scratch, median of $ROUNDS)" "$(median <"$T/pooled")" "$(median <"$T/scratch")" 0.2
