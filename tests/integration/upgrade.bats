#!/usr/bin/env bats
# Blue/green upgrades, rollback and recovery against the real engine.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	kc_setup
	kc_ports
}
teardown() {
	[ -z "${T:-}" ] || touch "$T/stop"
	kc_teardown
}

version_on() { kc_get "$1" / | kc_json 'd["version"]'; }

@test "v1 to v2 under load: no failed read, no lost write, the data in v2's layout" {
	with_items v1
	python3 "$TOOL" load "$P1" "$T/stop" "$T/load.json" 3>&- &
	sleep 1
	run -0 "$C/instances/a/instance.sh" upgrade v2
	echo "$output"
	[[ "$output" == *'instance "a" runs v2 on environment green'* ]]
	sleep 1
	touch "$T/stop"
	wait
	run python3 "$TOOL" verdict "$T/load.json"
	echo "$output"
	[ "$status" -eq 0 ]
	# Reads all answered; writes in the window refused (503 with Retry-After).
	[[ "${lines[0]}" == *"'GET 200'"* ]] && [[ "${lines[0]}" == *"'POST 503'"* ]]
	[[ "${lines[0]}" != *"'GET 5"* ]]
	# Every acknowledged write is there afterwards.
	run python3 "$TOOL" acked "$T/load.json" "$P1"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(version_on "$P1")" = v2 ]
	[ "$(kc_get "$P1" /items/1 | kc_json 'd["layout"]')" = v2 ]
	[ "$(kc_get "$P1" /items/1 | kc_json 'd["file"]')" = "item 1" ]
	[ -f "$C/instances/a/data/green/items/1/original.txt" ]
	# The old environment is stopped and kept as it was.
	[ -f "$C/instances/a/data/blue/items/1.txt" ]
	run -0 "$C/instances/a/instance.sh" envs --json
	[ "$(echo "$output" | kc_json '[(e["env"], e["version"], e["active"], e["state"]) for e in d]')" = \
		"[('blue', 'v1', False, 'stopped'), ('green', 'v2', True, 'running')]" ]
}

@test "v2 to v3 (never healthy) rolls back by itself: still v2, serving, with its data" {
	with_items v2
	before=$(fingerprint a)
	run -1 "$C/instances/a/instance.sh" upgrade v3
	echo "$output"
	[[ "$output" == *'upgrading instance "a" to v3 (it still runs v2 on blue): instance "a" is not healthy'* ]]
	[ "$(version_on "$P1")" = v2 ]
	[ "$(env_of a)" = blue ]
	[ "$(fingerprint a)" = "$before" ]
	kc_post "$P1" "after the failed upgrade" >/dev/null
	processed "$P1" 4
	[ -z "$(kc_containers | grep _green_)" ]
	[ ! -e "$C/instances/a/upgrade.journal" ]
}

@test "rollback after a good upgrade gives back v1 with its data; a failed upgrade keeps that way back" {
	with_items v1
	before=$(fingerprint a)
	"$C/instances/a/instance.sh" upgrade v2 >/dev/null
	kc_post "$P1" "written on v2" >/dev/null
	[ "$(kc_get "$P1" / | kc_json 'd["items"]')" = 4 ]
	run -0 "$C/instances/a/instance.sh" rollback
	[[ "$output" == *'runs v1 on environment blue again'* ]]
	[ "$(version_on "$P1")" = v1 ]
	[ "$(kc_get "$P1" / | kc_json 'd["items"]')" = 3 ]
	[ "$(fingerprint a)" = "$before" ]
	[ "$(kc_get "$P1" /items/2 | kc_json 'd["layout"]')" = v1 ]
	# Rolling back again returns to v2 as it was left.
	"$C/instances/a/instance.sh" rollback >/dev/null
	[ "$(version_on "$P1")" = v2 ]
	[ "$(kc_get "$P1" / | kc_json 'd["items"]')" = 4 ]
	# v2 -> v3 reuses blue: its v1 state is archived first, and put back
	# when v3 fails.
	run -1 "$C/instances/a/instance.sh" upgrade --keep 5 v3
	echo "$output"
	[[ "$output" == *"archiving environment blue (v1)"* ]]
	[[ "$output" == *"putting environment blue back as it was"* ]]
	[ "$(ls "$C"/snapshots/a.*.v1.tar.zst | wc -l)" = 1 ]
	[ "$(version_on "$P1")" = v2 ]
	run -0 "$C/instances/a/instance.sh" envs
	echo "$output"
	[[ "$(grep '^blue ' <<<"$output")" == *" v1 "*stopped* ]]
	[[ "$(grep '^archive ' <<<"$output")" == *" v1 "*archived*".v1.tar.zst" ]]
	# The way back to v1 is still one command, data included.
	run -0 "$C/instances/a/instance.sh" rollback
	[ "$(version_on "$P1")" = v1 ]
	[ "$(kc_get "$P1" / | kc_json 'd["items"]')" = 3 ]
	[ "$(fingerprint a)" = "$before" ]
	[ ! -e "$C/instances/a/upgrade.journal" ]
}

