#!/usr/bin/env bats
# Instances put away and brought back (cluster.sh archive, restore) against
# the real engine and MariaDB.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	kc_setup
	kc_ports
}
teardown() { kc_teardown; }

@test "archive keeps a checked snapshot and removes the rest; restore brings back the same rows and files; a broken archive stays archived" {
	with_items
	"$C/instances/a/instance.sh" route add a.example.org >/dev/null
	before=$(fingerprint a)
	env=$(env_of a)
	# A snapshot that cannot be written: the instance serves again, as it was.
	mkdir -p "$C/instances/a/archive.tar.zst/x"
	run -1 "$C/cluster.sh" archive a
	echo "$output"
	[[ "$output" == *'archiving instance "a"'* ]]
	[[ "$output" == *'instance "a" (v1) is up at'* ]]
	kc_unchanged a "$before"
	[ "$("$C/cluster.sh" list --json | kc_json 'd[0]["state"]')" = running ]
	rm -r "$C/instances/a/archive.tar.zst"
	run -0 "$C/cluster.sh" archive a
	echo "$output"
	[[ "$output" == *"snapshot checked"*"instance \"a\" is archived"* ]]
	# Only the folder is left: instance.ini, its routes, the snapshot.
	[ -z "$(kc_containers | grep "_a_")" ]
	[ -z "$(kc_sql "SHOW DATABASES LIKE 'a\\_%'")" ]
	[ "$(kc_sql "SELECT COUNT(*) FROM mysql.user WHERE User = 'a'")" = 0 ]
	[ ! -e "$C/instances/a/data/blue" ] && [ ! -e "$C/instances/a/data/green" ]
	[ -s "$C/instances/a/archive.tar.zst" ]
	run -7 curl -sS -m 5 "http://127.0.0.1:$P1/"
	[ "$("$C/cluster.sh" list --json | kc_json '[(i["name"], i["state"], i["ok"]) for i in d]')" = "[('a', 'archived', True)]" ]
	run -0 "$C/cluster.sh" status
	# Commands refuse it, and say what brings it back.
	for cmd in start snapshot "upgrade v2"; do
		run -1 "$C/instances/a/instance.sh" $cmd
		[[ "$output" == *'is archived (since '*'): "cluster.sh restore a" brings it back'* ]]
	done
	run -1 "$C/cluster.sh" archive a
	[[ "$output" == *"archived already"* ]]

	# A damaged snapshot is refused; the instance stays archived with it.
	cp "$C/instances/a/archive.tar.zst" "$T/good.tar.zst"
	python3 - "$C/instances/a/archive.tar.zst" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
for i in range(len(b) // 2, len(b) // 2 + 64):
    b[i] ^= 0xFF
open(p, "wb").write(bytes(b))
PY
	run -1 "$C/cluster.sh" restore a
	echo "$output"
	[[ "$output" == *'restoring instance "a"'* ]]
	[ -z "$(kc_sql "SHOW DATABASES LIKE 'a\\_%'")" ]
	[ "$("$C/cluster.sh" list --json | kc_json 'd[0]["state"]')" = archived ]
	cp "$T/good.tar.zst" "$C/instances/a/archive.tar.zst"

	run -0 "$C/cluster.sh" restore a
	echo "$output"
	[[ "$output" == *'instance "a" (v1) is restored'* ]]
	[ ! -e "$C/instances/a/archive.tar.zst" ]
	ls "$C/snapshots" | grep -q '^a\.[0-9_]*\.v1\.tar\.zst$'
	[ "$(env_of a)" = "$env" ]
	[ "$("$C/cluster.sh" list --json | kc_json 'd[0]["state"]')" = stopped ]
	[ "$(fingerprint a)" = "$before" ]
	run -0 "$C/instances/a/instance.sh" route list
	[[ "$output" == *"a.example.org"*"primary"* ]]
	"$C/instances/a/instance.sh" start >/dev/null
	[ "$(kc_get "$P1" /items)" = '{"ids": [1, 2, 3]}' ]
	kc_post "$P1" "after" >/dev/null
	run -1 "$C/cluster.sh" restore a
	[[ "$output" == *"it is not archived"* ]]
	# A stopped instance is archived too, and an archived one destroyed.
	"$C/cluster.sh" new --port "$P2" b >/dev/null
	run -0 "$C/cluster.sh" archive b
	run -0 "$C/cluster.sh" destroy --yes b
	[ ! -e "$C/instances/b" ]
	[ "$(kc_get "$P1" /items)" = '{"ids": [1, 2, 3, 4]}' ]
	# A clone for training says so in the listing.
	run -0 "$C/cluster.sh" clone --port "$P2" --description "training, spring term" a c
	[ "$("$C/cluster.sh" list --json | kc_json '[(i["name"], i.get("description")) for i in d]')" = \
		"[('a', None), ('c', 'training, spring term')]" ]
}
