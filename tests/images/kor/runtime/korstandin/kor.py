"""The ConedaKOR model shared by the stand-in applications.

An application (ROOT/config/application.py) builds one Kor with:
  version      "v5.1.0" (from its VERSION file) or "v3.0.0"
  migrations   its Migration list, oldest first (Rails-style timestamps)
  configure    a function returning Settings or raising Abort: the v5 tree
               reads the environment, the legacy one shared/database.yml
  features     see FEATURES

Schema and migrations work like Rails': schema_migrations holds the
versions applied; `db:migrate` applies the code's missing ones in order and
refuses a database holding a version newer than the code's newest (a
downgrade). The "schema" number /info shows is how many of this line's
migrations (those not older than the code's first) the database has.
"""
import json
import os
import re
import socket
import threading
import time
import urllib.parse

import pymysql

from . import db
from .common import Abort, err, flag_on_term, nap, out, stopping, write_atomic
from .elastic import SearchError

FEATURES = {
    # GET / -> 200 always ("always") or only with RAILS_SERVE_STATIC_FILES set ("static").
    "root_page": "static",
    # POST /entities writes DATA_DIR/media/N.txt itself ("web") or queues a
    # delayed job the worker turns into that file ("worker").
    "media": "web",
    # bin/kor index-all drops and recreates the index first ("recreate") or
    # only sends the entities ("bulk").
    "index_all": "recreate",
    # puma creates DATA_DIR/settings.json (v5's Kor::Settings).
    "settings_json": True,
    # puma's port without -b, -p and config/puma.rb's port.
    "default_port": 3000,
    "rails_version": "7.0.8",
}
MEDIA_JOB = "--- !ruby/object:Kor::MediaJob\nentity_id: %d\n"
MAX_ATTEMPTS = 25
MAX_RUN_TIME = 4 * 3600


class Migration:
    def __init__(self, version, name, up):
        self.version, self.name, self.up = version, name, up


class Settings:
    def __init__(self, database, data_dir, elastic=None, mail=None, notes=()):
        self.database = database    # db.parse_database_url()-shaped dict
        self.data_dir = data_dir
        self.elastic = elastic      # Elastic or None (search disabled)
        self.mail = mail or {}
        self.notes = list(notes)    # lines puma prints at start