@test "rollback --to an environment, a snapshot or a version, each checked healthy before the switch" {
	with_items v1
	"$C/instances/a/instance.sh" snapshot >/dev/null
	snap=$(basename "$(ls "$C"/snapshots/a.*.v1.tar.zst)")
	kc_post "$P1" "after the snapshot" >/dev/null
	processed "$P1" 4
	"$C/instances/a/instance.sh" upgrade v2 >/dev/null
	# Not the active one, nor what there is not.
	run -1 "$C/instances/a/instance.sh" rollback --to green
	[[ "${lines[-1]}" == *"environment green is the active one already" ]]
	run -1 "$C/instances/a/instance.sh" rollback --to v9
	[[ "${lines[-1]}" == *'neither environment blue nor a snapshot of "a" holds version v9 ("instance.sh envs" lists what there is)' ]]
	run -1 "$C/instances/a/instance.sh" rollback --to a.20000101_000000.v1.tar.zst
	[[ "${lines[-1]}" == *"does not exist" ]]
	[ "$(version_on "$P1")" = v2 ]
	# An environment.
	run -0 "$C/instances/a/instance.sh" rollback --to blue
	[ "$(version_on "$P1")" = v1 ]
	[ "$(kc_get "$P1" / | kc_json 'd["items"]')" = 4 ]
	# A snapshot, by its file name: restored at its own version into green,
	# whose v2 is archived first.
	run -0 "$C/instances/a/instance.sh" rollback --to "$snap"
	echo "$output"
	[[ "$output" == *"archiving environment green (v2)"* ]]
	[[ "$output" == *'instance "a" runs v1 on environment green (rolled back from v1)'* ]]
	[ "$(env_of a)" = green ]
	[ "$(version_on "$P1")" = v1 ]
	[ "$(kc_get "$P1" / | kc_json 'd["items"]')" = 3 ]
	kc_post "$P1" "on the restored snapshot" >/dev/null
	processed "$P1" 4
	# A version that only the archive holds: the newest snapshot of v2.
	run -0 "$C/instances/a/instance.sh" envs --json
	[ "$(kc_json '[e["version"] for e in d if e["env"] == "archive"]' <<<"$output")" = "['v2', 'v1']" ]
	run -0 "$C/instances/a/instance.sh" rollback --to v2
	[ "$(env_of a)" = blue ]
	[ "$(version_on "$P1")" = v2 ]
	[ "$(kc_get "$P1" / | kc_json 'd["items"]')" = 4 ]
	[ "$(kc_get "$P1" /items/4 | kc_json 'd["file"]')" = "after the snapshot" ]
	[ ! -e "$C/instances/a/upgrade.journal" ]
}

