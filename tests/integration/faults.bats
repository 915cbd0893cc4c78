#!/usr/bin/env bats
# The fault matrix: a full disk, MySQL killed, the proxy gone, commands at
# once.  Each ends with nothing acknowledged lost and the instance serving
# or cleanly stopped, after one clear message.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	kc_setup
	kc_ports
}
teardown() {
	for m in "$C/snapshots" "$C/instances/a/data"; do
		mountpoint -q "$m" 2>/dev/null && umount "$m"
	done
	kc_teardown
}

items() { kc_get "$1" / | kc_json 'd["items"]'; }

@test "a full disk during a snapshot: it fails with the reason, leaves no partial file, and writes go on" {
	with_items v1
	head -c 3M /dev/urandom >"$C/instances/a/data/blue/big.bin"
	mount -t tmpfs -o size=1m tmpfs "$C/snapshots"
	run -1 "$C/instances/a/instance.sh" snapshot
	echo "$output"
	[[ "${lines[-1]}" == "korcluster: "*"No space left on device"* ]]
	[ -z "$(ls -A "$C/snapshots")" ]
	# Writes were let through again.
	kc_post "$P1" "after the failed snapshot" >/dev/null
	[ "$(items "$P1")" = 4 ]
	umount "$C/snapshots"
	run -0 "$C/instances/a/instance.sh" snapshot
	[ "$(ls "$C"/snapshots/a.*.tar.zst | wc -l)" = 1 ]
}

@test "a full disk during an import: it fails with the reason and the instance is as it was" {
	with_items v1
	head -c 3M /dev/urandom >"$C/instances/a/data/blue/big.bin"
	"$C/instances/a/instance.sh" snapshot -o "$T/s.tar.zst" >/dev/null
	rm "$C/instances/a/data/blue/big.bin"
	"$C/instances/a/instance.sh" stop >/dev/null
	before=$(fingerprint a)
	# The instance's files on a 1 MiB file system: the snapshot's 3 MiB
	# file does not fit.
	cp -a "$C/instances/a/data" "$T/data"
	mount -t tmpfs -o size=1m tmpfs "$C/instances/a/data"
	cp -a "$T/data/." "$C/instances/a/data/"
	run -1 "$C/instances/a/instance.sh" import "$T/s.tar.zst"
	echo "$output"
	[[ "${lines[-1]}" == "korcluster: importing \"$T/s.tar.zst\" into instance \"a\": "*"No space left on device"* ]]
	[ "$(env_of a)" = blue ]
	[ "$(fingerprint a)" = "$before" ]
	[ ! -e "$C/instances/a/data/green.import" ]
	run -0 "$C/instances/a/instance.sh" envs --json
	[ "$(kc_json '[e["state"] for e in d if e["env"] == "green"][0]' <<<"$output")" = empty ]
	umount "$C/instances/a/data"
	"$C/instances/a/instance.sh" start >/dev/null
	[ "$(items "$P1")" = 3 ]
}

@test "MySQL killed during an import: it fails clearly; once MySQL is back nothing is lost and it imports" {
	with_items v1
	"$C/instances/a/instance.sh" snapshot -o "$T/s.tar.zst" >/dev/null
	kc_post "$P1" "after the snapshot" >/dev/null
	processed "$P1" 4
	run -1 python3 "$TOOL" runat "restoring into environment" "$DOCKER kill ${NAME}_db >/dev/null" \
		"$C/instances/a/instance.sh" import "$T/s.tar.zst"
	echo "$output"
	[[ "${lines[-1]}" == "korcluster: importing \"$T/s.tar.zst\" into instance \"a\": "* ]]
	[ "$(env_of a)" = blue ]
	# boot brings MySQL back; the instance serves what was acknowledged.
	run -0 "$C/cluster.sh" boot
	[ "$(items "$P1")" = 4 ]
	[ "$(kc_get "$P1" /items/4 | kc_json 'd["body"]')" = "after the snapshot" ]
	run -0 "$C/instances/a/instance.sh" import "$T/s.tar.zst"
	[ "$(items "$P1")" = 3 ]
}

