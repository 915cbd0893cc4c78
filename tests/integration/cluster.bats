#!/usr/bin/env bats
# Cluster commands against the real engine: create, boot, status, shutdown.

bats_require_minimum_version 1.5.0
load helpers

setup() { kc_setup; }
teardown() { kc_teardown; }

@test "create makes the scaffold" {
	run "$REPO/cluster.sh" create "$C" --template sample --bind 127.0.0.1 "$NAME"
	[ "$status" -eq 0 ]
	[[ "$output" == *"created cluster \"$NAME\""* ]]
	[ "$(readlink "$C/cluster.sh")" = "$REPO/korcluster" ]
	for d in instances snapshots services/db services/redis secrets; do [ -d "$C/$d" ]; done
	[ "$(stat -c %a "$C/secrets")" = 700 ]
	[ "$(stat -c %a "$C/secrets/db_root_password")" = 600 ]
	[ "$(wc -c <"$C/secrets/db_root_password")" -eq 32 ]
	grep -qx "name = $NAME" "$C/cluster.ini"
	grep -qx "template = sample" "$C/cluster.ini"
	grep -qx "bind = 127.0.0.1" "$C/cluster.ini"
	grep -qx "db = 127.0.0.1:5000/korcluster-test/mariadb:bookworm" "$C/cluster.ini"
	run ! grep -q "$(cat "$C/secrets/db_root_password")" "$C/cluster.ini"
	run "$C/cluster.sh" validate
	[ "$status" -eq 0 ]
}

@test "create without a name gets a random one" {
	"$REPO/cluster.sh" create "$T/a" --template sample >/dev/null
	"$REPO/cluster.sh" create "$T/b" --template sample >/dev/null
	a=$(sed -n 's/^name = //p' "$T/a/cluster.ini")
	b=$(sed -n 's/^name = //p' "$T/b/cluster.ini")
	[[ "$a" =~ ^[a-z0-9]{6}$ ]]
	[[ "$b" =~ ^[a-z0-9]{6}$ ]]
	[ "$a" != "$b" ]
	grep -qx "bind = 0.0.0.0" "$T/a/cluster.ini"
	grep -qx "template = sample" "$T/a/cluster.ini"
	# The default template is ConedaKOR.
	"$REPO/cluster.sh" create "$T/k" >/dev/null
	grep -qx "template = kor" "$T/k/cluster.ini"
	[ -d "$T/k/services/elastic" ]
}

@test "create refuses a folder that holds a cluster and changes nothing" {
	kc_create
	before=$(cd "$C" && find . -printf '%p %s %m\n' | sort | md5sum; cat cluster.ini secrets/db_root_password | md5sum)
	run "$REPO/cluster.sh" create "$C" --template sample other
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "${lines[0]}" == "korcluster: creating cluster in \"$C\": it already holds a cluster" ]]
	after=$(cd "$C" && find . -printf '%p %s %m\n' | sort | md5sum; cat cluster.ini secrets/db_root_password | md5sum)
	[ "$before" = "$after" ]
}

@test "create refuses bad input and creates nothing" {
	run "$REPO/cluster.sh" create "$T/x" --template sample 'Bad!'
	[ "$status" -eq 1 ]
	[[ "$output" == *"cluster name \"Bad!\" must match"* ]]
	run "$REPO/cluster.sh" create "$T/x" --template sample --bind 300.1.1.1
	[ "$status" -eq 1 ]
	[[ "$output" == *"\"300.1.1.1\" is not an IP address"* ]]
	run "$REPO/cluster.sh" create "$T/x" --template nosuch
	[ "$status" -eq 1 ]
	[[ "$output" == *"template \"nosuch\" not found"* ]]
	run "$REPO/cluster.sh" create
	[ "$status" -eq 2 ]
	[ ! -e "$T/x" ]
}

