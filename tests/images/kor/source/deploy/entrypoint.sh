#!/bin/bash
# The image's entrypoint, like upstream's deploy/entrypoint.sh: it IGNORES its
# arguments (a command given to the container changes nothing). It waits,
# for ever, until the host `index` answers HTTP on port 9200 and the host `db`
# accepts a MySQL login root/root (upstream's docker-compose services); then,
# the first time only (DATA_DIR/db_created.state), `rake db:setup` and
# `bin/kor index-all`; always `rake db:migrate`; then puma on port 3000.
# SIGTERM ends it at once while it waits.
set -e
export RAILS_ENV=production
export RAILS_SERVE_STATIC_FILES=true
trap 'echo "entrypoint: terminated"; exit 143' TERM INT
cd /opt/kor

# One probe, in the background so that SIGTERM is handled at once.
probe() {
    deploy/wait-for "$@" &
    wait $!
}

wait_for() {
    local what=$1 n=0
    shift
    echo "entrypoint: waiting for $what"
    until probe "$@"; do
        n=$((n + 1))
        [ $((n % 30)) -ne 0 ] || echo "entrypoint: still waiting for $what"
        sleep 1 &
        wait $!
    done
    echo "entrypoint: $what is up"
}

wait_for "index:9200 (Elasticsearch)" http index 9200
wait_for "db:3306 (MySQL, login root/root)" mysql db 3306 root root

STATE=${DATA_DIR:-/opt/kor/data}/db_created.state
if ! [ -f "$STATE" ]; then
    bundle exec rake db:setup
    bundle exec bin/kor index-all
    mkdir -p "$(dirname "$STATE")"
    touch "$STATE"
fi

bundle exec rake db:migrate

# config/puma.rb's pidfile is tmp/pids/server.pid, and tmp/pids is not in
# the image.
mkdir -p tmp/pids
exec bundle exec puma -b tcp://0.0.0.0 -p 3000 -e production -v
