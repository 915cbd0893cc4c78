#!/usr/bin/env bats
# cluster.sh build: the app's image from a source tree through the engine's
# /build, and images of a private registry pulled with docker login's
# credentials (X-Registry-Auth, X-Registry-Config).

bats_require_minimum_version 1.5.0
load helpers

PY=127.0.0.1:5000/korcluster-test/python:bookworm

setup() {
	kc_setup
	IMG=korcluster-test/built-$NAME
	REGPID=
}

teardown() {
	[ -z "$REGPID" ] || kill "$REGPID" 2>/dev/null || true
	$DOCKER images --format '{{.Repository}}:{{.Tag}}' | grep -E "^($IMG|127\.0\.0\.1:[0-9]+/private-$NAME/)" |
		xargs -r $DOCKER rmi -f >/dev/null 2>&1 || true
	kc_teardown
}

# A source tree: Dockerfile, .dockerignore, and files it keeps or leaves out.
source_tree() {
	local s=$1
	mkdir -p "$s/node_modules/pkg" "$s/log" "$s/sub"
	cat >"$s/Dockerfile" <<-EOF
		FROM ${2:-127.0.0.1:5000/korcluster-test/sample:v1}
		ADD . /opt/src
		RUN echo built-by-korcluster >/opt/marker
	EOF
	printf '# what the context leaves out\nnode_modules\nlog/*\n!log/.keep\n*.swp\n' >"$s/.dockerignore"
	head -c 100000 /dev/urandom >"$s/node_modules/pkg/big.bin"
	touch "$s/log/.keep" "$s/log/debug.log" "$s/top.swp" "$s/sub/deep.swp"
	echo hello >"$s/sub/file.txt"
	ln -s file.txt "$s/sub/link"
}

@test "build sends the source without what .dockerignore leaves out and tags the cluster's app image; new runs it" {
	kc_ports
	kc_boot
	source_tree "$T/src"
	printf '\n[app]\nimage = %s:${version}\n' "$IMG" >>"$C/cluster.ini"
	run -0 "$C/cluster.sh" build --source "$T/src" v1
	[[ "$output" == *"Step 1/3 : FROM"* ]]
	[[ "$output" == *"built $IMG:v1 in"* ]]
	[[ "$output" == *"context: 6 files"* ]]
	run -0 $DOCKER run --rm "$IMG:v1" sh -c 'cd /opt/src && find . | sort'
	[[ "$output" == *"./sub/file.txt"* && "$output" == *"./sub/link"* && "$output" == *"./log/.keep"* ]]
	[[ "$output" == *"./sub/deep.swp"* ]]   # "*.swp" is the top folder's only, as docker reads it
	[[ "$output" != *node_modules* && "$output" != *debug.log* && "$output" != *top.swp* ]]
	[ "$($DOCKER run --rm "$IMG:v1" readlink /opt/src/sub/link)" = file.txt ]
	# The cluster runs what it built.
	run -0 "$C/cluster.sh" new a --port "$P1"
	[ "$("$C/instances/a/instance.sh" run cat /opt/marker)" = built-by-korcluster ]
	# No template source and no --source: it says what to give.
	run -2 "$C/cluster.sh" build v2
	[[ "$output" == *"give --source DIR"* ]]
	run -1 "$C/cluster.sh" build --source "$T/nosuch" v2
	[[ "$output" == *"is not a folder with a Dockerfile"* ]]
}

@test "a failed build fails with its last lines and tags nothing" {
	kc_create
	mkdir "$T/src"
	printf 'FROM %s\nRUN echo the-last-words-of-the-build && exit 3\n' "$PY" >"$T/src/Dockerfile"
	run -1 "$C/cluster.sh" build --source "$T/src" --tag "$IMG:broken" v1
	[[ "$output" == *"--- build output (its last lines):"* ]]
	[[ "$output" == *"the-last-words-of-the-build"* ]]
	[[ "${lines[-1]}" == "korcluster: building $IMG:broken: "*"returned a non-zero code: 3" ]]
	run $DOCKER image inspect "$IMG:broken"
	[ "$status" -ne 0 ]
}

# A registry on 127.0.0.1 that wants a login (htpasswd), with an image in it.
private_registry() {
	local port hash
	for port in $(seq 5101 5199); do
		(exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null || break
	done
	REG=127.0.0.1:$port
	mkdir -p "$T/reg/data" "$T/dcfg"
	hash=$(/usr/bin/python3 -W ignore -c 'import crypt,sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH)))' s3cret-pw)
	echo "kcuser:$hash" >"$T/reg/htpasswd"
	cat >"$T/reg/config.yml" <<-EOF
		version: 0.1
		log:
		  level: error
		storage:
		  filesystem:
		    rootdirectory: $T/reg/data
		http:
		  addr: $REG
		auth:
		  htpasswd:
		    realm: korcluster-test
		    path: $T/reg/htpasswd
	EOF
	docker-registry serve "$T/reg/config.yml" >"$T/reg/log" 2>&1 &
	REGPID=$!
	for _ in $(seq 1 50); do
		[ "$(curl -s -o /dev/null -w '%{http_code}' "http://$REG/v2/")" = 401 ] && break
		sleep 0.2
	done
	echo s3cret-pw | $DOCKER --config "$T/dcfg" login "$REG" -u kcuser --password-stdin >/dev/null
	grep -q '"auth"' "$T/dcfg/config.json"
	PRIV=$REG/private-$NAME/redis:1
	$DOCKER tag 127.0.0.1:5000/korcluster-test/redis:bookworm "$PRIV"
	$DOCKER --config "$T/dcfg" push "$PRIV" >/dev/null
	$DOCKER rmi "$PRIV" >/dev/null
}

@test "images of a private registry are pulled, and built upon, with docker login's credentials" {
	private_registry
	kc_create
	sed -i "s|^redis = .*|redis = $PRIV|" "$C/cluster.ini"
	# Without the credentials the registry refuses, and boot says so.
	run -1 env DOCKER_CONFIG="$T/nologin" "$C/cluster.sh" boot
	[[ "$output" == *"pulling \"$PRIV\""* ]]
	# With them (the docker CLI's config.json, read by korcluster) it works.
	run -0 env DOCKER_CONFIG="$T/dcfg" "$C/cluster.sh" boot
	[[ "$output" == *"pulled $PRIV in"* ]]
	[[ "$output" == *"is up"* ]]
	# The password never shows.
	[[ "$output" != *s3cret-pw* ]]
	# A build FROM the private image gets the credentials too.
	$DOCKER rmi "$PRIV" >/dev/null 2>&1 || true
	mkdir "$T/src"
	printf 'FROM %s\nRUN test -x /usr/bin/redis-server\n' "$PRIV" >"$T/src/Dockerfile"
	run -1 env DOCKER_CONFIG="$T/nologin" "$C/cluster.sh" build --source "$T/src" --tag "$IMG:from-private" v1
	run -0 env DOCKER_CONFIG="$T/dcfg" "$C/cluster.sh" build --source "$T/src" --tag "$IMG:from-private" v1
	# A credential helper korcluster would have to run is named, not run.
	mkdir "$T/helper"
	echo '{"credsStore": "nosuchhelper"}' >"$T/helper/config.json"
	$DOCKER rmi "$PRIV" >/dev/null 2>&1 || true
	"$C/cluster.sh" shutdown >/dev/null
	run -1 env DOCKER_CONFIG="$T/helper" "$C/cluster.sh" boot
	[[ "$output" == *"docker-credential-nosuchhelper, which korcluster does not run"* ]]
}
