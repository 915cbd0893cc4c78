#!/usr/bin/env bats
# ConedaKOR on the default template (kor), with no --template anywhere:
# create, build (from a source tree), boot, new, start, snapshot, import,
# upgrade v5.0.0 -> v5.1.0 with the reindex going to the new environment's
# index while the old one serves, rollback, clone, destroy.  The app and
# Elasticsearch are the stand-ins of tests/images (README.md there): they
# hold ConedaKOR's contract and fail where the real ones fail.  The tests of
# this file run in order on one cluster.

bats_require_minimum_version 1.5.0
load helpers

REG=127.0.0.1:5000/korcluster-test

setup_file() {
	kc_setup
	kc_ports
	export T NAME C P1 P2
	export IMG=korcluster-test/kor-$NAME
}

teardown_file() {
	$DOCKER images --format '{{.Repository}}:{{.Tag}}' | grep "^$IMG:" | xargs -r $DOCKER rmi -f >/dev/null 2>&1 || true
	kc_teardown
}

# GET/POST through the front proxy; Elasticsearch on its cluster address.
get() { curl -fsS -m 20 "http://127.0.0.1:${2:-$P1}$1"; }
post_entity() {
	curl -fsS -m 20 -X POST -H 'Content-Type: application/json' -d "{\"name\": \"$1\"}" \
		"http://127.0.0.1:${2:-$P1}/entities" | kc_json 'd["id"]'
}
es() {
	local ip
	ip=$($DOCKER inspect -f "{{(index .NetworkSettings.Networks \"${NAME}_net\").IPAddress}}" "${NAME}_elastic")
	curl -sS -m 10 "http://$ip:9200$1"
}
# Documents in index $1 ("missing" if there is none).
docs() {
	es "/$1/_count" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d.get("count", "missing"))'
}
found() { get "/search?q=$1" "${2:-$P1}" | kc_json 'd["ids"]'; }

@test "create on the default template says what it still needs; validate points at the line" {
	run -0 "$REPO/cluster.sh" create "$C" --bind 127.0.0.1 "$NAME"
	grep -qx "template = kor" "$C/cluster.ini"
	[[ "$output" == *"setting \"mail_smtp_address\" needs a value"* ]]
	run -1 "$C/cluster.sh" validate
	line=$(grep -n '^mail_smtp_address =' "$C/cluster.ini" | cut -d: -f1)
	[[ "$output" == *"$C/cluster.ini:$line: setting \"mail_smtp_address\" needs a value"* ]]
	# The operator's part: the mail server, and (on this machine, which
	# reaches no public registry) the images of the test registry.
	sed -i "s|^mail_smtp_address =.*|mail_smtp_address = 127.0.0.1|" "$C/cluster.ini"
	sed -i "s|^mysql = .*|mysql = $REG/mariadb:bookworm|; s|^elastic = .*|elastic = $REG/search:5.6.16|; s|^proxy = .*|proxy = $REG/nginx:bookworm|" "$C/cluster.ini"
	printf '\n[app]\nimage = %s:${version}\n' "$IMG" >>"$C/cluster.ini"
	run -0 "$C/cluster.sh" validate
}

@test "build makes ConedaKOR's image from its source tree, without what .dockerignore leaves out" {
	cp -a "$REPO/tests/images/kor/source" "$T/src"
	echo v5.0.0 >"$T/src/VERSION"
	run -0 "$C/cluster.sh" build --source "$T/src" v5.0.0
	[[ "$output" == *"built $IMG:v5.0.0"* ]]
	echo v5.1.0 >"$T/src/VERSION"
	run -0 "$C/cluster.sh" build --source "$T/src" v5.1.0
	# upstream's shape: the entrypoint that ignores commands, no CMD
	[ "$($DOCKER image inspect -f '{{json .Config.Entrypoint}} {{json .Config.Cmd}}' "$IMG:v5.1.0")" = '["deploy/entrypoint.sh"] null' ]
	run -0 $DOCKER run --rm --entrypoint "" "$IMG:v5.1.0" sh -c 'ls -A /opt/kor /opt/kor/log; cat /opt/kor/VERSION'
	[[ "$output" == *".keep"* && "$output" == *v5.1.0 ]]
	[[ "$output" != *node_modules* ]]
	run $DOCKER run --rm --entrypoint "" "$IMG:v5.1.0" test -e /opt/kor/tmp/pids
	[ "$status" -ne 0 ]
}

