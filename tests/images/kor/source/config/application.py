"""The ConedaKOR v5 stand-in application (what config/application.rb and the
initializers are upstream). Loaded by rake, rails, puma, bin/kor and
bin/delayed_job through the image's korstandin library.

Version: the VERSION file ("v5.0.0", "v5.1.0"; the tests rewrite it before
building). v5.0.0 has schema 1, v5.1.0 and later schema 2 (db/migrate.py).

Configuration, from the environment only (upstream: .env and
config/initializers/dotenv.rb):
  DATA_DIR, DATABASE_URL, MAIL_DELIVERY_METHOD, ROOT_URL, SECRET_KEY_BASE
      all required, non-empty; any missing: every command exits 1 naming them
  DATABASE_URL  mysql2://USER:PASS@HOST[:PORT]/DB?encoding=utf8&collation=...
  MAIL_DELIVERY_METHOD  smtp | sendmail | test; sendmail needs
      /usr/sbin/sendmail (not in this image); smtp reads MAIL_SMTP_ADDRESS,
      MAIL_SMTP_PORT (a number), MAIL_SMTP_DOMAIN, MAIL_SMTP_USER_NAME,
      MAIL_SMTP_PASSWORD, MAIL_SMTP_AUTHENTICATION,
      MAIL_SMTP_ENABLE_STARTTLS_AUTO (nothing is ever sent)
  ELASTIC_URL, ELASTIC_INDEX, ELASTIC_TOKEN  search; off when ELASTIC_URL is
      empty; ELASTIC_INDEX is then required; the token goes as ?token=
  RAILS_SERVE_STATIC_FILES  GET / answers 200 only when set
"""
import os
import sys

sys.path.append("/usr/local/lib")
from korstandin import db, kor  # noqa: E402
from korstandin.common import Abort, load_module  # noqa: E402
from korstandin.elastic import Elastic  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REQUIRED = ["DATA_DIR", "DATABASE_URL", "MAIL_DELIVERY_METHOD", "ROOT_URL", "SECRET_KEY_BASE"]
MAIL_METHODS = ("smtp", "sendmail", "test")
SENDMAIL = "/usr/sbin/sendmail"


def read_version():
    try:
        with open(os.path.join(ROOT, "VERSION"), encoding="utf-8") as f:
            version = f.read().strip()
    except OSError as e:
        raise SystemExit("ConedaKOR: cannot read %s: %s" % (os.path.join(ROOT, "VERSION"), e.strerror))
    return version if version.startswith("v") else "v" + version


def version_tuple(version):
    try:
        return tuple(int(p) for p in version.lstrip("v").split("-")[0].split("."))
    except ValueError:
        return (0,)


def configure(app):
    env = os.environ
    missing = [name for name in REQUIRED if not env.get(name)]
    if missing:
        raise Abort("ConedaKOR: missing required environment variable%s: %s (see config/initializers/dotenv.rb)"
                    % ("" if len(missing) == 1 else "s", ", ".join(missing)))
    method = env["MAIL_DELIVERY_METHOD"]
    if method not in MAIL_METHODS:
        raise Abort("ConedaKOR: MAIL_DELIVERY_METHOD must be one of %s, not %r" % (", ".join(MAIL_METHODS), method))
    if method == "sendmail" and not os.access(SENDMAIL, os.X_OK):
        raise Abort("ConedaKOR: MAIL_DELIVERY_METHOD=sendmail but there is no sendmail in this image (%s)"
                    % SENDMAIL)
    mail = {"delivery_method": method}
    if method == "smtp":
        for name in ("ADDRESS", "PORT", "DOMAIN", "USER_NAME", "PASSWORD", "AUTHENTICATION", "ENABLE_STARTTLS_AUTO"):
            mail[name.lower()] = env.get("MAIL_SMTP_" + name) or None
        if mail["port"] is not None and not mail["port"].isdigit():
            raise Abort("ConedaKOR: MAIL_SMTP_PORT must be a number, not %r" % mail["port"])
    database = db.parse_database_url(env["DATABASE_URL"])
    elastic = None
    if env.get("ELASTIC_URL"):
        if not env.get("ELASTIC_INDEX"):
            raise Abort("ConedaKOR: ELASTIC_URL is set but ELASTIC_INDEX is empty")
        elastic = Elastic(env["ELASTIC_URL"], env["ELASTIC_INDEX"], env.get("ELASTIC_TOKEN") or None)
    notes = ["ConedaKOR %s, schema %d; database %s" % (app.version, len(app.migrations), db.where(database)),
             "search: %s" % ("%s index %s" % (elastic.where(), elastic.index) if elastic else "off (ELASTIC_URL empty)"),
             "mail: %s" % (method if method != "smtp" else "smtp via %s:%s" % (mail["address"] or "localhost",
                                                                             mail["port"] or 25)),
             "data: %s; root url %s" % (env["DATA_DIR"], env["ROOT_URL"])]
    return kor.Settings(database, env["DATA_DIR"], elastic, mail, notes)


VERSION = read_version()
MIGRATIONS = load_module(os.path.join(ROOT, "db", "migrate.py"), "kor_migrations").migrations_for(
    version_tuple(VERSION))

# Elasticsearch 5.x index definition: a typed mapping (type "entities").
MAPPING = {
    "settings": {"number_of_shards": 1, "number_of_replicas": 0},
    "mappings": {"entities": {"properties": {
        "id": {"type": "integer"},
        "uuid": {"type": "keyword"},
        "name": {"type": "text"},
        "distinct_name": {"type": "text"},
        "created_at": {"type": "integer"},
    }}},
}

APP = kor.Kor(ROOT, VERSION, MIGRATIONS, configure, MAPPING,
              root_page="static", media="web", index_all="recreate", settings_json=True, default_port=3000,
              rails_version="7.0.8")
