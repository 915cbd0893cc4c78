#!/usr/bin/env bash
# An upgrade (sample app v1 -> v2, whose migration rewrites rows and moves
# files) under load, next to KorCluster's way (stop, set the version,
# migrate, start) on the same data, measured the same way: a client on
# loopback reading (GET) and writing (POST) continuously through the proxy.
# Reports failed requests, the write-blocked window (POSTs answered 503 with
# Retry-After), the window of failures, and the total time of each.
# Needs a machine set up by `make check` or `make demo`.
# Usage: bench/upgrade.sh [ITEMS]   (default 2000 items, each a row and files)
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
ITEMS=${1:-2000}
if [ -x /usr/bin/docker ]; then DOCKER=/usr/bin/docker; else DOCKER=docker; fi
export KORCLUSTER_TEMPLATES=$REPO/templates
TOOL=$REPO/tests/integration/snaptool.py
. "$REPO/bench/lib.sh"
[ -x ./korcluster ] || make korcluster >/dev/null

W=$(mktemp -d /var/tmp/korcluster-bench.XXXXXX)
NAME=u$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
C=$W/c
PA=$((20000 + RANDOM % 10000)) PB=$((PA + 1))
cleanup() {
	touch "$W/stop"
	ids=$($DOCKER ps -aq --filter "label=korcluster.cluster=$NAME")
	[ -z "$ids" ] || $DOCKER rm -f $ids >/dev/null
	$DOCKER network rm "${NAME}_net" >/dev/null 2>&1 || true
	rm -rf "$W"
}
[ -n "${KEEP:-}" ] || trap cleanup EXIT  # KEEP=1: leave it all for a look

echo "== setting up: cluster $NAME, instance a (v1) with $ITEMS items, b a clone of it"
"$REPO/cluster.sh" create "$C" --template sample --bind 127.0.0.1 "$NAME" >/dev/null
"$C/cluster.sh" boot >/dev/null
"$C/cluster.sh" new --port "$PA" --version v1 a >/dev/null
"$C/instances/a/instance.sh" start >/dev/null
python3 - "$PA" "$ITEMS" <<'PY'
import http.client, json, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
for i in range(n):
    c.request("POST", "/items", body=json.dumps({"body": "item %d " % i + "x" * 200}),
              headers={"Content-Type": "application/json"})
    r = c.getresponse()
    r.read()
    assert r.status == 201, r.status
PY
sleep 3 # the worker catches up
"$C/cluster.sh" clone --port "$PB" a b >/dev/null
"$C/instances/b/instance.sh" start >/dev/null

# under_load PORT LABEL CMD...: runs CMD while the client works on PORT.
under_load() {
	local port=$1 label=$2 t0
	shift 2
	rm -f "$W/stop"
	python3 "$TOOL" load "$port" "$W/stop" "$W/$label.json" &
	sleep 2
	t0=$(date +%s.%N)
	"$@" >"$W/$label.out" 2>&1 || { cat "$W/$label.out"; exit 1; }
	printf -v "${label}_s" '%.1f' "$(echo "$(date +%s.%N) - $t0" | bc)"
	sleep 2
	touch "$W/stop"
	wait
}

korcluster_way() { "$C/instances/a/instance.sh" upgrade v2; }
# KorCluster's upgrade: stop, rewrite the version, migrate, start.
korcluster_sh_way() {
	local b=$C/instances/b
	"$b/instance.sh" stop
	sed -i 's/^version = v1$/version = v2/' "$b/instance.ini"
	"$b/instance.sh" run python3 /app/app.py migrate
	"$b/instance.sh" start
}

echo "== korcluster: instance.sh upgrade v2"
under_load "$PA" kc korcluster_way
echo "== KorCluster's way: stop, migrate, start"
under_load "$PB" ks korcluster_sh_way

report() {
	python3 - "$W/$1.json" "$2" "$3" "$1" <<'PY'
import json, sys
r, port, total, label = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3], sys.argv[4]
c = r["counts"]
gets = sum(v for k, v in c.items() if k.startswith("GET"))
posts = sum(v for k, v in c.items() if k.startswith("POST"))
fw, hw = r["fail_window"], r["held_window"]
print("%s: %d GETs, %d POSTs; failed requests %d (window %s); writes held %d (window %s); total %s s" % (
    label, gets, posts, r["failed"], "%.1f s" % (fw[1] - fw[0]) if fw else "none", r["held"],
    "%.1f s" % (hw[1] - hw[0]) if hw else "none", total))
PY
}
echo "== results"
report kc "$PA" "$kc_s"
grep -E "writes held" "$W/kc.out" | sed 's/^/   korcluster says: /'
report ks "$PB" "$ks_s"
python3 "$TOOL" acked "$W/kc.json" "$PA" | sed 's/^/korcluster: /'
[ "$(curl -fsS "http://127.0.0.1:$PA/" | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')" = v2 ]
[ "$(curl -fsS "http://127.0.0.1:$PB/" | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')" = v2 ]

# The goal: writes held no longer than the copy plus migrate plus 1 s.
read -r held copy migrate start split < <(sed -n 's/.*writes held \([0-9.]*\) s: copy \([0-9.]*\) s, migrate \([0-9.]*\) s, start and switch \([0-9.]*\) s = \(.*\))$/\1 \2 \3 \4 \5/p' "$W/kc.out")
bench_row "upgrade under load: writes held (vs copy+migrate+1 s)" "$held" "$(echo "$copy + $migrate + 1" | bc)" 1
bench_note "upgrade under load: writes held" "copy $copy s, migrate $migrate s, start and switch $start s ($split), the rest $(echo "$held - $copy - $migrate - $start" | bc) s"
bench_row "upgrade under load: failed requests (vs 1)" "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["failed"])' "$W/kc.json")" 1 0 req
