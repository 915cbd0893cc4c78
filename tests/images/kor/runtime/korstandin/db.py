"""MySQL access (pymysql) the way the mysql2 gem is configured by Rails."""
import socket
import threading
import time
import urllib.parse

import pymysql

from .common import Abort

# Errors meaning "the server is not there right now".
DOWN = (pymysql.err.OperationalError, pymysql.err.InterfaceError, OSError)
# Lookups in progress: host -> {"done": Event, "addr" or "error"}.
_lookups = {}
_lookups_lock = threading.Lock()


def resolve(host, timeout=2.0):
    """host's address, or OSError after timeout seconds.

    Connect timeouts do not cover the name lookup, and Docker's DNS may take
    seconds to fail for the name of a stopped container. One lookup per host
    runs at a time.
    """
    with _lookups_lock:
        job = _lookups.get(host)
        if job is None:
            job = _lookups[host] = {"done": threading.Event()}

            def lookup():
                try:
                    job["addr"] = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)[0][4][0]
                except OSError as e:
                    job["error"] = e
                with _lookups_lock:
                    _lookups.pop(host, None)
                job["done"].set()
            threading.Thread(target=lookup, daemon=True).start()
    if not job["done"].wait(timeout):
        raise socket.gaierror(socket.EAI_AGAIN, "lookup of %s timed out" % host)
    if "error" in job:
        raise job["error"]
    return job["addr"]


def parse_database_url(url):
    """mysql2://USER:PASS@HOST:PORT/DB?encoding=...&collation=... -> settings dict."""
    u = urllib.parse.urlsplit(url)
    if u.scheme not in ("mysql2", "mysql", "trilogy"):
        raise Abort("DATABASE_URL: unsupported adapter %r (this app needs mysql2://)" % u.scheme)
    try:
        port = u.port or 3306
    except ValueError:
        raise Abort("DATABASE_URL: invalid port")
    database = urllib.parse.unquote(u.path.lstrip("/"))
    if not u.hostname or not database:
        raise Abort("DATABASE_URL: a host and a database name are needed (mysql2://USER:PASS@HOST:PORT/DB)")
    query = dict(urllib.parse.parse_qsl(u.query))
    return {"host": urllib.parse.unquote(u.hostname), "port": port,
            "username": urllib.parse.unquote(u.username or ""), "password": urllib.parse.unquote(u.password or ""),
            "database": database, "encoding": query.get("encoding", "utf8"),
            "collation": query.get("collation")}


def where(cfg):
    """user@host:port/database, never the password."""
    return "%s@%s:%s/%s" % (cfg["username"], cfg["host"], cfg["port"], cfg["database"])


def connect(cfg, database=True, timeout=3):
    """A connection (autocommit) to cfg's server, to its database unless database=False."""
    try:
        addr = resolve(cfg["host"])
    except OSError as e:
        raise pymysql.err.OperationalError(2005, "Unknown MySQL server host '%s' (%s)" % (cfg["host"], e))
    charset = "utf8mb4" if cfg.get("encoding") == "utf8mb4" else "utf8"
    return pymysql.connect(host=addr, port=int(cfg["port"]), user=cfg["username"], password=cfg["password"],
                           database=cfg["database"] if database else None, charset=charset, autocommit=True,
                           connect_timeout=timeout, read_timeout=60, write_timeout=60)


def wait_connect(cfg, seconds, database=True):
    """connect(), retrying while the server cannot be reached, for up to seconds."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return connect(cfg, database)
        except pymysql.err.OperationalError as e:
            if e.args[0] in (1044, 1045, 1049) or time.monotonic() > deadline:
                raise
            time.sleep(1)


def describe(e):
    """A pymysql error as the mysql2 gem would show it."""
    if isinstance(e, pymysql.err.MySQLError) and len(e.args) >= 2:
        return "Mysql2::Error: %s" % e.args[1]
    return "%s: %s" % (type(e).__name__, e)


def has_table(cur, table):
    cur.execute("SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = DATABASE()"
                " AND table_name = %s", (table,))
    return first(cur.fetchone()) > 0


def has_column(cur, table, column):
    cur.execute("SELECT COUNT(*) AS n FROM information_schema.columns WHERE table_schema = DATABASE()"
                " AND table_name = %s AND column_name = %s", (table, column))
    return first(cur.fetchone()) > 0


def first(row):
    """The first value of a row from a plain or a dict cursor."""
    return next(iter(row.values())) if isinstance(row, dict) else row[0]