@test "the stand-ins fail where ConedaKOR and Elasticsearch fail" {
	# The entrypoint ignores the command and waits for hosts index and db.
	id=$($DOCKER run -d "$IMG:v5.1.0" bundle exec rake db:migrate)
	sleep 3
	run -0 $DOCKER logs "$id"
	[[ "$output" == *"waiting for index:9200"* ]]
	[ "$($DOCKER inspect -f '{{.State.Running}}' "$id")" = true ]
	$DOCKER rm -f "$id" >/dev/null
	# Without the five variables nothing starts.
	run $DOCKER run --rm --entrypoint "" -e DATA_DIR=/d "$IMG:v5.1.0" bundle exec rake db:migrate
	[ "$status" -ne 0 ]
	[[ "$output" == *DATABASE_URL* && "$output" == *ROOT_URL* ]]
	# Puma's own pidfile is in the missing tmp/pids.
	run $DOCKER run --rm --entrypoint "" -e DATA_DIR=/d -e DATABASE_URL=mysql2://u:p@h/d -e MAIL_DELIVERY_METHOD=test \
		-e ROOT_URL=http://x/ -e SECRET_KEY_BASE=x "$IMG:v5.1.0" bundle exec puma -e production -b tcp://0.0.0.0:3000
	[ "$status" -ne 0 ]
	[[ "$output" == *"rb_sysopen - tmp/pids/server.pid"* ]]
	# Elasticsearch 7 refuses v5's typed mappings.
	id=$($DOCKER run -d -e discovery.type=single-node "$REG/search:7.17.25")
	ip=$($DOCKER inspect -f '{{.NetworkSettings.IPAddress}}' "$id")
	for _ in $(seq 1 50); do curl -fsS -m 2 "http://$ip:9200/" >/dev/null 2>&1 && break; sleep 0.2; done
	run curl -sS -m 5 -X PUT -H 'Content-Type: application/json' -d '{"mappings": {"entities": {"properties": {"name": {"type": "text"}}}}}' "http://$ip:9200/x"
	$DOCKER rm -f "$id" >/dev/null
	[[ "$output" == *"Root mapping definition has unsupported parameters"* ]]
}

@test "boot and new: db:setup, then the index of the blue environment; KorCluster-era versions are refused" {
	run -0 "$C/cluster.sh" boot
	[[ "$output" == *"is up"* ]]
	run -1 "$C/cluster.sh" new old --port "$P2" --version v2.1.0
	[[ "${lines[-1]}" == *"template \"kor\" runs versions v4.0.., not v2.1.0; template \"kor-legacy\" runs the others" ]]
	run -0 "$C/cluster.sh" new a --port "$P1" --version v5.0.0
	[[ "$output" == *"running post_setup"* ]]
	grep -q "dropped 0 tables" "$C/instances/a/log/setup.log"
	grep -q "indexed" "$C/instances/a/log/post_setup.log"
	[ "$(docs "${NAME}_a_blue")" != missing ]
}

