#!/usr/bin/env bats
# Process roles of a template (replicas, a scheduler) against the real
# engine, across blue/green switches.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	kc_setup
	kc_ports
	mkdir "$T/tpl"
	export KORCLUSTER_TEMPLATES=$T/tpl
}
teardown() { kc_teardown; }

# The sample template with two workers and a scheduler, "clock": each of
# its containers appends the time to /data/clock.HOSTNAME every 0.2 s.
roles_template() {
	python3 - "$REPO/templates/sample.ini" "$T/tpl/sample.ini" <<'PY'
import sys
s = open(sys.argv[1]).read()
s = s.replace("[process.worker]\ncommand = python3 /app/app.py worker\n",
              "[process.worker]\ncommand = python3 /app/app.py worker\nreplicas = 2\n\n"
              "[process.clock]\ncommand = sh -c 'trap \"exit 0\" TERM; "
              "while :; do date +%s.%N >>/data/clock.$HOSTNAME; sleep 0.2 & wait $!; done'\n"
              "scheduler = yes\n")
open(sys.argv[2], "w").write(s)
PY
}

# Every clock container's run, from the files of both environments (a
# copy or a snapshot carries them along): none overlaps another.
one_clock_at_a_time() {
	python3 - "$C/instances/a/data" <<'PY'
import glob, os, sys
runs = {}
for p in glob.glob(os.path.join(sys.argv[1], "*", "clock.*")):
    t = [float(l) for l in open(p) if l.strip()]
    if t:
        lo, hi = runs.get(os.path.basename(p), (t[0], t[-1]))
        runs[os.path.basename(p)] = (min(lo, t[0]), max(hi, t[-1]))
runs = sorted(runs.values())
print("%d clock runs" % len(runs))
for a, b in zip(runs, runs[1:]):
    if a[1] >= b[0]:
        sys.exit("two clocks ran at once: %r and %r" % (a, b))
PY
}

running() { kc_containers | awk '$2 == "running" { print $1 }' | sed "s/^${NAME}_a_//" | grep -v "^${NAME}_" | sort | tr '\n' ' '; }

@test "replicas run as many containers; a scheduler runs once, across upgrade, import and rollback" {
	roles_template
	kc_boot
	"$C/cluster.sh" new --port "$P1" a >/dev/null
	"$C/instances/a/instance.sh" start >/dev/null
	[ "$(running)" = "blue_clock blue_web blue_worker blue_worker_2 " ]
	# Both workers take jobs.
	for i in $(seq 1 8); do kc_post "$P1" "item $i" >/dev/null; done
	processed "$P1" 8
	sleep 1
	run -0 "$C/instances/a/instance.sh" upgrade v2
	[ "$(running)" = "green_clock green_web green_worker green_worker_2 " ]
	sleep 1
	"$C/instances/a/instance.sh" snapshot -o "$T/a.tar.zst" >/dev/null
	run -0 "$C/instances/a/instance.sh" import "$T/a.tar.zst"
	[ "$(running)" = "blue_clock blue_web blue_worker blue_worker_2 " ]
	sleep 1
	run -0 "$C/instances/a/instance.sh" rollback
	[ "$(running)" = "green_clock green_web green_worker green_worker_2 " ]
	sleep 1
	run -0 one_clock_at_a_time
	echo "$output"
	[ "$output" = "4 clock runs" ]
	"$C/instances/a/instance.sh" stop >/dev/null
	[ -z "$(running)" ]
	[ -z "$(kc_containers | grep "_a_")" ]
}

@test "a template's roles are checked: none on web, a scheduler runs once, one frontend at one address" {
	roles_template
	kc_create
	run -0 "$C/cluster.sh" validate
	sed -i 's/^replicas = 2$/replicas = 2\nscheduler = yes/' "$T/tpl/sample.ini"
	run -1 "$C/cluster.sh" validate
	[[ "$output" == *'a scheduler runs once: replicas must be 1'* ]]
	roles_template
	sed -i 's|^command = python3 /app/app.py web$|&\nreplicas = 3|' "$T/tpl/sample.ini"
	run -1 "$C/cluster.sh" validate
	[[ "$output" == *'[process.web] takes neither replicas, scheduler nor frontend'* ]]
	roles_template
	sed -i 's/^replicas = 2$/replicas = 0/; s/^scheduler = yes$/scheduler = maybe/' "$T/tpl/sample.ini"
	run -1 "$C/cluster.sh" validate
	[[ "$output" == *'"replicas" must be a number from 1 to 32'* ]]
	[[ "$output" == *'"scheduler" must be yes or no'* ]]
	frontend_template
	run -0 "$C/cluster.sh" validate
	printf '\n[process.public2]\ncommand = python3 /app/app.py web\nfrontend = yes\nreplicas = 2\n' >>"$T/tpl/sample.ini"
	run -1 "$C/cluster.sh" validate
	[[ "$output" == *'2 processes say frontend = yes: a template has one frontend at most'* ]]
	[[ "$output" == *'the frontend is served at one address: replicas 1, not a scheduler'* ]]
}

# roles_template with a read-only frontend, "public", of the web's command.
frontend_template() {
	roles_template
	printf '\n[process.public]\ncommand = python3 /app/app.py web\nfrontend = yes\n' >>"$T/tpl/sample.ini"
}

