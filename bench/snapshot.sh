#!/usr/bin/env bash
# Snapshot and import of 1 GiB of instance data, next to KorCluster's
# pipeline on the same data in the same run:
#   snapshot: mysqldump | gzip > db.sql.gz; tar czf NAME.TS.VERSION.tar.gz
#   import:   tar xzf; zcat db.sql.gz | mysql
# Reports wall time, throughput, peak RSS and archive size of each, and the
# ratios.  Needs a machine set up by `make check` or `make demo`.
# Usage: bench/snapshot.sh [SIZE_MIB]   (default 1024; data files get 80 %,
# database rows 20 %)
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
TOTAL=${1:-1024}
if [ -x /usr/bin/docker ]; then DOCKER=/usr/bin/docker; else DOCKER=docker; fi
export KORCLUSTER_TEMPLATES=$REPO/templates
[ -x ./korcluster ] || make korcluster >/dev/null
. "$REPO/bench/lib.sh"

W=$(mktemp -d /var/tmp/korcluster-bench.XXXXXX)
NAME=b$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
C=$W/c
PORT=$((20000 + RANDOM % 10000))
cleanup() {
	ids=$($DOCKER ps -aq --filter "label=korcluster.cluster=$NAME")
	[ -z "$ids" ] || $DOCKER rm -f $ids >/dev/null
	$DOCKER network rm "${NAME}_net" >/dev/null 2>&1 || true
	rm -rf "$W"
}
[ -n "${KEEP:-}" ] || trap cleanup EXIT  # KEEP=1: leave it all for a look

# measure LABEL CMD...: runs CMD, records seconds and peak RSS (KiB, the
# largest of the process and its children) as $LABEL_s and $LABEL_rss.
measure() {
	local label=$1 out
	shift
	out=$(/usr/bin/time -f '%e %M' "$@" 2>&1 >/dev/null | tail -n 1)
	printf -v "${label}_s" '%s' "${out% *}"
	printf -v "${label}_rss" '%s' "${out#* }"
}
mib() { echo $(($(stat -c %s "$1") / 1048576)); }
ratio() { python3 -c "import sys; print('%.1f' % (float(sys.argv[1]) / float(sys.argv[2])))" "$1" "$2"; }

echo "== setting up: cluster $NAME, instance a, ${TOTAL} MiB of data"
"$REPO/cluster.sh" create "$C" --template sample --bind 127.0.0.1 "$NAME" >/dev/null
"$C/cluster.sh" boot >/dev/null
"$C/cluster.sh" new --port "$PORT" a >/dev/null
D=$C/instances/a/data/blue
DB=${NAME}_db
PW=$(cat "$C/secrets/db_root_password")
sql() { $DOCKER exec -i -e MYSQL_PWD="$PW" "$DB" mariadb -uroot -h127.0.0.1 "$@"; }

# Files: half incompressible (random), half text (random words: about 3:1).
FILES=$((TOTAL * 8 / 10))
mkdir -p "$D/items/random" "$D/items/text"
for i in $(seq 1 $((FILES / 2 / 4))); do
	head -c $((4 << 20)) /dev/urandom >"$D/items/random/$i.bin"
done
python3 - "$D/items/text" $((FILES / 2)) <<'PY'
import os, random, sys
d, mib = sys.argv[1], int(sys.argv[2])
words = [("".join(random.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(random.randint(2, 11))))
         for _ in range(5000)]
for i in range(mib * 4):  # 256 KiB files
    with open(os.path.join(d, "%d.txt" % i), "w") as f:
        n = 0
        while n < 256 * 1024:
            line = " ".join(random.choice(words) for _ in range(12)) + "\n"
            f.write(line)
            n += len(line)
PY
# Rows: ~1 KiB each, hex digests and words (about 2:1).
ROWS=$((TOTAL * 2 / 10 * 1024))
sql a_blue -e "INSERT INTO items (body, processed)
  SELECT CONCAT(REPEAT(CONCAT(MD5(seq), ' ', SHA1(seq), ' item ', seq, ' '), 12)), 1
  FROM seq_1_to_${ROWS}"
echo "data: $(du -sm "$D" | cut -f1) MiB of files, ${ROWS} rows"
sync

echo "== the limit: the dump alone, and the files alone through the same compressor"
# The dump into /dev/null inside the database container: through the
# engine's output relay it would take several times as long.
dump_alone="$DOCKER exec -e MYSQL_PWD='$PW' '$DB' sh -c 'mariadb-dump -uroot -h127.0.0.1 --single-transaction --quick --hex-blob a_blue >/dev/null'"
files_alone="tar -cf - -C '$D' . | zstd -q -1 -T$(nproc) >/dev/null"
measure ldump bash -c "$dump_alone"
measure lfiles bash -c "$files_alone"
# Both at once, as a snapshot runs them: they share the machine's cores.
measure lboth bash -c "$dump_alone & $files_alone; wait"
echo "dump alone ${ldump_s} s; files through zstd -1 alone ${lfiles_s} s; both at once ${lboth_s} s ($(nproc) cores)"

