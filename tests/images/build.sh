#!/bin/bash
# Builds the korcluster test images offline from Debian packages and pushes
# them to the local test registry (tests/lib/registry.sh):
#   127.0.0.1:5000/korcluster-test/{mariadb,redis,nginx,python}:bookworm
#   127.0.0.1:5000/korcluster-test/sample:{v1,v2,v3,broken}
#   127.0.0.1:5000/korcluster-test/search:{2.4.6,5.6.16,7.17.25}
#   127.0.0.1:5000/korcluster-test/ruby:3.2.3
#   127.0.0.1:5000/korcluster-test/kor-legacy:{v2.1.0,v3.0.0}
# One debootstrap rootfs holds every package; it is cached as a tarball under
# /var/cache/korcluster-test, imported as korcluster-test/base:bookworm, and
# each image is that base plus its entrypoint script and config (docker commit).
# The sample app's images are the python image plus sample/app.py and
# APP_VERSION=<tag> (the app branches on it). The stand-ins of Elasticsearch
# (search/), of the Ruby image ConedaKOR builds on (kor/runtime/) and of the
# KorCluster-era ConedaKOR image (kor-legacy/, on the ruby image) are described
# in README.md; kor/source/ is a ConedaKOR source tree the tests build
# themselves, not an image of this script.
# Re-runs skip whatever is already up to date locally and in the registry.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REGISTRY=127.0.0.1:5000
TAG=bookworm
# name:tag, in build order (sample, search and ruby need python; kor-legacy needs ruby).
IMAGES=("mariadb:$TAG" "redis:$TAG" "nginx:$TAG" "python:$TAG" sample:v1 sample:v2 sample:v3 sample:broken
    search:2.4.6 search:5.6.16 search:7.17.25 ruby:3.2.3 kor-legacy:v2.1.0 kor-legacy:v3.0.0)
BASE=korcluster-test/base:$TAG
CACHE=/var/cache/korcluster-test
# Everything any image needs; bump ROOTFS_REV when the rootfs recipe changes.
PACKAGES="mariadb-server mariadb-client redis-server redis-tools nginx python3 python3-pymysql python3-redis python3-yaml"
ROOTFS_REV=2
START=$SECONDS

if [ -x /usr/bin/docker ]; then DOCKER=/usr/bin/docker; else DOCKER=docker; fi
docker() { "$DOCKER" "$@"; }
log() { echo "build.sh: $*"; }
die() { echo "build.sh: error: $*" >&2; exit 1; }

# The first Debian mirror of the machine's apt sources (one-line or deb822).
find_mirror() {
    local f
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        case $f in
            *.sources) awk 'tolower($1) == "uris:" { for (i = 2; i <= NF; i++) print $i }' "$f" ;;
            *) sed -n 's/\[[^]]*\]//; s/^[[:space:]]*deb[[:space:]]\{1,\}\([^[:space:]]\{1,\}\).*/\1/p' "$f" ;;
        esac
    done | sed 's:/*$::' | grep -m1 '/debian$' || true
}

SUITE=$(sed -n 's/^VERSION_CODENAME="\{0,1\}\([^"]*\).*/\1/p' /etc/os-release)
[ -n "$SUITE" ] || die "no VERSION_CODENAME in /etc/os-release"
ARCH=$(dpkg --print-architecture)
ROOTFS_KEY=$(echo "$ROOTFS_REV $SUITE $ARCH $PACKAGES" | sha256sum | cut -c1-12)
TARBALL=$CACHE/rootfs-$SUITE-$ARCH-$ROOTFS_KEY.tar
# Images are rebuilt when this script, an image file or the rootfs changes;
# the images made of a folder also when a file under it changes (only they
# then, and the images built on them): sample/ -> sample, search/ -> search,
# kor/runtime/ -> ruby and kor-legacy, kor-legacy/ -> kor-legacy.
IMAGES_KEY=$(find "$HERE" -maxdepth 1 -type f ! -name '*.md' -print0 | LC_ALL=C sort -z | xargs -0 cat | sha256sum |
    cut -c1-12)-$ROOTFS_KEY
