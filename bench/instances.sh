#!/usr/bin/env bash
# Benchmark: time from `new` to the first 200, and from `start` to the first
# 200, for one instance and for N started together (BENCH_INSTANCES, default
# ten; each start's failure is counted), each against the floor
# measured in the same run: `docker run` of the same image, with the same
# environment, to its first 200.  Run after tests/setup.sh and make.
# Prints one line per measure with its ratio to the floor.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
if [ -x /usr/bin/docker ]; then DOCKER=/usr/bin/docker; else DOCKER=docker; fi
export KORCLUSTER_TEMPLATES=$REPO/templates
T=$(mktemp -d /tmp/korcluster-bench.XXXXXX)
NAME=bench$$
C=$T/c
BASE=${BENCH_PORT:-23000}
N=${BENCH_INSTANCES:-10}
cleanup() {
	ids=$($DOCKER ps -aq --filter "label=korcluster.cluster=$NAME")
	[ -z "$ids" ] || $DOCKER rm -f $ids >/dev/null
	$DOCKER rm -f "${NAME}_floor" >/dev/null 2>&1 || true
	$DOCKER network rm "${NAME}_net" >/dev/null 2>&1 || true
	rm -rf "$T"
}
trap cleanup EXIT
now() { date +%s.%N; }
# Poll url until 200, bounded (60 s).
first200() {
	for _ in $(seq 1 1200); do
		[ "$(curl -s -o /dev/null -w '%{http_code}' -m 2 "$1" || true)" = 200 ] && return 0
		sleep 0.05
	done
	echo "bench: $1 never answered 200" >&2
	return 1
}
ratio() { python3 -c "import sys; a,b=float(sys.argv[1]),float(sys.argv[2]); print(f'{a:7.2f} s   {a/b:5.2f}x floor')" "$1" "$2"; }

"$REPO/cluster.sh" create "$C" --template sample --bind 127.0.0.1 "$NAME" >/dev/null
"$C/cluster.sh" boot >/dev/null

# One instance: new + start to the first 200 through the proxy.
t0=$(now)
"$C/cluster.sh" new --port "$BASE" one >/dev/null
"$C/instances/one/instance.sh" start >/dev/null
first200 "http://127.0.0.1:$BASE/health"
new1=$(echo "$(now) - $t0" | bc)
"$C/instances/one/instance.sh" stop >/dev/null
t0=$(now)
"$C/instances/one/instance.sh" start >/dev/null
first200 "http://127.0.0.1:$BASE/health"
start1=$(echo "$(now) - $t0" | bc)

# The floor: docker run of the same image with the same environment.
env_args=()
while IFS= read -r kv; do env_args+=(-e "$kv"); done < <($DOCKER inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "${NAME}_one_blue_web" | grep -E '^(DB_|REDIS_|DATA_DIR|QUEUE|SECRET_KEY_BASE)')
floor_total=0
for i in 1 2 3; do
	t0=$(now)
	$DOCKER run -d --name "${NAME}_floor" --network "${NAME}_net" "${env_args[@]}" \
		-v "$C/instances/one/data/blue:/data" 127.0.0.1:5000/korcluster-test/sample:v1 \
		python3 /app/app.py web >/dev/null
	ip=$($DOCKER inspect -f "{{.NetworkSettings.Networks.${NAME}_net.IPAddress}}" "${NAME}_floor")
	first200 "http://$ip:8000/health"
	floor_total=$(echo "$floor_total + $(now) - $t0" | bc)
	$DOCKER rm -f "${NAME}_floor" >/dev/null
done
floor=$(echo "scale=3; $floor_total / 3" | bc)

# N instances: made one after another (new takes the cluster's lock), then
# started together, twice; a start that fails is counted.
t0=$(now)
for i in $(seq 1 "$N"); do
	"$C/cluster.sh" new --port $((BASE + i)) "i$i" >/dev/null
done
newN=$(echo "$(now) - $t0" | bc)
# Start all N together; echo how many failed.
start_all() {
	for i in $(seq 1 "$N"); do
		("$C/instances/i$i/instance.sh" start >/dev/null 2>"$T/err.$i"; echo $? >"$T/rc.$i") &
	done
	wait
	local failed=0
	for i in $(seq 1 "$N"); do
		if [ "$(cat "$T/rc.$i")" = 0 ]; then
			first200 "http://127.0.0.1:$((BASE + i))/health" || failed=$((failed + 1))
		else
			failed=$((failed + 1))
			sed "s/^/i$i: /" "$T/err.$i" >&2
		fi
	done
	echo "$failed"
}
t0=$(now)
failed1=$(start_all)
startN=$(echo "$(now) - $t0" | bc)
for i in $(seq 1 "$N"); do "$C/instances/i$i/instance.sh" stop >/dev/null 2>&1 & done
wait
t0=$(now)
failed2=$(start_all)
restartN=$(echo "$(now) - $t0" | bc)

echo "floor: docker run to first 200              $(printf '%7.2f' "$floor") s"
echo "one instance, new+start to first 200        $(ratio "$new1" "$floor")"
echo "one instance, start to first 200            $(ratio "$start1" "$floor")"
printf '%-44s %s\n' "$N instances, new one after another" "$(ratio "$newN" "$floor")"
printf '%-44s %s\n' "$N instances, new+start to all 200" "$(ratio "$(echo "$newN + $startN" | bc)" "$floor")"
printf '%-44s %s\n' "$N instances, start together to all 200" "$(ratio "$restartN" "$floor")"
printf '%-44s %s\n' "$N instances, per instance (start together)" "$(ratio "$(echo "scale=3; $restartN / $N" | bc)" "$floor")"
echo "failed starts: $failed1 of $N, then $failed2 of $N"
[ "$failed1" = 0 ] && [ "$failed2" = 0 ]