@test "boot starts the services, and they answer (a real MySQL login)" {
	kc_create
	run "$C/cluster.sh" boot
	[ "$status" -eq 0 ]
	[[ "$output" == *"cluster \"$NAME\" is up"* ]]
	[ "$(kc_containers)" = "${NAME}_db running
${NAME}_proxy running
${NAME}_redis running" ]
	# A real login over the cluster network with the generated password.
	[ "$(kc_sql 'SELECT 6*7')" = 42 ]
	[ "$($DOCKER exec "${NAME}_redis" redis-cli ping)" = PONG ]
	# Labels, restart policy, data under the cluster folder, no published port.
	fmt='{{index .Config.Labels "korcluster.cluster"}} {{index .Config.Labels "korcluster.role"}} {{.HostConfig.RestartPolicy.Name}} {{len .HostConfig.PortBindings}}'
	[ "$($DOCKER inspect -f "$fmt" "${NAME}_db")" = "$NAME db unless-stopped 0" ]
	[ "$($DOCKER inspect -f "$fmt" "${NAME}_redis")" = "$NAME redis unless-stopped 0" ]
	[ -d "$C/services/db/mysql" ]
	# The password reaches the server as a file, not in the environment.
	[[ "$($DOCKER inspect "${NAME}_db")" != *"$(cat "$C/secrets/db_root_password")"* ]]
}

@test "status --json after boot reports every service healthy; its exit status is the verdict" {
	kc_create
	# Down: exit 1, and the JSON says so too.
	run -1 --separate-stderr "$C/cluster.sh" status --json
	[ "$(echo "$output" | kc_json 'd["state"]')" = down ]
	[ "$(echo "$output" | kc_json 'd["ok"]')" = False ]
	[[ "$stderr" == "korcluster: cluster \"$NAME\" is not healthy: service db is absent; service redis is absent; the proxy is absent" ]]
	"$C/cluster.sh" boot >/dev/null
	run -0 "$C/cluster.sh" status --json
	[ "$(echo "$output" | kc_json 'd["state"]')" = booted ]
	[ "$(echo "$output" | kc_json 'd["ok"]')" = True ]
	[ "$(echo "$output" | kc_json 'd["problems"]')" = "[]" ]
	[ "$(echo "$output" | kc_json '" ".join(s["name"]+"="+s["state"]+"/"+s["health"] for s in d["services"])')" = "db=running/healthy redis=running/healthy" ]
	# A stopped service shows, and fails the verdict.
	$DOCKER stop -t 1 "${NAME}_redis" >/dev/null
	run -1 --separate-stderr "$C/cluster.sh" status --json
	[ "$(echo "$output" | kc_json 'd["state"]')" = partial ]
	[ "$(echo "$output" | kc_json 'd["problems"]')" = "['service redis is exited']" ]
	run -1 "$C/cluster.sh" status
	[[ "$output" == *"redis "*"exited"* ]]
	[ "${lines[-1]}" = "korcluster: cluster \"$NAME\" is not healthy: service redis is exited" ]
}

@test "boot is idempotent" {
	kc_boot
	ids=$($DOCKER ps -q --filter "label=korcluster.cluster=$NAME" | sort)
	run "$C/cluster.sh" boot
	[ "$status" -eq 0 ]
	[ "$output" = "cluster \"$NAME\" is already booted" ]
	[ "$($DOCKER ps -q --filter "label=korcluster.cluster=$NAME" | sort)" = "$ids" ]
	# A stopped service is started again; the other is left alone.
	$DOCKER stop -t 1 "${NAME}_redis" >/dev/null
	run "$C/cluster.sh" boot
	[ "$status" -eq 0 ]
	[[ "$output" == *"${NAME}_redis: started"* ]]
	[[ "$output" != *"${NAME}_db: started"* ]]
	# A changed setting of one service replaces that container only.
	db=$($DOCKER inspect -f '{{.Id}}' "${NAME}_db")
	mkdir "$T/tpl"
	sed 's/^stop_timeout = 10$/stop_timeout = 11/' "$REPO/templates/sample.ini" >"$T/tpl/sample.ini"
	KORCLUSTER_TEMPLATES=$T/tpl run -0 "$C/cluster.sh" boot
	[[ "$output" == *"${NAME}_redis: configuration changed, replacing the container"* ]]
	[ "$($DOCKER inspect -f '{{.Config.StopTimeout}}' "${NAME}_redis")" = 11 ]
	[ "$($DOCKER inspect -f '{{.Id}}' "${NAME}_db")" = "$db" ]
}

@test "shutdown leaves no container of the cluster behind, and boot brings the data back" {
	kc_boot
	kc_sql 'CREATE DATABASE keepme; CREATE TABLE keepme.t (v INT); INSERT INTO keepme.t VALUES (7)'
	run "$C/cluster.sh" shutdown
	[ "$status" -eq 0 ]
	[[ "$output" == *"is shut down"* ]]
	[ -z "$(kc_containers)" ]
	run ! $DOCKER network inspect "${NAME}_net"
	run "$C/cluster.sh" shutdown
	[ "$status" -eq 0 ]
	[[ "$output" == *"was not running"* ]]
	"$C/cluster.sh" boot >/dev/null
	[ "$(kc_sql 'SELECT v FROM keepme.t')" = 7 ]
}

@test "a missing image is pulled from the registry" {
	kc_create
	# A tag of its own in the registry, absent here: other clusters on this
	# engine may be using the image itself.
	img=127.0.0.1:5000/korcluster-test/redis:pull-test
	$DOCKER tag 127.0.0.1:5000/korcluster-test/redis:bookworm "$img"
	$DOCKER push "$img" >/dev/null
	$DOCKER rmi "$img" >/dev/null
	sed -i "s|^redis = .*|redis = $img|" "$C/cluster.ini"
	run "$C/cluster.sh" boot
	[ "$status" -eq 0 ]
	[[ "$output" == *"pulled $img"* ]]
	$DOCKER image inspect "$img" >/dev/null
}

@test "an image the registry lacks fails boot with the engine's reason" {
	kc_create
	sed -i 's|^redis = .*|redis = 127.0.0.1:5000/korcluster-test/nosuch:1|' "$C/cluster.ini"
	run "$C/cluster.sh" boot
	[ "$status" -eq 1 ]
	[[ "${lines[-1]}" == "korcluster: booting cluster \"$NAME\": booting service \"redis\": pulling \"127.0.0.1:5000/korcluster-test/nosuch:1\": "* ]]
}

@test "a service that never gets ready times out with a clear error" {
	mkdir "$T/tpl"
	sed -e 's/^ready = exec redis-cli ping/ready = exec false/' -e 's/^timeout = 60/timeout = 2/' \
		"$REPO/templates/sample.ini" >"$T/tpl/slow.ini"
	KORCLUSTER_TEMPLATES=$T/tpl "$REPO/cluster.sh" create "$C" --template slow "$NAME" >/dev/null
	start=$SECONDS
	KORCLUSTER_TEMPLATES=$T/tpl run "$C/cluster.sh" boot
	[ "$status" -eq 1 ]
	[[ "${lines[-1]}" == "korcluster: booting cluster \"$NAME\": service \"redis\" is not ready after 2 s: \"false\" exited 1" ]]
	[ $((SECONDS - start)) -lt 60 ]
}

@test "validate lists every problem as file:line" {
	kc_create
	cat >"$C/cluster.ini" <<-INI
	[cluster]
	name = Bad Name
	template = sample
	bind = nowhere
	colour = blue
	[images]
	db = 127.0.0.1:5000/korcluster-test/mariadb:bookworm
	cache = redis:7
	proxy = 127.0.0.1:5000/korcluster-test/nginx:bookworm
	INI
	run "$C/cluster.sh" validate
	[ "$status" -eq 1 ]
	[[ "$output" == *"$C/cluster.ini:2: cluster name \"Bad Name\" must match"* ]]
	[[ "$output" == *"$C/cluster.ini:4: \"nowhere\" is not an IP address"* ]]
	[[ "$output" == *"$C/cluster.ini:5: unknown key \"colour\" in [cluster]"* ]]
	[[ "$output" == *"$C/cluster.ini:6: [images] needs an image for service \"redis\""* ]]
	[[ "$output" == *"$C/cluster.ini:8: [images] names \"cache\", which is no service of template \"sample\""* ]]
	[[ "${lines[-1]}" == "korcluster: validating \"$C/cluster.ini\": 5 problems" ]]
	# Every command validates before it acts: boot refuses and starts nothing.
	run "$C/cluster.sh" boot
	[ "$status" -eq 1 ]
	[[ "${lines[-1]}" == "korcluster: checking \"$C/cluster.ini\": 5 problems (listed above)" ]]
	[ -z "$(kc_containers)" ]
}

@test "a second operation on a busy cluster is refused" {
	kc_create
	flock "$C/.lock" sleep 5 3>&- &
	sleep 0.5
	run "$C/cluster.sh" boot
	[ "$status" -eq 1 ]
	[[ "$output" == *"the cluster is busy: another korcluster command is working on it"* ]]
	wait
}

@test "no engine gives one clear error line" {
	kc_create
	DOCKER_HOST=unix://$T/nosuch.sock run "$C/cluster.sh" boot
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "${lines[0]}" == "korcluster: booting cluster \"$NAME\": no Docker engine answers: cannot connect to \"$T/nosuch.sock\""* ]]
	DOCKER_HOST=tcp://127.0.0.1:2375 run "$C/cluster.sh" status
	[ "$status" -eq 1 ]
	[[ "$output" == *"is not unix://PATH"* ]]
}

@test "a service that crashes at start fails boot at once with its last words" {
	mkdir "$T/tpl"
	sed -e '/^\[service.redis\]/,$s/^timeout = 60/timeout = 60\ncommand = --no-such-option/' \
		"$REPO/templates/sample.ini" >"$T/tpl/crash.ini"
	KORCLUSTER_TEMPLATES=$T/tpl "$REPO/cluster.sh" create "$C" --template crash "$NAME" >/dev/null
	start=$SECONDS
	KORCLUSTER_TEMPLATES=$T/tpl run -1 "$C/cluster.sh" boot
	# Seen stopped (exit 1) or already restarted by the engine, as it happens.
	[[ "${lines[-1]}" == "korcluster: booting cluster \"$NAME\": service \"redis\" "*" while starting"*": "*"no-such-option"* ]]
	[ $((SECONDS - start)) -lt 30 ]
}
