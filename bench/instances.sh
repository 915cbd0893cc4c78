#!/usr/bin/env bash
# Benchmark: starting instances, and reading the status of many, each next
# to a baseline measured in the same run:
# - one instance, start to its first 200, against `docker run` of the same
#   image with the same environment to its first 200 (medians of 5 rounds);
# - N instances (BENCH_INSTANCES, default "10 50": each N in turn) started
#   together to all answering 200 (the second of two rounds), against N web
#   and N worker `docker run`s started together to all webs answering 200;
#   a start that fails is counted, and any fails the benchmark;
# - with the N running: `cluster.sh status`, `status --json` and `list`
#   (median of 21 rounds, taking turns with the baseline), against one raw
#   listing of the engine's containers (GET /containers/json over its
#   socket, with curl).
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
NS=${BENCH_INSTANCES:-10 50}
IMAGE=127.0.0.1:5000/korcluster-test/sample:v1
SOCK=${DOCKER_HOST:-unix:///var/run/docker.sock}
SOCK=${SOCK#unix://}
floors() { $DOCKER ps -aq --filter "name=^${NAME}_floor" || true; }
cleanup() {
	ids="$($DOCKER ps -aq --filter "label=korcluster.cluster=$NAME") $(floors)"
	[ -z "${ids// /}" ] || $DOCKER rm -f $ids >/dev/null
	$DOCKER network rm "${NAME}_net" >/dev/null 2>&1 || true
	rm -rf "$T"
}
trap cleanup EXIT
now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc; }
# Poll url until 200, bounded (120 s).
first200() {
	for _ in $(seq 1 2400); do
		[ "$(curl -s -o /dev/null -w '%{http_code}' -m 2 "$1" || true)" = 200 ] && return 0
		sleep 0.05
	done
	echo "bench: $1 never answered 200" >&2
	return 1
}

"$REPO/cluster.sh" create "$C" --template sample --bind 127.0.0.1 "$NAME" >/dev/null
"$C/cluster.sh" boot >/dev/null

# One instance: start to the first 200 through the proxy.
"$C/cluster.sh" new --port "$BASE" one >/dev/null
"$C/instances/one/instance.sh" start >/dev/null
start_one() {
	local t0
	"$C/instances/one/instance.sh" stop >/dev/null
	t0=$(now)
	"$C/instances/one/instance.sh" start >/dev/null
	first200 "http://127.0.0.1:$BASE/health"
	since "$t0"
}
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# The floors run the same image with instance one's environment.
env_args=()
while IFS= read -r kv; do env_args+=(-e "$kv"); done < <($DOCKER inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "${NAME}_one_blue_web" | grep -E '^(DB_|REDIS_|DATA_DIR|QUEUE|SECRET_KEY_BASE)')
# floor N [worker]: N web containers (and as many workers) run together,
# until every web answers 200; prints the seconds.
floor() {
	local n=$1 workers=${2:-} t0 i ip
	t0=$(now)
	for i in $(seq 1 "$n"); do
		$DOCKER run -d --name "${NAME}_floor_web$i" --network "${NAME}_net" "${env_args[@]}" \
			-v "$C/instances/one/data/blue:/data" "$IMAGE" python3 /app/app.py web >/dev/null &
		[ -z "$workers" ] || $DOCKER run -d --name "${NAME}_floor_worker$i" --network "${NAME}_net" "${env_args[@]}" \
			-v "$C/instances/one/data/blue:/data" "$IMAGE" python3 /app/app.py worker >/dev/null &
	done
	wait
	for i in $(seq 1 "$n"); do
		ip=$($DOCKER inspect -f "{{.NetworkSettings.Networks.${NAME}_net.IPAddress}}" "${NAME}_floor_web$i")
		first200 "http://$ip:8000/health"
	done
	since "$t0"
	ids=$(floors)
	[ -z "$ids" ] || $DOCKER rm -f $ids >/dev/null
}
# Five rounds of each, taking turns; the medians are compared (one round
# of either varies by a tenth of a second or more).
for _ in 1 2 3 4 5; do
	start_one >>"$T/start1"
	floor 1 >>"$T/floor1"
done
start1=$(median <"$T/start1")
floor1=$(median <"$T/floor1")
bench_row "one instance: start to first 200 (vs docker run, median of 5)" "$start1" "$floor1" 1.5

# Start instances 1..N together; echo how many failed.
start_all() {
	local n=$1 i failed=0
	for i in $(seq 1 "$n"); do
		("$C/instances/i$i/instance.sh" start >/dev/null 2>"$T/err.$i"; echo $? >"$T/rc.$i") &
	done
	wait
	for i in $(seq 1 "$n"); do
		if [ "$(cat "$T/rc.$i")" = 0 ]; then
			first200 "http://127.0.0.1:$((BASE + i))/health" || failed=$((failed + 1))
		else
			failed=$((failed + 1))
			sed "s/^/i$i: /" "$T/err.$i" >&2
		fi
	done
	echo "$failed"
}
stop_all() {
	local i
	for i in $(seq 1 "$1"); do "$C/instances/i$i/instance.sh" stop >/dev/null 2>&1 & done
	wait
}
# Wait (bounded) until the engine finds every web container healthy: the
# floor's containers load the machine so much that checks run meanwhile
# may time out, and a failed check stays the verdict until the next one
# (health_interval later).
settled() {
	for _ in $(seq 1 240); do
		[ "$($DOCKER ps --filter "label=korcluster.cluster=$NAME" --filter health=starting -q | wc -l)" = 0 ] &&
			[ "$($DOCKER ps --filter "label=korcluster.cluster=$NAME" --filter health=unhealthy -q | wc -l)" = 0 ] && return 0
		sleep 0.5
	done
	echo "bench: instances still starting or unhealthy after 120 s" >&2
}

made=0
allfailed=0
for N in $NS; do
	# Instances made one after another (new takes the cluster's lock).
	t0=$(now)
	for i in $(seq $((made + 1)) "$N"); do
		"$C/cluster.sh" new --port $((BASE + i)) "i$i" >/dev/null
	done
	[ "$N" -le "$made" ] || bench_note "$((N - made)) more instances: new, one after another" "$(printf '%.1f s' "$(since "$t0")")"
	made=$((made > N ? made : N))
	stop_all "$made"
	failed1=$(start_all "$N")
	stop_all "$N"
	t0=$(now)
	failed2=$(start_all "$N")
	startN=$(since "$t0")
	floorN=$(floor "$N" workers)
	bench_row "$N instances: start together to all 200" "$startN" "$floorN" 1.5
	bench_note "$N instances: failed starts" "$failed1 and $failed2 of $N"
	allfailed=$((allfailed + failed1 + failed2))

	settled
	# Taking turns: with N started together, their healthchecks run
	# together too, a burst every health_interval.
	mapfile -t m < <(bench_medians 21 curl -s --unix-socket "$SOCK" -o /dev/null "http://docker/containers/json?all=1" \
		-- "$C/cluster.sh" status -- "$C/cluster.sh" status --json -- "$C/cluster.sh" list)
	[ "${#m[@]}" = 4 ]
	bench_row "$N instances: cluster.sh status" "${m[1]}" "${m[0]}" 2
	bench_row "$N instances: cluster.sh status --json" "${m[2]}" "${m[0]}" 2
	bench_row "$N instances: cluster.sh list" "${m[3]}" "${m[0]}" 2
	bench_note "$N instances: status --live (every health path asked)" "$(bench_median 11 "$C/cluster.sh" status --live) s"
done
[ "$allfailed" = 0 ]
