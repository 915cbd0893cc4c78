"""The KorCluster-era ConedaKOR stand-in (v1.9 to v3.0), as KorCluster's
cluster.sh ran it: code in /opt/kor, the instance's folder mounted at
/opt/kor/shared, commands given as `/bin/bash -c "CMD" kor`.

Version: config/version.txt, written by tests/images/build.sh from the
image's tag. v2.1.0 has schema 1, v3.0.0 and later schema 2 (db/migrate.py).

Configuration, from files only (the environment's DATABASE_URL and the like
came with v4.0):
  shared/database.yml  required; its RAILS_ENV section (the image sets
      RAILS_ENV=production): adapter mysql2, host, port (3306), database,
      username, password, encoding, collation, and elastic: {host, port
      (9200), index (the database's name)}; no elastic section: search off
  shared/kor.yml, shared/kor.app.yml  optional; must parse as YAML (empty is
      fine) holding a mapping
Data: shared/data (media/N.txt). SECRET_KEY_BASE is optional.
"""
import os
import sys

sys.path.append("/usr/local/lib")
from korstandin import kor  # noqa: E402
from korstandin.common import Abort, load_module, load_yaml  # noqa: E402
from korstandin.elastic import Elastic  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(ROOT, "shared")


def read_version():
    path = os.path.join(ROOT, "config", "version.txt")
    try:
        with open(path, encoding="utf-8") as f:
            return f.read().strip()
    except OSError as e:
        raise SystemExit("ConedaKOR: cannot read %s: %s" % (path, e.strerror))


def version_tuple(version):
    try:
        return tuple(int(p) for p in version.lstrip("v").split("-")[0].split("."))
    except ValueError:
        return (0,)


def configure(app):
    path = os.path.join(SHARED, "database.yml")
    if not os.path.isfile(path):
        raise Abort("ConedaKOR: no %s (config/database.yml; KorCluster mounts the instance's folder at %s)"
                    % (path, SHARED))
    doc = load_yaml(path)
    env = os.environ.get("RAILS_ENV") or "development"
    section = doc.get(env) if isinstance(doc, dict) else None
    if not isinstance(section, dict):
        raise Abort("ActiveRecord::AdapterNotSpecified: '%s' database is not configured in %s" % (env, path))
    if section.get("adapter") != "mysql2":
        raise Abort("ConedaKOR: %s: adapter must be mysql2, not %r" % (path, section.get("adapter")))
    missing = [k for k in ("host", "database", "username") if not section.get(k)]
    if missing:
        raise Abort("ConedaKOR: %s: %s: missing %s" % (path, env, ", ".join(missing)))
    try:
        port = int(section.get("port") or 3306)
    except (TypeError, ValueError):
        raise Abort("ConedaKOR: %s: port must be a number" % path)
    database = {"host": str(section["host"]), "port": port, "username": str(section["username"]),
                "password": "" if section.get("password") is None else str(section["password"]),
                "database": str(section["database"]), "encoding": section.get("encoding") or "utf8",
                "collation": section.get("collation")}
    for name in ("kor.yml", "kor.app.yml"):
        other = os.path.join(SHARED, name)
        if os.path.exists(other) and not isinstance(load_yaml(other), (dict, type(None))):
            raise Abort("ConedaKOR: %s must hold a YAML mapping" % other)
    elastic = None
    es = section.get("elastic")
    if isinstance(es, dict) and es.get("host"):
        elastic = Elastic("http://%s:%s" % (es["host"], es.get("port") or 9200),
                          str(es.get("index") or database["database"]))
    notes = ["ConedaKOR %s, schema %d; database %s@%s:%s/%s" % (app.version, len(app.migrations),
                                                               database["username"], database["host"], port,
                                                               database["database"]),
             "search: %s" % ("%s index %s" % (elastic.where(), elastic.index) if elastic else "off"),
             "data: %s" % os.path.join(SHARED, "data")]
    return kor.Settings(database, os.path.join(SHARED, "data"), elastic, notes=notes)


VERSION = read_version()
MIGRATIONS = load_module(os.path.join(ROOT, "db", "migrate.py"), "kor_migrations").migrations_for(
    version_tuple(VERSION))

# Elasticsearch 1.x/2.x index definition: typed, "string" fields.
MAPPING = {
    "settings": {"number_of_shards": 1, "number_of_replicas": 0},
    "mappings": {"entities": {"properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "distinct_name": {"type": "string"},
        "created_at": {"type": "integer"},
    }}},
}

APP = kor.Kor(ROOT, VERSION, MIGRATIONS, configure, MAPPING,
              root_page="always", media="worker", index_all="bulk", settings_json=False, default_port=8000,
              rails_version="5.0.7")
