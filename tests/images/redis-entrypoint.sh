#!/bin/bash
# Entrypoint of 127.0.0.1:5000/korcluster-test/redis: like the official image,
# options or a *.conf file are for redis-server, another command runs as given.
# redis-server runs as PID 1 (exec) as user redis with data in /data, listening
# on 0.0.0.0:6379; the container's arguments come last and so win.
set -euo pipefail

case ${1:-} in -* | *.conf) set -- redis-server "$@" ;; esac
case ${1:-} in redis-server) shift ;; *) exec "$@" ;; esac

conf=()
case ${1:-} in *.conf) conf=("$1"); shift ;; esac
as_redis=()
if [ "$(id -u)" = 0 ]; then
    mkdir -p /data
    find /data \! -user redis -exec chown redis:redis {} +
    as_redis=(setpriv --reuid=redis --regid=redis --init-groups)
fi
exec "${as_redis[@]}" redis-server "${conf[@]}" --bind 0.0.0.0 --protected-mode no --dir /data "$@"
