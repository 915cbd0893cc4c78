#!/usr/bin/env bats
# The pool of instances made ahead (cluster.sh pool, new taking from it)
# against the real engine and MariaDB.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	kc_setup
	kc_ports
}
teardown() { kc_teardown; }

# The pool's entries: "ID" lines, and "ID ready" for the ready ones.
entries() {
	local d
	for d in "$C"/pool/pool_*; do
		[ -d "$d" ] || continue
		if [ -e "$d/ready" ]; then echo "$(basename "$d") ready"; else basename "$d"; fi
	done
}

pool_users() { kc_sql "SELECT COUNT(*) FROM mysql.user WHERE User LIKE 'pool\\_%'"; }

@test "new takes a pooled instance under its own name and port; it serves, upgrades and goes whole; the pool refills" {
	kc_boot
	run -0 "$C/cluster.sh" pool --size 2
	echo "$output"
	[[ "$output" == *'holds 2 ready instances of v1 (it keeps 2)'* ]]
	[ "$(entries | grep -c ' ready$')" = 2 ]
	[ "$(pool_users)" = 2 ]
	# Its setup ran: the pooled database holds the app's tables.
	first=$(entries | head -1 | cut -d' ' -f1)
	[ "$(kc_sql "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = '${first}_blue'")" -gt 0 ]
	# Pooled instances are not the cluster's instances.
	[ "$("$C/cluster.sh" list --json | kc_json 'len(d)')" = 0 ]
	[ "$("$C/cluster.sh" status --json | kc_json 'd["pool"]')" = "{'size': 2, 'ready': 2, 'version': 'v1'}" ]

	run -0 "$C/cluster.sh" new --port "$P1" --description "for the course" a
	echo "$output"
	[[ "$output" == *'created instance "a" (v1) on port '"$P1"' from the pool'* ]]
	[[ "$output" == *'the pool holds 1 of 2 ready'* ]]
	[[ "$output" != *'running setup'* ]]
	[ "$(entries | grep -c ' ready$')" = 1 ]
	[ ! -e "$C/pool/$first" ]
	grep -qx "db_user = $first" "$C/instances/a/instance.ini"
	grep -qx "database = ${first}_blue" "$C/instances/a/instance.ini"
	[ "$(stat -c %a "$C/instances/a/instance.ini")" = 600 ]
	[ -L "$C/instances/a/instance.sh" ]
	[ "$("$C/cluster.sh" list --json | kc_json '[(i["name"], i["port"], i["description"]) for i in d]')" = "[('a', $P1, 'for the course')]" ]

	# It serves, its worker works, an upgrade keeps its rows.
	"$C/instances/a/instance.sh" start >/dev/null
	for i in 1 2; do kc_post "$P1" "item $i" >/dev/null; done
	processed "$P1" 2
	run -0 "$C/instances/a/instance.sh" upgrade v2
	kc_get "$P1" /items/2 | grep -q '"layout": "v2"'
	[ "$(kc_sql "SELECT COUNT(*) FROM \`${first}_green\`.items")" = 2 ]

	# The pool's names are not instance names; a taken port is refused
	# and the pool keeps its instance.
	second=$(entries | head -1 | cut -d' ' -f1)
	run -1 "$C/cluster.sh" new --port "$P2" "$second"
	[[ "$output" == *"\"$second\" is the name of an instance in the pool"* ]]
	run -1 "$C/cluster.sh" new --port "$P1" b
	[[ "$output" == *"port $P1 is taken by another instance"* ]]
	[ "$(entries)" = "$second ready" ]
	[ ! -e "$C/instances/b" ]

	# Another version, or --no-pool: made from scratch.
	run -0 "$C/cluster.sh" new --port "$P2" --no-pool b
	[[ "$output" == *'running setup of "b"'* && "$output" != *'from the pool'* ]]
	run ! grep -q '^db_user' "$C/instances/b/instance.ini"
	[ "$(entries)" = "$second ready" ]

	# "pool" fills it again; destroy takes the pooled names with it.
	run -0 "$C/cluster.sh" pool
	[[ "$output" == *'holds 2 ready instances of v1 (it keeps 2)'* ]]
	run -0 "$C/cluster.sh" destroy --yes a
	[ -z "$(kc_sql "SHOW DATABASES LIKE '${first}\\_%'")" ]
	[ "$(kc_sql "SELECT COUNT(*) FROM mysql.user WHERE User = '$first'")" = 0 ]
	[ "$(pool_users)" = 2 ]

	# Size 0 empties it, databases and users too.
	run -0 "$C/cluster.sh" pool --size 0
	[[ "$output" == *'holds 0 ready instances of v1 (it keeps 0)'* ]]
	[ -z "$(entries)" ]
	[ "$(pool_users)" = 0 ]
	[ -z "$(kc_sql "SHOW DATABASES LIKE 'pool\\_%'")" ]
}

@test "an interrupted fill or take is cleaned up by the next fill; another default version replaces the pool; a failed setup keeps nothing" {
	mkdir "$T/tpl"
	cp "$REPO/templates/sample.ini" "$T/tpl/sample.ini"
	export KORCLUSTER_TEMPLATES=$T/tpl
	kc_boot
	"$C/cluster.sh" pool --size 1 >/dev/null
	old=$(entries | cut -d' ' -f1)
	# As a fill or a take interrupted before its entry was ready.
	rm "$C/pool/$old/ready"
	run -0 "$C/cluster.sh" new --port "$P1" a
	[[ "$output" != *'from the pool'* ]]
	run -0 "$C/cluster.sh" pool
	echo "$output"
	[ ! -e "$C/pool/$old" ]
	[ -z "$(kc_sql "SHOW DATABASES LIKE '${old}\\_%'")" ]
	[ "$(kc_sql "SELECT COUNT(*) FROM mysql.user WHERE User = '$old'")" = 0 ]
	[ "$(entries | grep -c ' ready$')" = 1 ]

	# The template's default version changes: the next fill replaces the
	# pool's v1.  That version's setup fails: nothing of the entry it was
	# making is kept.  A "new" of another version than the pool's makes
	# its own.
	sed -i 's/^default_version = .*/default_version = broken/' "$T/tpl/sample.ini"
	[ "$("$C/cluster.sh" status --json | kc_json 'd["pool"]')" = "{'size': 1, 'ready': 0, 'version': 'broken'}" ]
	run -1 "$C/cluster.sh" pool
	echo "$output"
	[[ "${lines[-1]}" == *'filling the pool: making an instance for the pool: setup "python3 /app/app.py setup" exited 3'* ]]
	[ -z "$(entries)" ]
	[ "$(pool_users)" = 0 ]
	[ -z "$(kc_sql "SHOW DATABASES LIKE 'pool\\_%'")" ]
	sed -i 's/^default_version = .*/default_version = v2/' "$T/tpl/sample.ini"
	run -0 "$C/cluster.sh" pool
	[ "$(entries | grep -c ' ready$')" = 1 ]
	run -0 "$C/cluster.sh" new --port "$P2" --version v1 b
	[[ "$output" != *'from the pool'* ]]
	[ "$(entries | grep -c ' ready$')" = 1 ]

	# A size that is not a number is refused by name.
	echo lots >"$C/pool/size"
	run -1 "$C/cluster.sh" pool
	[[ "$output" == *'pool/size must hold a number from 0 to 1000'* ]]
	run -2 "$C/cluster.sh" pool --size x
}