@test "start serves ConedaKOR: the image's entrypoint left out, its five variables, a pidfile, /info as the health check" {
	# a setting of this instance only, over the cluster's default
	printf '\n[settings]\nroot_url = https://museum.example.org/\n' >>"$C/instances/a/instance.ini"
	run -0 "$C/instances/a/instance.sh" start
	web=${NAME}_a_blue_web
	# Only the gate's shell, which then runs the command: not the image's entrypoint.
	ep=$($DOCKER inspect -f '{{json .Config.Entrypoint}}' "$web")
	[[ "$ep" == '["/bin/sh","-c",'*',"korcluster-gate"]' ]] && [[ "$ep" != *entrypoint.sh* ]]
	[[ "$($DOCKER exec "$web" cat /proc/1/cmdline | tr '\0' ' ')" != *korcluster-gate* ]]
	[[ "$($DOCKER inspect -f '{{json .Config.Cmd}}' "$web")" == *'"--pidfile"'* ]]
	env=$($DOCKER inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$web")
	for v in DATA_DIR=/opt/kor/data MAIL_DELIVERY_METHOD=smtp MAIL_SMTP_ADDRESS=127.0.0.1 \
		ROOT_URL=https://museum.example.org/ "ELASTIC_INDEX=${NAME}_a_blue" RAILS_SERVE_STATIC_FILES=true; do
		grep -qxF "$v" <<<"$env" || { echo "no $v"; false; }
	done
	grep -q '^DATABASE_URL=mysql2://a:.*@mysql:3306/a_blue?encoding=utf8&collation=utf8_unicode_ci&reconnect=true$' <<<"$env"
	grep -q '^SECRET_KEY_BASE=.\{64\}$' <<<"$env"
	[ "$(get /info | kc_json 'd["version"]')" = 5.0.0 ]
	get / >/dev/null
	id=$(post_entity "Mona Lisa")
	echo "$id" >"$T/mona"
	[ "$(found Mona)" = "[$id]" ]
	[ "$(get "/entities/$id" | kc_json 'd["media"]')" = True ]
}

@test "snapshot, then import: restored into green and reindexed into green's index before the switch" {
	run -0 "$C/instances/a/instance.sh" snapshot
	snap=$(ls "$C"/snapshots/a.*.tar.zst)
	later=$(post_entity "Later addition")
	[ "$(docs "${NAME}_a_blue")" = 2 ]
	run -0 "$C/instances/a/instance.sh" import "$snap"
	[[ "$output" == *"running post_import of environment green"* ]]
	[ "$(sed -n 's/^env = //p' "$C/instances/a/instance.ini")" = green ]
	# green holds the snapshot's state, in its own index
	[ "$(found Mona)" = "[$(cat "$T/mona")]" ]
	[ "$(found Later)" = "[]" ]
	[ "$(docs "${NAME}_a_green")" = 1 ]
	# blue, the way back, keeps its index
	[ "$(docs "${NAME}_a_blue")" = 2 ]
}

@test "upgrade to v5.1.0: migrated on blue, reindexed into blue's index while green serves from its own" {
	green_before=$(docs "${NAME}_a_green")
	# Searches and reads go on throughout; none may fail.
	(
		fails=0
		for _ in $(seq 1 400); do
			[ -f "$T/upgraded" ] && break
			get "/search?q=Mona" >/dev/null 2>&1 || fails=$((fails + 1))
			sleep 0.05
		done
		echo "$fails" >"$T/search-fails"
	) &
	run -0 "$C/instances/a/instance.sh" upgrade v5.1.0
	touch "$T/upgraded"
	wait
	[ "$(cat "$T/search-fails")" = 0 ]
	[[ "$output" == *"migrating environment blue to v5.1.0"* ]]
	grep -q "indexed" "$C/instances/a/log/post_migrate.log"
	[ "$(get /info | kc_json 'd["version"]')" = 5.1.0 ]
	[ "$(get /info | kc_json 'd["schema"]')" = 2 ]
	[ "$(found Mona)" = "[$(cat "$T/mona")]" ]
	[ "$(docs "${NAME}_a_blue")" = 1 ]
	# the old environment's index was not touched
	[ "$(docs "${NAME}_a_green")" = "$green_before" ]
	# the instance's own setting went through the rewrites of instance.ini
	$DOCKER inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "${NAME}_a_blue_web" | grep -qx 'ROOT_URL=https://museum.example.org/'
	grep -qx 'root_url = https://museum.example.org/' "$C/instances/a/instance.ini"
	[ "$(get "/entities/$(cat "$T/mona")" | kc_json 'd["media"]')" = True ]
}

@test "rollback: back to v5.0.0 on green, its own index still there" {
	run -0 "$C/instances/a/instance.sh" rollback
	[ "$(get /info | kc_json 'd["version"]')" = 5.0.0 ]
	[ "$(found Mona)" = "[$(cat "$T/mona")]" ]
}

@test "clone: its own database, user and index, reindexed before it starts; destroy takes its indices along" {
	run -0 "$C/cluster.sh" clone a b --port "$P2"
	[[ "$output" == *"running post_import"* ]]
	[ "$(docs "${NAME}_b_green")" = 1 ] || [ "$(docs "${NAME}_b_blue")" = 1 ]
	run -0 "$C/instances/b/instance.sh" start
	# b has no setting of its own: the default address
	$DOCKER inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$($DOCKER ps -q --filter "name=^${NAME}_b_.*_web$")" |
		grep -qxF "ROOT_URL=http://$(hostname):$P2/"
	[ "$(found Mona "$P2")" = "[$(cat "$T/mona")]" ]
	id=$(post_entity "Only in b" "$P2")
	[ "$(found Only "$P2")" = "[$id]" ]
	[ "$(found Only)" = "[]" ]
	run -0 "$C/cluster.sh" destroy --yes b
	[ "$(docs "${NAME}_b_blue")" = missing ]
	[ "$(docs "${NAME}_b_green")" = missing ]
	[ "$(docs "${NAME}_a_green")" != missing ]
}
