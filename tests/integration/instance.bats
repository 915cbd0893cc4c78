#!/usr/bin/env bats
# Instances of the sample app against the real engine, through the proxy.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	kc_setup
	kc_ports
}
teardown() { kc_teardown; }

# A booted cluster of the sample app whose health timeout is $1 seconds.
# quick_boot SECONDS [SED]: boot a cluster of the sample template with
# health_timeout SECONDS and the sed expression SED applied.
quick_boot() {
	mkdir "$T/tpl"
	sed -e "s|^health_timeout = .*|health_timeout = $1|" -e "${2:-}" "$REPO/templates/sample.ini" >"$T/tpl/quick.ini"
	export KORCLUSTER_TEMPLATES=$T/tpl
	"$REPO/cluster.sh" create "$C" --template quick --bind 127.0.0.1 "$NAME" >/dev/null
	"$C/cluster.sh" boot >/dev/null
}

@test "two instances through their whole life keep their data" {
	kc_boot
	run "$C/cluster.sh" new --port "$P1" a
	[ "$status" -eq 0 ]
	[[ "$output" == *"created instance \"a\" (v1) on port $P1"* ]]
	VERSION=v1 PORT=$P2 "$C/cluster.sh" new b >/dev/null
	[ "$(stat -c %a "$C/instances/a/instance.ini")" = 600 ]
	[ "$(readlink "$C/instances/a/instance.sh")" = "$REPO/korcluster" ]
	[ -d "$C/instances/a/data/blue" ] && [ -d "$C/instances/a/log" ]
	skb=$(sed -n 's/^secret_key_base = //p' "$C/instances/a/instance.ini")
	[ ${#skb} -eq 64 ]

	"$C/instances/a/instance.sh" start >/dev/null
	"$C/instances/b/instance.sh" start >/dev/null
	[ "$(kc_get "$P1" / | kc_json 'd["version"]')" = v1 ]
	ida=$(kc_post "$P1" alpha | kc_json 'd["id"]')
	idb=$(kc_post "$P2" beta | kc_json 'd["id"]')
	processed "$P1" "$ida"
	processed "$P2" "$idb"
	[ "$(kc_get "$P1" "/items/$ida" | kc_json 'd["derived"]')" = ALPHA ]
	[ "$(cat "$C/instances/a/data/blue/items/$ida.txt")" = alpha ]
	fp=$(kc_get "$P1" / | kc_json 'd["secret_fingerprint"]')

	# stop/start keeps the data and the secret; the other instance serves on.
	"$C/instances/a/instance.sh" stop >/dev/null
	run ! kc_get "$P1" /
	kc_get "$P2" "/items/$idb" >/dev/null
	"$C/instances/a/instance.sh" start >/dev/null
	[ "$(kc_get "$P1" "/items/$ida" | kc_json 'd["body"]')" = alpha ]
	[ "$(kc_get "$P1" / | kc_json 'd["secret_fingerprint"]')" = "$fp" ]

	# shutdown/boot: both come back serving, data intact, worker working.
	"$C/cluster.sh" shutdown >/dev/null
	[ -z "$(kc_containers)" ]
	"$C/cluster.sh" boot >/dev/null
	[ "$(kc_get "$P1" "/items/$ida" | kc_json 'd["body"]')" = alpha ]
	[ "$(kc_get "$P2" "/items/$idb" | kc_json 'd["body"]')" = beta ]
	id2=$(kc_post "$P1" again | kc_json 'd["id"]')
	processed "$P1" "$id2"

	run "$C/cluster.sh" list --json
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | kc_json '" ".join(i["name"]+":"+i["state"]+":"+i["health"] for i in d)')" = "a:running:healthy b:running:healthy" ]
	run "$C/instances/b/instance.sh" status --json
	[ "$(echo "$output" | kc_json 'd["health"]')" = healthy ]

	# No container but the proxy publishes or binds host ports.
	for ctr in $($DOCKER ps -q --filter "label=korcluster.cluster=$NAME"); do
		[ "$($DOCKER inspect -f '{{len .HostConfig.PortBindings}}' "$ctr")" = 0 ]
	done
	[ "$($DOCKER inspect -f '{{.HostConfig.NetworkMode}}' "${NAME}_proxy")" = host ]
	[ "$($DOCKER inspect -f '{{index .Config.Labels "korcluster.env"}} {{.HostConfig.RestartPolicy.Name}}' "${NAME}_a_blue_web")" = "blue unless-stopped" ]

	run "$C/cluster.sh" destroy --yes a
	[ "$status" -eq 0 ]
	[ ! -e "$C/instances/a" ]
	run ! kc_get "$P1" /
	[ "$(kc_sql "SELECT COUNT(*) FROM mysql.user WHERE User='a'")" = 0 ]
	[ -z "$(kc_sql "SHOW DATABASES LIKE 'a\\_%'")" ]
	kc_get "$P2" "/items/$idb" >/dev/null
}

@test "an instance's database user cannot read another instance's database" {
	kc_boot
	"$C/cluster.sh" new --port "$P1" a >/dev/null
	"$C/cluster.sh" new --port "$P2" b >/dev/null
	pw=$(sed -n 's/^db_password = //p' "$C/instances/a/instance.ini")
	printf '[client]\nuser=a\npassword=%s\n' "$pw" >"$T/a.cnf"
	chmod 600 "$T/a.cnf"
	sqla() {
		$DOCKER run --rm --network "${NAME}_net" -v "$T/a.cnf:/a.cnf:ro" \
			127.0.0.1:5000/korcluster-test/python:bookworm \
			mariadb --defaults-extra-file=/a.cnf -h "${NAME}_db" -N -B -e "$1"
	}
	[ "$(sqla 'SELECT COUNT(*) FROM a_blue.items')" = 0 ]
	run sqla 'SELECT COUNT(*) FROM b_blue.items'
	[ "$status" -ne 0 ]
	[[ "$output" == *"denied"* ]]
	run sqla 'CREATE DATABASE sneaky'
	[ "$status" -ne 0 ]
}

@test "bad names, a taken port, an unbooted cluster and a failing setup are refused, with nothing created" {
	kc_create
	run "$C/cluster.sh" new --port "$P1" a
	[ "$status" -eq 1 ]
	[[ "${lines[-1]}" == "korcluster: creating instance \"a\": cluster \"$NAME\" is not booted: run \"cluster.sh boot\" first" ]]
	[ -z "$(ls "$C/instances")" ]
	"$C/cluster.sh" boot >/dev/null
	for bad in Bad 1a a-b root "$(printf 'x%.0s' $(seq 1 32))"; do
		run "$C/cluster.sh" new --port "$P1" "$bad"
		[ "$status" -eq 1 ]
	done
	run "$C/cluster.sh" new --port 0 a
	[ "$status" -eq 1 ]
	run "$C/cluster.sh" new a
	[ "$status" -eq 2 ]
	"$C/cluster.sh" new --port "$P1" a >/dev/null
	run "$C/cluster.sh" new --port "$P1" b
	[ "$status" -eq 1 ]
	[[ "${lines[-1]}" == *"port $P1 is taken by another instance" ]]
	# A port some other program holds on the host.
	python3 -c 'import socket,sys,time; s=socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(); time.sleep(8)' "$P2" 3>&- &
	for _ in $(seq 1 50); do (exec 3<>/dev/tcp/127.0.0.1/$P2) 2>/dev/null && break; sleep 0.1; done
	run "$C/cluster.sh" new --port "$P2" b
	[ "$status" -eq 1 ]
	[[ "${lines[-1]}" == *"port $P2 on 127.0.0.1 is taken on this host"* ]]
	# Gone before the port is asked for again (the signal is not enough).
	kill %1 || true
	wait %1 || true
	# A setup that fails leaves no database, user or folder.
	run "$C/cluster.sh" new --port "$P2" --version broken c
	[ "$status" -eq 1 ]
	[[ "${lines[-1]}" == "korcluster: creating instance \"c\": setup \"python3 /app/app.py setup\" exited 3 (output above); nothing was kept" ]]
	[ ! -e "$C/instances/c" ]
	[ "$(kc_sql "SELECT COUNT(*) FROM mysql.user WHERE User='c'")" = 0 ]
	[ -z "$(kc_sql "SHOW DATABASES LIKE 'c\\_%'")" ]
	[ "$(ls "$C/instances")" = a ]
	# A database of the new instance's name holds someone's data: refused,
	# neither set up over nor dropped.
	kc_sql "CREATE DATABASE d_green; CREATE TABLE d_green.keep (i INT); INSERT INTO d_green.keep VALUES (42)"
	run "$C/cluster.sh" new --port "$P2" d
	[ "$status" -eq 1 ]
	[[ "${lines[-1]}" == *"database \"d_green\" exists already; korcluster leaves it alone" ]]
	[ "$(kc_sql "SELECT i FROM d_green.keep")" = 42 ]
	[ "$(kc_sql "SELECT COUNT(*) FROM mysql.user WHERE User='d'")" = 0 ]
	[ ! -e "$C/instances/d" ]
}

@test "status exits 1 when a served instance is down or unhealthy, 0 when all is well or it is stopped on purpose" {
	kc_boot
	"$C/cluster.sh" new --port "$P1" a >/dev/null
	I=$C/instances/a
	run -0 "$I/instance.sh" status --json
	[ "$(kc_json 'd["ok"]' <<<"$output")" = True ]
	"$I/instance.sh" start >/dev/null
	run -0 "$I/instance.sh" status
	run -0 "$C/cluster.sh" status
	# The web container dies: the instance is served but down.
	$DOCKER kill "${NAME}_a_blue_web" >/dev/null
	run -1 --separate-stderr "$I/instance.sh" status --json
	[ "$(kc_json 'd["ok"]' <<<"$output")" = False ]
	[ "$stderr" = "korcluster: instance \"a\" is not healthy: served, but its containers are partial" ]
	run -1 "$C/cluster.sh" status
	[ "${lines[-1]}" = "korcluster: cluster \"$NAME\" is not healthy: instance a: served, but its containers are partial" ]
	# Stopped on purpose: fine.
	"$I/instance.sh" stop >/dev/null
	run -0 "$I/instance.sh" status
	run -0 "$C/cluster.sh" status
}

@test "status reads the engine's healthcheck verdict from one listing; --live asks the app itself" {
	# A healthcheck that always fails, checked every second once the
	# 3 s start period is over; the app itself is fine.
	quick_boot 3 's|^healthcheck = .*|healthcheck = false|; s|^health_interval = .*|health_interval = 1|'
	"$C/cluster.sh" new --port "$P1" a >/dev/null
	I=$C/instances/a
	"$I/instance.sh" start >/dev/null
	[ "$($DOCKER inspect -f '{{json .Config.Healthcheck.Test}}' "${NAME}_a_blue_web")" = '["CMD","false"]' ]
	[ "$($DOCKER inspect -f '{{json .Config.Healthcheck}}' "${NAME}_a_blue_worker")" = null ]
	for _ in $(seq 1 60); do
		[ "$($DOCKER inspect -f '{{.State.Health.Status}}' "${NAME}_a_blue_web")" = unhealthy ] && break
		sleep 0.5
	done
	run -0 --separate-stderr "$C/cluster.sh" list --json
	[ "$(kc_json 'd[0]["health"]' <<<"$output")" = unhealthy ]
	run -1 --separate-stderr "$C/cluster.sh" status
	[ "$stderr" = "korcluster: cluster \"$NAME\" is not healthy: instance a: served, but its healthcheck fails" ]
	run -1 "$I/instance.sh" status
	# The app answers: --live says so.
	run -0 "$C/cluster.sh" status --live
	run -0 --separate-stderr "$C/cluster.sh" list --json --live
	[ "$(kc_json 'd[0]["health"]' <<<"$output")" = healthy ]
	run -0 "$I/instance.sh" status --live
}

@test "instance.sh, -C DIR and the working folder agree; run passes exit codes through" {
	kc_boot
	"$C/cluster.sh" new --port "$P1" a >/dev/null
	I=$C/instances/a
	"$I/instance.sh" start >/dev/null
	a=$("$I/instance.sh" status --json | kc_json 'd["name"]+d["state"]+d["health"]')
	b=$("$REPO/korcluster" -C "$I" status --json | kc_json 'd["name"]+d["state"]+d["health"]')
	c=$(cd "$I" && "$REPO/korcluster" status --json | kc_json 'd["name"]+d["state"]+d["health"]')
	[ "$a" = arunninghealthy ] && [ "$b" = "$a" ] && [ "$c" = "$a" ]
	run -3 "$I/instance.sh" run python3 -c 'import sys; print("out"); sys.exit(3)'
	[ "$output" = out ]
	run -0 "$REPO/korcluster" -C "$I" run "python3 -c 'print(6*7)'"
	[ "$output" = 42 ]
	# The one-off container sees the instance's environment and files.
	run -0 "$I/instance.sh" run python3 -c 'import os; print(os.environ["DB_NAME"], os.path.isdir("/data/items"))'
	[ "$output" = "a_blue True" ]
	# With a terminal (script(1) gives one) the command gets a TTY and our input.
	run -5 script -qec "$I/instance.sh run python3 -c 'import sys; print(sys.stdin.isatty()); print(\"got\", input()); sys.exit(5)'" /dev/null <<<"typed"
	[[ "$output" == *"True"* ]]
	[[ "$output" == *"got typed"* ]]
	run "$I/instance.sh" logs --tail 5 web
	[ "$status" -eq 0 ]
	[[ "$output" == *"GET /health"* ]]
	run "$I/instance.sh" logs worker
	[[ "$output" == *"worker"* ]]
	run -2 "$I/instance.sh" logs --tail x
	run -1 "$I/instance.sh" logs nosuch
	[[ "$output" == *"has no process \"nosuch\""* ]]
	# No one-off container is left behind.
	[ -z "$($DOCKER ps -aq --filter "label=korcluster.cluster=$NAME" --filter "label=korcluster.instance=a" --filter "label=korcluster.role=run")" ]
	run -1 "$C/cluster.sh" destroy a
	[[ "$output" == *"add --yes"* ]]
	[ -d "$I" ]
}

@test "adding, starting and stopping an instance drops no request of another" {
	kc_boot
	"$C/cluster.sh" new --port "$P2" b >/dev/null
	"$C/instances/b/instance.sh" start >/dev/null
	# A client on loopback, a new connection per request, until told to stop
	# (bounded: 3000 requests at most).
	(
		for _ in $(seq 1 3000); do
			[ -e "$T/done" ] && break
			curl -s -o /dev/null -w '%{http_code}\n' -m 5 "http://127.0.0.1:$P2/health" || echo failed
		done >"$T/codes"
	) 3>&- &
	"$C/cluster.sh" new --port "$P1" a >/dev/null
	"$C/instances/a/instance.sh" start >/dev/null
	"$C/instances/a/instance.sh" stop >/dev/null
	"$C/instances/a/instance.sh" start >/dev/null
	"$C/cluster.sh" destroy --yes a >/dev/null
	touch "$T/done"
	wait
	total=$(wc -l <"$T/codes")
	[ "$total" -gt 20 ]
	[ "$(grep -c '^200$' "$T/codes")" -eq "$total" ]
}

@test "an instance that never gets healthy fails start clearly and leaves nothing running" {
	quick_boot 3
	"$C/cluster.sh" new --port "$P1" --version v3 a >/dev/null
	run -1 "$C/instances/a/instance.sh" start
	[[ "${lines[-1]}" == "korcluster: starting instance \"a\": instance \"a\" is not healthy after 3 s: GET /health answered 503" ]]
	[[ "$output" == *"--- last lines of ${NAME}_a_blue_web:"* ]]
	[ -z "$($DOCKER ps -aq --filter "label=korcluster.cluster=$NAME" --filter "label=korcluster.instance=a")" ]
	run ! kc_get "$P1" /
}

@test "an interrupted start cleans up and leaves the instance stopped" {
	kc_boot
	"$C/cluster.sh" new --port "$P1" --version v3 a >/dev/null
	start=$SECONDS
	run -1 timeout --preserve-status -s INT 4 "$C/instances/a/instance.sh" start
	[[ "${lines[-1]}" == *"interrupted" ]]
	[ $((SECONDS - start)) -lt 30 ]
	[ -z "$($DOCKER ps -aq --filter "label=korcluster.cluster=$NAME" --filter "label=korcluster.instance=a")" ]
	run ! kc_get "$P1" /
	# and it can start again afterwards (the lock was released).
	run -1 timeout --preserve-status -s TERM 3 "$C/instances/a/instance.sh" start
	[[ "${lines[-1]}" == *"interrupted" ]]
}

@test "an instance made before environments gets its files moved to data/blue, once" {
	kc_boot
	"$C/cluster.sh" new --port "$P1" a >/dev/null
	"$C/instances/a/instance.sh" start >/dev/null
	id=$(kc_post "$P1" "from the old layout" | kc_json 'd["id"]')
	processed "$P1" "$id"
	"$C/instances/a/instance.sh" stop >/dev/null
	# The old layout: files right in data/, no [env.*] sections.
	d=$C/instances/a/data
	mv "$d/blue/items" "$d/" && rmdir "$d/blue"
	sed -i '/^\[env.blue\]/,/^created/d' "$C/instances/a/instance.ini"
	run -0 "$C/instances/a/instance.sh" start
	[[ "${lines[0]}" == *'instance "a": its files moved to '"$d"'/blue'* ]]
	[ "$(ls "$d")" = blue ]
	[ "$(kc_get "$P1" "/items/$id" | kc_json 'd["derived"]')" = "FROM THE OLD LAYOUT" ]
	run -0 "$C/instances/a/instance.sh" status
	[[ "$output" != *"moved"* ]]
}

@test "sixteen instances started at once all come up: a few start together, each timed on its own" {
	# A health timeout a start meets alone but not while fifteen others
	# start ([limits] starts = 0 fails here).
	quick_boot 4
	for i in $(seq 0 15); do
		"$C/cluster.sh" new --port $((P1 + i)) "i$i" >/dev/null
	done
	for i in $(seq 0 15); do
		("$C/instances/i$i/instance.sh" start >"$T/start.$i" 2>&1; echo $? >"$T/rc.$i") 3>&- &
	done
	wait
	for i in $(seq 0 15); do
		cat "$T/start.$i"
		[ "$(cat "$T/rc.$i")" = 0 ]
		kc_get $((P1 + i)) /health >/dev/null
	done
	"$C/cluster.sh" status >/dev/null
}
