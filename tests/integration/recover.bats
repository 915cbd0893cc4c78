#!/usr/bin/env bats
# A whole cluster rebuilt from its off-site backups (korcluster
# restore-cluster) after its folder and containers are gone, from a real
# SFTP server (helpers.bash's kc_sshd).

bats_require_minimum_version 1.5.0
load helpers

setup() {
	kc_setup
	kc_ports
	kc_sshd
}
teardown() {
	kc_sshd_stop
	kc_teardown
}

@test "restore-cluster rebuilds a lost cluster in a new folder: the served instance serves the same rows and files, the stopped one stays stopped" {
	with_items
	"$C/cluster.sh" new --port "$P2" b >/dev/null
	env=$(env_of a)
	head -c 200000 /dev/urandom >"$C/instances/a/data/$env/photo.bin"
	kc_sftp_login "$C"
	printf '\n[backup]\ntarget = %s\n' "$(kc_sftp_url)" >>"$C/cluster.ini"
	# A file restore-cluster would refuse (an editor's backup) is left
	# out, saying so, rather than making the configuration unrestorable.
	echo old >"$C/secrets/db_root_password~"
	run -0 "$C/cluster.sh" backup push
	[[ "$output" == *"warning: $C/secrets/db_root_password~ is not backed up: "* ]]
	phrase=$(echo "$output" | sed -n 's/^    \(\([0-9a-f]\{4\}-\)\{15\}[0-9a-f]\{4\}\)$/\1/p')
	[ -n "$phrase" ]
	before=$(fingerprint a)
	echo "$before" | grep -q photo.bin
	items=$(kc_get "$P1" /items)
	[ "$items" = '{"ids": [1, 2, 3]}' ]
	key=$(cat "$C/secrets/backup.key")

	# The host is lost: its containers, its network and its folder.
	$DOCKER rm -f $($DOCKER ps -aq --filter "label=korcluster.cluster=$NAME") >/dev/null
	$DOCKER network rm "${NAME}_net" >/dev/null
	rm -rf "$C"
	run ! kc_get "$P1" /items

	# The new folder holds only the target's login.
	D=$T/new
	kc_sftp_login "$D"
	# A folder with anything else is refused; so is a wrong phrase, and
	# nothing is made.
	touch "$D/other"
	run -1 "$REPO/korcluster" restore-cluster "$(kc_sftp_url)" "$D" <<<"$phrase"
	[[ "$output" == *"it is not empty"* ]]
	rm "$D/other"
	run -1 "$REPO/korcluster" restore-cluster "$(kc_sftp_url)" "$D" <<<"$(python3 -c 'import os; print(os.urandom(32).hex())')"
	echo "$output"
	[[ "$output" == *"the object was sealed with another key"* ]]
	[ "$(ls "$D")" = secrets ]
	[ "$(ls "$D/secrets")" = "$(printf 'backup_known_hosts\nbackup_ssh_key')" ]
	[ -z "$($DOCKER ps -aq --filter "label=korcluster.cluster=$NAME")" ]
	run -1 "$REPO/korcluster" restore-cluster "$(kc_sftp_url)" "$D" </dev/null
	[[ "$output" == *"no backup key: put it in"* ]]

	# A boot that fails (a container in the way of the database's name):
	# the folder goes back to what was brought, nothing is left running.
	$DOCKER create --name "${NAME}_db" "$($DOCKER images --format '{{.Repository}}:{{.Tag}}' | grep -v '<none>' | head -1)" >/dev/null
	run -1 "$REPO/korcluster" restore-cluster "$(kc_sftp_url)" "$D" <<<"$phrase"
	echo "$output"
	[[ "$output" == *"booting cluster \"$NAME\""*"$D is as it was: restore again once that is put right"* ]]
	[ "$(ls "$D")" = secrets ]
	[ "$(ls "$D/secrets")" = "$(printf 'backup.key\nbackup_known_hosts\nbackup_ssh_key')" ]
	$DOCKER rm "${NAME}_db" >/dev/null
	[ -z "$($DOCKER ps -aq --filter "label=korcluster.cluster=$NAME")" ]

	# Again, with b's snapshot gone from the target: a is restored and
	# served, b stays archived, and "restore b" takes it up again once the
	# snapshot is back (fetching it from the target).
	mv "$T/store/$NAME/instances/b" "$T/b-away"
	run "$REPO/korcluster" restore-cluster "$(kc_sftp_url)" "$D"
	echo "$output"
	[ "$status" = 1 ]
	[[ "$output" == *"instance \"b\" is not restored: "*"holds no snapshot of it"* ]]
	[[ "$output" == *"cluster \"$NAME\" is restored in $D: 1 of 2 instances, 1 served again"* ]]
	[[ "$output" == *"\"$D/cluster.sh restore NAME\" takes an instance that is not restored up again"* ]]
	C=$D
	[ "$(kc_get "$P1" /items)" = "$items" ]
	run -1 "$C/instances/b/instance.sh" start
	[[ "$output" == *'instance "b" is archived'* ]]
	mv "$T/b-away" "$T/store/$NAME/instances/b"
	run -0 "$C/cluster.sh" restore b
	echo "$output"
	[[ "$output" == *"b: fetching b."*".v1.tar.zst from "* ]]
	[[ "$output" == *"instance \"b\" (v1) is restored"* ]]
	[ "$(kc_get "$P1" /items)" = "$items" ]
	[ "$(fingerprint a)" = "$before" ]
	[ "$(cat "$C/secrets/backup.key")" = "$key" ]
	[ "$(stat -c %a "$C/secrets/backup.key")" = 600 ]
	run -0 "$C/cluster.sh" status --json
	[ "$(echo "$output" | kc_json '[i["state"] for i in d["instances"]]')" = "['running', 'stopped']" ]
	# Their copies on the target count as theirs: status does not warn.
	[ "$(echo "$output" | kc_json 'd["backup_warnings"]')" = "[]" ]
	[[ "$(echo "$output" | kc_json 'd["instances"][0]["backup"]["snapshot"]')" == a.*.v1.tar.zst ]]
	# b, stopped at the push, starts with its data.
	"$C/instances/b/instance.sh" start >/dev/null
	[ "$(kc_get "$P2" /items)" = '{"ids": []}' ]
	# The restored cluster backs up with the same key; its objects open.
	run -0 "$C/cluster.sh" backup verify
	[[ "$output" == *"whole and open with its key"* ]]
	# A target holding more than one cluster needs --cluster.
	mkdir "$T/store/other"
	kc_sftp_login "$T/third"
	run -1 "$REPO/korcluster" restore-cluster "$(kc_sftp_url)" "$T/third" <<<"$phrase"
	echo "$output"
	[[ "$output" == *"say which with --cluster"* ]]
}

