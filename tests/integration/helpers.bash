# Shared by the integration tests: every test gets a fresh temp folder and a
# cluster name of its own; teardown removes whatever the test made.
REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
if [ -x /usr/bin/docker ]; then DOCKER=/usr/bin/docker; else DOCKER=docker; fi
export KORCLUSTER_TEMPLATES=$REPO/templates

kc_setup() {
	T=$(mktemp -d /tmp/korcluster-test.XXXXXX)
	NAME=t$(tr -dc 'a-z0-9' </dev/urandom | head -c 7)
	C=$T/c
}

kc_teardown() {
	local ids
	if [ -n "${NAME:-}" ]; then
		ids=$($DOCKER ps -aq --filter "label=korcluster.cluster=$NAME")
		[ -z "$ids" ] || $DOCKER rm -f $ids >/dev/null
		$DOCKER network rm "${NAME}_net" >/dev/null 2>&1 || true
	fi
	[ -z "${T:-}" ] || rm -rf "$T"
}

# A cluster of the sample template on 127.0.0.1, through the repo's link.
kc_create() {
	"$REPO/cluster.sh" create "$C" --template sample --bind 127.0.0.1 "$NAME" >/dev/null
}

kc_boot() {
	kc_create && "$C/cluster.sh" boot >/dev/null
}

# Run SQL as root with the client in the cluster's database container (the
# engine's exec: a second, where a container of its own takes two); the
# password goes in an option file read from stdin, never on a command line.
kc_sql() {
	printf '[client]\nuser=root\npassword=%s\n' "$(cat "$C/secrets/db_root_password")" |
		$DOCKER exec -i "${NAME}_db" mariadb --defaults-extra-file=/dev/stdin -h 127.0.0.1 -N -B -e "$1"
}

# Containers of the test's cluster: "name state" lines.
kc_containers() {
	$DOCKER ps -a --filter "label=korcluster.cluster=$NAME" --format '{{.Names}} {{.State}}' | sort
}

# Field of status --json with python3's json (no jq needed).
kc_json() {
	python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"
}

# Ports for the test's instances: a free block per test, on 127.0.0.1.
kc_ports() {
	local base
	for _ in $(seq 1 50); do
		# Below the ephemeral range: the load tests' client ports linger
		# there.  Each lane of make check (tests/run.sh) has its half.
		if [ -n "${KC_LANE:-}" ]; then
			base=$((20000 + KC_LANE * 6000 + (RANDOM % 60) * 100))
		else
			base=$((20000 + (RANDOM % 120) * 100))
		fi
		if ! (exec 3<>/dev/tcp/127.0.0.1/$base) 2>/dev/null &&
			! (exec 3<>/dev/tcp/127.0.0.1/$((base + 1))) 2>/dev/null; then
			P1=$base P2=$((base + 1))
			return 0
		fi
	done
	return 1
}

# HTTP through the front proxy.
kc_get() { curl -fsS -m 10 "http://127.0.0.1:$1$2"; }
kc_post() { curl -fsS -m 10 -X POST -H 'Content-Type: application/json' -d "{\"body\": \"$2\"}" "http://127.0.0.1:$1/items"; }

# The instance tests' helpers: snaptool.py is stdlib Python.
TOOL=$BATS_TEST_DIRNAME/snaptool.py

# Wait (bounded) until item $2 on port $1 is processed by the worker.
processed() {
	for _ in $(seq 1 50); do
		kc_get "$1" "/items/$2" | grep -q '"processed": true' && return 0
		sleep 0.2
	done
	return 1
}

# A booted cluster with instance a (VERSION, default v1) on P1, started,
# holding three processed items.
with_items() {
	kc_boot
	"$C/cluster.sh" new --port "$P1" --version "${1:-v1}" a >/dev/null
	"$C/instances/a/instance.sh" start >/dev/null
	for i in 1 2 3; do kc_post "$P1" "item $i" >/dev/null; done
	processed "$P1" 3
}

env_of() { sed -n 's/^env = //p' "$C/instances/$1/instance.ini"; }

# Per-table checksums of instance $1's environment $2 (default the active
# one): its database and its files.
fingerprint() {
	local env=${2:-$(env_of "$1")} db tables
	db="$1_$env"
	tables=$(kc_sql "SELECT GROUP_CONCAT(CONCAT('\`$db\`.\`', table_name, '\`')) FROM information_schema.tables WHERE table_schema = '$db'")
	kc_sql "CHECKSUM TABLE $tables EXTENDED" | sed "s/^$db\.//"
	python3 "$TOOL" files "$C/instances/$1/data/$env"
}

# Run SQL as instance $1's own database user (its password from its
# instance.ini, in an option file on stdin), over TCP as the app connects.
kc_sql_as() {
	printf '[client]\nuser=%s\npassword=%s\n' "$1" "$(sed -n 's/^db_password = //p' "$C/instances/$1/instance.ini")" |
		$DOCKER exec -i "${NAME}_db" mariadb --defaults-extra-file=/dev/stdin -h 127.0.0.1 -N -B -e "$2"
}

# Instance $1 (default a) holds what it held ($2: an earlier fingerprint)
# and serves on port $3 (default P1).
kc_unchanged() {
	[ "$(fingerprint "${1:-a}")" = "$2" ] || { echo "instance ${1:-a} changed"; return 1; }
	kc_get "${3:-$P1}" / >/dev/null || { echo "instance ${1:-a} does not serve"; return 1; }
	[ ! -e "$C/instances/${1:-a}/data/green.import" ] && [ ! -e "$C/instances/${1:-a}/data/blue.import" ]
}

# An SFTP server for backups (tests/lib/sshd.sh) on 127.0.0.1:$SP (the
# test's third port), its files under $T/store.  kc_sshd_stop ends it.
kc_sshd() {
	SP=$((P1 + 2))
	mkdir -p "$T/store"
	"$REPO/tests/lib/sshd.sh" start "$T" "$SP"
}
kc_sshd_stop() { "$REPO/tests/lib/sshd.sh" stop "$T"; }
# The server's URL, and its login put in cluster folder $1's secrets/.
kc_sftp_url() { echo "sftp://root@127.0.0.1:$SP$T/store"; }
kc_sftp_login() { "$REPO/tests/lib/sshd.sh" login "$T" "$SP" "$1"; }

# A push that takes a while, killed part-way: instance a gets 30 MB that
# do not compress and [backup] rate_limit 2 MB/s, "backup push" runs in
# the background and gets signal $2 (default KILL) once the command $1
# holds (polled, a minute at most); $T/push1.log has its output.
kc_push_killed() {
	local pid
	head -c 30M /dev/urandom >"$C/instances/a/data/$(env_of a)/big.bin"
	printf 'rate_limit = 2M\n' >>"$C/cluster.ini"
	"$C/cluster.sh" backup push >"$T/push1.log" 2>&1 &
	pid=$!
	for _ in $(seq 1 300); do eval "$1" && break; sleep 0.2; done
	kill -"${2:-KILL}" "$pid"
	wait "$pid" || true
	cat "$T/push1.log"
}

# Snapshot file $1, fetched back with "backup get", is the same bytes.
kc_got_back() {
	local sum
	sum=$(sha256sum <"$C/snapshots/$1")
	rm "$C/snapshots/$1"
	"$C/cluster.sh" backup get "$1" >/dev/null
	[ "$(sha256sum <"$C/snapshots/$1")" = "$sum" ]
}
