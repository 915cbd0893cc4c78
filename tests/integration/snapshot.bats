#!/usr/bin/env bats
# Snapshots, import and clone against the real engine, through the proxy.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	kc_setup
	kc_ports
	P3=$((P1 + 2)) P4=$((P1 + 3))
}
teardown() {
	[ -z "${T:-}" ] || touch "$T/stop"
	kc_teardown
}

@test "a snapshot taken while a client writes is consistent, and every request is answered" {
	with_items
	python3 "$TOOL" load "$P1" "$T/stop" "$T/load.json" 3>&- &
	# Until the client's first writes are in (bounded).
	for _ in $(seq 1 100); do
		[ "$(kc_get "$P1" / | kc_json 'd["items"]')" -gt 3 ] && break
		sleep 0.1
	done
	run -0 "$C/instances/a/instance.sh" snapshot -o "$T/a.tar.zst"
	[[ "$output" == *"writes held"* ]]
	sleep 1
	touch "$T/stop"
	wait
	# Every request answered: 2xx, or 503 with Retry-After to a write.
	run python3 "$TOOL" verdict "$T/load.json"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == *"'GET 200'"* ]] && [[ "${lines[0]}" == *"'POST 201'"* ]]
	# Rows and files agree at one point in time: restore into a new instance.
	"$C/cluster.sh" new --port "$P2" b >/dev/null
	"$C/instances/b/instance.sh" start >/dev/null
	run -0 "$C/instances/b/instance.sh" import "$T/a.tar.zst"
	run python3 "$TOOL" consistent "$P2" "$C/instances/b/data/$(env_of b)"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *" consistent"* ]]
	n=$(kc_get "$P2" / | kc_json 'd["items"]')
	[ "$n" -gt 3 ]
}

@test "round trip: snapshot, destroy, recreate, import gives identical data" {
	with_items
	"$C/instances/a/instance.sh" snapshot >/dev/null
	"$C/instances/a/instance.sh" snapshot --gzip >/dev/null
	before=$(fingerprint a)
	[ -n "$before" ]
	zst=$(ls "$C"/snapshots/a.*.v1.tar.zst)
	gz=$(ls "$C"/snapshots/a.*.v1.tar.gz)
	"$C/cluster.sh" destroy --yes a >/dev/null
	"$C/cluster.sh" new --port "$P1" a >/dev/null
	"$C/instances/a/instance.sh" start >/dev/null
	run -0 "$C/instances/a/instance.sh" import "$zst"
	[[ "$output" == *"environment green is active and serving"* ]]
	[ "$(fingerprint a)" = "$before" ]
	[ "$(kc_get "$P1" /items/2 | kc_json 'd["derived"]')" = "ITEM 2" ]
	# The gzip one too, back into blue.
	run -0 "$C/instances/a/instance.sh" import "$gz"
	[ "$(env_of a)" = blue ]
	[ "$(fingerprint a)" = "$before" ]
	# Listing and retention: the second import archived what blue held
	# before (the new instance's own state), newest first.
	run -0 "$C/cluster.sh" snapshots --json
	[ "$(echo "$output" | kc_json 'len(d)')" = 3 ]
	[ "$(echo "$output" | kc_json 'd[0]["instance"]')" = a ]
	newest=$(echo "$output" | kc_json 'd[0]["path"]')
	[ "$newest" != "$zst" ] && [ "$newest" != "$gz" ]
	run -0 "$C/cluster.sh" prune --keep 1
	[[ "$output" == *"removed 2 snapshots"* ]]
	[ "$(ls "$C"/snapshots/a.* | wc -l)" = 1 ]
	run -0 "$C/instances/a/instance.sh" snapshot --keep 1
	[ "$(ls "$C"/snapshots/a.* | wc -l)" = 1 ]
	[ -z "$(ls -A "$C/snapshots" | grep -v '^a\.')" ]
}