@test "backup: import by an off-site object's name, prune keeps the newest, status shows each copy's age and warns, push --to, schedule" {
	# Snapshots are named in local time: ages must not be off by the zone.
	export TZ=Europe/Berlin
	with_items
	kc_sftp_login "$C"
	printf '\n[backup]\ntarget = %s\nmax_age = 1s\nwarn_age = 1h\n' "$(kc_sftp_url)" >>"$C/cluster.ini"
	run -0 "$C/cluster.sh" status
	[[ "$output" == *"warning: instance a has no off-site backup yet"* ]]
	# No schedule before the key is made by hand (its phrase is shown).
	run -1 "$C/cluster.sh" backup schedule
	[[ "$output" == *"no backup key yet: run \"cluster.sh backup push\" once by hand first"* ]]
	# Three pushes, each with a new snapshot (max_age 1 s): 3, 4, 5 items.
	for i in 4 5 6; do
		"$C/cluster.sh" backup push >/dev/null
		kc_post "$P1" "item $i" >/dev/null
		processed "$P1" "$i"
		sleep 2
	done
	run -0 "$C/cluster.sh" backup list --json
	snaps=$(echo "$output" | kc_json '" ".join(o["object"] for o in d if o["kind"] == "snapshot")')
	[ "$(echo "$snaps" | wc -w)" = 3 ]
	[ "$(echo "$output" | kc_json '[o["kind"] for o in d].count("cluster")')" = 3 ]
	read -r first second third <<<"$snaps"
	run -0 "$C/cluster.sh" status --json
	[ "$(echo "$output" | kc_json 'd["instances"][0]["backup"]["snapshot"]')" = "$(basename "$third" .kcs)" ]
	[ "$(echo "$output" | kc_json 'd["instances"][0]["backup"]["age"] < 60')" = True ]
	[ "$(echo "$output" | kc_json 'd["backup_warnings"]')" = "[]" ]
	run -0 "$C/cluster.sh" status
	[[ "$output" == *"OFF-SITE"*"$(basename "$third" .kcs)"* ]]
	[[ "$output" != *"warning:"* ]]
	sed -i 's/^warn_age = 1h/warn_age = 1s/' "$C/cluster.ini"
	sleep 1.1
	run -0 "$C/cluster.sh" status
	[[ "$output" == *"warning: instance a: its newest off-site backup is "*" old ([backup] warn_age is 1 s)"* ]]

	# Prune: the newest two of each stay.
	run -2 "$C/cluster.sh" backup prune
	run -0 "$C/cluster.sh" backup prune --keep 2
	echo "$output"
	[[ "$output" == *"removed 2 backup objects"* ]]
	run -0 "$C/cluster.sh" backup list --json
	[ "$(echo "$output" | kc_json '" ".join(o["object"] for o in d if o["kind"] == "snapshot")')" = "$second $third" ]
	[ "$(echo "$output" | kc_json '[o["kind"] for o in d].count("cluster")')" = 2 ]
	run -1 "$C/cluster.sh" backup prune --keep 1 nosuch
	[[ "$output" == *'the target holds no snapshot of "nosuch"'* ]]

	# Import by the object's name, not here any more: fetched, then
	# imported (4 items then).
	rm "$C/snapshots/$(basename "$second" .kcs)"
	run -0 "$C/instances/a/instance.sh" import "$second"
	echo "$output"
	[ -f "$C/snapshots/$(basename "$second" .kcs)" ]
	[ "$(kc_get "$P1" /items)" = '{"ids": [1, 2, 3, 4]}' ]
	run -1 "$C/instances/a/instance.sh" import a.20000101_000000.v1.tar.zst
	[[ "$output" == *"is not on the backup target"* ]]

	# Another target for once: --to (the same login files); status goes
	# on reporting on cluster.ini's.
	b4=$("$C/cluster.sh" status --json | kc_json 'd["instances"][0]["backup"]["snapshot"]')
	run -0 "$C/cluster.sh" backup push --to "sftp://root@127.0.0.1:$SP$T/store2" a
	[ "$(find "$T/store2/$NAME/instances/a" -name '*.kcs' | wc -l)" = 1 ]
	[ "$(find "$T/store2/$NAME/cluster" -name '*.kcs' | wc -l)" = 1 ]
	[ "$("$C/cluster.sh" status --json | kc_json 'd["instances"][0]["backup"]["snapshot"]')" = "$b4" ]
	run -2 "$C/cluster.sh" backup list --to "sftp://root@127.0.0.1:$SP$T/store2"
	run -1 "$C/cluster.sh" backup push --to "ftp://root@127.0.0.1/x"
	[[ "$output" == *"is not sftp://USER@HOST[:PORT]/PATH"* ]]

	# The schedule: systemd's units where systemd runs, else a cron.d line.
	run -0 "$C/cluster.sh" backup schedule
	echo "$output"
	if [ -d /run/systemd/system ]; then
		f=/etc/systemd/system/korcluster-backup-$NAME.service
		[[ "$output" == *"ExecStart=$C/cluster.sh backup push"*"OnCalendar=*-*-* 00/1:17:00"* ]]
	else
		f=/etc/cron.d/korcluster-backup-$NAME
		[[ "$output" == *"17 */1 * * * root $C/cluster.sh backup push >>$C/backup/push.log 2>&1"* ]]
	fi
	[ ! -e "$f" ]
	run -0 "$C/cluster.sh" backup schedule --install
	[ -f "$f" ] && rm -f "$f" "${f%.service}.timer"
}
