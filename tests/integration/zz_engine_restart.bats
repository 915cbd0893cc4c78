#!/usr/bin/env bats
# Last, as it restarts the engine under every other container.

load helpers

setup() { kc_setup; }
teardown() { kc_teardown; }

@test "the cluster's containers come back after the engine restarts" {
	kc_boot
	"$REPO/tests/lib/dockerd.sh" restart >/dev/null
	# The engine's restart policy brings them back; wait for readiness.
	for _ in $(seq 1 120); do
		state=$("$C/cluster.sh" status --json 2>/dev/null | kc_json 'd["state"]' 2>/dev/null || true)
		[ "$state" = booted ] && break
		sleep 0.5
	done
	[ "$state" = booted ]
	[ "$(kc_containers)" = "${NAME}_db running
${NAME}_redis running" ]
	run "$C/cluster.sh" boot
	[ "$output" = "cluster \"$NAME\" is already booted" ]
}