class Kor:
    def __init__(self, root, version, migrations, configure, mapping, **features):
        unknown = set(features) - set(FEATURES)
        if unknown:
            raise ValueError("unknown features: %s" % ", ".join(sorted(unknown)))
        self.root, self.version, self.migrations = root, version, migrations
        self.configure, self.mapping = configure, mapping
        self.features = dict(FEATURES, **features)
        self.settings = None
        self.tasks = {
            "db:create": self.task_create, "db:drop": self.task_drop, "db:setup": self.task_setup,
            "db:schema:load": self.task_schema_load, "db:seed": self.task_seed, "db:migrate": self.task_migrate,
            "db:version": self.task_version, "db:migrate:status": self.task_status,
            "jobs:work": lambda: self.work(1),
            "kor:index:drop": self.drop_index, "kor:index:create": self.create_index,
            "kor:index:refresh": self.index_all, "kor:index:all": self.index_all,
        }

    # ------------------------------------------------------------ boot

    def boot(self):
        if self.settings is None:
            self.settings = self.configure(self)
        return self.settings

    def number(self):
        return self.version.lstrip("v")

    def connect(self, database=True):
        return db.connect(self.boot().database, database)

    # ------------------------------------------------------------ schema

    def applied(self, cur):
        if not db.has_table(cur, "schema_migrations"):
            return set()
        cur.execute("SELECT version FROM schema_migrations")
        return {str(r[0]) for r in cur.fetchall()}

    def schema_of(self, applied):
        first = self.migrations[0].version
        return len([v for v in applied if v >= first])

    def newest(self):
        return self.migrations[-1].version

    def check_not_newer(self, applied):
        newer = sorted(v for v in applied if v > self.newest())
        if newer:
            raise Abort("the database's schema is newer than this code: it has migration %s, ConedaKOR %s "
                        "knows migrations up to %s; migrations never run backwards"
                        % (newer[-1], self.version, self.newest()))

    def run_migrations(self, cur, todo):
        cur.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version VARCHAR(255) NOT NULL PRIMARY KEY)")
        for m in todo:
            t0 = time.monotonic()
            out("== %s %s: migrating %s" % (m.version, m.name, "=" * max(3, 50 - len(m.name))))
            m.up(cur)
            # The version is recorded last: a step cut short is re-run whole.
            cur.execute("INSERT IGNORE INTO schema_migrations (version) VALUES (%s)", (m.version,))
            out("== %s %s: migrated (%.4fs) %s" % (m.version, m.name, time.monotonic() - t0,
                                                   "=" * max(3, 43 - len(m.name))))

    # ------------------------------------------------------------ tasks

    def db_name(self):
        return self.boot().database["database"]

    def task_create(self, quiet=False):
        cfg = self.boot().database
        conn = db.connect(cfg, database=False)
        with conn.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = %s",
                        (cfg["database"],))
            if cur.fetchone()[0]:
                if not quiet:
                    out("Database '%s' already exists" % cfg["database"])
                return
            charset = "utf8mb4" if cfg.get("encoding") == "utf8mb4" else "utf8"
            collation = cfg.get("collation") or ("utf8mb4_unicode_ci" if charset == "utf8mb4" else "utf8_unicode_ci")
            cur.execute("CREATE DATABASE `%s` CHARACTER SET %s COLLATE %s"
                        % (cfg["database"].replace("`", "``"), charset, collation))
        conn.close()
        out("Created database '%s'" % cfg["database"])

    def task_drop(self):
        cfg = self.boot().database
        conn = db.connect(cfg, database=False)
        with conn.cursor() as cur:
            cur.execute("DROP DATABASE IF EXISTS `%s`" % cfg["database"].replace("`", "``"))
        out("Dropped database '%s'" % cfg["database"])

    def wipe(self, cur):
        cur.execute("SHOW FULL TABLES")
        tables = cur.fetchall()
        cur.execute("SET FOREIGN_KEY_CHECKS = 0")
        for name, kind in tables:
            cur.execute("DROP %s `%s`" % ("VIEW" if kind == "VIEW" else "TABLE", name.replace("`", "``")))
        cur.execute("SET FOREIGN_KEY_CHECKS = 1")
        out("-- dropped %d table%s of database '%s'" % (len(tables), "" if len(tables) == 1 else "s",
                                                       self.db_name()))

    def task_schema_load(self):
        with self.connect() as conn, conn.cursor() as cur:
            self.wipe(cur)
            self.run_migrations(cur, self.migrations)
        out("-- schema %d loaded (ConedaKOR %s)" % (len(self.migrations), self.version))

    def task_seed(self):
        with self.connect() as conn, conn.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM users")
            if cur.fetchone()[0] == 0:
                cur.execute("INSERT INTO users (name, email, admin, created_at) VALUES "
                            "('admin', 'admin@example.com', 1, UTC_TIMESTAMP())")
                out("-- seeded the admin user")
            cur.execute("SELECT COUNT(*) FROM collections")
            if cur.fetchone()[0] == 0:
                cur.execute("INSERT INTO collections (name, created_at) VALUES ('Default', UTC_TIMESTAMP())")
                out("-- seeded the default collection")

    def task_setup(self):
        """db:create + db:schema:load + db:seed: the database is wiped first."""
        self.task_create(quiet=True)
        self.task_schema_load()
        self.task_seed()

    def task_migrate(self):
        with self.connect() as conn, conn.cursor() as cur:
            applied = self.applied(cur)
            self.check_not_newer(applied)
            todo = [m for m in self.migrations if m.version not in applied]
            if not todo:
                out("-- schema %d is current (ConedaKOR %s); nothing to migrate"
                    % (self.schema_of(applied), self.version))
                return
            self.run_migrations(cur, todo)
            out("-- schema is now %d (ConedaKOR %s)" % (self.schema_of(self.applied(cur)), self.version))

    def task_version(self):
        with self.connect() as conn, conn.cursor() as cur:
            applied = self.applied(cur)
        out("Current version: %s" % (max(applied) if applied else 0))

    def task_status(self):
        with self.connect() as conn, conn.cursor() as cur:
            applied = self.applied(cur)
        out("\ndatabase: %s\n\n Status   Migration ID    Migration Name\n%s" % (self.db_name(), "-" * 50))
        known = {m.version: m.name for m in self.migrations}
        for v in sorted(applied | set(known)):
            out("   %s     %s  %s" % ("up" if v in applied else "down", v, known.get(v, "********** NO FILE **********")))

    def run_task(self, name):
        task = self.tasks.get(name)
        if task is None:
            raise Abort("Don't know how to build task '%s' (See the list of available tasks with `rake --tasks`)"
                        % name)
        self.boot()
        try:
            task()
        except pymysql.err.MySQLError as e:
            if e.args and e.args[0] == 1049:
                raise Abort("ActiveRecord::NoDatabaseError: Unknown database '%s'" % self.db_name())
            raise Abort(db.describe(e))
        except SearchError as e:
            raise Abort("Kor::Elastic::Exception: %s" % e)

    # ------------------------------------------------------------ search index

    def elastic(self):
        return self.boot().elastic

    def index_exists(self):
        es = self.elastic()
        status, _ = es.request("HEAD", "/" + es.index)
        return status != 404

    def drop_index(self):
        es = self.elastic()
        if es is None:
            return out("-- search is disabled (ELASTIC_URL is empty)")
        status, doc = es.request("DELETE", "/" + es.index)
        if status == 404:
            out("-- index %s did not exist" % es.index)
        elif 200 <= status < 300:
            out("-- dropped index %s" % es.index)
        else:
            raise SearchError(status, doc)

    def create_index(self):
        es = self.elastic()
        if es is None:
            return out("-- search is disabled (ELASTIC_URL is empty)")
        if self.index_exists():
            return out("-- index %s exists" % es.index)
        es.require("PUT", "/" + es.index, self.mapping)
        out("-- created index %s" % es.index)

    def entity_doc(self, row):
        doc = {"id": row["id"], "name": row["name"],
               "created_at": int(row["created_at"].timestamp()) if row.get("created_at") else None}
        for extra in ("uuid", "distinct_name"):
            if extra in row:
                doc[extra] = row[extra]
        return doc

    def index_all(self):
        es = self.elastic()
        if es is None:
            return out("search is disabled (ELASTIC_URL is empty): nothing indexed")
        if self.features["index_all"] == "recreate":
            status, doc = es.request("DELETE", "/" + es.index)
            if not (200 <= status < 300 or status == 404):
                raise SearchError(status, doc)
            es.require("PUT", "/" + es.index, self.mapping)
        with self.connect() as conn, conn.cursor(pymysql.cursors.DictCursor) as cur:
            cur.execute("SELECT * FROM entities ORDER BY id")
            rows = cur.fetchall()
        for start in range(0, len(rows), 500):
            lines = []
            for row in rows[start:start + 500]:
                lines += [{"index": {"_id": str(row["id"])}}, self.entity_doc(row)]
            _, doc = es.require("POST", "/%s/entities/_bulk" % es.index, lines, ndjson=True)
            if isinstance(doc, dict) and doc.get("errors"):
                bad = next(i for i in doc["items"] if list(i.values())[0].get("error"))
                raise SearchError(200, bad, "bulk indexing failed: %s" % json.dumps(bad))
        es.request("POST", "/%s/_refresh" % es.index)
        out("indexed %d entities into %s" % (len(rows), es.index))

    def index_entity(self, row):
        es = self.elastic()
        es.require("PUT", "/%s/entities/%d" % (es.index, row["id"]), self.entity_doc(row))

    RUNNER = {"Kor::Elastic.drop_index": "drop_index", "Kor::Elastic.create_index": "create_index",
              "Kor::Elastic.reset_index": "reset_index", "Kor::Elastic.index_all": "index_all",
              "Kor::Elastic.index_all(full: true)": "index_all", "puts Kor.version": "print_version"}

    def reset_index(self):
        self.drop_index()
        self.create_index()

    def print_version(self):
        out(self.number())

    def runner(self, code):
        """`rails runner CODE` for the statements ConedaKOR's operators used."""
        statements = [re.sub(r"\s+", " ", s).strip() for s in re.split(r"[;\n]", code)]
        statements = [s for s in statements if s]
        unknown = [s for s in statements if s not in self.RUNNER]
        if unknown or not statements:
            raise Abort("rails runner: the stand-in does not know %r (it knows: %s)"
                        % (unknown[0] if unknown else code, "; ".join(sorted(self.RUNNER))))
        self.boot()
        try:
            for s in statements:
                getattr(self, self.RUNNER[s])()
        except SearchError as e:
            raise Abort("Kor::Elastic::Exception: %s" % e)
        except pymysql.err.MySQLError as e:
            raise Abort(db.describe(e))
        return 0

    # ------------------------------------------------------------ bin/kor

    def cli_kor(self, argv):
        if argv in (["--version"], ["version"], ["-v"]):
            out(self.number())
            return 0
        if argv[:1] != ["index-all"]:
            raise Abort("usage: bin/kor index-all (the stand-in knows only this command)")
        self.boot()
        try:
            self.index_all()
        except SearchError as e:
            raise Abort("index-all failed: %s" % e)
        except pymysql.err.MySQLError as e:
            raise Abort("index-all failed: %s" % db.describe(e))
        return 0

    # ------------------------------------------------------------ files

    def media_dir(self):
        return os.path.join(self.boot().data_dir, "media")

    def media_path(self, entity_id):
        return os.path.join(self.media_dir(), "%d.txt" % entity_id)

    def write_media(self, entity_id, text):
        os.makedirs(self.media_dir(), exist_ok=True)
        write_atomic(self.media_path(entity_id), text)

    def prepare(self):
        """What the app does when the web process starts: its data folders."""
        settings = self.boot()
        for sub in ("media", "downloads", "processing"):
            os.makedirs(os.path.join(settings.data_dir, sub), exist_ok=True)
        path = os.path.join(settings.data_dir, "settings.json")
        if self.features["settings_json"] and not os.path.exists(path):
            write_atomic(path, "{}\n")

    # ------------------------------------------------------------ delayed_job

    def cli_delayed_job(self, argv):
        workers, args = 1, list(argv)
        while args and args[0].startswith("-"):
            opt = args.pop(0)
            if opt in ("-n", "--number_of_workers") and args:
                workers = int(args.pop(0))
            elif opt.startswith("--number_of_workers="):
                workers = int(opt.split("=", 1)[1])
            elif opt in ("--queue", "--queues", "--pool", "--sleep-delay", "--read-ahead", "--prefix") and args:
                args.pop(0)
            else:
                raise Abort("bin/delayed_job: invalid option: %s" % opt)
        if args != ["run"]:
            raise Abort("usage: bin/delayed_job [-n N] run (the stand-in runs in the foreground only; "
                        "start/stop/restart would daemonize)")
        return self.work(workers)

    def work(self, workers):
        self.boot()
        flag_on_term()
        host = socket.gethostname()
        threads = []
        for n in range(workers):
            name = "delayed_job.%d host:%s pid:%d" % (n, host, os.getpid())
            t = threading.Thread(target=self.work_loop, args=(name,), daemon=True)
            t.start()
            threads.append(t)
        while not stopping():
            time.sleep(0.05)
        out("Exiting...")
        for t in threads:
            t.join(10)
        return 0

    def work_loop(self, name):
        out("[Worker(%s)] Starting job worker" % name)
        while not stopping():
            try:
                job = self.reserve(name)
            except db.DOWN + (pymysql.err.MySQLError,) as e:
                err("[Worker(%s)] cannot reach the jobs table: %s" % (name, db.describe(e)))
                nap(2)
                continue
            if job is None:
                nap(1)
                continue
            self.run_job(name, job)

    def reserve(self, name):
        """A job locked for worker name, or None (delayed_job's ready_to_run rules)."""
        with self.connect() as conn, conn.cursor() as cur:
            cur.execute("SELECT id, handler, attempts FROM delayed_jobs WHERE failed_at IS NULL AND "
                        "((run_at <= UTC_TIMESTAMP() AND (locked_at IS NULL OR locked_at < UTC_TIMESTAMP() - "
                        "INTERVAL %s SECOND)) OR locked_by = %s) ORDER BY priority, run_at, id LIMIT 5",
                        (MAX_RUN_TIME, name))
            for job_id, handler, attempts in cur.fetchall():
                cur.execute("UPDATE delayed_jobs SET locked_at = UTC_TIMESTAMP(), locked_by = %s WHERE id = %s "
                            "AND (locked_at IS NULL OR locked_at < UTC_TIMESTAMP() - INTERVAL %s SECOND "
                            "OR locked_by = %s)", (name, job_id, MAX_RUN_TIME, name))
                if cur.rowcount == 1:
                    return job_id, handler, attempts
        return None

    def run_job(self, name, job):
        job_id, handler, attempts = job
        t0 = time.monotonic()
        m = re.search(r"!ruby/object:(\S+)", handler or "")
        kind = m.group(1) if m else "unknown"
        try:
            m = re.search(r"entity_id:\s*(\d+)", handler or "")
            if kind != "Kor::MediaJob" or not m:
                raise ValueError("unknown job %r" % (handler or "")[:60])
            entity_id = int(m.group(1))
            with self.connect() as conn, conn.cursor() as cur:
                cur.execute("SELECT name FROM entities WHERE id = %s", (entity_id,))
                row = cur.fetchone()
                if row is not None:
                    self.write_media(entity_id, row[0])
                cur.execute("DELETE FROM delayed_jobs WHERE id = %s", (job_id,))
            out("[Worker(%s)] Job %s (id=%d) COMPLETED after %.4f" % (name, kind, job_id, time.monotonic() - t0))
        except Exception as e:  # noqa: BLE001 - a failing job is recorded, the worker goes on
            why = db.describe(e) if isinstance(e, pymysql.err.MySQLError) else "%s: %s" % (type(e).__name__, e)
            err("[Worker(%s)] Job %s (id=%d) FAILED (%d prior attempts) with %s" % (name, kind, job_id, attempts, why))
            try:
                with self.connect() as conn, conn.cursor() as cur:
                    cur.execute("UPDATE delayed_jobs SET attempts = attempts + 1, last_error = %s, locked_at = NULL, "
                                "locked_by = NULL, run_at = UTC_TIMESTAMP() + INTERVAL %s SECOND, failed_at = "
                                "IF(attempts >= %s, UTC_TIMESTAMP(), NULL) WHERE id = %s",
                                (why[:1000], 5 + attempts ** 4, MAX_ATTEMPTS, job_id))
            except db.DOWN + (pymysql.err.MySQLError,):
                nap(1)

    # ------------------------------------------------------------ HTTP

    def route(self, method, path, params, body):
        parts = [p for p in path.split("/") if p]
        get = method in ("GET", "HEAD")
        try:
            if get and parts == []:
                return self.root_page()
            if get and parts == ["info"]:
                return self.info()
            if parts == ["entities"] and method == "POST":
                return self.create_entity(body)
            if get and parts == ["entities"]:
                with self.connect() as conn, conn.cursor() as cur:
                    cur.execute("SELECT id FROM entities ORDER BY id")
                    return 200, {"ids": [r[0] for r in cur.fetchall()]}
            if get and len(parts) == 2 and parts[0] == "entities" and parts[1].isdigit():
                return self.show_entity(int(parts[1]))
            if get and parts == ["search"]:
                return self.search(params.get("q", ""))
        except db.DOWN + (pymysql.err.MySQLError,) as e:
            return 500, {"error": "database: %s" % db.describe(e)}
        return 404, {"error": "not found", "path": path}

    def root_page(self):
        page = "<!DOCTYPE html>\n<html><head><title>ConedaKOR</title></head><body>ConedaKOR %s</body></html>\n" \
            % self.number()
        if self.features["root_page"] == "always" or os.environ.get("RAILS_SERVE_STATIC_FILES"):
            return 200, page
        return 404, ("<!DOCTYPE html>\n<html><body>The page you were looking for doesn't exist "
                     "(RAILS_SERVE_STATIC_FILES is not set).</body></html>\n")

    def info(self):
        with self.connect() as conn, conn.cursor() as cur:
            cur.execute("SELECT 1")
            cur.fetchone()
            applied = self.applied(cur)
        pending = len([m for m in self.migrations if m.version not in applied])
        return 200, {"version": self.number(), "schema": self.schema_of(applied), "pending": pending}

    def create_entity(self, raw):
        try:
            name = json.loads(raw or b"{}").get("name")
        except (ValueError, AttributeError):
            name = None
        if not isinstance(name, str) or not name.strip():
            return 400, {"error": 'a JSON body {"name": "..."} is needed'}
        with self.connect() as conn, conn.cursor(pymysql.cursors.DictCursor) as cur:
            cols, vals = ["name", "created_at"], ["%s", "UTC_TIMESTAMP()"]
            args = [name]
            if db.has_column(cur, "entities", "uuid"):
                cols.append("uuid")
                vals.append("UUID()")
            cur.execute("INSERT INTO entities (%s) VALUES (%s)" % (", ".join(cols), ", ".join(vals)), args)
            entity_id = cur.lastrowid
            if self.features["media"] == "worker":
                cur.execute("INSERT INTO delayed_jobs (priority, attempts, handler, run_at, queue, created_at, "
                            "updated_at) VALUES (0, 0, %s, UTC_TIMESTAMP(), 'default', UTC_TIMESTAMP(), "
                            "UTC_TIMESTAMP())", (MEDIA_JOB % entity_id,))
            cur.execute("SELECT * FROM entities WHERE id = %s", (entity_id,))
            row = cur.fetchone()
        doc = {"id": entity_id}
        if self.features["media"] == "web":
            self.write_media(entity_id, name)
        else:
            doc["queued"] = True
        if self.elastic() is not None:
            try:
                self.index_entity(row)
                doc["indexed"] = True
            except SearchError as e:
                err("entity %d saved but not indexed: %s" % (entity_id, e))
                doc["indexed"] = False
        return 201, doc

    def show_entity(self, entity_id):
        with self.connect() as conn, conn.cursor(pymysql.cursors.DictCursor) as cur:
            cur.execute("SELECT * FROM entities WHERE id = %s", (entity_id,))
            row = cur.fetchone()
        if row is None:
            return 404, {"error": "no such entity", "id": entity_id}
        doc = {k: (v.strftime("%Y-%m-%dT%H:%M:%SZ") if hasattr(v, "strftime") else v) for k, v in row.items()}
        doc["media"] = os.path.exists(self.media_path(entity_id))
        return 200, doc

    def search(self, q):
        es = self.elastic()
        if es is None:
            return 503, {"error": "search is disabled (ELASTIC_URL is empty)"}
        try:
            status, doc = es.request("GET", "/%s/entities/_search?%s" % (
                es.index, urllib.parse.urlencode({"q": q or "*", "size": 1000})))
        except SearchError as e:
            return 500, {"error": str(e)}
        if status == 404:
            return 404, {"error": "index %s not found" % es.index}
        if status != 200:
            return 500, {"error": "search server answered %d" % status, "doc": doc}
        ids = sorted(int(h.get("_source", {}).get("id", h["_id"])) for h in doc["hits"]["hits"])
        return 200, {"ids": ids}
