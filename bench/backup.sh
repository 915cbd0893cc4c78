#!/usr/bin/env bash
# Benchmark: off-site backups, on one instance of the sample app holding
# SIZE_MIB of data (default 256: incompressible files and database rows),
# to OpenSSH's sshd on 127.0.0.1 (SFTP):
#   - "backup push" (a snapshot taken online, sealed and sent: max_age is 1 s
#     so each push takes its own) against "instance.sh snapshot" alone, the
#     two taking turns over BENCH_ROUNDS rounds (default 3); medians, and
#     the push's throughput in MiB of snapshot a second;
#   - "korcluster restore-cluster" of the whole cluster into a new folder
#     (boot, fetch, open, restore, serve) against "instance.sh import" of
#     the same snapshot alone (restore into the inactive environment, start,
#     switch); medians.
# Run after tests/setup.sh and make.  Usage: bench/backup.sh [SIZE_MIB]
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
. "$REPO/bench/lib.sh"
if [ -x /usr/bin/docker ]; then DOCKER=/usr/bin/docker; else DOCKER=docker; fi
export KORCLUSTER_TEMPLATES=$REPO/templates
SIZE=${1:-256}
ROUNDS=${BENCH_ROUNDS:-3}
T=$(mktemp -d /var/tmp/korcluster-bench.XXXXXX)
NAME=bk$$
C=$T/c
PORT=${BENCH_PORT:-23500}
SP=$((PORT + 1))
cleanup() {
	ids=$($DOCKER ps -aq --filter "label=korcluster.cluster=$NAME")
	[ -z "$ids" ] || $DOCKER rm -f $ids >/dev/null
	$DOCKER network rm "${NAME}_net" >/dev/null 2>&1 || true
	"$REPO/tests/lib/sshd.sh" stop "$T"
	rm -rf "$T"
}
[ -n "${KEEP:-}" ] || trap cleanup EXIT  # KEEP=1: leave it all for a look
now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc; }
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# The SFTP server, and the cluster's login to it.
mkdir -p "$T/store"
"$REPO/tests/lib/sshd.sh" start "$T" "$SP"
URL=sftp://root@127.0.0.1:$SP$T/store
login() { "$REPO/tests/lib/sshd.sh" login "$T" "$SP" "$1"; }

echo "== setting up: cluster $NAME, instance a, $SIZE MiB of data"
"$REPO/cluster.sh" create "$C" --template sample --bind 127.0.0.1 "$NAME" >/dev/null
"$C/cluster.sh" boot >/dev/null
"$C/cluster.sh" new --port "$PORT" a >/dev/null
D=$C/instances/a/data/blue
mkdir -p "$D/items"
for i in $(seq 1 $((SIZE * 8 / 10 / 4))); do head -c $((4 << 20)) /dev/urandom >"$D/items/$i.bin"; done
PW=$(cat "$C/secrets/db_root_password")
python3 - $((SIZE * 2 / 10)) <<'PY' | $DOCKER exec -i -e MYSQL_PWD="$PW" "${NAME}_db" mariadb -uroot -h127.0.0.1 a_blue
import os, sys
print("CREATE TABLE bench (id INT PRIMARY KEY, body TEXT);")
# Rows of 1 KiB (hex of random bytes), 64 to an INSERT.
for i in range(int(sys.argv[1]) * 1024 // 64):
    print("INSERT INTO bench VALUES %s;" % ",".join("(%d,'%s')" % (i * 64 + j, os.urandom(512).hex()) for j in range(64)))
PY
"$C/instances/a/instance.sh" start >/dev/null
login "$C"
printf '\n[backup]\ntarget = %s\nmax_age = 1s\n' "$URL" >>"$C/cluster.ini"
"$C/cluster.sh" backup push >"$T/first" # the key, and a first copy
phrase=$(sed -n 's/^    \(\([0-9a-f]\{4\}-\)\{15\}[0-9a-f]\{4\}\)$/\1/p' "$T/first")

echo "== push against snapshot alone, $ROUNDS rounds"
: >"$T/push"
: >"$T/snap"
for _ in $(seq 1 "$ROUNDS"); do
	sleep 2 # older than max_age: the push takes its own snapshot
	t0=$(now)
	"$C/instances/a/instance.sh" snapshot >/dev/null
	since "$t0" >>"$T/snap"
	sleep 2
	t0=$(now)
	"$C/cluster.sh" backup push >"$T/out"
	since "$t0" >>"$T/push"
	grep -q 'took a snapshot of "a"' "$T/out" || { echo "bench: the push took no snapshot" >&2; exit 1; }
done
snapfile=$(ls -t "$C"/snapshots/a.*.tar.zst | head -1)
mib=$(echo "$(stat -c %s "$snapfile") / 1048576" | bc -l)
push=$(median <"$T/push")
bench_note "backup: snapshot size" "$(printf '%.0f MiB' "$mib")"
bench_note "backup push: throughput (snapshot MiB / push s)" "$(printf '%.1f MiB/s' "$(echo "$mib / $push" | bc -l)")"
bench_row "backup push (vs instance.sh snapshot alone)" "$push" "$(median <"$T/snap")" 2

echo "== restore-cluster against import alone, $ROUNDS rounds"
: >"$T/import"
: >"$T/restore"
newest=$(basename "$(ls -t "$C"/snapshots/a.*.tar.zst | head -1)")
cp "$C/snapshots/$newest" "$T/snapshot.tar.zst"
for i in $(seq 1 "$ROUNDS"); do
	t0=$(now)
	"$C/instances/a/instance.sh" import "$T/snapshot.tar.zst" >/dev/null
	since "$t0" >>"$T/import"
	# The host is lost (containers and network gone), then rebuilt from the
	# target into a new folder, which stays the cluster for the next round.
	"$C/cluster.sh" shutdown >/dev/null
	$DOCKER network rm "${NAME}_net" >/dev/null 2>&1 || true
	R=$T/r$i
	login "$R"
	t0=$(now)
	echo "$phrase" | "$REPO/korcluster" restore-cluster "$URL" "$R" >"$T/out"
	since "$t0" >>"$T/restore"
	curl -fsS -m 10 "http://127.0.0.1:$PORT/items" >/dev/null
	rm -rf "$C"
	C=$R
done
bench_row "restore-cluster (vs instance.sh import alone)" "$(median <"$T/restore")" "$(median <"$T/import")" 3
