#!/usr/bin/env bats
# Hostile snapshots and configuration against the real engine and MariaDB:
# an archive someone hands an operator restores one instance, or nothing.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	kc_setup
	kc_ports
}
teardown() { kc_teardown; }

# A snapshot of instance a, extracted into $T/x.
snap_x() {
	"$C/instances/a/instance.sh" snapshot -o "$T/good.tar.zst" >/dev/null
	mkdir -p "$T/x"
	tar --zstd -xf "$T/good.tar.zst" -C "$T/x"
}

@test "a dump that reads host files, switches, creates or names other databases is refused; the serving environment never changes" {
	with_items
	"$C/cluster.sh" new --port "$P2" axb >/dev/null
	snap_x
	before=$(fingerprint a)
	n=0
	while IFS= read -r stmt; do
		n=$((n + 1))
		printf '%b\n' "$stmt" >"$T/evil$n.sql"
		python3 "$TOOL" hostile sql "$T/x" "$T/evil$n.tar.gz" "$T/evil$n.sql"
		run -1 "$C/instances/a/instance.sh" import "$T/evil$n.tar.gz" </dev/null
		echo "$n: $output"
		[[ "$output" == *"refusing archive"*"checking the database dump: "*"the dump "* ]]
		kc_unchanged a "$before"
	done <<'SQL'
LOAD DATA LOCAL INFILE '/etc/hostname' INTO TABLE items;
/*!50000 LOAD DATA LOCAL INFILE '/etc/hostname' INTO TABLE items */;
SELECT * FROM items INTO OUTFILE '/tmp/korcluster-out';
/*!99999 SELECT 1 */ USE axb_blue;
/*!50700 x */ CREATE DATABASE other;
/*!50700 x */ DROP DATABASE axb_blue;
--\x01 a comment to the server\nUSE axb_blue;
CREATE TABLE t (a int);\n/*M!999999\\- x */ DROP DATABASE axb_blue;
INSERT INTO items SELECT * FROM axb_blue.items;
INSERT INTO items (body) SELECT User FROM mysql.user;
SET sql_mode = 'NO_BACKSLASH_ESCAPES';
SQL
	[ "$n" = 11 ]
	# Nothing reached the other instance or this host.
	[ "$(kc_sql "SELECT COUNT(*) FROM axb_blue.items")" = 0 ]
	[ -z "$(kc_sql "SHOW DATABASES LIKE 'other'")" ]
	[ ! -e /tmp/korcluster-out ]
	run -0 "$C/cluster.sh" destroy --yes a
}

