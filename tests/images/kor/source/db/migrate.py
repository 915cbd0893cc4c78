"""The v5 stand-in's migrations (upstream: db/migrate/*.rb), oldest first.

  20230301120000 CreateKorTables     schema 1 (v5.0.0): entities(id, name,
      created_at), users, collections, delayed_jobs. Tables that exist are
      kept, so a KorCluster-era database (kor-legacy) migrates too.
  20240415090000 AddUuidToEntities   schema 2 (v5.1.0): entities.uuid, filled
      for the rows already there.
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
    ) DEFAULT CHARSET=utf8mb4""",
    """CREATE TABLE IF NOT EXISTS users (
        id INT AUTO_INCREMENT PRIMARY KEY,
        name VARCHAR(255) NOT NULL,
        email VARCHAR(255) NULL,
        admin TINYINT(1) NOT NULL DEFAULT 0,
        created_at DATETIME NOT NULL
    ) DEFAULT CHARSET=utf8mb4""",
    """CREATE TABLE IF NOT EXISTS collections (
        id INT AUTO_INCREMENT PRIMARY KEY,
        name VARCHAR(255) NOT NULL,
        created_at DATETIME NOT NULL
    ) DEFAULT CHARSET=utf8mb4""",
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
    ) DEFAULT CHARSET=utf8mb4""",
]


def create_kor_tables(cur):
    for sql in TABLES:
        table = sql.split()[5]
        existed = db.has_table(cur, table)
        cur.execute(sql)
        out("-- create_table(:%s)%s" % (table, " (exists, kept)" if existed else ""))


def add_uuid_to_entities(cur):
    if not db.has_column(cur, "entities", "uuid"):
        cur.execute("ALTER TABLE entities ADD COLUMN uuid CHAR(36) NULL")
        out("-- add_column(:entities, :uuid, :string)")
    cur.execute("UPDATE entities SET uuid = UUID() WHERE uuid IS NULL")
    out("-- filled %d entity uuid%s" % (cur.rowcount, "" if cur.rowcount == 1 else "s"))


ALL = [
    ((5, 0, 0), Migration("20230301120000", "CreateKorTables", create_kor_tables)),
    ((5, 1, 0), Migration("20240415090000", "AddUuidToEntities", add_uuid_to_entities)),
]


def migrations_for(version):
    """The migrations code of version (a tuple like (5, 1, 0)) has."""
    found = [m for since, m in ALL if version >= since]
    return found or [ALL[0][1]]