@test "bad archives are refused and leave the instance as it was" {
	with_items
	"$C/instances/a/instance.sh" snapshot -o "$T/good.tar.zst" >/dev/null
	mkdir "$T/x"
	tar --zstd -xf "$T/good.tar.zst" -C "$T/x"
	for kind in dotdot absolute symlink template; do
		python3 "$TOOL" craft "$kind" "$T/x" "$T/$kind.tar.gz"
	done
	size=$(stat -c %s "$T/good.tar.zst")
	head -c $((size / 2)) "$T/good.tar.zst" >"$T/truncated.tar.zst"
	cp "$T/good.tar.zst" "$T/corrupted.tar.zst"
	printf '\xff\x00\xff\x00' | dd of="$T/corrupted.tar.zst" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
	kc_post "$P1" "after the snapshot" >/dev/null
	before=$(fingerprint a)
	envbefore=$(env_of a)
	declare -A why=([corrupted]="" [truncated]="" [dotdot]='".." component' [absolute]="absolute path"
		[symlink]="points out of data/" [template]='template "kor"')
	for kind in corrupted truncated dotdot absolute symlink template; do
		f=$(ls "$T/$kind".tar.*)
		run -1 "$C/instances/a/instance.sh" import "$f"
		echo "$kind: $output"
		[[ "$output" == *"korcluster: importing"* ]]
		[[ "$output" == *"${why[$kind]}"* ]]
		[ "$(fingerprint a)" = "$before" ]
		[ "$(env_of a)" = "$envbefore" ]
		[ ! -e "$C/instances/a/data/green.import" ]
		[ "$(kc_get "$P1" / | kc_json 'd["items"]')" = 4 ]
	done
	[ ! -e /tmp/korcluster-absolute.txt ] && [ ! -e "$C/instances/a/escaped.txt" ]
	# A newer version is refused too.
	"$C/cluster.sh" new --port "$P2" --version v1 old >/dev/null
	"$C/cluster.sh" new --port "$P3" --version v2 new2 >/dev/null
	"$C/instances/new2/instance.sh" snapshot -o "$T/v2.tar.zst" >/dev/null
	run -1 "$C/instances/old/instance.sh" import "$T/v2.tar.zst"
	[[ "$output" == *"newer than the instance's v1"* ]]
}

@test "rows load on several connections: the dump's settings reach each, its table locks stall none" {
	# (and neither does the lock MariaDB takes on an empty table for a
	# bulk insert, with unique and foreign key checks off as in dumps)
	with_items
	"$C/instances/a/instance.sh" snapshot -o "$T/good.tar.zst" >/dev/null
	mkdir "$T/x"
	tar --zstd -xf "$T/good.tar.zst" -C "$T/x"
	# A time zone set once, then rows in many statements under a table
	# lock: a connection without the setting would store other instants
	# (each row takes a while, so that both connections take some),
	# one waiting for the lock would wait for ever.
	{
		echo "CREATE TABLE ts (n int, t TIMESTAMP NULL);"
		echo "/*!40103 SET TIME_ZONE='+05:00' */;"
		echo "LOCK TABLES ts WRITE;"
		for i in $(seq 1 60); do echo "INSERT INTO ts VALUES ($i + 0 * SLEEP(0.02), '2020-01-01 05:00:00');"; done
		echo "UNLOCK TABLES;"
		echo "/*!40014 SET UNIQUE_CHECKS=0 */;"
		echo "/*!40014 SET FOREIGN_KEY_CHECKS=0 */;"
		echo "CREATE TABLE bulk (id int PRIMARY KEY, b TEXT);"
		for i in $(seq 1 40); do echo "INSERT INTO bulk VALUES ($i, REPEAT('x', 1000 + 0 * SLEEP(0.02)));"; done
	} >"$T/tz.sql"
	python3 "$TOOL" hostile sql "$T/x" "$T/tz.tar.gz" "$T/tz.sql"
	printf '\n[limits]\nload_timeout = 60\n' >>"$C/cluster.ini"
	run -0 "$C/instances/a/instance.sh" import "$T/tz.tar.gz"
	echo "$output"
	[ "$(kc_sql "SELECT COUNT(*), MIN(UNIX_TIMESTAMP(t)), MAX(UNIX_TIMESTAMP(t)) FROM a_green.ts")" = "60	1577836800	1577836800" ]
	[ "$(kc_sql "SELECT COUNT(*) FROM a_green.bulk")" = 40 ]
	[ "$(kc_get "$P1" / | kc_json 'd["items"]')" = 3 ]
}

@test "an older snapshot is migrated on import; a stopped instance just switches environment" {
	with_items
	"$C/instances/a/instance.sh" snapshot -o "$T/v1.tar.zst" >/dev/null
	"$C/cluster.sh" new --port "$P2" --version v2 b >/dev/null
	run -0 "$C/instances/b/instance.sh" import "$T/v1.tar.zst"
	[[ "$output" == *"migrating from v1 to v2"* ]]
	[ "$(env_of b)" = green ]
	"$C/instances/b/instance.sh" start >/dev/null
	[ "$(kc_get "$P2" / | kc_json 'd["schema"]')" = 2 ]
	[ "$(kc_get "$P2" /items/1 | kc_json 'd["layout"]')" = v2 ]
	[ "$(kc_get "$P2" /items/1 | kc_json 'd["file"]')" = "item 1" ]
	[ -f "$C/instances/b/data/green/items/1/original.txt" ]
}

