#!/bin/bash
# Test setup for `make check` on Debian 12, as root, without systemd and
# without any reachable Docker registry: installs the needed Debian packages,
# starts dockerd and a local registry (127.0.0.1:5000) and builds the test
# images into it. Idempotent; a re-run only checks (a few seconds).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PACKAGES=(docker.io debootstrap docker-registry bats libcmocka-dev libcurl4-openssl-dev
    libjansson-dev libarchive-dev libmariadb-dev libinih-dev libsodium-dev pkg-config gcc make curl
    ca-certificates python3 clang clang-tools cppcheck openssl openssh-server)
START=$SECONDS

say() { echo "setup.sh: $*"; }
die() { echo "setup.sh: error: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root"

missing=()
for p in "${PACKAGES[@]}"; do
    [ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null)" = "ii " ] || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1
    apt-get update -q >/dev/null || die "apt-get update failed"
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null ||
        die "apt-get install ${missing[*]} failed"
else
    say "packages present"
fi

# The S3-compatible server of the backup tests: s3rver, from the npm
# registry (Node.js from Debian where the machine has none).
S3RVER_DIR=/opt/korcluster-tests/s3rver
if [ ! -x "$S3RVER_DIR/node_modules/.bin/s3rver" ]; then
    if ! command -v npm >/dev/null; then
        say "installing nodejs npm"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nodejs npm >/dev/null ||
            die "apt-get install nodejs npm failed"
    fi
    say "installing s3rver 3.7.1 (npm) into $S3RVER_DIR"
    mkdir -p "$S3RVER_DIR"
    npm install --prefix "$S3RVER_DIR" --no-audit --no-fund --loglevel=error s3rver@3.7.1 >/dev/null ||
        die "npm install s3rver failed"
fi

"$HERE/lib/dockerd.sh" start || die "cannot start dockerd"
"$HERE/lib/registry.sh" start || die "cannot start the test registry"
"$HERE/images/build.sh" || die "cannot build the test images"

# Clusters an interrupted earlier run left behind (their test folder is gone)
# would otherwise come back with the engine and sit beside this run's.
stale=0
while read -r id root cluster; do
    case $root in /tmp/korcluster-test.*/*) ;; *) continue ;; esac
    [ -d "$root" ] && continue
    docker rm -f "$id" >/dev/null 2>&1 && stale=$((stale + 1))
    docker network rm "${cluster}_net" >/dev/null 2>&1 || true
done < <(docker ps -aq --filter label=korcluster.root | xargs -r docker inspect -f \
    '{{.Id}} {{index .Config.Labels "korcluster.root"}} {{index .Config.Labels "korcluster.cluster"}}')
[ "$stale" = 0 ] || say "removed $stale containers of earlier test runs"
say "ready in $((SECONDS - START)) s"