# Names, modes and contents of the files under folder $1.
dir_key() {
    (cd "$HERE/$1" && find . -type f -not -path '*/__pycache__/*' -printf '%m %p\n' | LC_ALL=C sort &&
        find . -type f -not -path '*/__pycache__/*' -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum) |
        sha256sum | cut -c1-12
}
SAMPLE_KEY=$(cd "$HERE/sample" && find . -type f -not -path '*/__pycache__/*' -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum |
    sha256sum | cut -c1-12)-$IMAGES_KEY
SEARCH_KEY=$(dir_key search)-$IMAGES_KEY
RUBY_KEY=$(dir_key kor/runtime)-$IMAGES_KEY
LEGACY_KEY=$(dir_key kor-legacy)-$RUBY_KEY
LABEL=org.korcluster-test.image-key  # not korcluster.*: containers inherit image labels

# Digest of name:tag in the registry, empty if absent.
registry_digest() {
    curl -fsSI -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
        "http://$REGISTRY/v2/korcluster-test/${1%%:*}/manifests/${1#*:}" 2>/dev/null |
        tr -d '\r' | awk 'tolower($1) == "docker-content-digest:" { print $2 }'
}
local_key() { docker image inspect -f "{{index .Config.Labels \"$LABEL\"}}" "$1" 2>/dev/null || true; }
key_of() {
    case $1 in
        sample:*) echo "$SAMPLE_KEY" ;;
        search:*) echo "$SEARCH_KEY" ;;
        ruby:*) echo "$RUBY_KEY" ;;
        kor-legacy:*) echo "$LEGACY_KEY" ;;
        *) echo "$IMAGES_KEY" ;;
    esac
}
# The image name:tag is made from (its parent is built first).
parent_of() {
    case $1 in
        sample:* | search:* | ruby:*) echo "$REGISTRY/korcluster-test/python:$TAG" ;;
        kor-legacy:*) echo "$REGISTRY/korcluster-test/ruby:3.2.3" ;;
        *) echo "$BASE" ;;
    esac
}
is_built() { [ "$(local_key "$REGISTRY/korcluster-test/$1")" = "$(key_of "$1")" ]; }
is_pushed() {
    local digest; digest=$(registry_digest "$1")
    [ -n "$digest" ] && docker image inspect -f '{{join .RepoDigests " "}}' "$REGISTRY/korcluster-test/$1" 2>/dev/null |
        grep -qF "$REGISTRY/korcluster-test/${1%%:*}@$digest"
}