@test "a snapshot in KorCluster's format imports" {
	with_items
	# The way KorCluster's script made it: mysqldump | gzip, then tar czf
	# of the instance folder.
	k=$T/kor/a
	mkdir -p "$k/data" "$k/log"
	cp -a "$C/instances/a/data/blue/." "$k/data/"
	echo v1 >"$k/version.txt"
	echo "kor: settings" >"$k/kor.yml"
	printf '[client]\nuser=root\npassword=%s\n' "$(cat "$C/secrets/db_root_password")" >"$T/root.cnf"
	$DOCKER run --rm --network "${NAME}_net" -v "$T/root.cnf:/root.cnf:ro" \
		127.0.0.1:5000/korcluster-test/python:bookworm \
		mysqldump --defaults-extra-file=/root.cnf -h "${NAME}_db" a_blue | gzip -c >"$k/db.sql.gz"
	tar czf "$T/a.20250101_120000.v1.tar.gz" -C "$k" .
	"$C/cluster.sh" new --port "$P2" b >/dev/null
	"$C/instances/b/instance.sh" start >/dev/null
	run -0 "$C/instances/b/instance.sh" import "$T/a.20250101_120000.v1.tar.gz"
	[[ "$output" == *"KorCluster snapshot of v1"* ]]
	[ "$(kc_get "$P2" / | kc_json 'd["items"]')" = 3 ]
	[ "$(kc_get "$P2" /items/3 | kc_json 'd["derived"]')" = "ITEM 3" ]
	[ "$(cat "$C/instances/b/imported/kor.yml")" = "kor: settings" ]
	# Without version.txt the name gives the version.
	rm "$k/version.txt"
	tar czf "$T/a.20250102_120000.v1.tar.gz" -C "$T/kor" a
	run -0 "$C/instances/b/instance.sh" import "$T/a.20250102_120000.v1.tar.gz"
	[ "$(kc_get "$P2" / | kc_json 'd["items"]')" = 3 ]
}

@test "a clone is independent of its source" {
	with_items
	run -0 "$C/cluster.sh" clone --port "$P2" a c
	[[ "$output" == *'cloned "a" to "c" (v1)'* ]]
	"$C/instances/c/instance.sh" start >/dev/null
	[ "$(kc_get "$P2" / | kc_json 'd["items"]')" = 3 ]
	[ "$(kc_get "$P2" /items/2 | kc_json 'd["file"]')" = "item 2" ]
	kc_post "$P1" "only in a" >/dev/null
	kc_post "$P2" "only in c" >/dev/null
	[ "$(kc_get "$P1" /items/4 | kc_json 'd["body"]')" = "only in a" ]
	[ "$(kc_get "$P2" /items/4 | kc_json 'd["body"]')" = "only in c" ]
	[ "$(kc_get "$P1" / | kc_json 'd["secret_fingerprint"]')" != "$(kc_get "$P2" / | kc_json 'd["secret_fingerprint"]')" ]
	# Own database user, granted only on its own databases.
	[ "$(kc_sql "SELECT COUNT(*) FROM mysql.db WHERE User = 'c' AND Db LIKE 'a\\_%'")" = 0 ]
	# instance.sh clone does the same from the source's folder.
	run -0 "$C/instances/a/instance.sh" clone --port "$P3" d
	[ "$(sed -n 's/^port = //p' "$C/instances/d/instance.ini")" = "$P3" ]
	[ -z "$(ls -A "$C/snapshots")" ]
}

@test "a snapshot killed (kill -9) at any moment: the next command lets writes through and clears what it left" {
	with_items
	mkdir "$C/instances/a/data/blue/big"
	for i in $(seq 1 20); do head -c 4M /dev/urandom >"$C/instances/a/data/blue/big/$i"; done
	before=$(fingerprint a)
	for delay in 0.2 0.4 0.6 0.9; do
		"$C/instances/a/instance.sh" snapshot >/dev/null 2>&1 3>&- &
		pid=$!
		sleep "$delay"
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" || true
		run -0 "$C/instances/a/instance.sh" status
		echo "$delay: $output"
		rm -f "$C"/snapshots/a.*.tar.zst # finished before the kill
		[ -z "$(ls -A "$C/snapshots")" ]
		[ -z "$(ls -A "$C/services/db" | grep korcluster-dump)" ]
		[ ! -e "$C/proxy/hold/a.writes" ]
		[ "$(fingerprint a)" = "$before" ]
		id=$(kc_post "$P1" "after a kill at $delay s" | kc_json 'd["id"]')
		processed "$P1" "$id"
		before=$(fingerprint a)
	done
}