@test "instance a_b's database user reaches its own databases only, not axb's; an old wide grant is narrowed" {
	kc_boot
	"$C/cluster.sh" new --port "$P1" a_b >/dev/null
	"$C/cluster.sh" new --port "$P2" axb >/dev/null
	"$C/instances/axb/instance.sh" start >/dev/null
	kc_post "$P2" "only axb's" >/dev/null
	[ "$(kc_sql_as a_b 'SELECT COUNT(*) FROM a_b_blue.items')" = 0 ]
	for db in axb_blue axb_green; do
		run kc_sql_as a_b "SELECT COUNT(*) FROM $db.items"
		[ "$status" -ne 0 ]
		[[ "$output" == *"denied"* ]]
	done
	run kc_sql_as a_b "DROP DATABASE axb_blue"
	[ "$status" -ne 0 ]
	[ "$(kc_sql "SELECT GROUP_CONCAT(REPLACE(Db, CHAR(92), '^') ORDER BY Db) FROM mysql.db WHERE User = 'a_b'")" = \
		'a^_b^_blue,a^_b^_green' ]
	# As an earlier korcluster granted it: "_" a wildcard, axb readable.
	kc_sql "REVOKE ALL PRIVILEGES ON \`a\\_b\\_blue\`.* FROM 'a_b'@'%'; GRANT ALL PRIVILEGES ON \`a_b_blue\`.* TO 'a_b'@'%'"
	[ "$(kc_sql_as a_b 'SELECT COUNT(*) FROM axb_blue.items')" = 1 ]
	run -0 "$C/instances/a_b/instance.sh" start
	[[ "$output" == *"was granted other instances' databases too"* ]]
	run kc_sql_as a_b 'SELECT COUNT(*) FROM axb_blue.items'
	[ "$status" -ne 0 ]
	[ "$(kc_sql_as a_b 'SELECT COUNT(*) FROM a_b_blue.items')" = 0 ]
	# An import's loading user, seen while it loads: its grant is narrow too.
	"$C/instances/a_b/instance.sh" snapshot -o "$T/s.tar.zst" >/dev/null
	run -0 python3 "$TOOL" killat "restoring into environment" "$C/instances/a_b/instance.sh" import "$T/s.tar.zst"
	[ "$(kc_sql "SELECT GROUP_CONCAT(REPLACE(Db, CHAR(92), '^')) FROM mysql.db WHERE User LIKE 'kcload\\_%'")" = \
		'a^_b^_green' ]
	# The next command drops what the killed one left.
	run -0 "$C/instances/a_b/instance.sh" status
	[ "$(kc_sql "SELECT COUNT(*) FROM mysql.user WHERE User LIKE 'kcload\\_%'")" = 0 ]
	[ "$(kc_get "$P2" / | kc_json 'd["items"]')" = 1 ]
	# What a killed snapshot of a_b left is a_b's to clear, not a's.
	P3=$((P1 + 2))
	"$C/cluster.sh" new --port "$P3" a >/dev/null
	mkdir "$C/snapshots/.dump-a_b_blue-abcdefgh" "$C/snapshots/.dump-a_blue-abcdefgh"
	mkfifo -m 600 "$C/services/db/.korcluster-dump-a_b_blue-abcdefgh" "$C/services/db/.korcluster-dump-a_blue-abcdefgh.go"
	run -0 "$C/instances/a/instance.sh" status
	[ -d "$C/snapshots/.dump-a_b_blue-abcdefgh" ]
	[ ! -e "$C/snapshots/.dump-a_blue-abcdefgh" ]
	[ -p "$C/services/db/.korcluster-dump-a_b_blue-abcdefgh" ]
	[ ! -e "$C/services/db/.korcluster-dump-a_blue-abcdefgh.go" ]
	rm "$C/services/db/.korcluster-dump-a_b_blue-abcdefgh"
}

@test "a dump's load is bounded in time and in size, and the live environment takes writes meanwhile" {
	with_items
	snap_x
	printf 'CREATE TABLE slow (a int);\nINSERT INTO slow VALUES (SLEEP(60));\n' >"$T/slow.sql"
	python3 "$TOOL" hostile sql "$T/x" "$T/slow.tar.gz" "$T/slow.sql"
	printf '\n[limits]\nload_timeout = 3\n' >>"$C/cluster.ini"
	"$C/instances/a/instance.sh" import "$T/slow.tar.gz" >"$T/slow.out" 2>&1 3>&- &
	pid=$!
	for _ in $(seq 1 100); do
		grep -q "restoring into" "$T/slow.out" && break
		sleep 0.1
	done
	SECONDS=0
	sleep 0.5
	# Writes are not held while the dump loads.
	id=$(kc_post "$P1" "during the load" | kc_json 'd["id"]')
	rc=0
	wait "$pid" || rc=$?
	cat "$T/slow.out"
	[ "$rc" = 1 ]
	[ "$SECONDS" -lt 20 ]
	[[ "$(cat "$T/slow.out")" == *"the load took longer than 3 s ([limits] load_timeout)"* ]]
	[ "$(kc_get "$P1" "/items/$id" | kc_json 'd["body"]')" = "during the load" ]
	before=$(fingerprint a)
	kc_unchanged a "$before"
	# Size: a cross join that would write a gigabyte stops at the bound.
	python3 -c '
print("CREATE TABLE seq (n int);")
print("INSERT INTO seq VALUES " + ",".join("(%d)" % i for i in range(100)) + ";")
print("CREATE TABLE big (s TEXT);")
print("INSERT INTO big SELECT REPEAT(\"x\", 1000) FROM seq a, seq b, seq c;")' >"$T/big.sql"
	python3 "$TOOL" hostile sql "$T/x" "$T/big.tar.gz" "$T/big.sql"
	sed -i 's/^load_timeout = 3$/load_timeout = 120\nload_growth = 1/' "$C/cluster.ini"
	SECONDS=0
	run -1 "$C/instances/a/instance.sh" import "$T/big.tar.gz"
	echo "$output"
	[[ "$output" == *"the database grew past "*" MiB, more than its dump can make ([limits] load_growth)"* ]]
	[ "$SECONDS" -lt 60 ]
	kc_unchanged a "$before"
}

