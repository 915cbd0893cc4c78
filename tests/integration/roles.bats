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

@test "a template's roles are checked: no replicas or scheduler on web, a scheduler runs once" {
	roles_template
	kc_create
	run -0 "$C/cluster.sh" validate
	sed -i 's/^replicas = 2$/replicas = 2\nscheduler = yes/' "$T/tpl/sample.ini"
	run -1 "$C/cluster.sh" validate
	[[ "$output" == *'a scheduler runs once: replicas must be 1'* ]]
	roles_template
	sed -i 's|^command = python3 /app/app.py web$|&\nreplicas = 3|' "$T/tpl/sample.ini"
	run -1 "$C/cluster.sh" validate
	[[ "$output" == *'[process.web] takes neither replicas nor scheduler'* ]]
	roles_template
	sed -i 's/^replicas = 2$/replicas = 0/; s/^scheduler = yes$/scheduler = maybe/' "$T/tpl/sample.ini"
	run -1 "$C/cluster.sh" validate
	[[ "$output" == *'"replicas" must be a number from 1 to 32'* ]]
	[[ "$output" == *'scheduler must be yes or no'* ]]
}