echo "== korcluster"
"$C/instances/a/instance.sh" start >/dev/null
"$C/instances/a/instance.sh" snapshot -o "$W/kc.tar.zst" >"$W/snap.out"
rm -f "$W/kc.tar.zst"
"$C/instances/a/instance.sh" stop >/dev/null
measure snap "$C/instances/a/instance.sh" snapshot -o "$W/kc.tar.zst"
measure snapgz "$C/instances/a/instance.sh" snapshot --gzip -o "$W/kc.tar.gz"
"$C/instances/a/instance.sh" start >/dev/null
measure imp bash -c "'$C/instances/a/instance.sh' import '$W/kc.tar.zst' >'$W/imp.out'"
# Fixed costs: an empty instance's snapshot, served (writes held), against
# one dump of its empty database through the engine's exec.
"$C/cluster.sh" new --port $((PORT + 1)) e >/dev/null
"$C/instances/e/instance.sh" start >/dev/null
"$C/instances/e/instance.sh" snapshot -o "$W/e1.tar.zst" >/dev/null
empty=$(bench_median 5 bash -c "rm -f '$W/e.tar.zst'; '$C/instances/e/instance.sh' snapshot -o '$W/e.tar.zst'")
edump=$(bench_median 5 $DOCKER exec -e MYSQL_PWD="$PW" "$DB" mariadb-dump -uroot -h127.0.0.1 --single-transaction e_blue)
eheld=$("$C/instances/e/instance.sh" snapshot -o "$W/e2.tar.zst" | sed -n 's/.*writes held \([0-9.]*\) s.*/\1/p')
bigheld=$(sed -n 's/.*writes held \([0-9.]*\) s.*/\1/p' "$W/snap.out")
echo "snapshot (zstd): ${snap_s} s, peak RSS $((snap_rss / 1024)) MiB, $(mib "$W/kc.tar.zst") MiB"
echo "snapshot (gzip): ${snapgz_s} s, peak RSS $((snapgz_rss / 1024)) MiB, $(mib "$W/kc.tar.gz") MiB"
echo "import (zstd, verify + restore + switch): ${imp_s} s, peak RSS $((imp_rss / 1024)) MiB"

echo "== KorCluster's pipeline"
K=$W/kor/a
mkdir -p "$K"
cp -al "$D" "$K/data"
echo v1 >"$K/version.txt"
measure ksnap bash -c "
	$DOCKER exec -e MYSQL_PWD='$PW' '$DB' mysqldump -uroot -h127.0.0.1 a_blue | gzip -c >'$K/db.sql.gz'
	tar czf '$W/a.20250101_000000.v1.tar.gz' -C '$K' ."
rm -rf "$K"
mkdir -p "$W/kimp"
sql -e "CREATE DATABASE kimp"
measure kimp bash -c "
	tar xzf '$W/a.20250101_000000.v1.tar.gz' -C '$W/kimp'
	zcat '$W/kimp/db.sql.gz' | $DOCKER exec -i -e MYSQL_PWD='$PW' '$DB' mariadb -uroot -h127.0.0.1 kimp"
echo "snapshot: ${ksnap_s} s, peak RSS $((ksnap_rss / 1024)) MiB, $(mib "$W/a.20250101_000000.v1.tar.gz") MiB"
echo "import: ${kimp_s} s, peak RSS $((kimp_rss / 1024)) MiB"

raw=$(($(du -sm "$D" | cut -f1) + $(tar --zstd -xOf "$W/kc.tar.zst" --wildcards 'db/*' | wc -c) / 1048576))
echo "== results (${raw} MiB of data and dump)"
echo "snapshot: korcluster $(ratio "$raw" "$snap_s") MiB/s, pipeline $(ratio "$raw" "$ksnap_s") MiB/s: $(ratio "$ksnap_s" "$snap_s")x faster"
echo "import:   korcluster $(ratio "$raw" "$imp_s") MiB/s, pipeline $(ratio "$raw" "$kimp_s") MiB/s: $(ratio "$kimp_s" "$imp_s")x faster"
echo "peak RSS: korcluster snapshot $((snap_rss / 1024)) MiB, import $((imp_rss / 1024)) MiB"
echo "size: zstd $(mib "$W/kc.tar.zst") MiB, gzip (ours) $(mib "$W/kc.tar.gz") MiB, pipeline $(mib "$W/a.20250101_000000.v1.tar.gz") MiB" \
	"(ratio to pipeline: $(ratio "$(stat -c %s "$W/kc.tar.zst")" "$(stat -c %s "$W/a.20250101_000000.v1.tar.gz")"))"

limit=$(python3 -c "import sys; print(max(float(sys.argv[1]), float(sys.argv[2])))" "$ldump_s" "$lfiles_s")
bench_row "snapshot ${TOTAL} MiB (vs KorCluster's pipeline)" "$snap_s" "$ksnap_s" 0.1
bench_row "snapshot ${TOTAL} MiB (vs the limit: dump or files alone)" "$snap_s" "$limit" 1.3
bench_note "snapshot ${TOTAL} MiB: the dump and the files at once, without korcluster" "${lboth_s} s on $(nproc) cores"
bench_row "import ${TOTAL} MiB (vs KorCluster's pipeline)" "$imp_s" "$kimp_s" 0.333
imp_restore=$(sed -n 's/^restored .* in \([0-9.]*\) s$/\1/p' "$W/imp.out")
imp_switch=$(sed -n 's/.* started and switched in \([0-9.]*\) s .*/\1/p' "$W/imp.out")
bench_note "import ${TOTAL} MiB: where the time goes" "restore ${imp_restore} s (the load and the files at once), \
start and switch ${imp_switch} s, the rest (checks, archiving the inactive environment, stopping the old one) \
$(python3 -c "import sys; print('%.1f' % (float(sys.argv[1]) - float(sys.argv[2]) - float(sys.argv[3])))" "$imp_s" "$imp_restore" "$imp_switch") s"
bench_row "import ${TOTAL} MiB: peak RSS (vs 64 MiB)" "$((imp_rss / 1024))" 64 1 MiB
bench_row "snapshot of an empty instance (vs one mariadb-dump)" "$empty" "$edump" 2
bench_row "snapshot: writes held, empty instance (vs 0.2 s)" "$eheld" 0.2 1
bench_row "snapshot: writes held, ${TOTAL} MiB (vs 0.2 s)" "$bigheld" 0.2 1