# GET (or $3: another method) $2 on the hostnames' port with Host $1:
# "STATUS CACHE-STATUS BODY".
host_req() {
	local data=()
	[ -z "${3:-}" ] || data=(-d '{"body": "x"}')
	curl -sS -m 10 -X "${3:-GET}" -o "$T/body" -D "$T/head" -w '%{http_code}' -H "Host: $1" \
		-H 'Content-Type: application/json' "${data[@]}" "http://127.0.0.1:$HP${2:-/}" 2>/dev/null || true
	echo " $(sed -n 's/^X-Cache-Status: \([A-Z]*\).*/\1/p' "$T/head" | tr -d '\r') $(cat "$T/body" 2>/dev/null)"
	rm -f "$T/body" "$T/head"
}

@test "a read-only frontend serves the public hostnames through the cache, as a SELECT-only user; admin hostnames get the full app" {
	frontend_template
	HP=$((P1 + 2))
	kc_create
	sed -i "s/^bind = .*/&\nhttp_port = $HP/" "$C/cluster.ini"
	"$C/cluster.sh" boot >/dev/null
	"$C/cluster.sh" new --port "$P1" a >/dev/null
	run -0 "$C/instances/a/instance.sh" start
	[ "$(running)" = "blue_clock blue_public blue_web blue_worker blue_worker_2 " ]
	"$C/instances/a/instance.sh" route add a.example.org >/dev/null
	"$C/instances/a/instance.sh" route add admin.a.example.org --admin >/dev/null
	run -0 "$C/instances/a/instance.sh" route list --json
	[ "$(echo "$output" | kc_json '[(r["host"], r["admin"]) for r in d]')" = \
		"[('a.example.org', False), ('admin.a.example.org', True)]" ]

	# The frontend's database user may read and nothing more.
	$DOCKER inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "${NAME}_a_blue_public" | grep -qx 'DB_USER=a_ro'
	$DOCKER inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "${NAME}_a_blue_web" | grep -qx 'DB_USER=a'
	grants=$(kc_sql "SHOW GRANTS FOR 'a_ro'@'%'")
	echo "$grants"
	[ "$(echo "$grants" | grep -c 'GRANT SELECT ON `a[\\]*_blue`\.\* TO `a_ro`')" = 1 ]
	[ "$(echo "$grants" | grep -c 'GRANT SELECT ON `a[\\]*_green`\.\* TO `a_ro`')" = 1 ]
	[ "$(echo "$grants" | grep -vc '^GRANT USAGE\|^GRANT SELECT ON')" = 0 ]
	run -1 kc_sql_ro "INSERT INTO a_blue.items (body) VALUES ('sneaky')"
	[[ "$output" == *"denied"* ]]

	# Writes through the admin hostname; reads of the public one are cached
	# until "cache clear"; the public one takes no writes.
	[[ "$(host_req admin.a.example.org /items POST)" == "201 "* ]]
	[[ "$(host_req a.example.org)" == '200 MISS {"app": "sample"'*'"items": 1'* ]]
	[[ "$(host_req a.example.org)" == '200 HIT {'*'"items": 1'* ]]
	[[ "$(host_req admin.a.example.org /items POST)" == "201 "* ]]
	[[ "$(host_req a.example.org)" == '200 HIT {'*'"items": 1'* ]]
	[[ "$(host_req admin.a.example.org)" == '200  {'*'"items": 2'* ]]
	[[ "$(host_req a.example.org /items POST)" == "403 "* ]]
	run -0 "$C/instances/a/instance.sh" cache clear
	[[ "$(host_req a.example.org)" == '200 MISS {'*'"items": 2'* ]]
	# The port is the full app's.
	kc_post "$P1" "by the port" >/dev/null

	# A switch serves the new environment's frontend, with an empty cache.
	run -0 "$C/instances/a/instance.sh" upgrade v2
	[ "$(running)" = "green_clock green_public green_web green_worker green_worker_2 " ]
	[[ "$(host_req a.example.org)" == '200 MISS {"app": "sample", "version": "v2"'*'"items": 3'* ]]
	$DOCKER inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "${NAME}_a_green_public" | grep -qx 'DB_USER=a_ro'

	# Destroy takes the read-only user and the cache with it.
	run -0 "$C/cluster.sh" destroy --yes a
	[ "$(kc_sql "SELECT COUNT(*) FROM mysql.user WHERE User = 'a_ro'")" = 0 ]
	[ ! -e "$C/proxy/cache/a" ]

	# Admin hostnames need a frontend.
	roles_template
	"$C/cluster.sh" new --port "$P2" b >/dev/null
	run -1 "$C/instances/b/instance.sh" route add admin.b.example.org --admin
	[[ "$output" == *'has no read-only frontend'* ]]
	run -1 "$C/instances/b/instance.sh" cache clear
	[[ "$output" == *'has no read-only frontend'* ]]
}

# SQL as the frontend's read-only user (its password as korcluster
# derives it is not on record: the frontend container's environment has it).
kc_sql_ro() {
	local pw
	pw=$($DOCKER inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "${NAME}_a_blue_public" | sed -n 's/^DB_PASSWORD=//p')
	printf '[client]\nuser=a_ro\npassword=%s\n' "$pw" |
		$DOCKER exec -i "${NAME}_db" mariadb --defaults-extra-file=/dev/stdin -h 127.0.0.1 -N -B -e "$1"
}
