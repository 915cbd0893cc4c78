#!/bin/bash
# Usage: tests/lib/registry.sh start|stop|status
# Runs Debian's docker-registry for the tests on 127.0.0.1:5000 only, without
# auth, with filesystem storage under /var/lib/korcluster-test/registry and
# deletes enabled (the package's own config listens everywhere with htpasswd).
set -euo pipefail

ADDR=127.0.0.1:5000
DIR=/var/lib/korcluster-test
CONF=$DIR/registry.yml
PIDFILE=/run/korcluster-test-registry.pid
LOG=/var/log/korcluster-test-registry.log
TIMEOUT=30

say() { echo "registry.sh: $*"; }
die() { echo "registry.sh: error: $*" >&2; exit 1; }
answers() { curl -fsS -m 5 "http://$ADDR/v2/" >/dev/null 2>&1; }
# Whether process $1 lives (a zombie counts as gone).
alive() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [ "${stat:0:1}" != Z ]
}
live_pid() {
    local pid
    pid=$(cat "$PIDFILE" 2>/dev/null) && [ -n "$pid" ] && alive "$pid" && echo "$pid"
}

start() {
    local i
    answers && { say "already running"; return 0; }
    if ! live_pid >/dev/null; then
        mkdir -p "$DIR/registry"
        cat >"$CONF" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $DIR/registry
  delete:
    enabled: true
http:
  addr: $ADDR
EOF
        rm -f "$PIDFILE"
        # New session, away from the caller's Ctrl-C; the registry's own
        # process writes the pid file.
        # shellcheck disable=SC2016 # $$ and $1 are for the inner sh
        setsid nohup sh -c 'echo $$ >"$1"; exec docker-registry serve "$2"' sh "$PIDFILE" "$CONF" \
            >>"$LOG" 2>&1 </dev/null 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
        say "started docker-registry on $ADDR (log $LOG)"
    fi
    for ((i = 0; i < TIMEOUT * 4; i++)); do
        answers && { say "ready"; return 0; }
        # Give up early once the registry has died (pid file written but process gone).
        if [ -s "$PIDFILE" ] && ! live_pid >/dev/null; then break; fi
        sleep 0.25
    done
    tail -n 20 "$LOG" >&2 || true
    die "no registry answers on $ADDR (log: $LOG)"
}

stop() {
    local i pid
    pid=$(live_pid) || { say "not running"; return 0; }
    kill -TERM "$pid"
    for ((i = 0; i < TIMEOUT * 4; i++)); do
        alive "$pid" || { rm -f "$PIDFILE"; say "stopped"; return 0; }
        sleep 0.25
    done
    die "docker-registry (pid $pid) still running after ${TIMEOUT} s"
}

case ${1:-} in
    start) start ;;
    stop) stop ;;
    status) if answers; then say "running"; else say "not running"; exit 1; fi ;;
    *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
