#!/bin/bash
# Usage: tests/lib/dockerd.sh start|stop|restart|status
# Runs Debian's dockerd for the tests without systemd. start launches
# `dockerd $KORCLUSTER_DOCKERD_ARGS` (default --iptables=false) only when docker
# does not answer; stop/restart work on any dockerd through /var/run/docker.pid.
set -euo pipefail

PIDFILE=/var/run/docker.pid
LOG=/var/log/korcluster-test-dockerd.log
TIMEOUT=60
read -r -a DOCKERD_ARGS <<<"${KORCLUSTER_DOCKERD_ARGS:---iptables=false}"
if [ -x /usr/bin/docker ]; then DOCKER=/usr/bin/docker; else DOCKER=docker; fi

say() { echo "dockerd.sh: $*"; }
die() { echo "dockerd.sh: error: $*" >&2; exit 1; }
answers() { "$DOCKER" version >/dev/null 2>&1; }
# Whether process $1 lives (a zombie counts as gone).
alive() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [ "${stat:0:1}" != Z ]
}
# PID in the pid file if that process lives.
live_pid() {
    local pid
    pid=$(cat "$PIDFILE" 2>/dev/null) && [ -n "$pid" ] && alive "$pid" && echo "$pid"
}

start() {
    local i pid
    answers && { say "already running"; return 0; }
    if ! pid=$(live_pid); then
        rm -f "$PIDFILE"
        # New session: a Ctrl-C in the caller's terminal must not reach dockerd
        # (-w: $! stays the pid of a process that lives as long as dockerd).
        # Descriptors above 2 are closed: a test runner (bats: fd 3) waits
        # for every holder of its pipes, and dockerd outlives the test.
        setsid -w nohup dockerd "${DOCKERD_ARGS[@]}" >>"$LOG" 2>&1 </dev/null \
            3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
        pid=$!
        say "started dockerd (log $LOG)"
    fi
    for ((i = 0; i < TIMEOUT * 2; i++)); do
        answers && { say "ready"; return 0; }
        alive "$pid" || break
        sleep 0.5
    done
    tail -n 20 "$LOG" >&2 || true
    die "dockerd does not answer (log: $LOG)"
}

stop() {
    local i pid
    pid=$(live_pid) || { say "not running"; return 0; }
    kill -TERM "$pid"
    for ((i = 0; i < TIMEOUT * 2; i++)); do
        alive "$pid" || { say "stopped"; return 0; }
        sleep 0.5
    done
    die "dockerd (pid $pid) still running after ${TIMEOUT} s"
}

case ${1:-} in
    start) start ;;
    stop) stop ;;
    restart) stop; start ;;
    status) if answers; then say "running"; else say "not running"; exit 1; fi ;;
    *) echo "usage: $0 start|stop|restart|status" >&2; exit 2 ;;
esac
