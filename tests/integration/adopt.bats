#!/usr/bin/env bats
# korcluster adopt: a cluster laid out and run the way KorCluster's
# cluster.sh did it (made here with the docker CLI, as that script did),
# taken over in place: ports, databases and files kept, every korcluster
# command working afterwards; a failure puts everything back.

bats_require_minimum_version 1.5.0
load helpers

REG=127.0.0.1:5000/korcluster-test
LEGACY=$REG/kor-legacy

setup() {
	kc_setup
	kc_ports
	# KorCluster's names came from pwgen: mixed case.
	CN=T${NAME:1}
	OLD=$T/old
	ROOTPW=$(tr -dc 'A-Za-z0-9' </dev/urandom | head -c 20)
}

teardown() {
	local ids
	ids=$($DOCKER ps -aq --filter "name=^${CN}_")
	[ -z "$ids" ] || $DOCKER rm -f $ids >/dev/null
	kc_teardown
}

# The cluster folder KorCluster's "create" made.
old_cluster() {
	mkdir -p "$OLD"/{mysql,mongo,elastic,ssmtp,nginx,instances,snapshots}
	ln -s /opt/kor_cluster/cluster.sh "$OLD/cluster.sh"
	printf 'CLUSTER_ROOT=%s\nCLUSTER_NAME=%s\nDB_USERNAME=root\nDB_PASSWORD=%s\n' "$OLD" "$CN" "$ROOTPW" >"$OLD/config.sh"
	printf '[client]\nhost=mysql\nuser=root\npassword=%s\n' "$ROOTPW" >"$OLD/mysql.cnf"
	$DOCKER run -d --name "${CN}_mysql" -v "$OLD/mysql:/var/lib/mysql" -e MYSQL_ROOT_PASSWORD="$ROOTPW" \
		"$REG/mariadb:bookworm" >/dev/null
	$DOCKER run -d --name "${CN}_elastic" -v "$OLD/elastic:/data" "$REG/search:2.4.6" -Epath.data=/data >/dev/null
	$DOCKER run -d --name "${CN}_nginx" "$REG/nginx:bookworm" >/dev/null
	for _ in $(seq 1 100); do
		$DOCKER exec -e MYSQL_PWD="$ROOTPW" "${CN}_mysql" mariadb -uroot -e 'SELECT 1' >/dev/null 2>&1 && return 0
		sleep 0.3
	done
	return 1
}

# An instance as KorCluster's "new" made it, set up and started ($4 "no":
# neither).
old_instance() {
	local name=$1 version=$2 port=$3 dir=$OLD/instances/$1 pw
	pw=$(tr -dc 'A-Za-z0-9' </dev/urandom | head -c 20)
	mkdir -p "$dir/data" "$dir/log"
	ln -s /opt/kor_cluster/cluster.sh "$dir/instance.sh"
	echo "$version" >"$dir/version.txt"
	printf 'CLUSTER_NAME=%s\nCLUSTER_ROOT=%s\nVERSION=%s\nNAME=%s\nPORT=%s\nDB_USERNAME=kor_%s\nDB_PASSWORD=%s\nDB_NAME=kor_%s\n' \
		"$CN" "$OLD" "$version" "$name" "$port" "$name" "$pw" "$name" >"$dir/config.sh"
	printf 'production:\n  adapter: mysql2\n  host: mysql\n  database: kor_%s\n  username: kor_%s\n  password: %s\n  encoding: utf8\n  collation: utf8_general_ci\n\n  elastic:\n    host: elastic\n    port: 9200\n    index: kor_%s\n' \
		"$name" "$name" "$pw" "$name" >"$dir/database.yml"
	printf 'app:\n  maintainer: museum@example.org\n' >"$dir/kor.yml"
	: >"$dir/kor.app.yml"
	$DOCKER exec -e MYSQL_PWD="$ROOTPW" "${CN}_mysql" mariadb -uroot \
		-e "GRANT ALL ON kor_$name.* TO 'kor_$name'@'%' IDENTIFIED BY '$pw'"
	[ "${4:-yes}" = yes ] || return 0
	run_old "$name" "$version" --rm -- /bin/bash -c "bundle exec rake db:create db:setup" kor
	run_old "$name" "$version" --rm -- /bin/bash -c "bundle exec rails r 'Kor::Elastic.drop_index ; Kor::Elastic.create_index' && bundle exec bin/kor index-all" kor
	run_old "$name" "$version" -d --name "${CN}_bg_$name" -- /bin/bash -c "bundle exec bin/delayed_job -n 2 run" kor
	run_old "$name" "$version" -d --name "${CN}_instance_$name" -p "127.0.0.1:$port:8000" -- \
		/bin/bash -c "bundle exec puma -e production -p 8000 -t 2 config.ru" kor
	for _ in $(seq 1 100); do curl -fsS -m 2 "http://127.0.0.1:$port/" >/dev/null 2>&1 && return 0; sleep 0.2; done
	return 1
}

