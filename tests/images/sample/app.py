#!/usr/bin/env python3
"""korcluster's sample app: one file, Python 3 stdlib + pymysql + redis.

Usage: python3 /app/app.py setup|migrate|web|worker

The image's APP_VERSION (v1, v2, v3, broken) selects the behaviour:
  v1      schema 1; files in the v1 layout: DATA_DIR/items/<id>.txt,
          DATA_DIR/items/<id>.derived.txt
  v2      schema 2 (items.checksum); v2 layout: DATA_DIR/items/<id>/original.txt,
          DATA_DIR/items/<id>/derived.txt
  v3      schema 3 (items.note); v2 layout; /health is never 200
  broken  like v2, but setup and migrate fail (exit 3) and /health is never 200

Environment: DATA_DIR, DB_HOST, DB_PORT, DB_NAME, DB_USER, DB_PASSWORD,
REDIS_URL (redis://HOST:PORT/N), QUEUE (Redis list), SECRET_KEY_BASE;
optional PORT (8000) and DB_WAIT (seconds setup/migrate wait for an
unreachable database, 30). DB_PASSWORD and SECRET_KEY_BASE are never printed.
"""
import hashlib
import json
import os
import signal
import socket
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pymysql
import redis

VERSION = os.environ.get("APP_VERSION", "v1")
SCHEMA = {"v1": 1, "v2": 2, "v3": 3, "broken": 2}.get(VERSION, 1)
LAYOUT = "v1" if SCHEMA == 1 else "v2"
DATA_DIR = os.environ.get("DATA_DIR", "/data")
ITEMS_DIR = os.path.join(DATA_DIR, "items")
QUEUE = os.environ.get("QUEUE", "sample")
SECRET = os.environ.get("SECRET_KEY_BASE", "")
# Set by SIGTERM/SIGINT. A plain flag: a signal handler must take no lock.
STOP = []
# Errors meaning "the database or Redis is not there right now".
DOWN = (pymysql.err.OperationalError, pymysql.err.InterfaceError, redis.exceptions.ConnectionError,
        redis.exceptions.TimeoutError, OSError)


def stopping():
    return bool(STOP)


def nap(seconds):
    """Sleeps up to seconds, less when told to stop; returns stopping()."""
    end = time.monotonic() + seconds
    while not STOP and time.monotonic() < end:
        time.sleep(0.05)
    return stopping()


def log(*args):
    print(*args, flush=True)


def err(*args):
    print(*args, file=sys.stderr, flush=True)


# Lookups in progress: host -> {"done": Event, "addr" or "error"}.
_lookups = {}
_lookups_lock = threading.Lock()


def resolve(host, timeout=2.0):
    """host's address, or OSError after timeout seconds (or on SIGTERM).

    Client libraries' connect timeouts do not cover the name lookup, and
    Docker's DNS forwards the name of a stopped container upstream, which
    may take 10 s to fail. One lookup per host runs at a time.
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
    end = time.monotonic() + timeout
    while not job["done"].wait(0.05):
        if stopping() or time.monotonic() > end:
            raise socket.gaierror(socket.EAI_AGAIN, "lookup of %s timed out" % host)
    if "error" in job:
        raise job["error"]
    return job["addr"]


def db_connect(timeout=2):
    host = os.environ.get("DB_HOST", "127.0.0.1")
    try:
        addr = resolve(host)
    except OSError as e:
        raise pymysql.err.OperationalError(2005, "Unknown MySQL server host '%s' (%s)" % (host, e))
    return pymysql.connect(
        host=addr, port=int(os.environ.get("DB_PORT", "3306")),
        user=os.environ.get("DB_USER", ""), password=os.environ.get("DB_PASSWORD", ""),
        database=os.environ.get("DB_NAME", ""), charset="utf8mb4", autocommit=True,
        connect_timeout=timeout, read_timeout=30, write_timeout=30)


def db_wait():
    """Connects, retrying for DB_WAIT seconds while the server cannot be reached."""
    deadline = time.monotonic() + float(os.environ.get("DB_WAIT", "30"))
    while True:
        try:
            return db_connect()
        except pymysql.err.OperationalError as e:
            # 1044/1045/1049: wrong database or credentials; waiting will not help.
            if e.args[0] in (1044, 1045, 1049) or time.monotonic() > deadline:
                raise
            err("database not reachable yet (%s); retrying" % e.args[-1])
            time.sleep(1)


class RedisConnection(redis.connection.Connection):
    """Looks the host up with resolve()'s time limit."""

    def _connect(self):
        name = self.host
        self.host = resolve(name)
        try:
            return super()._connect()
        finally:
            self.host = name


def redis_client():
    pool = redis.ConnectionPool.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
                                         connection_class=RedisConnection,
                                         socket_connect_timeout=2, socket_timeout=5)
    return redis.Redis(connection_pool=pool)


