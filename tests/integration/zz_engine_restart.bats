#!/usr/bin/env bats
# Last, as it restarts the engine under every other container.

load helpers

setup() {
	kc_setup
	kc_ports
}
teardown() { kc_teardown; }

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