@test "links out of data/ (judged where they land, chains too), members below links, long names and deep trees are refused" {
	with_items
	snap_x
	before=$(fingerprint a)
	declare -A why=([linkout]='symlink "data/x" points out of data/ ("../blue")'
		[chain]='symlink "data/x" points out of data/ ("a/b/up/../../../../secrets/db_root_password")'
		[under]='"data/dir/escaped.txt" lies below the symlink "data/dir"'
		[longname]='has a name longer than 1024 bytes' [deep]='more than 128 folders deep')
	for kind in linkout chain under longname deep; do
		python3 "$TOOL" hostile "$kind" "$T/x" "$T/$kind.tar.gz"
		run -1 "$C/instances/a/instance.sh" import "$T/$kind.tar.gz"
		echo "$kind: $output"
		[[ "$output" == *"refusing archive"*"${why[$kind]}"* ]]
		kc_unchanged a "$before"
	done
	# KorCluster's format, with a top folder: top/data/ini lands as data/ini.
	python3 "$TOOL" legacy toplink "$T/x" "$T/a.20250101_120000.v1.tar.gz"
	run -1 "$C/instances/a/instance.sh" import "$T/a.20250101_120000.v1.tar.gz"
	echo "$output"
	[[ "$output" == *'symlink "data/ini" points out of data/ ("../../instance.ini")'* ]]
	kc_unchanged a "$before"
	[ -z "$(find "$C" -name escaped.txt)" ]
	run -0 "$C/cluster.sh" destroy --yes a
}

@test "the archive is read from one open file: replacing it once it is opened restores what was opened" {
	with_items
	snap_x
	before=$(fingerprint a)
	cp "$T/good.tar.zst" "$T/in.tar.zst"
	python3 "$TOOL" craft symlink "$T/x" "$T/evil.tar.gz"
	run -0 python3 "$TOOL" swapat "restoring into environment" "$T/evil.tar.gz" "$T/in.tar.zst" \
		"$C/instances/a/instance.sh" import "$T/in.tar.zst"
	echo "$output"
	# The path now holds the other archive; what was restored is the first.
	run ! cmp -s "$T/good.tar.zst" "$T/in.tar.zst"
	[ "$(env_of a)" = green ]
	[ ! -L "$C/instances/a/data/green/items/evil" ]
	[ "$(fingerprint a)" = "$before" ]
}

@test "an archive that unpacks far beyond its size is refused at once; runs of zeros are restored as holes" {
	with_items
	# KorCluster's format: 4 GiB of zeros in a few hundred bytes.
	mkdir -p "$T/bomb/top/data"
	echo "-- an empty database" | gzip -c >"$T/bomb/top/db.sql.gz"
	truncate -s 4G "$T/bomb/top/data/zeros"
	tar --sparse -czf "$T/a.20250101_120000.v1.tar.gz" -C "$T/bomb" top
	[ "$(stat -c %s "$T/a.20250101_120000.v1.tar.gz")" -lt 4096 ]
	before=$(fingerprint a)
	SECONDS=0
	run -1 "$C/instances/a/instance.sh" import "$T/a.20250101_120000.v1.tar.gz"
	echo "$output"
	[[ "$output" == *"it unpacks to more than 1000 times its own "*" bytes ([limits] unpack_ratio)"* ]]
	[ "$SECONDS" -lt 10 ]
	kc_unchanged a "$before"
	# A file of zeros but at its ends, snapshotted and imported: its holes stay.
	f=$C/instances/a/data/blue/sparse
	truncate -s 64M "$f"
	printf head | dd of="$f" conv=notrunc status=none
	printf tail | dd of="$f" bs=1 seek=$((64 * 1024 * 1024 - 4)) conv=notrunc status=none
	"$C/instances/a/instance.sh" snapshot -o "$T/s.tar.zst" >/dev/null
	run -0 "$C/instances/a/instance.sh" import "$T/s.tar.zst"
	g=$C/instances/a/data/green/sparse
	cmp "$f" "$g"
	[ "$(stat -c %s "$g")" = $((64 << 20)) ]
	[ $(($(stat -c %b "$g") * 512)) -lt $((1 << 20)) ]
}