def redis_where():
    """REDIS_URL without any password."""
    u = urllib.parse.urlsplit(os.environ.get("REDIS_URL", ""))
    return "%s:%s%s" % (u.hostname, u.port or 6379, u.path or "/0")


def db_schema(cur):
    """The database's schema version, None when it has none."""
    try:
        cur.execute("SELECT version FROM schema_info LIMIT 1")
    except pymysql.err.ProgrammingError as e:
        if e.args[0] == 1146:  # no such table
            return None
        raise
    row = cur.fetchone()
    return row[0] if row else None


def has_column(cur, table, column):
    cur.execute("SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = DATABASE()"
                " AND table_name = %s AND column_name = %s", (table, column))
    return cur.fetchone()[0] > 0


def write_atomic(path, text):
    tmp = "%s.tmp.%d.%d" % (path, os.getpid(), threading.get_ident())
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def read_text(path):
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except FileNotFoundError:
        return None


def item_path(item_id, kind, layout=LAYOUT):
    """kind: "original" or "derived"."""
    if layout == "v1":
        return os.path.join(ITEMS_DIR, "%d%s.txt" % (item_id, ".derived" if kind == "derived" else ""))
    return os.path.join(ITEMS_DIR, str(item_id), kind + ".txt")


def write_item_file(item_id, kind, text):
    path = item_path(item_id, kind)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    write_atomic(path, text)


