#!/usr/bin/env bats
# Last, as it restarts the engine under every other container.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	kc_setup
	kc_ports
}
teardown() { kc_teardown; }

# After the engine restarted under a command: the next command on instance
# a puts it back (its containers, the proxy), boot the cluster's services;
# then wait (bounded, 60 s) until a answers on port $1.
back_up() {
	for _ in $(seq 1 120); do
		$DOCKER version >/dev/null 2>&1 && break
		sleep 0.5
	done
	run -0 "$C/instances/a/instance.sh" envs
	echo "$output"
	run -0 "$C/cluster.sh" boot
	for _ in $(seq 1 120); do
		kc_get "$1" /health >/dev/null 2>&1 && return 0
		sleep 0.5
	done
	return 1
}

@test "the cluster's containers and serving instances come back after the engine restarts" {
	kc_boot
	"$C/cluster.sh" new --port "$P1" a >/dev/null
	"$C/instances/a/instance.sh" start >/dev/null
	id=$(kc_post "$P1" survivor | kc_json 'd["id"]')
	"$REPO/tests/lib/dockerd.sh" restart >/dev/null
	# The engine's restart policy brings everything back; wait for readiness.
	for _ in $(seq 1 120); do
		state=$("$C/cluster.sh" status --json 2>/dev/null | kc_json 'd["state"]' 2>/dev/null || true)
		[ "$state" = booted ] && kc_get "$P1" "/items/$id" >/dev/null 2>&1 && break
		sleep 0.5
	done
	[ "$state" = booted ]
	[ "$(kc_containers)" = "${NAME}_a_blue_web running
${NAME}_a_blue_worker running
${NAME}_db running
${NAME}_proxy running
${NAME}_redis running" ]
	# Through the proxy, at the web container's fixed address.
	[ "$(kc_get "$P1" "/items/$id" | kc_json 'd["body"]')" = survivor ]
	run "$C/cluster.sh" boot
	[ "$output" = "cluster \"$NAME\" is already booted" ]
}

@test "the engine restarted in the middle of an upgrade: it fails clearly; the next command puts the instance back" {
	with_items v1
	before=$(fingerprint a)
	run -1 python3 "$TOOL" runat "migrating environment green" "$REPO/tests/lib/dockerd.sh restart >/dev/null" \
		"$C/instances/a/instance.sh" upgrade v2
	echo "$output"
	# (its messages on stderr, the steps on stdout: their order varies)
	[[ "$output" == *"korcluster: upgrading instance \"a\" to v2 (it still runs v1 on blue): "* ]]
	back_up "$P1"
	[ ! -e "$C/instances/a/upgrade.journal" ]
	[ "$(kc_get "$P1" / | kc_json 'd["version"]')" = v1 ]
	[ "$(fingerprint a)" = "$before" ]
	kc_post "$P1" "after the restart" >/dev/null
	processed "$P1" 4
	[ -z "$(kc_containers | grep _green_)" ]
	run -0 "$C/instances/a/instance.sh" upgrade v2
}

@test "the engine restarted in the middle of an import: it fails clearly; the instance serves what it had" {
	with_items v1
	"$C/instances/a/instance.sh" snapshot -o "$T/s.tar.zst" >/dev/null
	kc_post "$P1" "after the snapshot" >/dev/null
	processed "$P1" 4
	before=$(fingerprint a)
	run -1 python3 "$TOOL" runat "restoring into environment" "$REPO/tests/lib/dockerd.sh restart >/dev/null" \
		"$C/instances/a/instance.sh" import "$T/s.tar.zst"
	echo "$output"
	[[ "$output" == *"korcluster: importing \"$T/s.tar.zst\" into instance \"a\": "* ]]
	back_up "$P1"
	[ "$(env_of a)" = blue ]
	[ "$(kc_get "$P1" / | kc_json 'd["items"]')" = 4 ]
	[ "$(fingerprint a)" = "$before" ]
	run -0 "$C/instances/a/instance.sh" import "$T/s.tar.zst"
	[ "$(kc_get "$P1" / | kc_json 'd["items"]')" = 3 ]
}