# debootstrap + chroot apt-get install, then tar the tree into $TARBALL.
build_rootfs() {
    local dir=$CACHE/rootfs.build mirror t
    mirror=${KORCLUSTER_TEST_MIRROR:-$(find_mirror)}
    [ -n "$mirror" ] || die "no Debian mirror (path ending in /debian) in the apt sources"
    cleanup_rootfs() { umount "$dir/proc" 2>/dev/null || true; rm -rf "$dir"; }
    cleanup_rootfs
    trap cleanup_rootfs EXIT
    mkdir -p "$CACHE"
    t=$SECONDS
    log "debootstrap $SUITE from $mirror (log: $CACHE/debootstrap.log)"
    debootstrap --variant=minbase "$SUITE" "$dir" "$mirror" >"$CACHE/debootstrap.log" 2>&1 ||
        { tail -n 20 "$CACHE/debootstrap.log" >&2; die "debootstrap failed"; }
    log "debootstrap took $((SECONDS - t)) s"
    t=$SECONDS
    # No service may start inside the chroot; dpkg need not fsync.
    printf '#!/bin/sh\nexit 101\n' >"$dir/usr/sbin/policy-rc.d"
    chmod 755 "$dir/usr/sbin/policy-rc.d"
    echo force-unsafe-io >"$dir/etc/dpkg/dpkg.cfg.d/zz-korcluster-unsafe-io"
    mount -t proc proc "$dir/proc"
    # shellcheck disable=SC2086 # $PACKAGES is a word list
    chroot "$dir" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C \
        DEBIAN_FRONTEND=noninteractive sh -ec "
            apt-get update -q
            apt-get install -y -q --no-install-recommends $PACKAGES
            apt-get clean" >"$CACHE/apt.log" 2>&1 ||
        { tail -n 20 "$CACHE/apt.log" >&2; die "apt-get install in the chroot failed"; }
    umount "$dir/proc"
    log "apt-get install took $((SECONDS - t)) s"
    # Slim down and undo the build-time settings.
    rm -rf "$dir"/var/lib/apt/lists/* "$dir"/usr/share/{doc,man,info,locale}/* \
        "$dir/usr/sbin/policy-rc.d" "$dir/etc/dpkg/dpkg.cfg.d/zz-korcluster-unsafe-io" \
        "$dir/etc/resolv.conf" "$dir/etc/hostname"
    # Image conventions: empty MariaDB datadir (the entrypoint initializes it),
    # /data for redis, nginx logging to the container's stdout/stderr.
    rm -rf "$dir"/var/lib/mysql/*
    mkdir -p "$dir/data" "$dir/run/mysqld"
    chroot "$dir" chown redis:redis /data
    chroot "$dir" chown mysql:mysql /run/mysqld /var/lib/mysql
    ln -sf /dev/stdout "$dir/var/log/nginx/access.log"
    ln -sf /dev/stderr "$dir/var/log/nginx/error.log"
    tar -C "$dir" --numeric-owner --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' \
        -cf "$TARBALL.tmp" . && mv "$TARBALL.tmp" "$TARBALL"
    cleanup_rootfs
    trap - EXIT
    # Drop tarballs of older recipes.
    find "$CACHE" -maxdepth 1 -name 'rootfs-*.tar' ! -path "$TARBALL" -delete
}

# korcluster-test/base:TAG from the cached tarball (built when missing).
ensure_base() {
    local t
    [ "$(local_key "$BASE")" = "$ROOTFS_KEY" ] && return 0
    [ -f "$TARBALL" ] || build_rootfs
    t=$SECONDS
    docker import --change "LABEL $LABEL=$ROOTFS_KEY" "$TARBALL" "$BASE" >/dev/null
    log "imported $BASE in $((SECONDS - t)) s"
}

# name:tag -> image config; each line is one `docker commit --change`.
image_changes() {
    case ${1%%:*} in
        mariadb) printf '%s\n' 'ENTRYPOINT ["/usr/local/bin/mariadb-entrypoint.sh"]' \
            'CMD ["mariadbd"]' 'EXPOSE 3306' ;;
        redis) printf '%s\n' 'ENTRYPOINT ["/usr/local/bin/redis-entrypoint.sh"]' \
            'CMD ["redis-server"]' 'EXPOSE 6379' 'WORKDIR /data' ;;
        nginx) printf '%s\n' 'CMD ["nginx", "-g", "daemon off;"]' 'EXPOSE 80' ;;
        python) printf '%s\n' 'CMD ["python3"]' ;;
        sample) printf '%s\n' "ENV APP_VERSION=${1#*:}" 'WORKDIR /app' \
            'CMD ["python3", "/app/app.py", "web"]' ;;
        # The version is the tag's, as the official images' ELASTICSEARCH_VERSION.
        search) printf '%s\n' "ENV ELASTICSEARCH_VERSION=${1#*:}" 'WORKDIR /usr/share/elasticsearch' \
            'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]' 'CMD ["elasticsearch"]' 'EXPOSE 9200 9300' ;;
        ruby) printf '%s\n' "ENV RUBY_VERSION=${1#*:}" 'CMD ["irb"]' ;;
        # No entrypoint: KorCluster ran `/bin/bash -c "CMD" kor` in /opt/kor.
        kor-legacy) printf '%s\n' 'ENV RAILS_ENV=production' 'WORKDIR /opt/kor' \
            'CMD ["bundle", "exec", "puma", "-e", "production", "-p", "8000", "-t", "2", "config.ru"]' ;;
    esac
}

# The files of name:tag, laid out from / under folder $2.
stage_files() {
    local name=${1%%:*} tag=${1#*:} dir=$2
    case $name in
        search)
            mkdir -p "$dir/usr/local/bin" "$dir/usr/share/elasticsearch/"{bin,lib,data,config}
            cp "$HERE/search/docker-entrypoint.sh" "$dir/usr/local/bin/"
            cp "$HERE/search/elasticsearch.py" "$dir/usr/share/elasticsearch/lib/"
            ln -s ../lib/elasticsearch.py "$dir/usr/share/elasticsearch/bin/elasticsearch" ;;
        ruby)
            mkdir -p "$dir/usr/local/bin" "$dir/usr/local/lib"
            cp "$HERE"/kor/runtime/bin/* "$dir/usr/local/bin/"
            cp -r "$HERE/kor/runtime/korstandin" "$dir/usr/local/lib/" ;;
        kor-legacy)
            mkdir -p "$dir/opt"
            cp -r "$HERE/kor-legacy" "$dir/opt/kor"
            mkdir -p "$dir/opt/kor/shared" "$dir/opt/kor/tmp" "$dir/opt/kor/log"
            echo "$tag" >"$dir/opt/kor/config/version.txt" ;;
    esac
    find "$dir" -name __pycache__ -prune -exec rm -rf {} +
}

build_image() {
    local name=${1%%:*} ref=$REGISTRY/korcluster-test/$1 cid change args=() stage
    cid=$(docker create "$(parent_of "$1")" /bin/true)
    if [ "$name" = sample ]; then
        # /app/app.py, root's, 0644, fixed mtimes: the four tags share one layer.
        tar -C "$HERE" --owner=0 --group=0 --numeric-owner --mode=u=rwX,go=rX --mtime=@0 \
            --no-recursion --transform='s,^sample,app,' -cf - sample sample/app.py | docker cp - "$cid:/"
    elif [ "$name" = search ] || [ "$name" = ruby ] || [ "$name" = kor-legacy ]; then
        # Root's files, modes kept (u=rwX), fixed mtimes: same layer for the same files.
        stage=$(mktemp -d)
        stage_files "$1" "$stage"
        (cd "$stage" && find . -mindepth 1 -maxdepth 1 -printf '%P\0' | LC_ALL=C sort -z |
            tar --owner=0 --group=0 --numeric-owner --mode=u=rwX,go=rX --mtime=@0 --sort=name --null \
                -cf - -T -) | docker cp - "$cid:/" ||
            { rm -rf "$stage"; docker rm "$cid" >/dev/null; die "copying the files of $ref failed"; }
        rm -rf "$stage"
    fi
    [ -f "$HERE/$name-entrypoint.sh" ] && docker cp "$HERE/$name-entrypoint.sh" "$cid:/usr/local/bin/"
    while IFS= read -r change; do args+=(--change "$change"); done < <(image_changes "$1")
    docker commit "${args[@]}" --change "LABEL $LABEL=$(key_of "$1")" --change "ENV LANG=C.UTF-8" \
        --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" "$cid" "$ref" >/dev/null ||
        { docker rm "$cid" >/dev/null; die "docker commit of $ref failed"; }
    docker rm "$cid" >/dev/null
    log "built $ref"
}

push_image() {
    local ref=$REGISTRY/korcluster-test/$1 out
    out=$(docker push "$ref" 2>&1) || { echo "$out" >&2; die "docker push $ref failed (is tests/lib/registry.sh running?)"; }
    log "pushed $ref"
}

docker version >/dev/null 2>&1 || die "docker does not answer (tests/lib/dockerd.sh start)"
curl -fsS "http://$REGISTRY/v2/" >/dev/null 2>&1 || die "no registry at $REGISTRY (tests/lib/registry.sh start)"
# One build at a time (bounded wait).
mkdir -p /run/lock
exec 9>/run/lock/korcluster-test-build.lock
flock -w 900 9 || die "another build.sh holds the lock"

todo_build=() todo_push=()
for name in "${IMAGES[@]}"; do
    if ! is_built "$name"; then todo_build+=("$name"); todo_push+=("$name")
    elif ! is_pushed "$name"; then todo_push+=("$name"); fi
done
if [ ${#todo_push[@]} -eq 0 ]; then
    log "all images up to date ($((SECONDS - START)) s)"
    exit 0
fi
if [ ${#todo_build[@]} -gt 0 ]; then
    need_base=
    for ref in "${todo_build[@]}"; do [ "$(parent_of "$ref")" != "$BASE" ] || need_base=1; done
    [ -z "$need_base" ] || ensure_base
    for name in "${todo_build[@]}"; do build_image "$name"; done
    # Remove the untagged images left behind by rebuilds; once per level of
    # parents, as an old python image is dangling only once the old images
    # built on it are gone.
    for _ in 1 2 3; do docker image prune -f --filter "label=$LABEL" >/dev/null; done
fi
for name in "${todo_push[@]}"; do push_image "$name"; done
log "done in $((SECONDS - START)) s"
