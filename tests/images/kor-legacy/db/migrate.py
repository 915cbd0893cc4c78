"""The KorCluster-era stand-in's migrations, oldest first.

  20160301000000 CreateKorTables            schema 1 (v2.1.0): entities(id,
      name, created_at), users, collections, delayed_jobs
  20180115000000 AddDistinctNameToEntities  schema 2 (v3.0.0): entities.distinct_name

Both are older than the v5 tree's, so `rake db:migrate` of ConedaKOR v5
takes such a database further; this code refuses a v5 database.
"""
import sys

sys.path.append("/usr/local/lib")
from korstandin import db  # noqa: E402
from korstandin.common import out  # noqa: E402
from korstandin.kor import Migration  # noqa: E402

TABLES = [
    """CREATE TABLE IF NOT EXISTS entities (
        id INT AUTO_INCREMENT PRIMARY KEY,
        name VARCHAR(255) NOT NULL,
        created_at DATETIME NOT NULL
    ) DEFAULT CHARSET=utf8""",
    """CREATE TABLE IF NOT EXISTS users (
        id INT AUTO_INCREMENT PRIMARY KEY,
        name VARCHAR(255) NOT NULL,
        email VARCHAR(255) NULL,
        admin TINYINT(1) NOT NULL DEFAULT 0,
        created_at DATETIME NOT NULL
    ) DEFAULT CHARSET=utf8""",
    """CREATE TABLE IF NOT EXISTS collections (
        id INT AUTO_INCREMENT PRIMARY KEY,
        name VARCHAR(255) NOT NULL,
        created_at DATETIME NOT NULL
    ) DEFAULT CHARSET=utf8""",
    """CREATE TABLE IF NOT EXISTS delayed_jobs (
        id INT AUTO_INCREMENT PRIMARY KEY,
        priority INT NOT NULL DEFAULT 0,
        attempts INT NOT NULL DEFAULT 0,
        handler TEXT NOT NULL,
        last_error TEXT NULL,
        run_at DATETIME NULL,
        locked_at DATETIME NULL,
        failed_at DATETIME NULL,
        locked_by VARCHAR(255) NULL,
        queue VARCHAR(255) NULL,
        created_at DATETIME NULL,
        updated_at DATETIME NULL,
        KEY delayed_jobs_priority (priority, run_at)
    ) DEFAULT CHARSET=utf8""",
]


def create_kor_tables(cur):
    for sql in TABLES:
        cur.execute(sql)
        out("-- create_table(:%s)" % sql.split()[5])


def add_distinct_name_to_entities(cur):
    if not db.has_column(cur, "entities", "distinct_name"):
        cur.execute("ALTER TABLE entities ADD COLUMN distinct_name VARCHAR(255) NULL")
    out("-- add_column(:entities, :distinct_name, :string)")


ALL = [
    ((2, 1, 0), Migration("20160301000000", "CreateKorTables", create_kor_tables)),
    ((3, 0, 0), Migration("20180115000000", "AddDistinctNameToEntities", add_distinct_name_to_entities)),
]


def migrations_for(version):
    """The migrations code of version (a tuple like (3, 0, 0)) has."""
    found = [m for since, m in ALL if version >= since]
    return found or [ALL[0][1]]
