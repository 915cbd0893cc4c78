#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_archive: tiny snapshots in korcluster's
format (manifest.json) and KorCluster's (db.sql.gz), zstd and gzip, and a
few with one flaw each.  Needs the zstd program.

    tests/fuzz/make_archive_seeds.py tests/fuzz/corpus/archive
"""
import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile

DUMP = (b"/*M!999999\\- enable the sandbox mode */\n"
        b"/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */;\n"
        b"DROP TABLE IF EXISTS `items`;\n"
        b"CREATE TABLE `items` (`id` int NOT NULL, `body` text, PRIMARY KEY (`id`));\n"
        b"INSERT INTO `items` VALUES (1,'a'),(2,'b;');\n"
        b"/*!40101 SET SQL_MODE=@OLD_SQL_MODE */;\n")
INI = (b"; instance.ini of the snapshot, without its secrets\n[instance]\nname = museum\nversion = v5.1.0\n"
       b"port = 8081\nenv = blue\ntemplate = sample\ncluster = c1\n")


def member(name, kind="file", data=b"", target=None, mode=None):
    return {"name": name, "kind": kind, "data": data, "target": target, "mode": mode}


def tar_bytes(members):
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as t:
        for m in members:
            info = tarfile.TarInfo(m["name"])
            info.mtime = 1700000000
            if m["kind"] == "dir":
                info.type = tarfile.DIRTYPE
                info.mode = m["mode"] or 0o755
                t.addfile(info)
            elif m["kind"] == "link":
                info.type = tarfile.SYMTYPE
                info.linkname = m["target"]
                t.addfile(info)
            elif m["kind"] == "hard":
                info.type = tarfile.LNKTYPE
                info.linkname = m["target"]
                t.addfile(info)
            else:
                info.size = len(m["data"])
                info.mode = m["mode"] or 0o644
                t.addfile(info, io.BytesIO(m["data"]))
    return out.getvalue()


def manifest(members, **over):
    listed = []
    for m in members:
        e = {"path": m["name"], "type": m["kind"]}
        if m["kind"] == "file":
            e["size"] = len(m["data"])
            e["sha256"] = hashlib.sha256(m["data"]).hexdigest()
        if m["kind"] == "link":
            e["target"] = m["target"]
        listed.append(e)
    man = {"format": "korcluster-snapshot", "format_version": 1, "tool": "korcluster 0.1.0",
           "template": "sample", "instance": "museum", "version": "v5.1.0",
           "created": "2024-01-01T00:00:00Z", "members": listed}
    man.update(over)
    return member("manifest.json", data=json.dumps(man).encode())


def korcluster(extra=(), dump=DUMP, chunks=1, ini=INI, **over):
    ms = [member("config/instance.ini", data=ini)]
    step = (len(dump) + chunks - 1) // chunks
    for i in range(chunks):
        ms.append(member("db/dump.%06u.sql" % i, data=dump[i * step:(i + 1) * step]))
    ms += [member("data", "dir"), member("data/a.txt", data=b"hello\n"),
           member("data/sub", "dir"), member("data/sub/b.txt", data=b"\0" * 10 + b"x"),
           member("data/ln", "link", target="sub/b.txt")]
    ms += list(extra)
    return tar_bytes(ms + [manifest(ms, **over)])


def legacy(top="museum/", extra=()):
    ms = [member(top + "db.sql.gz", data=gzip.compress(DUMP, mtime=0)),
          member(top + "version.txt", data=b"v3.1.2\n"),
          member(top + "config.sh", data=b"export PORT=8081\n"),
          member(top + "data", "dir"), member(top + "data/media", "dir"),
          member(top + "data/media/1.jpg", data=b"\xff\xd8\xff\xe0"),
          member(top + "log", "dir"), member(top + "log/production.log", data=b"log\n")]
    if top:
        ms.insert(0, member(top.rstrip("/"), "dir"))
    return tar_bytes(ms + list(extra))


def zst(b):
    return subprocess.run(["zstd", "-q", "-19", "-c"], input=b, stdout=subprocess.PIPE, check=True).stdout


def gz(b):
    return gzip.compress(b, mtime=0)


def main(out):
    seeds = {
        "korcluster.tar.zst": zst(korcluster()),
        "korcluster.tar.gz": gz(korcluster()),
        "korcluster-chunks.tar.zst": zst(korcluster(chunks=3)),
        "korcluster-plain.tar": korcluster(),
        # An instance.ini that names no template: read twice, not once.
        "korcluster-short-ini.tar.gz": gz(korcluster(ini=b"[instance]\nname = museum\nversion = v5.1.0\n")),
        "legacy-top.tar.gz": gz(legacy()),
        "legacy-flat.tar.gz": gz(legacy(top="")),
        "legacy-dot.tar.gz": gz(legacy(top="./")),
        "bad-linkout.tar.zst": zst(korcluster([member("data/out", "link", target="../../outside/x")])),
        "bad-under-link.tar.zst": zst(korcluster([member("data/ln/c", data=b"c")])),
        "bad-dotdot.tar.gz": gz(korcluster([member("data/../x", data=b"x")])),
        "bad-hardlink.tar.gz": gz(korcluster([member("data/h", "hard", target="data/a.txt")])),
        "bad-sql.tar.zst": zst(korcluster(dump=DUMP + b"USE mysql;\n")),
        "bad-template.tar.gz": gz(korcluster(format_version=2)),
        "crash-data-folder-restored-as-data-data.tar.gz": gz(tar_bytes(
            [member("config/instance.ini", data=INI), member("db/dump.000000.sql", data=DUMP),
             member("data", "dir"), manifest([member("config/instance.ini", data=INI),
                                              member("db/dump.000000.sql", data=DUMP), member("data", "dir")])])),
        "legacy-toplink.tar.gz": gz(legacy(extra=[member("museum/data/ini", "link",
                                                         target="../../instance.ini")])),
    }
    os.makedirs(out, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/fuzz/corpus/archive")