@test "MySQL killed during an upgrade: it rolls back by itself; once MySQL is back v1 serves its data" {
	with_items v1
	before=$(fingerprint a)
	run -1 python3 "$TOOL" runat "migrating environment green" "$DOCKER kill ${NAME}_db >/dev/null" \
		"$C/instances/a/instance.sh" upgrade v2
	echo "$output"
	[[ "${lines[-1]}" == "korcluster: upgrading instance \"a\" to v2 (it still runs v1 on blue): "* ]]
	[ "$(env_of a)" = blue ]
	[ ! -e "$C/instances/a/upgrade.journal" ]
	run -0 "$C/cluster.sh" boot
	[ "$(kc_get "$P1" / | kc_json 'd["version"]')" = v1 ]
	[ "$(items "$P1")" = 3 ]
	[ "$(fingerprint a)" = "$before" ]
	run -0 "$C/instances/a/instance.sh" upgrade v2
	[ "$(kc_get "$P1" / | kc_json 'd["version"]')" = v2 ]
}

@test "the proxy removed or stopped while instances serve: status says so; the next start, and boot, bring it back" {
	kc_boot
	"$C/cluster.sh" new --port "$P1" a >/dev/null
	"$C/cluster.sh" new --port "$P2" b >/dev/null
	"$C/instances/a/instance.sh" start >/dev/null
	$DOCKER rm -f "${NAME}_proxy" >/dev/null
	run -1 --separate-stderr "$C/cluster.sh" status
	[[ "$stderr" == *"the proxy is absent"* ]]
	run ! kc_get "$P1" /health
	# The next start brings the proxy back, with every served instance.
	run "$C/instances/b/instance.sh" start
	echo "$output"
	[ "$status" = 0 ]
	kc_get "$P1" /health >/dev/null
	kc_get "$P2" /health >/dev/null
	$DOCKER stop -t 1 "${NAME}_proxy" >/dev/null
	run -1 "$C/cluster.sh" status
	run -0 "$C/cluster.sh" boot
	kc_get "$P1" /health >/dev/null
	kc_get "$P2" /health >/dev/null
	run -0 "$C/cluster.sh" status
}

@test "two commands on one instance at once: the second is busy; on two instances at once both work" {
	kc_boot
	"$C/cluster.sh" new --port "$P1" a >/dev/null
	"$C/cluster.sh" new --port "$P2" b >/dev/null
	"$C/instances/a/instance.sh" start >/dev/null
	"$C/instances/b/instance.sh" start >/dev/null
	flock "$C/instances/a/.lock" sleep 5 3>&- &
	sleep 0.5
	run -1 "$C/instances/a/instance.sh" snapshot
	echo "$output"
	[[ "${lines[-1]}" == *'the instance is busy: another korcluster command is working on it; try again when it ends' ]]
	[ -z "$(ls -A "$C/snapshots")" ]
	wait
	# Two instances: each has its own lock.
	("$C/instances/a/instance.sh" snapshot >"$T/a.out" 2>&1; echo $? >"$T/a.rc") 3>&- &
	("$C/instances/b/instance.sh" upgrade v2 >"$T/b.out" 2>&1; echo $? >"$T/b.rc") 3>&- &
	wait
	cat "$T/a.out" "$T/b.out"
	[ "$(cat "$T/a.rc")" = 0 ] && [ "$(cat "$T/b.rc")" = 0 ]
	[ "$(ls "$C"/snapshots/a.*.v1.tar.zst | wc -l)" = 1 ]
	[ "$(kc_get "$P2" / | kc_json 'd["version"]')" = v2 ]
}

@test "MySQL killed during new: it fails clearly, keeps no folder, and once MySQL is back the same new works" {
	kc_boot
	run -1 python3 "$TOOL" runat "running setup of" "$DOCKER kill ${NAME}_db >/dev/null" \
		"$C/cluster.sh" new --port "$P1" a
	echo "$output"
	[[ "${lines[-1]}" == "korcluster: creating instance \"a\": "* ]]
	[[ "$output" == *'the next "new a" removes them'* ]]
	[ ! -e "$C/instances/a" ]
	run -0 "$C/cluster.sh" boot
	# The databases it made are its own to clear: the same new works.
	run -0 "$C/cluster.sh" new --port "$P1" a
	echo "$output"
	[[ "$output" == *'removed the databases and user an earlier, failed "new a" left'* ]]
	[ ! -e "$C/instances/.a.new" ]
	"$C/instances/a/instance.sh" start >/dev/null
	kc_post "$P1" "first" >/dev/null
	[ "$(items "$P1")" = 1 ]
}