@test "a statement longer than the server takes is refused with little memory; manifests that list a member twice, and members out of place, are refused" {
	with_items
	snap_x
	before=$(fingerprint a)
	python3 "$TOOL" legacy bigstatement "$T/x" "$T/a.20250101_120000.v1.tar.gz"
	run -1 python3 "$TOOL" peakrss "$C/instances/a/instance.sh" import "$T/a.20250101_120000.v1.tar.gz"
	echo "$output"
	[[ "$output" == *"statement longer than 16777216 bytes"* ]]
	peak=$(echo "$output" | sed -n 's/^peak \([0-9]*\) MiB$/\1/p')
	[ "$peak" -lt 100 ]
	kc_unchanged a "$before"
	declare -A why=([dupmanifest]='manifest.json lists "data/' [extragz]='archive member "db.sql.gz" has no place in a korcluster snapshot')
	for kind in dupmanifest extragz; do
		python3 "$TOOL" hostile "$kind" "$T/x" "$T/$kind.tar.gz"
		run -1 "$C/instances/a/instance.sh" import "$T/$kind.tar.gz"
		echo "$kind: $output"
		[[ "$output" == *"refusing archive"*"${why[$kind]}"* ]]
		kc_unchanged a "$before"
	done
}

@test "a tree too deep to remove by path, left by an earlier import, goes with the next command; destroy works" {
	with_items
	deep() {
		python3 -c '
import os, sys
os.makedirs(sys.argv[1])
os.chdir(sys.argv[1])
for i in range(30):
    os.mkdir("d" * 200)
    os.chdir("d" * 200)
open("f", "w").write("x")' "$1"
	}
	deep "$C/instances/a/data/green.import"
	run -0 "$C/instances/a/instance.sh" status
	[ ! -e "$C/instances/a/data/green.import" ]
	deep "$C/instances/a/data/green/tree"
	run -0 "$C/cluster.sh" destroy --yes a
	[ ! -e "$C/instances/a" ]
}

@test "configuration is read whole: NUL bytes, image references with \"..\", control characters, long section names" {
	kc_create
	cp "$C/cluster.ini" "$T/cluster.ini"
	printf '\n[limits]\nload_timeout = 1h\000 evil\n' >>"$C/cluster.ini"
	run -1 "$C/cluster.sh" validate
	[[ "$output" == *"the line holds a NUL byte"* ]]
	cp "$T/cluster.ini" "$C/cluster.ini"
	sed -i 's|^db = .*|db = a/../../containers/x_db|' "$C/cluster.ini"
	run -1 "$C/cluster.sh" validate
	[[ "$output" == *'image reference "a/../../containers/x_db" is malformed'* ]]
	cp "$T/cluster.ini" "$C/cluster.ini"
	printf '\n[limits_for_a_cluster_that_has_a_very_long_section_name]\n' >>"$C/cluster.ini"
	run -1 "$C/cluster.sh" validate
	[[ "$output" == *'section name "limits_for_a_cluster..." is longer than 49 characters'* ]]
	cp "$T/cluster.ini" "$C/cluster.ini"
	run -1 "$REPO/cluster.sh" create --template sample "$T/a
b"
	[[ "$output" == *"a folder name with a control character"* ]]
	[ ! -e "$T/a
b" ]
	# What is printed comes from checked fields only.
	"$C/cluster.sh" boot >/dev/null
	"$C/cluster.sh" new --port "$P1" a >/dev/null
	sed -i 's/^created = .*/created = \x1b[2Jcleared/' "$C/instances/a/instance.ini"
	run -1 "$C/instances/a/instance.sh" envs
	[[ "$output" == *"cleared\" is not YYYY-MM-DDTHH:MM:SSZ"* ]]
	[[ "$output" != *$'\x1b'* ]]
	sed -i 's/^created = .*/created = 2026-01-01T00:00:00Z/' "$C/instances/a/instance.ini"
	printf '{"op":"upgrade","from":"blue","to":"green","version":"\\u001b[2J","step":"copy","served":false}' \
		>"$C/instances/a/upgrade.journal"
	run -1 "$C/instances/a/instance.sh" start
	[[ "$output" == *"upgrade.journal is damaged"* ]]
	[[ "$output" != *$'\x1b'* ]]
}