def sha256(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------- setup, migrate

def cmd_setup():
    if VERSION == "broken":
        err("setup: error: this version is broken; nothing was created")
        return 3
    conn = db_wait()
    with conn.cursor() as cur:
        have = db_schema(cur)
        if have is not None:
            log("setup: the database already has schema %d%s; nothing changed" % (
                have, "" if have >= SCHEMA else " (run migrate to reach %d)" % SCHEMA))
            os.makedirs(ITEMS_DIR, exist_ok=True)
            return 0
        cols = ["id INT AUTO_INCREMENT PRIMARY KEY", "body TEXT NOT NULL",
                "processed TINYINT NOT NULL DEFAULT 0", "created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP"]
        if SCHEMA >= 2:
            cols.append("checksum CHAR(64) NULL")
        if SCHEMA >= 3:
            cols.append("note TEXT NULL")
        cur.execute("CREATE TABLE IF NOT EXISTS items (%s) DEFAULT CHARSET=utf8mb4" % ", ".join(cols))
        # schema_info last: a database with it is completely set up.
        cur.execute("CREATE TABLE schema_info (version INT NOT NULL)")
        cur.execute("INSERT INTO schema_info (version) VALUES (%s)", (SCHEMA,))
    conn.close()
    os.makedirs(ITEMS_DIR, exist_ok=True)
    log("setup: created schema %d and %s" % (SCHEMA, ITEMS_DIR))
    return 0


def migrate_1_to_2(cur):
    if not has_column(cur, "items", "checksum"):
        cur.execute("ALTER TABLE items ADD COLUMN checksum CHAR(64) NULL")
        log("migrate: 1 -> 2: added items.checksum")
    cur.execute("SELECT id, body FROM items WHERE checksum IS NULL")
    rows = cur.fetchall()
    for item_id, body in rows:
        cur.execute("UPDATE items SET checksum = %s WHERE id = %s", (sha256(body), item_id))
    log("migrate: 1 -> 2: filled %d checksums" % len(rows))
    moved = 0
    names = os.listdir(ITEMS_DIR) if os.path.isdir(ITEMS_DIR) else []
    for name in sorted(names):
        for suffix, kind in ((".derived.txt", "derived"), (".txt", "original")):
            stem = name[:-len(suffix)]
            if name.endswith(suffix) and stem.isdigit():
                os.makedirs(os.path.join(ITEMS_DIR, stem), exist_ok=True)
                os.replace(os.path.join(ITEMS_DIR, name), item_path(int(stem), kind, "v2"))
                moved += 1
                break
    log("migrate: 1 -> 2: moved %d files from the v1 layout to the v2 layout" % moved)


def migrate_2_to_3(cur):
    if not has_column(cur, "items", "note"):
        cur.execute("ALTER TABLE items ADD COLUMN note TEXT NULL")
    log("migrate: 2 -> 3: added items.note")


STEPS = {1: migrate_1_to_2, 2: migrate_2_to_3}


def cmd_migrate():
    if VERSION == "broken":
        err("migrate: error: this version is broken; nothing was changed")
        return 3
    conn = db_wait()
    with conn.cursor() as cur:
        have = db_schema(cur)
        if have is None:
            err("migrate: error: the database has no schema (run setup first)")
            return 1
        if have > SCHEMA:
            err("migrate: error: the database has schema %d, newer than this version's %d; refusing"
                % (have, SCHEMA))
            return 1
        if have == SCHEMA:
            log("migrate: schema %d is current; nothing to do" % have)
            return 0
        while have < SCHEMA:
            # Each step may be re-run after a crash; the version moves last.
            STEPS[have](cur)
            have += 1
            cur.execute("UPDATE schema_info SET version = %s", (have,))
            log("migrate: schema is now %d" % have)
    conn.close()
    return 0


# ---------------------------------------------------------------- web

class Reply(Exception):
    def __init__(self, status, doc):
        super().__init__(status)
        self.status, self.doc = status, doc


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "sample/" + VERSION
    timeout = 120  # idle keep-alive connections
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK stall
    inflight = 0
    lock = threading.Lock()
    queue = None  # Redis client
    t0 = None     # start of the request being handled

    def log_request(self, code="-", size="-"):
        # One line per request: handle_request logs after the reply; errors of
        # the http.server machinery (bad request lines, ...) log here.
        if self.t0 is None:
            log('%s "%s" %s %s' % (self.client_address[0], self.requestline, code, size))

    def log_error(self, fmt, *args):
        err("%s %s" % (self.client_address[0], fmt % args))

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline().strip():  # trailers
                        pass
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def handle_request(self):
        self.t0 = time.monotonic()
        with Handler.lock:
            Handler.inflight += 1
        try:
            body = self.read_body()
            try:
                status, doc = self.route(self.command, urllib.parse.urlsplit(self.path).path, body)
            except Reply as r:
                status, doc = r.status, r.doc
            except DOWN as e:
                status, doc = 503, {"error": "unavailable", "why": "%s: %s" % (type(e).__name__, e)}
            except Exception as e:  # noqa: BLE001 - one bad request must not end the server
                err("error in %s %s: %r" % (self.command, self.path, e))
                status, doc = 500, {"error": "internal", "why": type(e).__name__}
            data = (json.dumps(doc) + "\n").encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            if stopping():
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
            log('%s "%s" %d %d %.1fms' % (self.client_address[0], self.requestline, status, len(data),
                                          (time.monotonic() - self.t0) * 1000))
        finally:
            self.t0 = None
            with Handler.lock:
                Handler.inflight -= 1

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = handle_request

    def route(self, method, path, body):
        parts = [p for p in path.split("/") if p]
        get = method in ("GET", "HEAD")
        if get and parts == ["health"]:
            return self.health()
        if get and parts == []:
            return self.index()
        if parts == ["items"] and method == "POST":
            return self.create(body)
        if get and parts == ["items"]:
            with db_connect() as conn, conn.cursor() as cur:
                cur.execute("SELECT id FROM items ORDER BY id")
                return 200, {"ids": [r[0] for r in cur.fetchall()]}
        if get and len(parts) == 2 and parts[0] == "items" and parts[1].isdigit():
            return self.show(int(parts[1]))
        return 404, {"error": "not found", "path": path}

    def health(self):
        try:
            with db_connect() as conn, conn.cursor() as cur:
                have = db_schema(cur)
        except DOWN + (pymysql.err.MySQLError,) as e:
            return 503, {"ok": False, "why": "database: %s" % e}
        if have != SCHEMA:
            return 503, {"ok": False, "why": "database schema is %s, this version needs %d" % (have, SCHEMA)}
        if VERSION == "v3":
            return 503, {"ok": False, "why": "v3 never becomes healthy"}
        if VERSION == "broken":
            return 503, {"ok": False, "why": "broken version"}
        return 200, {"ok": True}

    def index(self):
        doc = {"app": "sample", "version": VERSION, "schema": None, "items": None,
               "secret_fingerprint": sha256(SECRET)[:12] if SECRET else None}
        with db_connect() as conn, conn.cursor() as cur:
            doc["schema"] = db_schema(cur)
            try:
                cur.execute("SELECT COUNT(*) FROM items")
                doc["items"] = cur.fetchone()[0]
            except pymysql.err.ProgrammingError:
                pass
        return 200, doc

    def create(self, raw):
        text, note = raw.decode("utf-8", "replace"), None
        try:
            doc = json.loads(text)
            if isinstance(doc, dict):
                text, note = doc.get("body"), doc.get("note")
        except ValueError:
            pass
        if not isinstance(text, str) or text == "":
            raise Reply(400, {"error": "a non-empty body is needed"})
        with db_connect() as conn, conn.cursor() as cur:
            have = db_schema(cur) or 0
            cols, vals = ["body"], [text]
            if SCHEMA >= 2 and have >= 2:
                cols.append("checksum")
                vals.append(sha256(text))
            if SCHEMA >= 3 and have >= 3 and isinstance(note, str):
                cols.append("note")
                vals.append(note)
            cur.execute("INSERT INTO items (%s) VALUES (%s)" % (", ".join(cols), ", ".join(["%s"] * len(vals))),
                        vals)
            item_id = cur.lastrowid
        write_item_file(item_id, "original", text)
        try:
            Handler.queue.rpush(QUEUE, item_id)
        except redis.exceptions.RedisError as e:
            err("item %d saved but not queued: %s" % (item_id, e))
            return 201, {"id": item_id, "queued": False}
        return 201, {"id": item_id}

    def show(self, item_id):
        with db_connect() as conn, conn.cursor(pymysql.cursors.DictCursor) as cur:
            cur.execute("SELECT * FROM items WHERE id = %s", (item_id,))
            row = cur.fetchone()
        if row is None:
            return 404, {"error": "no such item", "id": item_id}
        # This version's layout; the other one for files not (yet) moved.
        layout = LAYOUT
        for candidate in (LAYOUT, "v2" if LAYOUT == "v1" else "v1"):
            if os.path.exists(item_path(item_id, "original", candidate)):
                layout = candidate
                break
        doc = {"id": item_id, "body": row["body"], "processed": bool(row["processed"]),
               "file": read_text(item_path(item_id, "original", layout)),
               "derived": read_text(item_path(item_id, "derived", layout)), "layout": layout}
        for extra in ("checksum", "note"):
            if extra in row:
                doc[extra] = row[extra]
        return 200, doc


def on_signal(signum, frame):
    STOP.append(signum)


def cmd_web():
    Handler.queue = redis_client()
    port = int(os.environ.get("PORT", "8000"))
    server = ThreadingHTTPServer(("0.0.0.0", port), Handler)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
    log("sample %s web (schema %d) on 0.0.0.0:%d; db %s@%s:%s/%s; redis %s; queue %s" % (
        VERSION, SCHEMA, port, os.environ.get("DB_USER"), os.environ.get("DB_HOST"),
        os.environ.get("DB_PORT", "3306"), os.environ.get("DB_NAME"), redis_where(), QUEUE))
    while not stopping():
        time.sleep(0.05)
    log("web: stopping")
    server.shutdown()      # no new connections are accepted
    server.server_close()
    deadline = time.monotonic() + 1.5
    while Handler.inflight > 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    log("web: stopped (%d requests unfinished)" % Handler.inflight)
    return 0


# ---------------------------------------------------------------- worker

def process(item_id):
    """Writes the derived file and marks the item; False on errors worth a retry."""
    try:
        with db_connect() as conn, conn.cursor() as cur:
            cur.execute("SELECT body FROM items WHERE id = %s", (item_id,))
            row = cur.fetchone()
            if row is None:
                log("worker: item %d: no such item; dropped" % item_id)
                return True
            write_item_file(item_id, "derived", row[0].upper())
            cur.execute("UPDATE items SET processed = 1 WHERE id = %s", (item_id,))
    except DOWN + (pymysql.err.MySQLError,) as e:  # e.g. no table yet during a deploy
        err("worker: item %d: %s; retrying" % (item_id, e))
        return False
    log("worker: processed item %d" % item_id)
    return True


def cmd_worker():
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    r = redis_client()
    log("sample %s worker; db %s@%s:%s/%s; redis %s; queue %s" % (
        VERSION, os.environ.get("DB_USER"), os.environ.get("DB_HOST"), os.environ.get("DB_PORT", "3306"),
        os.environ.get("DB_NAME"), redis_where(), QUEUE))
    while not stopping():
        try:
            popped = r.blpop([QUEUE], timeout=1)
        except redis.exceptions.RedisError as e:
            err("worker: redis: %s; retrying" % e)
            nap(1)
            continue
        if popped is None:
            continue
        try:
            item_id = int(popped[1])
        except ValueError:
            err("worker: ignored queue entry %r" % popped[1][:40])
            continue
        while not process(item_id):
            if nap(1):
                try:  # hand the item back for the next worker
                    r.lpush(QUEUE, item_id)
                except redis.exceptions.RedisError as e:
                    err("worker: item %d lost on shutdown: %s" % (item_id, e))
                break
    log("worker: stopped")
    return 0


def main(argv):
    commands = {"setup": cmd_setup, "migrate": cmd_migrate, "web": cmd_web, "worker": cmd_worker}
    if len(argv) != 2 or argv[1] not in commands:
        err("usage: app.py setup|migrate|web|worker")
        return 2
    if argv[1] in ("setup", "migrate"):
        # As PID 1 a signal without handler is ignored; the steps may be re-run.
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
        try:
            return commands[argv[1]]()
        except (pymysql.err.MySQLError, OSError) as e:
            err("%s: error: %s" % (argv[1], e))
            return 1
    return commands[argv[1]]()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
