#!/bin/bash
# Entrypoint of 127.0.0.1:5000/korcluster-test/mariadb: the part of the official
# mariadb image's interface that korcluster needs.
#   MARIADB_ROOT_PASSWORD_FILE (or MARIADB_ROOT_PASSWORD): root password, used
#   only to initialize an empty /var/lib/mysql. Creates root@localhost (unix
#   socket or password) and root@'%' (password, ALL ... WITH GRANT OPTION).
# The server runs as PID 1 (exec) as user mysql on 0.0.0.0:3306. The password
# goes to the server on stdin only: never in a command line, a file or a log.
set -euo pipefail

# Only options given: they are for the server. Another command runs as given.
case ${1:-} in -*) set -- mariadbd "$@" ;; esac
case ${1:-} in mariadbd | mysqld) shift ;; *) exec "$@" ;; esac

DATADIR=/var/lib/mysql
say() { echo "mariadb-entrypoint: $*" >&2; }
as_mysql=()
if [ "$(id -u)" = 0 ]; then
    mkdir -p "$DATADIR" /run/mysqld
    chown mysql:mysql "$DATADIR" /run/mysqld
    as_mysql=(setpriv --reuid=mysql --regid=mysql --init-groups)
fi

if [ ! -d "$DATADIR/mysql" ]; then
    pwfile=${MARIADB_ROOT_PASSWORD_FILE:-${MYSQL_ROOT_PASSWORD_FILE:-}}
    if [ -n "$pwfile" ]; then
        pw=$(<"$pwfile")
    else
        pw=${MARIADB_ROOT_PASSWORD:-${MYSQL_ROOT_PASSWORD:-}}
    fi
    [ -n "$pw" ] || { say "error: empty datadir and no MARIADB_ROOT_PASSWORD_FILE or MARIADB_ROOT_PASSWORD"; exit 1; }
    say "initializing $DATADIR"
    [ "$(id -u)" != 0 ] || chown -R mysql:mysql "$DATADIR"
    out=$("${as_mysql[@]}" mariadb-install-db --datadir="$DATADIR" --skip-test-db \
        --auth-root-authentication-method=socket 2>&1) || { echo "$out" >&2; exit 1; }
    # Escape for a single-quoted SQL string (\ and ').
    pw=${pw//\\/\\\\}
    pw=${pw//\'/\\\'}
    "${as_mysql[@]}" mariadbd --datadir="$DATADIR" --bootstrap --skip-networking --log-warnings=0 <<SQL
FLUSH PRIVILEGES;
ALTER USER 'root'@'localhost' IDENTIFIED VIA unix_socket OR mysql_native_password USING PASSWORD('$pw');
CREATE USER 'root'@'%' IDENTIFIED BY '$pw';
GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION;
DELETE FROM mysql.proxies_priv WHERE Host NOT IN ('localhost', '%');
SQL
    unset pw
    say "initialized"
fi
unset MARIADB_ROOT_PASSWORD MYSQL_ROOT_PASSWORD

exec "${as_mysql[@]}" mariadbd --bind-address=0.0.0.0 --skip-name-resolve "$@"