@test "kill -9 at each step of an upgrade: the next command puts the instance back, data intact" {
	with_items v1
	before=$(fingerprint a)
	for step in "holding writes" "copied database" "copied files" "migrating environment" "starting environment"; do
		run -0 python3 "$TOOL" killat "$step" "$C/instances/a/instance.sh" upgrade v2
		[ -e "$C/instances/a/upgrade.journal" ]
		run -0 "$C/instances/a/instance.sh" status
		echo "$step: $output"
		[[ "${lines[0]}" == *'undid an interrupted upgrade of "a" to v2: it serves v1 on blue'* ]]
		[ ! -e "$C/instances/a/upgrade.journal" ]
		[ "$(version_on "$P1")" = v1 ]
		[ "$(fingerprint a)" = "$before" ]
		[ -z "$(kc_containers | grep _green_)" ]
		[ "$(kc_sql "SELECT COUNT(*) FROM mysql.user WHERE User LIKE 'kcload%'")" = 0 ]
		# Writes go through again, and the worker runs.
		id=$(kc_post "$P1" "after $step" | kc_json 'd["id"]')
		processed "$P1" "$id"
		before=$(fingerprint a)
	done
	# Killed once the proxy has switched: the next command finishes the job
	# (unless the kill came after the upgrade had recorded the switch
	# itself: the line is printed just before that).
	run -0 python3 "$TOOL" killat "is healthy and serving" "$C/instances/a/instance.sh" upgrade v2
	journal=no
	[ ! -e "$C/instances/a/upgrade.journal" ] || journal=yes
	run -0 "$C/instances/a/instance.sh" envs
	echo "journal: $journal; $output"
	[ "$journal" = no ] || [[ "${lines[0]}" == *'finished an interrupted upgrade of "a": it serves v2 on green'* ]]
	[ ! -e "$C/instances/a/upgrade.journal" ]
	[ "$(version_on "$P1")" = v2 ]
	[ "$(env_of a)" = green ]
	[ "$(kc_get "$P1" / | kc_json 'd["items"]')" = 8 ]
	[ -z "$(kc_containers | grep _blue_)" ]
	[ "$(fingerprint a blue)" = "$before" ]
	id=$(kc_post "$P1" "on v2" | kc_json 'd["id"]')
	processed "$P1" "$id"
}

@test "an upgrade starts the new environment ahead, held at its gate until the migrate is done" {
	with_items v1
	# Killed as the migrate begins: green's processes run, each still at
	# the shut gate (the gate's shell is PID 1: the app never ran).
	run -0 python3 "$TOOL" killat "migrating environment" "$C/instances/a/instance.sh" upgrade v2
	[ -e "$C/instances/a/gate/green/shut" ]
	[ ! -e "$C/instances/a/gate/blue/shut" ]
	for p in web worker; do
		[ "$($DOCKER inspect -f '{{.State.Running}}' "${NAME}_a_green_$p")" = true ]
		run -0 $DOCKER exec "${NAME}_a_green_$p" cat /proc/1/cmdline
		[[ "$output" == /bin/sh* ]] && [[ "$output" == *korcluster-gate* ]]
	done
	# The next command undoes the upgrade; the waiting containers go.
	run -0 "$C/instances/a/instance.sh" status
	[[ "${lines[0]}" == *'undid an interrupted upgrade of "a" to v2: it serves v1 on blue'* ]]
	[ -z "$(kc_containers | grep _green_)" ]
	[ ! -e "$C/instances/a/gate/green/shut" ]
	# Once the migrate is done the gate opens: the app runs as PID 1.
	run -0 "$C/instances/a/instance.sh" upgrade v2
	[ ! -e "$C/instances/a/gate/green/shut" ]
	for p in web worker; do
		run -0 $DOCKER exec "${NAME}_a_green_$p" cat /proc/1/cmdline
		[[ "$output" == python3*"/app/app.py$p" ]]
	done
	[ "$(version_on "$P1")" = v2 ]
	id=$(kc_post "$P1" "after the upgrade" | kc_json 'd["id"]')
	processed "$P1" "$id"
}