# docker run as KorCluster's run_headless/start did: links, the instance folder as /opt/kor/shared.
run_old() {
	local name=$1 version=$2 opts=()
	shift 2
	while [ "$1" != -- ]; do opts+=("$1"); shift; done
	shift
	$DOCKER run "${opts[@]}" --link "${CN}_mysql:mysql" --link "${CN}_elastic:elastic" \
		-v "$OLD/instances/$name:/opt/kor/shared" "$LEGACY:$version" "$@" >/dev/null
}

entity() { curl -fsS -m 10 -X POST -H 'Content-Type: application/json' -d "{\"name\": \"$1\"}" "http://127.0.0.1:$P1/entities" | kc_json 'd["id"]'; }
media_in() { for _ in $(seq 1 100); do [ -f "$1" ] && return 0; sleep 0.2; done; return 1; }

@test "adopt says what it will do and, unconfirmed, changes nothing" {
	old_cluster
	old_instance museum v2.1.0 "$P1"
	id=$(entity "Before adoption")
	media_in "$OLD/instances/museum/data/media/$id.txt"
	run -1 "$REPO/korcluster" adopt "$OLD" </dev/null
	[[ "$output" == *"KorCluster cluster \"$CN\" in $OLD becomes korcluster cluster \"$NAME\" (template kor-legacy)"* ]]
	[[ "$output" == *"instance museum: v2.1.0 on port $P1, database kor_museum, user kor_museum; its files move from data/ to data/blue/"* ]]
	[[ "$output" == *"the app's image stays $LEGACY:\${version}"* ]]
	[[ "${lines[-1]}" == "korcluster: not confirmed: nothing was changed; add --yes to adopt without a question" ]]
	[ ! -e "$OLD/cluster.ini" ]
	[ "$(readlink "$OLD/cluster.sh")" = /opt/kor_cluster/cluster.sh ]
	[ -f "$OLD/instances/museum/data/media/$id.txt" ]
	[ "$($DOCKER inspect -f '{{.State.Running}}' "${CN}_instance_museum")" = true ]
	curl -fsS -m 5 "http://127.0.0.1:$P1/entities/$id" | grep -q "Before adoption"
}

@test "adopt takes the cluster over in place: same port, database, files; every command works after" {
	old_cluster
	old_instance museum v2.1.0 "$P1"
	id=$(entity "Before adoption")
	media_in "$OLD/instances/museum/data/media/$id.txt"
	ibdata=$(stat -c %i "$OLD/mysql/ibdata1")
	run -0 "$REPO/korcluster" adopt --yes "$OLD"
	[[ "$output" == *"is korcluster's now"* ]]
	# cluster.ini: the name in lower case, the old images, the old address
	grep -qx "name = $NAME" "$OLD/cluster.ini"
	grep -qx "template = kor-legacy" "$OLD/cluster.ini"
	grep -qx "bind = 127.0.0.1" "$OLD/cluster.ini"
	grep -qx "mysql = $REG/mariadb:bookworm" "$OLD/cluster.ini"
	grep -qx "elastic = $REG/search:2.4.6" "$OLD/cluster.ini"
	grep -qx "image = $LEGACY:\${version}" "$OLD/cluster.ini"
	# MySQL's data did not move
	[ "$(readlink "$OLD/services/mysql")" = ../mysql ]
	[ "$(stat -c %i "$OLD/mysql/ibdata1")" = "$ibdata" ]
	[ "$(stat -c %a "$OLD/secrets/mysql_root_password")" = 600 ]
	[ "$(cat "$OLD/secrets/mysql_root_password")" = "$ROOTPW" ]
	# the instance: its database, user, port; files renamed to data/blue
	I=$OLD/instances/museum
	grep -qx "db_user = kor_museum" "$I/instance.ini"
	grep -qx "database = kor_museum" "$I/instance.ini"
	grep -qx "port = $P1" "$I/instance.ini"
	[ "$(stat -c %a "$I/instance.ini")" = 600 ]
	[ -f "$I/data/blue/media/$id.txt" ] && [ ! -e "$I/data/media" ]
	[ "$(readlink "$I/instance.sh")" = "$REPO/korcluster" ]
	[ "$(readlink "$OLD/cluster.sh")" = "$REPO/korcluster" ]
	grep -q maintainer "$I/kor.yml" && [ -f "$OLD/config.sh" ] && [ -f "$OLD/mysql.cnf" ]
	# the old containers are gone; korcluster's serve the same port
	[ -z "$($DOCKER ps -aq --filter "name=^${CN}_")" ]
	curl -fsS -m 5 "http://127.0.0.1:$P1/entities/$id" | grep -q "Before adoption"
	new=$(entity "After adoption")
	media_in "$I/data/blue/media/$new.txt"
	[ "$(curl -fsS -m 5 "http://127.0.0.1:$P1/search?q=adoption" | kc_json 'sorted(d["ids"])')" = "[$id, $new]" ]
	# korcluster commands
	run -0 "$OLD/cluster.sh" status --json
	[ "$(kc_json 'd["state"]' <<<"$output")" = booted ]
	run -0 "$I/instance.sh" snapshot
	run -0 "$I/instance.sh" upgrade v3.0.0
	[ "$(curl -fsS -m 5 "http://127.0.0.1:$P1/info" | kc_json 'd["version"]')" = 3.0.0 ]
	curl -fsS -m 5 "http://127.0.0.1:$P1/entities/$new" | grep -q "After adoption"
	run -0 "$I/instance.sh" rollback
	[ "$(curl -fsS -m 5 "http://127.0.0.1:$P1/info" | kc_json 'd["version"]')" = 2.1.0 ]
	curl -fsS -m 5 "http://127.0.0.1:$P1/entities/$id" | grep -q "Before adoption"
}

@test "a failed adoption puts everything back: files, links, the old containers serving" {
	old_cluster
	old_instance museum v2.1.0 "$P1"
	# an instance whose version has no image anywhere: the new cluster fails on it
	old_instance archive v2.1.5 "$P2" no
	id=$(entity "Before adoption")
	media_in "$OLD/instances/museum/data/media/$id.txt"
	(cd "$OLD" && find . -path ./mysql -prune -o -path ./elastic -prune -o -printf '%p %y %l\n' | sort) >"$T/before"
	run -1 "$REPO/korcluster" adopt --yes "$OLD"
	[[ "${lines[-1]}" == "korcluster: adopting \"$OLD\" (it is back as it was): "*"archive"* ]]
	(cd "$OLD" && find . -path ./mysql -prune -o -path ./elastic -prune -o -printf '%p %y %l\n' | sort) >"$T/after"
	diff "$T/before" "$T/after"
	[ "$($DOCKER inspect -f '{{.State.Running}}' "${CN}_instance_museum")" = true ]
	[ "$($DOCKER inspect -f '{{.State.Running}}' "${CN}_mysql")" = true ]
	[ -z "$($DOCKER ps -aq --filter "label=korcluster.cluster=$NAME")" ]
	for _ in $(seq 1 100); do curl -fsS -m 2 "http://127.0.0.1:$P1/entities/$id" >/dev/null 2>&1 && break; sleep 0.2; done
	curl -fsS -m 5 "http://127.0.0.1:$P1/entities/$id" | grep -q "Before adoption"
}

@test "what adopt cannot take is refused before anything changes" {
	mkdir -p "$T/plain"
	run -1 "$REPO/korcluster" adopt --yes "$T/plain"
	[[ "$output" == *"no config.sh: it is not a cluster KorCluster made"* ]]
	old_cluster
	old_instance museum v2.1.0 "$P1" no
	# a version korcluster's legacy template does not run
	sed -i 's/^VERSION=.*/VERSION=v1.8.0/' "$OLD/instances/museum/config.sh"
	run -1 "$REPO/korcluster" adopt --yes "$OLD"
	[[ "$output" == *"instance folder \"museum\": template \"kor-legacy\" runs versions v1.9..v3, not v1.8.0"* ]]
	sed -i 's/^VERSION=.*/VERSION=v2.1.0/' "$OLD/instances/museum/config.sh"
	mv "$OLD/instances/museum" "$OLD/instances/Museum"
	run -1 "$REPO/korcluster" adopt --yes "$OLD"
	[[ "$output" == *"instance folder \"Museum\": instance name \"Museum\" must match"* ]]
	mv "$OLD/instances/Museum" "$OLD/instances/museum"
	# without the MySQL container, which server wrote mysql/ is unknown
	$DOCKER rm -f "${CN}_mysql" >/dev/null
	run -1 "$REPO/korcluster" adopt --yes "$OLD"
	[[ "$output" == *"container ${CN}_mysql is gone"* ]]
	[ ! -e "$OLD/cluster.ini" ] && [ ! -e "$OLD/secrets" ] && [ ! -e "$OLD/instances/museum/instance.ini" ]
}
